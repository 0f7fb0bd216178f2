"""Errors a run can end with.

Every expected failure is a `BenchError` whose message is one line naming the page (and record
and field where there is one), so the CLI can print it without a traceback and the Lambda can
raise it as the invocation's error.
"""

from __future__ import annotations


class BenchError(Exception):
    """A run that must not be reported as a success. Exit code 1."""

    exit_code = 1


class ConfigError(BenchError):
    """Bad settings, flags, environment or config file. Exit code 2 (usage)."""

    exit_code = 2


class FetchError(BenchError):
    """A page could not be fetched: HTTP status, network, deadline, size cap."""


class DataError(BenchError):
    """A page was fetched but its content is wrong: invalid JSON, record, or counts."""

    @classmethod
    def at(
        cls, page: int, message: str, index: int | None = None, field: str | None = None
    ) -> DataError:
        """Build the one-line message: ``page 3: transactions[4].Amount: <what is wrong>``."""
        where = f"page {page}"
        if index is not None:
            where += f": transactions[{index}]"
            if field is not None:
                where += f".{field}"
        elif field is not None:
            where += f": {field}"
        return cls(f"{where}: {message}")
