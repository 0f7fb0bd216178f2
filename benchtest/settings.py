"""A run's settings, each declared once as a typed field of one of three groups."""

from __future__ import annotations

import itertools
import os
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .auth import PARAMETER_ENV, TOKEN_ENV, Secret
from .auth import from_env as token_from_env
from .errors import ConfigError
from .files import NotARegularFile, read_regular_file
from .text import for_terminal, quoted, shortened
from .urls import without_credentials

SAMPLE = "sample"
NONE = "none"  # an optional path or field the API does not have
DEFAULT_CONFIG_FILE = "sites.conf"
MAX_CONFIG_BYTES = 1 << 20  # a settings file larger than this is not one (/dev/urandom, a log)

# Environment variables that are not settings of a run: where the settings file is, and the
# Lambda's report bucket (read by `storage.S3Target.from_env`; an event can never change them).
CONFIG_ENV = "BENCH_CONFIG"
REPORT_BUCKET_ENV = "REPORT_BUCKET"
REPORT_PREFIX_ENV = "REPORT_PREFIX"
REPORT_KMS_KEY_ID_ENV = "REPORT_KMS_KEY_ID"
REPORT_KEEP_PAGES_ENV = "REPORT_KEEP_PAGES"

# Patterns of the text settings (msgspec's are searched, hence the anchors). A key as a source
# setting names it has no dot, space or control character; a path is keys joined by dots, at
# most MAX_PATH_KEYS (a page is read one struct a key deep); a sum, at most MAX_TERMS paths.
MAX_PATH_KEYS, MAX_TERMS = 32, 8
_KEY, _TERM_KEY = r"[^.\x00-\x20\x7f]+", r"[^.+?\x00-\x20\x7f]+"  # a sum's: no + or ?
_PATH, _TERM = (rf"{key}(?:\.{key}){{0,{MAX_PATH_KEYS - 1}}}" for key in (_KEY, _TERM_KEY))
_HEADER_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"  # RFC 9110 token
_PARAMETER = r"^[A-Za-z0-9._~-]+$"  # RFC 3986 unreserved: sent as is
MAX_HEADERS = 32
# Headers benchtest (or http.client) sets itself, or that carry credentials: never `headers`.
_OWN_HEADERS = re.compile(
    r"(?i)accept(-encoding)?|(proxy-)?authorization|connection|content-length|host"
    r"|transfer-encoding|user-agent"
)


def about(
    help: str,
    metavar: str | None = None,
    *,
    env: str | None = None,
    expect: str | None = None,
    **checks: Any,
) -> Meta:
    """A setting's declaration: ``help``, its flag's ``metavar``, its variable (``env``, else
    BENCH_<NAME>), what a refused value should be (``expect``) and msgspec's ``checks``."""
    return Meta(
        description=help, extra={"metavar": metavar, "env": env, "expect": expect}, **checks
    )


def _path(help: str, *, optional: bool = False, root: bool = False) -> Meta:
    """A key or a dotted path into a page or a record, ``$`` at the ``root``; ``none`` is
    refused unless the value is ``optional``."""
    required = "" if optional else f"(?!{NONE}$)"
    pattern = rf"^{required}(?:{_PATH}{'|[$]' if root else ''})$"
    expect = f"expected a key or a dotted path of at most {MAX_PATH_KEYS} keys"
    return about(help, "PATH", expect=expect, pattern=pattern)


Assertions = tuple[tuple[date, Decimal], ...]  # (date, expected closing balance), in date order
Headers = tuple[tuple[str, str], ...]  # (name, value), in the order given


class FetchSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the ledger is and how its pages are asked for."""

    url: Annotated[
        str,
        about(
            "the ledger's URL: with {page} (or a base ending in '/') for paging=page, with "
            "{offset} (and {limit}) for offset, page 1's URL for the others; or 'sample': the "
            "bundled ledger, served on 127.0.0.1",
            "TEMPLATE",
            env="BENCH_API_URL",
        ),
    ] = SAMPLE
    concurrency: Annotated[int, about("pages fetched at once", "N", ge=1, le=64)] = 8
    timeout: Annotated[float, about("seconds per request", "S", ge=0.1, le=600)] = 10.0
    retries: Annotated[
        int,
        about("retries per page, on connection errors, timeouts, 429 and 5xx", "N", ge=0, le=20),
    ] = 4
    backoff: Annotated[
        float, about("exponential backoff factor and jitter, seconds", "S", ge=0, le=60)
    ] = 0.5
    retry_after_cap: Annotated[
        float,
        about(
            "longest Retry-After waited, seconds; a longer one fails the run", "S", ge=0, le=3600
        ),
    ] = 30.0
    deadline: Annotated[float, about("seconds for the whole run", "S", ge=0.1, le=86_400)] = 300.0
    max_pages: Annotated[int, about("refuse longer ledgers", "N", ge=1, le=1_000_000)] = 100_000
    auth_header: Annotated[
        str,
        about(
            f"HTTP header that carries the API token; its value comes from {TOKEN_ENV} (CLI) or "
            f"the SSM parameter {PARAMETER_ENV} names (Lambda), never a flag",
            "NAME",
            expect="must be an HTTP header name (letters, digits, !#$%&'*+.^_`|~-)",
            pattern=_HEADER_NAME,
        ),
    ] = "Authorization"
    headers: Annotated[
        Headers,
        about(
            "extra request headers that are not secret, e.g. Stripe-Version=2024-06-20; repeat "
            f"the flag or separate with commas; at most {MAX_HEADERS}",
            "NAME=VALUE",
        ),
    ] = ()


class SourceSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What the API's pages look like (docs/sources.md); the defaults are the Bench API's."""

    paging: Annotated[
        Literal["page", "offset", "cursor", "next_url", "link", "last_record"],
        about(
            "how the API pages: {page} or {offset} in the URL, a cursor or the next URL in the "
            "body (next_path), the Link header, or the last record's cursor_field; "
            "docs/sources.md",
            "STYLE",
        ),
    ] = "page"
    page_end: Annotated[
        Literal["auto", "404", "empty", "null", "absent", "flag"],
        about(
            "how the API says there is no next page: a 404 or an empty page after the last "
            "(page, offset); next_path null or empty (null; absent: also when missing); "
            "more_path false (flag); auto: the style's usual one",
            "END",
        ),
    ] = "auto"
    limit: Annotated[
        int, about("paging=offset: the page size asked for as {limit}", "N", ge=1, le=100_000)
    ] = 100
    next_path: Annotated[
        str, _path("paging=cursor or next_url: where the body holds the cursor or the next URL")
    ] = "next"
    more_path: Annotated[
        str, _path("page_end=flag: where the body says whether more pages follow (true/false)")
    ] = "has_more"
    cursor_param: Annotated[
        str,
        about(
            "paging=cursor or last_record: the query parameter that carries the cursor",
            "NAME",
            expect="must be a query parameter name (letters, digits, ._~-)",
            pattern=_PARAMETER,
        ),
    ] = "cursor"
    cursor_field: Annotated[
        str,
        _path(
            "paging=last_record: the record field whose value on a page's last record is the cursor"
        ),
    ] = "id"
    records_path: Annotated[
        str,
        _path(
            "where the body holds the records: a key or a dotted path such as data.items, or $ "
            "when the body is the list",
            root=True,
        ),
    ] = "transactions"
    total_path: Annotated[
        str,
        _path(
            "where the body may hold the total count of records served; none if it never does",
            optional=True,
        ),
    ] = "totalCount"
    page_path: Annotated[
        str,
        _path(
            "paging=page: where the body echoes its page number; none if it does not", optional=True
        ),
    ] = "page"
    date_field: Annotated[str, _path("the records' date (a dotted path in the record)")] = "Date"
    amount_field: Annotated[
        str,
        about(
            "the records' amount; a sum where the API splits it (amount + fee?: a term ending "
            "in ? may be absent or null)",
            "PATH",
            expect=f"expected a path, or at most {MAX_TERMS} joined by + (each at most "
            f"{MAX_PATH_KEYS} keys)",
            pattern=rf"^(?!{NONE}$){_TERM}\??(?: ?\+ ?{_TERM}\??){{0,{MAX_TERMS - 1}}}$",
        ),
    ] = "Amount"
    category_field: Annotated[
        str, _path("the records' category; none if they have none", optional=True)
    ] = "Ledger"
    counterparty_field: Annotated[
        str, _path("the records' counterparty (vendor); none if they have none", optional=True)
    ] = "Company"
    date_form: Annotated[
        Literal["date", "timestamp", "epoch_s", "epoch_ms", "ms_json"],
        about(
            "date: YYYY-MM-DD; timestamp: RFC 3339 (Z, +hh:mm or +hhmm; without an offset, read "
            "in time_zone); epoch_s, epoch_ms: Unix time; ms_json: /Date(ms+hhmm)/",
            "FORM",
        ),
    ] = "date"
    time_zone: Annotated[
        str,
        about(
            "for every date_form but date: the IANA zone whose calendar days the report counts "
            "(UTC, America/Vancouver), or as_served: each timestamp's own offset",
            "ZONE",
        ),
    ] = ""
    amount_form: Annotated[
        Literal["string", "number", "minor"],
        about(
            "string: a JSON string holding a plain decimal; number: a plain JSON number, read "
            "exactly from its text; minor: whole minor units of the currency (cents)",
            "FORM",
        ),
    ] = "string"
    sign: Annotated[
        Literal["as_served", "inverted", "field"],
        about(
            "as_served: positive is money in; inverted: positive is money out; field: amounts "
            "unsigned, the direction in sign_field",
            "RULE",
        ),
    ] = "as_served"
    sign_field: Annotated[
        str, _path("sign=field: the record field that holds the direction", optional=True)
    ] = NONE
    sign_values: Annotated[
        str,
        about(
            "sign=field: each value of sign_field and its sign, e.g. Credit=+,Debit=-",
            "VALUE=+|-,...",
            expect="expected VALUE=+ or VALUE=- entries separated by commas",
            pattern=r"^(?:[^=,]+=[+-](?: *, *[^=,]+=[+-])*)?$",
        ),
    ] = ""
    currency_field: Annotated[
        str, _path("the record field holding its ISO 4217 currency code", optional=True)
    ] = NONE
    currency: Annotated[
        str,
        about(
            "the ISO 4217 currency the report is for: records in others are left out and counted",
            "CODE",
            expect="expected an ISO 4217 code such as USD, or none",
            pattern=r"^(?:none|[A-Za-z]{3})$",
        ),
    ] = NONE
    skip_field: Annotated[
        str, _path("a record field whose values in skip_values leave the record out", optional=True)
    ] = NONE
    skip_values: Annotated[
        str,
        about(
            "skip_field's values that leave a record out, separated by commas (pending, true)",
            "VALUES",
        ),
    ] = ""


class ReportSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What the report holds and checks."""

    detail_limit: Annotated[
        int,
        about(
            "most transactions listed per report; above it, only the aggregates",
            "N",
            ge=0,
            le=1_000_000,
        ),
    ] = 10_000
    max_days: Annotated[
        int,
        about(
            "most calendar days a report lists; a longer span needs --active-days-only",
            "N",
            ge=1,
            le=1_000_000,
        ),
    ] = 3_660
    active_days_only: Annotated[bool, about("list only days with transactions, not every day")] = (
        False
    )
    exclude_duplicates: Annotated[bool, about("leave possible duplicates out of every total")] = (
        False
    )
    assert_balance: Annotated[
        Assertions,
        about(
            "closing balances to check, e.g. 2013-12-22=18377.16 (or 18,377.16); repeat the flag "
            "or separate with commas; a mismatch exits 3",
            "DATE=AMOUNT",
        ),
    ] = ()
    allow_empty: Annotated[
        bool, about("an empty ledger is expected: exit 0, not 6 (the Lambda: no EmptyLedger)")
    ] = False


GROUPS: dict[str, type[msgspec.Struct]] = {
    "fetch": FetchSettings,
    "source": SourceSettings,
    "report": ReportSettings,
}


@dataclass(frozen=True)
class Settings:
    """The three groups, the auth header's value, and each value's origin, for later errors."""

    fetch: FetchSettings = field(default_factory=FetchSettings)
    source: SourceSettings = field(default_factory=SourceSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    auth_token: Secret | None = field(default=None, repr=False, compare=False)
    origins: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_sample(self) -> bool:
        return self.fetch.url == SAMPLE

    def refused(self, name: str, message: str, url: str | None = None) -> ConfigError:
        """A `ConfigError` for setting ``name``, naming where its value came from."""
        return ConfigError(message, origin=self.origins.get(name), field=name, url=url)


@dataclass(frozen=True)
class Declared:
    """One setting as flags, variables, files, docs and Terraform see it (from `GROUPS`)."""

    name: str
    group: str
    kind: type  # str, int, float, bool, or tuple (Assertions, Headers)
    default: object
    help: str
    metavar: str | None
    env: str
    bounds: tuple[float, float] | None
    choices: tuple[str, ...] | None
    expect: str  # what a refused value should be, for its message

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _declared() -> Iterator[Declared]:
    for group, struct in GROUPS.items():
        hints = typing.get_type_hints(struct, include_extras=True)
        for info in msgspec.structs.fields(struct):
            name, (kind, meta) = info.name, typing.get_args(hints[info.name])
            choices = typing.get_args(kind) if typing.get_origin(kind) is Literal else None
            kind = str if choices else typing.get_origin(kind) or kind
            extra, bounds = meta.extra or {}, None if meta.ge is None else (meta.ge, meta.le)
            expect = extra["expect"] or (f"must be one of {', '.join(choices)}" if choices else "")
            if bounds and not extra["expect"]:
                expect = f"must be between {show(meta.ge)} and {show(meta.le)}"
            env, doc = extra["env"] or f"BENCH_{name.upper()}", str(meta.description)
            yield Declared(
                name, group, kind, info.default, doc, extra["metavar"], env, bounds, choices, expect
            )


def show(value: object) -> str:
    """A default or bound as people write it: ``false``, ``10``, ``0.5``, ``none``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):  # balance assertions or headers
        shown = (f"{k.isoformat()}={v:f}" if isinstance(k, date) else f"{k}={v}" for k, v in value)
        return ",".join(shown) or NONE
    return str(value)


