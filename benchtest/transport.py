"""The seam between HTTP and the rest: GET one URL, or fail with one line saying why."""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import math
import os
import re
import socket
import ssl
import stat
import threading
import time
import weakref
from typing import Any, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import urllib3
import urllib3.exceptions as u3
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.retry import Retry

from ._version import __version__
from .auth import PARAMETER_ENV, TOKEN_ENV, Secret
from .errors import ConfigError, DeadlineError, FetchError, HTTPStatusError, NetworkError
from .settings import FetchSettings
from .stats import RunStats
from .text import quoted
from .urls import DEFAULT_PORTS, origin, without_credentials

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# A Link header is read whole up to this (one header line's bound in http.client): a real one is
# a few hundred characters; urllib3 joins repeated lines, and 100 lines of 65 KB are allowed.
MAX_LINK_CHARS = 65_536
_TUNNEL_FAILED = "Tunnel connection failed: "  # http.client's text for a refused CONNECT
# An answer saying GET is not allowed (405, 501, or an Allow header without GET).
GET_ONLY = (
    "the API does not allow GET here; benchtest pages with GET only (POST-body paging, as Plaid's "
    "/transactions/get uses, is not supported: docs/sources.md#post-body-paging)"
)
_GET = re.compile(r"(?:^|,)[ \t]*GET[ \t]*(?:,|$)")  # in an Allow header (RFC 9110 10.2.1)


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

    def increment(self, *args: Any, **kw: Any) -> Retry:  # type: ignore[override]
        guard, stats = _local.guard, _local.stats
        if guard is None or stats is None:
            return super().increment(*args, **kw)
        # A request counts once it is made: here when it failed or its answer is retried; an
        # answer handed back (success, or the last failing status) counts in `Transport.get`.
        answered = kw.get("response") is not None or (len(args) > 2 and args[2] is not None)
        if not answered:
            stats.request()
            error = kw.get("error") or (args[3] if len(args) > 3 else None)
            if isinstance(error, Exception) and 400 <= (_tunnel_status(error) or 0) < 500:
                raise error  # a proxy's refusal (407: its credentials) is the same on a retry
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
        """The wait the server asks for; FetchError for one longer than the cap: the run stops
        rather than wait less than asked (a retry too early is refused again) or longer."""
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        text = value.strip()
        wait = None
        if text.isascii() and text.isdigit():
            text = text.lstrip("0") or "0"  # Python's int() refuses 4,300 digits, zeros too
            if len(text) > 9:  # past any cap (at most 3,600 s)
                wait = f"a {len(text):,}-digit number of seconds"
        if wait is None:
            try:  # urllib3's date parsing raises ValueError or OverflowError past the year 9999
                after = self.parse_retry_after(text)
            except (ValueError, OverflowError, u3.InvalidHeader):
                raise FetchError(
                    f"HTTP {response.status} with a Retry-After that is neither seconds nor a "
                    f"date: {quoted(value)}"
                ) from None
            if after <= self.retry_after_cap:
                return after
            wait = f"{math.ceil(after):,}s"
        raise FetchError(
            f"HTTP {response.status} asks to wait {wait} before a retry (Retry-After: "
            f"{quoted(value)}), over the cap of {self.retry_after_cap:g}s (retry_after_cap)"
        )

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
        fetch: FetchSettings | None = None,
        page_cap: int = 16 * 1024 * 1024,
        auth_token: Secret | None = None,
    ) -> None:
        """Requests go to ``url``'s origin only (any URL of the source; a template is fine), with
        its credentials as Basic auth and ``fetch``'s headers (settings refuse those set here)."""
        fetch = fetch or FetchSettings(concurrency=1)
        parts, backoff, cap = urlsplit(url), fetch.backoff, fetch.retry_after_cap
        _map_large_blocks()
        self.origin = origin(url)
        self.guard = Guard(deadline)
        self.stats = stats
        self.page_cap = page_cap
        self.retry = _Retry(
            total=fetch.retries,
            redirect=False,
            backoff_factor=backoff,
            backoff_jitter=backoff,
            backoff_max=cap,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            retry_after_cap=cap,
            retry_after_max=2**63,  # urllib3 clamps at 6 h: the wait asked for is told whole
        )
        self.headers = {"User-Agent": f"benchtest/{__version__}", "Accept": "application/json"}
        self.headers.update(fetch.headers)
        if fetch.headers:  # their names only, as for the auth header
            log.debug("sending the headers %s", ", ".join(name for name, _ in fetch.headers))
        self._auth: tuple[str, Secret] | None = None
        if auth_token is not None:
            self._auth = (fetch.auth_header, auth_token)
            log.debug("sending the %s header (value from %s)", fetch.auth_header, auth_token.origin)
        elif parts.username is not None:
            self.headers["Authorization"] = _basic(parts.username, parts.password)
        self.timeout = urllib3.Timeout(connect=fetch.timeout, read=fetch.timeout)
        proxy = self.proxy = proxy_for(url)
        # The CAs are read (7 MB of OpenSSL's memory for a bundle) only when TLS is used.
        tls = "https" in (parts.scheme, proxy and proxy.url.partition(":")[0])
        self.trusted, options = trust() if tls else ("", {})
        options.update(num_pools=2, maxsize=fetch.concurrency, block=True)
        if proxy is None:
            self._manager = urllib3.PoolManager(**options)
        else:
            self._manager = urllib3.ProxyManager(proxy.url, proxy_headers=proxy.headers, **options)
        self._manager.pool_classes_by_scheme = _POOLS
        # One origin, one pool (redirects elsewhere are refused). A forwarding (http) proxy is
        # sent the whole URL; otherwise the path (https goes through a CONNECT tunnel).
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
            line = cause(exc, url, self.proxy, self.trusted) + attempts
            raise NetworkError(line, page=page, url=url) from exc
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
                allow = response.headers.get("Allow", "")  # the methods the URL allows
                if status in (405, 501) or (status != 200 and allow and not _GET.search(allow)):
                    raise HTTPStatusError(f"HTTP {status}: {GET_ONLY}", status=status)
                if status in (401, 403):
                    raise HTTPStatusError(f"HTTP {status} ({self._auth_hint()})", status=status)
                if status == 407 and self.proxy is not None:  # from a forwarding proxy
                    raise HTTPStatusError(_refused(self.proxy, status), status=status)
                if status != 200:
                    attempts = f" after {_local.attempts} attempts" if _local.attempts > 1 else ""
                    raise HTTPStatusError(f"HTTP {status}{attempts}", status=status)
                link = response.headers.get("Link")
                if link is not None and len(link) > MAX_LINK_CHARS:
                    raise FetchError(
                        f"a Link header of {len(link):,} characters (the most read is "
                        f"{MAX_LINK_CHARS:,})"
                    )
                body = self._read(response)
                read = True
                return body, link
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
        # read by the guard, which cuts the socket at the deadline. Exactly the length when it
        # is known (not chunked) and not encoded: urllib3 copies a body read with more.
        length = response.length_remaining
        exact = length is not None and not response.headers.get("Content-Encoding")
        body: bytes = response.read(length if exact else cap + 1)
        if len(body) > cap:
            raise FetchError(f"response exceeds the page cap of {cap} bytes")
        self.guard.left()
        return body


