"""Add up pages into the report's numbers: exact, in any page order, memory bounded by days."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from operator import attrgetter

from .duplicates import Decode, Pages
from .errors import DataError
from .model import (
    UNCATEGORIZED,
    CategoryTotal,
    DailyBalance,
    DuplicateGroup,
    LeftOut,
    Money,
    Report,
    Transaction,
)
from .money import EXACT
from .transactions import Page, Record
from .vendors import clean_vendor

ZERO = Decimal(0)
MAX_CATEGORIES = 10_000  # distinct categories in one ledger (docs/limits.md)
_date, _category = attrgetter("date"), attrgetter("category")


class Aggregator:
    """Running sums over validated pages: call `add` per page, then `report` once."""

    def __init__(
        self,
        decode: Decode,
        *,
        max_days: int | None = None,
        bodies: Callable[[int], bytes] | None = None,
    ) -> None:
        """``max_days``: the longest span of calendar days a report will fill (None: no limit,
        for reports of active days only, whose length the transactions already bound);
        ``bodies``: where the pages can be read back (`duplicates.Pages`)."""
        self._day_sums: dict[date, Decimal] = {}
        self._day_counts: Counter[date] = Counter()
        self._category_sums: dict[str, Decimal] = {}
        self._category_counts: Counter[str] = Counter()
        self._pages = Pages(decode, bodies)
        self._numbers: set[int] = set()
        self._count = 0
        self._max_days = max_days
        self._first: tuple[date, int] | None = None  # (earliest date, its page)
        self._last: tuple[date, int] | None = None
        self._currency: tuple[str, int] | None = None  # (the records' currency, its first page)
        self._filtered = self._other_currency = 0

    def close(self) -> None:
        self._pages.close()

    def add(self, page: Page, body: bytes) -> None:
        """Add page ``page`` (decoded from ``body``, which is kept for the end)."""
        self._numbers.add(page.number)
        self._filtered += page.skipped
        self._other_currency += page.other_currency
        if page.currency is not None and page.records:
            if self._currency is None:
                self._currency = (page.currency, page.number)
            elif page.currency != self._currency[0]:
                code, first = self._currency
                raise DataError(
                    f"records in {page.currency}, and in {code} on page {first}: a report is in "
                    "one currency; set currency to the one it is for",
                    page=page.number,
                )
        records, amounts = page.records, page.amounts
        dates = list(map(_date, records))
        categories = list(map(_category, records))
        if dates:
            self._check_span(page.number, min(dates), max(dates))
        new = set(categories).difference(self._category_sums)
        if new and len(self._category_sums) + len(new) > MAX_CATEGORIES:
            raise DataError(
                f"more than {MAX_CATEGORIES:,} distinct categories (Ledger values) in the ledger",
                page=page.number,
            )
        days, day = self._day_sums, self._day_sums.get
        totals, total = self._category_sums, self._category_sums.get
        with localcontext(EXACT):
            for when, name, amount in zip(dates, categories, amounts, strict=True):
                days[when] = day(when, ZERO) + amount
                totals[name] = total(name, ZERO) + amount
        self._day_counts.update(dates)
        self._category_counts.update(categories)
        self._count += len(page)
        self._pages.add(page, body)

    def _check_span(self, number: int, low: date, high: date) -> None:
        """Refuse, as soon as a page shows it, a span of days too long to fill in: two dates
        centuries apart would otherwise make a report of every day between them."""
        if self._first is None or low < self._first[0]:
            self._first = (low, number)
        if self._last is None or high > self._last[0]:
            self._last = (high, number)
        if self._max_days is None:
            return
        (first, first_page), (last, last_page) = self._first, self._last
        span = (last - first).days + 1
        if span > self._max_days:
            raise DataError(
                f"the dates span {span:,} days ({first} on page {first_page} to {last} on "
                f"page {last_page}), more than the {self._max_days:,} days a report lists; "
                "use --active-days-only to list only days with transactions, or raise --max-days",
                page=number,
            )

    def report(
        self,
        source: str,
        *,
        generated_at: datetime,
        exclude_duplicates: bool = False,
        fill_gaps: bool = True,
        detail_limit: int,
        currency: str | None = None,
        left_out: bool = False,
        pages_digest: str | None = None,
    ) -> Report:
        """The report of every page added (no assertions or changes yet): in ``currency`` (the
        description's, else the records'), counting what was ``left_out`` when it leaves out."""
        repeats = self._pages.repeats()
        day_sums, day_counts = dict(self._day_sums), Counter(self._day_counts)
        category_sums, category_counts = dict(self._category_sums), Counter(self._category_counts)
        duplicates = []
        with localcontext(EXACT):
            for record, count in repeats.items():
                amount = Decimal(record.amount)
                duplicates.append(_duplicate(record, amount, count))
                if exclude_duplicates:
                    extra = count - 1
                    day_sums[record.date] -= extra * amount
                    day_counts[record.date] -= extra
                    category_sums[record.category] -= extra * amount
                    category_counts[record.category] -= extra
            days = _daily(day_sums, day_counts, fill_gaps)
            duplicate_total = sum(((d.count - 1) * d.amount for d in duplicates), ZERO)
        listed = self._count <= detail_limit
        listing = self._listing(repeats if exclude_duplicates else {}) if listed else None
        return Report(
            generated_at=generated_at,
            source=source,
            page_count=len(self._numbers),
            pages_digest=pages_digest,
            transaction_count=self._count,
            currency=currency or (self._currency and self._currency[0]),
            left_out=LeftOut(self._filtered, self._other_currency) if left_out else None,
            first_date=days[0].date if days else None,
            last_date=days[-1].date if days else None,
            total_balance=days[-1].balance if days else Money(ZERO),
            gap_days_filled=fill_gaps,
            duplicates_excluded=exclude_duplicates,
            daily_balances=tuple(days),
            categories=_categories(category_sums, category_counts, listing),
            transactions_listed=listed,
            duplicates=tuple(sorted(duplicates, key=lambda d: (d.date, d.category, d.company))),
            duplicate_count=sum(d.count - 1 for d in duplicates),
            duplicate_total=Money(duplicate_total),
        )

    def _listing(self, repeated: dict[Record, int]) -> Iterator[tuple[str, Transaction]]:
        """(category, transaction) for every record in ledger order, but the later occurrences
        of a ``repeated`` one."""
        seen: set[Record] = set()
        for number, index, record in self._pages.records():
            if record in repeated:
                if record in seen:
                    continue
                seen.add(record)
            yield record.category, _listed(number, index, record)


def _listed(number: int, index: int, record: Record) -> Transaction:
    return Transaction(
        page=number,
        index=index,
        date=record.date,
        amount=Money(record.amount),
        company=record.company,
        vendor=clean_vendor(record.company),
    )


def _duplicate(record: Record, amount: Decimal, count: int) -> DuplicateGroup:
    company = record.company
    return DuplicateGroup(
        record.date, record.category, Money(amount), company, clean_vendor(company), count
    )


def _daily(sums: dict[date, Decimal], counts: Counter[date], fill_gaps: bool) -> list[DailyBalance]:
    if not sums:
        return []
    active = sorted(sums)
    dates: Iterable[date] = active
    if fill_gaps:
        first, last = active[0], active[-1]
        dates = (first + timedelta(days=n) for n in range((last - first).days + 1))
    balance = ZERO
    days = []
    for day in dates:
        change = sums.get(day, ZERO)
        balance += change
        days.append(DailyBalance(day, Money(change), Money(balance), counts[day]))
    return days


def _categories(
    sums: dict[str, Decimal],
    counts: Counter[str],
    listing: Iterable[tuple[str, Transaction]] | None,
) -> tuple[CategoryTotal, ...]:
    members: dict[str, list[Transaction]] = {name: [] for name in sums}
    for name, transaction in listing or ():
        members[name].append(transaction)
    return tuple(
        sorted(
            (
                CategoryTotal(
                    name or UNCATEGORIZED,
                    name,
                    counts[name],
                    Money(total),
                    None
                    if listing is None
                    else tuple(sorted(members[name], key=lambda t: (t.date, t.page, t.index))),
                )
                for name, total in sums.items()
            ),
            key=lambda c: (c.total, c.category),
        )
    )
