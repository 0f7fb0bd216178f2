"""A ledger API on 127.0.0.1: serves the bundled sample, and the tests and benchmark.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length) to exercise the real fetch path,
and can add latency or inject faults per page so retries are tested against a real socket.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

_PATH = re.compile(r"/transactions/(\d+)\.json")

# Faults, consumed one per request of the page they are listed for:
#   "500", "503", "429": that status;  "429@2": with Retry-After: 2
#   "reset": close the connection without answering;  "delay=1.5": answer after 1.5 s
#   "truncate": declare the full length, send half the body, close;  "html": a 200 HTML page


class LedgerServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        pages: Mapping[int, bytes],
        *,
        latency: float = 0.0,
        faults: Mapping[int, list[str]] | None = None,
        port: int = 0,
    ) -> None:
        self.pages = dict(pages)
        self.latency = latency
        self.faults = {page: list(kinds) for page, kinds in (faults or {}).items()}
        self.requests = 0
        self.page_requests: dict[int, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/transactions/{{page}}.json"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (its timeout or deadline passed) is routine, not a server fault."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def next_fault(self, page: int) -> str | None:
        with self.lock:
            kinds = self.faults.get(page)
            return kinds.pop(0) if kinds else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers (~40 ms a response on loopback).
    disable_nagle_algorithm = True
    server: LedgerServer

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a test server's access log is noise on stderr."""

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.requests += 1
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            self._answer(server)
        finally:
            with server.lock:
                server.in_flight -= 1

    def _answer(self, server: LedgerServer) -> None:
        match = _PATH.fullmatch(self.path)
        page = int(match.group(1)) if match else 0
        if page:
            with server.lock:
                server.page_requests[page] = server.page_requests.get(page, 0) + 1
        if server.latency:
            time.sleep(server.latency)
        fault = server.next_fault(page) if page else None
        body = server.pages.get(page)
        if fault is None:
            if body is None:
                self._send(404, b"", "application/json")
            else:
                self._send(200, body, "application/json")
            return
        if fault == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
        elif fault.startswith("delay="):
            time.sleep(float(fault.removeprefix("delay=")))
            self._send(200, body or b"", "application/json")
        elif fault == "truncate":
            full = body or b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(full)))
            self.end_headers()
            self.wfile.write(full[: len(full) // 2])
            self.close_connection = True
        elif fault == "html":
            self._send(
                200, b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "text/html"
            )
        else:
            status, _, after = fault.partition("@")
            headers = {"Retry-After": after} if after else {}
            self._send(
                int(status), json.dumps({"error": status}).encode(), "application/json", headers
            )

    def _send(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_ledger(
    pages: Mapping[int, bytes],
    *,
    latency: float = 0.0,
    faults: Mapping[int, list[str]] | None = None,
) -> Iterator[LedgerServer]:
    """Serve ``{page: body}`` on a free loopback port for the duration of the block."""
    server = LedgerServer(pages, latency=latency, faults=faults)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="benchtest-server", daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def sample_pages() -> dict[int, bytes]:
    """The bundled sample ledger, as ``{page_number: body}``."""
    folder = resources.files("benchtest") / "sample"
    return {
        int(entry.name.removesuffix(".json")): entry.read_bytes()
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }
