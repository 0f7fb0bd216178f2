"""Decode and validate one page body into transactions: one decoder per source description,
msgspec, in C.

A source description (`Shape`, from the settings; docs/sources.md) says where a page holds its
records, total count, page number and next cursor (dotted paths such as ``data.items``), what
the record fields are called and in which form dates and amounts come. `Decoder` builds msgspec
struct types for it once (`msgspec.defstruct`, each field under its JSON name), so a page of any
shape is decoded in C in one pass: the Bench shape (the defaults) straight into `Record`, one
that only renames fields into a `Record` subclass. Timestamps, numeric amounts and fields the
API does not have take one more pass in Python to make the `Record`s.

msgspec checks, as it decodes, everything a type can say: the page's shape, the named fields of
each record, each a string, the date a real ISO date (``YYYY-MM-DD``: msgspec's RFC 3339
``date``) or a timestamp of RFC 3339's form, the category and counterparty lengths, valid UTF-8
and no lone surrogates. Amounts stay text there (msgspec's own Decimal would take ``NaN``,
``1e3``, ``+5`` and ``1_000`` from a string): a string's text, or a number's text as served
(`msgspec.Raw`, never a float). They are checked a page at a time here: one ASCII whitelist over
the joined column, then ``Decimal()`` for each, which refuses the remaining bad shapes (``1-2``,
``1.2.3``, ``-``, ``""``); the whitelist has no exponent, so ``1e3`` is refused either way.

When a page is refused, `_explain` says where and why (page, record, field), from msgspec's
error path and the values at it (msgspec's untyped decode of the same body); a missing path or
field lists the keys that are there. Two things msgspec cannot point at are named with the
standard library's `json`, on the error path only: a key repeated in one object (both decoders
keep the last value silently) and a lone surrogate.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from itertools import islice
from operator import attrgetter
from types import GenericAlias
from typing import Annotated, Any

import msgspec

from .errors import DataError
from .money import MAX_AMOUNT_DIGITS
from .settings import NONE, SourceSettings, zone
from .text import quoted, shortened

ROLES = ("date", "category", "amount", "company")  # `Record`'s fields, in its order
BENCH = ("Date", "Ledger", "Amount", "Company")  # their names in the Bench shape
# Limits on one page (docs/limits.md). Each keeps a hostile page's cost bounded; each is
# far above what a real ledger uses, and a violation is an error naming the page and record.
MAX_PAGE_RECORDS = 100_000
MAX_TEXT_CHARS = {"category": 200, "company": 1_000}
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
# A JSON value's kind by its first character, for an amount served as something else.
_JSON_KINDS = {
    '"': "string",
    "n": "null",
    "t": "boolean",
    "f": "boolean",
    "[": "list",
    "{": "object",
}
_BOM = b"\xef\xbb\xbf"
# RFC 3339's date-time (T and Z in either case): seconds and an offset required, any fraction.
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_Category = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["category"])]
_Company = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["company"])]


class Record(msgspec.Struct, frozen=True, gc=False):
    """One transaction as served. Frozen: hashable and compared field by field, which is what
    "possible duplicate" means (rows identical as served)."""

    date: date = msgspec.field(name="Date")
    category: _Category = msgspec.field(name="Ledger")
    amount: str = msgspec.field(name="Amount")  # as served; `Page.amounts` holds its value
    company: _Company = msgspec.field(name="Company")


_amount, _category, _company = attrgetter("amount"), attrgetter("category"), attrgetter("company")


@dataclass(frozen=True, slots=True)
class Page:
    """A validated page: its records as served, their exact amounts, and the next page's cursor
    or URL when the page names one."""

    number: int
    total_count: int | None
    records: list[Record]
    amounts: list[Decimal]
    next: str | None = None

    def __len__(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class Shape:
    """A page as the API serves it: the source description, with the Bench shape's defaults."""

    records: str = "transactions"  # a dotted path, or "$": the body is the list of records
    total: str | None = "totalCount"
    page: str | None = "page"  # where the page echoes its number
    next: str | None = None  # where the page holds the next page's cursor or URL
    names: tuple[str | None, ...] = BENCH  # the JSON names of `ROLES`; None: the API has none
    zone: tzinfo | None = None  # dates are timestamps, counted on their date here
    numbers: bool = False  # amounts are JSON numbers

    @classmethod
    def of(cls, settings: SourceSettings, reads: Collection[str] = ("page_path",)) -> Shape:
        """The shape the settings describe; ``reads``: the paging style's own path settings."""

        def given(value: str) -> str | None:
            return None if value == NONE or settings.records_path == "$" else value

        fields = (
            settings.date_field,
            settings.category_field,
            settings.amount_field,
            settings.counterparty_field,
        )
        return cls(
            records=settings.records_path,
            total=given(settings.total_path),
            page=given(settings.page_path) if "page_path" in reads else None,
            next=given(settings.next_path) if "next_path" in reads else None,
            names=tuple(None if name == NONE else name for name in fields),
            zone=zone(settings.time_zone) if settings.date_form == "timestamp" else None,
            numbers=settings.amount_form == "number",
        )


