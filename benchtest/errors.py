"""Errors a run can end with, one class per cause; the shells map them at one boundary."""

from __future__ import annotations

from .text import shortened
from .urls import without_credentials


class BenchtestError(Exception):
    """A run that must not be reported as a success. Exit code 1."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        page: int | None = None,
        index: int | None = None,
        field: str | None = None,
        url: str | None = None,
        origin: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.origin = origin  # where a bad value came from: an option, a variable, a file
        self.page = page
        self.index = index  # the record's position in the page's records
        self.records = "transactions"  # where the page holds its records (records_path)
        self.field = field
        self.url = url

    @property
    def url(self) -> str | None:
        """The URL involved, credentials removed."""
        return self._url

    @url.setter
    def url(self, value: str | None) -> None:
        self._url = None if value is None else without_credentials(value)

    def locate(self, *, page: int, url: str | None = None) -> None:
        """Fill in the page (and URL) where the raiser did not know them."""
        if self.page is None:
            self.page = page
        if self.url is None:
            self.url = url

    def _where(self) -> list[str]:
        where = [] if self.origin is None else [self.origin]
        if self.page is not None:
            where.append(f"page {self.page}")
        if self.index is not None:
            where.append(f"{self.records}[{self.index}]" + (f".{self.field}" if self.field else ""))
        elif self.field is not None:
            where.append(self.field)
        return where

    def __str__(self) -> str:
        return ": ".join([*(shortened(where, 200) for where in self._where()), self.message])


class ConfigError(BenchtestError):
    """Bad settings, flags, environment, config file or event. Exit code 2 (usage)."""

    exit_code = 2


class FetchError(BenchtestError):
    """A page could not be fetched: redirect refused, body over the cap, and the subclasses."""


class HTTPStatusError(FetchError):
    """The server answered with an error status (after the retries it allows)."""

    def __init__(self, message: str, *, status: int, **where: int | str | None) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.status = status


class NetworkError(FetchError):
    """No usable answer: connection refused or reset, DNS, TLS, timeout, truncated body."""


class DeadlineError(FetchError):
    """The run's deadline passed (or the run was stopped) before the page arrived."""


class DataError(BenchtestError):
    """A page was fetched but its content is wrong: invalid JSON, record, or counts."""


class StorageError(BenchtestError):
    """A report or a run's working data could not be written or read back."""
