"""Reconciliation: balance assertions and changes since a previous report (issues 12 and 18).

Changes are checked on the real Bench ledger with the edits a finance team sees: an amount
corrected, a posting back-dated or moved, a category changed, a duplicate dropped. Each is one
named transaction change and (when a day's change moved) one restated day per day whose own
activity changed, with the later balances shifted once, not restated day by day.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import benchtest
from benchtest import ConfigError, load_settings
from benchtest.cli import main
from benchtest.files import read_file
from benchtest.model import Transaction, utc
from benchtest.model import to_builtins as to_json
from benchtest.money import plain
from benchtest.reconcile import (
    MAX_PREVIOUS_BYTES,
    PreviousReportError,
    compare,
    parse_previous,
    transaction_changes,
)
from benchtest.settings import show
from benchtest.source import sample_pages
from tests.ledger_server import LedgerServer
from tests.support import ROOT, make_pages, record, settings
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
    return load_settings(overrides={"assert_balance": [text]}, env={}).report.assert_balance


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
        (
            "2013-12-22",
            r"expected DATE=AMOUNT such as 2013-12-22=18377.16 or 2013-12-22=18,377.16, "
            r"got '2013-12-22'$",
        ),
        ("2013-12-22=abc", r"got '2013-12-22=abc'"),
        ("2013-12-22=1e3", r"got '2013-12-22=1e3'"),
        ("2013-12-22=1,000", r"got '2013-12-22=1,000' \(a comma may only separate thousands"),
        ("2013-12-22=2,50", r"got '2013-12-22=2,50' \(a comma"),
        ("2013-12-22=1,0000.00", r"got '2013-12-22=1,0000.00' \(a comma"),
        ("2013-12-22=,500.00", r"got '2013-12-22=,500.00' \(a comma"),
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


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-03-05=2,500.00", [("2026-03-05", "2500.00")]),  # as the table prints it
        ("2026-03-05=\N{MINUS SIGN}1,874.75", [("2026-03-05", "-1874.75")]),  # as the HTML does
        ("2026-03-05=-1,234,567.5", [("2026-03-05", "-1234567.5")]),
        (
            "2013-12-22=18,377.16,2013-12-20=18,505.85",  # commas between entries too
            [("2013-12-20", "18505.85"), ("2013-12-22", "18377.16")],
        ),
    ],
)
def test_amounts_with_thousands_separators_are_read_as_written(
    given: str, expected: list[tuple[str, str]]
) -> None:
    assert [(d.isoformat(), a) for d, a in assertions(given)] == [
        (d, Decimal(a)) for d, a in expected
    ]


def test_assertions_come_from_the_environment_and_the_config_file(tmp_path: Any) -> None:
    conf = tmp_path / "sites.conf"
    conf.write_text("[default]\nassert_balance = 2013-12-22 = 18377.16\n  2013-12-20=18505.85\n")
    from_file = load_settings(env={}, config_file=str(conf)).report.assert_balance
    env = {"BENCH_ASSERT_BALANCE": "2013-12-22=18377.16,2013-12-20=18505.85"}
    from_env = load_settings(env=env).report.assert_balance
    assert (
        from_file
        == from_env
        == ((date(2013, 12, 20), Decimal("18505.85")), (date(2013, 12, 22), Decimal("18377.16")))
    )
    assert show(from_env) == "2013-12-20=18505.85,2013-12-22=18377.16"
    with pytest.raises(ConfigError, match=r"^BENCH_ASSERT_BALANCE: assert_balance: .*'x'"):
        load_settings(env={"BENCH_ASSERT_BALANCE": "x"})


# --- changes since the previous run ----------------------------------------------------------


def edited(pages: dict[int, bytes], page: int, index: int, **fields: str) -> dict[int, bytes]:
    """``pages`` with record ``index`` of ``page`` given new field values."""
    pages = dict(pages)
    doc = json.loads(pages[page])
    doc["transactions"][index].update(fields)
    pages[page] = json.dumps(doc).encode()
    return pages


def with_records(
    pages: dict[int, bytes], page: int, *added: dict[str, str], drop: int | None = None
) -> dict[int, bytes]:
    """``pages`` with records appended to ``page`` (and record ``drop`` of it left out), every
    page's totalCount following."""
    pages = {n: json.loads(body) for n, body in pages.items()}
    rows = pages[page]["transactions"]
    if drop is not None:
        del rows[drop]
    rows += added
    total = sum(len(doc["transactions"]) for doc in pages.values())
    return {n: json.dumps({**doc, "totalCount": total}).encode() for n, doc in pages.items()}


