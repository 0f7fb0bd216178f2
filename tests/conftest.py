"""Shared fixtures: the Bench ledger from ../shared, loopback servers, settings for tests."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

import benchtest
from benchtest import LedgerServer, Settings

ROOT = Path(__file__).resolve().parent.parent
BENCH_SAMPLE = ROOT.parent / "shared" / "bench-sample"


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
    return benchtest.run(Settings(url="sample")).report


@pytest.fixture
def serve() -> Iterator[Callable[..., LedgerServer]]:
    """Start loopback ledger servers for the test; all are shut down at its end."""
    with ExitStack() as stack:

        def start(pages: dict[int, bytes], **options: Any) -> LedgerServer:
            return stack.enter_context(benchtest.serve_ledger(pages, **options))

        yield start


def settings(url: str, **changes: Any) -> Settings:
    """Settings for a test: fast backoff, no config file or environment in play."""
    base = Settings(url=url, backoff=0.01, retry_after_cap=5.0, timeout=5.0, deadline=30.0)
    return dataclasses.replace(base, **changes)


def make_pages(
    transactions: list[dict[str, Any]], per_page: int, total: int | None = -1
) -> dict[int, bytes]:
    """Split records into API pages; ``total=-1`` means the true count, ``None`` omits it."""
    count = len(transactions) if total == -1 else total
    pages = {}
    for start in range(0, max(len(transactions), 1), per_page):
        number = start // per_page + 1
        doc: dict[str, Any] = {
            "page": number,
            "transactions": transactions[start : start + per_page],
        }
        if count is not None:
            doc["totalCount"] = count
        pages[number] = json.dumps(doc).encode()
    return pages


def record(date: str = "2024-01-02", amount: str = "-1.00", **fields: Any) -> dict[str, Any]:
    base = {
        "Date": date,
        "Ledger": "Office Expense",
        "Amount": amount,
        "Company": "ACME VANCOUVER BC",
    }
    base.update(fields)
    return base


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
