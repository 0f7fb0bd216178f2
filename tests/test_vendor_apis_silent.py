"""Issue 24's silent cases: each wrong balance that once exited 0 is now right, or one line
and a non-zero exit; on the eight vendor APIs of tests/vendor_apis.py, whose evidence (the
ledger, the servers' auth and paging) is checked here too."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import pytest

from benchtest.settings import DECLARED as SETTINGS
from benchtest.source import serving
from tests.ledger_server import RouteServer
from tests.vendor_apis import (
    APIS,
    COUNTED,
    LEDGER,
    MERCURY,
    MERCURY_START,
    OPEN_BANKING,
    ORIGIN,
    PLAID,
    RAMP,
    SHOPIFY,
    STRIPE,
    TOTAL,
    Api,
    VendorCli,
    expected,
    figures,
    listed,
    local,
    serve,
)

# --- the evidence itself --------------------------------------------------------------------


def test_the_ledger_is_what_the_evidence_says() -> None:
    assert len(LEDGER) == 30
    assert sum(t.amount for t in COUNTED) == TOTAL == Decimal("3902.42")
    states = [t.state for t in LEDGER]
    assert (states.count("pending"), states.count("void")) == (3, 2)
    assert sum(t.foreign for t in LEDGER) == 3
    assert len(COUNTED) == 22
    # each calendar moves some records off their UTC date: a zone mistake shows in the days
    for api in APIS:
        assert sum(local(t, api.zone).date() != t.at.date() for t in COUNTED) >= 2, api.name
    left_out = {api.name: expected(api).left_out for api in APIS}
    assert left_out == {
        "stripe": 3,  # EUR
        "plaid": 3,  # pending
        "mercury": 5,  # pending, cancelled
        "open_banking": 6,  # Pending, EUR
        "xero": 5,  # DELETED, EUR
        "paypal": 8,  # P, D, EUR
        "shopify": 0,
        "ramp": 5,  # PENDING, DECLINED
    }


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_each_description_uses_only_declared_settings(api: Api) -> None:
    overrides = api.overrides()
    assert set(overrides) <= {s.name for s in SETTINGS}
    assert overrides["url"].startswith(ORIGIN + "/")
    assert all(value and value == value.strip() for value in overrides.values())


def ask(url: str, headers: dict[str, str], data: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("api", [a for a in APIS if a.post is None], ids=lambda a: a.name)
def test_each_server_wants_its_documented_auth_headers(api: Api) -> None:
    with serve(api) as server:
        first = api.section(server.origin).split("url = ", 1)[1].split("\n", 1)[0]
        first = first.format(page=1, offset=0, limit=10)
        assert ask(first, {})[0] == 401
        status, doc = ask(first, {api.auth_header: api.token, **api.headers})
    assert status == 200
    assert isinstance(doc, dict)


def test_plaid_pages_by_post_body_only() -> None:
    headers = {"PLAID-SECRET": PLAID.token, **PLAID.headers, "Content-Type": "application/json"}
    with serve(PLAID) as server:
        url = server.origin + "/transactions/get"
        assert ask(url, headers)[0] == 405
        seen: list[dict[str, Any]] = []
        offset = 0
        while True:
            request: dict[str, Any] = {"access_token": "a", "start_date": "2024-03-01"}
            request |= {"end_date": "2024-04-10", "options": {"count": 10, "offset": offset}}
            status, doc = ask(url, headers, json.dumps(request).encode())
            assert status == 200
            seen += doc["transactions"]
            offset += 10
            if offset >= doc["total_transactions"]:
                break
    assert len(seen) == len(listed(PLAID)) == 25
    moved_out = sum(Decimal(str(r["amount"])) for r in seen if not r["pending"])
    assert moved_out == -TOTAL  # Plaid's sign: positive is money out


# --- the silent cases, each right or one line now --------------------------------------------


def line(run: Any) -> str:
    assert run.out == "" or run.code in (3, 6)  # an error writes no report
    assert len(run.err) == 1, run.err
    return str(run.err[0])


def test_1_a_sign_in_another_field_or_inverted_reads_right_and_a_wrong_value_is_refused(
    vendor_cli: VendorCli,
) -> None:
    """Ramp (positive is money out) and Open Banking (unsigned, CreditDebitIndicator) are
    exact with their sign rules (tests/test_vendor_apis.py); a direction that is not one of
    sign_values is a bad record, never a guess."""
    wrong = OPEN_BANKING.conf.replace("Credit=+, Debit=-", "Credit=+, DEBIT=-")
    run, _ = vendor_cli(OPEN_BANKING, wrong)
    assert run.code == 1
    assert re.fullmatch(
        r"benchtest: error: page 1: Data\.Transaction\[\d+\]\.CreditDebitIndicator: 'Debit' is "
        r"not one of sign_values \(Credit, DEBIT\)",
        line(run),
    )


def test_2_a_misdescribed_next_page_path_is_one_line_listing_the_keys(
    vendor_cli: VendorCli,
) -> None:
    """Ramp's next URL is at page.next; next_path left at its default (next) is absent from
    page 1: not the end, a misdescription."""
    run, server = vendor_cli(RAMP, RAMP.conf.replace("next_path = page.next\n", ""))
    assert run.code == 1
    assert line(run).startswith("benchtest: error: page 1: next: missing, but each page names ")
    assert line(run).endswith("; the page has 'data', 'page'")
    assert len(server.asked) == 1


def test_3_a_page_served_again_under_another_cursor_is_a_loop(cli: Any) -> None:
    """A cursor API that serves page 2 again for cursor "02": the same records in the same
    order, whatever the URL."""
    rows = [
        {"Date": "2024-01-02", "Ledger": "", "Amount": f"{n}.00", "Company": "C"} for n in range(6)
    ]
    bodies = {
        "/c": {"transactions": rows[:2], "next": "2"},
        "/c?cursor=2": {"transactions": rows[2:4], "next": "02"},
        "/c?cursor=02": {"transactions": rows[2:4], "next": "3"},
        "/c?cursor=3": {"transactions": rows[4:], "next": None},
    }
    routes = {url: (json.dumps(doc).encode(), {}) for url, doc in bodies.items()}
    with serving(RouteServer(routes)) as server:
        run = cli("--url", server.origin + "/c", "--paging", "cursor", "--format", "json", "-q")
    assert run.code == 1
    assert line(run).startswith(
        "benchtest: error: page 3: the same records as page 2: the pages loop"
    )


def test_4_a_style_that_reads_the_body_with_records_as_the_body_is_refused_at_start(
    cli: Any,
) -> None:
    run = cli("--url", "http://127.0.0.1:9/c", "--paging", "cursor", "--records-path", "$")
    assert run.code == 2
    assert line(run).startswith(
        "benchtest: error: option: records_path: $ (the body is the list of records), but "
        "paging = cursor reads next_path"
    )


def test_5_an_empty_ledger_is_not_a_plain_success(vendor_cli: VendorCli) -> None:
    """Mercury's start defaults to 30 days before today, which holds none of this ledger."""
    without_start = MERCURY.conf.replace(f"&start={MERCURY_START}", "")
    run, _ = vendor_cli(MERCURY, without_start)
    assert run.code == 6
    assert "the ledger is empty" in line(run)
    assert figures(run.out) == (Decimal("0.00"), [], 0)
    run, _ = vendor_cli(MERCURY, without_start, "--allow-empty")
    assert (run.code, run.err) == (0, [])


def test_6_timestamps_need_a_calendar_never_a_silent_utc(vendor_cli: VendorCli) -> None:
    """Shopify's processed_at carries the shop's offset: without time_zone, refused at start."""
    run, server = vendor_cli(SHOPIFY, SHOPIFY.conf.replace("time_zone = America/New_York\n", ""))
    assert run.code == 2
    assert line(run).startswith(
        "benchtest: error: time_zone: date_form = timestamp needs the calendar whose days "
    )
    assert server.asked == []


def test_7_two_currencies_are_never_added_into_one_balance(vendor_cli: VendorCli) -> None:
    """Stripe serves USD and EUR: without currency, refused naming both."""
    run, _ = vendor_cli(STRIPE, STRIPE.conf.replace("currency = USD\n", ""))
    assert run.code == 1
    assert re.search(r"EUR.*USD|USD.*EUR", line(run))
    assert "set currency to the one it is for" in line(run)
