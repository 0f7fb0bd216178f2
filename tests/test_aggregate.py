"""Properties of the aggregation (hypothesis): totals agree however the pages arrive."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from benchtest.aggregate import Aggregator
from benchtest.transactions import decode_page

amounts = st.decimals(
    min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2, allow_nan=False
)
records = st.lists(
    st.fixed_dictionaries(
        {
            "Date": st.dates(date(2013, 1, 1), date(2014, 12, 31)).map(date.isoformat),
            "Ledger": st.sampled_from(["", "Office Expense", "Travel Expense, Nonlocal"]),
            "Amount": amounts.map(str),
            "Company": st.sampled_from(["ACME VANCOUVER BC", "DROPBOX xxxxxx8396 CA"]),
        }
    ),
    max_size=60,
)


RECORD = {"Date": "2024-01-02", "Ledger": "", "Amount": "1.00", "Company": "C"}


def pages_of(items, per_page):
    count = len(items)
    chunks = [items[i : i + per_page] for i in range(0, count, per_page)] or [[]]
    shown = [json.dumps(c, sort_keys=True) for c in chunks if len(c) > 1]
    assume(len(set(shown)) == len(shown))  # pages alike are a loop (tests/test_duplicates.py)
    bodies = [
        (n, json.dumps({"totalCount": count, "page": n, "transactions": c}).encode())
        for n, c in enumerate(chunks, start=1)
    ]
    return [(decode_page(n, body), body) for n, body in bodies]


def aggregate(pages, **options):
    aggregator = Aggregator(decode_page)
    for page, body in pages:
        aggregator.add(page, body)
    try:
        return aggregator.report(
            "test",
            generated_at=datetime(2026, 1, 1, tzinfo=UTC),
            **{"detail_limit": 10_000, **options},
        )
    finally:
        aggregator.close()


@settings(max_examples=150, deadline=None)
@given(items=records, per_page=st.integers(1, 12), data=st.data())
def test_daily_changes_sum_to_the_total_whatever_the_page_order(items, per_page, data):
    pages = pages_of(items, per_page)
    order = data.draw(st.permutations(pages))
    report = aggregate(order)
    expected = sum((Decimal(r["Amount"]) for r in items), Decimal(0))
    assert report.total_balance == expected
    days = report.daily_balances
    assert sum((d.change for d in days), Decimal(0)) == expected
    if days:
        assert days[-1].balance == expected
        assert [d.date for d in days] == [
            days[0].date + timedelta(days=n) for n in range(len(days))
        ]
    assert sum(c.total for c in report.categories) == expected
    assert sum(d.count for d in days) == len(items)
    assert aggregate(pages) == report


@settings(max_examples=100, deadline=None)
@given(items=records, per_page=st.integers(1, 12))
def test_excluding_duplicates_removes_exactly_their_extra_occurrences(items, per_page):
    pages = pages_of(items, per_page)
    kept = aggregate(pages, exclude_duplicates=True)
    unique = {(r["Date"], r["Ledger"], r["Amount"], r["Company"]) for r in items}
    assert kept.total_balance == sum((Decimal(key[2]) for key in unique), Decimal(0))
    assert sum(c.count for c in kept.categories) == len(unique)
    listed = [t for c in kept.categories for t in c.transactions or []]
    assert len(listed) == len(unique)
    everything = aggregate(pages)
    assert everything.total_balance - kept.total_balance == everything.duplicate_total


def test_a_page_whose_amounts_do_not_match_its_records_is_never_summed_short():
    """The decoder gives one amount per record; were it ever not to, the sums would silently
    miss amounts (zip stops at the shorter): the aggregation refuses instead."""
    body = json.dumps({"page": 1, "transactions": [RECORD, {**RECORD, "Amount": "2.00"}]}).encode()
    page = decode_page(1, body)
    page.amounts.pop()
    aggregator = Aggregator(decode_page)
    with pytest.raises(ValueError, match="zip"):
        aggregator.add(page, body)
    aggregator.close()


def test_a_report_not_asked_to_count_what_was_left_out_has_no_such_count():
    report = aggregate(pages_of([RECORD], 1))
    assert report.left_out is None
    assert aggregate(pages_of([RECORD], 1), left_out=True).left_out is not None
