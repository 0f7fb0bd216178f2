"""Worker processes: any split of the pages gives the same report; a failure is the same error.

The real processes run here (fresh interpreters over a Pipe, against a loopback server); only
how many there are and which pages each gets is chosen by the test.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

import benchtest
from benchtest import BenchtestError, workers
from tests.ledger_server import serve_ledger
from tests.support import default_sigint, make_pages, record, settings

RECORDS = [
    record(date=f"2024-01-{day:02d}", amount=amount, Company=company)
    for day, amount, company in [
        (1, "-1.00", "A"), (1, "-1.00", "A"), (2, "5.50", "B"), (1, "-1.00", "A"),
        (3, "0.10", "C"), (2, "5.50", "B"), (4, "-7.25", "D"), (3, "0.10", "C"),
        (5, "2.00", "E"), (1, "-1.00", "A"), (6, "1.00", "F"), (2, "9.99", "B"),
    ]
]  # fmt: skip


def children(parent: int | None = None) -> list[int]:
    """Processes whose parent is ``parent`` (default: this one), read from /proc (no psutil)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(parent or os.getpid()):
            found.append(int(fields["Pid"]))
    return found


def run(url: str, count: int, shares: list[list[int]] | None = None, **changes: object):
    """`benchtest.run` with ``count`` processes (1: none), pages dealt as ``shares`` say."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(workers, "worker_count", return_value=count))
        if shares is not None:
            stack.enter_context(mock.patch.object(workers, "split", return_value=shares))
        return benchtest.run(settings(url, **changes))


@settings_(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    per_page=st.integers(1, 4),
    count=st.integers(2, 3),
    deal=st.lists(st.integers(0, 2), min_size=13, max_size=13),
    detail_limit=st.sampled_from([0, 5, 100]),
    exclude=st.booleans(),
)
def test_any_split_of_pages_between_workers_gives_the_same_report(
    per_page, count, deal, detail_limit, exclude
):
    pages = make_pages(RECORDS, per_page=per_page)
    last = len(pages)
    shares: list[list[int]] = [[] for _ in range(count)]
    for number in range(2, last + 2):
        shares[deal[number - 2] % count].append(number)
    options = {"detail_limit": detail_limit, "exclude_duplicates": exclude}
    with serve_ledger(pages) as server:
        alone = run(server.url, 1, **options).report
        shared = run(server.url, count, shares, **options).report
    assert shared == alone
    assert shared.duplicate_count == 5  # extra occurrences, listed whether or not excluded
    assert multiprocessing.active_children() == []


def test_a_ledger_over_the_threshold_is_shared_when_there_are_cpus(serve):
    assert workers.worker_count(workers.PARALLEL_MIN - 1) == 1
    expected = min(len(os.sched_getaffinity(0)), workers.MAX_WORKERS)
    assert workers.worker_count(workers.PARALLEL_MIN) == max(expected, 1)


BAD = [
    ("bad-amount", {4: make_pages(RECORDS, 2)[4].replace(b'"-7.25"', b'"NaN"')}),
    ("wrong-total", {5: make_pages(RECORDS, 2, total=99)[5]}),
    ("gap", {3: None}),
    ("no-end", {7: make_pages(RECORDS, 2)[1].replace(b'"page": 1', b'"page": 7')}),
]


@pytest.mark.parametrize("changes", [c[1] for c in BAD], ids=[c[0] for c in BAD])
def test_a_failing_page_in_a_worker_is_the_same_error_and_leaves_no_process(serve, changes):
    pages = make_pages(RECORDS, per_page=2)
    for number, body in changes.items():
        if body is None:
            del pages[number]
        else:
            pages[number] = body
    url = serve(pages).url
    with pytest.raises(BenchtestError) as alone:
        run(url, 1)
    with pytest.raises(BenchtestError) as shared:
        run(url, 2)
    assert str(shared.value) == str(alone.value)
    assert type(shared.value) is type(alone.value)
    assert multiprocessing.active_children() == []
    assert children() == []


def test_workers_report_their_peak_memory(serve):
    url = serve(make_pages(RECORDS, per_page=3)).url
    parallel: list[workers.Parallel] = []
    real = workers.Parallel.__call__

    def spy(self, first, last):
        parallel.append(self)
        return real(self, first, last)

    with mock.patch.object(workers.Parallel, "__call__", spy):
        run(url, 2)
    assert len(parallel[0].peak_rss_kb) == 2
    assert all(10_000 < kb < 200_000 for kb in parallel[0].peak_rss_kb.values())


def test_ctrl_c_ends_a_shared_run_with_130_and_no_worker_left(serve, tmp_path):
    big = [record(date=f"2024-02-{1 + n % 28:02d}", amount=f"{n}.00") for n in range(60_000)]
    url = serve(make_pages(big, per_page=1_000), latency=0.3).url
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchtest", "--url", url, "-q", "--concurrency", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        preexec_fn=default_sigint,
    )
    try:
        started = time.monotonic()
        while not children(proc.pid) and time.monotonic() - started < 20:
            time.sleep(0.05)
        workers_seen = children(proc.pid)
        assert workers_seen, "no worker process started"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 130
    finally:
        proc.kill()
        proc.wait()
    assert b"interrupted" in proc.stderr.read()
    assert [pid for pid in workers_seen if Path(f"/proc/{pid}").exists()] == []
