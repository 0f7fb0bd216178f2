"""Fetch every page of a ledger: page 1 first, then the rest concurrently, then the 404 end.

Retries (connection errors, timeouts, 429, 5xx; backoff with jitter; Retry-After) are urllib3's
`Retry`, extended to cap Retry-After and to refuse any attempt or wait past the run's deadline.
Pages are yielded as they arrive, through a bounded window, so memory holds a few pages at a
time however long the ledger is.

How the deadline holds. A socket timeout bounds one wait for bytes, not a request: a server
that sends one byte per second never trips it. So every request runs in a worker thread, and
the consumer (the generator's thread) waits for them with a timeout of the time left. When it
expires, or on Ctrl-C or an error, `_Guard.stop` shuts down (``SHUT_RDWR``) every socket the
run has opened: blocked reads return at once, whatever they were waiting for (headers, body,
TLS handshake), and `_Retry` refuses further attempts and wakes from its sleep. The sockets are
known because the adapter's connection classes register them; each attempt also clamps its own
connect and read timeouts to the time left, so a worker ends by itself too. A connect still in
progress (a host that drops SYNs) is bounded by that clamped connect timeout.

Limits (the README's "Limits (fetch)" lists them):

- ``MAX_PAGE_BYTES``: one page's body; a larger Content-Length is refused before reading.
- ``MAX_BYTES_IN_FLIGHT``: bodies held at once. At most 2 x concurrency pages are in flight
  (fetching, or fetched and waiting for the consumer), so each page may hold at most
  ``MAX_BYTES_IN_FLIGHT / (2 x concurrency)`` bytes (and never more than ``MAX_PAGE_BYTES``).
- Redirects: at most ``MAX_REDIRECTS``, and only to the same origin (scheme, host and port of
  the configured URL), so ``source`` names where the data came from and https never becomes
  http. Anything else is an error naming the page and the target origin.
- Credentials in the URL (``https://user:pass@host/…``) are sent as HTTP Basic auth and
  removed from every URL the fetcher holds, so no error, log line or report can show them.
- An auth header (``settings.auth_token``, a `Secret`) goes to the configured origin only:
  redirects elsewhere are refused before any request is made there. It is set by the session's
  ``auth`` hook, which also keeps requests from replacing it with credentials from ``~/.netrc``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import socket
import ssl
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from http.client import IncompleteRead, RemoteDisconnected
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import urllib3.exceptions as u3
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.retry import Retry

from . import __version__
from .auth import PARAMETER_ENV, TOKEN_ENV, Secret
from .config import Settings
from .errors import DataError, FetchError, without_credentials
from .transactions import Page, parse_page

with warnings.catch_warnings():
    # The Lambda zip leaves out charset_normalizer (scripts/build_zip.py NOT_SHIPPED): requests
    # would only use it to guess Response.text's encoding, and warns at import without it.
    warnings.filterwarnings("ignore", "Unable to find acceptable character detection")
    import requests
    from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page of 1,000 transactions is ~100 KB
MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
END = None  # what `_Fetcher.get` returns for the 404 that marks the end of the ledger
_CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class FetchStats:
    """What a run did; filled in as it goes, so a failed run still tells how far it got."""

    pages: int = 0
    transactions: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    expected_pages: int | None = None


class _Guard:
    """One run's deadline and stop switch, and the sockets it must be able to cut."""

    def __init__(self, deadline: float, stats: FetchStats) -> None:
        self.deadline = deadline
        self.budget = round(max(0.0, deadline - time.monotonic()), 1)
        self.stats = stats
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._phases: dict[int, str] = {}

    def left(self) -> float:
        """Seconds left for the next step; raise if the run is over."""
        if self.stopped.is_set():
            raise FetchError("abandoned: the run was stopped")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired(_local.page)
        return left

    def expired(self, page: int | None) -> FetchError:
        phase = self._phases.get(page or 0, "waiting for a connection")
        return FetchError(f"deadline of {self.budget:g}s reached while {phase}", page=page)

    def phase(self, text: str) -> None:
        """Record what the current worker's page is doing, for the deadline's message."""
        if _local.page is not None:
            self._phases[_local.page] = text

    def done(self, page: int) -> None:
        self._phases.pop(page, None)

    def register(self, sock: socket.socket) -> None:
        with self.lock:
            self._sockets.add(sock)
        if self.stopped.is_set():  # opened while `stop` ran
            _cut(sock)

    def stop(self) -> None:
        self.stopped.set()
        with self.lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _cut(sock)

    def count(self, *, requests: int = 0, retries: int = 0) -> None:
        with self.lock:
            self.stats.requests += requests
            self.stats.retries += retries


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Local(threading.local):
    """The worker thread's run and page, for code urllib3 calls without them."""

    guard: _Guard | None = None
    page: int | None = None
    attempts: int = 0


