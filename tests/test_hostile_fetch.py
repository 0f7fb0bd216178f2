"""Hostile sources on loopback: each ends in one line naming the page, within the deadline.

A source that is slow (silent, drip-fed headers or body), huge (declared or endless),
redirecting elsewhere, or answering with a Location that does not parse gets the same promise as
bad data: one line on stderr naming the page, exit 1, nothing on stdout, the deadline held, and
no fetch thread left behind. Unreachable sources name the host and the cause. The servers here
speak raw HTTP over a socket, because a well-behaved HTTP server cannot misbehave this way.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest

from benchtest import FetchError, cli
from benchtest.paging import MAX_BYTES_IN_FLIGHT, page_cap
from tests.hostile_server import (
    Behaviour,
    RawServer,
    drip_body,
    drip_headers,
    endless_chunked,
    huge_length,
    redirect,
    silent,
)
from tests.support import ROOT, default_sigint, free_port, make_pages, record, settings

# 12 transactions, 4 pages of 3.
PAGES = make_pages([record(Company=f"VENDOR {i}") for i in range(12)], per_page=3)
DEADLINE = 2.0


@contextmanager
def hostile(behaviour: Behaviour, page: int = 1) -> Iterator[RawServer]:
    with RawServer(PAGES, page, behaviour) as server:
        yield server


def fetch_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("benchtest-fetch")]


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, list[str], float]]:
    """Run the CLI in-process, away from any sites.conf; (exit code, stdout, stderr lines, s)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("BENCH_"):
            monkeypatch.delenv(name)

    def run(url: str, *args: str) -> tuple[int, str, list[str], float]:
        started = time.monotonic()
        code = cli.main(["--url", url, "--format", "json", "--backoff", "0.01", *args])
        elapsed = time.monotonic() - started
        out, err = capsys.readouterr()
        return code, out, err.splitlines(), elapsed

    return run


# --- slow, huge, redirecting ----------------------------------------------------------------

CASES = [
    (silent, r"deadline of 2s reached while waiting for the response headers"),
    (drip_headers, r"deadline of 2s reached while waiting for the response headers"),
    (drip_body, r"deadline of 2s reached while reading the response body"),
    (huge_length, r"response of 99999999999 bytes exceeds the page cap of \d+ bytes"),
    (endless_chunked, r"response exceeds the page cap of 524288 bytes"),
    (
        redirect("http://evil.example:8080/steal"),
        r"HTTP 302 redirect to http://evil\.example:8080 refused: "
        r"only http://127\.0\.0\.1:\d+ \(the configured origin\) is followed",
    ),
    (redirect("http://127.0.0.1:1/x"), r"HTTP 302 redirect to http://127\.0\.0\.1:1 refused"),
    (redirect("https://127.0.0.1:PORT/x"), r"HTTP 302 redirect to https://127\.0\.0\.1:\d+ "),
    (redirect("http://user:pw@evil.example/"), r"HTTP 302 redirect to http://evil\.example:80 "),
    (redirect("http://[::1/x"), r"HTTP 302 redirect to an unparsable Location 'http://\[::1/x'"),
    (redirect("http://127.0.0.1:99999/x"), r"HTTP 302 redirect to an unparsable Location"),
    (
        redirect("http://u:pw@[::1/x"),
        r"HTTP 302 redirect to an unparsable Location 'http://\[::1/x'$",
    ),
    (redirect("?again"), r"more than 5 redirects$"),
]


@pytest.mark.parametrize("page", [1, 3])
@pytest.mark.parametrize(
    ("behaviour", "message"), CASES, ids=[behaviour.__name__ for behaviour, _ in CASES]
)
def test_a_hostile_page_ends_in_one_line_within_the_deadline(
    run_cli: Callable[..., tuple[int, str, list[str], float]],
    behaviour: Behaviour,
    message: str,
    page: int,
) -> None:
    with hostile(behaviour, page) as server:
        code, out, err, elapsed = run_cli(
            server.url, "--deadline", str(DEADLINE), "--timeout", "5", "--concurrency", "64"
        )
    assert code == 1
    assert out == ""
    assert len(err) == 1
    assert re.match(f"benchtest: error: page {page}: {message}", err[0]), err[0]
    assert "pw" not in err[0]
    assert elapsed <= DEADLINE + 1
    assert fetch_threads() == []


def test_a_same_origin_redirect_is_followed(
    run_cli: Callable[..., tuple[int, str, list[str], float]],
) -> None:
    pages = {**PAGES, 30: PAGES[3]}
    with RawServer(pages, 3, redirect("/transactions/30.json")) as server:
        code, out, err, _ = run_cli(server.url)
    assert (code, err) == (0, [])
    assert '"transaction_count": 12' in out


