"""Decode and validate one page body into transactions, for one source description."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation, localcontext
from functools import partial
from itertools import islice
from math import inf
from operator import attrgetter
from types import GenericAlias
from typing import Annotated, Any

import msgspec

from .errors import DataError
from .money import EXACT, EXPONENTS, MAX_AMOUNT_DIGITS
from .settings import NONE, SourceSettings, amount_terms, listed, zone
from .text import number as shown
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
# A plain decimal: optional minus, digits, at most one point ([0-9]: \d takes other scripts'),
# each digit matched one way only (``[0-9]+\.?[0-9]*`` was quadratic: 40,000 digits, 4.6 s).
_PLAIN_AMOUNT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_MINOR = re.compile(r"-?[0-9]+")
# A JSON value's kind by its first character, for an amount served as something else.
_JSON_KINDS = {'"': "string", "n": "null", "[": "list", "{": "object"}
_JSON_KINDS |= dict.fromkeys("tf", "boolean")
_BOM = b"\xef\xbb\xbf"
_HH, _MM = r"([01][0-9]|2[0-3])", r"([0-5][0-9])"  # an offset's: less than a day
# RFC 3339's date-time (T and Z in either case), seconds required, any fraction; the offset as
# +hh:mm or +hhmm, or none (read in a named zone).
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    rf"([Zz]|[+-]{_HH}:?{_MM})?$"
)
_MS_JSON = re.compile(rf"/Date\((-?[0-9]{{1,15}})(?:([+-]){_HH}{_MM})?\)/")  # Xero's
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CODE = re.compile("[A-Za-z]{3}")  # an ISO 4217 code's shape, in either case
_FORMS = {
    "timestamp": "not a timestamp (RFC 3339, such as 2024-01-02T09:30:00-08:00)",
    "ms_json": "not a /Date(milliseconds+hhmm)/ date",
    "date": "not an ISO date (YYYY-MM-DD)",
}
_Category = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["category"])]
_Company = Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS["company"])]


class Record(msgspec.Struct, frozen=True, gc=False):
    """One transaction as served; frozen (hashable, equal field by field): as duplicates are."""

    date: date = msgspec.field(name="Date")
    category: _Category = msgspec.field(name="Ledger")
    amount: str = msgspec.field(name="Amount")  # as served; `Page.amounts` holds its value
    company: _Company = msgspec.field(name="Company")


_amount, _category, _company = attrgetter("amount"), attrgetter("category"), attrgetter("company")


@dataclass(frozen=True, slots=True)
class Page:
    """A validated page: records kept and their exact amounts, the next page, what it left out."""

    number: int
    total_count: int | None
    records: list[Record]
    amounts: list[Decimal]
    served: int = -1  # records as served, those left out included (-1: as many as kept)
    next: Any = msgspec.UNSET  # the value at next_path; UNSET when the page has no such key
    more: bool | None = None  # the value at more_path, if the page has it
    cursor: str | None = None  # the last served record's cursor_field
    skipped: int = 0  # left out by the filter (skip_field)
    other_currency: int = 0  # left out: in another currency than the report's
    currency: str | None = None  # the currency of every record kept, when the API says

    def __len__(self) -> int:
        return len(self.records)

    @property
    def size(self) -> int:
        """Records as served: what the API counts and pages by."""
        return len(self.records) if self.served < 0 else self.served


@dataclass(frozen=True)
class Shape:
    """A page as the API serves it: the source description, with the Bench shape's defaults."""

    records: str = "transactions"  # a dotted path, or "$": the body is the list of records
    total: str | None = "totalCount"
    page: str | None = "page"  # where the page echoes its number
    next: str | None = None  # where the page holds the next page's cursor or URL
    more: str | None = None  # where the page says whether more pages follow
    names: tuple[str | None, ...] = BENCH  # the record paths of `ROLES`; None: the API has none
    terms: tuple[tuple[str, bool], ...] = (("Amount", False),)  # amount paths, and if optional
    date_form: str = "date"
    zone: tzinfo | None = None  # the report's calendar; None: each timestamp's own offset
    amount_form: str = "string"
    sign: str = "as_served"
    signs: tuple[tuple[str, int], ...] = ()  # sign_field's values and their signs
    sign_field: str | None = None
    currency_field: str | None = None
    currency: str | None = None  # the report's currency, when the description names it
    skip_field: str | None = None
    skip: frozenset[str] = frozenset()
    cursor: str | None = None  # the record path of the cursor (paging=last_record)

    @property
    def left_out(self) -> bool:
        """Whether the description leaves records out: a filter, or a currency to report in."""
        return bool(self.skip_field or (self.currency and self.currency_field))

    @classmethod
    def of(cls, settings: SourceSettings, reads: Collection[str] = ("page_path",)) -> Shape:
        """The shape the settings describe; ``reads``: the paging style's own settings."""

        def field(value: str, page: bool = False) -> str | None:  # page: none if the body is a list
            return None if value == NONE or (page and settings.records_path == "$") else value

        terms = amount_terms(settings)
        named = settings.date_form != "date" and settings.time_zone != "as_served"
        return cls(
            records=settings.records_path,
            total=field(settings.total_path, page=True),
            page=field(settings.page_path, page=True) if "page_path" in reads else None,
            next=field(settings.next_path, page=True) if "next_path" in reads else None,
            more=field(settings.more_path, page=True) if "more_path" in reads else None,
            names=(
                settings.date_field,
                field(settings.category_field),
                terms[0][0],
                field(settings.counterparty_field),
            ),
            terms=terms,
            date_form=settings.date_form,
            zone=zone(settings.time_zone) if named else None,
            amount_form=settings.amount_form,
            sign=settings.sign,
            signs=tuple(
                (value.strip(), 1 if sign == "+" else -1)
                for value, _, sign in (e.rpartition("=") for e in listed(settings.sign_values))
            ),
            sign_field=field(settings.sign_field) if settings.sign == "field" else None,
            currency_field=field(settings.currency_field),
            currency=None if settings.currency == NONE else settings.currency.upper(),
            skip_field=field(settings.skip_field),
            skip=frozenset(listed(settings.skip_values)),
            cursor=settings.cursor_field if "cursor_field" in reads else None,
        )


