"""The report as one self-contained HTML5 page: header, running-balance chart, categories,
tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from html import escape
from itertools import chain

from ..model import (
    COMPARED,
    UNCATEGORIZED,
    CategoryTotal,
    Changes,
    DailyBalance,
    DuplicateGroup,
    Report,
    Transaction,
    TransactionChange,
    utc,
)
from ..money import MINUS, for_people
from ..text import for_terminal, referenced, references
from . import SHOWN_CHANGES, change_fields, left_out
from .chart import Chart, Layout, Point, balance_chart

# The wide chart is shown from this window width (px) up: with 20 px padding each side it is
# drawn at least 880 px wide, so its 11-unit text is at least 10 px. The narrow one below it.
WIDE = 920
NARROW = Layout(width=360.0, height=300.0, margin_right=16.0)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec;
  --pos: #1f7a4d; --neg: #b42318; --accent: #2458b3; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px 20px 40px; color: var(--ink);
  font: 14px/1.45 system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 12px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.total { font-size: 20px; font-weight: 700; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.date { white-space: nowrap; }
.scroll { overflow-x: auto; }
.neg { color: var(--neg); }
.note { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { text-align: left; background: #f5f7fa; position: sticky; top: 0; }
th.num { text-align: right; }
td[title] { text-decoration: underline dotted var(--muted); cursor: help; }
svg.chart { display: block; width: 100%; max-width: 960px; height: auto; }
svg.chart.narrow { display: none; max-width: 560px; }
svg.chart text { font-size: 11px; fill: var(--ink); font-family: "DejaVu Sans", "Liberation Sans",
  Arial, sans-serif; font-variant-numeric: tabular-nums; }
svg.chart .grid line { stroke: var(--line); stroke-width: 1; }
svg.chart .axis line, svg.chart .frame { stroke: var(--muted); stroke-width: 1; fill: none; }
svg.chart .zero { stroke: var(--ink); stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.chart .axis-title { font-weight: 700; fill: var(--muted); }
svg.chart .balance { fill: none; stroke: var(--accent); stroke-width: 1.8;
  stroke-linejoin: round; }
svg.chart .point { fill: var(--accent); }
svg.chart .extreme { fill: none; stroke-width: 2; }
svg.chart .extreme.low { stroke: var(--neg); }
svg.chart .extreme.high { stroke: var(--pos); }
svg.chart .extreme-label { font-weight: 700; paint-order: stroke; stroke: #fff;
  stroke-width: 3px; stroke-linejoin: round; }
svg.chart .empty { font-size: 14px; fill: var(--muted); }
svg.chart .assertion { fill: #fff; stroke-width: 2; }
svg.chart .assertion.ok { stroke: var(--pos); }
svg.chart .assertion.failed { stroke: var(--neg); fill: var(--neg); }
tr.failed td, .failed { color: var(--neg); font-weight: 700; }
tr.restated td { background: #fff4ce; }
.was { color: var(--muted); text-decoration: line-through; }
.bar-cell { width: 40%; }
.track { position: relative; height: 14px; margin-top: 3px; }
.track::before { content: ""; position: absolute; left: 50%; top: -2px; bottom: -2px;
  border-left: 1px solid var(--muted); }
.bar { position: absolute; top: 0; bottom: 0; }
.bar.pos { left: 50%; background: var(--pos); }
.bar.neg { right: 50%; background: var(--neg); }
details { margin: 6px 0; }
summary { cursor: pointer; }
footer { margin-top: 32px; font-size: 12px; color: var(--muted); }
""" + (
    f"@media (max-width: {WIDE - 0.02}px) {{ body {{ padding: 16px 12px 32px; }}"
    " svg.chart.wide { display: none; } svg.chart.narrow { display: block; } }\n"
)


