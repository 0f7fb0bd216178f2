"""Settings for a run, merged from flags > environment > config file > defaults.

Each setting is declared once, as a `Settings` field (default, environment variable, bounds,
help); the CLI's flags, the environment, ``sites.conf`` and docs/settings.md's table are all derived
from those declarations (`SETTINGS`), so they cannot disagree. One loader serves the CLI and the
Lambda handler, so both read the same names and validate them the same way.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import re
import stat
import string
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

from .auth import PARAMETER_ENV, TOKEN_ENV, Secret
from .auth import from_env as token_from_env
from .errors import ConfigError, without_credentials
from .text import for_terminal, quoted, shortened

SAMPLE = "sample"
DEFAULT_CONFIG_FILE = "sites.conf"

# Environment variables that are not settings of a run: where the settings file is, and the
# Lambda's report bucket (read by `storage.S3Target.from_env`; an event can never change them).
CONFIG_ENV = "BENCH_CONFIG"
REPORT_BUCKET_ENV = "REPORT_BUCKET"
REPORT_PREFIX_ENV = "REPORT_PREFIX"
REPORT_KMS_KEY_ID_ENV = "REPORT_KMS_KEY_ID"

_T = TypeVar("_T")
_ASSERTED_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ASSERTED_AMOUNT = re.compile(r"-?\d{1,60}(?:\.\d{1,60})?", re.ASCII)
# With thousands separators, as the reports write amounts (2,500.00; -1,874.75 or U+2212 in the
# HTML). Decimals are required: "1,000" could be a European 1.000, and is refused.
_GROUPED_AMOUNT = re.compile(r"[-\N{MINUS SIGN}]?\d{1,3}(?:,\d{3})+\.\d{1,60}", re.ASCII)
# Entries are separated by a semicolon, a new line, or a comma before the next entry's date: a
# comma inside an amount (2,500.00) separates nothing.
_SEPARATORS = re.compile(r"[;\n]|,(?=\s*\d{4}-)", re.ASCII)


class BalanceAssertions(tuple[tuple[date, Decimal], ...]):
    """(date, expected closing balance) pairs in date order: the ``assert_balance`` setting.

    Written ``2013-12-22=18377.16,2013-12-20=17000`` (the form of the flag, the variable and
    the config file), which is also what ``str`` gives back.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return ",".join(f"{day.isoformat()}={amount:f}" for day, amount in self) or "none"


def parse_assertions(value: object) -> BalanceAssertions:
    """``DATE=AMOUNT`` entries separated by commas, semicolons or new lines; or a list of them.

    Raise `ValueError` naming the entry for an unparsable date or amount, or a date given twice.
    """
    if isinstance(value, BalanceAssertions):
        return value
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        texts = list(value)
    else:
        raise ValueError(f"expected DATE=AMOUNT entries, got {value!r}")
    given: dict[date, tuple[Decimal, str]] = {}
    for text in texts:
        for entry in (e.strip() for e in _SEPARATORS.split(text)):
            if not entry:
                continue
            day, amount = _assertion(entry)
            if day in given:
                raise ValueError(
                    f"date {day.isoformat()} given twice ({given[day][1]!r} and {entry!r})"
                )
            given[day] = (amount, entry)
    return BalanceAssertions(sorted((day, amount) for day, (amount, _) in given.items()))


def _assertion(entry: str) -> tuple[date, Decimal]:
    left, equals, right = entry.partition("=")
    day_text, amount_text = left.strip(), right.strip()
    if _GROUPED_AMOUNT.fullmatch(amount_text):
        amount_text = amount_text.replace(",", "").replace("\N{MINUS SIGN}", "-")
    if (
        not equals
        or not _ASSERTED_DATE.fullmatch(day_text)
        or not _ASSERTED_AMOUNT.fullmatch(amount_text)
    ):
        hint = " (a comma may only separate thousands, with decimals: 1,000.00)"
        raise ValueError(
            "expected DATE=AMOUNT such as 2013-12-22=18377.16 or 2013-12-22=18,377.16, "
            f"got {entry!r}" + (hint if "," in amount_text else "")
        )
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ValueError(f"no such date {day_text!r} in {entry!r}") from None
    return day, Decimal(amount_text)


