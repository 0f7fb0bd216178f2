"""Daily balances as CSV, one rectangular table a spreadsheet reads as is.

Columns: date, change, balance, count (money as exact plain decimals), then the reconciliation
of that day: ``asserted_balance`` (the balance an assertion expects at the end of the day),
``previous_balance`` (the balance the previous report had, on a restated day only: a day whose
own change differs) and ``transactions_changed`` (how many transactions dated that day were
added, removed or changed; a moved one counts on both dates); all empty otherwise, so
``balance != asserted_balance`` finds a failed assertion and a non-empty ``previous_balance`` a
restated day. An assertion on a date without a row (before the first day, after the last, or
between active days) is in the JSON, table and HTML reports only. Then, the same on every row
(a comment line would be a row to a spreadsheet and a header to a CSV reader): ``currency``
(when known), ``records_left_out`` (by the description's filter or currency; empty when it
leaves nothing out), ``generated_at`` (UTC), ``generated_by`` (the tool and its version) and
``pages_digest`` (the pages it was computed from).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from datetime import date

from ..model import Report, utc
from ..money import plain

HEADER = ["date", "change", "balance", "count", "asserted_balance", "previous_balance"]
HEADER += ["transactions_changed", "currency", "records_left_out", "generated_at", "generated_by"]
HEADER += ["pages_digest"]


def pieces(report: Report) -> Iterator[str]:
    asserted = {a.date: plain(a.expected) for a in report.assertions}
    changes = report.changes
    restated = {} if changes is None else {d.date: d for d in changes.restated_days}
    touched: Counter[date] = Counter()
    for change in () if changes is None else changes.transaction_changes:
        touched.update({t.date for t in (change.previous, change.current) if t is not None})
    counts = report.left_out
    left = "" if counts is None else counts.filtered + counts.other_currency
    made = (utc(report.generated_at), report.generated_by, report.pages_digest or "")
    stamp = (report.currency or "", left, *made)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for day in report.daily_balances:
        before = restated.get(day.date)
        writer.writerow(
            [
                day.date.isoformat(),
                plain(day.change),
                plain(day.balance),
                day.count,
                asserted.get(day.date, ""),
                "" if before is None else plain(before.previous_balance),
                touched.get(day.date, ""),
                *stamp,
            ]
        )
    yield out.getvalue()
