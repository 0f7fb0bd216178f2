"""Aggregate pages into balances: order-independent, exact, memory bounded by days x categories.

Pages arrive in any order when fetched concurrently, so every aggregate here is a sum keyed by
(day, category); daily balances and category totals are derived from those sums once, at the end.
Per transaction only a 64-bit fingerprint is kept, to find possible duplicates (rows identical
as served), per date and compacted as dates go by: see duplicates.py, which also gives the
odds of a fingerprint collision. Large ledgers are aggregated by worker processes (workers.py)
into partial ledgers that `merge` adds up exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from .duplicates import Fingerprints, by_date
from .errors import DataError
from .money import EXACT
from .transactions import Page, Row, Transaction

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    change: Decimal
    balance: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class Category:
    name: str  # the API's Ledger field as served ("" when uncategorized)
    count: int
    total: Decimal
    transactions: list[tuple[int, int, Transaction]] | None  # (page, index, transaction)


@dataclass(frozen=True, slots=True)
class Duplicate:
    transaction: Transaction
    count: int  # occurrences, >= 2


@dataclass(frozen=True, slots=True)
class Partial:
    """A worker's aggregates: exact sums and counts keyed by (date, category), and its rows as
    (page, index, row) while the ledger is within the detail limit (None above it)."""

    sums: dict[tuple[str, str], Decimal]
    counts: dict[tuple[str, str], int]
    detail: list[tuple[int, int, Row]] | None


@dataclass(frozen=True, slots=True)
class Summary:
    page_count: int
    transaction_count: int
    total: Decimal
    days: list[Day]
    categories: list[Category]
    duplicates: list[Duplicate]
    duplicates_excluded: bool
    gap_days_filled: bool
    transactions_listed: bool

    @property
    def duplicate_count(self) -> int:
        return sum(d.count - 1 for d in self.duplicates)

    @property
    def duplicate_total(self) -> Decimal:
        with localcontext(EXACT):
            return sum(((d.count - 1) * d.transaction.amount for d in self.duplicates), ZERO)


class Ledger:
    """Running sums over validated pages; call `add` per page, then `summarize` once."""

    def __init__(self, detail_limit: int = 10_000, *, max_days: int | None = None) -> None:
        """``max_days``: the longest span of calendar days a report will fill (None: no filling
        limit, for reports of active days only, whose length the transactions already bound)."""
        # Keyed by (ISO date string, ledger): ISO dates sort as strings, and parsing waits
        # until the end, once per day rather than once per transaction.
        self._sums: dict[tuple[str, str], Decimal] = {}
        self._counts: Counter[tuple[str, str]] = Counter()
        self._seen = Fingerprints()
        self._repeats: dict[Row, int] = {}  # extra occurrences of a possible duplicate
        self._pages: set[int] = set()
        self._count = 0
        self._detail_limit = detail_limit
        self._detail: list[tuple[int, int, Row]] | None = []
        self._max_days = max_days
        self._first: tuple[str, int] | None = None  # (earliest date, its page)
        self._last: tuple[str, int] | None = None

    @property
    def transaction_count(self) -> int:
        return self._count

    def add(self, page: Page) -> None:
        if page.number in self._pages:
            raise DataError("page received twice", page=page.number)
        self._pages.add(page.number)
        if page.dates:
            self._check_span(page.number, min(page.dates), max(page.dates))
        self._count += len(page)
        self._keep_detail(page)
        self._add_sums(page)
        self._find_duplicates(page)

    def _add_sums(self, page: Page) -> None:
        sums = self._sums
        get = sums.get
        with localcontext(EXACT):
            keys = zip(page.dates, page.categories, strict=True)
            for key, amount in zip(keys, page.amounts, strict=True):
                sums[key] = get(key, ZERO) + amount
        self._counts.update(zip(page.dates, page.categories, strict=True))

    def _find_duplicates(self, page: Page) -> None:
        """Possible duplicates: rows identical as served, found by fingerprint per date."""
        fingerprints = list(map(hash, page.rows()))
        for day, positions in by_date(page.dates):
            prints = (
                fingerprints
                if len(positions) == len(page)
                else [fingerprints[i] for i in positions]
            )
            for repeat in self._seen.add(day, prints):
                self.add_repeat(row_of(page, positions[repeat]))

    def repeats_among(self, day: str, prints: Sequence[int]) -> list[int]:
        """Positions of ``prints`` (fingerprints of rows dated ``day``) seen before."""
        return self._seen.add(day, prints)

    def add_repeat(self, row: Row) -> None:
        """Count one more occurrence of ``row`` beyond its first."""
        self._repeats[row] = self._repeats.get(row, 0) + 1

    def add_page_of(self, number: int, count: int, low: str | None, high: str | None) -> None:
        """Count page ``number``, aggregated elsewhere (a worker process): its transactions and
        dates, so page count, span check and totals hold as if it had been added here."""
        if number in self._pages:
            raise DataError("page received twice", page=number)
        self._pages.add(number)
        if low is not None and high is not None:
            self._check_span(number, low, high)
        self._count += count

    def partial(self) -> Partial:
        """What a worker sends back at its end: sums, counts and kept rows (see `merge`)."""
        return Partial(self._sums, dict(self._counts), self._detail)

    def merge(self, part: Partial) -> None:
        """Add a worker's sums, counts and kept rows; pages were counted by `add_page_of`."""
        sums = self._sums
        with localcontext(EXACT):
            for key, amount in part.sums.items():
                sums[key] = sums.get(key, ZERO) + amount
        self._counts.update(part.counts)
        if self._detail is not None:
            if part.detail is None or self._count > self._detail_limit:
                self._detail = None
            else:
                self._detail.extend(part.detail)

    def _check_span(self, number: int, low_date: str, high_date: str) -> None:
        """Refuse, as soon as a page shows it, a span of days too long to fill in: two dates
        centuries apart would otherwise make a report of every day between them."""
        low, high = (low_date, number), (high_date, number)
        self._first = low if self._first is None else min(self._first, low)
        self._last = high if self._last is None else max(self._last, high, key=lambda d: d[0])
        if self._max_days is None:
            return
        first, last = self._first, self._last
        span = (date.fromisoformat(last[0]) - date.fromisoformat(first[0])).days + 1
        if span > self._max_days:
            raise DataError(
                f"the dates span {span:,} days ({first[0]} on page {first[1]} to {last[0]} on "
                f"page {last[1]}), more than the {self._max_days:,} days a report lists; "
                "use --active-days-only to list only days with transactions, or raise --max-days",
                page=number,
            )

    def _keep_detail(self, page: Page) -> None:
        if self._detail is None:
            return
        if self._count > self._detail_limit:
            self._detail = None  # too many to list: keep aggregates only
            return
        n = page.number
        self._detail.extend((n, i, row) for i, row in enumerate(page.rows()))

    def summarize(self, *, exclude_duplicates: bool = False, fill_gaps: bool = True) -> Summary:
        sums = self._sums
        counts = self._counts
        duplicates = sorted(
            (
                Duplicate(Transaction.from_row(row), extra + 1)
                for row, extra in self._repeats.items()
            ),
            key=lambda d: (d.transaction.date, d.transaction.category, d.transaction.company),
        )
        with localcontext(EXACT):
            if exclude_duplicates:
                sums = dict(sums)
                counts = Counter(counts)
                for d in duplicates:
                    key = (d.transaction.date.isoformat(), d.transaction.category)
                    sums[key] -= (d.count - 1) * d.transaction.amount
                    counts[key] -= d.count - 1
            days = _daily(sums, counts, fill_gaps)
            categories = _categories(sums, counts, self._listing(exclude_duplicates))
            total = days[-1].balance if days else ZERO
        return Summary(
            page_count=len(self._pages),
            transaction_count=self._count,
            total=total,
            days=days,
            categories=categories,
            duplicates=duplicates,
            duplicates_excluded=exclude_duplicates,
            gap_days_filled=fill_gaps,
            transactions_listed=self._detail is not None,
        )

    def _listing(self, exclude_duplicates: bool) -> list[tuple[int, int, Transaction]] | None:
        """The kept transactions in ledger order (page, index); later repeats dropped if asked."""
        if self._detail is None:
            return None
        listing = sorted(self._detail, key=lambda item: (item[0], item[1]))
        if exclude_duplicates:
            first: set[Row] = set()
            kept = []
            for item in listing:
                if item[2] not in first:
                    first.add(item[2])
                    kept.append(item)
            listing = kept
        return [(page, index, Transaction.from_row(row)) for page, index, row in listing]


