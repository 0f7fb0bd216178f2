"""The money core's edges a mutation run found unguarded (docs/mutation.md), through the CLI.

Each test names the change to benchtest/aggregate.py or reconcile.py it catches.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

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


def categories(doc: dict[str, Any]) -> list[tuple[str, int, str, list[tuple[int, int]]]]:
    return [
        (c["ledger"], c["count"], c["total"], [(t["page"], t["index"]) for t in c["transactions"]])
        for c in doc["categories"]
    ]


# --- duplicates excluded: every day's and category's numbers, not only the total ---------------

A = record("2024-01-02", "-10.00", Ledger="Office", Company="ACME")  # three times
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
        ("Office", 2, "-8.75", [(1, 0), (2, 2)]),
        ("Travel", 2, "2.50", [(1, 1), (2, 0)]),
        ("", 1, "100.00", [(3, 1)]),
    ]
    assert (kept["transaction_count"], kept["duplicate_count"], kept["duplicate_total"]) == (
        8,
        3,
        "-22.50",
    )
    everything = report(cli("--url", url, "--format", "json", "-q"))
    assert days(everything) == [
        ("2024-01-02", "-25.00", "-25.00", 4),
        ("2024-01-03", "-3.75", "-28.75", 3),
        ("2024-01-04", "100.00", "71.25", 1),
    ]
    assert [c[:3] for c in categories(everything)] == [
        ("Office", 4, "-28.75"),
        ("Travel", 3, "0.00"),
        ("", 1, "100.00"),
    ]


def test_a_ledger_without_duplicates_writes_their_total_as_money(cli: Cli, serve: Serve) -> None:
    """Catches ``duplicate_total`` summed from the int 0 (written ``0``, not ``"0.00"``)."""
    doc = report(cli("--url", serve(make_pages([B, D, E], 2)).url, "--format", "json", "-q"))
    assert (doc["duplicate_count"], doc["duplicate_total"]) == (0, "0.00")


# --- the comparison: its detail limit, at the boundary ------------------------------------------


def compared(cli: Cli, url: str, *args: str) -> dict[str, Any]:
    return report(cli("--url", url, "--compare", "prev.json", "--format", "json", "-q", *args))


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
    over = compared(cli, server.url, "--detail-limit", "3")["changes"]
    assert (over["transactions_compared"], over["transaction_changes"]) == (False, [])
    assert over["note"].endswith(
        "; transactions not compared: the previous report lists 4, more than the detail limit (3)"
    )


# --- the comparison: a previous report with no days, and a report with none ---------------------


def test_a_previous_report_of_an_empty_ledger_makes_every_day_new(cli: Cli, serve: Serve) -> None:
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