NO_ASSERTIONS = BalanceAssertions()


class _Declared(NamedTuple):
    env: str
    help: str
    bounds: tuple[float, float] | None
    metavar: str | None
    choices: tuple[str, ...] | None


def _setting(
    default: _T,
    env: str,
    help: str,
    *,
    bounds: tuple[float, float] | None = None,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
) -> _T:
    """Declare a `Settings` field with everything a flag, variable or file entry needs."""
    return dataclasses.field(
        default=default, metadata={"setting": _Declared(env, help, bounds, metavar, choices)}
    )


# How pages are addressed (docs/sources.md): the styles and the URL placeholders each takes.
PLACEHOLDERS = {
    "page": ("page",),
    "offset": ("offset", "limit"),
    "cursor": (),
    "next_url": (),
    "link": (),
}
NONE = "none"  # an optional path or field the API does not have


@dataclass(frozen=True)
class Settings:
    """A run's settings; each field is the one declaration of that setting (see `SETTINGS`)."""

    url: str = _setting(
        SAMPLE,
        "BENCH_API_URL",
        "the ledger's URL: with {page} (or a base ending in '/') for paging=page, with {offset} "
        "(and {limit}) for offset, page 1's URL for the others; or 'sample': the bundled ledger, "
        "served on 127.0.0.1",
        metavar="TEMPLATE",
    )
    concurrency: int = _setting(
        8, "BENCH_CONCURRENCY", "pages fetched at once", bounds=(1, 64), metavar="N"
    )
    timeout: float = _setting(
        10.0, "BENCH_TIMEOUT", "seconds per request", bounds=(0.1, 600), metavar="S"
    )
    retries: int = _setting(
        4,
        "BENCH_RETRIES",
        "retries per page, on connection errors, timeouts, 429 and 5xx",
        bounds=(0, 20),
        metavar="N",
    )
    backoff: float = _setting(
        0.5,
        "BENCH_BACKOFF",
        "exponential backoff factor and jitter, seconds",
        bounds=(0, 60),
        metavar="S",
    )
    retry_after_cap: float = _setting(
        30.0,
        "BENCH_RETRY_AFTER_CAP",
        "longest Retry-After waited, seconds; a longer one fails the run",
        bounds=(0, 3600),
        metavar="S",
    )
    deadline: float = _setting(
        300.0, "BENCH_DEADLINE", "seconds for the whole run", bounds=(0.1, 86_400), metavar="S"
    )
    max_pages: int = _setting(
        100_000, "BENCH_MAX_PAGES", "refuse longer ledgers", bounds=(1, 1_000_000), metavar="N"
    )
    detail_limit: int = _setting(
        10_000,
        "BENCH_DETAIL_LIMIT",
        "most transactions listed per report; above it, only the aggregates",
        bounds=(0, 1_000_000),
        metavar="N",
    )
    max_days: int = _setting(
        3_660,
        "BENCH_MAX_DAYS",
        "most calendar days a report lists; a longer span needs --active-days-only",
        bounds=(1, 1_000_000),
        metavar="N",
    )
    active_days_only: bool = _setting(
        False, "BENCH_ACTIVE_DAYS_ONLY", "list only days with transactions, not every day"
    )
    exclude_duplicates: bool = _setting(
        False, "BENCH_EXCLUDE_DUPLICATES", "leave possible duplicates out of every total"
    )
    # _setting returns a dataclasses.field; ruff only knows that of fields typed int, str, …
    assert_balance: BalanceAssertions = _setting(  # noqa: RUF009
        NO_ASSERTIONS,
        "BENCH_ASSERT_BALANCE",
        "closing balances to check, e.g. 2013-12-22=18377.16 (or 18,377.16); repeat the flag "
        "or separate with commas; a mismatch exits 3",
        metavar="DATE=AMOUNT",
    )
    auth_header: str = _setting(
        "Authorization",
        "BENCH_AUTH_HEADER",
        f"HTTP header that carries the API token; its value comes from {TOKEN_ENV} "
        f"(CLI) or the SSM parameter {PARAMETER_ENV} names (Lambda), never a flag",
        metavar="NAME",
    )
    # The source description (docs/sources.md); the defaults are the Bench shape.
    paging: str = _setting(
        "page",
        "BENCH_PAGING",
        "how the API pages: {page} or {offset} in the URL, a cursor or the next URL in the body "
        "(next_path), or the Link header; docs/sources.md",
        metavar="STYLE",
        choices=tuple(PLACEHOLDERS),
    )
    page_end: str = _setting(
        "404",
        "BENCH_PAGE_END",
        "paging=page: what the page after the last is",
        metavar="END",
        choices=("404", "empty"),
    )
    limit: int = _setting(
        100,
        "BENCH_LIMIT",
        "paging=offset: the page size asked for as {limit}",
        bounds=(1, 100_000),
        metavar="N",
    )
    next_path: str = _setting(
        "next",
        "BENCH_NEXT_PATH",
        "paging=cursor or next_url: where the body holds the cursor or the next page's URL",
        metavar="PATH",
    )
    cursor_param: str = _setting(
        "cursor",
        "BENCH_CURSOR_PARAM",
        "paging=cursor: the query parameter that carries the cursor",
        metavar="NAME",
    )
    records_path: str = _setting(
        "transactions",
        "BENCH_RECORDS_PATH",
        "where the body holds the records: a key or a dotted path such as data.items, or $ when "
        "the body is the list",
        metavar="PATH",
    )
    total_path: str = _setting(
        "totalCount",
        "BENCH_TOTAL_PATH",
        "where the body may hold the total count of records; none if it never does",
        metavar="PATH",
    )
    page_path: str = _setting(
        "page",
        "BENCH_PAGE_PATH",
        "paging=page: where the body echoes its page number; none if it does not",
        metavar="PATH",
    )
    date_field: str = _setting("Date", "BENCH_DATE_FIELD", "the records' date", metavar="KEY")
    amount_field: str = _setting(
        "Amount", "BENCH_AMOUNT_FIELD", "the records' amount", metavar="KEY"
    )
    category_field: str = _setting(
        "Ledger",
        "BENCH_CATEGORY_FIELD",
        "the records' category; none if they have none",
        metavar="KEY",
    )
    counterparty_field: str = _setting(
        "Company",
        "BENCH_COUNTERPARTY_FIELD",
        "the records' counterparty (vendor); none if they have none",
        metavar="KEY",
    )
    date_form: str = _setting(
        "date",
        "BENCH_DATE_FORM",
        "date: YYYY-MM-DD; timestamp: RFC 3339 with an offset, counted on its date in time_zone",
        metavar="FORM",
        choices=("date", "timestamp"),
    )
    time_zone: str = _setting(
        "UTC",
        "BENCH_TIME_ZONE",
        "date_form=timestamp: the IANA time zone whose calendar days the report counts",
        metavar="ZONE",
    )
    amount_form: str = _setting(
        "string",
        "BENCH_AMOUNT_FORM",
        "string: a JSON string holding a plain decimal; number: a plain JSON number, read "
        "exactly from its text (never through a float)",
        metavar="FORM",
        choices=("string", "number"),
    )
    # The header's value: not a setting (no flag, no file entry), so it has no declaration.
    auth_token: Secret | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def is_sample(self) -> bool:
        return self.url == SAMPLE


