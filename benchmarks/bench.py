"""Benchmark benchtest against the naive baseline, side by side, in one run.

    python benchmarks/bench.py                        # latency, then 1M in three date orders
    python benchmarks/bench.py --quick                # 100,000 transactions (a smoke run)
    python benchmarks/bench.py --only throughput --order one-date
    python benchmarks/bench.py --only throughput --pages 10000 --repeat 1 --order random   # 10M
    python benchmarks/bench.py --cpus 0               # both clients pinned to one CPU
    python benchmarks/bench.py --capacity 2000,100,100,16   # benchtest alone: pages, per page,
                                                            # latency ms, concurrency
    python benchmarks/bench.py --only throughput --order random --keep-pages   # and with
                                                            # --keep-pages, interleaved

Each client runs as its own process (interpreter start-up included) against a ledger server in
another process on 127.0.0.1, so client and server do not share a GIL; the two clients' runs
are interleaved, so load on the machine hits both alike. Wall time is measured here; CPU time
and peak RSS come from wait4() (the client's own: benchtest runs in one process). Compare the
ratio of one run, not absolute figures across runs.
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


def _serve(
    pages: int, per_page: int, order: str, latency: float, port: multiprocessing.Queue[int]
) -> None:
    """Build the ledger here, in the server's process, so the clients' memory is their own."""
    server = LedgerServer(make_ledger(pages, per_page, order), latency=latency)
    port.put(server.server_address[1])
    server.serve_forever()


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system
    rss: float  # peak, MB
    first: str  # stdout's first line


def timed(cmd: list[str], cpus: set[int] | None) -> Run:
    """Run ``cmd`` (pinned to ``cpus`` if given); its times, peak RSS and stdout's first line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=err,
            cwd=ROOT,
            preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed: {err.read().decode()[-800:]}")
        out.seek(0)
        first = out.readline().decode().strip()
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first)


def scenario(
    name: str,
    pages: int,
    per_page: int,
    order: str,
    latency: float,
    repeat: int,
    cpus: set[int] | None,
    keep_pages: bool = False,
) -> list[str]:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    kept = Path(tempfile.mkdtemp()) / "pages.zip"
    server = multiprocessing.Process(
        target=_serve, args=(pages, per_page, order, latency, queue), daemon=True
    )
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=3600)}/transactions/{{page}}.json"
        clients = {
            "floor (fetch + decode)": [sys.executable, "benchmarks/floor.py", url],
            "baseline (naive)": [sys.executable, "benchmarks/baseline.py", url],
            "benchtest": [sys.executable, "-m", "benchtest", "--url", url, "--format", "csv", "-q"],
        }
        if keep_pages:
            clients["benchtest --keep-pages"] = [*clients["benchtest"], "--keep-pages", str(kept)]
        runs: dict[str, list[Run]] = {label: [] for label in clients}
        for _ in range(repeat):  # interleaved, so both clients see the same machine load
            for label, cmd in clients.items():
                runs[label].append(timed(cmd, cpus))
        pinned = "" if cpus is None else f", clients pinned to CPU {sorted(cpus)}"
        rows = [
            f"### {name}: {pages:,} pages x {per_page:,} = {pages * per_page:,} transactions, "
            f"dates {order}, latency {latency * 1000:.0f} ms{pinned}",
            "",
            f"| client | wall s (best of {repeat}) | CPU s | transactions/s | peak RSS MB |",
            "|---|---|---|---|---|",
        ]
        for label, done in runs.items():
            best = min(done, key=lambda r: r.seconds)
            rss = max(r.rss for r in done)
            rows.append(
                f"| {label} | {best.seconds:.2f} | {best.cpu:.2f} | "
                f"{pages * per_page / best.seconds:,.0f} | {rss:.0f} |"
            )
        best = {label: min(r.seconds for r in done) for label, done in runs.items()}
        floor, naive, ours = (
            best[k] for k in ("floor (fetch + decode)", "baseline (naive)", "benchtest")
        )
        rows += [
            "",
            f"benchtest: {ours / floor:.2f}x the floor's time; {naive / ours:.2f}x the baseline's "
            f"speed (baseline: {naive / floor:.2f}x the floor)",
        ]
        if keep_pages:
            keeping = best["benchtest --keep-pages"] / ours
            median = [sorted(r.seconds for r in runs[c])[repeat // 2] for c in list(clients)[2:]]
            rows.append(
                f"keeping the pages / not: {keeping:.3f}x (medians {median[1] / median[0]:.3f}x); "
                f"the pages file {kept.stat().st_size:,} bytes"
            )
        return [*rows, ""]
    finally:
        server.terminate()
        server.join()
        kept.unlink(missing_ok=True)


def capacity(spec: str, cpus: set[int] | None) -> list[str]:
    """benchtest alone (the naive client would take hours) on PAGES,PER_PAGE,LATENCY_MS,CONC."""
    pages, per_page, latency_ms, concurrency = map(int, spec.split(","))
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    args = (pages, per_page, "random", latency_ms / 1000, queue)
    server = multiprocessing.Process(target=_serve, args=args, daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=3600)}/transactions/{{page}}.json"
        command = [sys.executable, "-m", "benchtest", "--url", url, "--format", "csv", "-q"]
        command += [
            "--concurrency",
            str(concurrency),
            "--max-pages",
            str(pages),
            "--deadline",
            "900",
        ]
        run = timed(command, cpus)
    finally:
        server.terminate()
        server.join()
    return [
        f"| {pages:,} x {per_page:,} = {pages * per_page:,} | {latency_ms} ms | {concurrency} | "
        f"{run.seconds:.1f} | {run.cpu:.1f} | {run.rss:.0f} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 transactions, not 1M")
    parser.add_argument("--pages", type=int, help="pages of 1,000 in the big ledger")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpus", help="pin both clients to these CPUs (e.g. 0, or 0,1)")
    parser.add_argument("--only", choices=["latency", "throughput"])
    parser.add_argument(
        "--order",
        choices=ORDERS,
        action="append",
        help="dates of the big ledger (repeatable; default random, ordered and reversed)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="ms per request of the big ledger (default 0)"
    )
    parser.add_argument(
        "--keep-pages", action="store_true", help="also time benchtest --keep-pages (throughput)"
    )
    parser.add_argument(
        "--capacity",
        action="append",
        metavar="PAGES,PER_PAGE,LATENCY_MS,CONCURRENCY",
        help="time benchtest alone on such a ledger (repeatable)",
    )
    args = parser.parse_args()
    big = args.pages or (100 if args.quick else 1000)
    cpus = None if args.cpus is None else {int(c) for c in args.cpus.split(",")}
    lines = [f"python {sys.version.split()[0]}, {os.cpu_count()} cores", ""]
    if args.capacity:
        lines += ["| ledger | latency | concurrency | wall s | CPU s | peak RSS MB |"]
        lines += ["|---|---|---|---|---|---|"]
        for spec in args.capacity:
            lines += capacity(spec, cpus)
        print("\n".join(lines))
        return
    if args.only != "throughput":
        lines += scenario("Latency-bound", 40, 10, "random", 0.100, args.repeat, cpus)
    if args.only != "latency":
        for order in args.order or ORDERS[:3]:
            lines += scenario(
                "Throughput",
                big,
                1000,
                order,
                args.latency / 1000,
                args.repeat,
                cpus,
                args.keep_pages,
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
