"""Validate one page body into transactions.

Each record is checked on a fast path; only when something is wrong does the slow path
work out which field, so a bad record costs a clear message and a good one costs little.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from .errors import DataError
from .money import MAX_AMOUNT_DIGITS
from .text import quoted, shortened

log = logging.getLogger(__name__)

FIELDS = ("Date", "Ledger", "Amount", "Company")

# Limits on one page (README "Limits (data)"). Each keeps a hostile page's cost bounded; each is
# far above what a real ledger uses, and a violation is an error naming the page and record.
MAX_PAGE_RECORDS = 100_000
MAX_TEXT_CHARS = {"Ledger": 200, "Company": 1_000}
# Digits in an amount, before and after the point together: no amount reaches 10^60 or has more
# than 60 decimal places, which bounds the precision exact sums need (see `ledger.EXACT`).
# A body above this size has its JSON values counted before decoding: `{}` costs Python ~24x
# its JSON size, so 16 MB of them would take ~400 MB. Below it the worst case is ~25 MB.
_COUNT_VALUES_ABOVE = 1 << 20
# Upper bound on values (commas plus containers) in a page: a record is 5 (its object and 4
# separators), the rest is room for commas inside strings.
_MAX_PAGE_VALUES = 8 * MAX_PAGE_RECORDS

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
    category: str  # the API's Ledger field ("" when uncategorized)
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
    categories: list[str]  # the Ledger column
    amount_texts: list[str]
    companies: list[str]
    amounts: list[Decimal]

    def __len__(self) -> int:
        return len(self.amounts)

    def rows(self) -> Iterator[Row]:
        return zip(self.dates, self.categories, self.amount_texts, self.companies, strict=True)


def parse_page(number: int, body: bytes, *, fast: bool = True) -> Page:
    """Decode and validate page ``number``; raise `DataError` naming what is wrong.

    A page is first tried on `decode.decode_page` (msgspec, in C), which accepts only pages
    this function would accept, with the same result; anything else, including every page
    with an error, is decoded here, which names what is wrong. ``fast=False`` skips the try.
    """
    decode_page = _fast_path() if fast else None
    if decode_page is not None:
        page = decode_page(number, body)
        if page is not None:
            return page
    values = too_many_values(body)
    if values is not None:
        raise DataError(
            f"too many JSON values ({values:,} separators; a page may hold at most "
            f"{MAX_PAGE_RECORDS:,} transactions)",
            page=number,
        )
    doc = _decode(number, body)
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
    if len(items) > MAX_PAGE_RECORDS:
        raise DataError(
            f"{len(items):,} transactions, more than the limit of {MAX_PAGE_RECORDS:,} a page",
            page=number,
            field="transactions",
        )
    try:
        columns, text_colons = _parse_records(items)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise _first_bad(number, items) from exc
    if not keys_unique(body, len(doc), len(items), text_colons):
        _reject_duplicate_keys(number, body)
    return Page(number, total, *columns)


@cache
def _fast_path() -> Callable[[int, bytes], Page | None] | None:
    """`decode.decode_page`, or None where msgspec cannot be imported (not installed, or a
    wheel for another platform, as when a Lambda zip for arm64 is unpacked on x86_64): then
    the json path serves every page, with the same results, only slower."""
    try:
        from .decode import decode_page  # here: decode imports this module
    except ImportError:
        log.debug("msgspec cannot be imported: pages are decoded with json", exc_info=True)
        return None
    return decode_page


def too_many_values(body: bytes) -> int | None:
    """The count of JSON values in a large ``body``, when it is above the page's limit."""
    if len(body) > _COUNT_VALUES_ABOVE:
        values = body.count(b",") + body.count(b"{") + body.count(b"[")
        if values > _MAX_PAGE_VALUES:
            return values
    return None


def keys_unique(body: bytes, page_keys: int, records: int, text_colons: int) -> bool:
    """True when no key of the page or of a record can have been repeated.

    Every ':' in the body separates a key from its value, or sits in a string. Records hold at
    least the 4 fields, so when the colons are exactly those of the page's keys, 4 per record
    and those inside Ledger and Company, no key can have been repeated (json keeps the last
    value silently). Otherwise (extra keys, a colon escaped as \\u003a, or a duplicate) the
    caller decodes again, slowly, to find out.
    """
    return body.count(b":") == page_keys + len(FIELDS) * records + text_colons