_local = _Local()


class _GuardedHTTPConnection(HTTPConnection):
    """Clamp each attempt's timeouts to the run's time left; register sockets to cut."""

    def _new_conn(self) -> socket.socket:
        guard = _local.guard
        if guard is None:
            return super()._new_conn()
        self.timeout = _clamp(self.timeout, guard.left())
        guard.phase(f"connecting to {self.host}:{self.port}")
        sock = super()._new_conn()
        guard.register(sock)
        return sock

    def getresponse(self) -> Any:
        guard = _local.guard
        if guard is not None:
            self.timeout = _clamp(self.timeout, guard.left())
            guard.phase("waiting for the response headers")
        return super().getresponse()


class _GuardedHTTPSConnection(_GuardedHTTPConnection, HTTPSConnection):
    pass


def _clamp(timeout: Any, left: float) -> float:
    return min(timeout, left) if isinstance(timeout, (int, float)) else left


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter, with connections (also through proxies) the guard can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class _Session(requests.Session):
    """A session that leaves redirects to `_Fetcher._redirect`.

    Even with ``allow_redirects=False``, requests parses a redirect's Location (for
    ``Response.next``), and a Location that does not parse would raise from inside it.
    """

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None


class _HeaderAuth(requests.auth.AuthBase):
    """Set the auth header on each request; holds the `Secret`, not its value, until then."""

    def __init__(self, name: str, secret: Secret) -> None:
        self.name = name
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.name] = self.secret.reveal()
        return request


class _Retry(Retry):
    """urllib3 Retry that caps Retry-After, counts retries, and stops at the deadline or abort."""

    def __init__(
        self, *args: Any, guard: _Guard | None = None, retry_after_cap: float = 30.0, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.guard = guard
        self.retry_after_cap = retry_after_cap

    def new(self, **kw: Any) -> _Retry:
        kw.setdefault("guard", self.guard)
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self, *args: Any, **kw: Any
    ) -> Retry:
        if self.guard is None:
            return super().increment(*args, **kw)
        # A request counts once it is made: here if it failed or its response is retried;
        # a response handed back (success, or the last failing status) counts in `_follow`.
        answered = kw.get("response") is not None or (len(args) > 2 and args[2] is not None)
        if not answered:
            self.guard.count(requests=1)
        self.guard.left()
        new = super().increment(*args, **kw)  # raises MaxRetryError when no retry is left
        self.guard.count(requests=int(answered), retries=1)
        _local.attempts += 1
        return new

    def get_retry_after(self, response: Any) -> float | None:
        after = super().get_retry_after(response)
        return None if after is None else min(after, self.retry_after_cap)

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = self.get_retry_after(response)
        if delay is None:
            delay = self.get_backoff_time()
        if self.guard is None:
            time.sleep(delay)
            return
        if self.guard.left() < delay:
            raise FetchError(
                f"deadline of {self.guard.budget:g}s reached: a retry would have to wait "
                f"{delay:.1f}s"
            )
        self.guard.phase(f"waiting {delay:.1f}s to retry")
        if self.guard.stopped.wait(delay):
            raise FetchError("abandoned: the run was stopped")


