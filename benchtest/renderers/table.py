"""The report as aligned text for people: what was read, daily balances, categories, duplicates.

Money has thousands separators and a plain ``-`` (terminals and copy-paste expect it). Text from
the API goes through `for_terminal`, so an escape sequence in a Company cannot rewrite the screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..model import UNCATEGORIZED, Report
from ..money import for_people
from ..text import for_terminal


def render(report: Report) -> str:
    lines = []
    days = report.daily_balances
    period = (
        f"{report.first_date} to {report.last_date} ({len(days)} days"
        + (", days without activity included)" if report.gap_days_filled else ", active days only)")
        if days
        else "no transactions"
    )
    dup_note = (
        "none"
        if not report.duplicates
        else f"{len(report.duplicates)} possible duplicate group(s), "
        f"{report.duplicate_count} extra transaction(s) "
        f"totalling {for_people(report.duplicate_total)}, "
        + ("excluded from the totals" if report.duplicates_excluded else "included in the totals")
    )
    lines += [
        f"Source:        {for_terminal(report.source)}",
        f"Pages:         {report.page_count}",
        f"Transactions:  {report.transaction_count}",
        f"Period:        {period}",
        f"Duplicates:    {dup_note}",
        "",
    ]
    rows = [
        (d.date.isoformat(), for_people(d.change), for_people(d.balance), str(d.count))
        for d in days
    ]
    lines += _columns(("Date", "Change", "Balance", "Transactions"), rows)
    lines += ["", f"Total balance: {for_people(report.total_balance)}", ""]
    cats = [(c.name, str(c.count), for_people(c.total)) for c in report.categories]
    if cats:
        lines += ["Categories", *_columns(("Ledger", "Transactions", "Total"), cats), ""]
    if report.duplicates:
        dups = [
            (
                d.date.isoformat(),
                d.vendor,
                d.ledger or UNCATEGORIZED,
                for_people(d.amount),
                f"x{d.count}",
            )
            for d in report.duplicates
        ]
        lines += [
            "Possible duplicates",
            *_columns(("Date", "Vendor", "Ledger", "Amount", "Times"), dups),
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def _columns(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Aligned text columns: numbers (and their headers) right-aligned, text left-aligned."""
    rows = [tuple(map(for_terminal, row)) for row in rows]  # before widths: escapes have length
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
