"""Numbers, dates and settings at their edges (issue 26, sections 2 and 4), and issue 24's new
surfaces swept with hostile values. Each case runs the CLI against a loopback server: the exact
report, or one line naming where, exit 1 (data) or 2 (settings, before any request)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from benchtest.model import decode
from tests.conftest import CliRun
from tests.ledger_server import LedgerServer
from tests.support import make_pages, record

RECORD = record(date="2024-01-02", amount="-1.00", Company="ACME")
LIMIT = sys.get_int_max_str_digits()  # Python's and msgspec's: 4,300 digits
HUGE = "9" * (LIMIT + 700)  # 5,000 digits


def body(head: str, records: str | None = None) -> bytes:
    """A page of one Bench record, ``head`` (JSON members) before its records."""
    return f'{{{head}"transactions":[{records or json.dumps(RECORD)}]}}'.encode()


def run_json(cli: Callable[..., CliRun], url: str, *args: str) -> CliRun:
    return cli("--url", url, "--format", "json", "--backoff", "0.01", "--retries", "0", *args)


def one_line(run: CliRun, code: int = 1) -> str:
    assert (run.code, run.out, len(run.err)) == (code, "", 1), run
    assert "Traceback" not in run.err[0]
    return run.err[0].removeprefix("benchtest: error: ")


# --- 2. numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [310, 400, LIMIT])
def test_a_total_of_hundreds_of_digits_is_counted_in_integers(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], digits: int
) -> None:
    total = "9" * digits
    server = serve({1: body(f'"page":1,"totalCount":{total},')})
    line = one_line(run_json(cli, server.url))
    assert line == (
        f"page 1: totalCount a {digits:,}-digit number at 1 per page needs a {digits:,}-digit "
        "number pages (the cap is 100000)"
    )


INTEGER = f"an integer of more than {LIMIT:,} digits"


@pytest.mark.parametrize(
    ("args", "page", "error"),
    [
        ([], body(f'"page":1,"totalCount":{HUGE},'), f"page 1: totalCount: {INTEGER}"),
        ([], body(f'"page":{HUGE},"totalCount":1,'), f"page 1: page: {INTEGER}"),
        ([], body(f'"page":1,"totalCount":-{HUGE},'), f"page 1: totalCount: {INTEGER}"),
        (  # a number where a string is expected: msgspec reads it as a float first
            [],
            body('"page":1,', json.dumps(RECORD).replace('"-1.00"', HUGE)),
            "page 1: transactions[0].Amount: a number beyond ±1e308",
        ),
        (
            [],
            body('"page":1,', json.dumps(RECORD).replace('"-1.00"', "1e999")),
            "page 1: transactions[0].Amount: a number beyond ±1e308",
        ),
        (  # in a field no one reads: skipped by the decoder, read by the repeated-key check
            ["--date-field", "when", "--date-form", "epoch_s", "--time-zone", "UTC"],
            body(
                '"page":1,"x":' + HUGE + ",",
                '{"when":1700000000,"Ledger":"","Amount":"1","Company":"C"}',
            ),
            None,
        ),
        (  # another error, and such a number elsewhere: the error, in our words
            [],
            body('"page":1,"x":' + HUGE + ",", json.dumps(RECORD).replace('"-1.00"', "1")),
            "page 1: transactions[0].Amount: expected a string, got number",
        ),
        (
            ["--date-field", "when", "--date-form", "epoch_s", "--time-zone", "UTC"],
            body('"page":1,', '{"when":' + HUGE + ',"Ledger":"","Amount":"1","Company":"C"}'),
            f"page 1: transactions[0].when: {INTEGER}",
        ),
        (
            ["--amount-form", "minor", "--currency", "USD"],
            body('"page":1,', json.dumps(RECORD).replace('"-1.00"', HUGE)),
            "page 1: transactions[0].Amount: 5000 digits, more than the limit of 60",
        ),
        (
            ["--paging", "cursor"],
            body('"next":' + HUGE + ","),
            f"page 1: next: {INTEGER}",
        ),
        (
            ["--paging", "cursor", "--page-end", "flag"],
            body('"next":"c2","has_more":' + HUGE + ","),
            "page 1: has_more: a number beyond ±1e308",
        ),
        (
            ["--paging", "cursor", "--page-end", "flag"],
            body('"next":"c2","has_more":[' + HUGE + "],"),
            "page 1: has_more: expected true or false, got list",
        ),
        (
            ["--paging", "last_record", "--cursor-field", "id"],
            body('"has_more":true,', json.dumps(RECORD)[:-1] + ',"id":' + HUGE + "}"),
            f"page 1: transactions[0].id: {INTEGER}",
        ),
    ],
    ids=[
        "total",
        "page-echo",
        "negative-total",
        "amount-string-form",
        "amount-1e999",
        "unread-field",
        "unread-field-and-another-error",
        "epoch",
        "minor-units",
        "cursor",
        "has-more",
        "has-more-list",
        "last-record-cursor",
    ],
)
def test_an_integer_of_more_than_4300_digits_anywhere_is_one_line(
    cli: Callable[..., CliRun],
    serve: Callable[..., LedgerServer],
    args: list[str],
    page: bytes,
    error: str | None,
) -> None:
    server = serve({1: page})
    paging = "--paging" in args
    run = run_json(cli, server.url.format(page=1) if paging else server.url, *args)
    if error is None:
        assert (run.code, run.err) == (0, [])
        assert json.loads(run.out)["total_balance"] == "1.00"
    else:
        assert one_line(run) == error


# --- 2. dates outside years 1-9999, in each date form -----------------------------------------

STAMPED = ["--date-field", "when", "--time-zone", "UTC"]


def when(value: Any) -> bytes:
    item = {"when": value, "Ledger": "", "Amount": "1", "Company": ""}
    return body('"page":1,', json.dumps(item))


OUTSIDE = "not a valid date (outside years 1-9999)"


@pytest.mark.parametrize(
    ("form", "zone", "value", "error"),
    [
        ("timestamp", "UTC", "9999-12-31T23:00:00-05:00", OUTSIDE),
        ("timestamp", "UTC", "0001-01-01T00:30:00+01:00", OUTSIDE),
        ("timestamp", "Pacific/Kiritimati", "9999-12-31T23:59:59Z", "not a valid date (outside"),
        ("timestamp", "UTC", "2024-01-02T10:00:00+99:99", "not a timestamp (RFC 3339"),
        ("epoch_s", "UTC", 253_402_300_800, OUTSIDE),
        ("epoch_s", "UTC", -62_135_596_801, OUTSIDE),
        ("epoch_s", "Etc/GMT+12", -62_135_596_800, OUTSIDE),
        ("epoch_s", "UTC", "1700000000", "expected an integer, got string"),
        ("epoch_ms", "UTC", 10**19, OUTSIDE),
        ("epoch_ms", "UTC", 253_402_300_800_000, OUTSIDE),
        ("ms_json", "UTC", "/Date(253402300800000)/", OUTSIDE),
        ("ms_json", "as_served", "/Date(253402300799999+0100)/", "not a valid date (outside"),
        ("ms_json", "UTC", "/Date(1700000000000+9959)/", "not a valid date (not a /Date("),
        ("ms_json", "UTC", "/Date(" + "9" * 5_000 + ")/", "not a valid date (not a /Date("),
        ("date", "UTC", "10000-01-01", "not an ISO date (YYYY-MM-DD): '10000-01-01'"),
        ("date", "UTC", "0000-12-31", "not an ISO date (YYYY-MM-DD): '0000-12-31'"),
    ],
)
def test_a_date_outside_years_1_to_9999_in_the_calendar_is_a_bad_record(
    cli: Callable[..., CliRun],
    serve: Callable[..., LedgerServer],
    form: str,
    zone: str,
    value: Any,
    error: str,
) -> None:
    server = serve({1: when(value)})
    args = ["--date-field", "when", "--date-form", form]
    args += [] if form == "date" else ["--time-zone", zone]
    line = one_line(run_json(cli, server.url, *args))
    assert line.startswith(f"page 1: transactions[0].when: {error}"), line
    assert len(line) < 200


@pytest.mark.parametrize(
    ("form", "first", "last"),
    [
        ("epoch_s", 253_402_300_799, "9999-12-31"),
        ("epoch_ms", -62_135_596_800_000, "0001-01-01"),
        ("ms_json", "/Date(253402300799999)/", "9999-12-31"),
        ("timestamp", "9999-12-31T23:59:59Z", "9999-12-31"),
    ],
)
def test_the_first_and_last_days_of_the_calendar_are_read_in_each_form(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], form: str, first: Any, last: str
) -> None:
    server = serve({1: when(first)})
    run = run_json(cli, server.url, *STAMPED, "--date-form", form)
    assert (run.code, run.err) == (0, [])
    assert json.loads(run.out)["last_date"] == last


def test_a_ledger_of_the_last_quarter_of_9999_is_reported_in_every_format(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    days = [date(9999, 10, 1) + timedelta(days=n) for n in range(92)]
    server = serve(make_pages([record(date=d.isoformat()) for d in days], per_page=40))
    assertion = ("--assert-balance", "9999-12-31=-92.00")
    for fmt in ("json", "csv", "table", "html"):
        run = cli("--url", server.url, "--format", fmt, *assertion)
        assert (run.code, run.err) == (0, []), fmt
        if fmt == "json":
            report = decode(run.out.encode())
            assert (report.first_date, report.last_date) == (days[0], days[-1])
            assert str(report.total_balance) == "-92.00"
            assert [a.ok for a in report.assertions] == [True]
        if fmt == "csv":
            assert run.out.splitlines()[-1].startswith("9999-12-31,-1.00,-92.00,1,-92.00,")
        if fmt == "html":
            assert run.out.count("<svg") == 2
            assert ">9999-12<" in run.out
        if fmt == "table":
            assert "9999-10-01 to 9999-12-31 (92 days" in run.out


def test_a_ledger_of_the_first_days_of_year_1_is_reported(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    days = [date(1, 1, 1) + timedelta(days=n) for n in range(400)]
    server = serve(make_pages([record(date=d.isoformat()) for d in days], per_page=100))
    run = cli("--url", server.url, "--format", "html")
    assert (run.code, run.err) == (0, [])
    assert ">0001<" in run.out or ">0001-" in run.out


# --- 4. settings -------------------------------------------------------------------------------

DEEP = ".".join(["a"] * 1_000)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--records-path", DEEP],
            "option: records_path: expected a key or a dotted path of at most 32 keys (got "
            f"'{DEEP[:59]}…')",
        ),
        (["--date-field", ".".join(["d"] * 500)], "option: date_field: expected a key or a dotted"),
        (
            ["--paging", "cursor", "--next-path", ".".join(["n"] * 33)],
            "option: next_path: expected a key or a dotted path of at most 32 keys",
        ),
        (
            ["--amount-field", "+".join(f"a{n}" for n in range(9))],
            "option: amount_field: expected a path, or at most 8 joined by + (each at most 32 "
            "keys)",
        ),
        (
            ["--amount-field", "+".join(f"a{n}" for n in range(20_000))],
            "option: amount_field: expected a path, or at most 8 joined by +",
        ),
        (
            ["--total-path", "transactions." + "x" * 120_000],
            "option: total_path: 'transactions.xxx",
        ),
        (["--assert-balance", "2024-01-01=" + "1" * 100_000], "option: assert_balance: expected"),
    ],
    ids=["records-1000", "date-500", "next-33", "sum-9", "sum-20000", "overlap", "assertion"],
)
def test_a_path_setting_is_bounded_and_quoted_short_before_any_request(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], args: list[str], error: str
) -> None:
    server = serve({1: body('"page":1,')})
    url = server.url.format(page=1) if "--paging" in args else server.url
    line = one_line(run_json(cli, url, *args), code=2)
    assert line.startswith(error), line
    assert len(line) < 300
    assert server.requests == 0


def test_paths_at_the_bounds_are_read(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    """32 keys deep and a sum of 8 terms."""
    deep = ".".join(f"k{n}" for n in range(32))
    doc: dict[str, Any] = {"page": 1}
    here = doc
    for key in deep.split(".")[:-1]:
        here[key] = {}
        here = here[key]
    terms = {f"t{n}": "1.10" for n in range(8)}
    here[deep.rsplit(".", 1)[1]] = [{"Date": "2024-01-02", "Ledger": "", "Company": "", **terms}]
    server = serve({1: json.dumps(doc).encode()})
    run = run_json(
        cli, server.url, "--records-path", deep, "--amount-field", " + ".join(terms), "-q"
    )
    assert (run.code, run.err) == (0, [])
    assert json.loads(run.out)["total_balance"] == "8.80"


def test_an_output_file_name_of_250_bytes_is_written(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], tmp_path: Path
) -> None:
    server = serve(make_pages([RECORD], per_page=1))
    name = "r" * 245 + ".json"  # NAME_MAX is 255; the temporary name does not grow with it
    run = cli("--url", server.url, "-o", name)
    assert (run.code, run.err) == (0, [])
    assert json.loads((tmp_path / name).read_text())["total_balance"] == "-1.00"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_an_output_file_name_past_the_limit_is_refused_before_fetching(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    server = serve(make_pages([RECORD], per_page=1))
    run = cli("--url", server.url, "-o", "r" * 251 + ".json")
    assert one_line(run, code=2).endswith(".json: File name too long")
    assert server.requests == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [("\N{MINUS SIGN}1.00", "-1.00"), ("\N{MINUS SIGN}0.50", "-0.50"), ("-1.00", "-1.00")],
)
def test_an_assertion_with_the_html_minus_sign_is_read(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], given: str, expected: str
) -> None:
    server = serve(make_pages([RECORD], per_page=1))
    run = cli("--url", server.url, "--format", "json", "--assert-balance", f"2024-01-02={given}")
    assert run.code == (0 if expected == "-1.00" else 3)
    assert json.loads(run.out)["assertions"][0]["expected"] == expected


# --- issue 24's surfaces, swept ----------------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"
DESCRIBED = ["--date-field", "when", "--date-form", "ms_json", "--time-zone", "UTC"]


def described(**fields: Any) -> bytes:
    item = {"when": "/Date(1700000000000)/", "Ledger": "", "Amount": "1.00", "Company": "C"}
    item.update(fields)
    return body('"page":1,', json.dumps(item))


@pytest.mark.parametrize(
    ("args", "page", "error"),
    [
        (DESCRIBED, described(when="/Date(-999999999999999+2359)/"), "when: not a valid date"),
        (DESCRIBED, described(when="/Date(1700000000000-2400)/"), "when: not a valid date (not"),
        (DESCRIBED, described(when=1700000000000), "when: expected a string, got number"),
        (
            ["--date-field", "when", "--date-form", "epoch_ms", "--time-zone", "UTC"],
            described(when=10**19 + 1),
            "when: not a valid date (outside years 1-9999): '10000000000000000001'",
        ),
        (
            ["--amount-form", "minor", "--currency", "JPY"],
            body('"page":1,', json.dumps(RECORD).replace('"-1.00"', "1" * 61)),
            "Amount: 61 digits, more than the limit of 60",
        ),
        (
            [*DESCRIBED, "--currency-field", "cur"],
            described(cur=ESCAPES),
            r"cur: not an ISO 4217 code: '\x1b]0;owned\x07\x1b[2J\x9b31m\u202e'",
        ),
        (
            [*DESCRIBED, "--currency-field", "cur", "--concurrency", "2"],  # a 16 MiB page
            described(cur="U" * 5_000_000),
            "cur: not an ISO 4217 code: 'UUUUU",
        ),
        (
            [*DESCRIBED, "--sign", "field", "--sign-field", "dir", "--sign-values", "Credit=+"],
            described(dir=ESCAPES + "Credit"),
            r"dir: '\x1b]0;owned\x07\x1b[2J\x9b31m\u202eCredit' is not one of sign_values",
        ),
        (
            [*DESCRIBED, "--date-field", "a.b"],
            described(a=[{"b": "/Date(1700000000000)/"}]),
            "a: expected an object, got list",
        ),
        ([*DESCRIBED, "--amount-field", "a.b"], described(a="1.00"), "a: expected an object"),
        ([*DESCRIBED, "--amount-field", "a.b"], described(a=None), "a: expected an object, got"),
    ],
    ids=[
        "ms-json-far",
        "ms-json-offset-24h",
        "ms-json-number",
        "epoch-ms-20-digits",
        "minor-61-digits",
        "currency-escapes",
        "currency-5mb",
        "sign-escapes",
        "path-crosses-list",
        "path-crosses-string",
        "path-crosses-null",
    ],
)
def test_hostile_values_on_the_new_surfaces_are_one_safe_line(
    cli: Callable[..., CliRun],
    serve: Callable[..., LedgerServer],
    args: list[str],
    page: bytes,
    error: str,
) -> None:
    server = serve({1: page})
    line = one_line(run_json(cli, server.url, *args))
    assert line.startswith(f"page 1: transactions[0].{error}"), line
    assert len(line) < 300
    assert not any(c in line for c in "\x1b\x07\x9b\u202e")  # shown as escapes, never raw


def test_a_skip_field_of_5_mb_is_compared_and_the_report_exact(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    page = body(
        '"page":1,',
        ",".join(
            json.dumps({**RECORD, "status": status})
            for status in ("pending", "x" * 5_000_000, "posted")
        ),
    )
    server = serve({1: page})
    run = run_json(
        cli, server.url, "--skip-field", "status", "--skip-values", "pending", "--concurrency", "2"
    )
    assert (run.code, run.err) == (0, [])
    report = json.loads(run.out)
    assert (report["total_balance"], report["left_out"]["filtered"]) == ("-2.00", 1)
    assert run.seconds < 5


def test_a_cursor_field_of_4000_characters_is_one_line_quoted_short(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    cursor = ESCAPES * 400  # percent-encoded, past the 4,096 characters a URL may have
    page = body('"has_more":true,', json.dumps({**RECORD, "id": cursor}))
    server = serve({1: page})
    run = run_json(cli, server.url.format(page=1), "--paging", "last_record")
    line = one_line(run)
    assert line.startswith(r"page 1: cursor '\x1b]0;owned\x07\x1b[2J\x9b31m\u202e"), line
    assert line.endswith("(the last record's id) does not make a usable URL")
    assert len(line) < 300
    assert server.requests == 1


def test_has_more_as_a_string_is_one_line(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    server = serve({1: body('"next":"c2","has_more":"true",')})
    run = run_json(cli, server.url.format(page=1), "--paging", "cursor", "--page-end", "flag")
    assert one_line(run) == "page 1: has_more: expected true or false, got string"


def test_no_escape_reaches_the_terminal_in_the_table_from_a_currency(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer]
) -> None:
    """A currency is three letters, so the table's Currency line holds nothing else."""
    server = serve({1: described(cur="usd")})
    run = cli("--url", server.url, "--currency-field", "cur", *DESCRIBED)
    assert (run.code, run.err) == (0, [])
    assert "Currency:      USD" in run.out.splitlines()
    assert os.linesep == "\n"