@dataclass(frozen=True)
class Setting:
    """One setting as flags, environment and config file see it, derived from `Settings`."""

    name: str
    type: type  # str, int, float, bool or BalanceAssertions
    default: object
    env: str
    help: str
    bounds: tuple[float, float] | None
    metavar: str | None
    choices: tuple[str, ...] | None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _settings() -> tuple[Setting, ...]:
    types = typing.get_type_hints(Settings)
    return tuple(
        Setting(field.name, types[field.name], field.default, *field.metadata["setting"])
        for field in dataclasses.fields(Settings)
        if "setting" in field.metadata
    )


SETTINGS = _settings()
_BY_NAME = {setting.name: setting for setting in SETTINGS}
# The source description, declared last: how the API pages, where a page's values are.
SOURCE_SETTINGS = tuple(_BY_NAME)[tuple(_BY_NAME).index("paging") :]
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# Numbers as text: ASCII digits only. int() and float() also take '1_0', other scripts' digits
# (Arabic-Indic '10'), 'nan', 'inf' and exponents: never what a person means by a count.
_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# An HTTP header name (RFC 9110 token).
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
# A query parameter name, in RFC 3986's unreserved characters (sent as is).
_PARAMETER = re.compile(r"[A-Za-z0-9._~-]+")
# A JSON key as a source setting names it (no dot, space or control), and a dotted path of them.
_KEY = re.compile(r"[^.\x00-\x20\x7f]+")
_PATH = re.compile(rf"{_KEY.pattern}(?:\.{_KEY.pattern})*")
_OPTIONAL = {"total_path", "page_path", "category_field", "counterparty_field"}
# DNS's longest host name (RFC 1035 2.3.4).
MAX_HOST_CHARS = 253
# A settings file larger than this is not one (``--config /dev/urandom``, a log file).
MAX_CONFIG_BYTES = 1 << 20


