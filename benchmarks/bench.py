"""Benchmark benchtest against the naive baseline, side by side, in one run.

    python benchmarks/bench.py            # both scenarios
    python benchmarks/bench.py --quick    # smaller big ledger (for a smoke run)

Each client runs as its own process (interpreter start-up included) against a ledger server in
another process on 127.0.0.1, so client and server do not share a GIL. Peak RSS is the client's,
from wait4(). Compare ratios, not absolute figures: machines are noisy.
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ledger_server import LedgerServer  # noqa: E402

LEDGERS = ["Office Expense", "Travel Expense, Nonlocal", "Equipment Expense", "", "Insurance"]
COMPANIES = [f"VENDOR {n} #x{n:04d} VANCOUVER BC" for n in range(200)]


def make_ledger(pages: int, per_page: int, seed: int = 7) -> dict[int, bytes]:
    """A deterministic ledger of pages x per_page transactions over ~3 years, newest first."""
    rng = random.Random(seed)
    count = pages * per_page
    start = date(2020, 1, 1)
    body = {}
    for n in range(1, pages + 1):
        records = [
            {
                "Date": (start + timedelta(days=1095 - (i * 1095) // count)).isoformat(),
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


def timed(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; return wall seconds, CPU seconds (user + system) and peak RSS in MB (both
    from wait4), and its stdout's first line."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed: {err.read().decode()[-800:]}")
        first = out.readline().decode().strip()
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first


def scenario(name: str, pages: int, per_page: int, latency: float, repeat: int) -> list[str]:
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=_serve, args=(pages, per_page, latency, queue), daemon=True
    )
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=600)}/transactions/{{page}}.json"
        clients = {
            "baseline (naive)": [sys.executable, "benchmarks/baseline.py", url],
            "benchtest": [sys.executable, "-m", "benchtest", "--url", url, "--format", "csv", "-q"],
        }
        count = pages * per_page
        rows = [
            f"### {name}: {pages} pages x {per_page} = {count:,} transactions, "
            f"latency {latency * 1000:.0f} ms",
            "",
        ]
        rows += [
            f"| client | wall s (best of {repeat}) | CPU s | transactions/s | peak RSS MB |",
            "|---|---|---|---|---|",
        ]
        best = {}
        for label, cmd in clients.items():
            runs = [timed(cmd) for _ in range(repeat)]
            fastest = min(runs)
            seconds, cpu = fastest[0], fastest[1]
            rss = max(r[2] for r in runs)
            best[label] = seconds
            rows.append(
                f"| {label} | {seconds:.2f} | {cpu:.2f} | {count / seconds:,.0f} | {rss:.0f} |"
            )
        ratio = best["baseline (naive)"] / best["benchtest"]
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
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    big = 100 if args.quick else 1000
    lines = [f"python {sys.version.split()[0]}, {os.cpu_count()} cores", ""]
    lines += scenario("Latency-bound", 40, 10, 0.100, args.repeat)
    lines += scenario("Throughput", big, 1000, 0.0, args.repeat)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
