"""The money core's edges a mutation run found unguarded (docs/mutation.md), through the CLI.

Each test says which change to benchtest/aggregate.py, duplicates.py or reconcile.py it catches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchtest import aggregate
from benchtest.reconcile import MAX_PREVIOUS_BYTES, MAX_PREVIOUS_VALUES
from tests.conftest import CliRun
from tests.ledger_server import LedgerServer
from tests.support import make_pages, record

Cli = Callable[..., CliRun]
Serve = Callable[..., LedgerServer]


def report(run: CliRun) -> dict[str, Any]:
    assert (run.code, run.err) == (0, [])
    return json.loads(run.out)


def days(doc: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(d["date"], d["change"], d["balance"], d["count"]) for d in doc["daily_balances"]]


def categories(doc: dict[str, Any]) -> list[tuple[str, str, int, str, list[tuple[int, int]]]]:
    return [
        (
            c["name"],
            c["ledger"],
            c["count"],
            c["total"],
            [(t["page"], t["index"]) for t in c["transactions"]],
        )
        for c in doc["categories"]
    ]


# --- duplicates excluded: every day's and category's numbers, not only the total ---------------

A = record("2024-01-02", "-10.00", Ledger="Office")  # ACME VANCOUVER BC, three times
B = record("2024-01-02", "5.00", Ledger="Travel", Company="AIR")
C = record("2024-01-03", "-2.50", Ledger="Travel", Company="TAXI")  # twice
D = record("2024-01-03", "1.25", Ledger="Office", Company="PENS")
E = record("2024-01-04", "100.00", Ledger="", Company="PAY")
REPEATS = make_pages([A, B, A, C, A, D, C, E], per_page=3)  # pages [A B A] [C A D] [C E]


def test_excluding_duplicates_takes_their_extra_copies_off_each_day_and_category(
    cli: Cli, serve: Serve
) -> None:
    """Catches the duplicate adjustment of `Aggregator.report` made the wrong way (or by the
    wrong number of copies) for a day's count or a category's total or count."""
    url = serve(REPEATS).url
    kept = report(cli("--url", url, "--exclude-duplicates", "--format", "json", "-q"))
    assert days(kept) == [
        ("2024-01-02", "-5.00", "-5.00", 2),
        ("2024-01-03", "-1.25", "-6.25", 2),
        ("2024-01-04", "100.00", "93.75", 1),
    ]
    assert categories(kept) == [
        ("Office", "Office", 2, "-8.75", [(1, 0), (2, 2)]),
        ("Travel", "Travel", 2, "2.50", [(1, 1), (2, 0)]),
        ("Uncategorized", "", 1, "100.00", [(3, 1)]),
    ]
    assert [t["vendor"] for t in kept["categories"][0]["transactions"]] == ["ACME", "PENS"]
    shape = ("page_count", "transaction_count", "first_date", "last_date", "gap_days_filled")
    assert [kept[key] for key in shape] == [3, 8, "2024-01-02", "2024-01-04", True]
    assert (kept["duplicate_count"], kept["duplicate_total"]) == (3, "-22.50")
    assert [(d["ledger"], d["company"], d["vendor"], d["count"]) for d in kept["duplicates"]] == [
        ("Office", "ACME VANCOUVER BC", "ACME", 3),
        ("Travel", "TAXI", "TAXI", 2),
    ]
    everything = report(cli("--url", url, "--format", "json", "-q"))
    assert days(everything) == [
        ("2024-01-02", "-25.00", "-25.00", 4),
        ("2024-01-03", "-3.75", "-28.75", 3),
        ("2024-01-04", "100.00", "71.25", 1),
    ]
    assert categories(everything) == [
        ("Office", "Office", 4, "-28.75", [(1, 0), (1, 2), (2, 1), (2, 2)]),
        ("Travel", "Travel", 3, "0.00", [(1, 1), (2, 0), (3, 0)]),
        ("Uncategorized", "", 1, "100.00", [(3, 1)]),
    ]


def test_a_ledger_without_duplicates_writes_their_total_as_money(cli: Cli, serve: Serve) -> None:
    """Catches ``duplicate_total`` written other than as money (``0`` or ``"0"``)."""
    doc = report(cli("--url", serve(make_pages([B, D, E], 2)).url, "--format", "json", "-q"))
    assert (doc["duplicate_count"], doc["duplicate_total"]) == (0, "0.00")


def with_currency(code: str, **fields: Any) -> dict[str, Any]:
    return {**record(**fields), "Currency": code}


def test_the_report_is_in_the_records_currency_and_one_only(cli: Cli, serve: Serve) -> None:
    """Catches the records' currency lost on its way to the report, and a second currency on
    a later page let through (or refused naming the wrong page)."""
    server = serve(make_pages([with_currency("usd"), with_currency("usd", amount="2.00")], 1))
    url, args = server.url, ("--currency-field", "Currency", "--concurrency", "1", "-q")
    doc = report(cli("--url", url, *args, "--format", "json"))
    assert (doc["currency"], doc["total_balance"], doc["left_out"]) == ("USD", "1.00", None)
    server.pages = make_pages([with_currency("USD"), with_currency("USD"), with_currency("EUR")], 1)
    run = cli("--url", url, *args)
    assert (run.code, run.out) == (1, "")
    assert run.err == [
        "benchtest: error: page 3: records in EUR, and in USD on page 1: a report is in one "
        "currency; set currency to the one it is for"
    ]


def test_records_left_out_are_counted_on_every_page(cli: Cli, serve: Serve) -> None:
    """Catches the counts of records left out (by the filter, or in another currency) kept
    for one page only, or not at all."""
    pending = {"Status": "pending"}
    pages = make_pages(
        [
            with_currency("USD", **pending),
            with_currency("EUR"),
            with_currency("USD", amount="3.00"),
            with_currency("EUR", **pending),
            with_currency("GBP"),
            with_currency("USD", **pending),
        ],
        2,
    )
    filters = ("--skip-field", "Status", "--skip-values", "pending")
    doc = report(
        cli(
            "--url",
            serve(pages).url,
            "--currency-field",
            "Currency",
            "--currency",
            "USD",
            *filters,
            "--format",
            "json",
            "-q",
        )
    )
    assert (doc["currency"], doc["total_balance"], doc["transaction_count"]) == ("USD", "3.00", 1)
    assert doc["left_out"] == {"filtered": 3, "other_currency": 2}


def test_more_distinct_categories_than_the_bound_are_refused_at_the_page_past_it(
    cli: Cli, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catches the bound on categories off by one, never reached, or naming no page."""
    monkeypatch.setattr(aggregate, "MAX_CATEGORIES", 3)
    server = serve(make_pages([B, D, E, B], 2))  # three categories: the bound, not past it
    args = ("--url", server.url, "--concurrency", "1", "-q")
    assert cli(*args).code == 0
    server.pages = make_pages([B, D, E, record(Ledger="Fourth")], 2)
    run = cli(*args)
    assert (run.code, run.err) == (
        1,
        ["benchtest: error: page 2: more than 3 distinct categories (Ledger values) in the ledger"],
    )


