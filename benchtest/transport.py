"""The seam between HTTP and the rest: GET one URL, or fail with one line saying why.

`Transport.get` runs in the paging threads. It uses urllib3 (requests' own transport) directly:
requests' session layer cost 0.3-0.5 s of CPU per 1,000 pages here, a fifth of a 1M-transaction
run, and ~100 ms of every cold start. What the transport guarantees:

- **Deadline.** A socket timeout bounds one wait for bytes, not a request: a server sending one
  byte a second never trips it. So each attempt clamps its connect and read timeouts to the run's
  time left, the connection classes register every socket, and `stop` (deadline, Ctrl-C, an
  error elsewhere) shuts them all down (``SHUT_RDWR``): blocked reads return at once, and
  `_Retry` refuses further attempts and wakes from its sleep.
- **Retries** are urllib3's `Retry` (connection errors, timeouts, 429 and 5xx; exponential
  backoff with jitter; Retry-After honoured), extended to cap Retry-After, to count attempts and
  to refuse any attempt or wait past the deadline. 404 is an answer (the end of a ledger), never
  retried.
- **Redirects**: at most `MAX_REDIRECTS`, and only to the configured origin (scheme, host,
  port), so the report's source names where the data came from and https never becomes http.
- **Bytes**: a body over ``page_cap`` is refused (a larger Content-Length before reading).
- **Auth**: credentials in the URL become HTTP Basic auth and are removed from every URL held;
  the auth header (a `Secret`) is sent to the configured origin only, which is the only origin
  requests ever go to.
- **Causes**: a failure is one line naming the host and the cause (`cause`), never a repr.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import re
import socket
import ssl
import threading
import time
import weakref
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import urllib3
import urllib3.exceptions as u3
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.retry import Retry

from ._version import __version__
from .auth import PARAMETER_ENV, TOKEN_ENV, Secret
from .errors import (
    DeadlineError,
    FetchError,
    HTTPStatusError,
    NetworkError,
)
from .stats import RunStats
from .text import quoted
from .urls import origin, without_credentials

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Guard:
    """One run's deadline and stop switch, and the sockets it must be able to cut."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.budget = round(max(0.0, deadline - time.monotonic()), 1)
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._phases: dict[int, str] = {}

    def left(self) -> float:
        """Seconds left for the next step; raise if the run is over."""
        if self.stopped.is_set():
            raise DeadlineError("abandoned: the run was stopped")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired(_local.page)
        return left

    def expired(self, page: int | None) -> DeadlineError:
        phase = self._phases.get(page or 0, "waiting for a connection")
        return DeadlineError(f"deadline of {self.budget:g}s reached while {phase}", page=page)

    def phase(self, text: str) -> None:
        """Record what the current thread's page is doing, for the deadline's message."""
        if _local.page is not None:
            self._phases[_local.page] = text

    def done(self, page: int) -> None:
        self._phases.pop(page, None)

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
        if self.stopped.is_set():  # opened while `stop` ran
            _cut(sock)

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _cut(sock)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Local(threading.local):
    """The thread's guard, page and attempts, for code urllib3 calls without them."""

    guard: Guard | None = None
    stats: RunStats | None = None
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


class _Retry(Retry):
    """urllib3 Retry that caps Retry-After, counts attempts, and stops at the deadline."""

    def __init__(self, *args: Any, retry_after_cap: float = 30.0, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.retry_after_cap = retry_after_cap

    def new(self, **kw: Any) -> _Retry:
        kw.setdefault("retry_after_cap", self.retry_after_cap)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self, *args: Any, **kw: Any
    ) -> Retry:
        guard, stats = _local.guard, _local.stats
        if guard is None or stats is None:
            return super().increment(*args, **kw)
        # A request counts once it is made: here when it failed or its answer is retried; an
        # answer handed back (success, or the last failing status) counts in `Transport.get`.
        answered = kw.get("response") is not None or (len(args) > 2 and args[2] is not None)
        if not answered:
            stats.request()
        guard.left()
        new = super().increment(*args, **kw)  # raises MaxRetryError when no retry is left
        if answered:
            stats.request()
            # urllib3 next drains the answer for its connection's reuse, reading the whole body
            # (`drain_conn`), unbounded: a 503 with an endless body took 5.8 GB. Closing drops the
            # body and the connection; the retry opens another.
            (kw.get("response") or args[2]).close()
        stats.retry()
        _local.attempts += 1
        return new

    def get_retry_after(self, response: Any) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        seconds = value.strip()
        if seconds.isascii() and seconds.isdigit() and len(seconds) > 9:
            return self.retry_after_cap  # past any cap; urllib3's int() refuses 4,300 digits
        try:  # and its date parsing raises ValueError or OverflowError past the year 9999
            after = self.parse_retry_after(value)
        except (ValueError, OverflowError, u3.InvalidHeader):
            raise FetchError(
                f"HTTP {response.status} with a Retry-After that is neither seconds nor a date: "
                f"{quoted(value)}"
            ) from None
        return min(after, self.retry_after_cap)

    def sleep(self, response: Any = None) -> None:
        delay = None
        if response is not None and self.respect_retry_after_header:
            delay = self.get_retry_after(response)
        if delay is None:
            delay = self.get_backoff_time()
        guard = _local.guard
        if guard is None:
            time.sleep(delay)
            return
        if guard.left() < delay:
            raise DeadlineError(
                f"deadline of {guard.budget:g}s reached: a retry would have to wait {delay:.1f}s"
            )
        guard.phase(f"waiting {delay:.1f}s to retry")
        if guard.stopped.wait(delay):
            raise DeadlineError("abandoned: the run was stopped")


