"""The fetcher against a real loopback server: concurrency, recovery from faults, guards."""

from __future__ import annotations

import re
import time

import pytest

import benchtest
from benchtest import DataError, FetchError
from benchtest.source import PageHandler, PageServer, serving
from tests.support import make_pages, record, settings

# 40 transactions, 10 pages of 4: total -40.00.
LEDGER = [record(date=f"2024-01-{1 + i % 20:02d}", Company=f"VENDOR {i}") for i in range(40)]
PAGES = make_pages(LEDGER, per_page=4)


def run(url, **changes):
    return benchtest.run(settings(url, **changes))


def test_pages_are_fetched_in_parallel(serve):
    server = serve(PAGES, latency=0.1)
    result = run(server.url, concurrency=8)
    assert result.report.to_dict()["total_balance"] == "-40.00"
    assert server.max_in_flight >= 4
    # page 1 first, then 2..10 and 11 (the 404) in parallel: about 2 round trips, not 11.
    assert result.stats.seconds < 0.1 * 6


def test_concurrency_one_is_sequential(serve):
    server = serve(PAGES, latency=0.01)
    run(server.url, concurrency=1)
    assert server.max_in_flight == 1


def test_every_page_and_the_end_marker_are_requested_once(serve):
    server = serve(PAGES)
    result = run(server.url)
    assert server.page_requests == {n: 1 for n in range(1, 12)}
    assert (result.stats.pages, result.stats.requests, result.stats.retries) == (10, 11, 0)


@pytest.mark.parametrize(
    "faults",
    [
        ["500"],
        ["502", "503"],
        ["504"],
        ["429"],
        ["503@0"],
        ["reset"],
        ["reset", "500", "reset"],
        ["delay=1.0"],  # longer than the 0.3 s read timeout below: a timeout, then a retry
    ],
    ids=lambda faults: "+".join(faults),
)
@pytest.mark.parametrize("page", [1, 3, 10])
def test_transient_faults_recover_to_the_exact_result(serve, faults, page):
    server = serve(PAGES, faults={page: list(faults)})
    # A read timeout short enough for the delay fault to trip it, and no other: on a loaded
    # machine a 0.3 s timeout also trips on ordinary answers, and the counts below would not hold.
    timeout = 0.3 if any(f.startswith("delay") for f in faults) else 10.0
    result = run(server.url, timeout=timeout, retries=4)
    assert result.report.to_dict()["total_balance"] == "-40.00"
    assert result.report.to_dict()["transaction_count"] == 40
    assert server.page_requests[page] == 1 + len(faults)
    assert server.requests == 11 + len(faults)
    assert result.stats.retries == len(faults)
    assert result.stats.requests == server.requests


def test_retries_honour_retry_after(serve):
    server = serve(PAGES, faults={2: ["429@1"]})
    started = time.monotonic()
    result = run(server.url)
    assert time.monotonic() - started >= 0.95
    assert result.stats.retries == 1


def test_a_retry_after_over_the_cap_fails_at_once(serve):
    server = serve(PAGES, faults={2: ["503@3600"]})
    started = time.monotonic()
    message = r"^page 2: HTTP 503 asks to wait 3,600s before a retry .* over the cap of 0.2s"
    with pytest.raises(FetchError, match=message):
        run(server.url, retry_after_cap=0.2)
    assert time.monotonic() - started < 2
    assert server.page_requests[2] == 1


def test_retry_after_past_the_deadline_fails_at_once(serve):
    server = serve(PAGES, faults={2: ["503@60"]})
    started = time.monotonic()
    message = r"^page 2: deadline of 2s reached: a retry would have to wait 60.0s$"
    with pytest.raises(FetchError, match=message):
        run(server.url, retry_after_cap=60, deadline=2)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("503", r"^page 4: HTTP 503 after 3 attempts$"),
        ("429", r"^page 4: HTTP 429 after 3 attempts$"),
        ("reset", r"^page 4: 127\.0\.0\.1:\d+ closed the connection without answering \(after 3"),
    ],
)
def test_a_page_that_keeps_failing_fails_the_run(serve, fault, message):
    server = serve(PAGES, faults={4: [fault] * 10})
    with pytest.raises(FetchError, match=message):
        run(server.url, retries=2)
    assert server.page_requests[4] == 3  # bounded: 1 + 2 retries