@pytest.mark.parametrize(
    ("dates", "named"),
    [
        (
            ["2024-01-01", "2024-01-01", "2024-01-20"],
            "2024-01-01 on page 1 to 2024-01-20 on page 3",
        ),
        (
            ["2024-01-20", "2024-01-20", "2024-01-01"],
            "2024-01-01 on page 3 to 2024-01-20 on page 1",
        ),
    ],
)
def test_a_span_too_long_names_the_first_page_of_each_end(
    cli: Cli, serve: Serve, dates: list[str], named: str
) -> None:
    """Catches a later page holding the same first or last date named instead (pages in order)."""
    pages = make_pages([record(day, f"{n}.00") for n, day in enumerate(dates)], 1)
    run = cli("--url", serve(pages).url, "--max-days", "10", "--concurrency", "1", "-q")
    assert (run.code, run.err) == (
        1,
        [
            f"benchtest: error: page 3: the dates span 20 days ({named}), more than the 10 days "
            "a report lists; use --active-days-only to list only days with transactions, or "
            "raise --max-days"
        ],
    )


# --- the comparison: its detail limit, at the boundary ------------------------------------------


def compared(cli: Cli, url: str, *args: str) -> dict[str, Any]:
    """The JSON report of a run compared with prev.json: nothing on stderr (not -q)."""
    return report(cli("--url", url, "--compare", "prev.json", "--format", "json", *args))


def test_the_detail_limit_compares_a_previous_listing_of_exactly_that_many(
    cli: Cli, serve: Serve
) -> None:
    """Catches the comparison's ``detail_limit`` dropped (the default 10,000 used) or off by
    one: the previous report lists 4 transactions, this one 3 (one removed)."""
    server = serve(make_pages([B, C, D, E], 2))
    assert cli("--url", server.url, "-o", "prev.json", "-q").code == 0
    server.pages = make_pages([B, C, D], 2)
    at_limit = compared(cli, server.url, "--detail-limit", "4")["changes"]
    assert at_limit["transactions_compared"] is True
    changes = at_limit["transaction_changes"]
    assert [(c["change"], c["previous"]["amount"]) for c in changes] == [("removed", "100.00")]
    doc = compared(cli, server.url, "--detail-limit", "3")  # lists its 3 (at its limit)
    assert doc["transactions_listed"] is True
    over = doc["changes"]
    assert (over["transactions_compared"], over["transaction_changes"]) == (False, [])
    assert over["note"] == (
        "compared with prev.json: 1 restated day(s), 0 new day(s); transactions not compared: "
        "the previous report lists 4, more than the detail limit (3)"
    )


