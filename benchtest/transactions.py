"""Validate one page body into transactions.

Each record is checked on a fast path; only when something is wrong does the slow path
work out which field, so a bad record costs a clear message and a good one costs little.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from .errors import DataError

FIELDS = ("Date", "Ledger", "Amount", "Company")

# A plain decimal: optional minus, digits, optional fraction. No exponent, sign '+', spaces,
# underscores, NaN or Infinity, all of which Decimal() would otherwise accept.
_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Dates repeat on every page; parsing each distinct string once keeps the per-record cost low.
# Grows with the number of distinct days, which the report holds anyway.
_dates: dict[str, date] = {}


class Transaction(NamedTuple):
    date: date
    ledger: str
    amount: Decimal
    company: str


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    total_count: int | None
    transactions: list[Transaction]


def parse_page(number: int, body: bytes) -> Page:
    """Decode and validate page ``number``; raise `DataError` naming what is wrong."""
    try:
        doc = json.loads(body, parse_constant=_reject_constant)
    except ValueError as exc:
        raise DataError.at(number, _not_json(body, exc)) from None
    if not isinstance(doc, dict):
        raise DataError.at(number, f"expected a JSON object, got {_kind(doc)}")
    if "page" not in doc:
        raise DataError.at(number, "missing field", field="page")
    got = doc["page"]
    if type(got) is not int:
        raise DataError.at(number, f"expected an integer, got {_kind(got)}", field="page")
    if got != number:
        raise DataError.at(number, f"the server answered with page {got}", field="page")
    total = doc.get("totalCount")
    if total is not None and (type(total) is not int or total < 0):
        raise DataError.at(number, f"expected a count >= 0, got {total!r}", field="totalCount")
    items = doc.get("transactions")
    if not isinstance(items, list):
        what = "missing field" if items is None else f"expected a list, got {_kind(items)}"
        raise DataError.at(number, what, field="transactions")
    return Page(number, total, _parse_records(number, items))


def _parse_records(number: int, items: list[Any]) -> list[Transaction]:
    out: list[Transaction] = []
    append = out.append
    dates = _dates
    plain = _PLAIN_AMOUNT.fullmatch
    make = tuple.__new__  # NamedTuple's own __new__ is a Python call; this is the C one.
    for index, item in enumerate(items):
        try:
            raw_date = item["Date"]
            ledger = item["Ledger"]
            amount = item["Amount"]
            company = item["Company"]
            day = dates.get(raw_date)
            if day is None:
                day = _parse_date(raw_date)
            if (
                type(amount) is not str
                or plain(amount) is None
                or type(ledger) is not str
                or type(company) is not str
            ):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise _diagnose(number, index, item) from None
        append(make(Transaction, (day, ledger, Decimal(amount), company)))
    return out


def _parse_date(raw: str) -> date:
    if type(raw) is not str or _ISO_DATE.fullmatch(raw) is None:
        raise ValueError(raw)
    day = date.fromisoformat(raw)  # ValueError for 2013-02-30
    _dates[raw] = day
    return day


def _diagnose(number: int, index: int, item: object) -> DataError:
    """Explain why ``item`` failed the fast path (slow, runs only for a bad record)."""

    def error(message: str, field: str | None = None) -> DataError:
        return DataError.at(number, message, index=index, field=field)

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
    return error(f"not a plain decimal amount: {item['Amount']!r}", "Amount")


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
