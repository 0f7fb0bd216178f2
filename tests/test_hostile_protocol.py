"""Hostile HTTP, second round (issue 17, classes 1, 2 and 6): lines without end, absurd numbers,
and retries told on the terminal.

What bounds each line (checked in the installed sources, urllib3 2.7 and CPython 3.11/3.12):

- Status and header lines: `http.client` reads each with ``readline(65537)`` and refuses a
  longer one (``LineTooLong``), and refuses more than 100 header lines.
- Chunk-size and trailer lines: the transport reads a body with ``response.read(cap + 1)``,
  which urllib3 hands to `http.client`'s own chunked reader: each line read with the same
  65,537-byte bound. (urllib3's ``read_chunked``, behind ``stream()``, reads them with a bare
  ``readline()``: the transport never calls it, and the endless chunk-size line below fails
  if it ever does.) The number of trailer lines has no bound but the deadline; each is dropped
  as read.
- A retried answer (a 503): urllib3 drains its body whole to reuse the connection
  (``drain_conn``); the transport closes it instead, so an endless 503 costs nothing.

Servers speak raw HTTP on loopback (tests/hostile_server.py); what the server managed to send
bounds what the client can have held.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliRun
from tests.hostile_server import Behaviour, RawServer
from tests.support import ROOT, make_pages, record

PAGES = make_pages([record(Company=f"VENDOR {i}") for i in range(12)], per_page=3)
DEADLINE = 2.0
MiB = 1 << 20
# What loopback's socket buffers hold (a few MB): a client that stops reading has received at
# most this much more than it read; a client that drained an endless body, gigabytes.
BUFFERED = 32 * MiB


def endless(head: bytes, unit: bytes, sent: list[int]) -> Behaviour:
    """Send ``head``, then ``unit`` for as long as the client reads; count bytes in ``sent``."""

    def behaviour(conn: socket.socket, server: RawServer) -> None:
        conn.sendall(head)
        while not server.stopping.is_set():
            conn.sendall(unit)
            sent[0] += len(unit)

    return behaviour


def once(head: bytes) -> Behaviour:
    """Answer the page's first request with ``head`` (and no body), later ones with the page."""
    calls = []

    def behaviour(conn: socket.socket, server: RawServer) -> None:
        calls.append(1)
        if len(calls) == 1:
            conn.sendall(head)
            return
        body = PAGES[server.hostile]
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    return behaviour


def fetch(cli: Callable[..., CliRun], server: RawServer, *args: str) -> CliRun:
    return cli(
        "--url", server.url, "--format", "json", "--backoff", "0.01",
        "--deadline", str(DEADLINE), "--concurrency", "64", *args,
    )  # fmt: skip


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
LINE = "got more than 65536 bytes when reading "
RETRIED = " (after 2 attempts)"  # urllib3 retries a broken status line or header, not a body
LINES = [
    ("chunk-size", CHUNKED, b"0" * 65536, LINE + "chunk size"),
    ("trailer", CHUNKED + b"2\r\n[]\r\n0\r\nX-T: ", b"t" * 65536, LINE + "trailer line"),
    ("status", b"HTTP/1.1 200 ", b"O" * 65536, LINE + "status line" + RETRIED),
    ("header", b"HTTP/1.1 200 OK\r\nX-A: ", b"a" * 65536, LINE + "header line" + RETRIED),
    (
        "headers",
        b"HTTP/1.1 200 OK\r\n",
        b"X-A: b\r\n" * 8192,
        "got more than 100 headers" + RETRIED,
    ),
]


@pytest.mark.parametrize(
    ("head", "unit", "message"), [c[1:] for c in LINES], ids=[c[0] for c in LINES]
)
@pytest.mark.parametrize("page", [1, 3])
def test_an_endless_protocol_line_is_one_line_naming_the_page(
    cli: Callable[..., CliRun], head: bytes, unit: bytes, message: str, page: int
) -> None:
    sent = [0]
    with RawServer(PAGES, page, endless(head, unit, sent)) as server:
        run = fetch(cli, server, "--retries", "1")
    assert (run.code, run.out) == (1, "")
    assert len(run.err) == 1
    assert re.fullmatch(
        rf"benchtest: error: page {page}: 127\.0\.0\.1:\d+ sent an overlong answer: "
        + re.escape(message),
        run.err[0],
    ), run.err
    assert run.seconds < DEADLINE
    assert sent[0] < BUFFERED


