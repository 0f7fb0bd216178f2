"""Hostile data in the report, second round (issue 17, classes 5 and 8).

Categories without end: a ledger may hold at most `MAX_CATEGORIES` distinct categories; the page
that brings one more is named, and the pages after it are never fetched. Measured
(``python benchmarks/hostile_rss.py categories``): 200,000 transactions, each with its own
200-character category, stop within the first 15 pages at 41 MB peak RSS; 10,000 categories are
reported in 67 MB.

Machine formats printed to a terminal: JSON and HTML write the characters a terminal acts on as
references (``\\u009b``, ``&#x1b;``), so the data stays the same and the screen stays intact.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchtest.aggregate import MAX_CATEGORIES
from benchtest.text import for_terminal
from scripts.screenshot import HEADLESS_FLAGS, find_chromium
from tests.conftest import CliRun
from tests.support import make_pages, record

LEDGER = 200  # characters: the longest category a record may have


def categories(count: int, distinct: int, per_page: int) -> dict[int, bytes]:
    """``count`` transactions, one a day from 2024-01-01 over 28 days, ``distinct`` categories
    of 200 characters, no two transactions the same (no duplicates to report)."""
    return make_pages(
        [
            record(
                date=f"2024-01-{1 + i % 28:02d}",
                Ledger=f"{i % distinct:08d}".ljust(LEDGER, "c"),
                Company=f"VENDOR {i}",
            )
            for i in range(count)
        ],
        per_page=per_page,
    )


@pytest.mark.parametrize(
    ("count", "per_page", "page"),
    [
        (200_000, 1_000, 11),  # the ledger: each transaction its own category
        (20_000, 20_000, 1),  # one page of 20,000 categories
        (MAX_CATEGORIES + 1, 1_001, 10),  # the 10,001st category, on the last page
    ],
    ids=["200000-of-1000", "one-page", "one-too-many"],
)
def test_categories_past_the_bound_are_one_line_naming_the_page(
    cli: Callable[..., CliRun], serve: Callable[..., Any], count: int, per_page: int, page: int
) -> None:
    server = serve(categories(count, count, per_page))
    run = cli("--url", server.url, "--format", "json", "--concurrency", "1")
    assert (run.code, run.out) == (1, "")
    assert run.err == [
        f"benchtest: error: page {page}: more than {MAX_CATEGORIES:,} distinct categories "
        "(Ledger values) in the ledger"
    ]
    assert server.requests <= page + 1  # nothing fetched past the page named (and page 1's peek)


def test_categories_up_to_the_bound_are_reported_exactly(
    cli: Callable[..., CliRun], serve: Callable[..., Any]
) -> None:
    server = serve(categories(3 * MAX_CATEGORIES, MAX_CATEGORIES, 1_000))
    run = cli("--url", server.url, "--format", "json")
    assert (run.code, run.err) == (0, [])
    report = json.loads(run.out)
    assert len(report["categories"]) == MAX_CATEGORIES
    assert {c["count"] for c in report["categories"]} == {3}
    assert {c["total"] for c in report["categories"]} == {"-3.00"}
    assert report["total_balance"] == f"-{3 * MAX_CATEGORIES}.00"


# --- class 8: machine formats on a terminal -------------------------------------------------

# A terminal acts on these; JSON's encoder leaves all but ESC raw, and HTML's escape all of them.
HOSTILE = "ESC\x1b[2J DEL\x7f NEL\x85 CSI\x9b31m RLO\u202e LS\u2028 ALM\u061c CR\r"
ORDINARY = "Café «Été» 東京 🙂 Ω—ß\ttab"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def pages(*texts: str) -> dict[int, bytes]:
    return make_pages([record(Company=text, Ledger="L" + text) for text in texts], per_page=2)


def test_json_writes_every_terminal_control_as_an_escape_of_the_same_data(
    cli: Callable[..., CliRun], serve: Callable[..., Any]
) -> None:
    run = cli("--url", serve(pages(HOSTILE, ORDINARY)).url, "--format", "json")
    assert run.code == 0
    assert RAW.search(run.out) is None
    for escape in ("\\u001b", "\\u007f", "\\u0085", "\\u009b", "\\u202e", "\\u2028", "\\r"):
        assert escape in run.out
    report = json.loads(run.out)
    listed = {t["company"] for c in report["categories"] for t in c["transactions"]}
    assert listed == {HOSTILE, ORDINARY}  # the same data, decoded
    assert {c["ledger"] for c in report["categories"]} == {"L" + HOSTILE, "L" + ORDINARY}


def test_json_of_ordinary_text_is_what_json_writes(
    cli: Callable[..., CliRun], serve: Callable[..., Any]
) -> None:
    run = cli("--url", serve(pages(ORDINARY, "ACME")).url, "--format", "json")
    assert run.code == 0
    assert run.out == json.dumps(json.loads(run.out), indent=2, ensure_ascii=False) + "\n"
    assert "Café «Été» 東京 🙂 Ω—ß\\ttab" in run.out


def test_html_writes_every_terminal_control_as_a_reference(
    cli: Callable[..., CliRun], serve: Callable[..., Any]
) -> None:
    run = cli("--url", serve(pages(HOSTILE, ORDINARY)).url, "--format", "html")
    assert run.code == 0
    assert RAW.search(run.out) is None
    # The same character in the DOM (a numeric reference) for all but C1 controls, which HTML
    # cannot hold: ``&#x85;`` would be read as "…", so they are shown as the table shows them.
    held = "ESC&#x1b;[2J DEL&#x7f; NEL\\x85 CSI\\x9b31m RLO&#x202e; LS&#x2028; ALM&#x61c; CR&#xd;"
    assert f'title="{held}"' in run.out
    assert f'title="{ORDINARY}"' in run.out  # ordinary text as before
    assert for_terminal(held) == held


@pytest.mark.slow
def test_html_references_are_the_same_characters_in_chromium(
    cli: Callable[..., CliRun], serve: Callable[..., Any], tmp_path: Path
) -> None:
    """The HTML parsing rules (numeric character references): ``&#x1b;`` is U+001B in the DOM,
    but ``&#x85;`` is "…"; Chromium's serialized DOM shows which character each became."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed; scripts/install-chromium.sh installs it")
    page = tmp_path / "report.html"
    page.write_text(cli("--url", serve(pages(HOSTILE)).url, "--format", "html").out, "utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text('<!DOCTYPE html><meta charset="utf-8"><p title="&#x85;&#x9b;">', "utf-8")
    doms = [
        subprocess.run(
            [chromium, *HEADLESS_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
             path.as_uri()],
            capture_output=True, timeout=60, check=True,
        ).stdout.decode()
        for path in (page, probe)
    ]  # fmt: skip
    shown = HOSTILE.replace("\x85", "\\x85").replace("\x9b", "\\x9b")
    assert f'title="{shown}"' in doms[0]  # every other character exactly as in the data
    assert 'title="\u2026\u203a"' in doms[1]  # why C1 controls are not written as references