def _project(
    sums: dict[tuple[str, str], Decimal], counts: Counter[tuple[str, str]], part: int
) -> tuple[dict[str, Decimal], Counter[str]]:
    """Totals and counts per day (``part`` 0) or per category (``part`` 1)."""
    totals: dict[str, Decimal] = {}
    tallies: Counter[str] = Counter()
    for key, total in sums.items():
        totals[key[part]] = totals.get(key[part], ZERO) + total
        tallies[key[part]] += counts[key]
    return totals, tallies


def _daily(
    sums: dict[tuple[str, str], Decimal], counts: Counter[tuple[str, str]], fill_gaps: bool
) -> list[Day]:
    changes, tallies = _project(sums, counts, 0)
    if not changes:
        return []
    active = sorted(changes)
    dates: Iterable[date] = map(date.fromisoformat, active)
    if fill_gaps:
        first, last = date.fromisoformat(active[0]), date.fromisoformat(active[-1])
        dates = (first + timedelta(days=n) for n in range((last - first).days + 1))
    balance = ZERO
    days = []
    for day in dates:
        text = day.isoformat()
        change = changes.get(text, ZERO)
        balance += change
        days.append(Day(day, change, balance, tallies[text]))
    return days


def _categories(
    sums: dict[tuple[str, str], Decimal],
    counts: Counter[tuple[str, str]],
    listing: list[tuple[int, int, Transaction]] | None,
) -> list[Category]:
    totals, tallies = _project(sums, counts, 1)
    members: dict[str, list[tuple[int, int, Transaction]]] = {name: [] for name in totals}
    for item in listing or ():
        members[item[2].category].append(item)

    def in_date_order(name: str) -> list[tuple[int, int, Transaction]]:
        return sorted(members[name], key=lambda item: (item[2].date, item[0], item[1]))

    return sorted(
        (
            Category(
                name,
                tallies[name],
                totals[name],
                None if listing is None else in_date_order(name),
            )
            for name in totals
        ),
        key=lambda c: (c.total, c.name),
    )


def row_of(page: Page, index: int) -> Row:
    return (
        page.dates[index],
        page.categories[index],
        page.amount_texts[index],
        page.companies[index],
    )