@pytest.mark.parametrize("status", [b"SSH-2.0-OpenSSH_9.6", b"HTTP/2.0 200 OK", b"\x1b[2J"])
def test_an_answer_that_is_not_http_1_is_one_line(
    cli: Callable[..., CliRun], status: bytes
) -> None:
    head = status + b"\r\nContent-Length: 2\r\n\r\n[]"
    with RawServer(PAGES, 1, lambda conn, server: conn.sendall(head)) as server:
        run = fetch(cli, server, "--retries", "1")
    assert (run.code, run.out) == (1, "")
    assert re.fullmatch(
        r"benchtest: error: page 1: 127\.0\.0\.1:\d+ did not answer with an HTTP/1 status line "
        r"\(after 2 attempts\)",
        "\n".join(run.err),
    ), run.err


ENDLESS_503 = [
    (
        "chunked",
        b"HTTP/1.1 503 No\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"10000\r\n" + b" " * 65536 + b"\r\n",
    ),
    ("declared", b"HTTP/1.1 503 No\r\nContent-Length: 99999999999\r\n\r\n", b" " * 65536),
]


@pytest.mark.parametrize(
    ("head", "unit"), [c[1:] for c in ENDLESS_503], ids=[c[0] for c in ENDLESS_503]
)
def test_a_retried_answer_with_an_endless_body_is_not_read(
    cli: Callable[..., CliRun], head: bytes, unit: bytes
) -> None:
    """urllib3 drained it whole before a retry: 5.8 GB, then a MemoryError traceback."""
    sent = [0]
    with RawServer(PAGES, 1, endless(head, unit, sent)) as server:
        run = fetch(cli, server, "--retries", "2")
    assert (run.code, run.out) == (1, "")
    assert run.err == ["benchtest: error: page 1: HTTP 503 after 3 attempts"]
    assert sent[0] < 3 * BUFFERED


def test_endless_trailers_end_at_the_deadline_in_flat_memory(cli: Callable[..., CliRun]) -> None:
    """Trailer lines are not counted by http.client: the deadline ends them, each one dropped."""
    sent = [0]
    many = endless(CHUNKED + b"2\r\n[]\r\n0\r\n", b"X-T: t\r\n" * 8192, sent)
    with RawServer(PAGES, 1, many) as server:
        run = fetch(cli, server)
    assert (run.code, run.out) == (1, "")
    reached = f"deadline of {DEADLINE:g}s reached while reading the response body"
    assert run.err == [f"benchtest: error: page 1: {reached}"]
    assert run.seconds <= DEADLINE + 1


# --- class 2: absurd numbers ---------------------------------------------------------------

RETRY_AFTER = "HTTP/1.1 503 No\r\nRetry-After: {}\r\nContent-Length: 0\r\n\r\n"
REFUSED = "HTTP 503 with a Retry-After that is neither seconds nor a date: "


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Fri, 31 Dec 10000 23:59:59 GMT", REFUSED + "'Fri, 31 Dec 10000 23:59:59 GMT'"),
        ("Fri, 31 Dec 999999999999999999999 23:59:59 GMT", REFUSED + "'Fri, 31 Dec 99999"),
        ("soon\x1b[2J", REFUSED + r"'soon\x1b[2J'"),
        ("x" * 60_000, REFUSED + "'" + "x" * 59 + "…'"),
    ],
    ids=["year-10000", "year-of-21-digits", "escape", "60-KB"],
)
def test_an_unusable_retry_after_is_one_line_quoting_it_safely(
    cli: Callable[..., CliRun], value: str, message: str
) -> None:
    head = RETRY_AFTER.format(value).encode()
    with RawServer(PAGES, 2, once(head)) as server:
        run = fetch(cli, server)
    assert (run.code, run.out) == (1, "")
    assert len(run.err) == 1
    assert run.err[0].startswith("benchtest: error: page 2: " + message), run.err
    assert "\x1b" not in run.err[0]