class Decoder:
    """Decode and validate pages of one shape: ``decoder(number, body)`` is the `Page`."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.described = not _is_bench(shape)
        self.record: Any = Record
        self.get: dict[str, Callable[[Any], Any]] = {}
        self.terms: list[Callable[[Any], Any]] = []
        if self.described:
            self.record, self.get = _record_type(shape)
            self.terms = [self.get.pop(f"term{n}") for n in range(len(shape.terms))]
        many = GenericAlias(list, (self.record,))  # list[self.record]
        leaves: dict[str, tuple[Any, bool]] = {shape.records: (many, True)}
        if shape.page:
            leaves[shape.page] = (int, True)
        if shape.total:
            leaves[shape.total] = (int | None, False)
        if shape.next:
            leaves[shape.next] = (str | int | None, False)
        if shape.more:
            leaves[shape.more] = (bool | None, False)
        self.paths = list(leaves)
        if shape.records == "$":
            self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(many)
            self._read: dict[str, Callable[[Any], Any]] = {"$": lambda doc: doc}
            self._keys, self._maybe = 0, []
        else:
            body, chains = _struct(leaves, "Body")
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
        if (values := _too_many_values(body)) is not None:
            raise DataError(
                f"too many JSON values ({values:,} separators; a page may hold at most "
                f"{MAX_PAGE_RECORDS:,} transactions)",
                page=number,
            )
        try:
            doc = self._decoder.decode(body)
        except (msgspec.DecodeError, ValueError, RecursionError) as exc:  # ValueError: bad UTF-8
            raise self._explain(number, body, exc) from exc
        served = read[shape.records](doc)
        if shape.page and (echo := read[shape.page](doc)) != number:
            raise DataError(
                f"the server answered with page {shown(echo)}", page=number, field=shape.page
            )
        total = read[shape.total](doc) if shape.total else None
        total = None if total is msgspec.UNSET else total
        if total is not None and total < 0:
            raise DataError(
                f"expected a count >= 0, got {shown(total)}", page=number, field=shape.total
            )
        if len(served) > MAX_PAGE_RECORDS:
            raise _too_many_records(number, len(served), shape.records)
        next_value = read[shape.next](doc) if shape.next else msgspec.UNSET
        more = read[shape.more](doc) if shape.more else None
        more = None if more is msgspec.UNSET else more
        if not self.described:
            amounts = _amounts(number, served, str(shape.names[2]))
            if not self._keys_unique(doc, body, served):
                self._reject_repeated_keys(number, body)
            return Page(number, total, served, amounts, next=next_value, more=more)
        self._reject_repeated_keys(number, body)
        return self._described(number, served, total, next_value, more)

    # ----------------------------------------------------------------------- described APIs

    def _described(
        self, number: int, served: list[Any], total: Any, following: Any, more: Any
    ) -> Page:
        """The records the description keeps, as `Record`s with their exact amounts."""
        shape, get = self.shape, self.get
        records: list[Record] = []
        amounts: list[Decimal] = []
        skipped = other = 0
        currency = None
        seen = {role: False for role in ("category", "company") if role in get}
        with localcontext(EXACT):  # sums of terms and signs, never rounded
            for index, item in enumerate(served):
                if shape.skip_field and _scalar(get["skip"](item)) in shape.skip:
                    skipped += 1
                    continue
                code = shape.currency
                if shape.currency_field:
                    read = self._required(
                        number, index, shape.currency_field, get["currency"](item)
                    )
                    if not _CODE.fullmatch(read):
                        raise DataError(
                            f"not an ISO 4217 code: {quoted(read)}",
                            page=number,
                            index=index,
                            field=shape.currency_field,
                        )
                    code = read.upper()
                    if shape.currency is not None and code != shape.currency:
                        other += 1
                        continue
                    if currency is not None and code != currency:
                        raise DataError(
                            f"a second currency ({quoted(code)} after {quoted(currency)}): a "
                            "report is in one; set currency to the one it is for",
                            page=number,
                            index=index,
                            field=shape.currency_field,
                        )
                    currency = code
                texts = {}
                for role in seen:
                    value = get[role](item)
                    seen[role] = seen[role] or value is not msgspec.UNSET
                    texts[role] = value if isinstance(value, str) else ""
                amount, text = self._amount(number, index, item, code)
                day = self._date(number, index, get["date"](item))
                category, company = texts.get("category", ""), texts.get("company", "")
                records.append(Record(day, category, text, company))
                amounts.append(amount)
        for role, found in seen.items():
            if records and not found:  # a misdescription, not a ledger without categories
                name = shape.names[ROLES.index(role)]
                has = _has(msgspec.to_builtins(served[0], enc_hook=bytes), "the first record")
                raise DataError(f"no record has it{has}", page=number, field=name)
        cursor = None
        if shape.cursor and served:
            last = self._required(number, len(served) - 1, shape.cursor, get["cursor"](served[-1]))
            cursor = str(last)
        return Page(
            number,
            total,
            records,
            amounts,
            served=len(served),
            next=following,
            more=more,
            cursor=cursor,
            skipped=skipped,
            other_currency=other,
            currency=currency or shape.currency,
        )

    @staticmethod
    def _required(number: int, index: int, field: str | None, value: Any) -> Any:
        """``value`` of ``field``, which every kept record must have."""
        if value is None or value is msgspec.UNSET:
            what = "null" if value is None else "missing field"
            raise DataError(what, page=number, index=index, field=field)
        return value

    def _amount(self, number: int, index: int, item: Any, code: str | None) -> tuple[Decimal, str]:
        """The exact amount the balance moved by, and its text as the report keeps it."""
        shape = self.shape
        total, texts = Decimal(0), list[str]()
        for (path, optional), read in zip(shape.terms, self.terms, strict=True):
            value = read(item)
            null = isinstance(value, msgspec.Raw) and bytes(value) == b"null"
            if optional and (value is None or value is msgspec.UNSET or null):
                continue
            value = self._required(number, index, path, value)
            text = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
            term = _decimal(number, index, path, text, shape.amount_form, code)
            total = total + term if texts else term  # exact: the caller's context is EXACT
            texts.append(text)
        if shape.sign == "inverted":
            total = -total
        elif shape.sign == "field":
            direction = self._required(number, index, shape.sign_field, self.get["sign"](item))
            sign = dict(shape.signs).get(direction) if isinstance(direction, str) else None
            if sign is None:
                known = ", ".join(value for value, _ in shape.signs)
                raise DataError(
                    f"{quoted(str(direction))} is not one of sign_values ({known})",
                    page=number,
                    index=index,
                    field=shape.sign_field,
                )
            if total < 0:
                raise DataError(
                    f"negative ({total}), but sign = field says amounts are unsigned",
                    page=number,
                    index=index,
                    field=shape.terms[0][0],
                )
            total *= sign
        as_served = shape.sign == "as_served" and shape.amount_form != "minor" and len(texts) == 1
        return total, texts[0] if as_served else f"{total:f}"

    def _date(self, number: int, index: int, value: Any) -> date:
        """The calendar date of ``value`` (in the date form) in the report's calendar."""
        shape = self.shape
        value = self._required(number, index, shape.names[0], value)
        form, where = shape.date_form, shape.zone
        try:
            if form == "date":
                return value  # type: ignore[no-any-return]  # msgspec's date
            if form == "timestamp":
                moment = datetime.fromisoformat(value.upper())
                if moment.tzinfo is None and where is None:
                    raise ValueError("no offset, and time_zone = as_served")
                if moment.tzinfo is None or where is None:
                    return moment.date()
            elif form == "ms_json":
                found = _MS_JSON.fullmatch(value)
                if found is None:
                    raise ValueError(_FORMS[form])
                ms, sign, hours, minutes = found.groups()
                moment = _EPOCH + timedelta(milliseconds=int(ms))
                if where is None:
                    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
                    where = timezone(-offset if sign == "-" else offset)
            else:
                unit = "seconds" if form == "epoch_s" else "milliseconds"
                moment = _EPOCH + timedelta(**{unit: value})
            return moment.astimezone(where).date()
        except (ValueError, OverflowError) as exc:  # Overflow: past year 1 or 9999
            reason = "outside years 1-9999" if isinstance(exc, OverflowError) else str(exc)
            raise DataError(
                f"not a valid date ({shortened(reason)}): {quoted(str(value))}",
                page=number,
                index=index,
                field=shape.names[0],
            ) from None

    # ----------------------------------------------------------------------- repeated keys

    def _keys_unique(self, doc: Any, body: bytes, records: list[Record]) -> bool:
        """True when no key of the page or of a Bench record can have been repeated: the body's
        colons are exactly the page's keys', four a record and those in its texts. Otherwise (extra
        keys, a colon escaped as \\u003a, or a repeat) `_reject_repeated_keys` decodes again."""
        colons = body.count(b":") - self._keys - len(ROLES) * len(records)
        for read in self._maybe:
            colons -= read(doc) is not msgspec.UNSET
        if colons == 0:
            return True
        texts = "".join(map(_category, records)) + "".join(map(_company, records))
        return colons == texts.count(":")

    def _reject_repeated_keys(self, number: int, body: bytes) -> None:
        """Raise naming the first object the page reads (on its paths, or a record's) that repeats
        a key, if any does: both decoders keep the last value silently."""
        error = partial(DataError, page=number)
        doc = json.loads(body, object_pairs_hook=_keep_repeats, parse_int=str)  # any length
        for path in self.paths:
            if (repeated := _repeat_on(doc, path)) is not None:
                key, where = repeated
                raise error(f"key {quoted(key)} appears twice", field=where or None)
        fields = [name for name in self.shape.names if name] + [t for t, _ in self.shape.terms]
        for index, item in enumerate(self._items(doc) or ()):
            for path in fields:
                if (repeated := _repeat_on(item, path)) is not None:
                    key, where = repeated
                    field = shortened(".".join(filter(None, (where, key))))
                    raise error("appears twice in the record", index=index, field=field)

    def _items(self, doc: Any) -> list[Any] | None:
        """The records in an untyped page, or None where its path does not lead to a list."""
        for key in [] if self.shape.records == "$" else self.shape.records.split("."):
            doc = doc.get(key) if isinstance(doc, dict) else None
        return doc if isinstance(doc, list) else None

    # ----------------------------------------------------------------------- refused pages

    def _explain(self, number: int, body: bytes, exc: Exception) -> DataError:
        """The error for a page msgspec refused: what is wrong, naming page, record and field."""
        error = partial(DataError, page=number)
        if isinstance(exc, msgspec.ValidationError) and "out of range - at" in str(exc):
            return self._out_of_range(number, str(exc))  # no untyped decode reads it either
        if isinstance(exc, msgspec.ValidationError):
            try:
                self._invalid(number, _untyped(body), str(exc))  # valid JSON: a type was wrong
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
            head = start[:20].decode("utf-8", "replace")
            return error(f"response is not JSON (it starts with {head!r})")
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

    def _out_of_range(self, number: int, message: str) -> DataError:
        """A number msgspec cannot read (nor Python: over 4,300 digits, or past ±1e308), located."""
        path = _PATH.search(message)
        where = path.group(1) if path else ""
        located = self._located.fullmatch(where)
        index, field = (int(located.group(1)), located.group(2)) if located else (None, where[1:])
        limit, integer = sys.get_int_max_str_digits(), message.startswith("Integer")
        text = f"an integer of more than {limit:,} digits" if integer else "a number beyond ±1e308"
        return DataError(text, page=number, index=index, field=field or None)

    def _invalid(self, number: int, doc: Any, message: str) -> None:
        """Raise the error for a page of valid JSON that msgspec refused with ``message``."""
        shape, error = self.shape, partial(DataError, page=number)
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
                raise error(f"the server answered with page {shown(echo)}", field=shape.page)
        total = _at(number, doc, shape.total, required=False) if shape.total else None
        if total not in (None, _ABSENT) and (type(total) is not int or total < 0):
            raise error(f"expected a count >= 0, got {shortened(repr(total))}", field=shape.total)
        for named, kinds, what in (
            (shape.next, (str, int), "a string or an integer"),
            (shape.more, (bool,), "true or false"),
        ):
            value = _at(number, doc, named, required=False) if named else None
            if value not in (None, _ABSENT) and type(value) not in kinds:
                raise error(f"expected {what}, got {_kind(value)}", field=named)
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
        # Where a description shows (page 1), a missing field lists what the record has.
        what = "the record" if number == 1 else ""
        if field is None or "missing required field" in message:  # a key absent on the way
            needed = [shape.names[0], *(t for t, optional in shape.terms if not optional)]
            needed = needed if self.described else list(shape.names)  # Record's are all needed
            for name in filter(None, (*needed, shape.sign_field, shape.currency_field)):
                _at(number, item, name, required=True, index=index, what=what)
            raise error(message, index=index)  # not reached: a required path is missing
        value = _at(number, item, field, required=True, index=index, what=what)
        role, at = self._role(field), partial(error, index=index, field=field)
        if role in ("category", "company") and isinstance(value, str):
            raise at(f"{len(value):,} characters, more than the limit of {MAX_TEXT_CHARS[role]:,}")
        if role == "date" and isinstance(value, str) and shape.date_form in _FORMS:
            raise at(f"{_FORMS[shape.date_form]}: {quoted(value)}")
        expected = {
            "date": "an integer" if shape.date_form.startswith("epoch") else "a string",
            "cursor": "a string or an integer",
            "object": "an object",
        }
        raise at(f"expected {expected.get(role, 'a string')}, got {_kind(value)}")

    def _role(self, path: str) -> str:
        """What a record path is read as: a `ROLES` name, cursor, object (on a way), other."""
        shape = self.shape
        roles = {name: role for name, role in zip(shape.names, ROLES, strict=True) if name}
        roles.update({term: "amount" for term, _ in shape.terms})
        roles.update({shape.cursor: "cursor"} if shape.cursor else {})
        read = [*roles, *filter(None, (shape.sign_field, shape.currency_field, shape.skip_field))]
        on_the_way = any(name.startswith(path + ".") for name in read)
        return roles.get(path) or ("object" if on_the_way else "other")

    def _lone_surrogate(self, number: int, body: bytes) -> DataError | None:
        """The error for the first field holding a lone surrogate (``\\ud800``, or its bytes)."""
        try:
            items = self._items(json.loads(body.decode("utf-8", "surrogatepass"), parse_int=str))
        except (ValueError, RecursionError):
            return None
        for index, item in enumerate(items or ()):
            for field in filter(None, self.shape.names):
                value = _at(0, item, field, required=False) if isinstance(item, dict) else None
                if not isinstance(value, str):
                    continue
                try:
                    value.encode()
                except UnicodeEncodeError as exc:
                    message = f"not valid Unicode: a lone surrogate at character {exc.start}"
                    return DataError(message, page=number, index=index, field=field)
        return None