class _Fetcher:
    """GET and check one page; shared by the worker threads of one run."""

    def __init__(self, template: str, settings: Settings, deadline: float, stats: FetchStats):
        parts = urlsplit(template)
        self.template = without_credentials(template)
        self.origin = _origin(self.template)
        self.timeout = settings.timeout
        self.page_cap = min(MAX_PAGE_BYTES, MAX_BYTES_IN_FLIGHT // (2 * settings.concurrency))
        self.guard = _Guard(deadline, stats)
        retry = _Retry(
            total=settings.retries,
            redirect=False,
            backoff_factor=settings.backoff,
            backoff_jitter=settings.backoff,
            backoff_max=settings.retry_after_cap,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            guard=self.guard,
            retry_after_cap=settings.retry_after_cap,
        )
        adapter = _GuardedAdapter(
            pool_connections=1,
            pool_maxsize=settings.concurrency,
            pool_block=True,
            max_retries=retry,
        )
        self.session = _Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"User-Agent": f"benchtest/{__version__}", "Accept": "application/json"}
        )
        if settings.auth_token is not None and not settings.is_sample:
            self.session.auth = _HeaderAuth(settings.auth_header, settings.auth_token)
            log.debug(
                "sending the %s header (value from %s)",
                settings.auth_header,
                settings.auth_token.origin,
            )
        elif parts.username is not None:
            self.session.auth = (unquote(parts.username), unquote(parts.password or ""))
        # Proxy settings from the environment must not capture loopback traffic.
        self.session.trust_env = parts.hostname not in {"127.0.0.1", "localhost", "::1"}

    def stop(self) -> None:
        """Abandon every request in flight: cut their sockets, refuse further attempts."""
        self.guard.stop()

    def close(self) -> None:
        self.session.close()

    def url(self, number: int) -> str:
        return self.template.format(page=number)

    def get(self, number: int) -> bytes | None:
        """Page ``number``'s body, or `END` for a 404; runs in a worker thread."""
        url = self.url(number)
        _local.guard, _local.page, _local.attempts = self.guard, number, 1
        try:
            self.guard.left()
            return self._follow(url)
        except FetchError as exc:  # raised here, by the guard or by `_Retry`
            exc.locate(page=number, url=url)
            raise
        except requests.RequestException as exc:
            attempts = f" (after {_local.attempts} attempts)" if _local.attempts > 1 else ""
            raise FetchError(_cause(exc, url) + attempts, page=number, url=url) from exc
        finally:
            self.guard.done(number)
            _local.guard = _local.page = None

    def _follow(self, url: str) -> bytes | None:
        target = url
        for _ in range(MAX_REDIRECTS + 1):
            with self.session.get(
                target, timeout=self.timeout, stream=True, allow_redirects=False
            ) as resp:
                self.guard.count(requests=1)
                if resp.is_redirect:
                    target = self._redirect(target, resp)
                    continue
                if resp.status_code == 404:
                    return END
                if resp.status_code in (401, 403):
                    raise FetchError(f"HTTP {resp.status_code} ({self._auth_hint()})")
                if resp.status_code != 200:
                    attempts = f" after {_local.attempts} attempts" if _local.attempts > 1 else ""
                    raise FetchError(f"HTTP {resp.status_code}{attempts}")
                return self._read(resp)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def auth_sent(self) -> tuple[str, str] | None:
        """The auth header's name and where its value came from; None when none is sent."""
        token = self.session.auth
        return (token.name, token.secret.origin) if isinstance(token, _HeaderAuth) else None

    def _auth_hint(self) -> str:
        """What to check after a 401 or 403: names of settings, never a value."""
        sent = self.auth_sent()
        if self.session.auth is not None and sent is None:
            return "check the user and password in the URL"
        if sent is None:
            return (
                f"no auth header was sent: set {TOKEN_ENV} (CLI) or {PARAMETER_ENV} (Lambda) "
                "to the header value, and BENCH_AUTH_HEADER if it is not Authorization"
            )
        return f"check the {sent[0]} header (BENCH_AUTH_HEADER) and its value from {sent[1]}"

    def _redirect(self, current: str, resp: requests.Response) -> str:
        """The redirect's target, if it stays on the configured origin."""
        location = resp.headers["Location"]
        try:
            target = urljoin(current, location)
            origin = _origin(target)
        except ValueError:
            shown = repr(re.sub(r"//[^/?#]*@", "//", location)[:200])  # no urlsplit: it failed
            raise FetchError(
                f"HTTP {resp.status_code} redirect to an unparsable Location {shown}"
            ) from None
        if origin != self.origin:
            raise FetchError(
                f"HTTP {resp.status_code} redirect to {origin} refused: "
                f"only {self.origin} (the configured origin) is followed"
            )
        return without_credentials(target)

    def _read(self, resp: requests.Response) -> bytes:
        cap = self.page_cap
        declared = resp.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"response of {declared} bytes exceeds the page cap of {cap} bytes")
        body = bytearray()
        self.guard.phase("reading the response body")
        for chunk in resp.iter_content(chunk_size=_CHUNK):
            body += chunk
            if len(body) > cap:
                raise FetchError(f"response exceeds the page cap of {cap} bytes")
            self.guard.left()
        return bytes(body)

    def parse(self, number: int, body: bytes) -> Page:
        try:
            return parse_page(number, body)
        except DataError as exc:
            exc.locate(page=number, url=self.url(number))
            raise

    def error(self, number: int, message: str) -> FetchError:
        return FetchError(message, page=number, url=self.url(number))

    def wait(self, pending: dict[Future[bytes | None], int]) -> set[Future[bytes | None]]:
        """The futures done by the deadline; none done by then is the deadline's error."""
        left = max(0.0, self.guard.deadline - time.monotonic())
        done, _ = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
        if not done:
            page = min(pending.values())
            error = self.guard.expired(page)
            error.locate(page=page, url=self.url(page))
            raise error
        return done


