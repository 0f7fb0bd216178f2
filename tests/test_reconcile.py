"""Reconciliation: balance assertions and changes since a previous report (issue 12.1, 12.2)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

import benchtest
from benchtest import ConfigError, load_settings
from benchtest.model import to_json
from benchtest.reconcile import (
    MAX_PREVIOUS_BYTES,
    PreviousReportError,
    compare,
    parse_previous,
)
from benchtest.source import sample_pages
from benchtest.storage import read_file
from tests.ledger_server import LedgerServer
from tests.support import make_pages, settings
from tests.test_cli import cli

Serve = Callable[..., LedgerServer]


def records(pages: dict[int, bytes]) -> list[dict[str, Any]]:
    return [t for _, body in sorted(pages.items()) for t in json.loads(body)["transactions"]]


def run(serve: Serve, pages: dict[int, bytes], **changes: Any) -> benchtest.Report:
    return benchtest.run(settings(serve(pages).url, **changes)).report


def two_runs(
    serve: Serve,
    before: dict[int, bytes],
    after: dict[int, bytes],
    first: dict[str, Any] | None = None,
    second: dict[str, Any] | None = None,
) -> tuple[benchtest.Report, benchtest.Report]:
    """Two runs on one URL, the ledger changed in between (``first``/``second``: settings)."""
    server = serve(before)
    earlier = benchtest.run(settings(server.url, **(first or {}))).report
    server.pages = dict(after)
    return earlier, benchtest.run(settings(server.url, **(second or {}))).report


def previous_of(report: benchtest.Report, where: str = "yesterday.json") -> Any:
    """A report as the next run reads it back: its JSON text, parsed and validated."""
    return parse_previous(benchtest.render(report, "json").encode(), where)


def assertions(text: str) -> Any:
    return load_settings(overrides={"assert_balance": [text]}, env={}).assert_balance


# --- assertions ---------------------------------------------------------------------------


@pytest.mark.parametrize("active_days_only", [False, True])
@pytest.mark.parametrize(
    ("day", "balance"),
    [
        ("2013-12-22", "18377.16"),  # the last day: the total
        ("2013-12-12", "-227.35"),  # the first day
        ("2013-12-14", "-1456.93"),  # no activity: the day before's balance
        ("2013-12-01", "0"),  # before the first transaction
        ("2014-06-30", "18377.160"),  # after the last: the total (equal as a Decimal)
    ],
)
def test_a_true_assertion_holds_on_the_bench_ledger(
    serve: Serve, bench_pages: dict[int, bytes], day: str, balance: str, active_days_only: bool
) -> None:
    report = run(
        serve,
        bench_pages,
        assert_balance=assertions(f"{day}={balance}"),
        active_days_only=active_days_only,
    )
    [check] = report.assertions
    assert (check.date.isoformat(), check.expected, check.actual) == (
        day,
        Decimal(balance),
        Decimal(balance),
    )
    assert (check.difference, check.ok) == (0, True)
    assert report.failed_assertions == ()


def test_a_wrong_assertion_fails_with_the_exact_difference(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    report = run(
        serve, bench_pages, assert_balance=assertions("2013-12-20=18500.00, 2013-12-22=18377.16")
    )
    assert [to_json(a) for a in report.assertions] == [
        {
            "date": "2013-12-20",
            "expected": "18500.00",
            "actual": "18505.85",
            "difference": "5.85",
            "ok": False,
        },
        {
            "date": "2013-12-22",
            "expected": "18377.16",
            "actual": "18377.16",
            "difference": "0.00",
            "ok": True,
        },
    ]
    assert [a.date for a in report.failed_assertions] == [date(2013, 12, 20)]


def test_assertions_see_the_totals_without_duplicates_when_they_are_excluded(
    sample_report: benchtest.Report, serve: Serve
) -> None:
    check = assertions("2026-03-11=5356.75")
    kept = run(serve, sample_pages(), assert_balance=check)
    left_out = run(serve, sample_pages(), assert_balance=check, exclude_duplicates=True)
    assert kept.assertions[0].ok
    [failed] = left_out.assertions
    assert failed.difference == -sample_report.duplicate_total != 0
    assert failed.actual == left_out.total_balance


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2013-12-22", r"expected DATE=AMOUNT such as 2013-12-22=18377.16, got '2013-12-22'"),
        ("2013-12-22=abc", r"got '2013-12-22=abc'"),
        ("2013-12-22=1e3", r"got '2013-12-22=1e3'"),
        ("2013-12-22=1,000.00", r"got '000.00'"),
        ("22/12/2013=1", r"got '22/12/2013=1'"),
        ("2013-02-30=1", r"no such date '2013-02-30' in '2013-02-30=1'"),
        ("2013-12-22=1,2013-12-22=1", r"date 2013-12-22 given twice"),
    ],
)
def test_bad_assertions_are_a_usage_error_naming_the_value(given: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(overrides={"assert_balance": [given]}, env={})
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("option: assert_balance: ")


def test_assertions_come_from_the_environment_and_the_config_file(tmp_path: Any) -> None:
    conf = tmp_path / "sites.conf"
    conf.write_text("[default]\nassert_balance = 2013-12-22 = 18377.16\n  2013-12-20=18505.85\n")
    from_file = load_settings(env={}, config_file=str(conf)).assert_balance
    env = {"BENCH_ASSERT_BALANCE": "2013-12-22=18377.16,2013-12-20=18505.85"}
    from_env = load_settings(env=env).assert_balance
    assert (
        from_file
        == from_env
        == ((date(2013, 12, 20), Decimal("18505.85")), (date(2013, 12, 22), Decimal("18377.16")))
    )
    assert str(from_env) == "2013-12-20=18505.85,2013-12-22=18377.16"
    with pytest.raises(ConfigError, match=r"^BENCH_ASSERT_BALANCE: assert_balance: .*'x'"):
        load_settings(env={"BENCH_ASSERT_BALANCE": "x"})


# --- changes since the previous run ----------------------------------------------------------


def test_an_edited_past_transaction_restates_every_later_day_exactly(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    edited = dict(bench_pages)
    doc = json.loads(edited[3])
    record = next(t for t in doc["transactions"] if t["Date"] == "2013-12-16")
    record["Amount"] = str(Decimal(record["Amount"]) + Decimal("100.00"))
    edited[3] = json.dumps(doc).encode()
    before, after = two_runs(serve, bench_pages, edited)
    changes = compare(after, previous_of(before)).changes
    assert changes is not None
    assert (changes.status, changes.transaction_count_difference) == ("compared", 0)
    assert changes.total_balance_difference == Decimal("100.00")
    restated = [
        (d.date.isoformat(), d.change_difference, d.balance_difference)
        for d in changes.restated_days
    ]
    assert restated == [
        ("2013-12-16", Decimal("100.00"), Decimal("100.00")),
        *[(f"2013-12-{day}", Decimal("0.00"), Decimal("100.00")) for day in range(17, 23)],
    ]
    first = to_json(changes.restated_days[0])
    assert first == {
        "date": "2013-12-16",
        "previous_change": "-4575.53",
        "change": "-4475.53",
        "change_difference": "100.00",
        "previous_balance": "-6037.85",
        "balance": "-5937.85",
        "balance_difference": "100.00",
    }
    assert changes.new_days == ()
    assert changes.note == "compared with yesterday.json: 7 restated day(s), 0 new day(s)"


def test_a_new_day_is_not_a_restatement(serve: Serve) -> None:
    rows = records(sample_pages())
    added = {"Date": "2026-03-13", "Ledger": "Office Expense", "Amount": "-20.05", "Company": "X"}
    before, after = two_runs(serve, sample_pages(), make_pages([*rows, added], per_page=8))
    changes = compare(after, previous_of(before)).changes
    assert changes is not None
    assert changes.restated_days == ()
    assert [(d.date.isoformat(), d.change, d.balance, d.count) for d in changes.new_days] == [
        ("2026-03-12", Decimal(0), Decimal("5356.75"), 0),
        ("2026-03-13", Decimal("-20.05"), Decimal("5336.70"), 1),
    ]
    assert (changes.transaction_count_difference, changes.total_balance_difference) == (
        1,
        Decimal("-20.05"),
    )


def test_a_transaction_added_on_a_quiet_past_day_is_a_restatement(serve: Serve) -> None:
    rows = records(sample_pages())
    inserted = {"Date": "2026-03-07", "Ledger": "", "Amount": "1.00", "Company": "Y"}
    after = make_pages([*rows, inserted], per_page=8)
    before, now = two_runs(serve, sample_pages(), after, second={"active_days_only": True})
    changes = compare(now, previous_of(before)).changes
    assert changes is not None
    assert [
        (d.date.day, d.change_difference, d.balance_difference) for d in changes.restated_days
    ] == [
        (day, Decimal("1.00") if day == 7 else Decimal(0), Decimal("1.00")) for day in range(7, 12)
    ]


def test_the_same_ledger_twice_has_no_changes_whatever_days_are_listed(serve: Serve) -> None:
    every, active = two_runs(
        serve, sample_pages(), sample_pages(), second={"active_days_only": True}
    )
    for report, previous in ((every, active), (active, every)):
        changes = compare(report, previous_of(previous)).changes
        assert changes is not None
        assert (changes.restated_days, changes.new_days) == ((), ())
        assert (changes.transaction_count_difference, changes.total_balance_difference) == (0, 0)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"source": "https://other.example/{page}.json"}, "is a report of another source"),
        ({"duplicates_excluded": True}, "computed with possible duplicates excluded"),
    ],
)
def test_a_previous_report_computed_otherwise_is_not_compared(
    sample_report: benchtest.Report, change: dict[str, Any], reason: str
) -> None:
    previous = dataclasses.replace(previous_of(sample_report), **change)
    changes = compare(sample_report, previous).changes
    assert changes is not None
    assert changes.status == "unavailable"
    assert reason in changes.note
    assert changes.restated_days == ()


def good_json(sample_report: benchtest.Report) -> dict[str, Any]:
    return json.loads(benchtest.render(sample_report, "json"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: b"not json", "not a JSON report"),
        (lambda d: b"\xff\xfe{}", "not a JSON report"),
        (lambda d: b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (lambda d: b"[]", "expected a JSON object"),
        (lambda d: {**d, "total_balance": 5356.75}, "bare number"),
        (lambda d: {**d, "total_balance": "NaN"}, "total_balance: expected a decimal string"),
        (lambda d: {**d, "total_balance": "1e3"}, "total_balance: expected a decimal string"),
        (lambda d: {**d, "transaction_count": True}, "transaction_count: expected a count"),
        (lambda d: {**d, "transaction_count": -1}, "transaction_count: expected a count"),
        (lambda d: {k: v for k, v in d.items() if k != "source"}, "source: expected str"),
        (lambda d: {**d, "daily_balances": {}}, "daily_balances: expected a list"),
        (
            lambda d: {**d, "daily_balances": d["daily_balances"][::-1]},
            r"daily_balances\[1\]\.date: not after the day before",
        ),
        (
            lambda d: {**d, "daily_balances": [{**d["daily_balances"][0], "date": "2026-02-30"}]},
            r"daily_balances\[0\]\.date: expected YYYY-MM-DD",
        ),
        (
            lambda d: {**d, "daily_balances": [{**d["daily_balances"][0], "balance": None}]},
            r"daily_balances\[0\]\.balance: expected a decimal string",
        ),
        (
            lambda d: json.dumps(d).replace('"source"', '"source": "x", "source"', 1).encode(),
            "a key appears twice",
        ),
        (lambda d: b" " * (MAX_PREVIOUS_BYTES + 1), "larger than"),
    ],
)
def test_a_hostile_previous_report_is_refused_saying_why(
    sample_report: benchtest.Report, edit: Callable[[dict[str, Any]], Any], message: str
) -> None:
    data = edit(good_json(sample_report))
    data = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(PreviousReportError, match=message) as caught:
        parse_previous(data, "prev.json")
    assert str(caught.value).startswith("prev.json: ")


def test_a_previous_report_file_that_is_missing_is_named(tmp_path: Any) -> None:
    with pytest.raises(benchtest.StorageError, match=r"missing\.json: cannot read: No such file"):
        read_file(str(tmp_path / "missing.json"), MAX_PREVIOUS_BYTES)


# --- in every format --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reconciled(bench_pages: dict[int, bytes]) -> benchtest.Report:
    """The Bench ledger with one true and one false assertion, compared with an edited past."""
    from tests.ledger_server import serve_ledger

    with serve_ledger(bench_pages) as server:
        report = benchtest.run(
            settings(
                server.url, assert_balance=assertions("2013-12-20=18500.00,2013-12-22=18377.16")
            )
        ).report
    edited = json.loads(benchtest.render(report, "json"))
    edited["transaction_count"] = 37
    edited["total_balance"] = "18277.16"
    for day in edited["daily_balances"]:
        if day["date"] == "2013-12-21":
            day["change"] = "-117.98"
        if day["date"] >= "2013-12-21":
            day["balance"] = f"{Decimal(day['balance']) - 100:.2f}"
    edited["daily_balances"] = edited["daily_balances"][:-1]  # 2013-12-22 was not there yet
    return compare(report, parse_previous(json.dumps(edited).encode(), "prev.json"))


def test_the_table_lists_assertions_and_changes(reconciled: benchtest.Report) -> None:
    text = benchtest.render(reconciled, "table")
    section = text[text.index("Balance assertions") :]
    assert section.splitlines()[:4] == [
        "Balance assertions: 1 ok, 1 failed",
        "Date         Expected     Actual  Difference  Result",
        "----------  ---------  ---------  ----------  ------",
        "2013-12-20  18,500.00  18,505.85        5.85  FAILED",
    ]
    assert "compared with prev.json: 1 restated day(s), 1 new day(s)" in text
    assert "Transactions:  37 before, +1" in text
    assert "Total balance: 18,277.16 before, +100.00" in text
    assert "2013-12-21        -117.98  -17.98       18,387.87  18,487.87     +100.00" in text
    assert "New days:      1 (2013-12-22)" in text


def test_the_csv_marks_asserted_and_restated_days(reconciled: benchtest.Report) -> None:
    rows = list(csv.DictReader(io.StringIO(benchtest.render(reconciled, "csv"))))
    by_date = {row["date"]: row for row in rows}
    assert by_date["2013-12-20"]["asserted_balance"] == "18500.00"
    assert by_date["2013-12-22"]["asserted_balance"] == "18377.16"
    assert by_date["2013-12-21"]["previous_balance"] == "18387.87"
    marked = [r["date"] for r in rows if r["asserted_balance"] or r["previous_balance"]]
    assert marked == ["2013-12-20", "2013-12-21", "2013-12-22"]


def test_the_json_has_both_sections(reconciled: benchtest.Report) -> None:
    doc = json.loads(benchtest.render(reconciled, "json"))
    assert [a["ok"] for a in doc["assertions"]] == [False, True]
    assert doc["changes"]["status"] == "compared"
    assert [d["date"] for d in doc["changes"]["restated_days"]] == ["2013-12-21"]
    assert [d["date"] for d in doc["changes"]["new_days"]] == ["2013-12-22"]
    assert (
        doc["changes"]["total_balance_difference"],
        doc["changes"]["transaction_count_difference"],
    ) == ("100.00", 1)


def test_the_html_marks_assertions_on_the_chart_and_highlights_restated_days(
    reconciled: benchtest.Report,
) -> None:
    page = benchtest.render(reconciled, "html")
    assert page.count('<polygon class="assertion failed"') == 1
    assert page.count('<polygon class="assertion ok"') == 1
    assert "Assertion 2013-12-20: expected 18,500.00, actual 18,505.85: FAILED" in page
    assert '<tr class="restated" title="restated: balance before 18,387.87"><td>2013-12-21' in page
    assert "compared with prev.json: 1 restated day(s), 1 new day(s)" in page
    assert 'id="reconciliation"' in page


def test_reports_without_reconciliation_have_no_such_sections(
    sample_report: benchtest.Report,
) -> None:
    assert 'id="reconciliation"' not in benchtest.render(sample_report, "html")
    assert "Balance assertions" not in benchtest.render(sample_report, "table")
    assert sample_report.to_dict()["changes"] is None


# --- the command line -------------------------------------------------------------------------


def test_cli_prints_the_report_then_one_line_per_failed_assertion_and_exits_3(
    tmp_path: Any,
) -> None:
    done = cli(
        "--format=json",
        "--assert-balance",
        "2026-03-11=5356.75",
        "--assert-balance=2026-03-05=2500.00",
        "--assert-balance=2026-03-01=1",
        cwd=tmp_path,
    )
    assert done.returncode == 3
    report = json.loads(done.stdout)  # complete, printed
    assert [a["ok"] for a in report["assertions"]] == [False, False, True]
    failures = [line for line in done.stderr.splitlines() if "assertion" in line]
    assert failures == [
        "benchtest: balance assertion failed: 2026-03-01: expected 1.00, actual 0.00, "
        "difference -1.00",
        "benchtest: balance assertion failed: 2026-03-05: expected 2,500.00, actual 2,498.41, "
        "difference -1.59",
    ]
    assert "Traceback" not in done.stderr


def test_cli_exits_0_when_every_assertion_holds(tmp_path: Any) -> None:
    done = cli("-q", env={"BENCH_ASSERT_BALANCE": "2026-03-11=5356.75"}, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "Balance assertions: 1 ok, 0 failed" in done.stdout


def test_cli_refuses_a_bad_assertion_before_fetching(tmp_path: Any) -> None:
    done = cli("--assert-balance", "2026-03-11=5,356.75", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().endswith(
        "benchtest: error: option: assert_balance: expected DATE=AMOUNT such as "
        "2013-12-22=18377.16, got '356.75'"
    )


def test_cli_compares_with_a_previous_json_report(tmp_path: Any) -> None:
    previous = json.loads(cli("--format", "json", cwd=tmp_path).stdout)
    previous["daily_balances"][-1]["balance"] = "5356.70"
    (tmp_path / "prev.json").write_text(json.dumps(previous))
    done = cli("--format", "json", "--compare", "prev.json", cwd=tmp_path)
    assert done.returncode == 0
    changes = json.loads(done.stdout)["changes"]
    assert changes["status"] == "compared"
    assert [(d["date"], d["balance_difference"]) for d in changes["restated_days"]] == [
        ("2026-03-11", "0.05")
    ]


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (None, "prev.json: cannot read: No such file or directory"),
        (b"{", "prev.json: not a JSON report"),
        (b'{"source": "https://elsewhere/{page}"}', "prev.json: not a usable report"),
    ],
)
def test_cli_reports_an_unusable_previous_report_and_still_succeeds(
    tmp_path: Any, content: bytes | None, note: str
) -> None:
    if content is not None:
        (tmp_path / "prev.json").write_bytes(content)
    done = cli("--format", "json", "--compare", "prev.json", cwd=tmp_path)
    assert done.returncode == 0
    changes = json.loads(done.stdout)["changes"]
    assert changes["status"] == "unavailable"
    assert note in changes["note"]
    assert f"benchtest: warning: --compare: not compared: {note}" in done.stderr
