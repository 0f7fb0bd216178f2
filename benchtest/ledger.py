"""Aggregate pages into balances: order-independent, exact, memory bounded by days x categories.

Pages arrive in any order when fetched concurrently, so every aggregate here is a sum keyed by
(day, ledger); daily balances and category totals are derived from those sums once, at the end.
Per transaction only a 64-bit fingerprint is kept, to find possible duplicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext

from .errors import DataError
from .transactions import Page, Transaction

ZERO = Decimal(0)

# Sums must be exact: with 28 digits of default precision a large ledger could round silently.
# Amounts have at most 60 digits (see transactions.py), so 120 leaves room for any count of them;
# Inexact is trapped all the same, so a rounding can only ever be an error, never a wrong total.
EXACT = Context(prec=120, traps=[Inexact, InvalidOperation, Overflow])


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    change: Decimal
    balance: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class Category:
    ledger: str
    count: int
    total: Decimal
    transactions: list[tuple[int, int, Transaction]] | None  # (page, index, transaction)


@dataclass(frozen=True, slots=True)
class Duplicate:
    transaction: Transaction
    count: int  # occurrences, >= 2


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

    def __init__(self, detail_limit: int = 10_000) -> None:
        self._groups: dict[tuple[date, str], list[Decimal | int]] = {}  # [total, count]
        self._seen: set[int] = set()
        self._repeats: dict[Transaction, int] = {}  # extra occurrences of a possible duplicate
        self._pages: set[int] = set()
        self._count = 0
        self._detail_limit = detail_limit
        self._detail: list[tuple[int, int, Transaction]] | None = []

    @property
    def transaction_count(self) -> int:
        return self._count

    def add(self, page: Page) -> None:
        if page.number in self._pages:
            raise DataError.at(page.number, "page received twice")
        self._pages.add(page.number)
        self._count += len(page.transactions)
        self._keep_detail(page)
        groups = self._groups
        seen = self._seen
        repeats = self._repeats
        with localcontext(EXACT):
            for t in page.transactions:
                key = (t[0], t[1])
                cell = groups.get(key)
                if cell is None:
                    groups[key] = [t[2], 1]
                else:
                    cell[0] += t[2]
                    cell[1] += 1
                fingerprint = hash(t)
                if fingerprint in seen:
                    repeats[t] = repeats.get(t, 0) + 1
                else:
                    seen.add(fingerprint)

    def _keep_detail(self, page: Page) -> None:
        if self._detail is None:
            return
        if self._count > self._detail_limit:
            self._detail = None  # too many to list: keep aggregates only
            return
        n = page.number
        self._detail.extend((n, i, t) for i, t in enumerate(page.transactions))

    def summarize(self, *, exclude_duplicates: bool = False, fill_gaps: bool = True) -> Summary:
        groups = self._groups
        if exclude_duplicates:
            groups = {k: list(v) for k, v in groups.items()}
            for t, extra in self._repeats.items():
                cell = groups[(t.date, t.ledger)]
                cell[0] -= extra * t.amount
                cell[1] -= extra
        with localcontext(EXACT):
            days = _daily(groups, fill_gaps)
            categories = _categories(groups, self._listing(exclude_duplicates))
            total = days[-1].balance if days else ZERO
        duplicates = sorted(
            (Duplicate(t, extra + 1) for t, extra in self._repeats.items()),
            key=lambda d: (d.transaction.date, d.transaction.ledger, d.transaction.company),
        )
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
            first: set[Transaction] = set()
            kept = []
            for item in listing:
                if item[2] not in first:
                    first.add(item[2])
                    kept.append(item)
            listing = kept
        return listing


def _daily(groups: dict[tuple[date, str], list[Decimal | int]], fill_gaps: bool) -> list[Day]:
    changes: dict[date, Decimal] = {}
    counts: dict[date, int] = {}
    for (day, _), (total, count) in groups.items():
        changes[day] = changes.get(day, ZERO) + total
        counts[day] = counts.get(day, 0) + int(count)
    if not changes:
        return []
    dates: Iterable[date] = sorted(changes)
    if fill_gaps:
        first, last = min(changes), max(changes)
        dates = (first + timedelta(days=n) for n in range((last - first).days + 1))
    balance = ZERO
    days = []
    for day in dates:
        change = changes.get(day, ZERO)
        balance += change
        days.append(Day(day, change, balance, counts.get(day, 0)))
    return days


def _categories(
    groups: dict[tuple[date, str], list[Decimal | int]],
    listing: list[tuple[int, int, Transaction]] | None,
) -> list[Category]:
    totals: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    for (_, ledger), (total, count) in groups.items():
        totals[ledger] = totals.get(ledger, ZERO) + total
        counts[ledger] = counts.get(ledger, 0) + int(count)
    members: dict[str, list[tuple[int, int, Transaction]]] = {ledger: [] for ledger in totals}
    for item in listing or ():
        members[item[2].ledger].append(item)
    return sorted(
        (
            Category(
                ledger,
                counts[ledger],
                totals[ledger],
                None
                if listing is None
                else sorted(members[ledger], key=lambda i: (i[2].date, i[0], i[1])),
            )
            for ledger in totals
        ),
        key=lambda c: (c.total, c.ledger),
    )
