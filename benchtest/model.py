"""The report: built once from a ledger summary, typed, with exact `Decimal` money inside.

Every renderer (table, JSON, CSV, HTML) reads the same `Report`, so the numbers a person reads
and the numbers a machine reads cannot disagree, and none of them parses money back from text.
`Report.to_dict` is the JSON form (``--format json`` and the Lambda's return value); its
`TypedDict` types let mypy check that shape too. The field order of each dataclass is the key
order of its JSON object, and `docs/CONTRACT.md` is tested against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypedDict

from .ledger import Summary
from .money import plain
from .vendors import clean_vendor

UNCATEGORIZED = "Uncategorized"  # the name shown for an empty Ledger


class DailyBalanceDict(TypedDict):
    date: str
    change: str
    balance: str
    count: int


class ListedTransactionDict(TypedDict):
    page: int
    index: int
    date: str
    amount: str
    company: str
    vendor: str


class CategoryTotalDict(TypedDict):
    name: str
    ledger: str
    count: int
    total: str
    transactions: list[ListedTransactionDict] | None


class DuplicateGroupDict(TypedDict):
    date: str
    ledger: str
    amount: str
    company: str
    vendor: str
    count: int


class BalanceCheckDict(TypedDict):
    date: str
    expected: str
    actual: str
    difference: str
    ok: bool


class RestatedDayDict(TypedDict):
    date: str
    previous_change: str
    change: str
    change_difference: str
    previous_balance: str
    balance: str
    balance_difference: str


class ChangesDict(TypedDict):
    status: str
    note: str
    previous: str | None
    previous_transaction_count: int | None
    transaction_count_difference: int | None
    previous_total_balance: str | None
    total_balance_difference: str | None
    restated_days: list[RestatedDayDict]
    new_days: list[DailyBalanceDict]


class ReportDict(TypedDict):
    source: str
    page_count: int
    transaction_count: int
    first_date: str | None
    last_date: str | None
    total_balance: str
    gap_days_filled: bool
    duplicates_excluded: bool
    daily_balances: list[DailyBalanceDict]
    categories: list[CategoryTotalDict]
    transactions_listed: bool
    duplicates: list[DuplicateGroupDict]
    duplicate_count: int
    duplicate_total: str
    assertions: list[BalanceCheckDict]
    changes: ChangesDict | None


@dataclass(frozen=True, slots=True)
class DailyBalance:
    """One calendar day: the day's net change, the closing balance, transactions that day."""

    date: date
    change: Decimal
    balance: Decimal
    count: int

    def to_dict(self) -> DailyBalanceDict:
        return {
            "date": self.date.isoformat(),
            "change": plain(self.change),
            "balance": plain(self.balance),
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class ListedTransaction:
    """One transaction as served (``page``, ``index`` locate it), with its cleaned vendor."""

    page: int
    index: int
    date: date
    amount: Decimal
    company: str
    vendor: str

    def to_dict(self) -> ListedTransactionDict:
        return {
            "page": self.page,
            "index": self.index,
            "date": self.date.isoformat(),
            "amount": plain(self.amount),
            "company": self.company,
            "vendor": self.vendor,
        }


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    """One category; ``transactions`` is None when the report does not list them."""

    name: str  # for people: "Uncategorized" for an empty Ledger
    ledger: str  # the API's Ledger field as served; the JSON keeps the API's word for it
    count: int
    total: Decimal
    transactions: tuple[ListedTransaction, ...] | None

    def to_dict(self) -> CategoryTotalDict:
        listed = self.transactions
        return {
            "name": self.name,
            "ledger": self.ledger,
            "count": self.count,
            "total": plain(self.total),
            "transactions": None if listed is None else [t.to_dict() for t in listed],
        }


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Records identical as served; ``count`` occurrences (>= 2)."""

    date: date
    ledger: str  # the category, as the API's Ledger field
    amount: Decimal
    company: str
    vendor: str
    count: int

    def to_dict(self) -> DuplicateGroupDict:
        return {
            "date": self.date.isoformat(),
            "ledger": self.ledger,
            "amount": plain(self.amount),
            "company": self.company,
            "vendor": self.vendor,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """A balance assertion: the running balance at the end of ``date`` should be ``expected``.

    ``actual`` is that balance in this report (0 before the first day, the total after the
    last); ``difference`` is ``actual - expected``, so a fix is "the statement is off by this".
    """

    date: date
    expected: Decimal
    actual: Decimal
    difference: Decimal
    ok: bool

    def to_dict(self) -> BalanceCheckDict:
        return {
            "date": self.date.isoformat(),
            "expected": plain(self.expected),
            "actual": plain(self.actual),
            "difference": plain(self.difference),
            "ok": self.ok,
        }


@dataclass(frozen=True, slots=True)
class RestatedDay:
    """A day the previous report also covered whose change or closing balance is now different.

    Differences are ``current - previous``.
    """

    date: date
    previous_change: Decimal
    change: Decimal
    change_difference: Decimal
    previous_balance: Decimal
    balance: Decimal
    balance_difference: Decimal

    def to_dict(self) -> RestatedDayDict:
        return {
            "date": self.date.isoformat(),
            "previous_change": plain(self.previous_change),
            "change": plain(self.change),
            "change_difference": plain(self.change_difference),
            "previous_balance": plain(self.previous_balance),
            "balance": plain(self.balance),
            "balance_difference": plain(self.balance_difference),
        }


# What a `Changes` section says: compared with a previous report, nothing to compare with
# (a first run), or a previous report that could not be used (missing, unreadable, other source).
COMPARED, FIRST_RUN, UNAVAILABLE = "compared", "first_run", "unavailable"


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the previous report; the numbers are None unless ``compared``."""

    status: str  # COMPARED, FIRST_RUN or UNAVAILABLE
    note: str  # one sentence for people: what was compared with, or why nothing was
    previous: str | None = None  # where the previous report came from (a path or an S3 URI)
    previous_transaction_count: int | None = None
    transaction_count_difference: int | None = None
    previous_total_balance: Decimal | None = None
    total_balance_difference: Decimal | None = None
    restated_days: tuple[RestatedDay, ...] = ()
    new_days: tuple[DailyBalance, ...] = ()

    def to_dict(self) -> ChangesDict:
        previous_total = self.previous_total_balance
        total_difference = self.total_balance_difference
        return {
            "status": self.status,
            "note": self.note,
            "previous": self.previous,
            "previous_transaction_count": self.previous_transaction_count,
            "transaction_count_difference": self.transaction_count_difference,
            "previous_total_balance": None if previous_total is None else plain(previous_total),
            "total_balance_difference": None
            if total_difference is None
            else plain(total_difference),
            "restated_days": [d.to_dict() for d in self.restated_days],
            "new_days": [d.to_dict() for d in self.new_days],
        }


@dataclass(frozen=True, slots=True)
class Report:
    source: str
    page_count: int
    transaction_count: int
    first_date: date | None  # None for an empty ledger
    last_date: date | None
    total_balance: Decimal
    gap_days_filled: bool
    duplicates_excluded: bool
    daily_balances: tuple[DailyBalance, ...]
    categories: tuple[CategoryTotal, ...]
    transactions_listed: bool  # False above the detail limit: no category lists its transactions
    duplicates: tuple[DuplicateGroup, ...]
    duplicate_count: int  # extra occurrences beyond the first
    duplicate_total: Decimal  # the sum of those extra occurrences
    assertions: tuple[BalanceCheck, ...] = ()  # in the order given
    changes: Changes | None = None  # None when no comparison was asked for

    @property
    def failed_assertions(self) -> tuple[BalanceCheck, ...]:
        return tuple(a for a in self.assertions if not a.ok)

    def to_dict(self) -> ReportDict:
        """The JSON form: money as plain strings, dates as ISO strings, lists for tuples."""
        return {
            "source": self.source,
            "page_count": self.page_count,
            "transaction_count": self.transaction_count,
            "first_date": None if self.first_date is None else self.first_date.isoformat(),
            "last_date": None if self.last_date is None else self.last_date.isoformat(),
            "total_balance": plain(self.total_balance),
            "gap_days_filled": self.gap_days_filled,
            "duplicates_excluded": self.duplicates_excluded,
            "daily_balances": [d.to_dict() for d in self.daily_balances],
            "categories": [c.to_dict() for c in self.categories],
            "transactions_listed": self.transactions_listed,
            "duplicates": [d.to_dict() for d in self.duplicates],
            "duplicate_count": self.duplicate_count,
            "duplicate_total": plain(self.duplicate_total),
            "assertions": [a.to_dict() for a in self.assertions],
            "changes": None if self.changes is None else self.changes.to_dict(),
        }


def build_report(summary: Summary, source: str) -> Report:
    """The report of ``summary``, read from ``source`` (a URL template or the sample's label)."""
    days = tuple(DailyBalance(d.date, d.change, d.balance, d.count) for d in summary.days)
    return Report(
        source=source,
        page_count=summary.page_count,
        transaction_count=summary.transaction_count,
        first_date=days[0].date if days else None,
        last_date=days[-1].date if days else None,
        total_balance=summary.total,
        gap_days_filled=summary.gap_days_filled,
        duplicates_excluded=summary.duplicates_excluded,
        daily_balances=days,
        categories=tuple(
            CategoryTotal(
                name=c.name or UNCATEGORIZED,
                ledger=c.name,
                count=c.count,
                total=c.total,
                transactions=None
                if c.transactions is None
                else tuple(
                    ListedTransaction(
                        page, index, t.date, t.amount, t.company, clean_vendor(t.company)
                    )
                    for page, index, t in c.transactions
                ),
            )
            for c in summary.categories
        ),
        transactions_listed=summary.transactions_listed,
        duplicates=tuple(
            DuplicateGroup(
                d.transaction.date,
                d.transaction.category,
                d.transaction.amount,
                d.transaction.company,
                clean_vendor(d.transaction.company),
                d.count,
            )
            for d in summary.duplicates
        ),
        duplicate_count=summary.duplicate_count,
        duplicate_total=summary.duplicate_total,
    )
