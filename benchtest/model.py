"""The report: one schema of msgspec structs, written as JSON and read back through the same
types (`encode`, `decode`); exact `Money` inside. Every renderer reads the same `Report`, so
the numbers people read and machines read cannot disagree. docs/CONTRACT.md is its contract."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, cast

import msgspec

from ._version import __version__
from .money import plain

UNCATEGORIZED = "Uncategorized"  # the name shown for an empty category
GENERATED_BY = f"benchtest {__version__}"
# Text from the API, as long as the decoder lets it be (transactions.MAX_TEXT_CHARS).
Category = Annotated[str, msgspec.Meta(max_length=200)]
Company = Annotated[str, msgspec.Meta(max_length=1_000)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class Money(Decimal):
    """An exact amount in a report: written in its plain form (`money.plain`: ``-1874.75``,
    never an exponent or ``-0``), and read back only from that form."""

    __slots__ = ()


_PLAIN = re.compile(r"-?[0-9]{1,130}\.[0-9]{2,130}")  # as `money.plain` writes it


def _encode(value: Any) -> Any:
    if isinstance(value, Money):
        return plain(value)
    raise NotImplementedError(type(value))


_JSON = {bool: "bool", int: "int", float: "float", list: "array", dict: "object"}


def read_money(kind: type, value: Any) -> Any:
    """msgspec's dec_hook for `Money`: only the plain form, never NaN or an exponent."""
    if kind is not Money:
        raise NotImplementedError(kind)
    if not isinstance(value, str):  # msgspec adds where: " - at `$.total_balance`"
        raise ValueError(f"Expected `str`, got `{_JSON.get(type(value), 'null')}`")
    if len(value) > 130 or not _PLAIN.fullmatch(value):
        raise ValueError("expected a decimal string such as '-12.30'")
    return Money(value)


class DailyBalance(msgspec.Struct, frozen=True, gc=False):
    """One calendar day: the day's net change, the closing balance, transactions that day."""

    date: date
    change: Money
    balance: Money
    count: Count