def test_the_page_cap_shrinks_with_concurrency_to_hold_the_bytes_in_flight() -> None:
    for concurrency in (1, 8, 64):
        assert 2 * concurrency * page_cap(concurrency) <= MAX_BYTES_IN_FLIGHT


# --- unreachable sources name the host and the cause -----------------------------------------


def test_refused_connection_names_host_and_cause(
    run_cli: Callable[..., tuple[int, str, list[str], float]],
) -> None:
    port = free_port()
    code, out, err, _ = run_cli(f"http://127.0.0.1:{port}/{{page}}.json", "--retries", "2")
    assert (code, out) == (1, "")
    assert err == [
        f"benchtest: error: page 1: cannot connect to 127.0.0.1:{port}: connection refused "
        "(after 3 attempts)"
    ]


def test_unresolvable_host_names_host_and_cause(
    run_cli: Callable[..., tuple[int, str, list[str], float]],
) -> None:
    started = time.monotonic()
    with suppress(socket.gaierror):
        socket.getaddrinfo("ledger.invalid", 80)
    if time.monotonic() - started > 1:
        pytest.skip("this machine's resolver does not fail .invalid names locally")
    code, _, err, _ = run_cli("http://ledger.invalid/{page}.json", "--retries", "0")
    assert code == 1
    assert err == ["benchtest: error: page 1: cannot resolve host ledger.invalid"]


def test_tls_to_a_plain_http_server_names_host_and_cause(
    run_cli: Callable[..., tuple[int, str, list[str], float]], serve: Callable[..., Any]
) -> None:
    server = serve(PAGES)  # answers the TLS ClientHello with an HTTP 400
    url = server.url.replace("http://", "https://")
    code, _, err, _ = run_cli(url, "--retries", "0")
    assert code == 1
    assert re.fullmatch(
        r"benchtest: error: page 1: TLS with 127\.0\.0\.1:\d+ failed: [a-z ]+", err[0]
    ), err


def test_a_silent_server_is_a_timeout_naming_the_host(
    run_cli: Callable[..., tuple[int, str, list[str], float]],
) -> None:
    with hostile(silent) as server:
        code, _, err, elapsed = run_cli(server.url, "--timeout", "0.3", "--retries", "1")
    assert code == 1
    assert re.fullmatch(
        r"benchtest: error: page 1: timed out waiting for 127\.0\.0\.1:\d+ to answer "
        r"\(after 2 attempts\)",
        err[0],
    ), err
    assert elapsed < 2


def test_the_per_attempt_timeout_shrinks_to_the_time_left() -> None:
    """Each retry gets min(timeout, time left): the second attempt cannot outlast the deadline."""
    import benchtest

    with hostile(silent) as server:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^page 1: deadline of 1\.5s reached while waiting"):
            benchtest.run(settings(server.url, timeout=1.0, retries=5, deadline=1.5))
        assert time.monotonic() - started < 2.0
        assert len(server.requests) == 2


# --- credentials in the URL -------------------------------------------------------------------


def test_credentials_in_the_url_are_sent_as_basic_auth_and_shown_nowhere() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["PYTHONPATH"] = str(ROOT)
    with RawServer(PAGES, 0, silent) as server:
        good = server.url.replace("http://", "http://user:s3cret@")
        bad = f"http://user:s3cret@127.0.0.1:{free_port()}/{{page}}.json"
        command = [sys.executable, "-m", "benchtest", "--debug", "--retries=0"]
        runs = [
            subprocess.run(
                [*command, "--url", url, "--format", fmt],
                capture_output=True,
                text=True,
                env=env,
                cwd=ROOT / "tests",
                timeout=30,
            )
            for url, fmt in [(good, "json"), (good, "html"), (bad, "table")]
        ]
    assert [r.returncode for r in runs] == [0, 0, 1]
    auth = b"Authorization: Basic " + base64.b64encode(b"user:s3cret")
    assert all(auth in request for request in server.requests)
    for r in runs:
        assert "s3cret" not in r.stdout + r.stderr
    assert "cannot connect to 127.0.0.1" in runs[2].stderr


# --- Ctrl-C -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [1, 3])
def test_ctrl_c_exits_130_at_once_without_a_traceback(page: int, tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["PYTHONPATH"] = str(ROOT)
    with hostile(silent, page) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchtest", "--url", server.url, "--timeout", "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
            preexec_fn=default_sigint,
        )
        deadline = time.monotonic() + 10
        while len(server.requests) < (1 if page == 1 else 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            out, err = proc.communicate(timeout=5)
        finally:
            proc.kill()
        elapsed = time.monotonic() - sent
    assert proc.returncode == 130
    assert elapsed < 1.5
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "benchtest: interrupted"
