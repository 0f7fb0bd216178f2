"""Fetch every page of a ledger: page 1 first, then the rest concurrently, then the 404 end.

Retries (connection errors, timeouts, 429, 5xx; backoff with jitter; Retry-After) are urllib3's
`Retry`, extended only to cap Retry-After and to give up instead of sleeping past the run's
deadline. Pages are yielded as they arrive, through a bounded window, so memory holds a few
pages at a time however long the ledger is.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from . import __version__
from .config import Settings
from .errors import DataError, FetchError
from .transactions import Page, parse_page

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page of 1,000 transactions is ~100 KB
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
END = None  # what `_Fetcher.get` returns for the 404 that marks the end of the ledger


@dataclass
class FetchStats:
    pages: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    expected_pages: int | None = None


class _Retry(Retry):
    """urllib3 Retry that caps Retry-After and never sleeps past the deadline or an abort."""

    def __init__(
        self,
        *args: Any,
        deadline: float = math.inf,
        retry_after_cap: float = 30.0,
        abort: threading.Event | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.retry_after_cap = retry_after_cap
        self.abort = abort or threading.Event()

    def new(self, **kw: Any) -> _Retry:
        kw.setdefault("deadline", self.deadline)
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        kw.setdefault("abort", self.abort)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self.retry_after_cap)

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = self.get_retry_after(response)
        if delay is None:
            delay = self.get_backoff_time()
        if time.monotonic() + delay > self.deadline:
            raise FetchError(f"deadline reached: a retry would have to wait {delay:.1f}s")
        if self.abort.wait(delay):
            raise FetchError("aborted: another page failed")


class _Fetcher:
    """GET and validate one page; shared by the worker threads of one run."""

    def __init__(self, template: str, settings: Settings, deadline: float, stats: FetchStats):
        self.template = template
        self.timeout = settings.timeout
        self.deadline = deadline
        self.stats = stats
        self.abort = threading.Event()
        self._lock = threading.Lock()
        retry = _Retry(
            total=settings.retries,
            backoff_factor=settings.backoff,
            backoff_jitter=settings.backoff,
            backoff_max=settings.retry_after_cap,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            deadline=deadline,
            retry_after_cap=settings.retry_after_cap,
            abort=self.abort,
        )
        adapter = HTTPAdapter(
            pool_connections=1,
            pool_maxsize=settings.concurrency,
            pool_block=True,
            max_retries=retry,
        )
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.max_redirects = 5
        self.session.headers.update(
            {"User-Agent": f"benchtest/{__version__}", "Accept": "application/json"}
        )
        # Proxy settings from the environment must not capture loopback traffic.
        host = urlsplit(template.format(page=1)).hostname or ""
        self.session.trust_env = host not in {"127.0.0.1", "localhost", "::1"}

    def close(self) -> None:
        self.abort.set()
        self.session.close()

    def url(self, number: int) -> str:
        return self.template.format(page=number)

    def get(self, number: int) -> bytes | None:
        url = self.url(number)
        try:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError("deadline reached before the request")
            with self.session.get(url, timeout=min(self.timeout, remaining), stream=True) as resp:
                self._count(resp)
                if resp.status_code == 404:
                    return END
                if resp.status_code != 200:
                    raise FetchError(f"HTTP {resp.status_code}{self._after(resp)}")
                body = self._read(resp)
        except FetchError as exc:  # raised here, or by `_Retry.sleep`, which knows no page
            exc.locate(page=number, url=url)
            raise
        except requests.RequestException as exc:
            raise FetchError(_reason(exc), page=number, url=url) from exc
        return body

    def parse(self, number: int, body: bytes) -> Page:
        try:
            return parse_page(number, body)
        except DataError as exc:
            exc.locate(page=number, url=self.url(number))
            raise

    def error(self, number: int, message: str) -> FetchError:
        return FetchError(message, page=number, url=self.url(number))

    def _count(self, resp: requests.Response) -> None:
        history = getattr(resp.raw.retries, "history", ())
        with self._lock:
            self.stats.requests += 1 + len(history)
            self.stats.retries += len(history)

    def _after(self, resp: requests.Response) -> str:
        history = getattr(resp.raw.retries, "history", ())
        return f" after {len(history) + 1} attempts" if history else ""

    def _read(self, resp: requests.Response) -> bytes:
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_PAGE_BYTES:
            raise FetchError(f"response of {declared} bytes exceeds the cap")
        chunks = []
        size = 0
        for chunk in resp.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise FetchError(f"response exceeds {MAX_PAGE_BYTES} bytes")
            if time.monotonic() > self.deadline:
                raise FetchError("deadline reached while reading the response")
            chunks.append(chunk)
        return b"".join(chunks)


def _reason(exc: requests.RequestException) -> str:
    """One line for a requests failure (its str() nests urllib3's repr several levels deep)."""
    reasons: list[tuple[type[Exception], str]] = [
        (
            requests.exceptions.ChunkedEncodingError,
            "response truncated (connection closed mid-body)",
        ),
        (requests.exceptions.ConnectTimeout, "connection timed out after retries"),
        (requests.exceptions.ReadTimeout, "timed out waiting for the server after retries"),
        (requests.exceptions.TooManyRedirects, "too many redirects"),
        (requests.exceptions.ConnectionError, "connection failed after retries"),
    ]
    return next((text for kind, text in reasons if isinstance(exc, kind)), type(exc).__name__)


# Given page 1 and the last page's number, fetch and aggregate the rest elsewhere and return
# the count of transactions of pages 2..last, or return None to leave them to `fetch_pages`.
Delegate = Callable[[Page, int], int | None]


def fetch_pages(
    template: str,
    settings: Settings,
    stats: FetchStats,
    deadline: float,
    delegate: Delegate | None = None,
) -> Iterator[Page]:
    """Yield every page of the ledger, validated, in arrival order; raise on any gap or mismatch.

    ``deadline`` is a `time.monotonic()` value for the whole run. ``delegate`` (workers.py)
    may take over once page 1 gives the page count; then page 1 is its, and nothing is yielded.
    """
    fetcher = _Fetcher(template, settings, deadline, stats)
    try:
        body = fetcher.get(1)
        if body is END:
            raise fetcher.error(1, "HTTP 404: no ledger at this URL")
        first = fetcher.parse(1, body)
        total = first.total_count
        received = len(first)
        stats.pages = 1
        if total is None:
            yield first
            log.info("no totalCount on page 1: fetching pages in order until the 404")
            pages: Iterator[Page] = _in_order(fetcher, settings.max_pages)
        else:
            last = _page_count(fetcher, total, len(first), settings.max_pages)
            rest = None if delegate is None else delegate(first, last)
            if rest is None:
                yield first
                stats.expected_pages = last
                pages = _concurrently(fetcher, last, settings.concurrency)
            else:
                received += rest
                pages = iter(())
        for page in pages:
            _check_total(fetcher, page, total)
            received += len(page)
            stats.pages += 1
            yield page
        if total is not None and received != total:
            raise DataError(
                f"totalCount is {total} but {stats.pages} pages held {received} transactions"
            )
    finally:
        fetcher.close()


def fetch_share(
    template: str,
    settings: Settings,
    stats: FetchStats,
    deadline: float,
    numbers: list[int],
    last: int,
    total: int,
) -> Iterator[Page]:
    """Pages ``numbers`` of a ledger of ``last`` pages (a worker process's share, see
    workers.py), checked as `fetch_pages` checks them: ``last + 1`` must be the 404."""
    fetcher = _Fetcher(template, settings, deadline, stats)
    try:
        for page in _concurrently(fetcher, last, settings.concurrency, numbers):
            _check_total(fetcher, page, total)
            yield page
    finally:
        fetcher.close()


def _check_total(fetcher: _Fetcher, page: Page, total: int | None) -> None:
    if page.total_count != total:
        raise DataError(
            f"is {page.total_count}, page 1 said {total}",
            page=page.number,
            field="totalCount",
            url=fetcher.url(page.number),
        )


def _page_count(fetcher: _Fetcher, total: int, size: int, max_pages: int) -> int:
    if total == 0:
        return 1
    if size == 0:
        raise DataError(f"no transactions, but totalCount is {total}", page=1, url=fetcher.url(1))
    last = math.ceil(total / size)
    if last > max_pages:
        raise fetcher.error(
            1, f"totalCount {total} at {size} per page needs {last} pages (the cap is {max_pages})"
        )
    return last


def _in_order(fetcher: _Fetcher, max_pages: int) -> Iterator[Page]:
    for number in range(2, max_pages + 2):
        body = fetcher.get(number)
        if body is END:
            return
        if number > max_pages:
            raise fetcher.error(number, f"more than the cap of {max_pages} pages")
        yield fetcher.parse(number, body)


def _concurrently(
    fetcher: _Fetcher, last: int, concurrency: int, share: list[int] | None = None
) -> Iterator[Page]:
    """Pages 2..last, plus last+1 which must be the 404 (or those of ``share``); at most
    2 x concurrency in flight."""
    numbers = iter(range(2, last + 2) if share is None else share)
    window = 2 * concurrency
    with ThreadPoolExecutor(concurrency, thread_name_prefix="benchtest-fetch") as pool:
        pending: set[Future[bytes | None]] = set()
        submitted: dict[Future[bytes | None], int] = {}

        def refill(submit: Callable[..., Future[bytes | None]] = pool.submit) -> None:
            for number in numbers:
                future = submit(fetcher.get, number)
                pending.add(future)
                submitted[future] = number
                if len(pending) >= window:
                    return

        try:
            refill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=submitted.__getitem__):
                    pending.discard(future)
                    number = submitted.pop(future)
                    body = future.result()
                    if number <= last and body is END:
                        raise fetcher.error(
                            number, f"HTTP 404, but totalCount implies {last} pages"
                        )
                    if number > last and body is not END:
                        raise fetcher.error(
                            number,
                            f"expected the end (404) after {last} pages; "
                            "the ledger changed while paging",
                        )
                    if body is not END:
                        yield fetcher.parse(number, body)
                refill()
        except BaseException:
            fetcher.abort.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