# --- every pattern over a server's bytes: linear ------------------------------------------------

MEGA = 1_000_000
TIMESTAMPED = ["--date-form", "timestamp", "--time-zone", "UTC"]


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        ([], {"Amount": "1" * MEGA + "x"}),
        ([], {"Amount": "1" * MEGA + ".x"}),
        ([], {"Amount": "-." + "1" * MEGA + "-"}),
        ([], {"Amount": "1" * MEGA}),
        ([], {"Date": "2024-01-02" + "x" * MEGA}),
        ([], {"Company": "xx1 " * (MEGA // 4)}),
        ([], {"Ledger": "\x1b" * MEGA}),
        ([], {"x" * MEGA: 1, "Amount": None}),
        (["--amount-form", "number"], {"Amount": 0.5, "x": "1" * MEGA}),
        (["--amount-form", "minor", "--currency", "USD"], {"Amount": "1" * MEGA}),
        (TIMESTAMPED, {"Date": "2024-01-02T00:00:00." + "1" * MEGA + "x"}),
        (TIMESTAMPED, {"Date": "2024-01-02T00:00:00." + "1" * MEGA + "Z"}),
        (["--date-form", "ms_json", "--time-zone", "UTC"], {"Date": "/Date(" + "1" * MEGA}),
        (["--currency-field", "c"], {"c": "U" * MEGA}),
        (["--sign", "field", "--sign-field", "s", "--sign-values", "C=+"], {"s": "C" * MEGA}),
    ],
    ids=[
        "digits-x",
        "digits-point-x",
        "point-digits-minus",
        "digits",
        "date-tail",
        "company-tokens",
        "ledger-escapes",
        "long-key",
        "number-form",
        "minor",
        "timestamp-fraction-x",
        "timestamp-fraction",
        "ms-json",
        "currency",
        "sign",
    ],
)
def test_every_pattern_over_a_servers_bytes_reads_a_megabyte_in_milliseconds(
    cli: Callable[..., CliRun], serve: Callable[..., LedgerServer], args: list[str], fields: dict
) -> None:
    item = {key: value for key, value in {**RECORD, **fields}.items() if value is not None}
    server = serve({1: body('"page":1,', json.dumps(item))})
    run = run_json(cli, server.url, "--deadline", "20", *args)
    assert run.seconds < 3, run  # each is linear: ~0.05 s here; [0-9]+\.?[0-9]* took hours
    assert len(run.err) <= 1
    assert not run.err or len(run.err[0]) < 300