class Transport:
    """GET pages of one origin for one run; `get` is called from several threads at once."""

    def __init__(
        self,
        url: str,
        *,
        deadline: float,
        stats: RunStats,
        concurrency: int = 1,
        timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.5,
        retry_after_cap: float = 30.0,
        page_cap: int = 16 * 1024 * 1024,
        auth_header: str = "Authorization",
        auth_token: Secret | None = None,
    ) -> None:
        """``url``: any URL of the source (a page URL template is fine): its origin is the only
        one requests go to; credentials in it become Basic auth."""
        parts = urlsplit(url)
        self.origin = origin(url)
        self.guard = Guard(deadline)
        self.stats = stats
        self.page_cap = page_cap
        self.retry = _Retry(
            total=retries,
            redirect=False,
            backoff_factor=backoff,
            backoff_jitter=backoff,
            backoff_max=retry_after_cap,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            retry_after_cap=retry_after_cap,
        )
        self.headers = {"User-Agent": f"benchtest/{__version__}", "Accept": "application/json"}
        self._auth: tuple[str, Secret] | None = None
        if auth_token is not None:
            self._auth = (auth_header, auth_token)
            log.debug("sending the %s header (value from %s)", auth_header, auth_token.origin)
        elif parts.username is not None:
            user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.headers["Authorization"] = urllib3.make_headers(basic_auth=user)["authorization"]
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        proxy = _proxy_for(parts.scheme, parts.hostname or "")
        self._manager = _manager(proxy, concurrency)
        # Requests go to one origin only (redirects elsewhere are refused): its pool, once. A
        # forwarding (http) proxy is sent the whole URL; otherwise the path (https goes through a
        # CONNECT tunnel).
        self.pool = self._manager.connection_from_url(self.origin)
        self._absolute_form = proxy is not None and parts.scheme == "http"

    def stop(self) -> None:
        """Abandon every request in flight: cut their sockets, refuse further attempts."""
        self.guard.stop()

    def close(self) -> None:
        self._manager.clear()

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]:
        """The body at ``url`` (page ``page``, for messages), or None for a 404; and the
        response's ``Link`` header, for paging that follows it."""
        _local.guard, _local.stats, _local.page, _local.attempts = self.guard, self.stats, page, 1
        url = without_credentials(url)
        try:
            self.guard.left()
            return self._follow(url)
        except FetchError as exc:  # raised here, by the guard or by `_Retry`
            exc.locate(page=page, url=url)
            raise
        except (u3.HTTPError, http.client.HTTPException, OSError) as exc:
            attempts = f" (after {_local.attempts} attempts)" if _local.attempts > 1 else ""
            raise NetworkError(cause(exc, url) + attempts, page=page, url=url) from exc
        finally:
            self.guard.done(page)
            _local.guard = _local.stats = _local.page = None

    def _follow(self, url: str) -> tuple[bytes | None, str | None]:
        headers = self.headers
        if self._auth is not None:
            headers = {**headers, self._auth[0]: self._auth[1].reveal()}
        target = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self.pool.urlopen(
                "GET",
                target if self._absolute_form else urllib3.util.parse_url(target).request_uri,
                headers=headers,
                retries=self.retry,
                redirect=False,
                preload_content=False,
                timeout=self.timeout,
                assert_same_host=not self._absolute_form,  # the pool is the proxy's
            )
            self.stats.request()
            read = False
            try:
                status = response.status
                if status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    target = self._redirect(target, status, response.headers["Location"])
                    continue
                if status == 404:
                    return None, None
                if status in (401, 403):
                    raise HTTPStatusError(f"HTTP {status} ({self._auth_hint()})", status=status)
                if status != 200:
                    attempts = f" after {_local.attempts} attempts" if _local.attempts > 1 else ""
                    raise HTTPStatusError(f"HTTP {status}{attempts}", status=status)
                body = self._read(response)
                read = True
                return body, response.headers.get("Link")
            finally:
                if not read:  # a body left unread must not reach the next request
                    response.close()
                response.release_conn()
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def _auth_hint(self) -> str:
        """What to check after a 401 or 403: names of settings, never a value."""
        if self._auth is not None:
            name, secret = self._auth
            return f"check the {name} header (BENCH_AUTH_HEADER) and its value from {secret.origin}"
        if "authorization" in map(str.lower, self.headers):
            return "check the user and password in the URL"
        return (
            f"no auth header was sent: set {TOKEN_ENV} (CLI) or {PARAMETER_ENV} (Lambda) "
            "to the header value, and BENCH_AUTH_HEADER if it is not Authorization"
        )

    def _redirect(self, current: str, status: int, location: str) -> str:
        """The redirect's target, if it stays on the configured origin."""
        try:
            target = urljoin(current, location)
            where = origin(target)
        except ValueError:
            shown = repr(re.sub(r"//[^/?#]*@", "//", location)[:200])  # no urlsplit: it failed
            raise FetchError(f"HTTP {status} redirect to an unparsable Location {shown}") from None
        if where != self.origin:
            raise FetchError(
                f"HTTP {status} redirect to {where} refused: "
                f"only {self.origin} (the configured origin) is followed"
            )
        return without_credentials(target)

    def _read(self, response: Any) -> bytes:
        cap = self.page_cap
        declared = response.headers.get("Content-Length", "").lstrip("0")
        if declared.isascii() and declared.isdigit():
            if len(declared) > 20:  # int() refuses 4,300 digits and more: the length says enough
                raise FetchError(f"Content-Length of {len(declared):,} digits exceeds the page cap")
            if int(declared) > cap:
                raise FetchError(
                    f"response of {declared} bytes exceeds the page cap of {cap} bytes"
                )
        self.guard.phase("reading the response body")
        # One read: each wait for bytes is bounded by the clamped read timeout, and the whole
        # read by the guard, which cuts the socket at the deadline.
        body: bytes = response.read(cap + 1)
        if len(body) > cap:
            raise FetchError(f"response exceeds the page cap of {cap} bytes")
        self.guard.left()
        return body


