"""The report: built once from a ledger summary as a JSON-ready dict, then rendered.

Every format (json, table, csv, html) and every sink (stdout, S3) renders the same dict, so
the numbers a person reads and the numbers a machine reads cannot disagree.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .ledger import Summary
from .vendors import clean_vendor

Report = dict[str, Any]
FORMATS = ("table", "json", "csv", "html")
UNCATEGORIZED = "Uncategorized"
_CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """Exact money text: at least two decimals, never an exponent, never ``-0``."""
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(_CENT)
    text = f"{value:f}"
    return text[1:] if value.is_zero() and text.startswith("-") else text


def build_report(summary: Summary, source: str) -> Report:
    days = summary.days
    return {
        "source": source,
        "page_count": summary.page_count,
        "transaction_count": summary.transaction_count,
        "first_date": days[0].date.isoformat() if days else None,
        "last_date": days[-1].date.isoformat() if days else None,
        "total_balance": money(summary.total),
        "gap_days_filled": summary.gap_days_filled,
        "duplicates_excluded": summary.duplicates_excluded,
        "daily_balances": [
            {
                "date": day.date.isoformat(),
                "change": money(day.change),
                "balance": money(day.balance),
                "count": day.count,
            }
            for day in days
        ],
        "categories": [
            {
                "name": category.ledger or UNCATEGORIZED,
                "ledger": category.ledger,
                "count": category.count,
                "total": money(category.total),
                "transactions": None
                if category.transactions is None
                else [
                    {
                        "page": page,
                        "index": index,
                        "date": t.date.isoformat(),
                        "amount": money(t.amount),
                        "company": t.company,
                        "vendor": clean_vendor(t.company),
                    }
                    for page, index, t in category.transactions
                ],
            }
            for category in summary.categories
        ],
        "transactions_listed": summary.transactions_listed,
        "duplicates": [
            {
                "date": d.transaction.date.isoformat(),
                "ledger": d.transaction.ledger,
                "amount": money(d.transaction.amount),
                "company": d.transaction.company,
                "vendor": clean_vendor(d.transaction.company),
                "count": d.count,
            }
            for d in summary.duplicates
        ],
        "duplicate_count": summary.duplicate_count,
        "duplicate_total": money(summary.duplicate_total),
    }


def render(report: Report, fmt: str) -> str:
    """Render ``report`` as ``fmt`` (one of `FORMATS`); the text ends with a newline."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return render_csv(report)
    if fmt == "table":
        return render_table(report)
    if fmt == "html":
        from .html import render_html  # only this format needs it

        return render_html(report)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def render_csv(report: Report) -> str:
    """Daily balances as CSV: date, change, balance, count (money as exact plain decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "change", "balance", "count"])
    for day in report["daily_balances"]:
        writer.writerow([day["date"], day["change"], day["balance"], day["count"]])
    return out.getvalue()


def _people(amount: str) -> str:
    """``-1874.75`` -> ``-1,874.75`` (exact: only separators are added)."""
    return f"{Decimal(amount):,f}"


def render_table(report: Report) -> str:
    """Aligned text for people: what was read, the daily balances, categories, duplicates."""
    lines = []
    days = report["daily_balances"]
    period = (
        f"{report['first_date']} to {report['last_date']} ({len(days)} days"
        + (
            ", days without activity included)"
            if report["gap_days_filled"]
            else ", active days only)"
        )
        if days
        else "no transactions"
    )
    dup_note = (
        "none"
        if not report["duplicates"]
        else f"{len(report['duplicates'])} possible duplicate group(s), "
        f"{report['duplicate_count']} extra transaction(s) "
        f"totalling {_people(report['duplicate_total'])}, "
        + (
            "excluded from the totals"
            if report["duplicates_excluded"]
            else "included in the totals"
        )
    )
    lines += [
        f"Source:        {report['source']}",
        f"Pages:         {report['page_count']}",
        f"Transactions:  {report['transaction_count']}",
        f"Period:        {period}",
        f"Duplicates:    {dup_note}",
        "",
    ]
    rows = [(d["date"], _people(d["change"]), _people(d["balance"]), str(d["count"])) for d in days]
    lines += _columns(("Date", "Change", "Balance", "Transactions"), rows)
    total = _people(report["total_balance"])
    lines += ["", f"Total balance: {total}", ""]
    cats = [(c["name"], str(c["count"]), _people(c["total"])) for c in report["categories"]]
    if cats:
        lines += ["Categories", *_columns(("Ledger", "Transactions", "Total"), cats), ""]
    if report["duplicates"]:
        dups = [
            (
                d["date"],
                d["vendor"],
                d["ledger"] or UNCATEGORIZED,
                _people(d["amount"]),
                f"x{d['count']}",
            )
            for d in report["duplicates"]
        ]
        lines += [
            "Possible duplicates",
            *_columns(("Date", "Vendor", "Ledger", "Amount", "Times"), dups),
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _columns(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned text columns: numbers (and their headers) right-aligned, text left-aligned."""
    columns = list(zip(header, *rows, strict=True))
    widths = [max(map(len, column)) for column in columns]
    right = [bool(rows) and all(_numeric(cell) for cell in column[1:]) for column in columns]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(cells, widths, right, strict=True)
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths)] + [line(row) for row in rows]


def _numeric(cell: str) -> bool:
    return cell.lstrip("-x").replace(",", "").replace(".", "").isdigit()
