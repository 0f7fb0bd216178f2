"""End to end in headless Chromium: the HTML report loads, draws, and runs no script.

Chromium is driven from its command line (``--dump-dom`` gives the DOM after load, ``--screenshot``
a PNG) with console messages logged to stderr, so a script error or a blocked script shows up as a
``CONSOLE`` line. Pages are files on disk; the report's Content-Security-Policy lets them load
nothing, and host resolution is disabled so nothing can leave the machine. Every run is bounded by
a timeout. Two control tests show the checks can fail: a page whose script does run is caught, and
a script spliced into a report (as if escaping had failed) is blocked by the policy.

Layout from a phone to a desktop: a desktop Chromium window is at least 500 px wide whatever
``--window-size`` asks (github.com/sitespeedio/browsertime/pull/2445), so the report is laid out
in an iframe of the width under test; ``srcdoc`` holds the report's own bytes, its policy intact,
and a srcdoc document has its parent's origin (HTML Standard, "attr-iframe-srcdoc"), so the
harness page around it, which has a script of its own, can measure the frame's layout after
load and write it into its DOM for ``--dump-dom``. A media query inside the frame sees the
frame's width, as a phone's browser sees its screen's; each measurement checks that width.
"""

from __future__ import annotations

import html
import json
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
from scripts.screenshot import HEADLESS_FLAGS, find_chromium
from tests.support import make_pages, record, settings


def render_html(report: benchtest.Report) -> str:
    return benchtest.render(report, "html")


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
    assert '<svg class="chart wide"' in chart
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


# --------------------------------------------------------------------------- phone to desktop

# Measures the framed report: the page's width against the frame's, every element outside it
# (the insides of a scrolling box and of a chart do not count: they scroll or scale), the
# smallest chart text in CSS px (its font size times the drawing's scale) in the charts shown,
# chart text outside its drawing, dates that wrap, and tables not in a sideways-scrolling box.
MEASURE = """
function measure(frame) {
  const document = frame.contentDocument, window = frame.contentWindow;
  const width = document.documentElement.clientWidth;
  const out = {width: width, pageWidth: document.documentElement.scrollWidth, outside: [],
               charts: 0, chartText: null, textOutside: 0, wrappedDates: 0, tables: 0,
               unboxedTables: 0};
  for (const el of document.body.querySelectorAll("*")) {
    if (el.parentElement.closest(".scroll, svg")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5) out.outside.push(el.tagName + "." + el.className);
  }
  for (const svg of document.querySelectorAll("svg.chart")) {
    const box = svg.getBoundingClientRect();
    if (box.width === 0) continue;
    out.charts += 1;
    const scale = box.width / svg.viewBox.baseVal.width;
    for (const text of svg.querySelectorAll("text")) {
      const px = parseFloat(window.getComputedStyle(text).fontSize) * scale;
      out.chartText = out.chartText === null ? px : Math.min(out.chartText, px);
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.textOutside += 1;
    }
  }
  for (const cell of document.querySelectorAll("td")) {
    if (!/^\\d{4}-\\d{2}-\\d{2}$/.test(cell.textContent)) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    if (range.getClientRects().length > 1) out.wrappedDates += 1;
  }
  for (const table of document.querySelectorAll("table")) {
    out.tables += 1;
    const box = table.parentElement;
    if (!box.classList.contains("scroll") || window.getComputedStyle(box).overflowX !== "auto")
      out.unboxedTables += 1;
  }
  return out;
}
window.addEventListener("load", () => {
  const pre = document.createElement("pre");
  pre.id = "layout";
  pre.textContent = JSON.stringify(measure(document.getElementById("report")));
  document.body.appendChild(pre);
});
"""


def layout(chromium: str, tmp_path: Path, page: str, width: int) -> dict[str, Any]:
    """How ``page`` lays out ``width`` CSS px wide (see `MEASURE`)."""
    harness = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
        f'<iframe id="report" style="border:0;width:{width}px;height:900px"'
        f' srcdoc="{html.escape(page, quote=True)}"></iframe>'
        f"<script>{MEASURE}</script></body></html>"
    )
    run = browse(chromium, tmp_path, harness, "--dump-dom", "--window-size=1400,1000")
    found = re.search(r'<pre id="layout">(.*?)</pre>', run.dom, re.DOTALL)
    assert found, run.stderr[-2000:]
    measured: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    assert measured["width"] == width  # the frame, not the window, is what was measured
    return measured


@pytest.fixture
def reconciled_report(serve: Any, bench_pages: dict[int, bytes]) -> benchtest.Report:
    """The Bench ledger with every section: assertions, a changed transaction, a restated day."""
    from benchtest.reconcile import compare, parse_previous

    server = serve(bench_pages)
    checks = benchtest.load_settings(
        overrides={"assert_balance": ["2013-12-20=18500,2013-12-12=-227.35"]}, env={}
    ).report.assert_balance
    report = benchtest.run(settings(server.url, assert_balance=checks)).report
    previous = json.loads(benchtest.render(report, "json"))
    listed = next(t for c in previous["categories"] for t in c["transactions"])
    listed["company"] = "A COMPANY NAME OF THE LENGTH A BANK EXPORT GIVES, AND MORE"
    return compare(report, parse_previous(json.dumps(previous).encode(), "yesterday.json"), 10_000)


@pytest.mark.parametrize("width", [390, 768, 1280])
def test_the_report_fits_phone_tablet_and_desktop_widths(
    chromium, tmp_path, reconciled_report, width
):
    measured = layout(chromium, tmp_path, render_html(reconciled_report), width)
    assert measured["pageWidth"] == width  # no sideways scrolling of the page
    assert measured["outside"] == []
    assert measured["charts"] == 1  # one of the two drawings, for this width
    assert measured["chartText"] >= 10
    assert measured["textOutside"] == 0
    assert measured["wrappedDates"] == 0
    assert measured["tables"] >= 6
    assert measured["unboxedTables"] == 0


@pytest.mark.parametrize("width", [390, 919, 920])
def test_ten_years_of_days_fit_a_phone_and_both_sides_of_the_breakpoint(chromium, tmp_path, width):
    from tests.test_html import synthetic_report

    measured = layout(chromium, tmp_path, render_html(synthetic_report(3650)), width)
    assert (measured["pageWidth"], measured["outside"], measured["charts"]) == (width, [], 1)
    assert measured["chartText"] >= 10
    assert measured["textOutside"] == 0


def test_control_the_old_layout_fails_the_phone_checks(chromium, tmp_path, reconciled_report):
    """Without the scrolling boxes, the unwrapped dates and the narrow chart (the layout before
    issue 18), a phone gets a page wider than its screen, dates on two lines and chart text of
    about 4 px: the checks see each."""
    page = render_html(reconciled_report)
    old = (
        page.replace('<div class="scroll">', "<div>")
        .replace(".date { white-space: nowrap; }", "")
        .replace("@media", "@media print and")
    )
    measured = layout(chromium, tmp_path, old, 390)
    assert measured["pageWidth"] > 390
    assert measured["outside"] != []
    assert measured["wrappedDates"] > 0
    assert measured["unboxedTables"] == measured["tables"]
    assert measured["chartText"] < 5


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