DECLARED = tuple(_declared())
BY_NAME = {setting.name: setting for setting in DECLARED}
SOURCE_SETTINGS = tuple(s.name for s in DECLARED if s.group == "source")

# --------------------------------------------------------------------------- text

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# Numbers as text: ASCII digits only. int() and float() also take '1_0', other scripts' digits
# (Arabic-Indic '10'), 'nan', 'inf' and exponents: never what a person means by a count.
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_KINDS = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}

_ASSERTED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ASSERTED_AMOUNT = re.compile(r"-?\d{1,60}(?:\.\d{1,60})?", re.ASCII)
# With thousands separators, as the reports write amounts (2,500.00; -1,874.75). Decimals are
# required: "1,000" could be a European 1.000, and is refused.
_GROUPED_AMOUNT = re.compile(r"-?\d{1,3}(?:,\d{3})+\.\d{1,60}", re.ASCII)
# Entries are separated by a semicolon, a new line, or a comma before the next entry's date: a
# comma inside an amount (2,500.00) separates nothing.
_SEPARATORS = re.compile(r"[;\n]|,(?=\s*\d{4}-)", re.ASCII)


def _entries(value: object, what: str, separators: re.Pattern[str]) -> list[str]:
    """The entries of a text, or of a list of texts, each split at ``separators``; empty ones
    left out. `ValueError` for any other value."""
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list | tuple) or not all(isinstance(t, str) for t in texts):
        raise ValueError(f"expected {what} entries, got {type(value).__name__}")
    return [entry for text in texts for e in separators.split(text) if (entry := e.strip())]


