"""The built zip under Lambda's real runtime: awslambdaric on Python 3.12, against a Runtime API.

`build.sh` writes the x86_64 package; it is unpacked into a read-only folder (Lambda's
/var/task) and run as Lambda runs it, `python3.12 -m awslambdaric handler.handler`, with the
Runtime API stood in for on loopback by tests/runtime_api.py. So the events, the error payloads,
the JSON log lines and the deadline are the runtime's own, not pytest calling `handler()`.
Skips, saying why, when there is no Python 3.12 or awslambdaric cannot be installed.
"""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from runtime_api import (
    Function,
    json_lines,
    launch,
    make_readonly,
)
from test_build import build, unpack

import benchtest
from benchtest import load_settings
from benchtest.source import sample_pages
from tests.ledger_server import LedgerServer
from tests.support import made_at

pytestmark = pytest.mark.slow

SCHEDULED = {"scheduled_time": "2026-11-25T06:00:00Z"}
SUMMARY = "benchtest run"  # the message of the handler's one summary line
MAX_INIT_SECONDS = 2.0  # a robust bound; benchmarks/cold_start.py measures the real figure


@pytest.fixture(scope="module")
def task(runtime_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/lambda.zip for x86_64, built by build.sh and unpacked read-only."""
    package, _ = build("x86_64", tmp_path_factory.mktemp("build") / "dist")
    folder = unpack(package, tmp_path_factory.mktemp("var") / "task")
    make_readonly(folder)
    return folder


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def start(runtime_python: Path, task: Path, tmp_path: Path) -> Iterator[Callable[..., Function]]:
    """Start the function with extra environment; it is killed at the test's end."""
    before = listing(task)
    with ExitStack() as stack:

        def run(**env: str) -> Function:
            return stack.enter_context(
                launch(runtime_python, task, tmp_path / "function.log", **env)
            )

        yield run
    assert listing(task) == before, "the function wrote into its (read-only) task folder"


def summaries(text: str) -> list[dict[str, Any]]:
    return [r for r in json_lines(text) if r.get("message") == SUMMARY]


def metric_records(text: str) -> list[dict[str, Any]]:
    return [r for r in json_lines(text) if "_aws" in r]


# --------------------------------------------------------------------------------------------
# A scheduled run, a rejected event, init
# --------------------------------------------------------------------------------------------


def test_scheduled_event_returns_the_report_after_a_short_init(
    start: Callable[..., Function],
    serve: Callable[..., LedgerServer],
    record_property: Callable[[str, object], None],
) -> None:
    pages = sample_pages()
    server = serve(pages)
    expected = benchtest.run(load_settings(overrides={"url": server.url}, env={})).report
    function = start(BENCH_API_URL=server.url)

    init = function.init_seconds()
    print(f"\ninit under awslambdaric (process start to first /next): {init * 1000:.0f} ms")
    record_property("init_seconds", round(init, 4))
    assert init < MAX_INIT_SECONDS

    outcome = function.api.wait(function.api.invoke(SCHEDULED), timeout=60)
    assert outcome.kind == "response", outcome.body[:2000]
    report = outcome.json()
    assert report == made_at(expected, report).to_dict()
    assert report["total_balance"] == "5356.75"
    [summary] = summaries(outcome.logs)
    assert summary["level"] == "INFO"
    assert summary["success"] is True
    assert summary["total_balance"] == "5356.75"
    assert summary["requestId"] == outcome.request_id  # the runtime's JSON log keys
    [metrics] = metric_records(outcome.logs)
    assert metrics["Success"] == 1
    assert metrics["Pages"] == len(pages)


# Never used by a run against a real URL (the sample server, a config file, S3, HTML).
NOT_AT_INIT = (
    "benchtest.source",
    "http.server",
    "configparser",
    "boto3",
    "benchtest.renderers.html",
)


def test_init_imports_nothing_a_real_run_does_not_need(runtime_python: Path, task: Path) -> None:
    code = "import json, sys, handler; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [str(runtime_python), "-B", "-c", code],
        cwd=task,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(task)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert {"handler", "benchtest.transport", "urllib3"} <= loaded
    assert "requests" not in loaded
    assert loaded.isdisjoint(NOT_AT_INIT), loaded & set(NOT_AT_INIT)


def test_rejected_event_posts_an_error_and_the_next_event_is_served(
    start: Callable[..., Function], serve: Callable[..., LedgerServer]
) -> None:
    server = serve(sample_pages())
    function = start(BENCH_API_URL=server.url)
    api = function.api

    rejected = api.wait(api.invoke({"url": "https://elsewhere.example/{page}.json"}), timeout=60)
    assert rejected.kind == "error"
    error = rejected.json()
    assert error["errorType"] == "ConfigError"
    assert "'url' is not allowed" in error["errorMessage"]
    assert server.requests == 0  # rejected before any request, to either URL
    [summary] = summaries(rejected.logs)
    assert summary["success"] is False
    assert summary["error"].startswith("ConfigError:")

    served = api.wait(api.invoke({}), timeout=60)
    assert served.kind == "response", served.body[:2000]
    assert served.json()["total_balance"] == "5356.75"
    assert function.process.poll() is None, "the runtime exited after the rejected event"
    api.wait_next(3)  # init, after the error, after the response


def test_import_failure_is_posted_as_an_init_error(runtime_python: Path, tmp_path: Path) -> None:
    """The stand-in's init/error route, through a handler module that cannot be imported."""
    task = tmp_path / "task"
    task.mkdir()
    (task / "handler.py").write_text("import not_a_module_anywhere\n")
    with launch(runtime_python, task, tmp_path / "function.log") as function:
        outcome = function.api.wait("init", timeout=60)
        assert function.process.wait(timeout=30) != 0
    assert outcome.kind == "init_error"
    assert outcome.json()["errorType"] == "Runtime.ImportModuleError"
    assert function.api.next_calls == []


# --------------------------------------------------------------------------------------------
# Sources that never finish: the run must fail, logged, before Lambda's deadline
# --------------------------------------------------------------------------------------------


@contextmanager
def hostile_source(kind: str) -> Iterator[str]:
    """A loopback ledger URL whose server accepts, then says nothing or one byte a second."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held: list[socket.socket] = []

    def answer(conn: socket.socket) -> None:
        conn.settimeout(0.5)
        try:
            conn.recv(65536)
            if kind == "trickle":  # a response that never ends, one byte a second
                head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
                for byte in itertools.chain(head, itertools.repeat(ord(" "))):
                    if stop.wait(1.0):
                        return
                    conn.sendall(bytes([byte]))
        except OSError:
            return

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        yield f"http://127.0.0.1:{port}/transactions/{{page}}.json"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()


# Waiting this long past the deadline shows how far a run overruns it (Lambda would have killed it).
OVERRUN_SHOWN = 10.0


@pytest.mark.parametrize(
    ("kind", "seconds_left"),
    [
        pytest.param("silent", 7.0, id="silent-7s"),
        pytest.param("silent", 17.0, id="silent-17s"),
        pytest.param("trickle", 17.0, id="trickle-17s"),
    ],
)
def test_hostile_source_fails_logged_before_the_deadline(
    start: Callable[..., Function], kind: str, seconds_left: float
) -> None:
    """The issue's acceptance: the error is posted before Lambda's deadline, after the summary.

    Lambda kills an invocation at its deadline, so an error posted later is never seen, and
    neither are the summary line and metric record the handler writes on the way out.
    """
    with hostile_source(kind) as url:
        function = start(BENCH_API_URL=url)
        api = function.api
        request_id = api.invoke(SCHEDULED, timeout=seconds_left)
        outcome = api.wait(request_id, timeout=seconds_left + OVERRUN_SHOWN)
    deadline = api.delivered[request_id].deadline_ms / 1000
    posted = outcome.monotonic - api.delivered[request_id].delivered
    print(f"\n{kind} source, {seconds_left} s left: error posted after {posted:.2f} s")
    assert outcome.kind == "error"
    assert "page 1" in outcome.json()["errorMessage"]
    assert outcome.wall < deadline, f"posted {outcome.wall - deadline:.2f} s after the deadline"
    [summary] = summaries(outcome.logs)
    assert summary["success"] is False
    [metrics] = metric_records(outcome.logs)
    assert metrics["Success"] == 0