@pytest.mark.parametrize("digits", [10, 4_301, 60_000])
def test_a_retry_after_of_any_number_of_digits_fails_at_once(
    cli: Callable[..., CliRun], digits: int
) -> None:
    """Python's int() refuses 4,300 digits; any delay of 10 digits or more is past every cap
    (issue 26: a wait longer than the cap fails the run rather than being cut short)."""
    head = RETRY_AFTER.format("9" * digits).encode()
    with RawServer(PAGES, 2, once(head)) as server:
        run = fetch(cli, server, "--retry-after-cap", "0.3")
    assert (run.code, run.out) == (1, "")
    shown = "9" * digits if digits <= 60 else "9" * 59 + "…"
    assert run.err == [
        f"benchtest: error: page 2: HTTP 503 asks to wait a {digits:,}-digit number of seconds "
        f"before a retry (Retry-After: '{shown}'), over the cap of 0.3s (retry_after_cap)"
    ]
    assert run.seconds < 1


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("9" * 5_000, r"Content-Length of 5,000 digits exceeds the page cap$"),
        ("0" * 5_000 + "9" * 21, r"Content-Length of 21 digits exceeds the page cap$"),
        ("9" * 20, r"response of 9{20} bytes exceeds the page cap of 524288 bytes$"),
    ],
    ids=["5000-digits", "leading-zeros", "20-digits"],
)
def test_an_absurd_content_length_is_one_line(
    cli: Callable[..., CliRun], length: str, message: str
) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n{{".encode()
    with RawServer(PAGES, 1, once(head)) as server:
        run = fetch(cli, server)
    assert (run.code, run.out) == (1, "")
    assert len(run.err) == 1
    assert re.match(r"benchtest: error: page 1: " + message, run.err[0]), run.err


# --- class 6: retries are counted, not told ------------------------------------------------


def dropped(conn: socket.socket, server: RawServer) -> None:
    """Read the request, then close the connection without a word."""


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def always_503(conn: socket.socket, server: RawServer) -> None:
    conn.sendall(b"HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n")


@pytest.mark.parametrize(
    ("behaviour", "line", "told"),
    [
        (
            dropped,
            r"127\.0\.0\.1:\d+ closed the connection without answering \(after 3 attempts\)",
            r"Retrying \(",
        ),
        (always_503, r"HTTP 503 after 3 attempts", r'"GET /transactions/1\.json HTTP/1\.1" 503'),
    ],
    ids=["dropped", "503"],
)
def test_the_cli_tells_retries_only_with_debug(
    tmp_path: Path, behaviour: Behaviour, line: str, told: str
) -> None:
    """A real process, so logging is configured as a user's run configures it."""
    runs = []
    with RawServer(PAGES, 1, behaviour) as server:
        for debug in ([], ["--debug"]):
            runs.append(subprocess.run(
                [sys.executable, "-m", "benchtest", "--url", server.url, "--retries", "2",
                 "--backoff", "0.01", *debug],
                capture_output=True, text=True, env=child_env(), cwd=tmp_path, timeout=60,
            ))  # fmt: skip
    quiet, debug = runs
    assert (quiet.returncode, quiet.stdout) == (1, "")
    assert re.fullmatch(rf"benchtest: error: page 1: {line}\n", quiet.stderr), quiet.stderr
    assert len(re.findall(told, debug.stderr)) >= 2, debug.stderr


def test_the_lambda_counts_retries_and_logs_none(tmp_path: Path) -> None:
    """The handler as a process (``python handler.py EVENT``): its own logging configuration,
    as at a Lambda init, and the summary line that CloudWatch receives."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"scheduled_time": "2026-01-01T06:00:00Z"}))
    with RawServer(PAGES, 1, dropped) as server:
        done = subprocess.run(
            [sys.executable, str(ROOT / "handler.py"), str(event)],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
            env=child_env(BENCH_API_URL=server.url, BENCH_RETRIES="2", BENCH_BACKOFF="0.01"),
        )  # fmt: skip
    assert done.returncode == 1
    assert "Retrying" not in done.stderr
    [summary] = [
        json.loads(line.partition(": ")[2])
        for line in done.stderr.splitlines()
        if line.startswith("ERROR benchtest.run: ")
    ]
    assert (summary["retries"], summary["requests"], summary["error_type"]) == (
        2,
        3,
        "NetworkError",
    )
    assert summary["error"].endswith("closed the connection without answering (after 3 attempts)")
