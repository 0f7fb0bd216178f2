"""The bundled sample ledger, served on loopback when no URL is configured."""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

log = logging.getLogger(__name__)

SAMPLE_SOURCE = "sample (bundled ledger, served on 127.0.0.1)"
PAGE_PATH = re.compile(r"/transactions/(\d+)\.json")


class PageHandler(BaseHTTPRequestHandler):
    """Answer ``GET /transactions/{n}.json`` with page n, or 404."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK of the headers (~40 ms a response on loopback).
    disable_nagle_algorithm = True
    server: PageServer

    def log_message(self, format: str, *args: object) -> None:
        """Silent: an access log would be noise on the CLI's stderr."""

    def page_number(self) -> int:
        """The requested page, or 0 for any other path."""
        match = PAGE_PATH.fullmatch(self.path)
        return int(match.group(1)) if match else 0

    def do_GET(self) -> None:
        body = self.server.pages.get(self.page_number())
        self.send(404 if body is None else 200, body or b"")

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class PageServer(ThreadingHTTPServer):
    """Serve ``{page: body}`` on a free port of 127.0.0.1."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, pages: Mapping[int, bytes], handler: type[PageHandler] = PageHandler
    ) -> None:
        self.pages = dict(pages)
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/transactions/{{page}}.json"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (its timeout or deadline passed) is routine, not a fault."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serving(server: PageServer) -> Iterator[PageServer]:
    """Run ``server`` in a background thread for the duration of the block."""
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


@contextmanager
def serve_sample() -> Iterator[str]:
    """Serve the bundled sample on loopback for the block; yield its page URL template."""
    log.warning("no ledger URL configured: using the bundled sample ledger")
    with serving(PageServer(sample_pages())) as server:
        yield server.url