def without_the_last_day(pages: dict[int, bytes]) -> dict[int, bytes]:
    """The Bench ledger as it was the day before: 2013-12-22's only record not there yet."""
    return make_pages([r for r in records(pages) if r["Date"] != "2013-12-22"], per_page=10)


def changes_between(
    serve: Serve, before: dict[int, bytes], after: dict[int, bytes], **second: Any
) -> Any:
    earlier, now = two_runs(serve, before, after, second=second)
    changes = compare(now, previous_of(earlier), 10_000).changes
    assert changes is not None
    assert changes.status == "compared"
    return changes


def listed(t: Transaction | None) -> tuple[str, str, str, str] | None:
    if t is None:
        return None
    return (t.date.isoformat(), t.category, plain(t.amount), t.company)


def described(changes: Any) -> list[tuple[str, Any, Any]]:
    return [(c.change, listed(c.previous), listed(c.current)) for c in changes.transaction_changes]


def restated(changes: Any) -> list[tuple[str, str, str, str]]:
    return [
        (d.date.isoformat(), plain(d.previous_change), plain(d.change), plain(d.balance_difference))
        for d in changes.restated_days
    ]


COSTCO = ("2013-12-18", "Office Expense", "-642.79", "COSTCO WHOLESALE #55 CO VANCOUVER")


