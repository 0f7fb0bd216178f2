"""Peak RSS of the fetcher for the largest pages it accepts (the "bytes in flight" limit).

    python benchmarks/fetch_rss.py

For each concurrency, every page is exactly at the per-page cap (a valid page padded with
spaces, so parsing costs nothing and the figure is the fetcher's), served from another
process on 127.0.0.1; the client runs `benchtest.paging.fetch_pages` in its own process and
reports its peak RSS from wait4(). A baseline run with tiny pages gives the interpreter's own.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CLIENT = """
import sys, time
from benchtest.settings import FetchSettings, Settings
from benchtest.paging import fetch_pages, paginator
from benchtest.stats import RunStats
fetch = FetchSettings(url=sys.argv[1], concurrency=int(sys.argv[2]), deadline=120.0)
settings = Settings(fetch=fetch)
stats = RunStats()
for page in fetch_pages(paginator(fetch.url, settings), settings, stats, time.monotonic() + 120):
    pass
print(stats.pages, stats.requests)
"""


def serve(count: int, size: int, port: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Build the pages here: built in the parent, they would inflate the client's RSS
    (Linux carries a parent's RSS high-water mark across fork and exec)."""
    from benchtest.source import PageServer

    server = PageServer(padded_pages(count, size))
    port.put(server.server_address[1])
    server.serve_forever()


def padded_pages(count: int, size: int) -> dict[int, bytes]:
    pages = {}
    for number in range(1, count + 1):
        record = {"Date": "2024-01-02", "Ledger": "X", "Amount": "-1.00", "Company": "ACME"}
        doc = json.dumps({"totalCount": count, "page": number, "transactions": [record]})
        pages[number] = doc.encode().ljust(size, b" ")
    return pages


def measure(concurrency: int, pages: int, size: int) -> tuple[float, float, str]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(pages, size, queue))
    server.start()
    try:
        url = f"http://127.0.0.1:{queue.get(timeout=30)}/transactions/{{page}}.json"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", CLIENT, url, str(concurrency)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        out = proc.stdout.read() if proc.stdout else ""
        assert os.waitstatus_to_exitcode(status) == 0, out
        return usage.ru_maxrss / 1024, time.monotonic() - started, out.strip()
    finally:
        server.terminate()
        server.join()


def main() -> None:
    from benchtest.paging import MAX_BYTES_IN_FLIGHT, MAX_PAGE_BYTES

    base, _, _ = measure(8, 20, 200)
    print(f"baseline (20 pages of 200 B, concurrency 8): peak RSS {base:.0f} MiB")
    for concurrency in (1, 2, 8, 64):
        cap = min(MAX_PAGE_BYTES, MAX_BYTES_IN_FLIGHT // (2 * concurrency))
        pages = max(20, 4 * concurrency)
        rss, seconds, _ = measure(concurrency, pages, cap)
        print(
            f"concurrency {concurrency:2}: {pages} pages of {cap // 1024} KiB (the cap): "
            f"peak RSS {rss:.0f} MiB ({rss - base:.0f} MiB over baseline), {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