def show(value: object) -> str:
    """A default or bound as people write it: ``false``, ``10``, ``0.5``, ``1000000``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalize_url(url: str, paging: str | None = "page") -> str:
    """Return ``sample``, or an http(s) URL with the placeholders ``paging`` takes (none checked
    when ``paging`` is None: the style may come from another source of settings).

    For page numbers, a base ending in ``/`` gets ``{page}.json`` appended, so
    ``…/transactions/`` works too.
    """
    url = url.strip()
    if url == SAMPLE:
        return url
    try:
        shown: str = without_credentials(url)
        located: str | None = shown
    except ValueError:  # urlsplit refused it (``http://[::1/x``): remove credentials as text
        shown, located = re.sub(r"//[^/?#]*@", "//", url), None

    def refused(reason: str) -> ConfigError:
        return ConfigError(f"{reason}, got {quoted(shown, 200)}", field="url", url=located)

    if not url.startswith(("http://", "https://")):
        raise refused("must be 'sample' or an http(s) URL")
    if paging is None:
        return url
    names = PLACEHOLDERS[paging]
    if paging == "page" and url.endswith("/") and "{page}" not in url:
        url += "{page}.json"
    try:
        fields = template_fields(url, names)
    except ValueError as exc:
        raise refused(f"{exc} (paging = {paging})" if paging != "page" else str(exc)) from None
    if names and names[0] not in fields:
        needs = "or end with '/'" if paging == "page" else f"(paging = {paging})"
        raise refused(f"must contain '{{{names[0]}}}' {needs}")
    return url


def template_fields(url: str, allowed: Collection[str]) -> set[str]:
    """The fields of the URL template ``url``, all of ``allowed``; ValueError saying what is
    wrong with it.

    A field is a bare ``{name}`` in the path or query: no attribute or index
    (``{page.__class__}``), conversion (``{page!r}``) or format spec (``{page:>999999999}``
    makes a 1 GB URL). No whitespace or control character anywhere (an indented line in
    sites.conf continues the value), a host within DNS's lengths, a port from 1 to 65535.
    """
    bad = next((i for i, c in enumerate(url) if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise ValueError(f"whitespace or a control character at position {bad + 1}")
    fields: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(url))
    except ValueError:
        raise ValueError("unbalanced braces ('{{' and '}}' are braces as text)") from None
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in allowed or spec or conversion):
            named = " or ".join(f"'{{{field}}}'" for field in sorted(allowed))
            raise ValueError(f"only {named} may be in braces" if allowed else "no braces here")
        if name is not None:
            fields.add(name)
    try:
        parts = urlsplit(url)
    except ValueError:  # the only complaint of urlsplit
        raise ValueError("the host in brackets is not an IPv6 address") from None
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if "{" in parts.netloc or "}" in parts.netloc:
        raise ValueError("braces in the host or port: requests go to one origin")
    host = parts.hostname
    if not host:
        raise ValueError("no host")
    if ":" not in host:  # a name, not an IPv6 address
        try:
            dns = host.encode("idna")  # checks each label: 1 to 63 characters, IDNA's rules
        except UnicodeError:
            raise ValueError("a host name label is empty, over 63 characters or not IDNA") from None
        if len(dns.rstrip(b".")) > MAX_HOST_CHARS:
            raise ValueError(f"host name over {MAX_HOST_CHARS} characters")
    return fields


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


def _check_text(name: str, value: str) -> str:
    """A source setting's text: a path, a key, a query parameter or a time zone."""
    if name == "auth_header" and _HEADER_NAME.fullmatch(value) is None:
        raise ValueError("must be an HTTP header name (letters, digits, !#$%&'*+.^_`|~-)")
    if name == "cursor_param" and _PARAMETER.fullmatch(value) is None:
        raise ValueError("must be a query parameter name (letters, digits, ._~-)")
    if name == "time_zone":
        zone(value)
    if not name.endswith(("_path", "_field")):
        return value
    if (value == NONE and name in _OPTIONAL) or (value == "$" and name == "records_path"):
        return value
    if value == NONE:
        raise ValueError("required: the API must have it")
    if (_KEY if name.endswith("_field") else _PATH).fullmatch(value) is None:
        raise ValueError(
            "expected a key" if name.endswith("_field") else "expected a key or a dotted path"
        )
    return value


