"""Per-date fingerprints: exactly "seen before", whichever dates are compacted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from benchtest.duplicates import Fingerprints, by_date

BATCHES = st.lists(
    st.tuples(st.sampled_from(["d1", "d2", "d3", "d4"]), st.lists(st.integers(-5, 5), max_size=6)),
    max_size=30,
)


@given(BATCHES, st.integers(0, 8))
def test_repeats_are_exactly_those_seen_before_whatever_is_compacted(batches, open_prints):
    prints = Fingerprints(open_prints)
    reference: dict[str, set[int]] = {}
    for day, batch in batches:
        seen = reference.setdefault(day, set())
        expected = []
        for position, fingerprint in enumerate(batch):
            if fingerprint in seen:
                expected.append(position)
            seen.add(fingerprint)
        assert prints.add(day, batch) == expected
    assert len(prints) == sum(map(len, reference.values()))


def test_dates_group_positions_and_a_single_date_is_one_range():
    assert by_date(["a", "a", "a"]) == [("a", range(3))]
    assert by_date(["a", "b", "a"]) == [("a", [0, 2]), ("b", [1])]
    assert by_date([]) == []