def parse_assertions(value: object) -> Assertions:
    """``DATE=AMOUNT`` entries separated by commas, semicolons or new lines; or a list of them.
    `ValueError` names the entry for an unparsable date or amount, or a date given twice."""
    given: dict[date, tuple[Decimal, str]] = {}
    for entry in _entries(value, "DATE=AMOUNT", _SEPARATORS):
        day, amount = _assertion(entry)
        if day in given:
            twice = f"({quoted(given[day][1])} and {quoted(entry)})"
            raise ValueError(f"date {day.isoformat()} given twice {twice}")
        given[day] = (amount, entry)
    return tuple(sorted((day, amount) for day, (amount, _) in given.items()))


# A comma separates header entries only before the next NAME=: a value may hold commas.
_HEADER_SEPARATORS = re.compile(r"\n|,(?=\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=)", re.ASCII)
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*", re.ASCII)  # visible ASCII


def parse_headers(value: object) -> Headers:
    """``NAME=VALUE`` entries separated by commas or new lines, or a list of them. `ValueError`
    names the entry (its name, never its value) when one is malformed, given twice, or set by
    benchtest itself, or when there are more than `MAX_HEADERS`."""
    found: dict[str, tuple[str, str]] = {}
    for entry in _entries(value, "NAME=VALUE", _HEADER_SEPARATORS):
        name, equals, given = (part.strip() for part in entry.partition("="))
        shown = quoted(name if equals else entry, 40)
        if not equals or not re.fullmatch(_HEADER_NAME, name):
            raise ValueError(f"expected NAME=VALUE, NAME an HTTP header name, got {shown}")
        if not _HEADER_VALUE.fullmatch(given):
            raise ValueError(
                f"{shown}: the value must be visible ASCII, not empty (no control characters)"
            )
        if name.lower() in found:
            raise ValueError(f"{shown}: given twice")
        if _OWN_HEADERS.fullmatch(name):
            raise ValueError(f"{shown}: benchtest sets it, or it carries credentials (auth_header)")
        found[name.lower()] = (name, given)
    if len(found) > MAX_HEADERS:
        raise ValueError(f"at most {MAX_HEADERS} headers, got {len(found)}")
    return tuple(found.values())


def _assertion(entry: str) -> tuple[date, Decimal]:
    left, equals, right = entry.partition("=")
    day_text = left.strip()
    amount_text = right.strip().replace("\N{MINUS SIGN}", "-")  # the HTML's minus
    if _GROUPED_AMOUNT.fullmatch(amount_text):
        amount_text = amount_text.replace(",", "")
    if (
        not equals
        or not _ASSERTED_DATE.fullmatch(day_text)
        or not _ASSERTED_AMOUNT.fullmatch(amount_text)
    ):
        hint = " (a comma may only separate thousands, with decimals: 1,000.00)"
        raise ValueError(
            "expected DATE=AMOUNT such as 2013-12-22=18377.16 or 2013-12-22=18,377.16, "
            f"got {quoted(entry)}" + (hint if "," in amount_text else "")
        )
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ValueError(f"no such date {quoted(day_text)} in {quoted(entry)}") from None
    return day, Decimal(amount_text)


def zone(name: str) -> tzinfo:
    """The time zone ``name``: UTC without a lookup, any other from the tz database."""
    if name == "UTC":
        return UTC
    import zoneinfo  # only for a named zone: not at every Lambda init

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "not a time zone in this machine's tz database (IANA names such as "
            "America/Vancouver; the tzdata package provides them where the system does not)"
        ) from None


def _url(text: str) -> str:
    url = text.strip()
    if url != SAMPLE and not url.startswith(("http://", "https://")):
        raise ValueError(
            f"must be 'sample' or an http(s) URL, got {quoted(without_credentials(url), 200)}"
        )
    return url