def test_404_is_not_retried_and_page_one_404_means_no_ledger(serve):
    server = serve({})
    with pytest.raises(FetchError, match=r"^page 1: HTTP 404: no ledger at this URL$"):
        run(server.url)
    assert server.requests == 1


def test_a_missing_middle_page_fails(serve):
    pages = dict(PAGES)
    del pages[6]
    server = serve(pages)
    with pytest.raises(FetchError, match=r"^page 6: HTTP 404, but totalCount implies 10 pages$"):
        run(server.url)


def test_a_ledger_that_grew_while_paging_fails(serve):
    pages = dict(PAGES)
    pages[11] = make_pages([*LEDGER, record()], per_page=4)[11]
    server = serve(pages)
    with pytest.raises(FetchError, match=r"^page 11: expected the end \(404\) after 10 pages"):
        run(server.url)


def test_without_total_count_pages_are_fetched_in_order_until_404(serve):
    server = serve(make_pages(LEDGER, per_page=4, total=None))
    result = run(server.url, concurrency=8)
    assert result.report.to_dict()["total_balance"] == "-40.00"
    assert result.stats.expected_pages is None
    assert server.max_in_flight == 1
    assert server.requests == 11


def test_page_size_is_derived_from_page_one(serve):
    for per_page in (1, 7, 1000):
        server = serve(make_pages(LEDGER, per_page=per_page))
        result = run(server.url)
        assert result.report.to_dict()["transaction_count"] == 40
        assert result.stats.pages == -(-40 // per_page)


def test_empty_ledger_is_total_count_zero(serve):
    server = serve(make_pages([], per_page=10))
    report = run(server.url).report.to_dict()
    assert (report["total_balance"], report["transaction_count"], report["daily_balances"]) == (
        "0.00",
        0,
        [],
    )
    assert server.page_requests == {1: 1, 2: 1}


def test_the_page_cap_refuses_longer_ledgers(serve):
    server = serve(PAGES)
    with pytest.raises(FetchError, match=r"^page 1: totalCount 40 at 4 per page needs 10 pages"):
        run(server.url, max_pages=9)
    assert server.requests == 1


def test_the_page_cap_bounds_the_in_order_fallback(serve):
    server = serve(make_pages(LEDGER, per_page=4, total=None))
    with pytest.raises(FetchError, match=r"^page 6: more than the cap of 5 pages$"):
        run(server.url, max_pages=5)


def test_the_deadline_bounds_the_whole_run(serve):
    server = serve(PAGES, latency=0.3)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^page \d+: .*(deadline|timed out)"):
        run(server.url, deadline=0.5, concurrency=1)
    assert time.monotonic() - started < 2


def test_a_response_body_over_the_cap_is_refused(serve, monkeypatch):
    monkeypatch.setattr("benchtest.paging.MAX_PAGE_BYTES", 100)
    server = serve(PAGES)
    with pytest.raises(FetchError, match=r"^page 1: response of \d+ bytes exceeds the page cap"):
        run(server.url)


def test_a_repeated_page_is_refused(serve):
    pages = dict(PAGES)
    pages[5] = pages[4]
    server = serve(pages)
    with pytest.raises(DataError, match=r"^page 5: page: the server answered with page 4$"):
        run(server.url)


def test_truncated_body_fails_and_names_the_page(serve):
    server = serve(PAGES, faults={3: ["truncate"]})
    with pytest.raises(FetchError, match=r"^page 3: response truncated"):
        run(server.url)


class _ForwardingProxy(PageHandler):
    """A forwarding HTTP proxy for ledger.example: requests arrive in absolute form."""

    server: PageServer

    def page_number(self) -> int:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        match = re.fullmatch(r"http://ledger\.example/transactions/(\d+)\.json", self.path)
        return int(match.group(1)) if match else 0


def test_the_environments_http_proxy_carries_requests_unless_no_proxy_names_the_host(
    monkeypatch,
):
    proxy = PageServer(PAGES, _ForwardingProxy)
    proxy.seen = []  # type: ignore[attr-defined]
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with serving(proxy):
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        result = run("http://ledger.example/transactions/{page}.json")
        assert result.report.to_dict()["total_balance"] == "-40.00"
        assert proxy.seen[0] == "http://ledger.example/transactions/1.json"
        monkeypatch.setenv("NO_PROXY", "ledger.example")
        with pytest.raises(FetchError, match=r"^page 1: cannot resolve host ledger\.example"):
            run("http://ledger.example/transactions/{page}.json", retries=0)
    assert len(proxy.seen) == 11  # the second run went around the proxy
