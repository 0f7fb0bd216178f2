"""Decode and validate one page body into transactions: one decoder, msgspec, in C.

msgspec decodes the page into typed structs and checks, as it goes, everything a type can say:
the page's shape, four fields per record, each a string, the date a real ISO date
(``YYYY-MM-DD``: msgspec's RFC 3339 ``date``), the Ledger and Company lengths, valid UTF-8 and
no lone surrogates. Amounts stay strings there (msgspec's own Decimal would take ``NaN``,
``1e3``, ``+5`` and ``1_000``) and are checked a page at a time here: one ASCII whitelist over
the joined column, then ``Decimal()`` for each, which refuses the remaining bad shapes (``1-2``,
``1.2.3``, ``-``, ``""``).

When a page is refused, `_explain` says where and why (page, record, field), from msgspec's
error path and the values at it (msgspec's untyped decode of the same body). Two things msgspec
cannot point at are named with the standard library's `json`, on the error path only: a key
repeated in one object (both decoders keep the last value silently) and a lone surrogate.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from .errors import DataError
from .money import MAX_AMOUNT_DIGITS
from .text import quoted, shortened

FIELDS = ("Date", "Ledger", "Amount", "Company")
# Limits on one page (docs/limits.md). Each keeps a hostile page's cost bounded; each is
# far above what a real ledger uses, and a violation is an error naming the page and record.
MAX_PAGE_RECORDS = 100_000
MAX_TEXT_CHARS = {"Ledger": 200, "Company": 1_000}
# A body above this size has its JSON values counted before decoding: `{}` costs Python ~24x
# its JSON size, so 16 MB of them would take ~400 MB. Below it the worst case is ~25 MB.
_COUNT_VALUES_ABOVE = 1 << 20
# Upper bound on values (commas plus containers) in a page: a record is 5 (its object and 4
# separators), the rest is room for commas inside strings.
_MAX_PAGE_VALUES = 8 * MAX_PAGE_RECORDS
_AMOUNT_BYTES = b"0123456789.-"
# A plain decimal, for naming a bad amount: optional minus, digits, at most one point. [0-9],
# not \d, which would also match other scripts' digits.
_PLAIN_AMOUNT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
_BOM = b"\xef\xbb\xbf"


class Record(msgspec.Struct, frozen=True, gc=False):
    """One transaction as served. Frozen: hashable and compared field by field, which is what
    "possible duplicate" means (rows identical as served)."""

    date: date = msgspec.field(name="Date")
    category: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["Ledger"])] = msgspec.field(
        name="Ledger"
    )
    amount: str = msgspec.field(name="Amount")  # as served; `Page.amounts` holds its value
    company: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["Company"])] = msgspec.field(
        name="Company"
    )


class _Body(msgspec.Struct, gc=False):
    page: int
    transactions: list[Record]
    totalCount: int | msgspec.UnsetType | None = msgspec.UNSET


_decoder = msgspec.json.Decoder(_Body)
_amount, _category, _company = attrgetter("amount"), attrgetter("category"), attrgetter("company")


@dataclass(frozen=True, slots=True)
class Page:
    """A validated page: its records as served, and their exact amounts."""

    number: int
    total_count: int | None
    records: list[Record]
    amounts: list[Decimal]

    def __len__(self) -> int:
        return len(self.records)


def decode_page(number: int, body: bytes) -> Page:
    """Decode and validate page ``number``; raise `DataError` naming what is wrong."""
    if body.startswith(_BOM):  # RFC 8259 lets a parser ignore it
        body = body[len(_BOM) :]
    values = _too_many_values(body)
    if values is not None:
        raise DataError(
            f"too many JSON values ({values:,} separators; a page may hold at most "
            f"{MAX_PAGE_RECORDS:,} transactions)",
            page=number,
        )
    try:
        doc = _decoder.decode(body)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: bad UTF-8
        raise _explain(number, body, exc) from exc
    records = doc.transactions
    if doc.page != number:
        raise DataError(f"the server answered with page {doc.page}", page=number, field="page")
    total = None if doc.totalCount is msgspec.UNSET else doc.totalCount
    if total is not None and total < 0:
        raise DataError(f"expected a count >= 0, got {total}", page=number, field="totalCount")
    if len(records) > MAX_PAGE_RECORDS:
        raise _too_many_records(number, len(records))
    amounts = _amounts(number, records)
    page_keys = 2 if doc.totalCount is msgspec.UNSET else 3
    if not _keys_unique(body, page_keys, records):
        _reject_repeated_keys(number, body)
    return Page(number, total, records, amounts)


def _amounts(number: int, records: list[Record]) -> list[Decimal]:
    """The exact amounts; a `DataError` naming the first record whose amount is not plain."""
    texts = list(map(_amount, records))
    joined = "".join(texts)
    try:
        plain = joined.isascii() and not joined.encode().translate(None, _AMOUNT_BYTES)
        if plain and max(map(len, texts), default=0) > MAX_AMOUNT_DIGITS:
            plain = all(_digits(text) <= MAX_AMOUNT_DIGITS for text in texts)
        if plain:
            return list(map(Decimal, texts))
    except InvalidOperation:
        pass
    for index, text in enumerate(texts):
        if _PLAIN_AMOUNT.fullmatch(text) is None:
            message = f"not a plain decimal amount: {quoted(text)}"
        elif _digits(text) > MAX_AMOUNT_DIGITS:
            message = f"{_digits(text)} digits, more than the limit of {MAX_AMOUNT_DIGITS}"
        else:
            continue
        raise DataError(message, page=number, index=index, field="Amount")
    raise AssertionError("unreachable: the column check and the record check disagree")


def _digits(amount: str) -> int:
    return len(amount) - amount.count("-") - amount.count(".")


def _too_many_values(body: bytes) -> int | None:
    """The count of JSON values in a large ``body``, when it is above the page's limit."""
    if len(body) > _COUNT_VALUES_ABOVE:
        values = body.count(b",") + body.count(b"{") + body.count(b"[")
        if values > _MAX_PAGE_VALUES:
            return values
    return None