def _map_large_blocks() -> None:
    """Keep glibc mapping each block of 128 KiB or more, and giving it back when freed. Page
    bodies are made in the fetch threads and freed in the main one; glibc then slides its
    threshold past them and keeps them in the threads' heaps: 15-45 MB of RSS above what is
    live (docs/limits.md). No library sets an allocator option."""
    import ctypes  # here: 3 ms of every Lambda init otherwise

    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): no such option
        ctypes.CDLL(None).mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD, its default; set: fixed


def _basic(user: str, password: str | None) -> str:
    """An HTTP Basic ``Authorization`` value for a URL's percent-encoded user and password:
    Latin-1, as requests sends it, or UTF-8 (RFC 7617) for what Latin-1 cannot hold."""
    text = f"{unquote(user)}:{unquote(password or '')}"
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        raw = text.encode()
    return "Basic " + base64.b64encode(raw).decode()


class Proxy(NamedTuple):
    url: str  # scheme://host:port, without credentials
    where: str  # host:port, for messages
    variable: str  # the environment variable that names it, for messages
    headers: dict[str, str]  # Proxy-Authorization, from the credentials in its URL


def proxy_for(url: str) -> Proxy | None:
    """The proxy the environment names for ``url``, read as urllib and requests read it: for
    https ``https_proxy`` (any case; a lowercase one wins, an empty one unsets), for http
    ``http_proxy``, else ``all_proxy``; none for a host ``no_proxy`` names (``host``,
    ``.domain``, ``host:port``, ``*``) and none for loopback. A URL without a scheme is http.
    ConfigError for one that cannot be used, naming the variable, never its credentials."""
    parts = urlsplit(url)
    if parts.hostname in _LOOPBACK:
        return None
    import urllib.request  # here: 4 ms of every Lambda init otherwise

    proxies = urllib.request.getproxies()
    key = parts.scheme if proxies.get(parts.scheme) else "all"
    value = proxies.get(key, "").strip()
    if not value or urllib.request.proxy_bypass(parts.netloc.rpartition("@")[2]):
        return None
    lower = f"{key}_proxy"
    named = [name for name in os.environ if name.lower() == lower and os.environ[name]]
    variable = lower if lower in named else (named or [lower.upper()])[0]
    scheme, found, _ = value.partition("://")
    scheme = scheme.lower() if found else "http"
    if not (scheme.isascii() and scheme[:1].isalpha() and scheme.isalnum()) or len(scheme) > 20:
        scheme = ""  # not a scheme: it may be a password
    usage = "benchtest uses http://[user:password@]host:port (or https://) proxies"
    if scheme not in DEFAULT_PORTS:
        shown = f"a {scheme}:// proxy" if scheme else "not a proxy URL"
        raise ConfigError(f"{shown}: {usage}", origin=variable)
    try:
        proxy = urlsplit(value if found else f"http://{value}")
        host, port = proxy.hostname or "", proxy.port
        port = DEFAULT_PORTS[scheme] if port is None else port
        host = f"[{host}]" if ":" in host else host
        urllib3.util.parse_url(f"{scheme}://{host}:{port}")  # what ProxyManager will parse
    except ValueError:  # urllib3's LocationParseError is one too
        host = ""
    if not host.isprintable() or " " in host or not host or not port:
        raise ConfigError(f"not a proxy URL: {usage}", origin=variable) from None
    headers = {}
    if proxy.username is not None:
        headers["Proxy-Authorization"] = _basic(proxy.username, proxy.password)
    return Proxy(f"{scheme}://{host}:{port}", f"{host}:{port}", variable, headers)


