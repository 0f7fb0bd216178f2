"""Possible duplicates: rows seen before, found in memory that stays small as dates go by.

Two rows can only be identical if they share a date, so fingerprints are kept per date. A
ledger arrives roughly in date order, so most dates stop appearing after a few pages: the dates
used most recently keep a set (fast to update), up to `OPEN_PRINTS` fingerprints in all
(~1.2 MB); the others are compacted into a sorted ``array('q')``, 8 bytes a fingerprint instead
of ~60 in a set (about 8 MB per million transactions; a set of a million ints alone is ~77 MB).
A date that comes back after it was compacted still finds its earlier fingerprints there
(binary search), so the answer does not depend on the order pages arrive in: it is exactly
"seen before", never a guess. (A ledger in random date order reopens dates often; it stays
exact, only slower.)

What is exact and what is not: the answer is exact *for the fingerprints*. A fingerprint is
Python's 64-bit ``hash`` of the row as served (Date, Ledger, Amount, Company), so two
different rows of one date could share one with odds of about n^2 / 2^65 for n rows that date
(for 10 million rows on one date, about 1 in 370,000); such a pair would be reported as a
possible duplicate. Keeping every row to compare instead would grow with the ledger.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Sequence

OPEN_PRINTS = 20_000


class Fingerprints:
    """The fingerprints seen so far, per date; `add` answers which ones repeat."""

    def __init__(self, open_prints: int = OPEN_PRINTS) -> None:
        self._open: dict[str, set[int]] = {}  # least recently used first
        self._closed: dict[str, array[int]] = {}
        self._limit = open_prints
        self._held = 0  # fingerprints in open sets, as of the last `add`

    def __len__(self) -> int:
        return sum(map(len, self._open.values())) + sum(map(len, self._closed.values()))

    def add(self, day: str, prints: Sequence[int]) -> list[int]:
        """Add one date's ``prints``; return the positions of those seen before, in an earlier
        call or earlier in ``prints``."""
        seen = self._open.pop(day, None)
        if seen is None:
            seen = set()
        else:
            self._held -= len(seen)
        while self._open and self._held + len(seen) + len(prints) > self._limit:
            self._close(next(iter(self._open)))
        self._open[day] = seen
        try:
            return self._add(day, seen, prints)
        finally:
            self._held += len(seen)

    def _add(self, day: str, seen: set[int], prints: Sequence[int]) -> list[int]:
        closed = self._closed.get(day)
        if closed is None and seen.isdisjoint(prints):
            before = len(seen)
            seen.update(prints)
            if len(seen) - before == len(prints):
                return []
            return _repeats_within(prints)
        repeats = []
        for position, fingerprint in enumerate(prints):
            if fingerprint in seen or (closed is not None and _holds(closed, fingerprint)):
                repeats.append(position)
            else:
                seen.add(fingerprint)
        return repeats

    def _close(self, day: str) -> None:
        seen = self._open.pop(day)
        self._held -= len(seen)
        earlier = self._closed.get(day)
        merged = seen if earlier is None else seen.union(earlier)
        self._closed[day] = array("q", sorted(merged))


def _repeats_within(prints: Sequence[int]) -> list[int]:
    here: set[int] = set()
    repeats = []
    for position, fingerprint in enumerate(prints):
        if fingerprint in here:
            repeats.append(position)
        here.add(fingerprint)
    return repeats


def _holds(ordered: array[int], fingerprint: int) -> bool:
    at = bisect_left(ordered, fingerprint)
    return at < len(ordered) and ordered[at] == fingerprint


def by_date(dates: Sequence[str]) -> list[tuple[str, list[int] | range]]:
    """The positions of each date in ``dates``: one range when the page holds a single date."""
    if not dates:
        return []
    first = dates[0]
    if dates[-1] == first and dates.count(first) == len(dates):
        return [(first, range(len(dates)))]
    groups: dict[str, list[int]] = {}
    for position, day in enumerate(dates):
        groups.setdefault(day, []).append(position)
    return list(groups.items())
