"""Daily balances as CSV, one rectangular table a spreadsheet reads as is.

Columns: date, change, balance, count (money as exact plain decimals), then the reconciliation
of that day: ``asserted_balance`` (the balance an assertion expects at the end of the day) and
``previous_balance`` (the balance the previous report had, on a restated day only); both empty
otherwise, so ``balance != asserted_balance`` finds a failed assertion and a non-empty
``previous_balance`` a restated day. An assertion on a date without a row (before the first
day, after the last, or between active days) is in the JSON, table and HTML reports only.
"""

from __future__ import annotations

import csv
import io

from ..model import Report
from ..money import plain


def render(report: Report) -> str:
    asserted = {a.date: plain(a.expected) for a in report.assertions}
    restated = (
        {}
        if report.changes is None
        else {d.date: plain(d.previous_balance) for d in report.changes.restated_days}
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "change", "balance", "count", "asserted_balance", "previous_balance"])
    for day in report.daily_balances:
        writer.writerow(
            [
                day.date.isoformat(),
                plain(day.change),
                plain(day.balance),
                day.count,
                asserted.get(day.date, ""),
                restated.get(day.date, ""),
            ]
        )
    return out.getvalue()
