"""Chart geometry: scales, nice money ticks, date label thinning, points, extremes, edge ledgers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchtest.money import MINUS
from benchtest.renderers.chart import (
    DateScale,
    Layout,
    MoneyScale,
    Point,
    XTick,
    balance_chart,
    date_ticks,
    nice_step,
    nice_ticks,
    step_vertices,
    tick_places,
)

D = Decimal
START = date(2015, 1, 1)


def ledger(balances: list[str], start: date = START) -> list[tuple[date, Decimal]]:
    return [(start + timedelta(days=i), D(b)) for i, b in enumerate(balances)]


def days_ledger(count: int, start: date = START) -> list[tuple[date, Decimal]]:
    """``count`` days with a balance that wanders both sides of zero."""
    return [(start + timedelta(days=i), D((i * 7919) % 20011 - 10000) / 100) for i in range(count)]


def assert_labels_fit(ticks: tuple[XTick, ...], layout: Layout) -> None:
    """Each label inside the drawing, neighbours at least label_gap apart, in date order."""
    boxes = [
        (t.x - layout.text_width(t.label) / 2, t.x + layout.text_width(t.label) / 2) for t in ticks
    ]
    for left, right in boxes:
        assert left >= 0
        assert right <= layout.width
    for (_, right), (left, _) in pairwise(boxes):
        assert left - right >= layout.label_gap
    assert [t.day for t in ticks] == sorted({t.day for t in ticks})


# --------------------------------------------------------------------------- scales


def test_date_scale_maps_first_and_last_day_to_the_ends_and_is_linear_between():
    scale = DateScale(date(2013, 12, 12), date(2013, 12, 22), 100.0, 600.0)
    assert scale(date(2013, 12, 12)) == 100.0
    assert scale(date(2013, 12, 22)) == 600.0
    assert scale(date(2013, 12, 17)) == pytest.approx(350.0)
    assert scale.day_width == pytest.approx(50.0)


def test_date_scale_of_a_single_day_puts_it_in_the_middle_without_dividing_by_zero():
    scale = DateScale(START, START, 100.0, 600.0)
    assert scale(START) == 350.0
    assert scale.day_width == 500.0


def test_money_scale_maps_low_to_bottom_high_to_top_and_zero_in_between():
    scale = MoneyScale(D("-10000"), D("30000"), bottom=300.0, top=20.0)
    assert scale(D("-10000")) == 300.0
    assert scale(D("30000")) == 20.0
    assert scale(D("0")) == pytest.approx(230.0)
    assert scale(D("18377.16")) < scale(D("-227.35"))  # more money is higher up


# --------------------------------------------------------------------------- money ticks


@pytest.mark.parametrize(
    ("span", "target", "step"),
    [
        ("28787.80", 6, "5000"),
        ("1", 5, "0.2"),
        ("100", 5, "20"),
        ("100", 10, "10"),
        ("0.05", 5, "0.01"),
        ("7", 1, "10"),
        ("123456789", 6, "50000000"),
    ],
)
def test_nice_step_is_the_smallest_1_2_5_step_within_the_target(span, target, step):
    assert nice_step(D(span), target) == D(step)


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        ("-6037.85", "22560.45", ["-10000", "0", "10000", "20000", "30000"]),
        ("5", "95", ["0", "20", "40", "60", "80", "100"]),  # all positive: zero still shown
        ("-95", "-5", ["-100", "-80", "-60", "-40", "-20", "0"]),  # all negative: zero shown
        ("0", "0", ["-1", "-0.5", "0", "0.5", "1"]),  # empty or all-zero ledger
        ("0.01", "0.03", ["0", "0.01", "0.02", "0.03"]),
        ("-200", "200", ["-200", "-100", "0", "100", "200"]),  # exact multiples stay the ends
    ],
)
def test_nice_ticks_cover_the_range_and_zero_in_even_nice_steps(low, high, expected):
    assert list(nice_ticks(D(low), D(high), 5)) == [D(v) for v in expected]


@given(
    low=st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False),
    high=st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False),
    target=st.integers(min_value=2, max_value=12),
)
def test_nice_ticks_always_include_zero_and_cover_any_range(low, high, target):
    low, high = min(low, high), max(low, high)
    ticks = nice_ticks(low, high, target)
    assert D(0) in ticks
    assert ticks[0] <= low
    assert ticks[-1] >= high
    step = ticks[1] - ticks[0]
    assert all(b - a == step for a, b in pairwise(ticks))
    assert step.normalize().as_tuple().digits in {(1,), (2,), (5,)}
    assert len(ticks) <= target + 3  # a nice step wastes at most a step at each end


@pytest.mark.parametrize(
    ("step", "places"),
    [("5000", 0), ("1E+4", 0), ("1", 0), ("0.5", 2), ("0.2", 2), ("0.01", 2), ("0.005", 3)],
)
def test_tick_labels_show_cents_only_for_steps_below_one(step, places):
    assert tick_places(D(step)) == places


def test_y_tick_labels_are_people_money_with_a_labelled_zero():
    chart = balance_chart(ledger(["-6037.85", "22560.45"]))
    labels = [t.label for t in chart.y_ticks]
    assert labels == [
        f"{MINUS}10,000",
        f"{MINUS}5,000",
        "0",
        *[f"{k},000" for k in (5, 10, 15, 20, 25)],
    ]
    zero = next(t for t in chart.y_ticks if t.value == 0)
    assert zero.y == chart.zero_y


@pytest.mark.parametrize(
    "balances",
    [["5", "95"], ["-95", "-5"], ["-1", "1"], ["0", "0"], ["1000000", "1000000.01"]],
    ids=["positive", "negative", "both", "zero", "far-from-zero"],
)
def test_zero_line_is_inside_the_plot_whatever_the_balances(balances):
    chart = balance_chart(ledger(balances))
    assert chart.plot.top <= chart.zero_y <= chart.plot.bottom
    assert all(chart.plot.top <= p.y <= chart.plot.bottom for p in chart.points)


def test_left_margin_grows_with_the_widest_money_label():
    narrow = balance_chart(ledger(["1", "5"]))
    wide = balance_chart(ledger(["-123456789", "5"]))
    assert wide.plot.left > narrow.plot.left
    layout = wide.layout
    widest = max(layout.text_width(t.label) for t in wide.y_ticks)
    assert wide.plot.left - widest >= layout.axis_title  # labels clear the axis title


# --------------------------------------------------------------------------- date labels


@pytest.mark.parametrize(
    ("days", "unit"),
    [(1, "day"), (2, "day"), (11, "day"), (31, "day"), (365, "month"), (3650, "year")],
)
@pytest.mark.parametrize("width", [960.0, 640.0, 480.0])
def test_date_labels_never_overlap_or_leave_the_drawing(days, unit, width):
    layout = Layout(width=width)
    chart = balance_chart(days_ledger(days), layout)
    assert chart.x_ticks, "at least one date is labelled"
    assert_labels_fit(chart.x_ticks, layout)
    assert all(START <= t.day <= START + timedelta(days=days - 1) for t in chart.x_ticks)
    if width == 960.0:
        assert chart.x_unit == unit


@pytest.mark.parametrize("days", [1, 2, 11])
def test_short_ledgers_label_every_day_at_full_width(days):
    chart = balance_chart(days_ledger(days))
    assert [t.label for t in chart.x_ticks] == [
        (START + timedelta(days=i)).isoformat() for i in range(days)
    ]


def test_a_month_of_days_is_thinned_to_every_few_days_starting_on_the_first():
    chart = balance_chart(days_ledger(31))
    gaps = {(b.day - a.day).days for a, b in pairwise(chart.x_ticks)}
    assert len(gaps) == 1
    assert gaps.pop() in {2, 3, 7}
    assert chart.x_ticks[0].day == START


def test_a_year_is_labelled_by_month_on_the_first_of_each_month():
    chart = balance_chart(days_ledger(365))
    assert chart.x_unit == "month"
    assert all(t.day.day == 1 for t in chart.x_ticks)
    assert [t.label for t in chart.x_ticks][:3] == ["2015-01", "2015-02", "2015-03"]


def test_ten_years_are_labelled_by_year_on_the_first_of_january():
    chart = balance_chart(days_ledger(3650))
    assert chart.x_unit == "year"
    assert all((t.day.month, t.day.day) == (1, 1) for t in chart.x_ticks)
    assert [t.label for t in chart.x_ticks] == [str(y) for y in range(2015, 2025)]


def test_ledger_starting_mid_month_gets_month_ticks_only_on_month_starts():
    chart = balance_chart(days_ledger(400, start=date(2019, 3, 17)))
    assert chart.x_unit == "month"
    assert all(t.day.day == 1 for t in chart.x_ticks)
    assert date(2019, 4, 1) <= chart.x_ticks[0].day <= date(2019, 6, 1)


def test_weekly_labels_fall_on_mondays():
    layout = Layout(width=480.0)
    scale = DateScale(START, START + timedelta(days=30), 60.0, 420.0)  # 12 units a day
    unit, ticks = date_ticks(scale, layout)
    assert unit == "day"
    assert ticks
    assert all(t.day.weekday() == 0 for t in ticks)
    assert_labels_fit(ticks, layout)


def test_a_drawing_too_narrow_for_any_step_still_labels_the_first_day():
    layout = Layout(width=120.0, margin_right=10.0, axis_title=0.0)
    scale = DateScale(START, START + timedelta(days=3650), 50.0, 110.0)
    _, ticks = date_ticks(scale, layout)
    assert len(ticks) == 1


# --------------------------------------------------------------------------- points, line, extremes


def test_one_point_per_day_in_date_order_with_higher_balances_higher_up():
    chart = balance_chart(ledger(["-227.35", "-1456.93", "4648.43"]))
    assert [p.day for p in chart.points] == [START + timedelta(days=i) for i in range(3)]
    assert [p.balance for p in chart.points] == [D("-227.35"), D("-1456.93"), D("4648.43")]
    xs = [p.x for p in chart.points]
    assert xs == sorted(xs)
    assert xs[0] == chart.plot.left
    assert xs[-1] == chart.plot.right
    assert chart.points[2].y < chart.points[0].y < chart.points[1].y


def test_lowest_and_highest_balances_are_found_first_of_equals():
    chart = balance_chart(ledger(["5", "-3", "9", "-3", "9"]))
    assert chart.low is not None
    assert chart.high is not None
    assert (chart.low.day, chart.low.balance) == (START + timedelta(days=1), D("-3"))
    assert (chart.high.day, chart.high.balance) == (START + timedelta(days=2), D("9"))


def test_step_line_holds_each_balance_until_the_next_day_and_skips_quiet_days():
    points = [
        Point(START + timedelta(days=i), D(0), float(i), y)
        for i, y in enumerate([5.0, 5.0, 5.0, 2.0])
    ]
    assert step_vertices(points) == ((0.0, 5.0), (3.0, 5.0), (3.0, 2.0))


def test_step_line_of_a_quiet_ledger_is_one_straight_segment():
    points = [Point(START + timedelta(days=i), D(0), float(i), 7.0) for i in range(4)]
    assert step_vertices(points) == ((0.0, 7.0), (3.0, 7.0))


def test_step_line_segments_are_horizontal_or_vertical():
    chart = balance_chart(days_ledger(365))
    for (x1, y1), (x2, y2) in pairwise(chart.steps):
        assert x1 == x2 or y1 == y2
    assert chart.steps[0] == (chart.points[0].x, chart.points[0].y)
    assert chart.steps[-1] == (chart.points[-1].x, chart.points[-1].y)


def test_points_are_smaller_when_days_are_dense():
    assert balance_chart(days_ledger(11)).point_radius == 3.5
    assert balance_chart(days_ledger(3650)).point_radius == 1.0


# --------------------------------------------------------------------------- edge ledgers


def test_empty_ledger_has_axes_and_a_zero_line_but_no_points():
    chart = balance_chart([])
    assert chart.points == ()
    assert chart.steps == ()
    assert chart.x_ticks == ()
    assert chart.low is None
    assert chart.high is None
    assert D(0) in [t.value for t in chart.y_ticks]
    assert chart.plot.top < chart.zero_y < chart.plot.bottom


@pytest.mark.parametrize("balance", ["0.00", "-227.35", "18377.16"])
def test_one_day_ledger_has_one_centred_point_that_is_both_lowest_and_highest(balance):
    chart = balance_chart(ledger([balance]))
    (point,) = chart.points
    assert point.x == (chart.plot.left + chart.plot.right) / 2
    assert chart.low == chart.high == point
    assert [t.label for t in chart.x_ticks] == [START.isoformat()]
    assert chart.steps == ((point.x, point.y),)
    assert chart.plot.top <= point.y <= chart.plot.bottom