def _from_text(setting: Declared, value: object) -> object:
    """A value given as text read as its setting's kind; other values as they are (msgspec
    checks them). `ValueError` says what is wrong."""
    if setting.kind is tuple:
        return (parse_headers if setting.name == "headers" else parse_assertions)(value)
    if not isinstance(value, str):
        return value
    if setting.name == "url":
        return _url(value)
    if setting.name == "time_zone" and value not in ("", "as_served"):
        zone(value)
    text = value.strip().lower()
    if setting.kind is bool:
        if text not in _TRUE | _FALSE:
            raise ValueError("expected true or false")
        return text in _TRUE
    if setting.kind in (int, float):
        if (_WHOLE if setting.kind is int else _DECIMAL).fullmatch(text) is None:
            raise ValueError(f"expected {_KINDS[setting.kind]} in ASCII digits")
        return setting.kind(text)
    return value


def _check(setting: Declared, value: object, origin: str) -> object:
    """``value`` for ``setting``, read and checked against its declaration (msgspec); a
    `ConfigError` naming ``origin`` when it is refused."""
    got = quoted(value) if isinstance(value, str) else repr(value)
    try:
        value = _from_text(setting, value)
        return getattr(msgspec.convert({setting.name: value}, GROUPS[setting.group]), setting.name)
    except msgspec.ValidationError as exc:
        wrong_type = ", got `" in str(exc)
        message = f"expected {_KINDS[setting.kind]}" if wrong_type else setting.expect
        reason = "required: the API must have it" if value == NONE else f"{message} (got {got})"
    except ValueError as exc:
        reason = (
            str(exc) if setting.name == "url" or setting.kind is tuple else f"{exc} (got {got})"
        )
    raise ConfigError(reason, origin=origin, field=setting.name)


def amount_terms(source: SourceSettings) -> tuple[tuple[str, bool], ...]:
    """amount_field's paths, each with whether it may be absent or null (a trailing ``?``)."""
    terms = (term.strip() for term in source.amount_field.split("+"))
    return tuple((term.rstrip("?"), term.endswith("?")) for term in terms)


def listed(text: str) -> list[str]:
    """The entries of a comma-separated setting, stripped, empty ones left out."""
    return [entry.strip() for entry in text.split(",") if entry.strip()]


def check_source(settings: Settings, reads: Sequence[str]) -> None:
    """Refuse a description that cannot be right: settings that need each other, and paths
    that overlap (one value cannot be two things). ``reads``: the path settings the paging
    style reads besides the records and the total."""
    source, refused = settings.source, settings.refused
    if source.date_form != "date" and not source.time_zone:
        raise refused(
            "time_zone",
            f"date_form = {source.date_form} needs the calendar whose days the report counts: "
            "an IANA zone (UTC, America/Vancouver), or as_served (each timestamp's own offset)",
        )
    if source.time_zone == "as_served" and source.date_form.startswith("epoch"):
        raise refused("time_zone", "as_served: a Unix time has no offset of its own; name a zone")
    if source.sign == "field" and (source.sign_field == NONE or not source.sign_values):
        raise refused("sign", "sign = field needs sign_field and sign_values (Credit=+,Debit=-)")
    if (source.skip_field == NONE) != (not listed(source.skip_values)):
        raise refused("skip_field", "skip_field and skip_values go together")
    if source.amount_form == "minor" and NONE == source.currency_field == source.currency:
        raise refused("amount_form", "minor units need a currency: currency_field or currency")
    values = {name: str(getattr(source, name)) for name in SOURCE_SETTINGS}
    used = ["records_path", "total_path", *(name for name in reads if name.endswith("_path"))]
    fields = ["date_field", "category_field", "counterparty_field"]
    values.update({f"amount_field ({term})": term for term, _ in amount_terms(source)})
    fields += [name for name in values if name.startswith("amount_field (")]
    groups = [[name for name in used if values[name] != NONE], fields]
    if source.records_path == "$":  # the body is the list: no other path is read
        groups = [fields]
    for group in groups:
        for first, second in itertools.combinations(group, 2):
            one, two = values[first], values[second]
            if NONE in (one, two):
                continue
            if one == two or f"{one}.".startswith(f"{two}.") or two.startswith(f"{one}."):
                # Blame the one set on purpose: a default is not what needs changing.
                blamed, other = (
                    (second, first) if first not in settings.origins else (first, second)
                )
                shown = f"{quoted(values[blamed])} overlaps {other} = {quoted(values[other])}"
                raise refused(blamed.partition(" ")[0], shown)


