"""The one decoder: odd but valid pages are accepted with the values a JSON parser reads, every
bad page is one `DataError` naming the page (and record and field), and nothing else escapes.

The bad pages of test_validation.py and test_hostile_data.py are run through `decode_page`
directly here too; there they are checked end to end through a server and the CLI.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from benchtest import DataError
from benchtest.text import for_terminal
from benchtest.transactions import Page, decode_page
from tests.support import make_pages, record
from tests.test_hostile_data import HOSTILE, raw_record
from tests.test_validation import BAD_PAGES, BAD_RECORDS, GOOD, pages_with

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
    "bom": b"\xef\xbb\xbf" + make_pages(GOOD, per_page=2)[2],  # RFC 8259: may be ignored
    "big-total": b'{"page":2,"totalCount":123456789012345678901234567890,"transactions":[]}',
    "amount-shapes": json.dumps(
        {"page": 2, "transactions": [record(amount=a) for a in ("5", "-0", ".5", "5.", "-.0")]}
    ).encode(),
}

ODD_BAD = {
    "utf16": (
        make_pages(GOOD, per_page=2)[2].decode().encode("utf-16"),
        r"^page 2: invalid JSON: not UTF-8 text",
    ),
    "float-page": (
        b'{"page":2.0,"transactions":[]}',
        r"^page 2: page: expected an integer, got number$",
    ),
    "bool-page": (
        b'{"page":true,"transactions":[]}',
        r"^page 2: page: expected an integer, got boolean$",
    ),
    "cesu-surrogate": (
        b'{"page":2,"transactions":['
        + raw_record(Company='"A\xed\xa0\x80"').encode("latin-1")
        + b"]}",
        r"^page 2: transactions\[0\]\.Company: not valid Unicode: a lone surrogate at character 1$",
    ),
    "surrogate-in-amount": (
        b'{"page":2,"transactions":[' + raw_record(Amount=r'"\udc00"').encode() + b"]}",
        r"^page 2: transactions\[0\]\.Amount: not valid Unicode: a lone surrogate at character 0$",
    ),
}


def as_served(body: bytes) -> list[dict[str, object]]:
    """The records as the standard library's JSON parser reads them (BOM removed)."""
    return json.loads(body.removeprefix(b"\xef\xbb\xbf"))["transactions"]  # type: ignore[no-any-return]


def same_values(page: Page, body: bytes) -> None:
    served = as_served(body)
    assert len(page) == len(served)
    for item, parsed, amount in zip(served, page.records, page.amounts, strict=True):
        assert parsed.date == date.fromisoformat(item["Date"])
        assert (parsed.category, parsed.amount, parsed.company) == (
            item["Ledger"],
            item["Amount"],
            item["Company"],
        )
        assert amount == Decimal(item["Amount"])


@pytest.mark.parametrize("body", ODD_GOOD.values(), ids=ODD_GOOD.keys())
def test_odd_but_valid_pages_are_read_as_a_json_parser_reads_them(body):
    same_values(decode_page(2, body), body)


@pytest.mark.parametrize(("body", "message"), ODD_BAD.values(), ids=ODD_BAD.keys())
def test_odd_bad_pages_are_refused_naming_what_is_wrong(body, message):
    with pytest.raises(DataError, match=message):
        decode_page(2, body)


@pytest.mark.parametrize(
    ("bad", "message"), [c[1:] for c in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS]
)
def test_bad_records_name_the_record_and_field(bad, message):
    with pytest.raises(DataError, match=r"^page 2: transactions\[1\]" + message):
        decode_page(2, pages_with(bad)[2])


@pytest.mark.parametrize(
    ("body", "message"),
    [c[1:] for c in BAD_PAGES if c[0] != "count-differs"],  # checked across pages, by paging
    ids=[c[0] for c in BAD_PAGES if c[0] != "count-differs"],
)
def test_bad_pages_name_the_page(body, message):
    with pytest.raises(DataError, match=r"^page 2: " + message):
        decode_page(2, body)


@pytest.mark.parametrize(
    ("page", "message"),
    [c[1:] for c in HOSTILE if c[0] != "centuries-of-days"],  # a span: checked by the aggregate
    ids=[c[0] for c in HOSTILE if c[0] != "centuries-of-days"],
)
def test_hostile_pages_are_refused_or_read_exactly(page, message):
    if message is None:
        same_values(decode_page(1, page), page)
        return
    with pytest.raises(DataError) as caught:
        decode_page(1, page)
    assert re.match(message, for_terminal(str(caught.value)))  # as the CLI shows it


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
def test_any_page_is_read_exactly_or_refused_in_one_line(records, total):
    doc: dict[str, object] = {"page": 1, "transactions": records}
    if total is not None:
        doc["totalCount"] = total
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        page = decode_page(1, body)
    except DataError as exc:
        message = str(exc)
    else:
        same_values(page, body)
        return
    assert message.startswith("page 1: ")
    assert "\n" not in message