def pieces(report: Report) -> Iterator[str]:
    """The report as one self-contained, script-free HTML document (ends with a newline), line
    by line: the listing can be 120 MB (10,000 transactions, each Company 1,000 references)."""
    days = report.daily_balances
    period = f"{report.first_date} to {report.last_date}" if days else "no transactions"
    balances = [(d.date, d.balance) for d in days]
    head = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',  # a constant without "
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Ledger report: {_e(period)}, total {_money(report.total_balance)}</title>",
        f"<style>{_STYLE}</style>\n</head>\n<body>",
        _header(report, period),
        '<section id="chart">\n<h2>Running daily balance</h2>',
        _chart_svg(balance_chart(balances), period, report, "wide"),
        _chart_svg(balance_chart(balances, NARROW), period, report, "narrow"),
        "</section>",
    ]
    foot = [
        "<footer>Amounts are exact, from the ledger's decimal strings; negative amounts are shown"
        f" with a minus sign (\N{MINUS SIGN}). Generated {_time(report)} by"
        f" {_e(report.generated_by)}.</footer>",
        "</body>\n</html>\n",
    ]
    sections = (_reconciliation, _categories, _daily_table, _duplicates, _transactions)
    lines = chain(head, *(section(report) for section in sections), foot)
    yield next(lines)
    for line in lines:
        yield "\n"
        yield line


def _e(text: object) -> str:
    """Escape any text for HTML content and attribute values (quotes included), and write each
    character a terminal acts on as a reference (`_REFERENCES`): `html.escape` leaves them raw."""
    return referenced(escape(str(text), quote=True), _REFERENCES)


# A numeric reference (``&#x1b;``), the same character in the DOM; but for C1 controls, which
# HTML cannot hold (raw they are a parse error, and the HTML parser reads ``&#x85;`` as the
# windows-1252 character, "…"), their visible escape (``\x85``), as on a terminal.
_REFERENCES = references(
    lambda code: for_terminal(chr(code)) if 0x80 <= code <= 0x9F else f"&#x{code:x};"
)


def _money(amount: Decimal) -> str:
    return for_people(amount, minus=MINUS)  # digits, separators, "." and U+2212: no escaping


def _num(amount: Decimal) -> str:
    text = _money(amount)
    cls = "num neg" if text.startswith(MINUS) else "num"
    return f'<td class="{cls}">{text}</td>'


def _date(day: date) -> str:
    return f'<td class="date">{day.isoformat()}</td>'


def _time(report: Report) -> str:
    stamp = utc(report.generated_at)
    return f'<time datetime="{stamp}">{stamp.replace("T", " ").replace("Z", " UTC")}</time>'


