"""End to end in headless Chromium: the HTML report loads, draws, and runs no script.

Chromium is driven from its command line (``--dump-dom`` gives the DOM after load, ``--screenshot``
a PNG) with console messages logged to stderr, so a script error or a blocked script shows up as a
``CONSOLE`` line. Pages are files on disk; the report's Content-Security-Policy lets them load
nothing, and host resolution is disabled so nothing can leave the machine. Every run is bounded by
a timeout. Two control tests show the checks can fail: a page whose script does run is caught, and
a script spliced into a report (as if escaping had failed) is blocked by the policy.
"""

from __future__ import annotations

import os
import re
import signal
import struct
import subprocess
import zlib
from itertools import count
from pathlib import Path
from typing import Any

import pytest

import benchtest
from benchtest.renderers.html import render as render_html
from scripts.screenshot import HEADLESS_FLAGS, find_chromium
from tests.support import make_pages, record, settings

pytestmark = pytest.mark.slow

TIMEOUT = 60  # seconds for one Chromium run
FLAGS = [*HEADLESS_FLAGS, "--enable-logging=stderr", "--v=0"]
PAYLOAD = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
POINT = re.compile(r'<circle class="point"')
_runs = count()


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if found:
        return found
    pytest.skip(
        "Chromium is not installed (chromium / chromium-browser not on PATH); "
        "scripts/install-chromium.sh installs it"
    )


class Run:
    """One Chromium run: its stdout (the DOM for --dump-dom) and console lines from stderr."""

    def __init__(self, result: subprocess.CompletedProcess[str]) -> None:
        assert result.returncode == 0, result.stderr[-2000:]
        self.dom = result.stdout
        self.console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
        self.stderr = result.stderr

    @property
    def title(self) -> str:
        match = re.search(r"<title>(.*?)</title>", self.dom, re.DOTALL)
        assert match, "the page has a title"
        return match.group(1)


def browse(chromium: str, tmp_path: Path, page: str, *args: str) -> Run:
    """Write ``page`` to a file and open it in a fresh headless Chromium profile."""
    run = next(_runs)
    path = tmp_path / f"page-{run}.html"
    path.write_text(page, encoding="utf-8")
    command = [chromium, *FLAGS, f"--user-data-dir={tmp_path / f'profile-{run}'}", *args]
    with subprocess.Popen(
        [*command, path.as_uri()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a hung run is ended whole
    ) as process:
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            pytest.fail(f"Chromium did not finish within {TIMEOUT} s")
    return Run(subprocess.CompletedProcess(process.args, process.returncode, out, err))


def dump_dom(chromium: str, tmp_path: Path, page: str) -> Run:
    return browse(chromium, tmp_path, page, "--dump-dom")


def screenshot(chromium: str, tmp_path: Path, page: str) -> tuple[Run, Path]:
    png = tmp_path / f"shot-{next(_runs)}.png"
    run = browse(chromium, tmp_path, page, f"--screenshot={png}", "--window-size=1200,1600")
    return run, png


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the decoded image data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return width, height, len(set(pixels))


def section(dom: str, name: str) -> str:
    start = dom.index(f'<section id="{name}">')
    return dom[start : dom.index("</section>", start)]


def title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page)
    assert match
    return match.group(1)


@pytest.fixture
def bench_report(serve: Any, bench_pages: dict[int, bytes]) -> benchtest.Report:
    server = serve(bench_pages)
    return benchtest.run(settings(server.url)).report


# --------------------------------------------------------------------------- the real reports


def test_bench_report_loads_with_chart_total_categories_and_table(chromium, tmp_path, bench_report):
    page = render_html(bench_report)
    run = dump_dom(chromium, tmp_path, page)
    assert run.console == []  # no script errors, no blocked requests: nothing logged at all
    assert "Uncaught" not in run.stderr
    assert run.title == title_of(page)
    chart = section(run.dom, "chart")
    assert '<svg class="chart"' in chart
    assert len(POINT.findall(chart)) == 11
    assert '<line class="zero"' in chart
    assert '<span class="total">18,377.16</span>' in run.dom
    categories = section(run.dom, "categories")
    assert categories.count("<tr>") == 1 + 11  # header and one row per ledger
    assert "<td>Equipment Expense</td>" in categories
    daily = section(run.dom, "daily")
    assert daily.count("<tr>") == 1 + 11
    assert '<td class="num">18,377.16</td>' in daily


def test_bench_report_screenshot_is_a_real_picture(chromium, tmp_path, bench_report):
    run, png = screenshot(chromium, tmp_path, render_html(bench_report))
    assert run.console == []
    width, height, distinct = png_facts(png)
    assert (width, height) == (1200, 1600)
    assert png.stat().st_size > 20_000  # a blank page is a few kB
    assert distinct > 64  # text, lines and colours, not one flat colour


def test_bundled_sample_report_renders_the_same_way(chromium, tmp_path, sample_report):
    report = sample_report
    page = render_html(report)
    run = dump_dom(chromium, tmp_path, page)
    assert run.console == []
    assert len(POINT.findall(section(run.dom, "chart"))) == len(report.daily_balances) == 10
    assert '<span class="total">5,356.75</span>' in run.dom
    assert section(run.dom, "daily").count("<tr>") == 1 + 10
    shot, png = screenshot(chromium, tmp_path, page)
    assert shot.console == []
    assert png_facts(png)[2] > 64


# --------------------------------------------------------------------------- injection


def test_injected_company_and_ledger_run_no_script_and_show_as_text(chromium, tmp_path, serve):
    records = [
        record("2024-01-02", "-10.00", Company=PAYLOAD, Ledger=PAYLOAD),
        record("2024-01-02", "-10.00", Company=PAYLOAD, Ledger=PAYLOAD),
        record("2024-01-03", "25.50"),
    ]
    server = serve(make_pages(records, per_page=2))
    page = render_html(benchtest.run(settings(server.url)).report)
    run = dump_dom(chromium, tmp_path, page)
    assert run.title == title_of(page)
    assert "pwned" not in run.title
    assert run.console == []  # not even an attempt for the policy to block
    body = run.dom[run.dom.index("<body>") :]
    assert "<script" not in body
    assert "<img" not in body
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in body  # shown as text
    assert len(POINT.findall(body)) == 2


# --------------------------------------------------------------------------- controls


def test_control_a_script_that_runs_is_detected(chromium, tmp_path):
    page = (
        "<!DOCTYPE html><html><head><title>report</title></head><body>"
        "<script>document.title='pwned'; undefinedFunction();</script></body></html>"
    )
    run = dump_dom(chromium, tmp_path, page)
    assert run.title == "pwned"
    assert any("Uncaught ReferenceError" in line for line in run.console)


def test_control_policy_blocks_a_script_even_if_escaping_had_failed(
    chromium, tmp_path, sample_report
):
    page = render_html(sample_report)
    broken = page.replace("<body>", f"<body>{PAYLOAD}", 1)  # as if the payload were not escaped
    run = dump_dom(chromium, tmp_path, broken)
    assert run.title == title_of(page)
    assert any("Content Security Policy" in line for line in run.console)