@pytest.mark.parametrize(
    ("before", "first", "second", "note"),
    [
        (
            [B, C, D],
            ["--detail-limit", "2"],
            [],
            "0 restated day(s), 0 new day(s); "
            "transactions not compared: the previous report does not list them (the detail limit)",
        ),
        (
            [B, C],
            [],
            ["--detail-limit", "2"],
            "1 restated day(s), 0 new day(s); "
            "transactions not compared: this report does not list them (the detail limit)",
        ),
    ],
    ids=["previous-not-listed", "this-not-listed"],
)
def test_transactions_are_compared_only_when_both_reports_list_them(
    cli: Cli, serve: Serve, before: list[Any], first: list[str], second: list[str], note: str
) -> None:
    """Catches a report that does not list its transactions read as one that lists none (every
    transaction then "added") and the note naming the wrong report."""
    server = serve(make_pages(before, 2))
    assert cli("--url", server.url, "-o", "prev.json", "-q", *first).code == 0
    server.pages = make_pages([B, C, D], 2)
    doc = compared(cli, server.url, *second)
    if second:  # this report lists none: null, not an empty list
        assert [c["transactions"] for c in doc["categories"]] == [None, None]
    changes = doc["changes"]
    assert (changes["transactions_compared"], changes["transaction_changes"]) == (False, [])
    assert changes["note"] == f"compared with prev.json: {note}"


def test_a_previous_report_with_duplicates_included_is_not_compared_with_them_excluded(
    cli: Cli, serve: Serve
) -> None:
    """Catches the note saying "excluded" whichever way the previous report was computed."""
    server = serve(REPEATS)
    assert cli("--url", server.url, "-o", "prev.json", "-q").code == 0
    run = cli(
        "--url",
        server.url,
        "--compare",
        "prev.json",
        "--exclude-duplicates",
        "--format",
        "json",
    )
    note = "not compared: prev.json was computed with possible duplicates included"
    assert (run.code, json.loads(run.out)["changes"]["note"]) == (5, note)
    assert run.err == [f"benchtest: warning: --compare: {note}"]


def test_a_missing_previous_report_is_a_first_run_noted_on_stderr(cli: Cli) -> None:
    """Catches the first run's section or its note on stderr changed or dropped."""
    run = cli("--compare", "prev.json", "--format", "json")
    assert run.code == 0
    assert json.loads(run.out)["changes"] == {
        "status": "first_run",
        "note": "first run: nothing to compare",
        "previous": None,
        "previous_transaction_count": None,
        "transaction_count_difference": None,
        "previous_total_balance": None,
        "total_balance_difference": None,
        "transactions_compared": False,
        "transaction_changes": [],
        "restated_days": [],
        "new_days": [],
    }
    assert run.err[-1] == "benchtest: note: --compare: first run: nothing to compare"


def padded(data: bytes, size: int) -> bytes:
    """``data`` with spaces before its closing brace, ``size`` bytes in all."""
    return data[:-1] + b" " * (size - len(data)) + b"}"


def with_values(data: bytes, values: int) -> bytes:
    """``data`` with a field the report does not have, to ``values`` JSON values in all."""
    counted = data.count(b",") + data.count(b"{") + data.count(b"[")
    return data[:-1] + b', "padding": [' + b",".join([b"0"] * (values - counted - 1)) + b"]}"


@pytest.mark.parametrize(
    ("make", "note"),
    [
        (lambda data: padded(data, MAX_PREVIOUS_BYTES), None),
        (
            lambda data: padded(data, MAX_PREVIOUS_BYTES + 1),
            f"prev.json: larger than {MAX_PREVIOUS_BYTES:,} bytes",
        ),
        (lambda data: with_values(data, MAX_PREVIOUS_VALUES), None),
        (
            lambda data: with_values(data, MAX_PREVIOUS_VALUES + 1),
            f"prev.json: not a usable report: {MAX_PREVIOUS_VALUES + 1:,} JSON values, more than "
            f"the {MAX_PREVIOUS_VALUES:,} a report may hold",
        ),
        (
            lambda data: data.replace(b'"total_balance": "3.75"', b'"total_balance": "3.74"'),
            "prev.json: not a usable report: total_balance: not the last day's balance",
        ),
    ],
    ids=["bytes-at-bound", "bytes-past", "values-at-bound", "values-past", "total-not-last"],
)
def test_a_previous_report_is_read_up_to_its_bounds_exactly(
    cli: Cli, serve: Serve, tmp_path: Path, make: Callable[[bytes], bytes], note: str | None
) -> None:
    """Catches each bound off by one or miscounted, and the check that the total adds up."""
    server = serve(make_pages([B, C, D], 2))
    assert cli("--url", server.url, "-o", "prev.json", "-q").code == 0
    (tmp_path / "prev.json").write_bytes(make((tmp_path / "prev.json").read_bytes().strip()))
    run = cli("--url", server.url, "--compare", "prev.json", "--format", "json", "-q")
    changes = json.loads(run.out)["changes"]
    if note is None:
        assert (run.code, changes["status"]) == (0, "compared")
    else:
        assert (run.code, changes["note"]) == (5, f"not compared: {note}")


