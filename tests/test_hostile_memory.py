"""Memory under hostile ledgers (issue 26, section 5): each run in a fresh process, its peak RSS
(VmHWM) held to 150 MB and its report exact. The ledgers are served from this process.

- A never-ending cursor API with 3.9 KB cursors: followed URLs are remembered by their hash, so
  the pages cost what their fingerprints and spool entries do, not their URLs.
- 14 MB pages of 50,000 transactions at concurrency 2: at most 2 x concurrency bodies are held,
  the one being decoded included, and no decoded page outlives the next one's decoding.
- 210,000 transactions in 70,000 duplicate groups: repeats are counted, not placed.
- 10,000 listed transactions with 1,000-character C1-laden names: the report is written in
  pieces (renderers.Rendered), never whole in memory.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from benchtest.source import PageHandler, PageServer, serving
from tests.ledger_server import serve_ledger
from tests.test_hostile_compare import run_measured

# Fresh processes measured for time and memory: the slow tier.
pytestmark = pytest.mark.slow

MAX_RSS = 150 * 1024 * 1024
MB = 1024 * 1024


def pages_of(records: list[dict[str, str]], per_page: int) -> dict[int, bytes]:
    count = len(records)
    return {
        number: json.dumps(
            {"page": number, "totalCount": count, "transactions": records[start : start + per_page]}
        ).encode()
        for number, start in enumerate(range(0, count, per_page), 1)
    }


def measured(url: str, tmp_path: Path, *args: str) -> tuple[int, list[str], int, float]:
    """``benchtest --url URL ARGS`` in a fresh process: (exit, stderr lines, peak RSS, s)."""
    code, err, peak, seconds = run_measured("--url", url, "-q", *args, cwd=tmp_path)
    return code, err.splitlines()[:-1], peak, seconds


# --- a never-ending cursor API --------------------------------------------------------------


class _Endless(PageHandler):
    """Page n names page n + 1 by a cursor of 3,900 characters; one record each."""

    def do_GET(self) -> None:
        cursor = parse_qs(urlsplit(self.path).query).get("cursor", ["0"])[0]
        number = int(cursor[:8])
        record = {"Date": "2024-01-02", "Ledger": "", "Amount": "-1.00", "Company": f"V{number}"}
        following = f"{number + 1:08d}" + "c" * 3_892
        self.send(200, json.dumps({"transactions": [record], "next": following}).encode())


@pytest.fixture(scope="module")
def endless() -> Iterator[str]:
    with serving(PageServer({}, _Endless)) as server:
        yield server.url.format(page=1)


@pytest.mark.parametrize("pages", [1_000, 6_000])
def test_a_never_ending_cursor_api_is_stopped_at_the_cap_in_bounded_memory(
    endless: str, tmp_path: Path, pages: int
) -> None:
    code, err, peak, seconds = measured(
        endless, tmp_path, "--paging", "cursor", "--max-pages", str(pages), "--deadline", "60"
    )
    assert (code, err) == (1, [f"benchtest: error: page {pages + 1}: more than the cap of "
                               f"{pages} pages"])  # fmt: skip
    # 28 MB for the interpreter, 8 MB of spool before it moves to disk, ~0.7 KB a page: a
    # URL kept whole (4 KB a page) would take 6,000 pages to ~60 MB.
    assert peak < (36 + pages * 1.2 / 1_000) * MB, f"{peak / MB:.0f} MB after {pages} pages"
    assert seconds < 40


# --- 14 MB pages -----------------------------------------------------------------------------


def test_14_mb_pages_of_50000_transactions_at_concurrency_2(tmp_path: Path) -> None:
    records = [
        {
            "Date": f"2024-01-{1 + n % 28:02d}",
            "Ledger": f"{n % 100:08d}".ljust(200, "c"),
            "Amount": "-1.00",
            "Company": f"VENDOR {n}",
        }
        for n in range(300_000)
    ]
    pages = pages_of(records, 50_000)
    del records
    assert 14_000_000 < len(pages[1]) < 14_500_000
    with serve_ledger(pages) as server:
        code, err, peak, _ = measured(server.url, tmp_path, "--concurrency", "2", "-o", "r.json")
    assert (code, err) == (0, [])
    assert json.loads((tmp_path / "r.json").read_text())["total_balance"] == "-300000.00"
    assert peak < MAX_RSS, f"{peak / MB:.0f} MB"


# --- 70,000 groups of duplicates -------------------------------------------------------------


def test_210000_transactions_in_70000_duplicate_groups(tmp_path: Path) -> None:
    order = list(range(210_000))
    random.Random(26).shuffle(order)  # no two pages alike: that would be a loop
    records = [
        {
            "Date": f"2024-01-{1 + n % 70_000 % 28:02d}",
            "Ledger": f"L{n % 70_000 % 50}",
            "Amount": f"-{n % 70_000 % 997}.{n % 100:02d}",
            "Company": f"VENDOR {n % 70_000}",
        }
        for n in order
    ]
    with serve_ledger(pages_of(records, 1_000)) as server:
        code, err, peak, _ = measured(server.url, tmp_path, "-o", "r.json", "-o", "r.txt")
    assert (code, err) == (0, [])
    report = json.loads((tmp_path / "r.json").read_text())
    assert (len(report["duplicates"]), report["duplicate_count"]) == (70_000, 140_000)
    assert {group["count"] for group in report["duplicates"]} == {3}
    assert peak < MAX_RSS, f"{peak / MB:.0f} MB"


# --- the listing of 10,000 transactions with C1-laden names ----------------------------------

HOSTILE = "\x1b\x9b\u202e" * 332  # 996 characters a terminal acts on, in each Company


@pytest.fixture(scope="module")
def listed() -> Iterator[str]:
    records = [
        {
            "Date": f"2024-01-{1 + n % 28:02d}",
            "Ledger": f"L{n % 100}",
            "Amount": "-1.00",
            "Company": f"{HOSTILE}{n}",
        }
        for n in range(10_000)
    ]
    with serve_ledger(pages_of(records, 500)) as server:
        yield server.url


@pytest.mark.parametrize("name", ["r.html", "r.json"])
def test_the_listing_of_10000_c1_laden_names_is_written_in_pieces(
    listed: str, tmp_path: Path, name: str
) -> None:
    code, err, peak, _ = measured(listed, tmp_path, "-o", name)
    assert (code, err) == (0, [])
    written = (tmp_path / name).read_bytes()
    assert len(written) > 100 * MB  # each Company 8 (HTML) or 6 (JSON) characters a character
    assert written.count(b"\\x9b") if name.endswith("html") else written.count(b"\\u009b")
    assert not any(c in written.decode() for c in "\x1b\x9b\u202e")
    assert peak < MAX_RSS, f"{peak / MB:.0f} MB"
