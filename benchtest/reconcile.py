"""Reconciliation: balance assertions, and what changed since a previous report.

A daily job is trusted when it can say "this matches what we know" (assertions: closing
balances from a statement) and "this is what changed since the last run" (restated days: a
dropped, doubled or edited past transaction shifts every running balance after it). Both are
checks on a finished report; neither can make a run fail to produce its report.

Both read the running balance at the end of any date the same way (`balance_at`): 0 before the
first day, the last listed day's balance on or before the date (so with active days only, a
quiet day has the previous active day's balance), the total after the last day.

A previous report is untrusted input (a file someone gave, an object in a bucket): it is read
with a size cap, decoded without floats, constants or duplicate keys, and every field used is
checked, so a bad one becomes a note in the report, never a crash.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any, TypeVar

from .errors import StorageError
from .model import (
    COMPARED,
    FIRST_RUN,
    UNAVAILABLE,
    BalanceCheck,
    Changes,
    DailyBalance,
    Report,
    RestatedDay,
)
from .money import EXACT

log = logging.getLogger("benchtest")

ZERO = Decimal(0)
_T = TypeVar("_T")
MAX_PREVIOUS_BYTES = 64 * 1024 * 1024  # a report of 10 years of days with details is ~2 MB
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_MONEY = re.compile(r"-?\d{1,60}\.\d{2,60}", re.ASCII)  # as `money.plain` writes it


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
            checks.append(BalanceCheck(day, expected, actual, difference, difference == 0))
    return dataclasses.replace(report, assertions=tuple(checks))


# --------------------------------------------------------------------------- previous report


class PreviousReportError(ValueError):
    """A previous report that cannot be used; the message says why, for the note and warning."""


@dataclass(frozen=True)
class Previous:
    """The parts of a previous JSON report that a comparison needs, validated."""

    where: str  # a path or S3 URI, for the note
    source: str
    transaction_count: int
    total_balance: Decimal
    duplicates_excluded: bool
    days: tuple[DailyBalance, ...]


def parse_previous(data: bytes, where: str) -> Previous:
    """Validate a previous report's JSON; raise `PreviousReportError` naming what is wrong."""
    if len(data) > MAX_PREVIOUS_BYTES:
        raise PreviousReportError(f"{where}: larger than {MAX_PREVIOUS_BYTES:,} bytes")
    try:
        doc = json.loads(
            data.decode("utf-8"),
            parse_float=_no_float,
            parse_constant=_no_float,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:
        raise PreviousReportError(f"{where}: not a report: JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PreviousReportError(f"{where}: not a JSON report: {exc}") from None
    if not isinstance(doc, dict):
        raise PreviousReportError(f"{where}: not a report: expected a JSON object")
    try:
        days = doc.get("daily_balances")
        if not isinstance(days, list):
            raise ValueError("daily_balances: expected a list")
        parsed = tuple(_day(item, i) for i, item in enumerate(days))
        for i in range(1, len(parsed)):
            if parsed[i].date <= parsed[i - 1].date:
                raise ValueError(f"daily_balances[{i}].date: not after the day before")
        return Previous(
            where=where,
            source=_field(doc, "source", str),
            transaction_count=_count(doc, "transaction_count"),
            total_balance=_money(doc, "total_balance"),
            duplicates_excluded=_field(doc, "duplicates_excluded", bool),
            days=parsed,
        )
    except ValueError as exc:
        raise PreviousReportError(f"{where}: not a usable report: {exc}") from None


def _no_float(text: str) -> Any:
    raise ValueError(f"a bare number {text!r} where money must be a string")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise ValueError("a key appears twice in one object")
    return doc


def _field(doc: dict[str, Any], name: str, kind: type[_T]) -> _T:
    value = doc.get(name)
    if not isinstance(value, kind):
        raise ValueError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _count(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: expected a count, got {value!r}"[:200])
    return value


def _money(doc: dict[str, Any], name: str) -> Decimal:
    value = doc.get(name)
    if not isinstance(value, str) or not _MONEY.fullmatch(value):
        raise ValueError(f"{name}: expected a decimal string such as '-12.30'")
    return Decimal(value)


def _day(item: object, i: int) -> DailyBalance:
    if not isinstance(item, dict):
        raise ValueError(f"daily_balances[{i}]: expected an object")
    text = item.get("date")
    try:
        if not isinstance(text, str) or not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"daily_balances[{i}].date: expected YYYY-MM-DD") from None
    where = f"daily_balances[{i}]."
    try:
        return DailyBalance(
            day, _money(item, "change"), _money(item, "balance"), _count(item, "count")
        )
    except ValueError as exc:
        raise ValueError(where + str(exc)) from None


# --------------------------------------------------------------------------- changes


# Reads the previous report: (its bytes, where it is), or None when there is none yet. It
# raises `StorageError` when the report is there but cannot be read.
Load = Callable[[], tuple[bytes, str] | None]


def changes_since(report: Report, load: Load, asked_by: str) -> Report:
    """``report`` with what changed since the previous report ``load`` reads; the one policy of
    both shells. None from ``load`` is a first run; a previous report that cannot be read or
    used is a note in the report and a warning naming ``asked_by`` (``--compare``), never a
    failed run (a retry would not fix it)."""
    try:
        found = load()
        if found is None:
            return dataclasses.replace(report, changes=first_run())
        previous = parse_previous(*found)
    except (StorageError, PreviousReportError) as exc:
        changes = unavailable(str(exc))
        log.warning("warning: %s: %s", asked_by, changes.note)
        return dataclasses.replace(report, changes=changes)
    return compare(report, previous)


def first_run() -> Changes:
    return Changes(FIRST_RUN, "first run: nothing to compare")


def unavailable(reason: str) -> Changes:
    return Changes(UNAVAILABLE, f"not compared: {reason}")


def compare(report: Report, previous: Previous) -> Report:
    """``report`` with its ``changes`` section: what differs from ``previous``.

    Days up to the previous report's last day are compared on the change that day and the
    closing balance (either report may list only active days: a day missing from one has
    change 0 and the balance before it); a difference is a restated day. Days after it are new.
    """
    if previous.source != report.source:
        reason = f"{previous.where} is a report of another source ({previous.source})"
        return dataclasses.replace(report, changes=unavailable(reason))
    if previous.duplicates_excluded != report.duplicates_excluded:
        how = "excluded" if previous.duplicates_excluded else "included"
        reason = f"{previous.where} was computed with possible duplicates {how}"
        return dataclasses.replace(report, changes=unavailable(reason))
    before, now = previous.days, report.daily_balances
    cutoff = before[-1].date if before else None
    changes_before = {d.date: d.change for d in before}
    changes_now = {d.date: d.change for d in now}
    dates = sorted(set(changes_before) | {d for d in changes_now if cutoff and d <= cutoff})
    restated = []
    with localcontext(EXACT):
        for day in dates:
            old_change, new_change = changes_before.get(day, ZERO), changes_now.get(day, ZERO)
            old_balance, new_balance = balance_at(before, day), balance_at(now, day)
            if (old_change, old_balance) != (new_change, new_balance):
                restated.append(
                    RestatedDay(
                        day,
                        old_change,
                        new_change,
                        new_change - old_change,
                        old_balance,
                        new_balance,
                        new_balance - old_balance,
                    )
                )
        new = tuple(d for d in now if cutoff is None or d.date > cutoff)
        count_difference = report.transaction_count - previous.transaction_count
        total_difference = report.total_balance - previous.total_balance
    note = f"compared with {previous.where}: {len(restated)} restated day(s), {len(new)} new day(s)"
    changes = Changes(
        COMPARED,
        note,
        previous.where,
        previous.transaction_count,
        count_difference,
        previous.total_balance,
        total_difference,
        tuple(restated),
        new,
    )
    return dataclasses.replace(report, changes=changes)
