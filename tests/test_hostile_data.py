"""Hostile pages, settings and output: one clear line, a non-zero exit, nothing on stdout, in
bounded time and memory; or an exact result (issue 9, classes 2, 3, 4, 7).

Pages are served by the loopback ledger server and run through the CLI's `main`, so what is
checked is what a user sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from decimal import Decimal

import pytest

import benchtest
from benchtest.cli import main
from benchtest.money import EXACT, MAX_AMOUNT_DIGITS
from benchtest.settings import BY_NAME
from benchtest.text import for_terminal, quoted
from benchtest.transactions import MAX_PAGE_RECORDS
from tests.support import ROOT, make_pages, on_terminal, record, settings

SECONDS = 20  # each hostile page is refused well within this, on a slow machine too


def body(transactions: str, total: int = 1) -> bytes:
    """A page 1 whose ``transactions`` value is the raw JSON text given."""
    return b'{"page":1,"totalCount":%d,"transactions":%s}' % (total, transactions.encode())


def page_of(*records: dict) -> bytes:
    return make_pages(list(records), per_page=len(records))[1]


def raw_record(**fields: str) -> str:
    """A record's JSON text, fields written as given (escapes, repeats and all)."""
    base = {"Date": '"2024-01-02"', "Ledger": '"L"', "Amount": '"1.00"', "Company": '"ACME"'}
    base.update(fields)
    return "{" + ",".join(f'"{k}":{v}' for k, v in base.items()) + "}"


HOSTILE = [
    (
        "deep-json",
        body("[" * 100_000 + "]" * 100_000),
        r"page 1: JSON nested deeper than \d+ levels",
    ),
    (
        "15-MB-of-empty-objects",
        body("[" + ",".join(["{}"] * 5_000_000) + "]", 5_000_000),
        r"page 1: too many JSON values \(10,000,00\d separators; a page may hold at most "
        r"100,000 transactions\)",
    ),
    (
        "too-many-records",
        body("[" + ",".join(["{}"] * (MAX_PAGE_RECORDS + 1)) + "]", MAX_PAGE_RECORDS + 1),
        r"page 1: transactions: 100,001 transactions, more than the limit of 100,000 a page",
    ),
    (
        "long-company",
        page_of(record(Company="A " * 120_000)),
        r"page 1: transactions\[0\]\.Company: 240,000 characters, more than the limit of 1,000",
    ),
    (
        "long-ledger",
        page_of(record(), record(Ledger="L" * 201)),
        r"page 1: transactions\[1\]\.Ledger: 201 characters, more than the limit of 200",
    ),
    (
        "amount-digits",
        page_of(record(amount="1" * 31 + "." + "1" * 30)),
        r"page 1: transactions\[0\]\.Amount: 61 digits, more than the limit of 60",
    ),
    (
        "long-bad-amount-is-quoted-short",
        page_of(record(amount="9" * 5_000 + "x")),
        r"page 1: transactions\[0\]\.Amount: not a plain decimal amount: '9{59}…'",
    ),
    (
        "lone-surrogate-in-company",
        body("[" + raw_record(Company=r'"AC\ud800ME"') + "]"),
        r"page 1: transactions\[0\]\.Company: not valid Unicode: a lone surrogate at character 2",
    ),
    (
        "lone-surrogate-in-ledger",
        body("[" + raw_record() + "," + raw_record(Ledger=r'"\uDFFF"') + "]", 2),
        r"page 1: transactions\[1\]\.Ledger: not valid Unicode: a lone surrogate at character 0",
    ),
    (
        "duplicate-key-in-a-record",
        body("[" + raw_record() + "," + raw_record(Amount='"-5.00","Amount":"1.00"') + "]", 2),
        r"page 1: transactions\[1\]\.Amount: appears twice in the record",
    ),
    (
        "duplicate-key-in-the-page",
        b'{"page":1,"totalCount":1,"totalCount":1,"transactions":[' + raw_record().encode() + b"]}",
        r"page 1: key 'totalCount' appears twice",
    ),
    (
        "escape-sequences-in-an-extra-key",
        body("[" + raw_record() + "," + raw_record(**{"\\u001b]0;owned\\u0007": '"1"'}) + "]", 2),
        None,  # not an error: keys other than the four fields are ignored
    ),
    (
        "escape-sequences-in-a-duplicate-key",
        body("[" + raw_record(**{"\\u001b[2J": '"1","\\u001b[2J":"2"'}) + "]"),
        r"page 1: transactions\[0\]\.\\x1b\[2J: appears twice in the record",
    ),
    (
        "centuries-of-days",
        page_of(record(date="0001-01-01"), record(date="9999-12-31")),
        r"page 1: the dates span 3,652,059 days \(0001-01-01 on page 1 to 9999-12-31 on page 1\), "
        r"more than the 3,660 days a report lists; use --active-days-only to list only days "
        r"with transactions, or raise --max-days",
    ),
]