class Decoder:
    """Decode and validate pages of one shape: ``decoder(number, body)`` is the `Page`."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.roles = {name: role for role, name in zip(ROLES, shape.names, strict=True) if name}
        self.amount = str(shape.names[2])  # required: the settings refuse none
        self.record: Any = _record_type(shape)
        many = GenericAlias(list, (self.record,))  # list[self.record]
        leaves: dict[str, tuple[Any, bool]] = {shape.records: (many, True)}
        if shape.page:
            leaves[shape.page] = (int, True)
        if shape.total:
            leaves[shape.total] = (int | None, False)
        if shape.next:
            leaves[shape.next] = (str | int | None, False)
        self.paths = list(leaves)
        if shape.records == "$":
            self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(many)
            self._read: dict[str, Callable[[Any], Any]] = {"$": lambda doc: doc}
            self._keys, self._maybe = 0, []
        else:
            body, chains = _struct(leaves)
            self._decoder = msgspec.json.Decoder(body)
            self._read = {path: _reader(chain, needed) for path, (chain, needed) in chains.items()}
            # The page's own keys (not its records'): those always there, and those that may be.
            self._keys = sum(needed for _, needed in chains.values())
            self._maybe = [_reader(chain, False) for chain, needed in chains.values() if not needed]
        prefix = "" if shape.records == "$" else "." + re.escape(shape.records)
        self._located = re.compile(prefix + r"\[(\d+)\](?:\.(.+))?")

    def __call__(self, number: int, body: bytes) -> Page:
        """Decode and validate page ``number``; raise `DataError` naming what is wrong."""
        try:
            return self._decode(number, body)
        except DataError as exc:
            exc.records = self.shape.records  # a record's errors name it under its path
            raise

    def _decode(self, number: int, body: bytes) -> Page:
        shape, read = self.shape, self._read
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
            doc = self._decoder.decode(body)
        except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: bad UTF-8
            raise self._explain(number, body, exc) from exc
        records = read[shape.records](doc)
        if shape.page and (echo := read[shape.page](doc)) != number:
            raise DataError(f"the server answered with page {echo}", page=number, field=shape.page)
        total = read[shape.total](doc) if shape.total else None
        total = None if total is msgspec.UNSET else total
        if total is not None and total < 0:
            raise DataError(f"expected a count >= 0, got {total}", page=number, field=shape.total)
        if len(records) > MAX_PAGE_RECORDS:
            raise _too_many_records(number, len(records), shape.records)
        colons = 0  # inside timestamps, which are not kept as text
        if not issubclass(self.record, Record):
            records, colons = self._records(number, records)
        amounts = _amounts(number, records, self.amount, shape.numbers)
        if not self._keys_unique(doc, body, records, colons):
            self._reject_repeated_keys(number, body)
        cursor = read[shape.next](doc) if shape.next else None
        cursor = None if cursor is msgspec.UNSET or cursor is None else str(cursor)
        return Page(number, total, records, amounts, cursor)

    def _records(self, number: int, served: list[Any]) -> tuple[list[Record], int]:
        """`Record`s of the served records (dates of timestamps, amounts' text, "" for a field
        the API does not have), and the colons in the timestamps."""
        count, colons = len(served), 0
        dates = [item.date for item in served]
        if self.shape.zone is not None:
            colons = "".join(dates).count(":")
            dates = self._dates(number, dates, self.shape.zone)
        if self.shape.numbers:
            amounts = [str(item.amount, "utf-8", "replace") for item in served]
        else:
            amounts = [item.amount for item in served]
        has = self.record.__struct_fields__
        categories = [item.category for item in served] if "category" in has else [""] * count
        companies = [item.company for item in served] if "company" in has else [""] * count
        return list(map(Record, dates, categories, amounts, companies)), colons

    def _dates(self, number: int, stamps: list[str], where: tzinfo) -> list[date]:
        """The calendar date of each timestamp in ``where``. `datetime.fromisoformat` truncates
        a fraction beyond microseconds (msgspec's datetime rounds it, which can change the day);
        msgspec has checked the form, this checks the values (no February 30)."""
        try:
            return [
                datetime.fromisoformat(stamp.upper()).astimezone(where).date() for stamp in stamps
            ]
        except ValueError:
            pass
        for index, stamp in enumerate(stamps):
            try:
                datetime.fromisoformat(stamp.upper())
            except ValueError as exc:
                raise DataError(
                    f"not a valid timestamp ({exc}): {quoted(stamp)}",
                    page=number,
                    index=index,
                    field=self.shape.names[0],
                ) from None
        raise AssertionError("unreachable: every timestamp converts one at a time")

    def _keys_unique(self, doc: Any, body: bytes, records: list[Record], colons: int) -> bool:
        """True when no key of the page or of a record can have been repeated.

        Every ':' in the body separates a key from its value, or sits in a string. Records hold
        the named fields, so when the colons are exactly those of the page's keys, one per named
        field per record and those inside the texts (category and counterparty; timestamps
        count here too, as the texts they are served as), no key can have been repeated.
        Otherwise (extra keys, a colon escaped as \\u003a, or a repeat) `_reject_repeated_keys`
        decodes again to find out.
        """
        colons = body.count(b":") - colons - self._keys - len(self.roles) * len(records)
        for read in self._maybe:
            colons -= read(doc) is not msgspec.UNSET
        if colons == 0:
            return True
        texts = "".join(map(_category, records)) + "".join(map(_company, records))
        return colons == texts.count(":")

    def _reject_repeated_keys(self, number: int, body: bytes) -> None:
        """Raise naming the first object the page reads (the page, the objects on its paths, a
        record) that repeats a key, if any does."""
        doc = json.loads(body, object_pairs_hook=_keep_repeats)
        for path in self.paths:
            value, where = doc, list[str]()
            for key in [] if path == "$" else path.split("."):
                if isinstance(value, _Repeated):
                    break
                value, where = value.get(key) if isinstance(value, dict) else None, [*where, key]
            if isinstance(value, _Repeated):
                field = ".".join(where) or None
                raise DataError(f"key {quoted(value.key)} appears twice", page=number, field=field)
        for index, item in enumerate(self._items(doc) or ()):
            if isinstance(item, _Repeated):
                raise DataError(
                    "appears twice in the record",
                    page=number,
                    index=index,
                    field=shortened(item.key),
                )

    def _items(self, doc: Any) -> list[Any] | None:
        """The records in an untyped page, or None where its path does not lead to a list."""
        for key in [] if self.shape.records == "$" else self.shape.records.split("."):
            doc = doc.get(key) if isinstance(doc, dict) else None
        return doc if isinstance(doc, list) else None

    # ----------------------------------------------------------------------- refused pages

    def _explain(self, number: int, body: bytes, exc: Exception) -> DataError:
        """The error for a page msgspec refused: what is wrong, naming page, record and field."""

        def error(message: str, **where: Any) -> DataError:
            return DataError(message, page=number, **where)

        if isinstance(exc, msgspec.ValidationError):
            try:
                doc = msgspec.json.decode(body)  # valid JSON, since only a type was wrong
                self._invalid(number, doc, str(exc))
            except RecursionError:
                return _too_deep(number)
            except DataError as refused:
                return refused
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
        surrogate = self._lone_surrogate(number, body)
        if surrogate is not None:
            return surrogate
        if isinstance(exc, UnicodeDecodeError):
            return error(f"invalid JSON: not UTF-8 (byte {exc.start})")
        return error(f"invalid or truncated JSON: {exc}")

    def _invalid(self, number: int, doc: Any, message: str) -> None:
        """Raise the error for a page of valid JSON that msgspec refused with ``message``."""
        shape = self.shape

        def error(text: str, **where: Any) -> DataError:
            return DataError(text, page=number, **where)

        if shape.records == "$":
            if not isinstance(doc, list):
                raise error(f"expected a JSON list of records ($), got {_kind(doc)}")
        elif not isinstance(doc, dict):
            raise error(f"expected a JSON object, got {_kind(doc)}")
        if shape.page:
            echo = _at(number, doc, shape.page, required=True)
            if type(echo) is not int:
                raise error(f"expected an integer, got {_kind(echo)}", field=shape.page)
            if echo != number:
                raise error(f"the server answered with page {echo}", field=shape.page)
        total = _at(number, doc, shape.total, required=False) if shape.total else None
        if total not in (None, _ABSENT) and (type(total) is not int or total < 0):
            got = shortened(repr(total))
            raise error(f"expected a count >= 0, got {got}", field=shape.total)
        cursor = _at(number, doc, shape.next, required=False) if shape.next else None
        if cursor not in (None, _ABSENT) and type(cursor) not in (str, int):
            raise error(f"expected a string or an integer, got {_kind(cursor)}", field=shape.next)
        items = doc if shape.records == "$" else _at(number, doc, shape.records, required=True)
        if not isinstance(items, list):
            raise error(f"expected a list, got {_kind(items)}", field=shape.records)
        if len(items) > MAX_PAGE_RECORDS:
            raise _too_many_records(number, len(items), shape.records)
        path = _PATH.search(message)
        located = self._located.fullmatch(path.group(1)) if path else None
        if located is None:
            raise error(message)  # not reached: every page-level case is handled above
        index, field = int(located.group(1)), located.group(2)
        item = items[index]
        if not isinstance(item, dict):
            raise error(f"expected an object, got {_kind(item)}", index=index)
        if field is None:  # "Object missing required field `X`"
            missing = next(name for name in self.roles if name not in item)
            has = _has(item, "the record") if number == 1 else ""  # where a description shows
            raise error(f"missing field{has}", index=index, field=missing)
        value, role = item[field], self.roles[field]
        if not isinstance(value, str):
            raise error(f"expected a string, got {_kind(value)}", index=index, field=field)
        if role == "date" and shape.zone is not None:
            raise error(
                "not a timestamp with an offset (RFC 3339, such as 2024-01-02T09:30:00-08:00): "
                + quoted(value),
                index=index,
                field=field,
            )
        if role == "date":
            raise error(f"not an ISO date (YYYY-MM-DD): {quoted(value)}", index=index, field=field)
        limit = MAX_TEXT_CHARS[role]
        raise error(
            f"{len(value):,} characters, more than the limit of {limit:,}", index=index, field=field
        )

    def _lone_surrogate(self, number: int, body: bytes) -> DataError | None:
        """The first field holding a lone surrogate (``\\ud800``, or its bytes), named by record
        and character; None when the page has none (or is not JSON at all)."""
        try:
            items = self._items(json.loads(body.decode("utf-8", "surrogatepass")))
        except (ValueError, RecursionError):
            return None
        for index, item in enumerate(items or ()):
            for field in self.roles:
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


def _record_type(shape: Shape) -> type:
    """`Record` for the Bench names; a `Record` subclass that reads other names; or, when the
    records need converting (timestamps, numbers, a field the API does not have), a struct of
    the fields as served."""
    date_type = Annotated[str, msgspec.Meta(pattern=_TIMESTAMP)] if shape.zone else date
    kinds = (date_type, _Category, msgspec.Raw if shape.numbers else str, _Company)
    if shape.names == BENCH and kinds[0] is date and kinds[2] is str:
        return Record
    fields = [
        (role, kind, msgspec.field(name=name))
        for role, kind, name in zip(ROLES, kinds, shape.names, strict=True)
        if name is not None
    ]
    if shape.zone or shape.numbers or None in shape.names:
        return msgspec.defstruct("Served", fields, gc=False)
    return msgspec.defstruct("Record", fields, bases=(Record,), frozen=True, gc=False)


Chains = dict[str, tuple[tuple[str, ...], bool]]  # a path's attributes, whether it is required


def _struct(leaves: dict[str, tuple[Any, bool]]) -> tuple[type, Chains]:
    """A struct type holding each dotted path of ``leaves`` (its type, whether it is required),
    objects on the way as nested structs (absent or null when nothing under them is required);
    and the chain of attributes of each path and of each object on the way."""
    groups: dict[str, dict[str, tuple[Any, bool]]] = {}
    for path, leaf in leaves.items():
        key, _, rest = path.partition(".")
        groups.setdefault(key, {})[rest] = leaf
    fields: list[tuple[Any, ...]] = []
    chains: Chains = {}
    kind: Any  # a type, built at run time
    for number, (key, below) in enumerate(groups.items()):
        attr = f"f{number}"
        if "" in below:  # the path ends here (the settings refuse paths that overlap)
            kind, required = below[""]
            chains[key] = ((attr,), required)
        else:
            kind, inner = _struct(below)
            required = any(needed for _, needed in below.values())
            kind = kind if required else kind | None
            chains[key] = ((attr,), required)
            chains.update({f"{key}.{path}": ((attr, *c), r) for path, (c, r) in inner.items()})
        if required:
            fields.append((attr, kind, msgspec.field(name=key)))
        else:
            unset = msgspec.field(name=key, default=msgspec.UNSET)
            fields.append((attr, kind | msgspec.UnsetType, unset))
    return msgspec.defstruct("Body", fields, kw_only=True, gc=False), chains


def _reader(chain: tuple[str, ...], required: bool) -> Callable[[Any], Any]:
    """Read a value down ``chain``: UNSET when an object on the way is absent or null."""
    get = attrgetter(".".join(chain))
    if required:  # so is everything on the way
        return get

    def read(doc: Any) -> Any:
        try:
            return get(doc)
        except AttributeError:
            return msgspec.UNSET

    return read


def _amounts(
    number: int, records: list[Record], field: str = "Amount", numbers: bool = False
) -> list[Decimal]:
    """The exact amounts; a `DataError` naming the first record whose amount is not plain
    (``numbers``: served as a JSON number)."""
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
        if numbers and text[:1] in _JSON_KINDS:
            message = f"expected a number, got {_JSON_KINDS[text[:1]]}"
        elif _PLAIN_AMOUNT.fullmatch(text) is None:
            message = f"not a plain decimal amount: {quoted(text)}"
        elif _digits(text) > MAX_AMOUNT_DIGITS:
            message = f"{_digits(text)} digits, more than the limit of {MAX_AMOUNT_DIGITS}"
        else:
            continue
        raise DataError(message, page=number, index=index, field=field)
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


def _too_many_records(number: int, count: int, records: str) -> DataError:
    return DataError(
        f"{count:,} transactions, more than the limit of {MAX_PAGE_RECORDS:,} a page",
        page=number,
        field=records,
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


_PATH = re.compile(r" - at `\$(.*)`$")
_KINDS = {
    type(None): "null",
    bool: "boolean",
    int: "number",
    float: "number",
    str: "string",
    list: "list",
    dict: "object",
}
_ABSENT = object()  # a key an untyped page does not have


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _at(number: int, doc: Any, path: str, *, required: bool) -> Any:
    """The value at dotted ``path`` of an untyped page; `_ABSENT` when a key is missing or an
    object on the way is null, and it is not ``required``. Otherwise the error, naming the path
    and, for a missing key, the keys that are there."""
    where: list[str] = []
    for key in path.split("."):
        if doc is None and not required:
            return _ABSENT
        if not isinstance(doc, dict):
            field = ".".join(where)  # not the page: the caller checked that
            raise DataError(f"expected an object, got {_kind(doc)}", page=number, field=field)
        if key not in doc:
            if not required:
                return _ABSENT
            has = _has(doc, quoted(".".join(where)) if where else "the page")
            raise DataError(f"missing field{has}", page=number, field=path)
        doc = doc[key]
        where.append(key)
    return doc


def _has(obj: dict[str, Any], what: str) -> str:
    """What an object holds, after a key it does not: "; the page has 'data', 'meta'"."""
    keys = ", ".join(quoted(key) for key in islice(obj, 10))
    more = f" and {len(obj) - 10:,} more" if len(obj) > 10 else ""
    return f"; {what} has {keys}{more}" if obj else f"; {what} is empty"


def _too_deep(number: int) -> DataError:
    # msgspec stops at the interpreter's recursion limit (1,000 frames by default), of which
    # the caller uses far fewer than half.
    depth = sys.getrecursionlimit() // 2
    return DataError(f"JSON nested deeper than {depth} levels", page=number)


decode_page = Decoder(Shape())  # the Bench shape


def decoder(settings: SourceSettings, reads: Collection[str] = ("page_path",)) -> Decoder:
    """The decoder for the settings' source description (the Bench shape's, built once)."""
    shape = Shape.of(settings, reads)
    return decode_page if shape == decode_page.shape else Decoder(shape)