def _manager(proxy: str | None, concurrency: int) -> urllib3.PoolManager:
    """A pool manager with guarded connections, through ``proxy`` if there is one."""
    options: dict[str, Any] = {
        "num_pools": 2,
        "maxsize": concurrency,
        "block": True,
        "ca_certs": certifi.where(),
    }
    manager = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
    manager.pool_classes_by_scheme = _POOLS
    return manager


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY``, …) names for this host; never
    one for loopback."""
    if host in _LOOPBACK:
        return None
    import urllib.request  # here: 4 ms of every Lambda init otherwise

    proxies = urllib.request.getproxies()
    if scheme not in proxies or urllib.request.proxy_bypass(host):
        return None
    return proxies[scheme]


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


def cause(exc: BaseException, url: str) -> str:
    """One line for a network failure: what failed, where, and why; never a repr."""
    chain = _chain(exc)
    where = origin(url).partition("://")[2]

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
    if has(http.client.IncompleteRead):
        return f"response truncated: {where} closed the connection mid-body"
    if has(http.client.RemoteDisconnected):  # a ConnectionResetError and a BadStatusLine too
        return f"{where} closed the connection without answering"
    if has(http.client.BadStatusLine, http.client.UnknownProtocol):
        return f"{where} did not answer with an HTTP/1 status line"
    # http.client bounds the lines it reads (status, header, chunk size, trailer) and the header
    # count; its message then is fixed text, without the server's bytes.
    limit = next(
        (e for e in chain if type(e) in (http.client.LineTooLong, http.client.HTTPException)), None
    )
    if limit is not None:
        return f"{where} sent an overlong answer: {limit}"
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


# A link of a Link header and its parameters (RFC 8288), and a link's relation types.
_LINK = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))', re.IGNORECASE)


def next_link(header: str) -> str | None:
    """The target of the first link whose relation types include ``next`` (RFC 8288), or None.
    Hand-written: urllib3 has no Link parser (requests and httpx do; neither is a dependency)."""
    for link in _LINK.finditer(header):
        rel = _REL.search(link.group(2))
        if rel is not None and "next" in (rel.group(1) or rel.group(2)).lower().split():
            return link.group(1).strip()
    return None
