"""Geometry of the running-balance chart: scales, ticks, labels and points, as plain data."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple

from ..money import MINUS, for_people


@dataclass(frozen=True)
class Layout:
    """Size of the drawing and of its text, in SVG user units."""

    width: float = 960.0
    height: float = 360.0
    margin_top: float = 28.0  # room for the highest balance's label above the plot
    margin_right: float = 48.0  # room for half of the last date label
    margin_bottom: float = 52.0  # date labels, then the axis title
    axis_title: float = 20.0  # left of the money labels: the rotated "Balance" title
    font_size: float = 11.0
    char_width: float = 0.66  # estimated width of one label character, in ems
    label_gap: float = 10.0  # least space between two neighbouring labels
    y_tick_spacing: float = 45.0  # about this much height per money step

    def text_width(self, text: str) -> float:
        return len(text) * self.char_width * self.font_size


class Box(NamedTuple):
    """The plot area (inside the axes)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class DateScale:
    """Days ``first``..``last`` onto ``left``..``right``; a one-day range maps to the middle."""

    first: date
    last: date
    left: float
    right: float

    @property
    def day_width(self) -> float:  # the whole width for a single day
        days = (self.last - self.first).days
        return (self.right - self.left) / days if days else self.right - self.left

    def __call__(self, day: date) -> float:
        days = (self.last - self.first).days
        if days == 0:
            return (self.left + self.right) / 2
        return self.left + (day - self.first).days * (self.right - self.left) / days


@dataclass(frozen=True)
class MoneyScale:
    """Money ``low``..``high`` onto ``bottom``..``top`` (SVG y grows downwards); ``low < high``."""

    low: Decimal
    high: Decimal
    bottom: float
    top: float

    def __call__(self, value: Decimal) -> float:
        share = float((value - self.low) / (self.high - self.low))
        return self.bottom - share * (self.bottom - self.top)


class YTick(NamedTuple):
    value: Decimal
    y: float
    label: str


class XTick(NamedTuple):
    day: date
    x: float
    label: str


class Point(NamedTuple):
    """One day's closing balance and where it is drawn."""

    day: date
    balance: Decimal
    x: float
    y: float


@dataclass(frozen=True)
class Chart:
    """Everything needed to draw the running-balance chart."""

    layout: Layout
    plot: Box
    x_ticks: tuple[XTick, ...]
    x_unit: str  # "day", "month" or "year": what the date labels step by
    y_ticks: tuple[YTick, ...]
    zero_y: float  # the zero line; always inside the plot
    points: tuple[Point, ...]  # one per day, in date order
    steps: tuple[tuple[float, float], ...]  # vertices of the step line (no redundant ones)
    low: Point | None  # the lowest balance (its first day); None for an empty ledger
    high: Point | None  # the highest balance (its first day)
    point_radius: float

    def position(self, day: date, balance: Decimal) -> tuple[float, float] | None:
        """Where (``day``, ``balance``) is drawn, None outside the chart's days: both axes are
        linear, so the end points (x) and end ticks (y) place any value (a non-balance may be off
        the money axis)."""
        if not self.points or not self.points[0].day <= day <= self.points[-1].day:
            return None
        first, last = self.points[0], self.points[-1]
        days = (last.day - first.day).days
        x = first.x if days == 0 else first.x + (day - first.day).days * (last.x - first.x) / days
        low, high = self.y_ticks[0], self.y_ticks[-1]
        share = float((balance - low.value) / (high.value - low.value))
        return x, low.y + share * (high.y - low.y)


def nice_step(span: Decimal, target: int) -> Decimal:
    """The smallest step of 1, 2 or 5 x 10^n that cuts ``span`` (> 0) into at most ``target``."""
    raw = span / max(target, 1)
    exponent = raw.adjusted()  # 10^exponent <= raw < 10^(exponent + 1)
    for multiple in (1, 2, 5):
        step = Decimal(multiple).scaleb(exponent)
        if step >= raw:
            return step
    return Decimal(1).scaleb(exponent + 1)


def nice_ticks(low: Decimal, high: Decimal, target: int = 5) -> tuple[Decimal, ...]:
    """Evenly spaced nice values from <= min(low, 0) to >= max(high, 0), zero among them, about
    ``target`` steps; a range with nothing in it (an empty or all-zero ledger) is -1..1."""
    low, high = min(low, Decimal(0)), max(high, Decimal(0))
    if low == high:
        low, high = Decimal(-1), Decimal(1)
    step = nice_step(high - low, target)
    # divmod on Decimals is exact here: the integer quotient has only a few digits.
    quotient, remainder = divmod(low, step)
    first = quotient - 1 if remainder < 0 else quotient
    quotient, remainder = divmod(high, step)
    last = quotient + 1 if remainder > 0 else quotient
    return tuple(step * i for i in range(int(first), int(last) + 1))


def tick_places(step: Decimal) -> int:
    """Decimals a tick label needs: none for whole steps, else at least two (cents)."""
    exponent = step.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    return max(places, 2) if places > 0 else 0


