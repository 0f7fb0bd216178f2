"""benchtest: fetch every page of a ledger API and report exact total and daily balances.

import benchtest
result = benchtest.run(benchtest.load_settings(overrides={"url": "sample"}))
print(benchtest.render(result.report, "table"))
"""

__version__ = "1.0.0"

from typing import TYPE_CHECKING

from .config import Settings, load_settings
from .errors import BenchError, ConfigError, DataError, FetchError
from .fetch import FetchStats
from .pipeline import RunResult, run
from .report import FORMATS, Report, render

if TYPE_CHECKING:
    from .server import LedgerServer, sample_pages, serve_ledger

__all__ = [
    "FORMATS",
    "BenchError",
    "ConfigError",
    "DataError",
    "FetchError",
    "FetchStats",
    "LedgerServer",
    "Report",
    "RunResult",
    "Settings",
    "__version__",
    "load_settings",
    "render",
    "run",
    "sample_pages",
    "serve_ledger",
]


def __getattr__(name: str) -> object:
    """The loopback server on first use: a Lambda with a real URL never imports it at init."""
    if name in ("LedgerServer", "sample_pages", "serve_ledger"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