@pytest.mark.parametrize(
    ("page", "message"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE]
)
def test_a_hostile_page_is_one_line_naming_page_record_and_field(serve, capsys, page, message):
    server = serve({1: page})
    started = time.monotonic()
    # Concurrency 1: the whole 16 MiB page cap, so the decoder's own limits are what answer.
    code = main(["--url", server.url, "--format", "json", "--retries", "0", "--concurrency", "1"])
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    assert seconds < SECONDS
    if message is None:
        assert code == 0
        assert json.loads(out)["transaction_count"] == 2
        return
    assert (code, out) == (1, "")
    assert re.fullmatch(f"benchtest: error: {message}\n", err), err
    assert "\x1b" not in err


def test_the_page_that_widens_the_span_is_named_with_both_ends(serve, capsys):
    pages = make_pages([record(date="2020-01-01"), record(date="2031-01-01")], per_page=1)
    code = main(["--url", serve(pages).url, "--concurrency", "1"])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("benchtest: error: page 2: the dates span 4,019 days (2020-01-01 on page")


def test_a_long_span_is_reported_with_active_days_only(serve):
    pages = make_pages([record(date="0001-01-01"), record(date="9999-12-31")], per_page=2)
    report = benchtest.run(settings(serve(pages).url, active_days_only=True)).report.to_dict()
    assert [day["date"] for day in report["daily_balances"]] == ["0001-01-01", "9999-12-31"]


def test_a_span_of_exactly_max_days_is_filled(serve):
    pages = make_pages([record(date="2020-01-01"), record(date="2020-01-10")], per_page=2)
    report = benchtest.run(settings(serve(pages).url, max_days=10)).report.to_dict()
    assert len(report["daily_balances"]) == 10


def test_text_at_the_limits_is_accepted_exactly(serve):
    biggest = "9" * 30 + "." + "9" * 30
    records = [
        record(amount=biggest, Company="C" * 1_000, Ledger="L" * 200),
        record(amount="-" + biggest, Company="ACME: VANCOUVER", Ledger="Travel: Air"),
        record(amount="." + "0" * 59 + "1"),
    ]
    report = benchtest.run(settings(serve(make_pages(records, per_page=3)).url)).report.to_dict()
    assert report["total_balance"] == "0." + "0" * 59 + "1"


@pytest.mark.parametrize(
    "text",
    [
        raw_record(Company='"A:B:C"', Ledger='"x:y"'),  # colons in values
        raw_record(Company='"A\\u003aB"'),  # a colon escaped, so not seen as a byte
        raw_record(Note='{"a:b": 1}'),  # extra keys, nested
    ],
    ids=["colons-in-values", "escaped-colon", "extra-nested-keys"],
)
def test_colons_that_are_not_duplicate_keys_are_accepted(serve, text):
    report = benchtest.run(settings(serve({1: body(f"[{text}]")}).url)).report.to_dict()
    assert report["total_balance"] == "1.00"