def _is_bench(shape: Shape) -> bool:
    """Whether records decode straight into `Record`: the Bench fields and forms."""
    return shape == Shape(
        records=shape.records, total=shape.total, page=shape.page, next=shape.next, more=shape.more
    )


def _record_type(shape: Shape) -> tuple[type, dict[str, Callable[[Any], Any]]]:
    """A struct of the fields a described record holds (nested where its paths are), and a
    reader of each role's value (UNSET where the record has no such field)."""
    form = shape.date_form
    pattern = _TIMESTAMP if form == "timestamp" else r"^/Date\("
    dates: Any = {"date": date, "epoch_s": int, "epoch_ms": int}.get(form)
    dates = dates or Annotated[str, msgspec.Meta(pattern=pattern)]
    amounts: Any = str if shape.amount_form == "string" else msgspec.Raw
    wanted: dict[str, tuple[Any, bool]] = {}
    roles: dict[str, str] = {}

    def want(role: str, path: str | None, kind: Any, required: bool) -> None:
        if path is not None:
            # With a filter, a left-out record's fields may be null; a kept record's are checked.
            needed = required and not shape.left_out
            # msgspec.Raw holds any value, null too ("null"): in a union it would match only null.
            nullable = kind if needed or kind is msgspec.Raw else kind | None
            wanted[path], roles[role] = (nullable, needed), path

    want("date", shape.names[0], dates, True)
    want("category", shape.names[1], _Category | None, False)
    want("company", shape.names[3], _Company | None, False)
    for number, (path, optional) in enumerate(shape.terms):
        want(f"term{number}", path, amounts, not optional)
    want("sign", shape.sign_field, str, True)
    want("currency", shape.currency_field, str, True)
    want("skip", shape.skip_field, msgspec.Raw, False)
    want("cursor", shape.cursor, str | int, False)
    struct, chains = _struct(wanted, "Served")
    return struct, {role: _reader(chains[path][0], False) for role, path in roles.items()}


