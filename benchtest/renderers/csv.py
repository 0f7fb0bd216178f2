"""Daily balances as CSV, one rectangular table a spreadsheet reads as is."""

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
        at, before = day.date, restated.get(day.date)
        previous = "" if before is None else plain(before.previous_balance)
        figures = (at.isoformat(), plain(day.change), plain(day.balance), day.count)
        writer.writerow((*figures, asserted.get(at, ""), previous, touched.get(at, ""), *stamp))
    yield out.getvalue()