def test_the_exact_context_holds_the_largest_possible_sum():
    max_pages = BY_NAME["max_pages"].bounds
    assert max_pages is not None
    count = Decimal(int(max_pages[1]) * MAX_PAGE_RECORDS)
    widest = Decimal("9" * MAX_AMOUNT_DIGITS)  # the largest integer part
    finest = Decimal("." + "0" * (MAX_AMOUNT_DIGITS - 1) + "1")  # the most decimal places
    total = EXACT.add(EXACT.multiply(count, widest), finest)  # raises if it had to round
    assert len(total.as_tuple().digits) == EXACT.prec - 1


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
        ("\x1b[2K\rTotal: 0.00", "\\x1b[2K\\rTotal: 0.00"),
        ("A\u202eCBA\u2066", "A\\u202eCBA\\u2066"),
        ("tab\there\nnew\x7fdel\x9bcsi", "tab\\there\\nnew\\x7fdel\\x9bcsi"),
        ("Caf\u00e9 \u00a0 \u4e2d", "Caf\u00e9 \u00a0 \u4e2d"),  # printable text is kept
    ],
)
def test_for_terminal_shows_controls_as_visible_escapes(text, shown):
    assert for_terminal(text) == shown


def test_quoted_text_is_cut_short_and_escaped():
    assert quoted("\x1b" + "x" * 500) == repr("\x1b" + "x" * 58 + "…")


# Output: as a user's shell runs it.


def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    full_env.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


BENCHTEST = f"{sys.executable} -m benchtest"


@pytest.fixture
def long_report_url(serve):
    """A ledger whose JSON report (3,600 days, ~300 KB) is far larger than a pipe's buffer."""
    return serve(make_pages([record(date="2020-01-01"), record(date="2029-11-09")], 2)).url


@pytest.mark.parametrize(
    ("reader", "codes"),
    [
        ("true", {141}),  # gone before the first write: EPIPE for certain
        ("head -1", {0, 141}),  # 0 when the report fit in the pipe before head left
    ],
)
def test_a_reader_that_stops_early_ends_the_run_quietly(long_report_url, reader, codes):
    done = shell(f"{BENCHTEST} -q --format json --url '{long_report_url}' | {reader}")
    assert done.stderr == ""
    assert done.returncode in codes


def test_a_full_disk_is_one_line_and_exit_1(long_report_url):
    done = shell(f"{BENCHTEST} -q --format csv --url '{long_report_url}' >/dev/full")
    assert done.stderr == "benchtest: error: cannot write the report: No space left on device\n"
    assert done.returncode == 1


def test_a_closed_stdout_is_one_line_and_exit_1():
    done = shell(f"{BENCHTEST} -q >&-")
    assert done.stderr == "benchtest: error: cannot write the report: Bad file descriptor\n"
    assert done.returncode == 1


def test_an_error_on_a_terminal_starts_on_its_own_line(serve, tmp_path):
    pages = make_pages([record(), record(amount="NaN")], per_page=1, total=3)
    url = serve(pages).url
    done, shown = on_terminal(["--url", url, "--concurrency", "1", "--retries", "0"], tmp_path)
    assert done.returncode == 1
    assert done.stdout == b""
    last = shown.replace("\r\n", "\n").split("\n")[-2]
    assert last.startswith("benchtest: error: page 2: transactions[0].Amount: not a plain"), shown
    assert "\rfetched 1 pages\nbenchtest: error: page 2:" in shown.replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("company", "shown"),
    [
        ("\x1b]0;pwned\x07ACME", "\\x1b]0;pwned\\x07ACME"),
        ("\x1b[2K\x1b[1ATotal balance: 0.00", "\\x1b[2K\\x1b[1ATotal balance: 0.00"),
        ("EVIL\rTotal balance: 0.00", "EVIL Total balance: 0.00"),  # vendor names fold spaces
    ],
)
def test_escape_sequences_reach_the_table_only_as_visible_text(serve, capsys, company, shown):
    """A Company cannot move the cursor, clear a line or retitle the terminal."""
    pages = make_pages(
        [record(amount="-1.00", Company=company), record(amount="-1.00", Company=company)], 10
    )
    server = serve(pages)
    assert main(["--url", server.url, "--format", "table", "-q"]) == 0
    out = capsys.readouterr().out
    assert not {"\x1b", "\r", "\x07"} & set(out)
    assert shown in out
    assert "Total balance: -2.00" in out.splitlines()
