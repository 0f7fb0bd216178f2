"""The report as aligned text for people: what was read, daily balances, categories, duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from ..model import COMPARED, UNCATEGORIZED, Changes, Report, utc
from ..money import for_people
from ..text import for_terminal
from . import SHOWN_CHANGES, change_fields, left_out


def pieces(report: Report) -> Iterator[str]:
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
    lines = [
        f"Source:        {for_terminal(report.source)}",
        f"Pages:         {report.page_count}",
        *[f"Pages digest:  {for_terminal(digest)}" for digest in [report.pages_digest] if digest],
        f"Transactions:  {report.transaction_count}",
        *([f"Currency:      {report.currency}"] if report.currency else []),
        *([f"Left out:      {left_out(report)}"] if report.left_out else []),
        f"Period:        {period}",
        f"Duplicates:    {dup_note}",
        "",
    ]
    rows = (
        (d.date.isoformat(), for_people(d.change), for_people(d.balance), str(d.count))
        for d in days
    )
    lines += _columns(("Date", "Change", "Balance", "Transactions"), rows)
    lines += ["", f"Total balance: {for_people(report.total_balance)}", ""]
    cats = [(c.name, str(c.count), for_people(c.total)) for c in report.categories]
    if cats:
        lines += ["Categories", *_columns(("Category", "Transactions", "Total"), cats), ""]
    if report.duplicates:
        dups = (
            (
                d.date.isoformat(),
                d.vendor,
                d.category or UNCATEGORIZED,
                for_people(d.amount),
                f"x{d.count}",
            )
            for d in report.duplicates
        )
        lines += [
            "Possible duplicates",
            *_columns(("Date", "Vendor", "Category", "Amount", "Times"), dups),
            "",
        ]
    lines += _assertions(report)
    if report.changes is not None:
        lines += _changes(report.changes)
    lines.append(f"Generated {utc(report.generated_at)} by {for_terminal(report.generated_by)}")
    yield "\n".join(lines) + "\n"


def _assertions(report: Report) -> list[str]:
    if not report.assertions:
        return []
    rows = [
        (
            a.date.isoformat(),
            for_people(a.expected),
            for_people(a.actual),
            for_people(a.difference),
            "ok" if a.ok else "FAILED",
        )
        for a in report.assertions
    ]
    failed = len(report.failed_assertions)
    title = f"Balance assertions: {len(rows) - failed} ok, {failed} failed"
    header = ("Date", "Expected", "Actual", "Difference", "Result")
    return [title, *_columns(header, rows), ""]


def _changes(changes: Changes) -> list[str]:
    lines = ["Changes since the previous run", for_terminal(changes.note)]
    if changes.status != COMPARED:
        return [*lines, ""]
    assert changes.previous_total_balance is not None  # set whenever compared
    assert changes.total_balance_difference is not None
    lines += [
        f"Transactions:  {changes.previous_transaction_count} before, "
        f"{changes.transaction_count_difference or 0:+d}",
        f"Total balance: {for_people(changes.previous_total_balance)} before, "
        f"{_signed(changes.total_balance_difference)}",
    ]
    if changes.transaction_changes:
        rows = [
            (c.change, *(f"{was} -> {now}" if was else now for was, now in fields))
            for c in changes.transaction_changes[:SHOWN_CHANGES]
            for fields in [change_fields(c, for_people)]
        ]
        columns = ("Transaction", "Date", "Category", "Company", "Amount")
        lines += ["", "Transactions added, removed or changed", *_columns(columns, rows)]
        if len(changes.transaction_changes) > SHOWN_CHANGES:
            more = len(changes.transaction_changes) - SHOWN_CHANGES
            lines.append(f"... and {more} more (the JSON report lists them all)")
    if changes.restated_days:
        rows = [
            (
                d.date.isoformat(),
                for_people(d.previous_change),
                for_people(d.change),
                _signed(d.change_difference),
            )
            for d in changes.restated_days
        ]
        header = ("Restated day", "Change before", "Change", "Difference")
        lines += ["", "Restated days: their own activity changed", *_columns(header, rows)]
        for first, last, amount in changes.shifts():
            span = "on" if last is None else f"to {last.isoformat()}"
            lines.append(f"Balances from {first.isoformat()} {span} shifted by {_signed(amount)}")
    if changes.new_days:
        first_new, last_new = changes.new_days[0].date, changes.new_days[-1].date
        span = first_new.isoformat() if first_new == last_new else f"{first_new} to {last_new}"
        lines += ["", f"New days:      {len(changes.new_days)} ({span})"]
    return [*lines, ""]


def _signed(amount: Decimal) -> str:
    text = for_people(amount)
    return text if text.startswith("-") else "+" + text


def _columns(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    """Aligned text columns: numbers (and their headers) right-aligned, text left-aligned."""
    shown = [tuple(map(for_terminal, row)) for row in rows]  # before widths: escapes count
    columns = list(zip(header, *shown, strict=True))
    widths = [max(map(len, column)) for column in columns]
    right = [bool(shown) and all(_numeric(cell) for cell in column[1:]) for column in columns]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(cells, widths, right, strict=True)
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths)] + [line(row) for row in shown]


def _numeric(cell: str) -> bool:
    return cell.lstrip("+-x").replace(",", "").replace(".", "").isdigit()