Chains = dict[str, tuple[tuple[str, ...], bool]]  # a path's attributes, whether it is required


def _struct(leaves: dict[str, tuple[Any, bool]], name: str) -> tuple[type, Chains]:
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
        else:
            kind, inner = _struct(below, name)
            required = any(needed for _, needed in below.values())
            kind = kind if required else kind | None
            chains.update({f"{key}.{path}": ((attr, *c), r) for path, (c, r) in inner.items()})
        if required:
            fields.append((attr, kind, msgspec.field(name=key)))
        else:
            unset = msgspec.field(name=key, default=msgspec.UNSET)
            fields.append((attr, kind | msgspec.UnsetType, unset))
        chains[key] = ((attr,), required)
    return msgspec.defstruct(name, fields, kw_only=True, gc=False), chains


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


def _scalar(raw: Any) -> str | None:
    """A filter field's value as text: a string's value, other values' JSON (true, 12), or None."""
    if raw is msgspec.UNSET or raw is None:
        return None
    text = bytes(raw)
    return msgspec.json.decode(text, type=str) if text[:1] == b'"' else text.decode()


def _decimal(number: int, index: int, path: str, text: str, form: str, code: str | None) -> Decimal:
    """A term's exact value: a plain decimal, or minor units scaled by the ISO 4217 exponent."""
    if form != "string" and text[:1] in _JSON_KINDS:
        message = f"expected a number, got {_JSON_KINDS[text[:1]]}"
    elif form == "minor" and not _MINOR.fullmatch(text):
        message = f"expected whole minor units, got {quoted(text)}"
    elif _PLAIN_AMOUNT.fullmatch(text) is None:
        message = f"not a plain decimal amount: {quoted(text)}"
    elif _digits(text) > MAX_AMOUNT_DIGITS:
        message = f"{_digits(text)} digits, more than the limit of {MAX_AMOUNT_DIGITS}"
    elif form == "minor" and code not in EXPONENTS:
        message = f"minor units of {quoted(str(code))}, not an ISO 4217 currency"
    else:
        value = Decimal(text)
        return value.scaleb(-EXPONENTS[str(code)]) if form == "minor" else value
    raise DataError(message, page=number, index=index, field=path)


