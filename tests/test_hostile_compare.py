"""A previous report given to --compare is hostile input (issue 17, class 4).

Each case runs the CLI as a user does, on the bundled sample, with a previous report built to
hurt: a FIFO or a device that would block or never end, megabytes of empty objects, the most
days and transactions the value count lets through, the longest text the byte cap lets
through, and terminal escapes in every text a warning or the table quotes. The run must end
within seconds with its report written and one line saying why nothing was compared (exit 5),
or compare exactly; peak memory is measured for each case in a child process of its own, as
the child's VmHWM (the peak RSS of its own address space: ``ru_maxrss`` would also count the
test process it was forked from, which the kernel records at ``exec``), and held to 150 MB.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from benchtest import cli
from benchtest.reconcile import MAX_PREVIOUS_BYTES, MAX_PREVIOUS_VALUES
from benchtest.source import SAMPLE_SOURCE
from tests.support import ROOT

SECONDS = 20  # each case ends well within this on a slow machine
MAX_RSS = 150 * 1024 * 1024  # bytes, for any single hostile file (issue 17)
NOT_COMPARED = 5

# The fields a previous report needs, around whatever a case puts in.
HEAD = (
    b'{"source":' + json.dumps(SAMPLE_SOURCE).encode() + b',"transaction_count":0,'
    b'"total_balance":"0.00","duplicates_excluded":false,"transactions_listed":true,'
)
DAY = b'{"date":"%s","change":"0.00","balance":"0.00","count":0}'
LISTED = b'{"page":1,"index":0,"date":"2026-03-02","amount":"0.00","company":""}'


def empty_objects(count: int) -> bytes:
    return b",".join([b"{}"] * count)


def most_days() -> bytes:
    """As many valid days as the value count lets through (5 values each)."""
    start = date(1000, 1, 1)
    days = (DAY % (start + timedelta(days=i)).isoformat().encode() for i in range(99_990))
    assert MAX_PREVIOUS_VALUES // 5 - 99_990 < 20
    return HEAD + b'"categories":[],"daily_balances":[' + b",".join(days) + b"]}"


def most_transactions() -> bytes:
    """As many valid listed transactions as the value count lets through (6 values each)."""
    listed = b",".join([LISTED] * (MAX_PREVIOUS_VALUES // 6 - 20))
    return (
        HEAD + b'"daily_balances":[' + DAY % b"2026-03-11" + b'],"categories":[{"ledger":"",'
        b'"transactions":[' + listed + b"]}]}"
    )


def longest_source() -> bytes:
    """A report whose source is the most 4-byte characters the byte cap lets through."""
    text = "\U0001f4b8" * ((MAX_PREVIOUS_BYTES - 400) // 4)
    rest = HEAD[HEAD.index(b',"transaction_count"') :] + b'"categories":[],"daily_balances":[]}'
    return b'{"source":"' + text.encode() + b'"' + rest


# (name, the previous report's bytes, what the warning says; None: compared)
FILES: list[tuple[str, Callable[[], bytes], str | None]] = [
    (
        "3-MB-of-empty-days",
        lambda: HEAD + b'"categories":[],"daily_balances":[' + empty_objects(240_000) + b"]}",
        r"not a usable report: Object missing required field `date` - at `\$.daily_balances\[0\]`",
    ),
    (
        "16-MB-of-empty-objects",  # the case: 32 MB once cost ~850 MB
        lambda: HEAD + b'"categories":[],"daily_balances":[' + empty_objects(5_500_000) + b"]}",
        r"not a usable report: 11,000,00\d JSON values, more than the 500,000 a report may hold",
    ),
    (
        "33-MB-of-empty-objects",
        lambda: HEAD + b'"daily_balances":[' + empty_objects(11_200_000) + b"]}",
        r"larger than 33,554,432 bytes",
    ),
    (
        "empty-objects-in-a-field-no-one-reads",
        lambda: (
            HEAD + b'"x":[' + empty_objects(240_000) + b'],"categories":[],"daily_balances":[]}'
        ),
        None,  # skipped by the decoder, never built: compared (nothing to compare, no days)
    ),
    (
        "empty-transactions",
        lambda: (
            HEAD
            + b'"daily_balances":[],"categories":[{"ledger":"","transactions":['
            + empty_objects(240_000)
            + b"]}]}"
        ),
        r"missing required field `page` - at `\$.categories\[0\].transactions\[0\]`",
    ),
    ("the-most-days", most_days, None),
    ("the-most-transactions", most_transactions, None),
    (
        "the-longest-source",
        longest_source,
        "is a report of another source \\('\U0001f4b8{59}…'\\)",
    ),
    (
        "deep-nesting",
        lambda: HEAD + b'"x":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        r"not a JSON report: maximum recursion depth exceeded",
    ),
]

_MEASURE = """
import re, sys
from pathlib import Path
from benchtest import cli
code = cli.main(sys.argv[1:])
peak = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
print(code, int(peak) * 1024, file=sys.__stderr__)
"""


def run_measured(*args: str, cwd: Path) -> tuple[int, str, int, float]:
    """``python -m benchtest ARGS`` in a child of its own: (exit code, stderr, peak RSS in
    bytes, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["PYTHONPATH"] = str(ROOT)
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-c", _MEASURE, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stderr is not None
        timer = threading.Timer(SECONDS * 3, child.kill)
        timer.start()
        err = child.stderr.read().decode()
        child.wait()
        timer.cancel()
    seconds = time.monotonic() - started
    assert child.returncode == 0, err  # the measuring script itself ended normally
    code, peak = map(int, err.strip().splitlines()[-1].split())
    return code, err, peak, seconds


@pytest.mark.parametrize(("make", "warning"), [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_a_hostile_previous_report_is_refused_or_compared_in_bounded_memory(
    tmp_path: Path, make: Callable[[], bytes], warning: str | None
) -> None:
    (tmp_path / "prev.json").write_bytes(make())
    code, err, rss, seconds = run_measured(
        "-q", "--compare", "prev.json", "-o", "out.json", cwd=tmp_path
    )
    report = json.loads((tmp_path / "out.json").read_text())  # written whatever the comparison
    assert seconds < SECONDS
    assert rss < MAX_RSS, f"peak RSS {rss / 2**20:.0f} MB"
    if warning is None:
        assert code == 0, err
        assert report["changes"]["status"] == "compared"
    else:
        assert code == NOT_COMPARED
        assert report["changes"]["status"] == "unavailable"
        assert re.search(warning, report["changes"]["note"]), report["changes"]["note"]


def test_the_most_transactions_are_not_compared_one_by_one_past_the_detail_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prev.json").write_bytes(most_transactions())
    assert cli.main(["-q", "--compare", "prev.json", "--format", "json"]) == 0
    changes = json.loads(capsys.readouterr().out)["changes"]
    assert changes["note"].endswith(
        f"; transactions not compared: the previous report lists {MAX_PREVIOUS_VALUES // 6 - 20:,}"
        ", more than the detail limit (10,000)"
    )
    assert (changes["transactions_compared"], changes["transaction_changes"]) == (False, [])


# --- files that are not files ------------------------------------------------------------------


def fifo(tmp_path: Path) -> str:
    os.mkfifo(tmp_path / "prev.json")  # no writer ever opens it: open() and read() would block
    return "prev.json"


@pytest.mark.parametrize(
    "where",
    [fifo, lambda tmp_path: "/dev/zero", lambda tmp_path: "/dev/null", lambda tmp_path: "."],
    ids=["fifo", "dev-zero", "dev-null", "a-folder"],
)
def test_only_a_regular_file_is_read(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    where: Callable[[Path], str],
) -> None:
    monkeypatch.chdir(tmp_path)
    path = where(tmp_path)
    started = time.monotonic()
    code = cli.main(["--compare", path, "--format", "json"])
    out, err = capsys.readouterr()
    assert time.monotonic() - started < SECONDS
    assert code == NOT_COMPARED
    note = f"not compared: {path}: cannot read: not a regular file"
    assert json.loads(out)["changes"]["note"] == note
    assert err.endswith(f"\nbenchtest: warning: --compare: {note}\n")


# --- text quoted from the previous report -----------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202egnp.exe\u2066"


def test_a_previous_reports_source_reaches_no_terminal_raw(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    doc = HEAD.replace(json.dumps(SAMPLE_SOURCE).encode(), json.dumps(ESCAPES).encode())
    (tmp_path / "prev.json").write_bytes(doc + b'"categories":[],"daily_balances":[]}')
    code = cli.main(["--compare", "prev.json"])
    out, err = capsys.readouterr()
    assert code == NOT_COMPARED
    shown = r"'\x1b]0;owned\x07\x1b[2J\x9b31m\u202egnp.exe\u2066'"
    for text in (out, err):
        assert f"is a report of another source ({shown})" in text
        assert not any(c in text for c in "\x1b\x07\x9b\u202e\u2066")


def test_text_from_a_previous_reports_transactions_reaches_no_terminal_raw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listed transaction's company and category come back in the table as removed: shown
    with visible escapes, never raw."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["-q", "-o", "prev.json"]) == 0
    doc = json.loads((tmp_path / "prev.json").read_text())
    listed = doc["categories"][0]["transactions"][0]
    listed["company"] = ESCAPES
    (tmp_path / "prev.json").write_text(json.dumps(doc))
    assert cli.main(["-q", "--compare", "prev.json"]) == 0
    out, _ = capsys.readouterr()
    assert r"\x1b]0;owned\x07\x1b[2J\x9b31m\u202egnp.exe\u2066" in out
    assert not any(c in out for c in "\x1b\x07\x9b\u202e\u2066")


def test_a_file_over_the_byte_cap_is_not_read_whole(tmp_path: Path) -> None:
    """A sparse file of 4 GiB: the cap, not the file, bounds the read."""
    with open(tmp_path / "prev.json", "wb") as file:
        file.truncate(4 << 30)
    code, err, rss, seconds = run_measured("-q", "--compare", "prev.json", cwd=tmp_path)
    assert code == NOT_COMPARED, err
    assert (seconds < SECONDS, rss < MAX_RSS) == (True, True), (seconds, rss)
