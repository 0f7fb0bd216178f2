"""Shared fixtures: the Bench ledger from ../shared, loopback servers, a moto server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import benchtest
from benchtest import Settings
from benchtest import cli as benchtest_cli
from tests.ledger_server import LedgerServer, serve_ledger
from tests.runtime_api import RuntimeUnavailable, find_python312, runtime_venv
from tests.support import BENCH_SAMPLE, free_port
from tests.vendor_apis import Api, VendorServer
from tests.vendor_apis import serve as serve_api


@pytest.fixture(scope="session")
def bench_pages() -> dict[int, bytes]:
    """The real Bench ledger, read from ../shared (third-party data, never copied into the repo)."""
    files = sorted(BENCH_SAMPLE.glob("*.json"))
    if not files:
        pytest.skip(f"Bench ledger not found at {BENCH_SAMPLE} (it lives outside the repository)")
    return {int(f.stem): f.read_bytes() for f in files}


@pytest.fixture(scope="session")
def sample_report() -> benchtest.Report:
    """The bundled sample's report as the core computes it (what ``--format json`` prints).

    Built from `Settings` directly, so no sites.conf or environment is in play.
    """
    return benchtest.run(Settings()).report


class CliRun(NamedTuple):
    code: int
    out: str
    err: list[str]  # stderr's lines
    seconds: float


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliRun]:
    """Run ``benchtest ARGS`` in-process, in an empty directory (no sites.conf) and without
    BENCH_* variables (set them with ``monkeypatch`` after asking for this fixture)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("BENCH_"):
            monkeypatch.delenv(name)

    def run(*args: str) -> CliRun:
        started = time.monotonic()
        code = benchtest_cli.main(list(args))
        seconds = time.monotonic() - started
        out, err = capsys.readouterr()
        return CliRun(code, out, err.splitlines(), seconds)

    return run


@pytest.fixture
def serve() -> Iterator[Callable[..., LedgerServer]]:
    """Start loopback ledger servers for the test; all are shut down at its end."""
    with ExitStack() as stack:

        def start(pages: dict[int, bytes], **options: Any) -> LedgerServer:
            return stack.enter_context(serve_ledger(pages, **options))

        yield start


@pytest.fixture
def vendor_cli(
    cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., tuple[CliRun, VendorServer]]:
    """Run ``benchtest --format json`` against a vendor API's loopback server (tests/
    vendor_apis.py), described by its sites.conf section or by ``conf``, with its token in
    BENCH_AUTH_TOKEN: (the run, the server)."""

    def run(api: Api, conf: str | None = None, *args: str) -> tuple[CliRun, VendorServer]:
        with serve_api(api) as server:
            path = tmp_path / "vendors.conf"
            path.write_text(api.section(server.origin, conf), encoding="utf-8")
            monkeypatch.setenv("BENCH_AUTH_TOKEN", api.token)
            options = ["--format", "json", "--backoff", "0.01", "-q", *args]
            return cli("--config", str(path), "--site", api.name, *options), server

    return run


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `moto.server` on a free loopback port, one per test module, stopped at its end."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto server exited with {proc.returncode}: {log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto server did not listen within 30 s: {log_path.read_text()}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def runtime_python(request: pytest.FixtureRequest) -> Path:
    """Python 3.12 with awslambdaric and boto3: Lambda's python3.12 runtime, minus Lambda."""
    python = find_python312()
    if python is None:
        pytest.skip("no Python 3.12 on this machine (Lambda's python3.12 runtime version)")
    try:
        return runtime_venv(python, request.config.cache.mkdir("runtime"))
    except RuntimeUnavailable as exc:
        pytest.skip(f"awslambdaric could not be installed for Python 3.12: {exc}")
