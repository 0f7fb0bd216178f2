"""The report: typed, with exact `Decimal` money inside, and its JSON form derived in one place.

Every renderer (table, JSON, CSV, HTML) reads the same `Report`, so the numbers a person reads
and the numbers a machine reads cannot disagree, and none of them parses money back from text.
`to_json` is the one translation to JSON: field order is key order, `Decimal` becomes the plain
string of `money.plain`, `date` its ISO form, tuples lists; a field may carry another JSON name
in its metadata (the API's word ``ledger`` for what the code calls a category).
`docs/CONTRACT.md` is tested against a real report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from .money import plain

UNCATEGORIZED = "Uncategorized"  # the name shown for an empty category

# A field's JSON key when it is not the field's name: the API's word for a category.
_LEDGER = {"json": "ledger"}


@dataclass(frozen=True, slots=True)
class DailyBalance:
    """One calendar day: the day's net change, the closing balance, transactions that day."""

    date: date
    change: Decimal
    balance: Decimal
    count: int


@dataclass(frozen=True, slots=True)
class ListedTransaction:
    """One transaction as served (``page``, ``index`` locate it), with its cleaned vendor."""

    page: int
    index: int
    date: date
    amount: Decimal
    company: str
    vendor: str


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    """One category; ``transactions`` is None when the report does not list them."""

    name: str  # for people: "Uncategorized" for an empty category
    category: str = dataclasses.field(
        metadata=_LEDGER
    )  # as served; the JSON keeps the API's word for it
    count: int
    total: Decimal
    transactions: tuple[ListedTransaction, ...] | None


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Records identical as served; ``count`` occurrences (>= 2)."""

    date: date
    category: str = dataclasses.field(metadata=_LEDGER)
    amount: Decimal
    company: str
    vendor: str
    count: int


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json``, the Lambda's return value)."""
        result: dict[str, Any] = to_json(self)
        return result


def to_json(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects in field order, money as plain
    strings, dates in ISO form, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.metadata.get("json", field.name): to_json(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value
