"""Large ledgers fetched, decoded and summed by worker processes; the parent merges exactly.

Decoding is CPU work that holds the GIL, so threads cannot share it: from `PARALLEL_MIN`
transactions on, with two CPUs or more (``os.sched_getaffinity``; on Lambda about 3.5 GB of
memory and up), pages 2.. are split between `MAX_WORKERS` processes at most. Each one fetches
its share (its pages interleaved with the others', so all advance through the dates together),
decodes, validates and sums it exactly as a single process would (the same `fetch` and `Ledger`
code, so the same checks and the same one-line errors), and sends back sums keyed by (date,
ledger), which merge in any order. Duplicates must be found across shares, so each worker sends
every page's fingerprints, per date, and the parent answers which repeat (`duplicates.py`); a
worker keeps a page's rows until that answer (at most `WINDOW` pages), then sends the repeated
rows. Python's ``hash`` is seeded per process, so every worker gets the same random
``PYTHONHASHSEED`` (the parent fingerprints nothing itself: page 1 goes to the first worker).

Promises kept: the workers fetch under the run's deadline (the monotonic clock is the same in
every process) and fail with the page's own message; the first error any worker sends fails
the run; Ctrl-C reaches the parent only (workers ignore SIGINT), and whatever ends the run,
the parent kills and reaps every worker before it returns, so none outlives it. Workers are
started as fresh interpreters (``subprocess``, which is safe with the parent's threads, unlike
``fork``) and talk over a socket pair (``multiprocessing.Pipe``): no ``/dev/shm``, which Lambda
lacks, so no ``Queue`` or ``Pool``. A worker's start-up (interpreter and imports) is ~0.1-0.2 s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import resource
import signal
import sys
import time
import traceback
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .config import Settings
from .duplicates import by_date
from .errors import BenchtestError, FetchError
from .fetch import FetchStats, fetch_share
from .ledger import Ledger, row_of
from .transactions import Page

PARALLEL_MIN = 50_000  # transactions (totalCount) from which workers pay for their start-up
MAX_WORKERS = 4
WINDOW = 8  # pages whose rows a worker keeps until the parent has checked them for repeats
GRACE = 1.0  # seconds past the deadline the parent waits for a worker's own deadline error

if TYPE_CHECKING:  # imported when used: a small ledger never pays for them (~10 ms)
    import subprocess
    from multiprocessing.connection import Connection

Progress = Callable[[int, int | None], None]


def worker_count(total: int) -> int:
    """How many processes should share a ledger of ``total`` transactions (1: no workers)."""
    if total < PARALLEL_MIN:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS))


@dataclasses.dataclass
class Parallel:
    """The `fetch.Delegate` that hands pages 2.. to worker processes when that pays."""

    template: str
    settings: Settings
    stats: FetchStats
    deadline: float
    ledger: Ledger
    progress: Progress | None = None
    peak_rss_kb: dict[str, int] = dataclasses.field(default_factory=dict)

    def __call__(self, first: Page, last: int) -> int | None:
        total = first.total_count or 0
        count = min(worker_count(total), last)  # page 1 and the 404 make last+1 pages to share
        if count < 2:
            return None
        self.stats.expected_pages = last
        shares = split(last, count)
        concurrency = max(1, -(-self.settings.concurrency // count))
        seed = str(random.randrange(1, 2**32))  # noqa: S311 (a hash seed, not a secret)
        workers: dict[Connection, subprocess.Popen[bytes]] = {}
        try:
            for k, share in enumerate(shares):
                conn, proc = _start(seed)
                workers[conn] = proc
                conn.send(
                    (self.template, self.settings, self.deadline, share, last, total,
                     concurrency, first if k == 0 else None)
                )  # fmt: skip
            return self._collect(workers, last) - len(first)
        finally:
            for conn, proc in workers.items():
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                conn.close()

    def _collect(self, workers: dict[Connection, subprocess.Popen[bytes]], last: int) -> int:
        """Answer the workers until all are done; merge their aggregates; the transactions."""
        from multiprocessing.connection import Connection, wait

        ledger, stats = self.ledger, self.stats
        live = set(workers)
        while live:
            left = self.deadline + GRACE - time.monotonic()
            ready = wait(list(live), timeout=max(left, 0))
            if not ready:
                raise FetchError(f"deadline reached: {len(live)} worker process(es) still running")
            for conn in ready:
                assert isinstance(conn, Connection)
                try:
                    message: Any = conn.recv()
                except EOFError:
                    code = workers[conn].wait()
                    raise BenchtestError(
                        f"a worker process ended without an answer (exit status {code})"
                    ) from None
                kind = message[0]
                if kind == "page":
                    _, number, size, low, high, groups = message
                    ledger.add_page_of(number, size, low, high)
                    repeats = [
                        (group, position)
                        for group, (day, prints) in enumerate(groups)
                        for position in ledger.repeats_among(day, array("q", prints))
                    ]
                    # A worker that stopped (an error) cannot take it; its last message says why.
                    with contextlib.suppress(OSError):
                        conn.send(("ack", number, repeats))
                    if number != 1:
                        stats.pages += 1
                        if self.progress is not None:
                            self.progress(stats.pages, last)
                elif kind == "rows":
                    for row in message[1]:
                        ledger.add_repeat(row)
                elif kind == "done":
                    _, part, requests, retries, rss = message
                    ledger.merge(part)
                    stats.requests += requests
                    stats.retries += retries
                    self.peak_rss_kb[f"worker {workers[conn].pid}"] = rss
                    live.discard(conn)
                elif kind == "error":
                    raise message[1]
                else:
                    raise RuntimeError(f"a worker process failed:\n{message[1]}")
        return ledger.transaction_count


def split(last: int, count: int) -> list[list[int]]:
    """Pages 2..last+1 (the 404) dealt out to ``count`` workers in turn."""
    return [list(range(2 + k, last + 2, count)) for k in range(count)]


def _start(seed: str) -> tuple[Connection, subprocess.Popen[bytes]]:
    import subprocess
    from multiprocessing import Pipe

    ours, theirs = Pipe()
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=os.pathsep.join(filter(None, sys.path)))
    try:
        proc = subprocess.Popen(  # noqa: S603 (this interpreter, a fixed module)
            [sys.executable, "-c", "from benchtest.workers import main; main()",
             str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        theirs.close()
    return ours, proc


class _WorkerLedger(Ledger):
    """A worker's ledger: sums its pages; duplicates are found by the parent (see the module)."""

    def __init__(self, conn: Connection, detail_limit: int) -> None:
        super().__init__(detail_limit)
        self._conn = conn
        self._waiting: dict[int, tuple[Page, list[list[int] | range]]] = {}

    def _find_duplicates(self, page: Page) -> None:
        fingerprints = list(map(hash, page.rows()))
        groups = by_date(page.dates)
        prints = [
            (day, array("q", (fingerprints[i] for i in positions)).tobytes())
            for day, positions in groups
        ]
        low, high = (min(page.dates), max(page.dates)) if page.dates else (None, None)
        self._conn.send(("page", page.number, len(page), low, high, prints))
        self._waiting[page.number] = (page, [positions for _, positions in groups])
        self.answers(block=len(self._waiting) > WINDOW)

    def answers(self, *, block: bool) -> None:
        """Take the parent's answers: those waiting now, or until the window has room."""
        while (block and len(self._waiting) > WINDOW) or self._conn.poll():
            self._answer()

    def finish(self) -> None:
        """Wait for the answers about every page sent."""
        while self._waiting:
            self._answer()

    def _answer(self) -> None:
        _, number, repeats = self._conn.recv()
        page, positions = self._waiting.pop(number)
        rows = [row_of(page, positions[group][position]) for group, position in repeats]
        if rows:
            self._conn.send(("rows", rows))


def _peak_rss_kb() -> int:
    """This process's peak RSS: VmHWM, which starts afresh at exec; ru_maxrss would include
    the parent's, as Linux carries it over from the process that spawned this one."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    """A worker process: ``python -c 'from benchtest.workers import main; main()' FD``."""
    from multiprocessing.connection import Connection

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    conn = Connection(int(sys.argv[1]))
    template, settings, deadline, share, last, total, concurrency, first = conn.recv()
    stats = FetchStats()
    ledger = _WorkerLedger(conn, settings.detail_limit)
    message: tuple[Any, ...]
    try:
        if first is not None:
            ledger.add(first)
        pages = fetch_share(template, settings, stats, deadline, share, last, total, concurrency)
        for page in pages:
            ledger.add(page)
        ledger.finish()
        rss = _peak_rss_kb()
        message = ("done", ledger.partial(), stats.requests, stats.retries, rss)
    except BenchtestError as exc:
        message = ("error", exc)
    except Exception:
        message = ("crash", traceback.format_exc())
    conn.send(message)
    conn.close()