def _amounts(number: int, records: list[Record], field: str = "Amount") -> list[Decimal]:
    """The exact amounts of Bench records; a `DataError` naming the first record whose amount
    is not plain. One ASCII whitelist over the joined column, then ``Decimal()`` for each,
    which refuses the remaining bad shapes (``1-2``, ``1.2.3``, ``-``, ``""``)."""
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
        _decimal(number, index, field, text, "string", None)
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
    message = f"{count:,} transactions, more than the limit of {MAX_PAGE_RECORDS:,} a page"
    return DataError(message, page=number, field=records)


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


def _repeat_on(doc: Any, path: str) -> tuple[str, str] | None:
    """(the repeated key, the path to its object) of the first object on ``path`` repeating one."""
    where: list[str] = []
    for key in [] if path == "$" else path.split("."):
        if isinstance(doc, _Repeated) or not isinstance(doc, dict):
            break
        doc, where = doc.get(key), [*where, key]
    if isinstance(doc, _Repeated):
        return doc.key, ".".join(where)
    return None


_PATH = re.compile(r" - at `\$(.*)`$")
_KINDS = {type(None): "null", bool: "boolean", str: "string", list: "list", dict: "object"}
_KINDS |= dict.fromkeys((int, float), "number")
_ABSENT = object()  # a key an untyped page does not have


