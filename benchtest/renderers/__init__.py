"""Renderers, one module per format, chosen by name and imported on first use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module

from ..model import UNCATEGORIZED, Report, Transaction, TransactionChange

FORMATS = ("table", "json", "csv", "html")
# Transaction changes listed for people (table, HTML); the JSON report lists them all.
SHOWN_CHANGES = 100


def _pieces(report: Report, fmt: str) -> Iterable[str]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    made: Callable[[Report], Iterable[str]] = import_module(f"{__name__}.{fmt}").pieces
    return made(report)


def render(report: Report, fmt: str) -> str:
    """Render ``report`` as ``fmt`` (one of `FORMATS`)."""
    return "".join(_pieces(report, fmt))


@dataclass(frozen=True)
class Rendered:
    """``report`` as ``fmt`` in UTF-8, made as it is read, in the renderer's pieces: a sink
    writes a large report without ever holding it whole (each iteration renders it again)."""

    report: Report
    fmt: str

    def __iter__(self) -> Iterator[bytes]:
        return (piece.encode() for piece in _pieces(self.report, self.fmt))


def left_out(report: Report) -> str | None:
    """What the description left out, for people; None when it leaves nothing out."""
    if (counts := report.left_out) is None:
        return None
    return f"{counts.filtered:,} by the filter, {counts.other_currency:,} in other currencies"


def change_fields(
    change: TransactionChange, money: Callable[[Decimal], str]
) -> list[tuple[str | None, str]]:
    """A transaction change's date, category, company and amount as text for people, each
    ``(previous, current)`` where that field changed, else ``(None, value)``."""
    old, new = change.previous, change.current
    shown = new or old
    assert shown is not None  # a change has at least one side

    def text(t: Transaction, name: str) -> str:
        value = getattr(t, name)
        if name == "amount":
            return money(value)
        if name == "category":
            return value or UNCATEGORIZED
        return value.isoformat() if name == "date" else str(value)

    fields = []
    for name in ("date", "category", "company", "amount"):
        edited = old is not None and new is not None and getattr(old, name) != getattr(new, name)
        fields.append((text(old, name) if edited and old else None, text(shown, name)))
    return fields
