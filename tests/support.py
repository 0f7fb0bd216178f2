"""Plain helpers for tests: paths, settings and ledger pages built from records.

Fixtures live in conftest.py; tests import these functions from here, never conftest itself.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from benchtest import Report, Settings
from benchtest.settings import BY_NAME, GROUPS

ROOT = Path(__file__).resolve().parent.parent
BENCH_SAMPLE = ROOT.parent / "shared" / "bench-sample"


def settings(url: str, **changes: Any) -> Settings:
    """Settings for a test, any setting by name: fast backoff, no config file or environment in
    play; ``auth_token`` too."""
    given = {"backoff": 0.01, "retry_after_cap": 5.0, "timeout": 5.0, "deadline": 30.0}
    given.update(url=url, **changes)
    groups: dict[str, dict[str, Any]] = {group: {} for group in GROUPS}
    for name, value in given.items():
        if name in BY_NAME:
            groups[BY_NAME[name].group][name] = value
    built = {group: GROUPS[group](**values) for group, values in groups.items()}
    return Settings(**built, auth_token=given.get("auth_token"))  # type: ignore[arg-type]


def made_at(report: Report, doc: dict[str, Any]) -> Report:
    """``report`` as if made when the JSON report ``doc`` was: two runs differ in that only, and
    in the digest of their pages (which holds that time, and the sample server's port)."""
    when = datetime.fromisoformat(doc["generated_at"])
    return msgspec.structs.replace(report, generated_at=when, pages_digest=doc["pages_digest"])


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


def default_sigint() -> None:
    """``preexec_fn`` for a child that a test interrupts: a shell that started the test run in
    the background (CI may) ignores SIGINT, children inherit that, and Python then never raises
    KeyboardInterrupt; restore the default so the child behaves as on a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def on_terminal(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run ``python -m benchtest ARGS`` with stderr on a pseudo-terminal (stdout a pipe, no
    BENCH_* variables); return the process and what the terminal showed."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchtest", *args],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**env, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        timeout=60,
        check=False,
    )
    os.close(terminal)
    shown = os.read(controller, 65536).decode()
    os.close(controller)
    return done, shown
