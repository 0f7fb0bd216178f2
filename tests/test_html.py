"""The HTML report: self-contained, inert, escaped, exact money, one chart point per day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import msgspec
import pytest

import benchtest
from benchtest.model import DailyBalance, Report
from benchtest.money import MINUS
from benchtest.renderers.html import CSP
from tests.support import make_pages, record, settings


def render_html(report: Report) -> str:
    return benchtest.render(report, "html")


INJECTION = "<script>alert(1)</script>"
GENERATED_AT = datetime(2026, 3, 12, 6, 0, 3, tzinfo=UTC)
POINT = re.compile(r'<circle class="point"')
# Every element the page may contain: no script, img, iframe, object, link, a, ...
PAGE_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "header", "footer", "section"),
    *("h1", "h2", "p", "div", "span", "dl", "dt", "dd", "details", "summary", "time"),
    *("table", "thead", "tbody", "tr", "th", "td"),
    *("svg", "g", "line", "text", "rect", "path", "circle"),
}


def synthetic_report(days: int, start: date = date(2015, 1, 1), **changes: Any) -> Report:
    """A report of ``days`` calendar days whose balance wanders both sides of zero."""
    balance = Decimal(0)
    rows = []
    for i in range(days):
        change = Decimal((i * 7919) % 20011 - 10000) / 100 if i % 3 else Decimal(0)
        balance += change
        rows.append(DailyBalance(start + timedelta(days=i), change, balance, 1 if change else 0))
    report = Report(
        generated_at=GENERATED_AT,
        source="synthetic",
        page_count=1,
        transaction_count=sum(r.count for r in rows),
        first_date=rows[0].date if rows else None,
        last_date=rows[-1].date if rows else None,
        total_balance=balance,
        gap_days_filled=True,
        duplicates_excluded=False,
        daily_balances=tuple(rows),
        categories=(),
        transactions_listed=True,
        duplicates=(),
        duplicate_count=0,
        duplicate_total=Decimal("0.00"),
    )
    return msgspec.structs.replace(report, **changes)


def injected_report(serve: Any, payload: str) -> Report:
    """A report fetched through the loopback server with ``payload`` as Company and Ledger."""
    records = [
        record("2024-01-02", "-10.00", Company=payload, Ledger=payload),
        record("2024-01-02", "-10.00", Company=payload, Ledger=payload),  # a duplicate, too
        record("2024-01-03", "25.50"),
    ]
    server = serve(make_pages(records, per_page=2))
    return benchtest.run(settings(server.url)).report


class Structure(HTMLParser):
    """Collects start tags, attributes and text; checks every non-void element is closed."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source"})
    SELF_CLOSING = frozenset({"line", "rect", "path", "circle"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.SELF_CLOSING and tag not in self.VOID:
            self.errors.append(f"unexpected self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Structure:
    parser = Structure()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


# --------------------------------------------------------------------------- money


def test_money_in_the_page_has_the_real_minus_sign():
    report = synthetic_report(0, total_balance=Decimal("-1874.75"))
    page = render_html(report)
    assert f'<span class="total">{MINUS}1,874.75</span>' in page
    assert "-1,874.75" not in page  # one minus sign throughout: U+2212


# --------------------------------------------------------------------------- self-contained, inert


def test_page_carries_the_content_security_policy_that_forbids_scripts():
    page = render_html(synthetic_report(11))
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    meta = (
        '<meta http-equiv="Content-Security-Policy"'
        " content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
    )
    assert meta in page
    head = page[: page.index("</head>")]
    assert head.index("Content-Security-Policy") < head.index("<style>")  # policy comes first


@pytest.mark.parametrize("days", [0, 1, 11, 365])
def test_page_has_no_scripts_and_loads_nothing_from_outside(days):
    page = render_html(synthetic_report(days))
    lowered = page.lower()
    assert "<script" not in lowered
    assert " src=" not in lowered
    assert not re.search(r"href\s*=", lowered)
    assert "url(" not in lowered
    assert "@import" not in lowered
    assert not re.search(r"\son[a-z]+\s*=", lowered)  # no event handler attributes
    assert page.startswith("<!DOCTYPE html>\n")
    assert page.endswith("</html>\n")
    parse(page)


@pytest.mark.parametrize(
    "payload",
    [
        INJECTION,
        "<img src=x onerror=\"document.title='pwned'\">",
        '" onmouseover="alert(1)',
        "A & B <Co>",
    ],
)
def test_api_text_is_escaped_everywhere_it_appears(serve, payload):
    page = render_html(injected_report(serve, payload))
    escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace('"', "&quot;").replace("'", "&#x27;")
    assert payload not in page
    # As a category, a duplicate's vendor, company (on hover) and ledger, and a listed transaction.
    assert page.count(escaped) >= 5
    parsed = parse(page)
    assert payload in "".join(parsed.text)  # a person reads the payload as text
    assert {tag for tag, _ in parsed.tags} <= PAGE_TAGS
    assert not any(
        name.startswith("on") for _, attrs in parsed.tags for name in attrs
    )  # no handler attribute was created


def test_source_is_escaped():
    page = render_html(synthetic_report(2, source=f"https://x.test/{INJECTION}/{{page}}.json"))
    assert INJECTION not in page
    assert "https://x.test/&lt;script&gt;alert(1)&lt;/script&gt;/{page}.json" in page


def test_vendor_is_shown_cleaned_with_the_original_company_on_hover(serve):
    server = serve(
        make_pages([record(Company="DROPBOX xxxxxx8396 CA 9.99 USD @ xx1001")], per_page=5)
    )
    page = render_html(benchtest.run(settings(server.url)).report)
    assert '<td title="DROPBOX xxxxxx8396 CA 9.99 USD @ xx1001">DROPBOX</td>' in page


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("days", [0, 1, 2, 31, 365, 3650])
def test_chart_has_one_point_per_daily_balance_row(days):
    report = synthetic_report(days)
    page = render_html(report)
    assert len(POINT.findall(page)) == len(report.daily_balances) == days
    assert page.count('<tr><td class="date">') >= days  # and one table row per day


def test_each_point_has_a_tooltip_with_its_date_and_balance():
    page = render_html(synthetic_report(3, start=date(2013, 12, 12)))
    tips = re.findall(r'<circle class="point"[^>]*><title>([^<]*)</title></circle>', page)
    assert tips == ["2013-12-12: 0.00", f"2013-12-13: {MINUS}20.81", "2013-12-14: 37.57"]


def test_chart_marks_zero_line_axes_and_extremes():
    page = render_html(synthetic_report(31))
    assert '<line class="zero"' in page
    assert ">Balance</text>" in page
    assert ">Date</text>" in page
    assert '<circle class="extreme low"' in page
    assert '<circle class="extreme high"' in page
    assert re.search(r">Lowest \N{MINUS SIGN}[\d,]+\.\d\d \(\d{4}-\d\d-\d\d\)</text>", page)
    assert re.search(r">Highest [\d,]+\.\d\d \(\d{4}-\d\d-\d\d\)</text>", page)


def test_empty_ledger_says_so_instead_of_drawing_points():
    page = render_html(synthetic_report(0))
    assert ">No transactions</text>" in page
    assert "no transactions" in page  # period
    assert not POINT.search(page)
    assert "<path" not in page
    parse(page)


def test_transactions_not_listed_above_the_detail_limit_are_explained(serve):
    server = serve(make_pages([record(), record(date="2024-01-03")], per_page=5))
    report = benchtest.run(settings(server.url, detail_limit=1)).report
    assert report.categories[0].transactions is None
    page = render_html(report)
    assert "Not listed: the ledger has more transactions than the detail limit" in page
    assert '<table class="transactions">' not in page
    assert "<td>Office Expense</td>" in page  # the category total is still there


def test_render_is_deterministic_and_the_same_through_benchtest_render():
    report = synthetic_report(365)
    first = render_html(report)
    assert render_html(synthetic_report(365)) == first
    assert benchtest.render(report, "html") == first


def test_ten_years_of_days_render_a_point_and_a_row_per_day():
    """Speed is for the benchmark, not a timed test (this machine is shared and noisy)."""
    page = render_html(synthetic_report(3650))
    assert len(POINT.findall(page)) == 3650
    assert page.count('<tr><td class="date">') >= 3650


# --------------------------------------------------------------------------- real ledgers


def test_bench_ledger_report_shows_total_chart_categories_and_duplicates(serve, bench_pages):
    server = serve(bench_pages)
    report = benchtest.run(settings(server.url)).report
    page = render_html(report)
    assert '<span class="total">18,377.16</span>' in page
    assert len(POINT.findall(page)) == 11
    assert f"<title>2013-12-16: {MINUS}6,037.85</title>" in page
    assert f">Lowest {MINUS}6,037.85 (2013-12-16)</text>" in page
    assert ">Highest 22,560.45 (2013-12-19)</text>" in page
    assert '<td class="num">18,377.16</td>' in page  # last daily row
    assert f'<td class="num neg">{MINUS}9,788.52</td>' in page  # Equipment Expense
    assert "<td>Business Meals &amp; Entertainment Expense</td>" in page
    assert '<td title="YELLOW CAB CO LTD VANCOUVER BC">YELLOW CAB CO LTD</td>' in page
    assert f"totalling {MINUS}1,885.65, included in the totals" in page
    parse(page)


def test_bundled_sample_report_renders_the_same_way(sample_report):
    report = sample_report
    page = render_html(report)
    assert '<span class="total">5,356.75</span>' in page
    assert len(POINT.findall(page)) == len(report.daily_balances) == 10
    assert "<td>Hardware</td>" in page
    assert "sample (bundled ledger, served on 127.0.0.1)" in page
    parse(page)


def test_the_page_says_when_and_by_what_it_was_made():
    page = render_html(synthetic_report(3))
    made = '<time datetime="2026-03-12T06:00:03Z">2026-03-12 06:00:03 UTC</time>'
    by = f"benchtest {benchtest.__version__}"
    assert f"<dt>Generated</dt><dd>{made} by {by}</dd>" in page
    assert f"Generated {made} by {by}.</footer>" in page
    assert render_html(synthetic_report(3)) == page  # the report's own time: the same bytes
