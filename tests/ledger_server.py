"""A loopback ledger API for tests and benchmarks: the product's page server plus faults.

It adds latency, per-page faults and request counters to `benchtest.source.PageServer`, so
retries, timeouts and concurrency are tested against a real socket. Test tooling only: it is
not part of the package and not in the Lambda zip.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit

from benchtest.source import PageHandler, PageServer, serving

# Faults, consumed one per request of the page they are listed for:
#   "500", "503", "429": that status;  "429@2": with Retry-After: 2
#   "reset": close the connection without answering;  "delay=1.5": answer after 1.5 s
#   "truncate": declare the full length, send half the body, close;  "html": a 200 HTML page


class LedgerServer(PageServer):
    def __init__(
        self,
        pages: Mapping[int, bytes],
        *,
        latency: float = 0.0,
        faults: Mapping[int, list[str]] | None = None,
    ) -> None:
        self.latency = latency
        self.faults = {page: list(kinds) for page, kinds in (faults or {}).items()}
        self.requests = 0
        self.page_requests: dict[int, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        super().__init__(pages, _FaultyHandler)

    def next_fault(self, page: int) -> str | None:
        with self.lock:
            kinds = self.faults.get(page)
            return kinds.pop(0) if kinds else None


class _FaultyHandler(PageHandler):
    server: LedgerServer

    def do_GET(self) -> None:
        server = self.server
        page = self.page_number()
        with server.lock:
            server.requests += 1
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
            if page:
                server.page_requests[page] = server.page_requests.get(page, 0) + 1
        try:
            if server.latency:
                time.sleep(server.latency)
            fault = server.next_fault(page) if page else None
            if fault is None:
                super().do_GET()
            else:
                self._inject(fault, server.pages.get(page))
        finally:
            with server.lock:
                server.in_flight -= 1

    def _inject(self, fault: str, body: bytes | None) -> None:
        if fault == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
        elif fault.startswith("delay="):
            time.sleep(float(fault.removeprefix("delay=")))
            self.send(200, body or b"")
        elif fault == "truncate":
            full = body or b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(full)))
            self.end_headers()
            self.wfile.write(full[: len(full) // 2])
            self.close_connection = True
        elif fault == "html":
            self.send(
                200, b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "text/html"
            )
        else:
            status, _, after = fault.partition("@")
            headers = {"Retry-After": after} if after else {}
            self.send(int(status), json.dumps({"error": status}).encode(), headers=headers)


@contextmanager
def serve_ledger(
    pages: Mapping[int, bytes],
    *,
    latency: float = 0.0,
    faults: Mapping[int, list[str]] | None = None,
) -> Iterator[LedgerServer]:
    """Serve ``{page: body}`` on a free loopback port for the duration of the block."""
    with serving(LedgerServer(pages, latency=latency, faults=faults)) as server:
        yield server


# --- any request target: the paging styles that are not page numbers (tests/test_sources.py) ---

Response = tuple[bytes, Mapping[str, str]]  # a 200's body and its extra headers


def target(url: str) -> str:
    """A request target as routes are keyed: the path and the query, its parameters sorted."""
    parts = urlsplit(url)
    return parts.path + "?" + urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class RouteServer(PageServer):
    """Answer each request target in ``routes`` (see `target`) with its body and headers, any
    other with 404, a request without the ``require``d headers with 400; record the targets
    asked for, and the most requests in flight at once."""

    def __init__(
        self,
        routes: Mapping[str, Response],
        *,
        latency: float = 0.0,
        require: Mapping[str, str] | None = None,
    ) -> None:
        self.routes = {target(url): response for url, response in routes.items()}
        self.require = dict(require or {})
        self.latency = latency
        self.asked: list[str] = []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        super().__init__({}, _RouteHandler)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RouteHandler(PageHandler):
    server: RouteServer

    def do_GET(self) -> None:
        server, asked = self.server, target(self.path)
        with server.lock:
            server.asked.append(asked)
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        time.sleep(server.latency)
        found = server.routes.get(asked)
        if any(self.headers.get(name) != value for name, value in server.require.items()):
            self.send(400, b'{"error": "a required header is missing"}')
        elif found is None:
            self.send(404, b"")
        else:
            self.send(200, found[0], headers=found[1])
        with server.lock:
            server.in_flight -= 1