def _kind(value: object) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _at(
    number: int,
    doc: Any,
    path: str,
    *,
    required: bool,
    index: int | None = None,
    what: str = "the page",
) -> Any:
    """The value at dotted ``path`` of an untyped page (or record ``index``), else the error naming
    it and the keys there; if not ``required``, `_ABSENT` for a missing key or a null on the way."""
    where: list[str] = []
    for key in path.split("."):
        if doc is None and not required:
            return _ABSENT
        if not isinstance(doc, dict):
            field = ".".join(where)  # not the page: the caller checked that
            raise DataError(
                f"expected an object, got {_kind(doc)}", page=number, index=index, field=field
            )
        if key not in doc:
            if not required:
                return _ABSENT
            has = _has(doc, quoted(".".join(where)) if where else what) if what else ""
            raise DataError(f"missing field{has}", page=number, index=index, field=path)
        doc = doc[key]
        where.append(key)
    return doc


def _has(obj: dict[str, Any], what: str) -> str:
    """What an object holds, after a key it does not: "; the page has 'data', 'meta'"."""
    keys = ", ".join(quoted(key) for key in islice(obj, 10))
    more = f" and {len(obj) - 10:,} more" if len(obj) > 10 else ""
    return f"; {what} has {keys}{more}" if obj else f"; {what} is empty"


def _untyped(body: bytes) -> Any:
    """A page of valid JSON as Python; an integer over 4,300 digits (msgspec refuses it) as inf."""
    try:
        return msgspec.json.decode(body)
    except msgspec.ValidationError:  # a number out of range: json reads it
        limit = sys.get_int_max_str_digits() or inf  # 0: no limit
        return json.loads(body, parse_int=lambda text: int(text) if len(text) <= limit else inf)


def keys_at(body: bytes, path: str) -> str:
    """The keys of the last object on ``path``'s way, for a description naming a path not there."""
    try:
        doc = _untyped(body)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return ""
    where: list[str] = []
    for key in path.split("."):
        if not isinstance(doc, dict) or key not in doc or doc[key] is None:
            break
        doc, where = doc[key], [*where, key]
    if not isinstance(doc, dict):
        return ""
    return _has(doc, quoted(".".join(where)) if where else "the page")


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
