"""A loopback TCP server that misbehaves on one page: for hostile-source tests.

It speaks raw HTTP over a socket, because a well-behaved HTTP server cannot misbehave this way
(drip-fed headers, silence after accept, endless chunked bodies, broken Location headers). The
other pages are answered normally, one request per connection. Test tooling only.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from contextlib import suppress

Behaviour = Callable[[socket.socket, "RawServer"], None]


class RawServer:
    """Loopback TCP server: pages answered normally, the ``hostile`` page by ``behaviour``."""

    def __init__(self, pages: dict[int, bytes], hostile: int, behaviour: Behaviour) -> None:
        self.pages, self.hostile, self.behaviour = pages, hostile, behaviour
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/transactions/{{page}}.json"
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, name="hostile-server", daemon=True)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.requests.append(head)
            match = re.match(rb"GET /transactions/(\d+)\.json", head)
            page = int(match.group(1)) if match else 0
            if page == self.hostile:
                self.behaviour(conn, self)
                return
            body = self.pages.get(page)
            status = b"200 OK" if body is not None else b"404 Not Found"
            body = body or b""
            conn.sendall(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
        except OSError:
            pass
        finally:
            conn.close()

    def wait(self, seconds: float) -> bool:
        """Sleep; False once the server is stopping (a behaviour then returns)."""
        return not self.stopping.wait(seconds)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        self.listener.close()
        for conn in self.connections:
            conn.close()
        self.thread.join(timeout=5)


# --- behaviours ---------------------------------------------------------------------------


def silent(conn: socket.socket, server: RawServer) -> None:
    server.wait(60)


def drip_headers(conn: socket.socket, server: RawServer) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 100:
        if not server.wait(0.2):
            return
        conn.sendall(bytes([byte]))


def drip_body(conn: socket.socket, server: RawServer, interval: float = 0.2) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for byte in b"{" + b" " * 999:
        if not server.wait(interval):
            return
        conn.sendall(bytes([byte]))


def one_byte_per_second(conn: socket.socket, server: RawServer) -> None:
    drip_body(conn, server, interval=1.0)


def endless_chunked(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    while not server.stopping.is_set():
        conn.sendall(chunk)


def huge_length(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n{")
    server.wait(60)


def redirect(location: str) -> Behaviour:
    def behaviour(conn: socket.socket, server: RawServer) -> None:
        target = location.replace("PORT", str(server.port))
        conn.sendall(
            f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()
        )

    behaviour.__name__ = f"redirect to {location}"
    return behaviour