# --- the comparison: a previous report with no days, and a report with none ---------------------


def test_a_previous_report_of_an_empty_ledger_makes_every_day_new(cli: Cli, serve: Serve) -> None:
    """Catches a previous report with no days read as if it had a last day."""
    server = serve(make_pages([], 10))
    assert cli("--url", server.url, "--allow-empty", "-o", "prev.json", "-q").code == 0
    server.pages = make_pages([B, C, D], 2)
    changes = compared(cli, server.url)["changes"]
    assert changes["status"] == "compared"
    assert changes["note"] == (
        "compared with prev.json: 0 restated day(s), 2 new day(s); "
        "transactions: 0 changed, 0 added, 0 removed"
    )
    assert [(d["date"], d["balance"]) for d in changes["new_days"]] == [
        ("2024-01-02", "5.00"),
        ("2024-01-03", "3.75"),
    ]
    assert (changes["restated_days"], changes["transaction_changes"]) == ([], [])
    assert (changes["previous_transaction_count"], changes["transaction_count_difference"]) == (
        0,
        3,
    )
    assert (changes["previous_total_balance"], changes["total_balance_difference"]) == (
        "0.00",
        "3.75",
    )


def test_an_empty_ledger_after_a_full_one_restates_every_day(cli: Cli, serve: Serve) -> None:
    """Catches days missing from this report not compared (their change is 0 now)."""
    server = serve(make_pages([B, C, D], 2))
    assert cli("--url", server.url, "-o", "prev.json", "-q").code == 0
    server.pages = make_pages([], 10)
    changes = compared(cli, server.url, "--allow-empty")["changes"]
    assert [
        (d["date"], d["change_difference"], d["balance"]) for d in changes["restated_days"]
    ] == [
        ("2024-01-02", "-5.00", "0.00"),
        ("2024-01-03", "1.25", "0.00"),
    ]
    assert [(c["change"], c["previous"]["amount"]) for c in changes["transaction_changes"]] == [
        ("removed", "5.00"),
        ("removed", "-2.50"),
        ("removed", "1.25"),
    ]
    assert (changes["new_days"], changes["total_balance_difference"]) == ([], "-3.75")


# --- exact reconciliation: differences that 28 digits (decimal's default) would round ----------

BIG = "12345678901234567890.123456789012"  # 32 digits: the default context keeps 28
HUGE = "-98765432109876543210.987654321098"


def test_reconciliation_is_exact_past_28_digits(cli: Cli, serve: Serve) -> None:
    """Catches each ``localcontext(EXACT)`` of benchtest/reconcile.py made the default context:
    the assertion's difference, the previous report's check that its balances add up (a
    rounded sum would refuse it), the comparison's differences."""
    small = "0.000000000001"
    server = serve(make_pages([record("2024-01-02", BIG), record("2024-01-03", small)], 1))
    assert cli("--url", server.url, "-o", "prev.json", "-q").code == 0
    server.pages = make_pages([record("2024-01-02", BIG), record("2024-01-03", HUGE)], 1)
    run = cli(
        "--url",
        server.url,
        "--compare",
        "prev.json",
        "--format",
        "json",
        "-q",
        "--assert-balance",
        f"2024-01-03={small}",
    )
    assert (run.code, len(run.err)) == (3, 1)  # the assertion fails, as it should
    doc = json.loads(run.out)
    check = doc["assertions"][0]
    assert (check["actual"], check["difference"]) == (
        "-86419753208641975320.864197532086",
        "-86419753208641975320.864197532087",
    )
    changes = doc["changes"]
    assert (changes["status"], changes["previous_total_balance"]) == (
        "compared",
        "12345678901234567890.123456789013",
    )
    difference = "-98765432109876543210.987654321099"
    restated = [(d["change_difference"], d["balance_difference"]) for d in changes["restated_days"]]
    assert restated == [(difference, difference)]
    assert changes["total_balance_difference"] == difference