def test_an_edited_amount_is_one_changed_transaction_and_one_restated_day(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    """Issue 18: this edit used to be "5 restated day(s)", one per day from 12-18 to 12-22."""
    changes = changes_between(serve, bench_pages, edited(bench_pages, 2, 7, Amount="-742.79"))
    assert described(changes) == [("changed", COSTCO, (*COSTCO[:2], "-742.79", COSTCO[3]))]
    assert restated(changes) == [("2013-12-18", "-1841.29", "-1941.29", "-100.00")]
    assert changes.shifts() == [(date(2013, 12, 18), None, Decimal("-100.00"))]
    assert (changes.transaction_count_difference, changes.total_balance_difference) == (
        0,
        Decimal("-100.00"),
    )
    assert changes.note == (
        "compared with yesterday.json: 1 restated day(s), 0 new day(s); "
        "transactions: 1 changed, 0 added, 0 removed"
    )
    [change] = changes.transaction_changes
    assert (change.previous.page, change.previous.index) == (change.current.page, 7) == (2, 7)
    assert to_json(change)["current"] == {
        "page": 2,
        "index": 7,
        "date": "2013-12-18",
        "ledger": "Office Expense",
        "amount": "-742.79",
        "company": COSTCO[3],
    }
    assert changes.found


FEE = {"Date": "2013-12-01", "Ledger": "Bank Charges", "Amount": "-50.00", "Company": "MONTHLY FEE"}


@pytest.mark.parametrize("active_days_only", [False, True])
def test_a_back_dated_posting_is_one_added_transaction_and_one_restated_day(
    serve: Serve, bench_pages: dict[int, bytes], active_days_only: bool
) -> None:
    """Issue 18: this used to be "22 restated day(s)" (12-01 to 12-22, every day filled in)."""
    changes = changes_between(
        serve,
        bench_pages,
        with_records(bench_pages, 4, FEE),
        active_days_only=active_days_only,
    )
    assert described(changes) == [
        ("added", None, ("2013-12-01", "Bank Charges", "-50.00", "MONTHLY FEE"))
    ]
    assert restated(changes) == [("2013-12-01", "0.00", "-50.00", "-50.00")]
    assert changes.shifts() == [(date(2013, 12, 1), None, Decimal("-50.00"))]
    assert (changes.transaction_count_difference, changes.new_days) == (1, ())


def test_a_moved_date_restates_both_days_and_shifts_only_the_days_between(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    changes = changes_between(serve, bench_pages, edited(bench_pages, 2, 7, Date="2013-12-16"))
    assert described(changes) == [("changed", COSTCO, ("2013-12-16", *COSTCO[1:]))]
    assert restated(changes) == [
        ("2013-12-16", "-4575.53", "-5218.32", "-642.79"),
        ("2013-12-18", "-1841.29", "-1198.50", "0.00"),
    ]
    assert changes.shifts() == [(date(2013, 12, 16), date(2013, 12, 17), Decimal("-642.79"))]
    assert changes.total_balance_difference == 0


@pytest.mark.parametrize(
    ("field", "value", "position"),
    [("Ledger", "Equipment Expense", 1), ("Company", "COSTCO #55", 3), ("Ledger", "", 1)],
)
def test_a_changed_category_or_company_is_a_change_without_a_restated_day(
    serve: Serve, bench_pages: dict[int, bytes], field: str, value: str, position: int
) -> None:
    changes = changes_between(serve, bench_pages, edited(bench_pages, 2, 7, **{field: value}))
    now = list(COSTCO)
    now[position] = value
    assert described(changes) == [("changed", COSTCO, tuple(now))]
    assert (changes.restated_days, changes.total_balance_difference) == ((), 0)
    assert changes.found  # past data changed, though no balance did


def test_two_fields_changed_are_a_removal_and_an_addition(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    after = edited(bench_pages, 2, 7, Amount="-742.79", Company="COSTCO #55")
    changes = changes_between(serve, bench_pages, after)
    assert described(changes) == [
        ("removed", COSTCO, None),
        ("added", None, (*COSTCO[:2], "-742.79", "COSTCO #55")),
    ]


def test_a_dropped_duplicate_is_one_removal_and_a_third_copy_one_addition(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    """The Bench ledger has YELLOW CAB -10.90 twice on 2013-12-18 (page 2, records 3 and 4):
    multisets, so one copy less is exactly one removal, one more exactly one addition."""
    cab = json.loads(bench_pages[2])["transactions"][3]
    shown = ("2013-12-18", "Travel Expense, Nonlocal", "-10.90", "YELLOW CAB CO LTD VANCOUVER BC")
    fewer = changes_between(serve, bench_pages, with_records(bench_pages, 2, drop=4))
    assert described(fewer) == [("removed", shown, None)]
    assert restated(fewer) == [("2013-12-18", "-1841.29", "-1830.39", "10.90")]
    more = changes_between(serve, bench_pages, with_records(bench_pages, 4, cab))
    assert described(more) == [("added", None, shown)]


def test_the_same_transactions_on_other_pages_are_no_change(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    """Every page and index moves when the API changes its page size: nothing changed."""
    moved = make_pages(records(bench_pages)[::-1], per_page=7)
    changes = changes_between(serve, bench_pages, moved)
    assert (changes.transaction_changes, changes.restated_days, changes.found) == ((), (), False)


def test_a_new_day_is_not_a_restatement(serve: Serve) -> None:
    rows = records(sample_pages())
    added = {"Date": "2026-03-13", "Ledger": "Office Expense", "Amount": "-20.05", "Company": "X"}
    changes = changes_between(serve, sample_pages(), make_pages([*rows, added], per_page=8))
    assert (changes.restated_days, changes.transaction_changes, changes.found) == ((), (), False)
    assert [(d.date.isoformat(), d.change, d.balance, d.count) for d in changes.new_days] == [
        ("2026-03-12", Decimal(0), Decimal("5356.75"), 0),
        ("2026-03-13", Decimal("-20.05"), Decimal("5336.70"), 1),
    ]
    assert (changes.transaction_count_difference, changes.total_balance_difference) == (
        1,
        Decimal("-20.05"),
    )


def test_a_transaction_added_on_a_quiet_past_day_restates_that_day_only(serve: Serve) -> None:
    rows = records(sample_pages())
    inserted = {"Date": "2026-03-07", "Ledger": "", "Amount": "1.00", "Company": "Y"}
    after = make_pages([*rows, inserted], per_page=8)
    changes = changes_between(serve, sample_pages(), after, active_days_only=True)
    assert restated(changes) == [("2026-03-07", "0.00", "1.00", "1.00")]
    assert described(changes) == [("added", None, ("2026-03-07", "", "1.00", "Y"))]


def test_the_same_ledger_twice_has_no_changes_whatever_days_are_listed(serve: Serve) -> None:
    every, active = two_runs(
        serve, sample_pages(), sample_pages(), second={"active_days_only": True}
    )
    for report, previous in ((every, active), (active, every)):
        changes = compare(report, previous_of(previous), 10_000).changes
        assert changes is not None
        assert (changes.restated_days, changes.new_days, changes.transaction_changes) == (
            (),
            (),
            (),
        )
        assert (changes.transaction_count_difference, changes.total_balance_difference) == (0, 0)
        assert changes.transactions_compared


@pytest.mark.parametrize(("first", "second"), [(10, 10_000), (10_000, 10)])
def test_above_the_detail_limit_transactions_are_not_compared_and_days_still_are(
    serve: Serve, bench_pages: dict[int, bytes], first: int, second: int
) -> None:
    earlier, now = two_runs(
        serve,
        bench_pages,
        edited(bench_pages, 2, 7, Amount="-742.79"),
        first={"detail_limit": first},
        second={"detail_limit": second},
    )
    changes = compare(now, previous_of(earlier), 10_000).changes
    assert changes is not None
    assert (changes.transactions_compared, changes.transaction_changes) == (False, ())
    assert restated(changes) == [("2013-12-18", "-1841.29", "-1941.29", "-100.00")]
    which = "the previous report does" if first == 10 else "this report does"
    assert changes.note.endswith(
        f"; transactions not compared: {which} not list them (the detail limit)"
    )


def test_transactions_after_the_previous_reports_last_day_are_new_not_added(
    serve: Serve, bench_pages: dict[int, bytes]
) -> None:
    earlier = without_the_last_day(bench_pages)
    changes = changes_between(serve, earlier, bench_pages)
    assert (changes.transaction_changes, changes.restated_days) == ((), ())
    assert [d.date.isoformat() for d in changes.new_days] == ["2013-12-22"]


# Transactions from a small alphabet, so that identical ones and one-field edits are common.
_transaction = st.builds(
    Transaction,
    page=st.integers(1, 3),
    index=st.integers(0, 9),
    date=st.sampled_from([date(2024, 1, 1), date(2024, 1, 2)]),
    category=st.sampled_from(["", "A"]),
    amount=st.sampled_from([Decimal("1.00"), Decimal("-2.50")]),
    company=st.sampled_from(["X", "Y"]),
)


@given(st.lists(_transaction, max_size=12), st.lists(_transaction, max_size=12))
def test_transaction_changes_turn_the_previous_multiset_into_the_current_one_exactly(
    before: list[Transaction], now: list[Transaction]
) -> None:
    def fields(t: Transaction) -> tuple[object, ...]:
        return (t.date, t.category, t.amount, t.company)

    changes = transaction_changes(before, now)
    gone = Counter(fields(c.previous) for c in changes if c.previous is not None)
    came = Counter(fields(c.current) for c in changes if c.current is not None)
    old, new = Counter(map(fields, before)), Counter(map(fields, now))
    assert (gone, came) == (old - new, new - old)  # exactly the difference, never more
    for c in changes:
        if c.change == "changed":
            assert c.previous is not None
            assert c.current is not None
            edits = zip(fields(c.previous), fields(c.current), strict=True)
            assert sum(a != b for a, b in edits) == 1
        else:
            assert (c.previous is None, c.current is None) == (
                c.change == "added",
                c.change == "removed",
            )
    assert transaction_changes(before, now) == changes  # deterministic


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"source": "https://other.example/{page}.json\x1b]0;x\x07"},
            "is a report of another source ('https://other.example/{page}.json\\x1b]0;x\\x07')",
        ),
        ({"duplicates_excluded": True}, "computed with possible duplicates excluded"),
    ],
)
def test_a_previous_report_computed_otherwise_is_not_compared(
    sample_report: benchtest.Report, change: dict[str, Any], reason: str
) -> None:
    previous = msgspec.structs.replace(previous_of(sample_report), **change)
    changes = compare(sample_report, previous, 10_000).changes
    assert changes is not None
    assert changes.status == "unavailable"
    assert reason in changes.note
    assert changes.restated_days == ()


def good_json(sample_report: benchtest.Report) -> dict[str, Any]:
    return json.loads(benchtest.render(sample_report, "json"))


DECIMAL_AT_TOTAL = r"expected a decimal string such as '-12.30' - at `\$.total_balance`"


def day_field(field: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda d: {**d, "daily_balances": [{**d["daily_balances"][0], field: value}]}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: b"not json", "not a JSON report: JSON is malformed"),
        (lambda d: b"\xff\xfe{}", "not a JSON report"),
        (lambda d: b"[" * 100_000 + b"]" * 100_000, "Expected `object`, got `array`"),
        (
            lambda d: b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "not a JSON report: maximum recursion depth exceeded",
        ),
        (lambda d: b"[]", "Expected `object`, got `array`"),
        (
            lambda d: {**d, "total_balance": 5356.75},
            "Expected `str`, got `float` - at `\\$.total_balance`",
        ),
        (
            lambda d: {**d, "total_balance": "NaN"},
            r"expected a decimal string such as .* - at `\$.total_balance`",
        ),
        (
            lambda d: {**d, "total_balance": "1e3"},
            r"expected a decimal string such as .* - at `\$.total_balance`",
        ),
        (lambda d: {**d, "total_balance": "5356.70"}, "total_balance: not the last day's balance"),
        (lambda d: {**d, "transaction_count": True}, "Expected `int`, got `bool`"),
        (lambda d: {**d, "transaction_count": -1}, "Expected `int` >= 0"),
        (
            lambda d: {k: v for k, v in d.items() if k != "source"},
            "missing required field `source`",
        ),
        (lambda d: {**d, "daily_balances": {}}, "Expected `array`, got `object`"),
        (
            lambda d: {
                **d,
                "daily_balances": [
                    d["daily_balances"][0],
                    {**d["daily_balances"][0], "change": "0.00"},
                ],
                "total_balance": d["daily_balances"][0]["balance"],
            },
            r"daily_balances\[1\]\.date: not after the day before",
        ),
        (
            day_field("date", "2026-02-30"),
            r"Invalid RFC3339 encoded date - at `\$.daily_balances\[0\].date`",
        ),
        (
            day_field("balance", None),
            r"Expected `str`, got `null` - at `\$.daily_balances\[0\].balance`",
        ),
        (day_field("balance", "1.000"), r"daily_balances\[0\]\.balance: not the day before's plus"),
        (
            lambda d: {**d, "categories": [{**d["categories"][0], "transactions": None}]},
            r"categories\[0\]\.transactions: null, but transactions_listed",
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


def test_a_report_of_an_earlier_version_without_its_time_still_compares(
    sample_report: benchtest.Report,
) -> None:
    older = {k: v for k, v in good_json(sample_report).items() if not k.startswith("generated_")}
    previous = parse_previous(json.dumps(older).encode(), "old.json")
    changes = compare(sample_report, previous, 10_000).changes
    assert changes is not None
    assert (changes.status, changes.found) == ("compared", False)


def test_a_missing_previous_report_is_a_first_run_in_its_folder_an_error_without_one(
    tmp_path: Any,
) -> None:
    assert read_file(str(tmp_path / "missing.json"), MAX_PREVIOUS_BYTES) is None
    with pytest.raises(benchtest.StorageError, match=r"json: cannot read: no such file or folder"):
        read_file(str(tmp_path / "gone" / "missing.json"), MAX_PREVIOUS_BYTES)


# --- in every format --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reconciled(bench_pages: dict[int, bytes]) -> benchtest.Report:
    """The Bench ledger with one true and one false assertion, compared with a run of the day
    before: COSTCO was -742.79 then, and 2013-12-22's record was not there yet."""
    from tests.ledger_server import serve_ledger

    before = without_the_last_day(edited(bench_pages, 2, 7, Amount="-742.79"))
    with serve_ledger(before) as server:
        earlier = benchtest.run(settings(server.url)).report
        server.pages = dict(bench_pages)
        checks = assertions("2013-12-20=18500.00,2013-12-22=18377.16")
        report = benchtest.run(settings(server.url, assert_balance=checks)).report
    return compare(report, previous_of(earlier, "prev.json"), 10_000)


def test_the_table_names_the_transaction_the_restated_day_and_the_shift(
    reconciled: benchtest.Report,
) -> None:
    text = benchtest.render(reconciled, "table")
    section = text[text.index("Balance assertions") :]
    assert section.splitlines()[:4] == [
        "Balance assertions: 1 ok, 1 failed",
        "Date         Expected     Actual  Difference  Result",
        "----------  ---------  ---------  ----------  ------",
        "2013-12-20  18,500.00  18,505.85        5.85  FAILED",
    ]
    changes = text[text.index("Changes since the previous run") :]
    assert (
        changes.splitlines()[:21]
        == [
            "Changes since the previous run",
            "compared with prev.json: 1 restated day(s), 1 new day(s); "
            "transactions: 1 changed, 0 added, 0 removed",
            "Transactions:  37 before, +1",
            "Total balance: 18,387.87 before, -10.71",
            "",
            "Transactions added, removed or changed",
            "Transaction  Date        Category        Company                            Amount",
            "-----------  ----------  --------------  ---------------------------------  "
            "------------------",
            "changed      2013-12-18  Office Expense  COSTCO WHOLESALE #55 CO VANCOUVER  "
            "-742.79 -> -642.79",
            "",
            "Restated days: their own activity changed",
            "Restated day  Change before     Change  Difference",
            "------------  -------------  ---------  ----------",
            "2013-12-18        -1,941.29  -1,841.29     +100.00",
            "Balances from 2013-12-18 on shifted by +100.00",
            "",
            "New days:      1 (2013-12-22)",
            "",
            f"Generated {utc(reconciled.generated_at)} by benchtest {benchtest.__version__}",
        ][:21]
    )


def test_the_csv_marks_asserted_and_restated_days_and_changed_transactions(
    reconciled: benchtest.Report,
) -> None:
    rows = list(csv.DictReader(io.StringIO(benchtest.render(reconciled, "csv"))))
    by_date = {row["date"]: row for row in rows}
    assert by_date["2013-12-20"]["asserted_balance"] == "18500.00"
    assert by_date["2013-12-22"]["asserted_balance"] == "18377.16"
    assert by_date["2013-12-18"]["previous_balance"] == "2707.14"
    assert by_date["2013-12-18"]["transactions_changed"] == "1"
    marked = [
        r["date"]
        for r in rows
        if r["asserted_balance"] or r["previous_balance"] or r["transactions_changed"]
    ]
    assert marked == ["2013-12-18", "2013-12-20", "2013-12-22"]


def test_the_json_has_both_sections(reconciled: benchtest.Report) -> None:
    doc = json.loads(benchtest.render(reconciled, "json"))
    assert [a["ok"] for a in doc["assertions"]] == [False, True]
    changes = doc["changes"]
    assert changes["status"] == "compared"
    assert [d["date"] for d in changes["restated_days"]] == ["2013-12-18"]
    assert [d["date"] for d in changes["new_days"]] == ["2013-12-22"]
    assert (changes["total_balance_difference"], changes["transaction_count_difference"]) == (
        "-10.71",
        1,
    )
    assert changes["transactions_compared"] is True
    [change] = changes["transaction_changes"]
    assert (change["change"], change["previous"]["amount"], change["current"]["amount"]) == (
        "changed",
        "-742.79",
        "-642.79",
    )


def test_the_html_marks_assertions_on_the_chart_and_names_what_changed(
    reconciled: benchtest.Report,
) -> None:
    page = benchtest.render(reconciled, "html")
    wide = page[page.index('<svg class="chart wide"') : page.index("</svg>")]
    assert wide.count('<polygon class="assertion failed"') == 1
    assert wide.count('<polygon class="assertion ok"') == 1
    assert "Assertion 2013-12-20: expected 18,500.00, actual 18,505.85: FAILED" in page
    assert (
        '<tr class="restated" title="restated: change before \N{MINUS SIGN}1,941.29">'
        '<td class="date">2013-12-18</td>'
    ) in page
    assert (
        '<tr class="changed"><td>changed</td><td class="date">2013-12-18</td>'
        '<td class="text">Office Expense</td>'
        '<td class="text">COSTCO WHOLESALE #55 CO VANCOUVER</td>'
        '<td class="num"><span class="was">\N{MINUS SIGN}742.79</span> \N{RIGHTWARDS ARROW} '
        "\N{MINUS SIGN}642.79</td></tr>"
    ) in page
    assert '<p class="shift">Balances from 2013-12-18 on shifted by +100.00</p>' in page
    assert "compared with prev.json: 1 restated day(s), 1 new day(s)" in page
    assert 'id="reconciliation"' in page


def test_people_see_the_first_changes_and_the_json_all_of_them(serve: Serve) -> None:
    rows = [record("2024-01-02", f"-{i}.00", Company=f"C{i}") for i in range(1, 131)]
    earlier, now = two_runs(serve, make_pages(rows, 50), make_pages(rows[:-120], 50))
    report = compare(now, previous_of(earlier), 10_000)
    assert report.changes is not None
    assert len(report.changes.transaction_changes) == 120
    assert (
        len(json.loads(benchtest.render(report, "json"))["changes"]["transaction_changes"]) == 120
    )
    table = benchtest.render(report, "table")
    assert table.count("\nremoved ") == 100
    assert "... and 20 more (the JSON report lists them all)" in table
    page = benchtest.render(report, "html")
    assert page.count('<tr class="removed">') == 100
    assert "… and 20 more: the JSON report lists them all." in page


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


def test_cli_refuses_an_ambiguous_amount_quoting_exactly_what_was_given(tmp_path: Any) -> None:
    done = cli("--assert-balance", "2026-03-11=5,356.750,2026-03-10=1,000", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().endswith(
        "benchtest: error: option: assert_balance: expected DATE=AMOUNT such as "
        "2013-12-22=18377.16 or 2013-12-22=18,377.16, got '2026-03-10=1,000' "
        "(a comma may only separate thousands, with decimals: 1,000.00)"
    )


def test_cli_takes_the_amount_format_it_prints(tmp_path: Any) -> None:
    done = cli("-q", "--assert-balance", "2026-03-05=2,500.00,2026-03-11=5,356.75", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr == (
        "benchtest: balance assertion failed: 2026-03-05: expected 2,500.00, actual 2,498.41, "
        "difference -1.59\n"
    )


def restate(doc: dict[str, Any], delta: str) -> dict[str, Any]:
    """A report's JSON as if its first listed transaction had been ``delta`` more: that day's
    change, every balance from it on and the total follow, as in a real report."""
    [first, *_] = (t for c in doc["categories"] for t in c["transactions"])
    first["amount"] = plain(Decimal(first["amount"]) + Decimal(delta))
    for day in doc["daily_balances"]:
        if day["date"] == first["date"]:
            day["change"] = plain(Decimal(day["change"]) + Decimal(delta))
        if day["date"] >= first["date"]:
            day["balance"] = plain(Decimal(day["balance"]) + Decimal(delta))
    doc["total_balance"] = doc["daily_balances"][-1]["balance"]
    return doc


def previous_file(tmp_path: Any, delta: str | None = None) -> str:
    doc = json.loads(cli("--format", "json", cwd=tmp_path).stdout)
    (tmp_path / "prev.json").write_text(json.dumps(restate(doc, delta) if delta else doc))
    return "prev.json"


def test_cli_compares_with_a_previous_json_report(tmp_path: Any) -> None:
    done = cli("-q", "--format", "json", "--compare", previous_file(tmp_path, "0.05"), cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    changes = json.loads(done.stdout)["changes"]
    assert changes["status"] == "compared"
    [day] = changes["restated_days"]
    assert (day["change_difference"], day["balance_difference"]) == ("-0.05", "-0.05")
    [change] = changes["transaction_changes"]
    assert change["change"] == "changed"


def test_cli_fails_on_changes_only_when_asked_with_its_own_status(tmp_path: Any) -> None:
    previous = previous_file(tmp_path, "0.05")
    asked = cli("-q", "--compare", previous, "--fail-on-changes", cwd=tmp_path)
    assert asked.returncode == 4
    assert "Restated days: their own activity changed" in asked.stdout  # the report is complete
    assert asked.stderr == (
        "benchtest: changes since the previous report: 1 restated day(s); transactions: 1 changed\n"
    )
    assert cli("-q", "--compare", previous, cwd=tmp_path).returncode == 0
    same = cli("-q", "--compare", previous_file(tmp_path), "--fail-on-changes", cwd=tmp_path)
    assert (same.returncode, same.stderr) == (0, "")


def test_cli_a_failed_assertion_outranks_changes(tmp_path: Any) -> None:
    previous = previous_file(tmp_path, "0.05")
    args = ("-q", "--compare", previous, "--fail-on-changes", "--assert-balance", "2026-03-11=1")
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 3
    assert [line.split(":")[1] for line in done.stderr.splitlines()] == [
        " balance assertion failed",
        " changes since the previous report",
    ]


def test_cli_fail_on_changes_without_compare_is_a_usage_error(tmp_path: Any) -> None:
    done = cli("--fail-on-changes", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "benchtest: error: --fail-on-changes needs --compare PREVIOUS.json\n"


@pytest.mark.parametrize(
    ("content", "note"),
    [
        (None, "gone/prev.json: cannot read: no such file or folder"),
        (b"{", "prev.json: not a JSON report"),
        (b'{"source": "https://elsewhere/{page}"}', "prev.json: not a usable report"),
    ],
)
@pytest.mark.parametrize("fail_on_changes", [False, True])
def test_cli_reports_an_unusable_previous_report_and_exits_5(
    tmp_path: Any, content: bytes | None, note: str, fail_on_changes: bool
) -> None:
    if content is not None:
        (tmp_path / "prev.json").write_bytes(content)
    flags = ["--fail-on-changes"] if fail_on_changes else []
    path = "prev.json" if content is not None else "gone/prev.json"  # a missing folder
    done = cli("--format", "json", "--compare", path, *flags, cwd=tmp_path)
    assert done.returncode == 5
    changes = json.loads(done.stdout)["changes"]  # the report is complete, and says why
    assert changes["status"] == "unavailable"
    assert note in changes["note"]
    assert f"benchtest: warning: --compare: not compared: {note}" in done.stderr


def test_the_readmes_two_run_example_is_what_the_cli_prints(
    serve: Serve,
    bench_pages: dict[int, bytes],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme[readme.index('$ benchtest --url "$LEDGER" -o yesterday.json') :]
    example = example[: example.index("\n```")]
    shown = example[example.index("Changes since the previous run") : example.index("$ echo $?")]
    server = serve(bench_pages)
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "--url", server.url, "-o", "yesterday.json"]) == 0
    server.pages = edited(bench_pages, 2, 7, Amount="-742.79")
    code = main(["-q", "--url", server.url, "--compare", "yesterday.json", "--fail-on-changes"])
    out, err = capsys.readouterr()
    printed = out[out.index("Changes since the previous run") :] + err
    generated = re.compile(r"^Generated \S+ by", re.MULTILINE)
    assert generated.sub("Generated TIME by", printed) == generated.sub("Generated TIME by", shown)
    assert (code, example.splitlines()[-1]) == (4, "4")