class Transaction(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A transaction as served (``page``, ``index`` locate it). Listed under its category it has
    its cleaned ``vendor`` and no ``category``; in a comparison, its category and no vendor."""

    page: Count
    index: Count
    date: date
    category: Category | None = msgspec.field(default=None, name="ledger")
    amount: Money
    company: Company
    vendor: str | None = None


class CategoryTotal(msgspec.Struct, frozen=True, gc=False):
    """One category; ``transactions`` is None when the report does not list them."""

    name: str  # for people: "Uncategorized" for an empty category
    category: Category = msgspec.field(name="ledger")  # as served: the API's word for it
    count: Count
    total: Money
    transactions: tuple[Transaction, ...] | None


class DuplicateGroup(msgspec.Struct, frozen=True, gc=False):
    """Records identical as served; ``count`` occurrences (>= 2)."""

    date: date
    category: Category = msgspec.field(name="ledger")
    amount: Money
    company: Company
    vendor: str
    count: Count


class LeftOut(msgspec.Struct, frozen=True, gc=False):
    """Records the source description leaves out, counted: by its filter (skip_field), and in
    a currency other than the report's."""

    filtered: Count
    other_currency: Count


class BalanceCheck(msgspec.Struct, frozen=True, gc=False):
    """A balance assertion: the running balance at the end of ``date`` should be ``expected``;
    ``actual`` is that balance (0 before the first day, the total after the last) and
    ``difference`` is ``actual - expected``."""

    date: date
    expected: Money
    actual: Money
    difference: Money
    ok: bool


class RestatedDay(msgspec.Struct, frozen=True, gc=False):
    """A day the previous report also covered whose own change differs; differences are
    ``current - previous``, and ``balance_difference`` holds up to the next restated day."""

    date: date
    previous_change: Money
    change: Money
    change_difference: Money
    previous_balance: Money
    balance: Money
    balance_difference: Money


# What happened to a transaction between two reports.
ADDED, REMOVED, CHANGED = "added", "removed", "changed"


class TransactionChange(msgspec.Struct, frozen=True, gc=False):
    """A transaction added, removed, or changed in one of its four fields; ``previous`` as the
    previous report listed it (None when added), ``current`` as now (None when removed)."""

    change: str  # ADDED, REMOVED or CHANGED
    previous: Transaction | None
    current: Transaction | None


# What a `Changes` section says: compared with a previous report, nothing to compare with
# (a first run), or a previous report that could not be used (missing, unreadable, other source).
COMPARED, FIRST_RUN, UNAVAILABLE = "compared", "first_run", "unavailable"


class Changes(msgspec.Struct, frozen=True):
    """What changed since the previous report; the numbers are None unless ``compared``."""

    status: str  # COMPARED, FIRST_RUN or UNAVAILABLE
    note: str  # one sentence for people: what was compared with, or why nothing was
    previous: str | None = None  # where the previous report came from (a path or an S3 URI)
    previous_transaction_count: int | None = None
    transaction_count_difference: int | None = None
    previous_total_balance: Money | None = None
    total_balance_difference: Money | None = None
    transactions_compared: bool = False  # both reports list their transactions
    transaction_changes: tuple[TransactionChange, ...] = ()
    restated_days: tuple[RestatedDay, ...] = ()
    new_days: tuple[DailyBalance, ...] = ()

    @property
    def found(self) -> bool:
        """Past data changed: a restated day, or a transaction added, removed or changed."""
        return bool(self.restated_days or self.transaction_changes)

    def counts(self) -> dict[str, int]:
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


class Report(msgspec.Struct, frozen=True, kw_only=True):
    generated_at: datetime  # UTC, to the second
    generated_by: str = GENERATED_BY  # the tool and its version
    source: str
    page_count: Count
    pages_digest: str | None = None  # sha256:… of the pages read (docs/pages-file.md); older: None
    transaction_count: Count
    currency: str | None = None  # of every amount, when the API or the description says
    left_out: LeftOut | None = None  # None: the description leaves nothing out
    first_date: date | None  # None for an empty ledger
    last_date: date | None
    total_balance: Money
    gap_days_filled: bool
    duplicates_excluded: bool
    daily_balances: tuple[DailyBalance, ...]
    categories: tuple[CategoryTotal, ...]
    transactions_listed: bool  # False above the detail limit: no category lists its transactions
    duplicates: tuple[DuplicateGroup, ...]
    duplicate_count: Count  # extra occurrences beyond the first
    duplicate_total: Money  # the sum of those extra occurrences
    assertions: tuple[BalanceCheck, ...] = ()  # in the order given
    changes: Changes | None = None  # None when no comparison was asked for

    @property
    def failed_assertions(self) -> tuple[BalanceCheck, ...]:
        return tuple(a for a in self.assertions if not a.ok)

    @property
    def empty(self) -> bool:
        """No transactions: exit 6 and ``EmptyLedger`` unless ``allow_empty``."""
        return self.transaction_count == 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form as Python objects (the Lambda's return value)."""
        return cast(dict[str, Any], to_builtins(self))


_encoder = msgspec.json.Encoder(enc_hook=_encode)
_decoder = msgspec.json.Decoder(Report, dec_hook=read_money)


def to_builtins(value: Any) -> Any:
    """Any part of a report as the Python objects its JSON reads as: money as plain strings."""
    return msgspec.json.decode(_encoder.encode(value))


def encode(report: Report) -> bytes:
    return _encoder.encode(report)


def decode(data: bytes) -> Report:
    """A report from its JSON; `msgspec.ValidationError` or `msgspec.DecodeError` if not one."""
    return _decoder.decode(data)


def utc(moment: datetime) -> str:
    """An aware time in UTC, ISO 8601 to the second: ``2026-03-12T06:00:03Z``."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"