def _decode(number: int, body: bytes, hook: Any = None) -> Any:
    try:
        return json.loads(body, parse_constant=_reject_constant, object_pairs_hook=hook)
    except RecursionError as exc:
        # The C decoder stops at the interpreter's recursion limit (1,000 frames by default, of
        # which the caller uses far fewer than half), so this is deeper than half of it. Catching
        # it costs nothing on a valid page; a bracket scan that skips strings costs 2.5x the
        # decoding.
        depth = sys.getrecursionlimit() // 2
        raise DataError(f"JSON nested deeper than {depth} levels", page=number) from exc
    except ValueError as exc:
        raise DataError(_not_json(body, exc), page=number) from exc


class _Repeated(dict[str, Any]):
    """A JSON object in which ``key`` appeared more than once."""

    key = ""


def _keep_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    repeated = _Repeated(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            repeated.key = key
            break
        seen.add(key)
    return repeated


def _reject_duplicate_keys(number: int, body: bytes) -> None:
    """Raise naming the first object (page or record) that repeats a key, if any does."""
    doc = _decode(number, body, _keep_repeats)
    if isinstance(doc, _Repeated):
        raise DataError(f"key {quoted(doc.key)} appears twice", page=number)
    for index, item in enumerate(doc["transactions"]):
        if isinstance(item, _Repeated):
            raise DataError(
                "appears twice in the record", page=number, index=index, field=shortened(item.key)
            )


Columns = tuple[list[str], list[str], list[str], list[str], list[Decimal]]


def _parse_records(items: list[Any]) -> tuple[Columns, int]:
    """Check a page's records a column at a time, in C-level builtins; raise on anything wrong.

    Per-record Python code would cost several times the JSON decoding; `_first_bad` finds out
    which record and field failed, only when one did. Amounts: the joined column may hold only
    ASCII digits, points, minus signs and the n-1 separators, and Decimal() must accept each
    one, which rejects the remaining malformed shapes (``1-2``, ``1.2.3``, ``-``, ``""``).
    Returns the columns and the number of colons inside Ledger and Company (see `parse_page`).
    """
    dates = [item["Date"] for item in items]
    categories = [item["Ledger"] for item in items]
    texts = [item["Amount"] for item in items]
    companies = [item["Company"] for item in items]
    return check_columns(dates, categories, texts, companies)


def check_columns(
    dates: list[str], categories: list[str], texts: list[str], companies: list[str]
) -> tuple[Columns, int]:
    """`_parse_records`' checks on columns already taken out of the records (``decode.py``
    calls it too, so both paths accept exactly the same values)."""
    for raw in set(dates) - _valid_dates:
        _parse_date(raw)
    colons = 0
    for field, column in (("Ledger", categories), ("Company", companies)):
        text = "".join(column)  # TypeError unless every one is a string
        text.encode()  # UnicodeEncodeError (a ValueError) for a lone surrogate
        if max(map(len, column), default=0) > MAX_TEXT_CHARS[field]:
            raise ValueError(field)
        colons += text.count(":")
    joined = "\n".join(texts).encode("ascii")
    if joined.translate(None, _AMOUNT_BYTES + b"\n") or joined.count(b"\n") != max(
        len(texts) - 1, 0
    ):
        raise ValueError("amounts")
    if max(map(len, texts), default=0) > MAX_AMOUNT_DIGITS and any(
        _digits(text) > MAX_AMOUNT_DIGITS for text in texts
    ):
        raise ValueError("amount digits")
    return (dates, categories, texts, companies, list(map(Decimal, texts))), colons


def _digits(amount: str) -> int:
    return len(amount) - amount.count("-") - amount.count(".")


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
        return error(f"not an ISO date (YYYY-MM-DD): {quoted(raw_date)}", "Date")
    for field, limit in MAX_TEXT_CHARS.items():
        value = item[field]
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            return error(f"not valid Unicode: a lone surrogate at character {exc.start}", field)
        if len(value) > limit:
            return error(f"{len(value):,} characters, more than the limit of {limit:,}", field)
    amount = item["Amount"]
    if _PLAIN_AMOUNT.fullmatch(amount) is None:
        return error(f"not a plain decimal amount: {quoted(amount)}", "Amount")
    if _digits(amount) > MAX_AMOUNT_DIGITS:
        return error(
            f"{_digits(amount)} digits, more than the limit of {MAX_AMOUNT_DIGITS}", "Amount"
        )
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
