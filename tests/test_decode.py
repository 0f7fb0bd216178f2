"""The msgspec fast path and the json slow path give the same page or the same error.

`decode_page` may only ever answer "the same page as the slow path" or "ask the slow path"; every
bad page of test_validation.py and test_hostile_data.py, and a set of good and odd ones, is run
through both paths here and the results compared.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from benchtest import DataError
from benchtest.decode import decode_page
from benchtest.transactions import Page, parse_page
from tests.support import make_pages, record
from tests.test_hostile_data import HOSTILE, raw_record
from tests.test_validation import BAD_PAGES, BAD_RECORDS, GOOD, pages_with


def slow(number: int, body: bytes) -> Page | str:
    try:
        return parse_page(number, body, fast=False)
    except DataError as exc:
        return str(exc)


def either(number: int, body: bytes) -> Page | str:
    try:
        return parse_page(number, body)
    except DataError as exc:
        return str(exc)


def assert_same(number: int, body: bytes) -> Page | None:
    """Both paths agree on ``body``; the fast path's answer."""
    fast = decode_page(number, body)
    expected = slow(number, body)
    if fast is not None:
        assert fast == expected
    assert either(number, body) == expected
    return fast


ODD_GOOD = {
    "plain": make_pages(GOOD, per_page=2)[2],
    "no-total": make_pages(GOOD, per_page=2, total=None)[2],
    "null-total": b'{"page":2,"totalCount":null,"transactions":[]}',
    "empty": b'{"page":2,"totalCount":0,"transactions":[]}',
    "spaces": b' {\n "page" : 2 ,\t"transactions" : [ ] }\r\n',
    "extra-page-key": b'{"page":2,"next":null,"transactions":[]}',
    "extra-record-key": b'{"page":2,"transactions":[' + raw_record(Memo='"x"').encode() + b"]}",
    "colons-in-text": make_pages([record(Company="A:B::C", Ledger=":")], per_page=1)[1].replace(
        b'"page": 1', b'"page": 2'
    ),
    "escaped-colon": b'{"page":2,"transactions":['
    + raw_record(Company='"A\\u003aB"').encode()
    + b"]}",
    "escapes": b'{"page":2,"transactions":['
    + raw_record(Company='"\\"Q\\" \\\\ \\/ \\n \\u00e9 \\ud83d\\ude00"').encode()
    + b"]}",
    "utf8": json.dumps(
        {"page": 2, "transactions": [record(Company="CAFÉ ☕ 😀")]}, ensure_ascii=False
    ).encode(),
    "bom": b"\xef\xbb\xbf" + make_pages(GOOD, per_page=2)[2],
    "utf16": make_pages(GOOD, per_page=2)[2].decode().encode("utf-16"),
    "big-total": b'{"page":2,"totalCount":123456789012345678901234567890,"transactions":[]}',
    "float-page": b'{"page":2.0,"transactions":[]}',
    "bool-page": b'{"page":true,"transactions":[]}',
    "amount-shapes": json.dumps(
        {"page": 2, "transactions": [record(amount=a) for a in ("5", "-0", ".5", "5.", "-.0")]}
    ).encode(),
    "cesu-surrogate": b'{"page":2,"transactions":['
    + raw_record(Company='"A\xed\xa0\x80"').encode("latin-1")
    + b"]}",
}


@pytest.mark.parametrize("body", ODD_GOOD.values(), ids=ODD_GOOD.keys())
def test_odd_pages_get_the_same_answer_on_both_paths(body):
    assert_same(2, body)


def test_a_plain_page_takes_the_fast_path():
    assert assert_same(2, ODD_GOOD["plain"]) is not None


@pytest.mark.parametrize(
    ("bad", "_"), [c[1:] for c in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS]
)
def test_bad_records_get_the_same_error_on_both_paths(bad, _):
    assert decode_page(2, pages_with(bad)[2]) is None
    assert isinstance(assert_same(2, pages_with(bad)[2]), type(None))


@pytest.mark.parametrize(("body", "_"), [c[1:] for c in BAD_PAGES], ids=[c[0] for c in BAD_PAGES])
def test_bad_pages_get_the_same_error_on_both_paths(body, _):
    assert_same(2, body)


@pytest.mark.parametrize(("page", "_"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_pages_get_the_same_answer_on_both_paths(page, _):
    assert_same(1, page)


TEXT = st.text(st.characters(codec="utf-8") | st.sampled_from(':"\\\ud800'), max_size=6)
FIELD = st.one_of(TEXT, st.integers(), st.none(), st.sampled_from(["2024-01-02", "1.5", "-3"]))


@settings_(max_examples=300, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["Date", "Ledger", "Amount", "Company", "X"]), FIELD, min_size=3
        ),
        max_size=4,
    ),
    st.sampled_from([None, 0, 4, -1, "4"]),
)
def test_any_page_gets_the_same_answer_on_both_paths(records, total):
    doc = {"page": 1, "transactions": records}
    if total is not None:
        doc["totalCount"] = total
    assert_same(1, json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass"))