def _check_source(
    merged: dict[str, object], origins: Mapping[str, str], urls: list[tuple[str, str]]
) -> None:
    """Check the settings that only make sense together: each URL given (from every source,
    as every other setting is) against the paging style, and the paths."""
    values = {name: merged.get(name, _BY_NAME[name].default) for name in SOURCE_SETTINGS}
    paging = str(values["paging"])

    def refuse(text: str, name: str) -> ConfigError:
        return ConfigError(text, origin=origins.get(name), field=name)

    for url, origin in urls:
        try:
            merged["url"] = normalize_url(url, paging)
        except ConfigError as exc:
            exc.origin = origin
            raise
    used = ["records_path", "total_path"]
    used += ["page_path"] if paging == "page" else []
    used += ["next_path"] if paging in ("cursor", "next_url") else []
    fields = [name for name in SOURCE_SETTINGS if name.endswith("_field")]
    groups = [[name for name in used if values[name] != NONE], fields]
    if values["records_path"] == "$":  # the body is the list: no other path is read
        groups = [fields]
    for group in groups:
        for first, second in itertools.combinations(group, 2):
            one, two = str(values[first]), str(values[second])
            if one == two != NONE or f"{one}.".startswith(f"{two}.") or two.startswith(f"{one}."):
                # Blame the one set on purpose: a default is not what needs changing.
                blamed, other = (second, first) if first not in origins else (first, second)
                refused = f"{values[blamed]!r} overlaps {other} = {values[other]!r}"
                raise refuse(refused, blamed)


def _coerce(setting: Setting, value: object, origin: str) -> object:
    """Check and convert one value, the same way whether it came from a flag, variable or file."""
    kind = setting.type
    try:
        if kind is BalanceAssertions:
            try:
                return parse_assertions(value)
            except ValueError as exc:
                raise ConfigError(str(exc), origin=origin, field=setting.name) from exc
        if kind is str:
            if not isinstance(value, str):
                raise ValueError("expected a string")
            if setting.choices is not None and value not in setting.choices:
                raise ValueError(f"must be one of {', '.join(setting.choices)}")
            if setting.name == "url":
                return normalize_url(value, None)
            return _check_text(setting.name, value)
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError("expected true or false")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("expected a number")
        if isinstance(value, str):
            value = value.strip()
            if (_WHOLE if kind is int else _DECIMAL).fullmatch(value) is None:
                digits = "a whole number" if kind is int else "a number"
                raise ValueError(f"expected {digits} in ASCII digits")
        number: float = int(value) if kind is int else float(value)
        if kind is int and isinstance(value, float) and value != number:
            raise ValueError("expected a whole number")
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        if setting.bounds is not None:
            low, high = setting.bounds
            if not low <= number <= high:
                raise ValueError(f"must be between {show(low)} and {show(high)}")
        return number
    except ConfigError as exc:
        exc.origin = origin
        raise
    except (TypeError, ValueError) as exc:
        got = quoted(value) if isinstance(value, str) else repr(value)
        raise ConfigError(f"{exc} (got {got})", origin=origin, field=setting.name) from exc


