"""Daily balances as CSV: date, change, balance, count (money as exact plain decimals)."""

from __future__ import annotations

import csv
import io

from ..model import Report
from ..money import plain


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "change", "balance", "count"])
    for day in report.daily_balances:
        writer.writerow([day.date.isoformat(), plain(day.change), plain(day.balance), day.count])
    return out.getvalue()
