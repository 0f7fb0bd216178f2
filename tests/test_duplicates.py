"""Possible duplicates are exactly the records seen more than once: whatever the page order,
however the fingerprints are split into value ranges, and even when fingerprints collide."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from benchtest import DataError, duplicates
from benchtest.duplicates import Pages
from benchtest.transactions import Page, decode_page
from tests.support import make_pages

ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "Date": st.sampled_from(["2024-01-01", "2024-01-02"]),
            "Ledger": st.sampled_from(["", "A"]),
            "Amount": st.sampled_from(["1.00", "1.0", "-2.50"]),
            "Company": st.sampled_from(["X", "Y"]),
        }
    ),
    max_size=40,
)


def expected(rows: list[dict[str, str]]) -> list[tuple[tuple[str, ...], int]]:
    """Each repeated row and its count, in the order of first occurrence."""
    counts = Counter((row["Date"], row["Ledger"], row["Amount"], row["Company"]) for row in rows)
    return [(key, count) for key, count in counts.items() if count > 1]


def found(pages: Pages) -> list[tuple[tuple[str, ...], int]]:
    return [
        ((r.date.isoformat(), r.category, r.amount, r.company), count)
        for r, count in pages.repeats().items()
    ]


@given(ROWS, st.integers(1, 7), st.randoms(), st.sampled_from([1, 2, 5, 1 << 16]))
def test_repeats_are_exactly_the_records_seen_twice_in_any_order(rows, per_page, rng, limit):
    chunks = [
        tuple(tuple(sorted(row.items())) for row in rows[k : k + per_page])
        for k in range(0, len(rows), per_page)
    ]
    assume(per_page == 1 or len(set(chunks)) == len(chunks))  # pages alike are a loop (below)
    bodies = make_pages(rows, per_page)
    order = list(bodies)
    rng.shuffle(order)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duplicates, "RANGE_PRINTS", limit)  # many value ranges, or one
        pages = Pages(decode_page)
        for number in order:
            pages.add(decode_page(number, bodies[number]), bodies[number])
        assert found(pages) == expected(rows)
        listed = [(n, i) for n, i, _ in pages.records()]
        assert listed == [(p // per_page + 1, p % per_page) for p in range(len(rows))]
        pages.close()


@dataclass(frozen=True)
class Colliding:
    """A record whose fingerprint is the same for every value: only equality tells them apart."""

    text: str

    def __hash__(self) -> int:
        return 42


def colliding_decode(number: int, body: bytes) -> Page:
    texts = json.loads(body)
    records: list[Any] = [Colliding(t) for t in texts]
    return Page(number, None, records, [Decimal(0)] * len(texts))


def test_pages_read_back_from_a_pages_file_give_the_same_repeats_and_listing():
    """With ``bodies`` (a kept pages file), nothing is spooled; pages are read back from it."""
    rows = [
        {"Date": "2024-01-02", "Ledger": "", "Amount": str(n % 3), "Company": "C"} for n in range(7)
    ]
    bodies = make_pages(rows, per_page=2)
    spooled, kept = Pages(decode_page), Pages(decode_page, bodies.__getitem__)
    for pages in (spooled, kept):
        for number, body in bodies.items():
            pages.add(decode_page(number, body), body)
    assert kept._spool.tell() == 0  # type: ignore[attr-defined]  # no second copy
    assert kept.repeats() == spooled.repeats() != {}
    assert list(kept.records()) == list(spooled.records())
    with pytest.raises(DataError, match=r"^page 5: the same records as page 1: the pages loop$"):
        kept.add(decode_page(5, bodies[1].replace(b'"page": 1', b'"page": 5')), bodies[1])
    spooled.close()
    kept.close()


def test_a_fingerprint_collision_is_never_reported_as_a_duplicate():
    bodies = {1: b'["a", "b"]', 2: b'["c", "a"]', 3: b'["d"]'}
    pages = Pages(colliding_decode)
    for number, body in bodies.items():
        pages.add(colliding_decode(number, body), body)
    assert pages.repeats() == {Colliding("a"): 2}
    pages.close()


def test_a_page_of_the_same_records_in_the_same_order_as_another_is_a_loop():
    """Whatever its URL (a cursor spelled 2 then 02): one digest per page, then the records."""
    rows = [
        {"Date": "2024-01-02", "Ledger": "", "Amount": f"{n}.00", "Company": "C"} for n in (1, 2)
    ]
    bodies = make_pages(rows * 2, per_page=2)
    pages = Pages(decode_page)
    pages.add(decode_page(1, bodies[1]), bodies[1])
    with pytest.raises(DataError, match=r"^page 2: the same records as page 1: the pages loop$"):
        pages.add(decode_page(2, bodies[2]), bodies[2])
    reordered = make_pages([*rows, *reversed(rows), *reversed(rows)], per_page=2)  # no loop yet
    pages.add(decode_page(2, reordered[2]), reordered[2])
    assert len(pages.repeats()) == 2
    with pytest.raises(DataError, match=r"^page 3: the same records as page 2: the pages loop$"):
        pages.add(decode_page(3, reordered[3]), reordered[3])  # any earlier page, not only 1
    pages.close()


def test_pages_past_the_spool_memory_go_to_disk_and_come_back(monkeypatch):
    monkeypatch.setattr(duplicates, "SPOOL_MEMORY", 100)
    rows = [
        {"Date": "2024-01-02", "Ledger": "L", "Amount": f"{n}.00", "Company": "C"}
        for n in range(30)
    ]
    bodies = make_pages([*rows, rows[0]], per_page=4)
    pages = Pages(decode_page)
    for number, body in bodies.items():
        pages.add(decode_page(number, body), body)
    assert pages._spool._rolled  # type: ignore[attr-defined]  # the spool is a real file now
    assert [r.amount for _, _, r in pages.records()][-2:] == ["29.00", "0.00"]
    assert pages.repeats() == {next(r for _, _, r in pages.records()): 2}
    pages.close()


def test_a_spool_that_cannot_be_written_is_one_line_naming_the_page(monkeypatch):
    class Full:
        def tell(self) -> int:
            return 0

        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

    pages = Pages(decode_page)
    monkeypatch.setattr(pages, "_spool", Full())
    body = make_pages([{"Date": "2024-01-02", "Ledger": "", "Amount": "1", "Company": "C"}], 1)[1]
    with pytest.raises(
        duplicates.StorageError,
        match=r"^page 1: cannot keep the page for the duplicate check: No space left on device "
        r"\(the spool is in TMPDIR; it needs about the size of the ledger's pages\)$",
    ):
        pages.add(decode_page(1, body), body)


def test_the_spool_is_bounded(monkeypatch):
    rows = [{"Date": "2024-01-02", "Ledger": "", "Amount": "1", "Company": "C"}] * 4
    bodies = make_pages(rows, per_page=1)
    bound = len(bodies[1]) + len(bodies[2])  # two pages fill it exactly
    monkeypatch.setattr(duplicates, "MAX_SPOOL_BYTES", bound)
    pages = Pages(decode_page)
    for number in (1, 2):
        pages.add(decode_page(number, bodies[number]), bodies[number])
    message = f"^page 3: the pages so far exceed the {bound:,} bytes kept for the duplicate check$"
    with pytest.raises(duplicates.StorageError, match=message):
        pages.add(decode_page(3, bodies[3]), bodies[3])
    pages.close()


def test_counts_of_one_date_for_everything_stay_exact():
    rows = [
        {"Date": "2024-01-02", "Ledger": "", "Amount": "1.00", "Company": f"C{n % 5}"}
        for n in range(200)
    ]
    bodies = make_pages(rows, per_page=41)  # no two pages alike: that would be a loop
    pages = Pages(decode_page)
    for number, body in bodies.items():
        pages.add(decode_page(number, body), body)
    counts = Counter({r.company: count for r, count in pages.repeats().items()})
    assert counts == {f"C{k}": 40 for k in range(5)}
    assert all(r.date == date(2024, 1, 2) for r in pages.repeats())
    pages.close()