class NotARegularFile(OSError):
    """A path that names a folder, a FIFO, a device: nothing a file's bytes can be read from."""


def read_regular_file(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes and one more of the regular file at ``path``. It is opened
    without blocking and checked before it is read, so a FIFO (whose open and read wait for a
    writer, forever) or a device is refused at once, and nothing can replace it in between."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(0, "not a regular file")
        with open(fd, "rb", closefd=False) as file:
            return file.read(limit + 1)
    finally:
        os.close(fd)


def _read_config_file(path: str | None, site: str | None) -> dict[str, str]:
    """The named section of the settings file; {} when none is named and ./sites.conf is absent.

    A file that is named (or present) but cannot be used is an error, never ignored: ignoring
    it would run with other settings, such as the bundled sample, and report success.
    """
    file = Path(path if path is not None else DEFAULT_CONFIG_FILE)
    if path is None and not file.exists():
        return {}
    import configparser  # only when there is a file: not at every Lambda init

    name = quoted(str(file), 200)
    try:
        data = read_regular_file(str(file), MAX_CONFIG_BYTES)
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
        parser.read_string(text, source=str(file))
    except configparser.Error as exc:
        reason = for_terminal(shortened(str(exc).splitlines()[0], 200))
        raise ConfigError(f"config file {name}: {reason}") from exc
    section = site or "default"
    if site is not None and not parser.has_section(site):
        raise ConfigError(f"config file {name}: no [{shortened(site)}] section")
    values = dict(parser.items(section)) if parser.has_section(section) else {}
    unknown = sorted(set(values) - set(_BY_NAME))
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
    """Merge the sources; later layers win: defaults < config file < environment < overrides.

    ``overrides`` holds only the values the caller actually set (``None`` means "not given").
    The auth header's value is ``secret`` (the Lambda's parameter) or ``BENCH_AUTH_TOKEN``.
    """
    env = os.environ if env is None else env
    merged: dict[str, object] = {}
    origins: dict[str, str] = {}  # where each value came from, for errors found together
    urls: list[tuple[str, str]] = []  # every URL given, and where: checked once paging is known
    file_values = _read_config_file(config_file or env.get(CONFIG_ENV) or None, site)
    for name, value in file_values.items():
        origins[name] = f"config file [{site or 'default'}]"
        merged[name] = _coerce(_BY_NAME[name], value, origins[name])
        urls += [(str(merged[name]), origins[name])] if name == "url" else []
    for setting in SETTINGS:
        # Empty means unset (``BENCH_API_URL= benchtest``); anything else, even only
        # whitespace, is a value and must be valid: a blank URL must not mean the sample.
        if env.get(setting.env, ""):
            origins[setting.name] = setting.env
            merged[setting.name] = _coerce(setting, env[setting.env], setting.env)
            urls += [(str(merged[setting.name]), setting.env)] if setting.name == "url" else []
    for name, given in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting: {name}")
        if given is not None:
            origins[name] = "option"
            merged[name] = _coerce(_BY_NAME[name], given, "option")
            urls += [(str(merged[name]), "option")] if name == "url" else []
    _check_source(merged, origins, urls)
    token = token_from_env(env)
    if token is not None and secret is not None:
        raise ConfigError(f"set {TOKEN_ENV} or {PARAMETER_ENV}, not both")
    token = secret or token
    if token is not None and "@" in urlsplit(str(merged.get("url", SAMPLE))).netloc:
        # Both would set Authorization: refuse rather than let one silently win.
        raise ConfigError(f"the URL holds credentials and {token.origin} an auth header: use one")
    merged["auth_token"] = token
    return Settings(**merged)  # type: ignore[arg-type]