def _origin(url: str) -> str:
    """``scheme://host:port`` of ``url``; ValueError when it does not parse."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(url)
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{port}"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: args, urllib3's ``reason``, causes; breadth first."""
    found: list[BaseException] = []
    queue = [exc]
    while queue and len(found) < 20:
        current = queue.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        nested = [*current.args, getattr(current, "reason", None)]
        nested += [current.__cause__, current.__context__]
        queue += [item for item in nested if isinstance(item, BaseException)]
    return found


def _cause(exc: requests.RequestException, url: str) -> str:
    """One line for a network failure: what failed, where, and why; never a repr."""
    chain = _chain(exc)
    where = _origin(url).partition("://")[2]

    def has(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if has(u3.NameResolutionError, socket.gaierror):
        return f"cannot resolve host {where.rpartition(':')[0]}"
    if has(ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused"
    if has(u3.ReadTimeoutError):
        return f"timed out waiting for {where} to answer"
    tls = has(ssl.SSLError, u3.SSLError)
    if tls is not None:
        return f"TLS with {where} failed: {_tls_reason(chain)}"
    if has(u3.NewConnectionError):
        error = has(OSError)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "failed"
        return f"cannot connect to {where}: {reason.lower()}"
    if has(u3.ConnectTimeoutError, socket.timeout):
        return f"cannot connect to {where}: timed out"
    if has(IncompleteRead, requests.exceptions.ChunkedEncodingError):
        return f"response truncated: {where} closed the connection mid-body"
    if has(RemoteDisconnected):  # a ConnectionResetError too: test it first
        return f"{where} closed the connection without answering"
    if has(ConnectionResetError):
        return f"connection reset by {where}"
    if has(u3.ProtocolError):
        return f"connection to {where} broken"
    return f"request to {where} failed ({type(exc).__name__})"


def _tls_reason(chain: list[BaseException]) -> str:
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
            return str(error.verify_message)
        if isinstance(error, ssl.SSLError) and error.reason:
            return str(error.reason).lower().replace("_", " ")
    return "handshake failed"


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

    ``deadline`` is a `time.monotonic()` value for the whole run. Every request runs in the
    pool's threads; leaving the generator (done, error, Ctrl-C, closed) abandons the ones in
    flight and joins the threads before it returns.
    ``delegate`` (workers.py) may take over once page 1 gives the page count; then page 1
    is its, and nothing is yielded.
    """
    fetcher = _Fetcher(template, settings, deadline, stats)
    pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="benchtest-fetch")
    try:
        body = _one(fetcher, pool, 1)
        if body is END:
            raise fetcher.error(1, "HTTP 404: no ledger at this URL")
        first = fetcher.parse(1, body)
        total = first.total_count
        stats.pages, stats.transactions = 1, len(first)
        if total is None:
            yield first
            log.info("no totalCount on page 1: fetching pages in order until the 404")
            pages: Iterator[Page] = _in_order(fetcher, pool, settings.max_pages)
        else:
            last = _page_count(fetcher, total, len(first), settings.max_pages)
            rest = None if delegate is None else delegate(first, last)
            if rest is None:
                yield first
                stats.expected_pages = last
                pages = _concurrently(fetcher, pool, last, settings.concurrency)
            else:
                stats.transactions += rest
                pages = iter(())
        for page in pages:
            _check_total(fetcher, page, total)
            stats.pages += 1
            stats.transactions += len(page)
            yield page
        if total is not None and stats.transactions != total:
            raise DataError(
                f"totalCount is {total} but {stats.pages} pages held {stats.transactions} "
                "transactions"
            )
    finally:
        fetcher.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        fetcher.close()


def _one(fetcher: _Fetcher, pool: ThreadPoolExecutor, number: int) -> bytes | None:
    future = pool.submit(fetcher.get, number)
    fetcher.wait({future: number})
    return future.result()


def fetch_share(
    template: str,
    settings: Settings,
    stats: FetchStats,
    deadline: float,
    numbers: list[int],
    last: int,
    total: int,
    concurrency: int,
) -> Iterator[Page]:
    """Pages ``numbers`` of a ledger of ``last`` pages (a worker process's share, see
    workers.py), checked as `fetch_pages` checks them: ``last + 1`` must be the 404.
    ``concurrency``: this share's part of ``settings.concurrency``, which still sets the page
    cap, so a page too large for one process is too large for a worker too."""
    fetcher = _Fetcher(template, settings, deadline, stats)
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="benchtest-fetch")
    try:
        for page in _concurrently(fetcher, pool, last, concurrency, numbers):
            _check_total(fetcher, page, total)
            yield page
    finally:
        fetcher.stop()
        pool.shutdown(wait=True, cancel_futures=True)
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


def _in_order(fetcher: _Fetcher, pool: ThreadPoolExecutor, max_pages: int) -> Iterator[Page]:
    for number in range(2, max_pages + 2):
        body = _one(fetcher, pool, number)
        if body is END:
            return
        if number > max_pages:
            raise fetcher.error(number, f"more than the cap of {max_pages} pages")
        yield fetcher.parse(number, body)


def _concurrently(
    fetcher: _Fetcher,
    pool: ThreadPoolExecutor,
    last: int,
    concurrency: int,
    share: list[int] | None = None,
) -> Iterator[Page]:
    """Pages 2..last, plus last+1 which must be the 404 (or those of ``share``); at most
    2 x concurrency in flight."""
    numbers = iter(range(2, last + 2) if share is None else share)
    window = 2 * concurrency
    pending: dict[Future[bytes | None], int] = {}

    def refill() -> None:
        for number in numbers:
            pending[pool.submit(fetcher.get, number)] = number
            if len(pending) >= window:
                return

    refill()
    while pending:
        for future in sorted(fetcher.wait(pending), key=pending.__getitem__):
            number = pending.pop(future)
            body = future.result()
            if number <= last and body is END:
                raise fetcher.error(number, f"HTTP 404, but totalCount implies {last} pages")
            if number > last and body is not END:
                raise fetcher.error(
                    number,
                    f"expected the end (404) after {last} pages; the ledger changed while paging",
                )
            if body is not END:
                yield fetcher.parse(number, body)
        refill()
