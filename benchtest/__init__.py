"""benchtest: fetch every page of a ledger API and report exact total and daily balances."""

from ._version import __version__
from .errors import (
    BenchtestError,
    ConfigError,
    DataError,
    DeadlineError,
    FetchError,
    HTTPStatusError,
    NetworkError,
    StorageError,
)
from .model import Report
from .pipeline import RunResult, run
from .renderers import FORMATS, render
from .settings import Settings, load_settings
from .stats import RunStats

__all__ = [
    "FORMATS",
    "BenchtestError",
    "ConfigError",
    "DataError",
    "DeadlineError",
    "FetchError",
    "HTTPStatusError",
    "NetworkError",
    "Report",
    "RunResult",
    "RunStats",
    "Settings",
    "StorageError",
    "__version__",
    "load_settings",
    "render",
    "run",
]