def _read_config_file(path: str | None, site: str | None) -> dict[str, str]:
    """The named section of the settings file; {} when none is named and ./sites.conf is absent.
    One named (or present) that cannot be used is an error: ignored, the run would use other
    settings, such as the bundled sample, and report success."""
    file = path if path is not None else DEFAULT_CONFIG_FILE
    if path is None and not os.path.exists(file):
        return {}
    import configparser  # only when there is a file: not at every Lambda init

    name = quoted(file, 200)
    try:
        data = read_regular_file(file, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {name}") from None
    except NotARegularFile:
        raise ConfigError(f"config file {name}: not a regular file") from None
    except OSError as exc:
        raise ConfigError(f"config file {name}: cannot read it: {exc.strerror}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {name}: larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {name}: not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text:
        raise ConfigError(f"config file {name}: binary, not an INI text file")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=file)
    except configparser.Error as exc:
        reason = for_terminal(shortened(str(exc).splitlines()[0], 200))
        raise ConfigError(f"config file {name}: {reason}") from exc
    section = site or "default"
    if site is not None and not parser.has_section(site):
        raise ConfigError(f"config file {name}: no [{shortened(site)}] section")
    values = dict(parser.items(section)) if parser.has_section(section) else {}
    unknown = sorted(set(values) - set(BY_NAME))
    if unknown:
        listed = shortened(", ".join(unknown), 200)
        raise ConfigError(f"config file {name}: [{section}]: unknown setting(s): {listed}")
    return values


def load_settings(
    overrides: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
    site: str | None = None,
    secret: Secret | None = None,
) -> Settings:
    """Merge the sources; later layers win: defaults < config file < environment < overrides
    (``None`` there: not given). Each value is checked where it was given, so an error names its
    origin. The auth header's value is ``secret`` (the Lambda's parameter) or BENCH_AUTH_TOKEN."""
    env = os.environ if env is None else env
    section = f"config file [{site or 'default'}]"
    file = _read_config_file(config_file or env.get(CONFIG_ENV) or None, site)
    given: list[tuple[str, object, str]] = [(name, value, section) for name, value in file.items()]
    # Empty means unset (``BENCH_API_URL= benchtest``); anything else, even only whitespace, is a
    # value and must be valid: a blank URL must not mean the sample.
    given += [(s.name, env[s.env], s.env) for s in DECLARED if env.get(s.env, "")]
    for name, value in (overrides or {}).items():
        if name not in BY_NAME:
            raise ConfigError(f"unknown setting: {name}")
        if value is not None:
            given.append((name, value, "option"))
    values: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    origins: dict[str, str] = {}
    for name, value, origin in given:
        values[BY_NAME[name].group][name] = _check(BY_NAME[name], value, origin)
        origins[name] = origin
    token = token_from_env(env)
    if token is not None and secret is not None:
        raise ConfigError(f"set {TOKEN_ENV} or {PARAMETER_ENV}, not both")
    token = secret or token
    fetch = FetchSettings(**values["fetch"])
    if fetch.auth_header.lower() in (name.lower() for name, _ in fetch.headers):
        raise ConfigError(
            f"{fetch.auth_header} is the auth header (auth_header): its value comes from "
            f"{TOKEN_ENV} or {PARAMETER_ENV}, never from headers",
            origin=origins.get("headers"),
            field="headers",
        )
    if token is not None and without_credentials(fetch.url) != fetch.url:
        # Both would set Authorization: refuse rather than let one silently win.
        raise ConfigError(f"the URL holds credentials and {token.origin} an auth header: use one")
    source, report = SourceSettings(**values["source"]), ReportSettings(**values["report"])
    return Settings(fetch, source, report, auth_token=token, origins=origins)
