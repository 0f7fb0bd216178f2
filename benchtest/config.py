"""Settings for a run, merged from flags > environment > config file > defaults.

One loader serves the CLI and the Lambda handler, so both read the same names and validate
them the same way.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

SAMPLE = "sample"
DEFAULT_CONFIG_FILE = "sites.conf"


@dataclass(frozen=True)
class Settings:
    url: str = SAMPLE
    concurrency: int = 8
    timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    retry_after_cap: float = 30.0
    active_days_only: bool = False
    exclude_duplicates: bool = False
    max_pages: int = 10_000
    deadline: float = 300.0
    detail_limit: int = 10_000

    @property
    def is_sample(self) -> bool:
        return self.url == SAMPLE


# Environment variable for each setting.
ENV_NAMES = {
    "url": "BENCH_API_URL",
    "concurrency": "BENCH_CONCURRENCY",
    "timeout": "BENCH_TIMEOUT",
    "retries": "BENCH_RETRIES",
    "backoff": "BENCH_BACKOFF",
    "retry_after_cap": "BENCH_RETRY_AFTER_CAP",
    "active_days_only": "BENCH_ACTIVE_DAYS_ONLY",
    "exclude_duplicates": "BENCH_EXCLUDE_DUPLICATES",
    "max_pages": "BENCH_MAX_PAGES",
    "deadline": "BENCH_DEADLINE",
    "detail_limit": "BENCH_DETAIL_LIMIT",
}

# (low, high) bounds; a value outside is a configuration error, not something to clamp silently.
_BOUNDS: dict[str, tuple[float, float]] = {
    "concurrency": (1, 64),
    "timeout": (0.1, 600),
    "retries": (0, 20),
    "backoff": (0, 60),
    "retry_after_cap": (0, 3600),
    "max_pages": (1, 1_000_000),
    "deadline": (0.1, 86_400),
    "detail_limit": (0, 1_000_000),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def normalize_url(url: str) -> str:
    """Return a page URL template: ``sample``, or an http(s) URL containing ``{page}``.

    A base ending in ``/`` gets ``{page}.json`` appended, so ``…/transactions/`` works too.
    """
    url = url.strip()
    if url == SAMPLE:
        return url
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"url: must be 'sample' or an http(s) URL, got {url!r}")
    if url.endswith("/") and "{page}" not in url:
        url += "{page}.json"
    if "{page}" not in url:
        raise ConfigError(f"url: must contain '{{page}}' or end with '/', got {url!r}")
    try:
        url.format(page=1)
    except (IndexError, KeyError, ValueError) as exc:
        raise ConfigError(f"url: only '{{page}}' may be in braces, got {url!r}") from exc
    return url


def _coerce(name: str, value: object, origin: str) -> object:
    kind = _FIELDS[name].type
    try:
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError("expected a string")
            return normalize_url(value) if name == "url" else value
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            raise ValueError("expected true or false")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("expected a number")
        number: float = int(value) if kind == "int" else float(value)
        if kind == "int" and isinstance(value, float) and value != number:
            raise ValueError("expected a whole number")
        low, high = _BOUNDS[name]
        if not low <= number <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return number
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {name}: {exc} (got {value!r})") from exc


def _read_config_file(path: str | None, site: str | None) -> dict[str, str]:
    explicit = path is not None
    file = Path(path if path is not None else DEFAULT_CONFIG_FILE)
    if not file.is_file():
        if explicit:
            raise ConfigError(f"config file not found: {file}")
        return {}
    import configparser  # only when there is a file: not at every Lambda init

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(file, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"{file}: {str(exc).splitlines()[0]}") from exc
    section = site or "default"
    if site is not None and not parser.has_section(site):
        raise ConfigError(f"{file}: no [{site}] section")
    values = dict(parser.items(section)) if parser.has_section(section) else {}
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"{file}: [{section}]: unknown setting(s): {', '.join(unknown)}")
    return values


def load_settings(
    overrides: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
    site: str | None = None,
) -> Settings:
    """Merge the sources; later layers win: defaults < config file < environment < overrides.

    ``overrides`` holds only the values the caller actually set (``None`` means "not given").
    """
    env = os.environ if env is None else env
    merged: dict[str, object] = {}
    file_values = _read_config_file(config_file or env.get("BENCH_CONFIG") or None, site)
    for name, value in file_values.items():
        merged[name] = _coerce(name, value, f"config file [{site or 'default'}]")
    for name, var in ENV_NAMES.items():
        if env.get(var, "").strip():
            merged[name] = _coerce(name, env[var], var)
    for name, given in (overrides or {}).items():
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting: {name}")
        if given is not None:
            merged[name] = _coerce(name, given, "option")
    return Settings(**merged)  # type: ignore[arg-type]