# Where TLS's CAs come from: requests' bundles (a file or a directory), then OpenSSL's.
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def trust() -> tuple[str, dict[str, Any]]:
    """The CAs TLS trusts (where from, and urllib3's options): the bundle ``REQUESTS_CA_BUNDLE``
    or ``CURL_CA_BUNDLE`` names, as requests reads them; else ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR``, as OpenSSL reads them; else certifi's. Each replaces certifi's bundle.
    ConfigError for a file or directory that cannot be read."""
    named = [name for name in _CA_VARIABLES if os.environ.get(name)]
    if not named:
        return "certifi's CAs", {"ca_certs": certifi.where()}
    if named[0] in _CA_VARIABLES[:2]:
        named = named[:1]
    options = {}
    for name in named:
        path = os.environ[name]
        folder = name == "SSL_CERT_DIR" or (name in _CA_VARIABLES[:2] and os.path.isdir(path))
        _check_cas(name, folder, path)
        options["ca_cert_dir" if folder else "ca_certs"] = path
    return f"the CAs in {' and '.join(named)}", options


def _check_cas(name: str, folder: bool, path: str) -> None:
    """ConfigError unless ``path`` (of variable ``name``) holds CAs OpenSSL can load: a PEM file,
    or directories (``:``-separated, as OpenSSL reads SSL_CERT_DIR: one readable is enough)."""
    if folder:
        parts = path.split(os.pathsep)
        if not any(os.path.isdir(p) and os.access(p, os.R_OK | os.X_OK) for p in parts):
            raise ConfigError(f"{quoted(path, 200)} names no readable directory", origin=name)
        return
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the load below
            raise ConfigError(f"{quoted(path, 200)} is not a file", origin=name)
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        raise ConfigError(f"{quoted(path, 200)} holds no PEM CA certificate", origin=name) from None
    except OSError as exc:
        reason = (exc.strerror or "cannot be read").lower()
        raise ConfigError(f"cannot read {quoted(path, 200)}: {reason}", origin=name) from None


