"""Errors carry where they happened as attributes; the one-line message is built from them."""

from __future__ import annotations

import msgspec
import pytest
import urllib3

import benchtest
from benchtest import BenchtestError, ConfigError, DataError, FetchError
from benchtest.errors import without_credentials
from tests.support import free_port, make_pages, record, settings


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ({}, "what"),
        ({"page": 3}, "page 3: what"),
        ({"page": 3, "field": "totalCount"}, "page 3: totalCount: what"),
        ({"page": 3, "index": 4}, "page 3: transactions[4]: what"),
        ({"page": 3, "index": 4, "field": "Amount"}, "page 3: transactions[4].Amount: what"),
        ({"url": "https://a.example/1.json"}, "what"),  # the URL is context, not message
    ],
)
def test_the_message_is_built_from_the_attributes(where, message):
    assert str(BenchtestError("what", **where)) == message


def test_a_config_error_names_its_origin_first():
    exc = ConfigError("must be between 1 and 64", origin="BENCH_CONCURRENCY", field="concurrency")
    assert str(exc) == "BENCH_CONCURRENCY: concurrency: must be between 1 and 64"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://me:secret@a.example/t/{page}.json", "https://a.example/t/{page}.json"),
        ("https://token@a.example:8443/t/1.json", "https://a.example:8443/t/1.json"),
        ("http://a.example/t/1.json?user=x@y", "http://a.example/t/1.json?user=x@y"),
        ("https://a.example/t/1.json", "https://a.example/t/1.json"),
    ],
)
def test_credentials_are_removed_from_urls(url, shown):
    assert without_credentials(url) == shown
    assert BenchtestError("x", url=url).url == shown


def test_locate_fills_in_only_what_the_raiser_did_not_know():
    known = FetchError("HTTP 500", page=2, url="http://a.example/2.json")
    known.locate(page=9, url="http://a.example/9.json")
    unknown = FetchError("deadline reached")
    unknown.locate(page=9, url="http://u:p@a.example/9.json")
    assert (known.page, known.url) == (2, "http://a.example/2.json")
    assert (unknown.page, unknown.url) == (9, "http://a.example/9.json")
    assert str(unknown) == "page 9: deadline reached"


def test_a_bad_record_names_page_index_field_and_url_without_credentials(serve):
    server = serve(make_pages([record(), record(), record(), record(Amount="1e3")], per_page=2))
    url = server.url.replace("http://", "http://reader:secret@")
    with pytest.raises(DataError) as caught:
        benchtest.run(settings(url))
    exc = caught.value
    assert (exc.page, exc.index, exc.field) == (2, 1, "Amount")
    assert exc.url == server.url.format(page=2)
    assert str(exc) == "page 2: transactions[1].Amount: not a plain decimal amount: '1e3'"
    assert exc.__cause__ is None  # the decoder accepted the text; the amount check refused it


def test_invalid_json_keeps_the_decoder_error_as_its_cause(serve):
    server = serve({1: b"{"})
    with pytest.raises(DataError) as caught:
        benchtest.run(settings(server.url))
    assert (caught.value.page, caught.value.url) == (1, server.url.format(page=1))
    assert isinstance(caught.value.__cause__, msgspec.DecodeError)


def test_a_network_failure_keeps_the_urllib3_error_as_its_cause():
    port = free_port()
    url = f"http://user:secret@127.0.0.1:{port}/t/{{page}}.json"
    with pytest.raises(FetchError) as caught:
        benchtest.run(settings(url, retries=0))
    exc = caught.value
    assert str(exc) == f"page 1: cannot connect to 127.0.0.1:{port}: connection refused"
    assert exc.url == url.replace("user:secret@", "").format(page=1)
    assert isinstance(exc, benchtest.NetworkError)
    assert isinstance(exc.__cause__, urllib3.exceptions.MaxRetryError)


def test_an_error_raised_inside_a_retry_gets_its_page_once(serve):
    pages = make_pages([record()] * 4, per_page=2)
    server = serve(pages, faults={2: ["503@60"]})
    with pytest.raises(FetchError) as caught:
        benchtest.run(settings(server.url, retry_after_cap=60, deadline=2))
    assert caught.value.page == 2
    assert str(caught.value).startswith("page 2: deadline of 2s reached: a retry would have")


def test_the_report_source_hides_credentials(serve):
    server = serve(make_pages([record()], per_page=1))
    url = server.url.replace("http://", "http://reader:secret@")
    report = benchtest.run(settings(url)).report
    assert report.source == server.url
