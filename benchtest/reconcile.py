"""Reconciliation: balance assertions, and what changed since a previous report."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal, localcontext

import msgspec

from .errors import StorageError
from .model import (
    ADDED,
    CHANGED,
    COMPARED,
    FIRST_RUN,
    REMOVED,
    UNAVAILABLE,
    BalanceCheck,
    Category,
    CategoryTotal,
    Changes,
    Count,
    DailyBalance,
    Money,
    Report,
    RestatedDay,
    Transaction,
    TransactionChange,
    read_money,
)
from .money import EXACT
from .text import for_terminal, quoted

log = logging.getLogger("benchtest")

ZERO = Decimal(0)
# A report of 10 years of days listing 10,000 transactions (the default limits) is ~4 MB.
MAX_PREVIOUS_BYTES = 32 * 1024 * 1024
# JSON values (commas plus containers) a previous report may hold, counted before decoding: a
# day is 5, a listed transaction 6, so this is room for 10 years of days and over 75,000
# listed transactions. It bounds what the decoded structs cost: ~70 MB at worst (100,000 days;
# tests/test_hostile_compare.py measures it).
MAX_PREVIOUS_VALUES = 500_000


# --------------------------------------------------------------------------- assertions


def balance_at(days: Sequence[DailyBalance], day: date) -> Decimal:
    """The running balance at the end of ``day``; ``days`` in date order."""
    index = bisect_right(days, day, key=lambda d: d.date)
    return days[index - 1].balance if index else ZERO


def check_assertions(report: Report, assertions: Sequence[tuple[date, Decimal]]) -> Report:
    """``report`` with its ``assertions`` section: one `BalanceCheck` per assertion."""
    checks = []
    with localcontext(EXACT):
        for day, expected in assertions:
            actual = balance_at(report.daily_balances, day)
            difference = actual - expected
            checks.append(
                BalanceCheck(
                    day, Money(expected), Money(actual), Money(difference), difference == 0
                )
            )
    return msgspec.structs.replace(report, assertions=tuple(checks))


# --------------------------------------------------------------------------- previous report


class PreviousReportError(ValueError):
    """A previous report that cannot be used; the message says why, for the note and warning."""


class _Category(msgspec.Struct, gc=False):
    category: Category = msgspec.field(name="ledger")
    transactions: tuple[Transaction, ...] | None


class Previous(msgspec.Struct, gc=False):
    """The parts of a report a comparison reads, in the report's own types; ``where`` it came
    from (a path or S3 URI) is set after decoding."""

    source: str
    transaction_count: Count
    total_balance: Money
    duplicates_excluded: bool
    daily_balances: tuple[DailyBalance, ...]
    categories: tuple[_Category, ...]
    transactions_listed: bool
    where: str = ""

    def transactions(self) -> list[Transaction] | None:
        """Every transaction it lists, with its category; None when it lists none."""
        return listing(self.categories) if self.transactions_listed else None


_decoder = msgspec.json.Decoder(Previous, dec_hook=read_money)


def parse_previous(data: bytes, where: str) -> Previous:
    """Validate a previous report's JSON; raise `PreviousReportError` naming what is wrong."""
    if len(data) > MAX_PREVIOUS_BYTES:
        raise PreviousReportError(f"{where}: larger than {MAX_PREVIOUS_BYTES:,} bytes")
    values = data.count(b",") + data.count(b"{") + data.count(b"[")
    if values > MAX_PREVIOUS_VALUES:
        raise PreviousReportError(
            f"{where}: not a usable report: {values:,} JSON values, more than the "
            f"{MAX_PREVIOUS_VALUES:,} a report may hold"
        )
    try:
        doc = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise PreviousReportError(f"{where}: not a usable report: {exc}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise PreviousReportError(f"{where}: not a JSON report: {exc}") from None
    try:
        _check(doc)
    except ValueError as exc:
        raise PreviousReportError(f"{where}: not a usable report: {exc}") from None
    return msgspec.structs.replace(doc, where=where)


def _check(doc: Previous) -> None:
    """The report adds up: days in order, each balance the day before's plus its change, the
    total the last day's balance, a listing wherever it says it lists."""
    balance, days = ZERO, doc.daily_balances
    with localcontext(EXACT):
        for i, day in enumerate(days):
            if i and day.date <= days[i - 1].date:
                raise ValueError(f"daily_balances[{i}].date: not after the day before")
            balance += day.change
            if day.balance != balance:
                raise ValueError(
                    f"daily_balances[{i}].balance: not the day before's plus the change"
                )
    if doc.total_balance != (days[-1].balance if days else ZERO):
        raise ValueError("total_balance: not the last day's balance")
    for i, category in enumerate(doc.categories):
        if doc.transactions_listed and category.transactions is None:
            raise ValueError(f"categories[{i}].transactions: null, but transactions_listed")


# --------------------------------------------------------------------------- changes


# Reads the previous report: (its bytes, where it is), or None when there is none yet. It
# raises `StorageError` when the report is there but cannot be read.
Load = Callable[[], tuple[bytes, str] | None]


def changes_since(report: Report, load: Load, asked_by: str, detail_limit: int) -> Report:
    """``report`` with what changed since the previous report ``load`` reads; the one policy of
    both shells. None from ``load`` is a first run, noted on stderr too (a CSV report has no
    place for it); a previous report that cannot be read or used (or is of another source) is a
    note in the report and a warning naming ``asked_by`` (``--compare``), never a failed run (a
    retry would not fix it). ``detail_limit`` (the
    setting) is the most transactions of the previous report that are compared one by one."""
    try:
        found = load()
        if found is None:
            log.warning("note: %s: %s", asked_by, first_run().note)
            return msgspec.structs.replace(report, changes=first_run())
        previous = parse_previous(*found)
    except (StorageError, PreviousReportError) as exc:
        report = msgspec.structs.replace(report, changes=unavailable(str(exc)))
    else:
        report = compare(report, previous, detail_limit)
    if report.changes is not None and report.changes.status == UNAVAILABLE:
        log.warning("warning: %s: %s", asked_by, for_terminal(report.changes.note))
    return report


def first_run() -> Changes:
    return Changes(FIRST_RUN, "first run: nothing to compare")


def unavailable(reason: str) -> Changes:
    return Changes(UNAVAILABLE, f"not compared: {reason}")


def compare(report: Report, previous: Previous, detail_limit: int) -> Report:
    """``report`` with its ``changes`` section: what differs from ``previous``.

    Days up to the previous report's last day are compared on their change (either report may
    list only active days: a day missing from one has change 0); a difference is a restated
    day, whose balance difference holds for every day after it up to the next one. Days after
    it are new. Transactions on the days both cover are compared when both reports list them
    and the previous one lists at most ``detail_limit``: so the changes listed cost no more than
    this report's own listing, whatever a previous report holds.
    """
    if previous.source != report.source:
        reason = f"{previous.where} is a report of another source ({quoted(previous.source)})"
        return msgspec.structs.replace(report, changes=unavailable(reason))
    if previous.duplicates_excluded != report.duplicates_excluded:
        how = "excluded" if previous.duplicates_excluded else "included"
        reason = f"{previous.where} was computed with possible duplicates {how}"
        return msgspec.structs.replace(report, changes=unavailable(reason))
    before, now = previous.daily_balances, report.daily_balances
    cutoff = before[-1].date if before else None
    changes_before = {d.date: d.change for d in before}
    changes_now = {d.date: d.change for d in now}
    dates = sorted(set(changes_before) | {d for d in changes_now if cutoff and d <= cutoff})
    restated = []
    with localcontext(EXACT):
        for day in dates:
            old_change, new_change = changes_before.get(day, ZERO), changes_now.get(day, ZERO)
            if old_change != new_change:
                was, is_now = balance_at(before, day), balance_at(now, day)
                difference = new_change - old_change
                amounts = (old_change, new_change, difference, was, is_now, is_now - was)
                restated.append(RestatedDay(day, *map(Money, amounts)))
        new = tuple(d for d in now if cutoff is None or d.date > cutoff)
        count_difference = report.transaction_count - previous.transaction_count
        total_difference = report.total_balance - previous.total_balance
    note = f"compared with {previous.where}: {len(restated)} restated day(s), {len(new)} new day(s)"
    previous_transactions = previous.transactions()
    listed = previous_transactions is not None and report.transactions_listed
    if previous_transactions is not None and len(previous_transactions) > detail_limit:
        listed = False
        note += (
            f"; transactions not compared: the previous report lists {len(previous_transactions):,}"
            f", more than the detail limit ({detail_limit:,})"
        )
    elif not listed:
        which = "the previous report does" if report.transactions_listed else "this report does"
        note += f"; transactions not compared: {which} not list them (the detail limit)"
    transactions: tuple[TransactionChange, ...] = ()
    if listed and cutoff is not None:
        assert previous_transactions is not None  # for mypy: listed says so
        transactions = transaction_changes(
            [t for t in previous_transactions if t.date <= cutoff],
            [t for t in listing(report.categories) if t.date <= cutoff],
        )
    changes = Changes(
        COMPARED,
        note,
        previous.where,
        previous.transaction_count,
        count_difference,
        previous.total_balance,
        Money(total_difference),
        listed,
        transactions,
        tuple(restated),
        new,
    )
    if listed:
        counts = ", ".join(f"{n} {kind}" for kind, n in changes.counts().items())
        changes = msgspec.structs.replace(changes, note=f"{note}; transactions: {counts}")
    return msgspec.structs.replace(report, changes=changes)


def listing(categories: Iterable[CategoryTotal | _Category]) -> list[Transaction]:
    """Every transaction the categories list, each with its category (and no vendor)."""
    return [
        msgspec.structs.replace(t, category=c.category, vendor=None)
        for c in categories
        for t in c.transactions or ()
    ]


# The fields of a transaction, in the order an edit of one of them is looked for: an amount
# corrected, then a date moved, a category or a company changed.
_FIELDS = ("amount", "date", "category", "company")
_Key = tuple[object, ...]


def transaction_changes(
    before: Sequence[Transaction], now: Sequence[Transaction]
) -> tuple[TransactionChange, ...]:
    """What was added, removed and changed from ``before`` to ``now``, in date order.

    Transactions have no identity as served, and their place (page, index) moves whenever one
    before them is added or removed, so they are compared by their four fields, as multisets:
    identical ones pair up first, so n identical transactions before and m now are |n - m|
    added or removed, never more. Then a removed and an added one that differ in exactly one
    field are one changed transaction, looked for field by field in `_FIELDS` order; among
    candidates, in date, page and index order. The rest stay added or removed.
    """
    removed, added = sorted(before, key=_place), sorted(now, key=_place)
    changes = []
    for field in (None, *_FIELDS):
        pairs, removed, added = _pair(removed, added, field)
        if field is not None:
            changes += [TransactionChange(CHANGED, old, new) for old, new in pairs]
    changes += [TransactionChange(REMOVED, old, None) for old in removed]
    changes += [TransactionChange(ADDED, None, new) for new in added]
    return tuple(sorted(changes, key=_order))


def _key(t: Transaction, leave_out: str | None) -> _Key:
    return tuple(getattr(t, name) for name in _FIELDS if name != leave_out)


def _place(t: Transaction) -> tuple[date, int, int]:
    return t.date, t.page, t.index


def _pair(
    before: Sequence[Transaction], now: Sequence[Transaction], leave_out: str | None
) -> tuple[list[tuple[Transaction, Transaction]], list[Transaction], list[Transaction]]:
    """Pairs equal in every field but ``leave_out``, each with the first of ``now`` still
    free; and what is left of each side, in order. Linear in the number given."""
    waiting: dict[_Key, deque[int]] = defaultdict(deque)
    for j, t in enumerate(now):
        waiting[_key(t, leave_out)].append(j)
    taken = [False] * len(now)
    pairs, left = [], []
    for t in before:
        queue = waiting.get(_key(t, leave_out))
        if queue:
            j = queue.popleft()
            taken[j] = True
            pairs.append((t, now[j]))
        else:
            left.append(t)
    return pairs, left, [now[j] for j, used in enumerate(taken) if not used]


def _order(change: TransactionChange) -> tuple[date, int, int]:
    """The earlier side's place (a moved transaction sorts by its earlier date)."""
    return min(_place(t) for t in (change.previous, change.current) if t is not None)
