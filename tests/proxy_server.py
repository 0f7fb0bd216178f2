"""A loopback HTTP proxy, as a company's: CONNECT tunnels (https) and forwarding (http).

Host names are mapped to loopback ports (``hosts``), so a test can use a name that is not
loopback (benchtest never proxies loopback) while nothing leaves 127.0.0.1. With
``credentials`` (``user:password``), a request without them in ``Proxy-Authorization`` is
answered 407. Every request's line and Proxy-Authorization is recorded. Test tooling only.
"""

from __future__ import annotations

import base64
import select
import socket
import ssl
import threading
from contextlib import suppress
from urllib.parse import urlsplit


class ProxyServer:
    def __init__(
        self,
        hosts: dict[str, int],
        credentials: str | None = None,
        tls: ssl.SSLContext | None = None,  # an https:// proxy: TLS to the proxy itself
    ) -> None:
        self.hosts = hosts  # "name:port" -> port on 127.0.0.1
        self.tls = tls
        self.auth = None
        if credentials is not None:
            self.auth = "Basic " + base64.b64encode(credentials.encode()).decode()
        self.seen: list[tuple[str, str | None]] = []  # (request line, Proxy-Authorization)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, name="proxy", daemon=True)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with suppress(OSError):
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
        with conn, suppress(OSError):
            buffered = b""
            while True:  # requests on one connection (forwarding); CONNECT ends it
                while b"\r\n\r\n" not in buffered:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffered += data
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                line, *lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)
                }
                self.seen.append((line, headers.get("proxy-authorization")))
                method, target, _ = line.split(" ", 2)
                if self.auth is not None and headers.get("proxy-authorization") != self.auth:
                    conn.sendall(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
                    )
                    continue
                if method == "CONNECT":
                    port = self.hosts.get(target)
                    if port is None:
                        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                        return
                    with socket.create_connection(("127.0.0.1", port)) as upstream:
                        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        upstream.sendall(buffered)
                        _pipe(conn, upstream, self.stopping)
                    return
                self._forward(conn, method, target, lines)

    def _forward(self, conn: socket.socket, method: str, target: str, lines: list[str]) -> None:
        """One absolute-form request, sent on in origin form; the answer relayed whole."""
        url = urlsplit(target)
        port = self.hosts.get(f"{url.hostname}:{url.port or 80}")
        if port is None:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        kept = [
            h for h in lines if h.split(":")[0].lower() not in ("proxy-authorization", "connection")
        ]
        path = url.path + (f"?{url.query}" if url.query else "")
        request = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""])
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            upstream.sendall(request.encode("latin-1"))
            while data := upstream.recv(65536):
                conn.sendall(data)

    def __enter__(self) -> ProxyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        with suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)


def _pipe(a: socket.socket, b: socket.socket, stopping: threading.Event) -> None:
    """Relay bytes both ways until either side closes."""
    while not stopping.is_set():
        readable, _, _ = select.select([a, b], [], [], 0.1)
        # TLS may hold bytes already read from the socket, which select does not see
        readable += [s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()]
        for source in dict.fromkeys(readable):
            data = source.recv(65536)
            if not data:
                return
            (b if source is a else a).sendall(data)