def _too_many_records(number: int, count: int) -> DataError:
    return DataError(
        f"{count:,} transactions, more than the limit of {MAX_PAGE_RECORDS:,} a page",
        page=number,
        field="transactions",
    )


def _keys_unique(body: bytes, page_keys: int, records: list[Record]) -> bool:
    """True when no key of the page or of a record can have been repeated.

    Every ':' in the body separates a key from its value, or sits in a string. Records hold the
    4 fields, so when the colons are exactly those of the page's keys, 4 per record and those
    inside Ledger and Company (dates and amounts have none), no key can have been repeated.
    Otherwise (extra keys, a colon escaped as \\u003a, or a repeat) `_reject_repeated_keys`
    decodes again to find out.
    """
    colons = body.count(b":") - page_keys - len(FIELDS) * len(records)
    if colons == 0:
        return True
    texts = "".join(map(_category, records)) + "".join(map(_company, records))
    return colons == texts.count(":")


def _reject_repeated_keys(number: int, body: bytes) -> None:
    """Raise naming the first object (page or record) that repeats a key, if any does."""
    doc = json.loads(body, object_pairs_hook=_keep_repeats)
    if isinstance(doc, _Repeated):
        raise DataError(f"key {quoted(doc.key)} appears twice", page=number)
    for index, item in enumerate(doc["transactions"]):
        if isinstance(item, _Repeated):
            raise DataError(
                "appears twice in the record", page=number, index=index, field=shortened(item.key)
            )


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


# --------------------------------------------------------------------------- refused pages

_PATH = re.compile(r" - at `\$(.*)`$")
_INDEX = re.compile(r"\.transactions\[(\d+)\](?:\.(\w+))?")
_KINDS = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "list",
    dict: "object",
}


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _explain(number: int, body: bytes, exc: Exception) -> DataError:
    """The error for a page msgspec refused: what is wrong, naming the page, record and field."""

    def error(message: str, **where: Any) -> DataError:
        return DataError(message, page=number, **where)

    if isinstance(exc, msgspec.ValidationError):
        try:
            doc = msgspec.json.decode(body)  # valid JSON, since only a type was wrong
        except RecursionError:
            return _too_deep(number)
        return _invalid(number, doc, str(exc))
    if isinstance(exc, RecursionError):
        return _too_deep(number)
    start = body[:40].lstrip()
    if not start:
        return error("empty response body, expected JSON")
    if start[:1] == b"<":
        return error(
            f"response is not JSON (it starts with {start[:20].decode('utf-8', 'replace')!r})"
        )
    if b"\x00" in start[:4] or start.startswith((b"\xff\xfe", b"\xfe\xff")):
        return error("invalid JSON: not UTF-8 text (UTF-16 or UTF-32?)")
    at = re.search(r"\(byte (\d+)\)", str(exc))
    if at is not None:
        constant = re.match(rb"-?(NaN|Infinity)", body[int(at.group(1)) :])
        if constant is not None:
            return error(f"invalid JSON: {constant.group(1).decode()} is not allowed")
    surrogate = _lone_surrogate(number, body)
    if surrogate is not None:
        return surrogate
    if isinstance(exc, UnicodeDecodeError):
        return error(f"invalid JSON: not UTF-8 (byte {exc.start})")
    return error(f"invalid or truncated JSON: {exc}")


def _too_deep(number: int) -> DataError:
    # msgspec stops at the interpreter's recursion limit (1,000 frames by default), of which
    # the caller uses far fewer than half.
    depth = sys.getrecursionlimit() // 2
    return DataError(f"JSON nested deeper than {depth} levels", page=number)


def _invalid(number: int, doc: Any, message: str) -> DataError:
    """The error for a page of valid JSON that msgspec refused with ``message`` (its path)."""

    def error(text: str, **where: Any) -> DataError:
        return DataError(text, page=number, **where)

    if not isinstance(doc, dict):
        return error(f"expected a JSON object, got {_kind(doc)}")
    if "page" not in doc:
        return error("missing field", field="page")
    if type(doc["page"]) is not int:
        return error(f"expected an integer, got {_kind(doc['page'])}", field="page")
    if doc["page"] != number:
        return error(f"the server answered with page {doc['page']}", field="page")
    total = doc.get("totalCount")
    if total is not None and (type(total) is not int or total < 0):
        return error(f"expected a count >= 0, got {total!r}", field="totalCount")
    items = doc.get("transactions")
    if not isinstance(items, list):
        what = "missing field" if items is None else f"expected a list, got {_kind(items)}"
        return error(what, field="transactions")
    if len(items) > MAX_PAGE_RECORDS:
        return _too_many_records(number, len(items))
    path = _PATH.search(message)
    located = _INDEX.fullmatch(path.group(1)) if path else None
    if located is None:
        return error(message)  # not reached: every page-level case is handled above
    index, field = int(located.group(1)), located.group(2)
    item = items[index]
    if not isinstance(item, dict):
        return error(f"expected an object, got {_kind(item)}", index=index)
    if field is None:  # "Object missing required field `X`"
        missing = next(f for f in FIELDS if f not in item)
        return error("missing field", index=index, field=missing)
    value = item[field]
    if not isinstance(value, str):
        return error(f"expected a string, got {_kind(value)}", index=index, field=field)
    if field == "Date":
        return error(f"not an ISO date (YYYY-MM-DD): {quoted(value)}", index=index, field=field)
    limit = MAX_TEXT_CHARS[field]
    return error(
        f"{len(value):,} characters, more than the limit of {limit:,}", index=index, field=field
    )


def _lone_surrogate(number: int, body: bytes) -> DataError | None:
    """The first field holding a lone surrogate (``\\ud800``, or its bytes), named by record
    and character; None when the page has none (or is not JSON at all)."""
    try:
        doc = json.loads(body.decode("utf-8", "surrogatepass"))
        items = doc["transactions"]
    except (ValueError, RecursionError, TypeError, KeyError):
        return None
    for index, item in enumerate(items if isinstance(items, list) else ()):
        for field in FIELDS:
            value = item.get(field) if isinstance(item, dict) else None
            if not isinstance(value, str):
                continue
            try:
                value.encode()
            except UnicodeEncodeError as exc:
                return DataError(
                    f"not valid Unicode: a lone surrogate at character {exc.start}",
                    page=number,
                    index=index,
                    field=field,
                )
    return None
