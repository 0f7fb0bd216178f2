"""Bad input gets a clear one-line error naming page, record and field; never a wrong balance."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

import benchtest
from benchtest import BenchtestError, DataError
from benchtest.transactions import _PLAIN_AMOUNT, Record, _amounts
from tests.support import make_pages, record, settings

GOOD = [record(amount=f"-{n}.25") for n in range(1, 7)]  # 3 pages of 2


def pages_with(bad: dict, at: int = 3) -> dict[int, bytes]:
    """The good ledger with record ``at`` (page 2, index 1) replaced by ``bad``."""
    records = list(GOOD)
    records[at] = bad
    return make_pages(records, per_page=2)


BAD_RECORDS = [
    ("nan", record(amount="NaN"), r"\.Amount: not a plain decimal amount: 'NaN'"),
    ("infinity", record(amount="Infinity"), r"\.Amount: not a plain decimal amount: 'Infinity'"),
    ("neg-inf", record(amount="-Infinity"), r"\.Amount: not a plain decimal amount"),
    ("exponent", record(amount="1e3"), r"\.Amount: not a plain decimal amount: '1e3'"),
    ("empty", record(amount=""), r"\.Amount: not a plain decimal amount: ''"),
    ("null", record(amount=None), r"\.Amount: expected a string, got null"),
    ("number", record(amount=-1.5), r"\.Amount: expected a string, got number"),
    ("words", record(amount="ten dollars"), r"\.Amount: not a plain decimal amount"),
    ("plus", record(amount="+5"), r"\.Amount: not a plain decimal amount: '\+5'"),
    ("spaces", record(amount=" 5"), r"\.Amount: not a plain decimal amount"),
    ("underscore", record(amount="1_000"), r"\.Amount: not a plain decimal amount"),
    ("comma", record(amount="1,000.00"), r"\.Amount: not a plain decimal amount"),
    ("feb-30", record(date="2013-02-30"), r"\.Date: not an ISO date \(YYYY-MM-DD\): '2013-02-30'"),
    ("us-date", record(date="12/22/2013"), r"\.Date: not an ISO date"),
    ("compact-date", record(date="20131222"), r"\.Date: not an ISO date"),
    ("datetime", record(date="2013-12-22T00:00:00"), r"\.Date: not an ISO date"),
    ("date-number", record(date=20131222), r"\.Date: expected a string, got number"),
    ("ledger-null", record(Ledger=None), r"\.Ledger: expected a string, got null"),
    ("company-list", record(Company=["A"]), r"\.Company: expected a string, got list"),
    ("not-object", "a string", r": expected an object, got string"),
]


@pytest.mark.parametrize(
    ("bad", "message"), [case[1:] for case in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS]
)
def test_bad_records_are_rejected_with_page_record_and_field(serve, bad, message):
    server = serve(pages_with(bad))
    with pytest.raises(DataError, match=r"^page 2: transactions\[1\]" + message):
        benchtest.run(settings(server.url))


@pytest.mark.parametrize("field", ["Date", "Ledger", "Amount", "Company"])
def test_missing_fields_are_named(serve, field):
    bad = record()
    del bad[field]
    server = serve(pages_with(bad))
    with pytest.raises(DataError, match=rf"^page 2: transactions\[1\]\.{field}: missing field$"):
        benchtest.run(settings(server.url))


def page_doc(**changes) -> bytes:
    doc = {"totalCount": 6, "page": 2, "transactions": GOOD[2:4]}
    doc.update(changes)
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


BAD_PAGES = [
    (
        "html",
        b"<!DOCTYPE html><html>Bad Gateway</html>",
        r"response is not JSON \(it starts with '<!DOCTYPE",
    ),
    ("truncated-json", page_doc()[:-20], r"invalid or truncated JSON"),
    ("empty-body", b"", r"empty response body, expected JSON"),
    (
        "bare-nan",
        b'{"totalCount": 6, "page": 2, "transactions": [], "x": NaN}',
        r"invalid JSON: NaN is not allowed",
    ),
    ("list", b"[]", r"expected a JSON object, got list"),
    (
        "transactions-object",
        page_doc(transactions={}),
        r"transactions: expected a list, got object",
    ),
    ("transactions-missing", page_doc(transactions=...), r"transactions: missing field"),
    ("wrong-page", page_doc(page=3), r"page: the server answered with page 3"),
    ("page-missing", page_doc(page=...), r"page: missing field"),
    ("page-string", page_doc(page="2"), r"page: expected an integer, got string"),
    ("count-differs", page_doc(totalCount=7), r"totalCount: is 7, page 1 said 6"),
    ("count-negative", page_doc(totalCount=-1), r"totalCount: expected a count >= 0, got -1"),
    ("count-string", page_doc(totalCount="6"), r"totalCount: expected a count >= 0, got '6'"),
]


@pytest.mark.parametrize(
    ("body", "message"), [c[1:] for c in BAD_PAGES], ids=[c[0] for c in BAD_PAGES]
)
def test_bad_pages_are_rejected_naming_the_page(serve, body, message):
    pages = make_pages(GOOD, per_page=2)
    pages[2] = body
    server = serve(pages)
    with pytest.raises(DataError, match=r"^page 2: " + message):
        benchtest.run(settings(server.url))


def test_total_count_that_does_not_add_up_fails(serve):
    pages = make_pages(GOOD, per_page=2)
    pages[3] = json.dumps({"totalCount": 6, "page": 3, "transactions": GOOD[4:5]}).encode()
    server = serve(pages)
    with pytest.raises(DataError, match=r"^totalCount is 6 but 3 pages held 5 transactions$"):
        benchtest.run(settings(server.url))


def test_total_count_without_transactions_fails(serve):
    server = serve({1: json.dumps({"totalCount": 6, "page": 1, "transactions": []}).encode()})
    with pytest.raises(DataError, match=r"^page 1: no transactions, but totalCount is 6$"):
        benchtest.run(settings(server.url))


def test_large_amounts_sum_exactly_beyond_default_decimal_precision(serve):
    huge = "9" * 30 + "." + "9" * 30
    server = serve(make_pages([record(amount=huge)] * 3, per_page=3))
    report = benchtest.run(settings(server.url)).report.to_dict()
    assert report["total_balance"] == "2" + "9" * 30 + "." + "9" * 29 + "7"


def test_every_error_message_is_one_line(serve):
    for _, bad, _ in BAD_RECORDS:
        server = serve(pages_with(bad))
        with pytest.raises(BenchtestError) as caught:
            benchtest.run(settings(server.url))
        assert "\n" not in str(caught.value)


@settings_(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.-+eE_ \n\t٣", max_size=8))
def test_bulk_and_per_record_amount_checks_agree(text):
    """The column check (whitelist, then Decimal) accepts exactly the plain decimals that the
    per-record check, which names a bad amount, accepts: it never lets one through or blames
    nothing."""
    records = [Record(date(2024, 1, 2), "", "1.00", "X"), Record(date(2024, 1, 2), "", text, "X")]
    try:
        _amounts(1, records)
        bulk_ok = True
    except DataError:
        bulk_ok = False
    assert bulk_ok == (_PLAIN_AMOUNT.fullmatch(text) is not None)
