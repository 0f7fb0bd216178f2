"""The real Bench ledger (../shared/bench-sample), served on loopback: exact published figures."""

from __future__ import annotations

import pytest

import benchtest
from tests.support import settings

# Date, change, running balance: the spec's figures, every calendar day (12-14 had no activity).
BENCH_DAYS = [
    ("2013-12-12", "-227.35", "-227.35"),
    ("2013-12-13", "-1229.58", "-1456.93"),
    ("2013-12-14", "0.00", "-1456.93"),
    ("2013-12-15", "-5.39", "-1462.32"),
    ("2013-12-16", "-4575.53", "-6037.85"),
    ("2013-12-17", "10686.28", "4648.43"),
    ("2013-12-18", "-1841.29", "2807.14"),
    ("2013-12-19", "19753.31", "22560.45"),
    ("2013-12-20", "-4054.60", "18505.85"),
    ("2013-12-21", "-17.98", "18487.87"),
    ("2013-12-22", "-110.71", "18377.16"),
]


@pytest.mark.parametrize("concurrency", [1, 8])
def test_bench_total_and_daily_balances_are_exact(serve, bench_pages, concurrency):
    server = serve(bench_pages)
    report = benchtest.run(settings(server.url, concurrency=concurrency)).report.to_dict()
    assert report["total_balance"] == "18377.16"
    assert report["transaction_count"] == 38
    assert report["page_count"] == 4
    assert (report["first_date"], report["last_date"]) == ("2013-12-12", "2013-12-22")
    days = [(d["date"], d["change"], d["balance"]) for d in report["daily_balances"]]
    assert days == BENCH_DAYS
    assert sum(d["count"] for d in report["daily_balances"]) == 38


def test_bench_active_days_only_drops_the_empty_day(serve, bench_pages):
    server = serve(bench_pages)
    report = benchtest.run(settings(server.url, active_days_only=True)).report.to_dict()
    days = [(d["date"], d["change"], d["balance"]) for d in report["daily_balances"]]
    assert days == [day for day in BENCH_DAYS if day[0] != "2013-12-14"]
    assert report["gap_days_filled"] is False


def test_bench_duplicates_are_reported_and_excluded_only_on_request(serve, bench_pages):
    server = serve(bench_pages)
    included = benchtest.run(settings(server.url)).report.to_dict()
    excluded = benchtest.run(settings(server.url, exclude_duplicates=True)).report.to_dict()
    groups = {(d["date"], d["vendor"], d["amount"], d["count"]) for d in included["duplicates"]}
    assert groups == {
        ("2013-12-20", "NINJA STAR WORLD", "-1874.75", 2),
        ("2013-12-18", "YELLOW CAB CO LTD", "-10.90", 2),
    }
    assert included["duplicate_total"] == "-1885.65"
    assert included["total_balance"] == "18377.16"
    assert excluded["total_balance"] == "20262.81"
    assert excluded["daily_balances"][-1]["balance"] == "20262.81"
    assert excluded["duplicates"] == included["duplicates"]  # still reported
    assert sum(c["count"] for c in excluded["categories"]) == 36


def test_bench_categories_add_up_and_list_their_transactions(serve, bench_pages):
    server = serve(bench_pages)
    report = benchtest.run(settings(server.url)).report.to_dict()
    by_name = {c["name"]: c for c in report["categories"]}
    assert by_name["Uncategorized"]["ledger"] == ""
    assert by_name["Uncategorized"]["total"] == "35907.85"
    assert by_name["Uncategorized"]["count"] == 4
    assert by_name["Equipment Expense"]["total"] == "-9788.52"
    listed = [t for c in report["categories"] for t in c["transactions"]]
    assert len(listed) == 38
    assert len({(t["page"], t["index"]) for t in listed}) == 38
    dropbox = next(t for t in listed if t["company"].startswith("DROPBOX"))
    assert (dropbox["vendor"], dropbox["amount"], dropbox["page"], dropbox["index"]) == (
        "DROPBOX",
        "-10.99",
        1,
        8,
    )


def test_above_the_detail_limit_only_aggregates_are_kept(serve, bench_pages):
    server = serve(bench_pages)
    report = benchtest.run(settings(server.url, detail_limit=20)).report.to_dict()
    assert report["transactions_listed"] is False
    assert all(c["transactions"] is None for c in report["categories"])
    assert report["total_balance"] == "18377.16"  # the aggregates are complete
    assert sum(c["count"] for c in report["categories"]) == 38