def _day_ticks(first: date, last: date, every: int) -> Iterator[date]:
    # Weekly and fortnightly labels fall on Mondays (date.min, ordinal 1, is a Monday); shorter
    # steps start at the first day, so a short ledger's first day is always labelled.
    anchor = 1 if every % 7 == 0 else first.toordinal()
    start = first.toordinal() + (anchor - first.toordinal()) % every
    for ordinal in range(start, last.toordinal() + 1, every):
        yield date.fromordinal(ordinal)


def _month_ticks(first: date, last: date, every: int) -> Iterator[date]:
    index = first.year * 12 + first.month - 1  # months since year 0
    if first.day != 1:
        index += 1
    index += -index % every
    while index // 12 <= last.year:  # never a year past the last's (10000 is no date)
        day = date(index // 12, index % 12 + 1, 1)
        if day > last:
            return
        yield day
        index += every


def _year_ticks(first: date, last: date, every: int) -> Iterator[date]:
    year = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    year += -year % every
    for y in range(year, last.year + 1, every):
        yield date(y, 1, 1)


DAY_STEPS = (1, 2, 3, 7, 14)
MONTH_STEPS = (1, 2, 3, 6)
YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)

_Ticks = Callable[[date, date, int], Iterator[date]]
# (unit, step, ticks for that step, label, least number of days between two ticks)
_Candidate = tuple[str, int, _Ticks, Callable[[date], str], int]


def _candidates() -> Iterator[_Candidate]:
    for every in DAY_STEPS:
        yield "day", every, _day_ticks, date.isoformat, every
    for every in MONTH_STEPS:
        yield "month", every, _month_ticks, lambda d: f"{d:%Y-%m}", 28 * every
    for every in YEAR_STEPS:
        yield "year", every, _year_ticks, lambda d: f"{d:%Y}", 365 * every


def date_ticks(scale: DateScale, layout: Layout) -> tuple[str, tuple[XTick, ...]]:
    """The unit and date labels of the densest step whose labels, centred on their ticks, stay
    inside the drawing with at least ``layout.label_gap`` between neighbours."""
    first, last = scale.first, scale.last
    for unit, every, ticks, label, least_days in _candidates():
        width = layout.text_width(label(first))
        if least_days * scale.day_width < width + layout.label_gap and first != last:
            continue  # cannot fit even in the best case: skip generating the ticks
        chosen = [XTick(day, scale(day), label(day)) for day in ticks(first, last, every)]
        chosen = [t for t in chosen if _inside(t, layout)]
        if chosen and _apart(chosen, layout):
            return unit, tuple(chosen)
    only = XTick(first, scale(first), first.isoformat())  # a drawing too narrow for anything else
    return "day", (only,)


def _inside(tick: XTick, layout: Layout) -> bool:
    half = layout.text_width(tick.label) / 2
    return tick.x - half >= 0 and tick.x + half <= layout.width


def _apart(ticks: Sequence[XTick], layout: Layout) -> bool:
    w, gap = layout.text_width, layout.label_gap
    return all(b.x - a.x >= w(a.label) / 2 + w(b.label) / 2 + gap for a, b in pairwise(ticks))


def step_vertices(points: Sequence[Point]) -> tuple[tuple[float, float], ...]:
    """The step line: each balance holds until the next day; vertices on a straight run (days
    without change) are left out, so 10 years of mostly quiet days stay a short path."""
    if not points:
        return ()
    vertices = [(points[0].x, points[0].y)]
    for point in points[1:]:
        y = vertices[-1][1]
        if point.y != y:
            vertices.append((point.x, y))
            vertices.append((point.x, point.y))
    if vertices[-1][0] != points[-1].x:
        vertices.append((points[-1].x, points[-1].y))
    return tuple(vertices)


def balance_chart(days: Sequence[tuple[date, Decimal]], layout: Layout | None = None) -> Chart:
    """Lay out the running balance: ``days`` are (date, closing balance) in date order."""
    layout = layout or Layout()
    balances = [balance for _, balance in days]
    height = layout.height - layout.margin_top - layout.margin_bottom
    target = max(2, int(height // layout.y_tick_spacing))
    low, high = min(balances, default=Decimal(0)), max(balances, default=Decimal(0))
    values = nice_ticks(low, high, target)
    places = tick_places(values[1] - values[0])
    labels = [for_people(value, minus=MINUS, places=places) for value in values]
    left = layout.axis_title + max(map(layout.text_width, labels)) + 8
    right, bottom = layout.width - layout.margin_right, layout.height - layout.margin_bottom
    plot = Box(left, layout.margin_top, right, bottom)
    money = MoneyScale(values[0], values[-1], plot.bottom, plot.top)
    y_ticks = tuple(YTick(v, money(v), text) for v, text in zip(values, labels, strict=True))
    zero = money(Decimal(0))
    if not days:
        return Chart(layout, plot, (), "day", y_ticks, zero, (), (), None, None, 0.0)
    scale = DateScale(days[0][0], days[-1][0], plot.left, plot.right)
    unit, x_ticks = date_ticks(scale, layout)
    points = tuple(Point(day, balance, scale(day), money(balance)) for day, balance in days)
    # min and max keep the first of equals
    lowest, highest = min(points, key=lambda p: p.balance), max(points, key=lambda p: p.balance)
    radius = min(3.5, max(1.0, scale.day_width / 3))
    steps = step_vertices(points)
    return Chart(layout, plot, x_ticks, unit, y_ticks, zero, points, steps, lowest, highest, radius)
