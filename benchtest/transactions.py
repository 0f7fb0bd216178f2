"""Validate one page body into transactions.

Each record is checked on a fast path; only when something is wrong does the slow path
work out which field, so a bad record costs a clear message and a good one costs little.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from .errors import DataError

FIELDS = ("Date", "Ledger", "Amount", "Company")

# A plain decimal: optional minus, digits, at most one point. No exponent, sign '+', spaces,
# underscores, NaN or Infinity, all of which Decimal() would otherwise accept; [0-9], not \\d,
# which would also match other scripts' digits.
_PLAIN_AMOUNT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_AMOUNT_BYTES = b"0123456789.-"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Date strings already checked; they repeat on every page. Grows with the number of days.
_valid_dates: set[str] = set()

Row = tuple[str, str, str, str]  # Date, Ledger, Amount, Company: exactly as served


class Transaction(NamedTuple):
    date: date
    ledger: str
    amount: Decimal
    company: str

    @classmethod
    def from_row(cls, row: Row) -> Transaction:
        return cls(date.fromisoformat(row[0]), row[1], Decimal(row[2]), row[3])


@dataclass(frozen=True, slots=True)
class Page:
    """A validated page, held as columns: the fields as served, and the exact amounts."""

    number: int
    total_count: int | None
    dates: list[str]
    ledgers: list[str]
    amount_texts: list[str]
    companies: list[str]
    amounts: list[Decimal]

    def __len__(self) -> int:
        return len(self.amounts)

    def rows(self) -> Iterator[Row]:
        return zip(self.dates, self.ledgers, self.amount_texts, self.companies, strict=True)


def parse_page(number: int, body: bytes) -> Page:
    """Decode and validate page ``number``; raise `DataError` naming what is wrong."""
    try:
        doc = json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        raise DataError(_not_json(body, exc), page=number) from exc
    if not isinstance(doc, dict):
        raise DataError(f"expected a JSON object, got {_kind(doc)}", page=number)
    if "page" not in doc:
        raise DataError("missing field", page=number, field="page")
    got = doc["page"]
    if type(got) is not int:
        raise DataError(f"expected an integer, got {_kind(got)}", page=number, field="page")
    if got != number:
        raise DataError(f"the server answered with page {got}", page=number, field="page")
    total = doc.get("totalCount")
    if total is not None and (type(total) is not int or total < 0):
        raise DataError(f"expected a count >= 0, got {total!r}", page=number, field="totalCount")
    items = doc.get("transactions")
    if not isinstance(items, list):
        what = "missing field" if items is None else f"expected a list, got {_kind(items)}"
        raise DataError(what, page=number, field="transactions")
    try:
        return Page(number, total, *_parse_records(items))
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise _first_bad(number, items) from exc


def _parse_records(
    items: list[Any],
) -> tuple[list[str], list[str], list[str], list[str], list[Decimal]]:
    """Check a page's records a column at a time, in C-level builtins; raise on anything wrong.

    Per-record Python code would cost several times the JSON decoding; `_first_bad` finds out
    which record and field failed, only when one did. Amounts: the joined column may hold only
    ASCII digits, points, minus signs and the n-1 separators, and Decimal() must accept each
    one, which rejects the remaining malformed shapes (``1-2``, ``1.2.3``, ``-``, ``""``).
    """
    dates = [item["Date"] for item in items]
    ledgers = [item["Ledger"] for item in items]
    texts = [item["Amount"] for item in items]
    companies = [item["Company"] for item in items]
    for raw in set(dates) - _valid_dates:
        _parse_date(raw)
    "".join(ledgers)  # TypeError unless every one is a string
    "".join(companies)
    joined = "\n".join(texts).encode("ascii")
    if joined.translate(None, _AMOUNT_BYTES + b"\n") or joined.count(b"\n") != max(
        len(texts) - 1, 0
    ):
        raise ValueError("amounts")
    return dates, ledgers, texts, companies, list(map(Decimal, texts))


def _parse_date(raw: str) -> date:
    if type(raw) is not str or _ISO_DATE.fullmatch(raw) is None:
        raise ValueError(raw)
    day = date.fromisoformat(raw)  # ValueError for 2013-02-30
    _valid_dates.add(raw)
    return day


def _first_bad(number: int, items: list[Any]) -> DataError:
    """The error for the first bad record of a page that failed `_parse_records`."""
    for index, item in enumerate(items):
        error = _diagnose(number, index, item)
        if error is not None:
            return error
    return DataError("invalid transactions", page=number)  # unreachable unless the checks disagree


def _diagnose(number: int, index: int, item: object) -> DataError | None:
    """Explain what is wrong with ``item``, or None if nothing is (slow, one record)."""

    def error(message: str, field: str | None = None) -> DataError:
        return DataError(message, page=number, index=index, field=field)

    if not isinstance(item, dict):
        return error(f"expected an object, got {_kind(item)}")
    for field in FIELDS:
        if field not in item:
            return error("missing field", field)
        value = item[field]
        if not isinstance(value, str):
            return error(f"expected a string, got {_kind(value)}", field)
    raw_date = item["Date"]
    try:
        _parse_date(raw_date)
    except ValueError:
        return error(f"not an ISO date (YYYY-MM-DD): {raw_date!r}", "Date")
    if _PLAIN_AMOUNT.fullmatch(item["Amount"]) is None:
        return error(f"not a plain decimal amount: {item['Amount']!r}", "Amount")
    return None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _not_json(body: bytes, exc: ValueError) -> str:
    start = body[:40].lstrip()
    if not start:
        return "empty response body, expected JSON"
    if start[:1] == b"<":
        return f"response is not JSON (it starts with {start[:20].decode('utf-8', 'replace')!r})"
    if not isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc}"  # a bare NaN or Infinity
    return f"invalid or truncated JSON: {exc}"


def _kind(value: object) -> str:
    return {
        type(None): "null",
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)
