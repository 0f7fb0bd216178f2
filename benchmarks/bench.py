"""Benchmark benchtest against the naive baseline, side by side, in one run.

    python benchmarks/bench.py                 # both scenarios, 1M transactions
    python benchmarks/bench.py --quick         # smaller big ledger (for a smoke run)
    python benchmarks/bench.py --cpus 0        # both clients pinned to one CPU
    python benchmarks/bench.py --only throughput --pages 10000 --repeat 1   # 10M

Each client runs as its own process (interpreter start-up included) against a ledger server in
another process on 127.0.0.1, so client and server do not share a GIL; the clients' runs are
interleaved. Memory: the client's own peak RSS (wait4() when it has no children; sampled VmHWM
otherwise), each worker process's sampled peak RSS, their sum, and the largest summed PSS seen
(/proc/<pid>/smaps_rollup, every 20 ms). Compare ratios, not absolute figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ledger_server import LedgerServer  # noqa: E402

LEDGERS = ["Office Expense", "Travel Expense, Nonlocal", "Equipment Expense", "", "Insurance"]
COMPANIES = [f"VENDOR {n} #x{n:04d} VANCOUVER BC" for n in range(200)]


ORDERS = ("random", "ordered", "reversed", "one-date")
SPAN_DAYS = 3653  # ten years


def make_ledger(
    pages: int, per_page: int, order: str = "random", seed: int = 7
) -> dict[int, bytes]:
    """A deterministic ledger of pages x per_page transactions over ten years.

    ``order``: how dates run through the pages: ``random`` (spread at random over the whole
    span, as an API that pages by id serves them), ``ordered`` (oldest first), ``reversed``
    (newest first), or ``one-date`` (every transaction on the same day).
    """
    rng = random.Random(seed)
    count = pages * per_page
    start = date(2015, 1, 1)
    if order == "random":
        offsets = [rng.randrange(SPAN_DAYS) for _ in range(count)]
    elif order == "one-date":
        offsets = [0] * count
    else:
        offsets = [(i * SPAN_DAYS) // count for i in range(count)]
        if order == "reversed":
            offsets.reverse()
    days = [(start + timedelta(days=n)).isoformat() for n in range(SPAN_DAYS)]
    body = {}
    for n in range(1, pages + 1):
        records = [
            {
                "Date": days[offsets[i]],
                "Ledger": rng.choice(LEDGERS),
                "Amount": f"{rng.randint(-500_000, 300_000) / 100:.2f}",
                "Company": rng.choice(COMPANIES),
            }
            for i in range((n - 1) * per_page, n * per_page)
        ]
        body[n] = json.dumps({"totalCount": count, "page": n, "transactions": records}).encode()
    return body


def _serve(pages: int, per_page: int, latency: float, port: multiprocessing.Queue) -> None:
    server = LedgerServer(make_ledger(pages, per_page), latency=latency)
    port.put(server.server_address[1])
    server.serve_forever()


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc (no psutil)."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(status.parent.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Every 20 ms: each process's peak RSS (VmHWM) and the summed PSS of the client's tree."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks: dict[int, int] = {}
        self.pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            total = 0
            for pid in _tree(self.pid):
                hwm = _kb(f"/proc/{pid}/status", "VmHWM:")
                self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
                total += _kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.pss = max(self.pss, total)


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system of the client and its reaped children (wait4)
    rss: float  # the client process's own peak, MB (wait4 counts the largest child instead)
    workers: list[float]  # each other process's sampled peak RSS, MB
    pss: float  # the largest summed PSS over the client's processes seen, MB
    first: str

    @property
    def summed(self) -> float:
        return self.rss + sum(self.workers)


def timed(cmd: list[str], cpus: set[int] | None) -> Run:
    """Run ``cmd`` (pinned to ``cpus`` if given); its times, memory and stdout's first line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=err,
            cwd=ROOT,
            preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
        )
        sampler = Sampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed: {err.read().decode()[-800:]}")
        first = out.readline().decode().strip()
    own = sampler.peaks.pop(proc.pid, 0)
    return Run(
        seconds,
        usage.ru_utime + usage.ru_stime,
        (own if sampler.peaks else usage.ru_maxrss) / 1024,
        [kb / 1024 for kb in sampler.peaks.values()],
        sampler.pss / 1024,
        first,
    )


def scenario(
    name: str, pages: int, per_page: int, latency: float, repeat: int, cpus: set[int] | None
) -> list[str]:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(pages, per_page, latency, queue), daemon=True
    )
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=3600)}/transactions/{{page}}.json"
        clients = {
            "baseline (naive)": [sys.executable, "benchmarks/baseline.py", url],
            "benchtest": [sys.executable, "-m", "benchtest", "--url", url, "--format", "csv", "-q"],
        }
        count = pages * per_page
        pinned = "" if cpus is None else f", clients pinned to CPU {sorted(cpus)}"
        rows = [
            f"### {name}: {pages} pages x {per_page} = {count:,} transactions, "
            f"latency {latency * 1000:.0f} ms{pinned}",
            "",
            f"| client | wall s (best of {repeat}) | CPU s | transactions/s | peak RSS MB: "
            "client / workers / summed | peak PSS MB, all processes |",
            "|---|---|---|---|---|---|",
        ]
        best = {}
        for _ in range(repeat):  # interleaved, so both clients see the same machine load
            for label, cmd in clients.items():
                best.setdefault(label, []).append(timed(cmd, cpus))
        for label, runs in best.items():
            fastest = min(runs, key=lambda r: r.seconds)
            rss = max(r.rss for r in runs)
            workers = max((max(r.workers, default=0) for r in runs), default=0)
            summed = max(r.summed for r in runs)
            pss = max(r.pss for r in runs)
            shown = f"{rss:.0f} / {workers:.0f} x {len(fastest.workers)} / {summed:.0f}"
            rows.append(
                f"| {label} | {fastest.seconds:.2f} | {fastest.cpu:.2f} | "
                f"{count / fastest.seconds:,.0f} | {shown} | {pss:.0f} |"
            )
        seconds = {label: min(r.seconds for r in runs) for label, runs in best.items()}
        ratio = seconds["baseline (naive)"] / seconds["benchtest"]
        rows += ["", f"benchtest / baseline speed: {ratio:.2f}x", ""]
        return rows
    finally:
        server.terminate()
        server.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100,000 transactions instead of 1,000,000"
    )
    parser.add_argument("--pages", type=int, help="pages of 1,000 in the big ledger")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--cpus", help="pin both clients to these CPUs (e.g. 0, or 0,1), like taskset -c"
    )
    parser.add_argument("--only", choices=["latency", "throughput"])
    args = parser.parse_args()
    big = args.pages or (100 if args.quick else 1000)
    cpus = None if args.cpus is None else {int(c) for c in args.cpus.split(",")}
    lines = [f"python {sys.version.split()[0]}, {os.cpu_count()} cores", ""]
    if args.only != "throughput":
        lines += scenario("Latency-bound", 40, 10, 0.100, args.repeat, cpus)
    if args.only != "latency":
        lines += scenario("Throughput", big, 1000, 0.0, args.repeat, cpus)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