def _f(value: float) -> str:
    """A coordinate: one decimal, never ``-0.0`` (deterministic and short)."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _vendor(item: Transaction | DuplicateGroup) -> str:
    """The cleaned vendor, with the original Company on hover."""
    return f'<td title="{_e(item.company)}">{_e(item.vendor)}</td>'


def _table(cls: str, head: str, rows: Iterable[str]) -> Iterator[str]:
    """A table's lines (``head``: the header row's cells), in a box that scrolls sideways."""
    yield f'<div class="scroll"><table class="{cls}">'
    yield f"<thead><tr>{head}</tr></thead>"
    yield "<tbody>"
    yield from rows
    yield "</tbody>"
    yield "</table></div>"


def _header(report: Report, period: str) -> str:
    days = report.daily_balances
    if days:
        fill = "days without activity included" if report.gap_days_filled else "active days"
        period += f" ({len(days)} day{'s' if len(days) != 1 else ''}, {fill})"
    facts = [
        ("Source", _e(report.source)),
        ("Period", _e(period)),
        ("Transactions", f"{report.transaction_count:,}"),
        *([("Currency", _e(report.currency))] if report.currency else []),
        *([("Left out", _e(str(left_out(report))))] if report.left_out else []),
        ("Pages", f"{report.page_count:,}"),
        *[("Pages digest", _e(digest)) for digest in [report.pages_digest] if digest],
        ("Total balance", f'<span class="total">{_money(report.total_balance)}</span>'),
    ]
    facts.append(("Generated", f"{_time(report)} by {_e(report.generated_by)}"))
    rows = "\n".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    return f'<header>\n<h1>Ledger report</h1>\n<dl class="facts">\n{rows}\n</dl>\n</header>'


def _chart_svg(chart: Chart, period: str, report: Report, size: str) -> str:
    """The chart as SVG; ``size`` is "wide" or "narrow" (no point per day: phones cannot hover
    for its tooltip, and the page would carry every day twice)."""
    layout, plot = chart.layout, chart.plot
    w, h = layout.width, layout.height
    out = [
        f'<svg class="chart {size}" viewBox="0 0 {_f(w)} {_f(h)}" width="{_f(w)}"'
        f' height="{_f(h)}" role="img" aria-labelledby="chart-title-{size}">',
        f'<title id="chart-title-{size}">Running daily balance, {_e(period)}</title>',
        '<g class="grid">',
    ]
    out += [
        f'<line x1="{_f(plot.left)}" x2="{_f(plot.right)}" y1="{_f(t.y)}" y2="{_f(t.y)}"/>'
        for t in chart.y_ticks
    ]
    out.append('</g>\n<g class="axis y">')
    out += [
        f'<text x="{_f(plot.left - 6)}" y="{_f(t.y + 4)}" text-anchor="end">{t.label}</text>'
        for t in chart.y_ticks
    ]
    out.append('</g>\n<g class="axis x">')
    tick_top, tick_end, label_y = _f(plot.bottom), _f(plot.bottom + 5), _f(plot.bottom + 18)
    for t in chart.x_ticks:
        x = _f(t.x)
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{tick_top}" y2="{tick_end}"/>'
            f'<text x="{x}" y="{label_y}" text-anchor="middle">{_e(t.label)}</text>'
        )
    mid_y = (plot.top + plot.bottom) / 2
    out += [
        "</g>",
        f'<rect class="frame" x="{_f(plot.left)}" y="{_f(plot.top)}" width="{_f(plot.width)}"'
        f' height="{_f(plot.height)}"/>',
        f'<text class="axis-title" x="{_f(layout.axis_title / 2 + 4)}" y="{_f(mid_y)}"'
        f' text-anchor="middle" transform="rotate(-90 {_f(layout.axis_title / 2 + 4)}'
        f' {_f(mid_y)})">Balance</text>',
        f'<text class="axis-title" x="{_f((plot.left + plot.right) / 2)}" y="{_f(h - 8)}"'
        ' text-anchor="middle">Date</text>',
        f'<line class="zero" x1="{_f(plot.left)}" x2="{_f(plot.right)}" y1="{_f(chart.zero_y)}"'
        f' y2="{_f(chart.zero_y)}"/>',
    ]
    if not chart.points:
        out.append(
            f'<text class="empty" x="{_f((plot.left + plot.right) / 2)}" y="{_f(mid_y - 10)}"'
            ' text-anchor="middle">No transactions</text>'
        )
    if len(chart.steps) > 1:
        path = " L".join(f"{_f(x)},{_f(y)}" for x, y in chart.steps)
        out.append(f'<path class="balance" d="M{path}"/>')
    if size == "wide":
        r = _f(chart.point_radius)
        out.append('<g class="points">')
        out += [
            f'<circle class="point" cx="{_f(p.x)}" cy="{_f(p.y)}" r="{r}">'
            f"<title>{p.day.isoformat()}: {_money(p.balance)}</title></circle>"
            for p in chart.points
        ]
        out.append("</g>")
    out += _extremes(chart)
    out += _assertion_marks(chart, report)
    out.append("</svg>")
    return "\n".join(out)


def _extremes(chart: Chart) -> list[str]:
    """Ring and label the lowest and highest balances (one label when they are the same point)."""
    if chart.low is None or chart.high is None:
        return []
    if chart.low == chart.high:
        return _extreme(chart, chart.low, "low high", "Balance", above=True)
    high = _extreme(chart, chart.high, "high", "Highest", above=True)
    return high + _extreme(chart, chart.low, "low", "Lowest", above=False)


def _extreme(chart: Chart, point: Point, cls: str, name: str, *, above: bool) -> list[str]:
    plot = chart.plot
    # The highest balance is labelled above its point (the top margin has room for it); the
    # lowest below, unless that would reach the date labels under the plot.
    y = point.y - 9 if above or plot.bottom - point.y < 18 else point.y + 16
    # Text runs away from the nearer side and, in a narrow drawing, is moved back inside it.
    label = f"{name} {_money(point.balance)} ({point.day.isoformat()})"
    width = chart.layout.text_width(label) * 1.1  # bold is ~10% wider than the estimate
    if point.x <= (plot.left + plot.right) / 2:  # in the left half
        anchor, x = "start", min(point.x - 4, chart.layout.width - width)
    else:
        anchor, x = "end", max(point.x + 4, width)
    radius = _f(chart.point_radius + 3)
    return [
        f'<g class="{cls}">',
        f'<circle class="extreme {cls}" cx="{_f(point.x)}" cy="{_f(point.y)}" r="{radius}"/>',
        f'<text class="extreme-label" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}">'
        f"{label}</text>",
        "</g>",
    ]


def _assertion_marks(chart: Chart, report: Report) -> list[str]:
    """A diamond on the balance line at each asserted date: green when it holds, red if not."""
    out = []
    size = chart.point_radius + 4
    for a in report.assertions:
        where = chart.position(a.date, a.actual)
        if where is None:
            continue  # before the first or after the last day: listed in the table only
        x, y = where
        corners = f"{_f(x)},{_f(y - size)} {_f(x + size)},{_f(y)} {_f(x)},{_f(y + size)}"
        out.append(
            f'<polygon class="assertion {"ok" if a.ok else "failed"}" points="{corners} '
            f'{_f(x - size)},{_f(y)}"><title>Assertion {a.date.isoformat()}: expected '
            f"{_money(a.expected)}, actual {_money(a.actual)}: {'holds' if a.ok else 'FAILED'}"
            "</title></polygon>"
        )
    return ['<g class="assertions">', *out, "</g>"] if out else []


def _reconciliation(report: Report) -> list[str]:
    if not report.assertions and report.changes is None:
        return [""]
    out = ['<section id="reconciliation">', "<h2>Reconciliation</h2>"]
    if report.assertions:
        failed = len(report.failed_assertions)
        out += [
            f"<h3>Balance assertions: {len(report.assertions) - failed} hold, {failed} failed</h3>",
            *_table(
                "assertions",
                '<th>Date</th><th class="num">Expected</th><th class="num">Actual</th>'
                '<th class="num">Difference</th><th>Result</th>',
                (
                    f'<tr class="{"ok" if a.ok else "failed"}">{_date(a.date)}'
                    f"{_num(a.expected)}{_num(a.actual)}{_num(a.difference)}"
                    f"<td>{'ok' if a.ok else 'FAILED'}</td></tr>"
                    for a in report.assertions
                ),
            ),
        ]
    if report.changes is not None:
        out += _changes(report.changes)
    out.append("</section>")
    return out


def _changes(changes: Changes) -> list[str]:
    out = ["<h3>Changes since the previous run</h3>", f'<p class="note">{_e(changes.note)}</p>']
    if changes.status != COMPARED:
        return out
    out.append(
        '<dl class="facts">'
        f"<dt>Transactions</dt><dd>{changes.previous_transaction_count or 0:,} before, "
        f"{changes.transaction_count_difference or 0:+,}</dd>"
        f"<dt>Total balance</dt><dd>{_money(changes.previous_total_balance or Decimal(0))} before, "
        f"{_signed(changes.total_balance_difference or Decimal(0))}</dd>"
        f"<dt>New days</dt><dd>{len(changes.new_days):,}</dd>"
        "</dl>"
    )
    if changes.transaction_changes:
        shown = changes.transaction_changes[:SHOWN_CHANGES]
        out += [
            "<h4>Transactions added, removed or changed</h4>",
            *_table(
                "transaction-changes",
                "<th>Transaction</th><th>Date</th><th>Category</th><th>Company</th>"
                '<th class="num">Amount</th>',
                map(_transaction_change, shown),
            ),
        ]
        if len(changes.transaction_changes) > len(shown):
            more = len(changes.transaction_changes) - len(shown)
            out.append(f'<p class="note">… and {more:,} more: the JSON report lists them all.</p>')
    if changes.restated_days:
        out += [
            "<h4>Restated days: their own activity changed</h4>",
            *_table(
                "restated",
                '<th>Restated day</th><th class="num">Change before</th>'
                '<th class="num">Change</th><th class="num">Difference</th>',
                (
                    f'<tr class="restated">{_date(d.date)}{_num(d.previous_change)}'
                    f'{_num(d.change)}<td class="num">{_signed(d.change_difference)}</td></tr>'
                    for d in changes.restated_days
                ),
            ),
        ]
        out += [
            f'<p class="shift">Balances from {first.isoformat()} '
            f"{'on' if last is None else f'to {last.isoformat()}'} shifted by "
            f"{_signed(amount)}</p>"
            for first, last, amount in changes.shifts()
        ]
    return out


def _transaction_change(change: TransactionChange) -> str:
    """A row: what happened, then date, category, company and amount, "previous → now" where
    that field changed."""
    cells = []
    for cls, (was, now) in zip(
        ("date", "text", "text", "num"), change_fields(change, _money), strict=True
    ):
        before = f'<span class="was">{_e(was)}</span> \N{RIGHTWARDS ARROW} ' if was else ""
        cells.append(f'<td class="{cls}">{before}{_e(now)}</td>')
    return f'<tr class="{change.change}"><td>{change.change}</td>{"".join(cells)}</tr>'


def _signed(amount: Decimal) -> str:
    text = _money(amount)
    return text if text.startswith(MINUS) else "+" + text


def _categories(report: Report) -> list[str]:
    categories = report.categories
    out = ['<section id="categories">', "<h2>Categories by total</h2>"]
    if not categories:
        return [*out, '<p class="note">None: no transactions.</p>', "</section>"]
    largest = max(abs(c.total) for c in categories)

    def row(c: CategoryTotal) -> str:
        share = float(abs(c.total) / largest) * 50 if largest else 0.0
        side = "neg" if c.total < 0 else "pos"
        return (
            f'<tr><td>{_e(c.name)}</td><td class="num">{c.count:,}</td>{_num(c.total)}'
            f'<td class="bar-cell"><div class="track"><span class="bar {side}"'
            f' style="width:{share:.2f}%"></span></div></td></tr>'
        )

    out += _table(
        "categories",
        '<th>Category</th><th class="num">Transactions</th><th class="num">Total</th>'
        '<th class="bar-cell"><span class="note">negative | positive</span></th>',
        map(row, categories),
    )
    out.append("</section>")
    return out


def _daily_table(report: Report) -> Iterator[str]:
    days, changes = report.daily_balances, report.changes
    yield from ['<section id="daily">', "<h2>Daily balances</h2>"]
    if not days:
        yield from ['<p class="note">None: no transactions.</p>', "</section>"]
        return
    before = {} if changes is None else {d.date: d for d in changes.restated_days}

    def row(d: DailyBalance) -> str:
        restated, attrs = before.get(d.date), ""
        if restated is not None:
            was = _money(restated.previous_change)
            attrs = f' class="restated" title="restated: change before {was}"'
        return (
            f"<tr{attrs}>{_date(d.date)}{_num(d.change)}{_num(d.balance)}"
            f'<td class="num">{d.count:,}</td></tr>'
        )

    yield from _table(
        "daily",
        '<th>Date</th><th class="num">Change</th><th class="num">Balance</th>'
        '<th class="num">Transactions</th>',
        map(row, days),
    )
    yield "</section>"


def _duplicates(report: Report) -> Iterator[str]:
    yield from ['<section id="duplicates">', "<h2>Possible duplicates</h2>"]
    groups = report.duplicates
    if not groups:
        yield from ['<p class="note">None.</p>', "</section>"]
        return
    where = "excluded from" if report.duplicates_excluded else "included in"
    yield (
        f'<p class="note">Records identical in date, ledger, amount and company: '
        f"{report.duplicate_count:,} extra transaction(s) totalling "
        f"{_money(report.duplicate_total)}, {where} the totals.</p>"
    )
    yield from _table(
        "duplicates",
        '<th>Date</th><th>Vendor</th><th>Category</th><th class="num">Amount</th>'
        '<th class="num">Times</th>',
        (
            f"<tr>{_date(d.date)}{_vendor(d)}"
            f"<td>{_e(d.category or UNCATEGORIZED)}</td>{_num(d.amount)}"
            f'<td class="num">\N{MULTIPLICATION SIGN}{d.count:,}</td></tr>'
            for d in groups
        ),
    )
    yield "</section>"


def _transactions(report: Report) -> Iterator[str]:
    yield from ['<section id="transactions">', "<h2>Transactions by category</h2>"]
    if not report.transactions_listed:
        yield (
            '<p class="note">Not listed: the ledger has more transactions than the detail limit;'
            " the totals above include them all.</p>"
        )
    for c in report.categories:
        if c.transactions is None:
            continue
        count = f"{c.count:,} transaction(s), {_money(c.total)}"
        yield f"<details><summary>{_e(c.name)}: {count}</summary>"
        yield from _table(
            "transactions",
            '<th>Date</th><th>Vendor</th><th class="num">Amount</th><th class="num">Page</th>',
            (
                f"<tr>{_date(t.date)}{_vendor(t)}{_num(t.amount)}"
                f'<td class="num">{t.page:,}</td></tr>'
                for t in c.transactions
            ),
        )
        yield "</details>"
    yield "</section>"
