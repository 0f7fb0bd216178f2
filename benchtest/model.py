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
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import __version__
from .money import plain

UNCATEGORIZED = "Uncategorized"  # the name shown for an empty category
GENERATED_BY = f"benchtest {__version__}"

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
    """A day the previous report also covered whose own activity changed: its change differs.

    Differences are ``current - previous``; ``balance_difference`` is what every balance from
    this day on is shifted by, up to the next restated day.
    """

    date: date
    previous_change: Decimal
    change: Decimal
    change_difference: Decimal
    previous_balance: Decimal
    balance: Decimal
    balance_difference: Decimal


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction as a comparison names it: where it was served, and its four fields."""

    page: int
    index: int
    date: date
    category: str = dataclasses.field(metadata=_LEDGER)
    amount: Decimal
    company: str


# What happened to a transaction between two reports.
ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True, slots=True)
class TransactionChange:
    """A transaction added, removed, or changed in one of its four fields; ``previous`` as the
    previous report listed it (None when added), ``current`` as now (None when removed)."""

    change: str  # ADDED, REMOVED or CHANGED
    previous: Transaction | None
    current: Transaction | None


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
    transactions_compared: bool = False  # both reports list their transactions
    transaction_changes: tuple[TransactionChange, ...] = ()
    restated_days: tuple[RestatedDay, ...] = ()
    new_days: tuple[DailyBalance, ...] = ()

    @property
    def found(self) -> bool:
        """Past data changed: a restated day, or a transaction added, removed or changed."""
        return bool(self.restated_days or self.transaction_changes)

    def counts(self) -> dict[str, int]:
        """How many transactions were changed, added and removed."""
        kinds = [c.change for c in self.transaction_changes]
        return {kind: kinds.count(kind) for kind in (CHANGED, ADDED, REMOVED)}

    def shifts(self) -> list[tuple[date, date | None, Decimal]]:
        """(first day, last day or None for "on", amount): the runs of days whose balance
        differs, each starting at a restated day; runs that came back to 0 are left out."""
        days = self.restated_days
        ends: list[date | None] = [d.date - timedelta(days=1) for d in days[1:]]
        return [
            (d.date, end, d.balance_difference)
            for d, end in zip(days, [*ends, None], strict=True)
            if d.balance_difference
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    generated_at: datetime  # UTC, to the second
    generated_by: str = GENERATED_BY  # the tool and its version
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
    strings, dates in ISO form (times as `utc`), tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.metadata.get("json", field.name): to_json(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(item) for item in value]
    return value


def utc(moment: datetime) -> str:
    """An aware time in UTC, ISO 8601 to the second: ``2026-03-12T06:00:03Z``."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"