def next_link(header: str) -> str | None:
    """The target of the first link whose relation types include ``next``, or None. Read as
    RFC 8288 (Appendix B) reads a Link header: links ``<target>`` separated by commas, each
    with ``;`` parameters; the first ``rel`` counts; a quoted value may hold commas and
    semicolons; reading stops at what is not a link. One pass left to right, each character
    looked at once or twice: no backtracking. Hand-written: urllib3 has no Link parser
    (requests and httpx do; neither is a dependency)."""
    i, end = 0, len(header)
    while True:
        i = _skip(header, i, " \t,")
        close = header.find(">", i)
        if i >= end or header[i] != "<" or close < 0:
            return None
        target, rel, i = header[i + 1 : close], None, close + 1
        while (i := _skip(header, i, " \t")) < end and header[i] == ";":
            stop = _until(header, i + 1, "=;,")
            name, value, i = header[i + 1 : stop].strip(" \t").lower(), "", stop
            if i < end and header[i] == "=":
                value, i = _value(header, _skip(header, i + 1, " \t"))
            if name == "rel" and rel is None:
                rel = value
        if rel is not None and "next" in rel.lower().split():
            return target.strip()


def _skip(text: str, i: int, chars: str) -> int:
    while i < len(text) and text[i] in chars:
        i += 1
    return i


def _until(text: str, i: int, stops: str) -> int:
    while i < len(text) and text[i] not in stops:
        i += 1
    return i


def _value(text: str, i: int) -> tuple[str, int]:
    """A Link parameter's value at ``i`` (a quoted string or a token), and where it ends."""
    if text[i : i + 1] != '"':
        stop = _until(text, i, ";,")
        return text[i:stop].strip(" \t"), stop
    chars, i = [], i + 1
    while i < len(text) and text[i] != '"':
        i += text[i] == "\\"  # a quoted pair: the next character as it is
        chars.append(text[i : i + 1])
        i += 1
    return "".join(chars), min(i + 1, len(text))


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


def cause(
    exc: BaseException, url: str, proxy: Proxy | None = None, trusted: str = "certifi's CAs"
) -> str:
    """One line for a network failure: what failed, where, and why; never a repr."""
    chain = _chain(exc)
    where = origin(url).partition("://")[2]
    host = where.rpartition(":")[0]

    def has(*kinds: type[BaseException]) -> BaseException | None:
        return next((e for e in chain if isinstance(e, kinds)), None)

    if proxy is not None:
        status = _tunnel_status(exc)
        if status is not None:
            return _refused(proxy, status)
        if has(u3.ProxyError, u3.NewConnectionError, u3.ConnectTimeoutError):  # connecting is
            # to the proxy (urllib3 wraps what failed before it answered in a ProxyError)
            where = f"proxy {proxy.where} ({proxy.variable})"
            host = f"{proxy.where.rpartition(':')[0]} (the proxy in {proxy.variable})"
        else:
            where = f"{where} (through proxy {proxy.where})"
    if has(u3.NameResolutionError, socket.gaierror):
        return f"cannot resolve host {host}"
    if has(ConnectionRefusedError):
        return f"cannot connect to {where}: connection refused"
    if has(u3.ReadTimeoutError):
        return f"timed out waiting for {where} to answer"
    tls = has(ssl.SSLError, u3.SSLError)
    if tls is not None:
        reason = _tls_reason(chain)
        if has(ssl.SSLCertVerificationError):
            company = "; a company CA needs REQUESTS_CA_BUNDLE" if "certifi" in trusted else ""
            reason += f" (trusting {trusted}{company})"
        return f"TLS with {where} failed: {reason}"
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


def _refused(proxy: Proxy, status: int) -> str:
    hint = f": check the user and password in {proxy.variable}" if status == 407 else ""
    return f"proxy {proxy.where} ({proxy.variable}) answered HTTP {status}{hint}"


def _tunnel_status(exc: BaseException | None) -> int | None:
    """The status a proxy refused a CONNECT with, from http.client's ``Tunnel connection failed:
    407 …`` (only the number is read: the rest is the proxy's text)."""
    for error in [] if exc is None else _chain(exc):
        code = str(error).removeprefix(_TUNNEL_FAILED)[:3] if type(error) is OSError else ""
        if str(error).startswith(_TUNNEL_FAILED) and code.isdigit():
            return int(code)
    return None


def _tls_reason(chain: list[BaseException]) -> str:
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
            return str(error.verify_message)
        if isinstance(error, ssl.SSLError) and error.reason:
            return str(error.reason).lower().replace("_", " ")
    return "handshake failed"
