"""Any paginated API: the source description (paging style, paths, field names, forms).

One 1,000-transaction ledger is served by one loopback server in five shapes, one per paging
style (`routes`); the README's `sites.conf` examples are run against it and must give the Bench
shape's report byte for byte (but ``source``). Then each style's end and integrity checks, the
decoder's forms (timestamps, numeric amounts, absent fields), wrong descriptions, the settings
and the Terraform variable that carries them.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

import benchtest
from benchtest import ConfigError, DataError, FetchError, cli
from benchtest.paging import paginator
from benchtest.settings import load_settings, zone
from benchtest.source import serving
from benchtest.transactions import Decoder, Shape, decode_page
from benchtest.transport import next_link
from tests.ledger_server import Response, RouteServer, target
from tests.support import ROOT, make_pages, record, settings

README = ROOT / "README.md"
PER_PAGE = 100
HUGE = "12345678901234567.89"  # more digits than a float holds (17 significant at most)


def make_ledger(count: int = 1_000, seed: int = 19) -> list[dict[str, str]]:
    """Bench records over January and February 2024 (Vancouver is on -08:00 throughout), with
    exact duplicates, uncategorized records and one amount no float holds."""
    rng = random.Random(seed)
    records = []
    for n in range(count):
        if n % 97 == 1:  # a possible duplicate: the record before, again
            records.append(dict(records[-1]))
            continue
        records.append(
            {
                "Date": (date(2024, 1, 1) + timedelta(days=rng.randrange(60))).isoformat(),
                "Ledger": rng.choice(["Travel", "Office Expense", "", "Insurance"]),
                "Amount": f"{rng.randint(-90_000, 40_000) / 100:.2f}",
                "Company": rng.choice(["ACME", "CAFE ☕ #12 VANCOUVER BC", "PAYROLL"]),
            }
        )
    records[500]["Amount"] = HUGE
    return records


LEDGER = make_ledger()
CHUNKS = [LEDGER[start : start + PER_PAGE] for start in range(0, len(LEDGER), PER_PAGE)]
NUMBERS = msgspec.json.Encoder(decimal_format="number")  # a Decimal as a JSON number, exactly


def stamp(record: dict[str, str], index: int) -> str:
    """A timestamp whose date in America/Vancouver (-08:00 here) is the record's date."""
    day = date.fromisoformat(record["Date"])
    return [
        f"{day}T12:00:00-08:00",
        f"{day + timedelta(days=1)}T07:30:00Z",  # 23:30 the day before, in Vancouver
        f"{day}T23:59:59.9999999-08:00",  # rounded to microseconds, this would be the next day
    ][index % 3]


def routes(origin: str) -> dict[str, Response]:
    """The ledger in five shapes, at the paths of the README's examples."""
    served: dict[str, Response] = {
        f"/transactions/{number}.json": (body, {})
        for number, body in make_pages(LEDGER, 100).items()
    }
    last = len(CHUNKS) - 1
    for k, chunk in enumerate([*CHUNKS, []]):  # offsets: and the empty page after the last
        items = [
            {
                "posted_on": r["Date"],
                "amount": r["Amount"],
                "category": r["Ledger"],
                "merchant": r["Company"],
            }
            for r in chunk
        ]
        body = json.dumps({"data": {"items": items, "total": len(LEDGER)}}).encode()
        served[f"/v1/transactions?offset={k * PER_PAGE}&limit={PER_PAGE}"] = (body, {})
    for k, chunk in enumerate(CHUNKS):
        results = [
            {
                "when": stamp(r, k * PER_PAGE + i),
                "value": Decimal(r["Amount"]),
                "category": r["Ledger"],
                "payee": r["Company"],
            }
            for i, r in enumerate(chunk)
        ]
        cursor = f"p{k + 1}/+=&"  # opaque, and needs encoding in a query
        body = NUMBERS.encode(
            {"results": results, "meta": {"next_cursor": None if k == last else cursor}}
        )
        served["/v2/ledger?count=100" + (f"&cursor=p{k}%2F%2B%3D%26" if k else "")] = (body, {})
        following = None if k == last else f"/v3/entries?after=k{k + 1}"
        body = json.dumps({"entries": chunk, "links": {"next": following}}).encode()
        served["/v3/entries" + (f"?after=k{k}" if k else "")] = (body, {})
        renamed = [
            {
                "date": r["Date"],
                "amount": r["Amount"],
                "category": r["Ledger"],
                "counterparty": r["Company"],
            }
            for r in chunk
        ]
        links = [f'</v4/transactions?per_page=100&page={last + 1}>; rel="last"']
        if k < last:  # absolute and relative targets, in either order
            target = f"/v4/transactions?per_page=100&page={k + 2}"
            links.insert(k % 2, f'<{origin + target if k % 2 else target}>; rel="next"')
        page = f"&page={k + 1}" if k else ""
        served[f"/v4/transactions?per_page=100{page}"] = (
            json.dumps(renamed).encode(),
            {"Link": ", ".join(links)},
        )
    return served


@pytest.fixture
def shapes() -> Iterator[RouteServer]:
    """The ledger in every shape on one loopback server (the routes need its origin)."""
    server = RouteServer({})
    server.routes = {target(url): response for url, response in routes(server.origin).items()}
    with serving(server):
        yield server


def readme_sites() -> str:
    """The README's sites.conf examples."""
    section = README.read_text(encoding="utf-8").partition("### Other APIs")[2]
    return section.partition("```ini\n")[2].partition("```")[0]


@pytest.fixture
def cli_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run the CLI in-process, away from sites.conf and BENCH_* variables: (code, out, err)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("BENCH_"):
            monkeypatch.delenv(name)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--format", "json", "--backoff", "0.01", "-q", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


# --- the same ledger in every shape --------------------------------------------------------


@pytest.mark.parametrize("site", ["offset", "cursor", "next_url", "link"])
def test_the_readme_examples_give_the_bench_shapes_report(shapes, cli_run, tmp_path, site):
    conf = tmp_path / "shapes.conf"
    conf.write_text(readme_sites().replace("https://api.example", shapes.origin))
    code, bench, _ = cli_run("--url", f"{shapes.origin}/transactions/{{page}}.json")
    assert code == 0
    code, out, err = cli_run("--config", str(conf), "--site", site)
    assert (code, err) == (0, "")
    mine, theirs = json.loads(out), json.loads(bench)
    assert mine["source"].startswith(shapes.origin)
    # The same report but its source, its time (two runs may straddle a second) and the digest
    # of its pages (other URLs, other bodies).
    shown = [
        text.replace(json.dumps(report["source"]), "SOURCE")
        .replace(report["generated_at"], "AT")
        .replace(report["pages_digest"], "DIGEST")
        for text, report in ((out, mine), (bench, theirs))
    ]
    assert mine["pages_digest"] != theirs["pages_digest"]
    assert shown[0] == shown[1]
    assert theirs["transaction_count"] == 1_000
    assert theirs["page_count"] == 10
    assert theirs["duplicate_count"] >= 10
    assert Decimal(theirs["total_balance"]) == sum(map(Decimal, (r["Amount"] for r in LEDGER)))


def test_each_style_asks_for_each_page_once_and_stops_at_its_end(shapes, cli_run, tmp_path):
    conf = tmp_path / "shapes.conf"
    conf.write_text(readme_sites().replace("https://api.example", shapes.origin))
    for site, pages in [("offset", 11), ("cursor", 10), ("next_url", 10), ("link", 10)]:
        shapes.asked.clear()
        assert cli_run("--config", str(conf), "--site", site)[0] == 0
        assert len(shapes.asked) == len(set(shapes.asked)) == pages, site  # offset: the empty end


# --- each style's checks --------------------------------------------------------------------


@pytest.fixture
def route_server() -> Iterator[Callable[..., RouteServer]]:
    """Start loopback route servers for the test; all are shut down at its end."""
    with ExitStack() as stack:

        def start(served: dict[str, Response], **options: Any) -> RouteServer:
            return stack.enter_context(serving(RouteServer(served, **options)))

        yield start


def cursor_pages(nexts: list[str | None], **extra: Any) -> dict[str, Response]:
    """Pages of 2 Bench records at /c, page k+1 at ?cursor=<nexts[k]>."""
    served = {}
    for k, following in enumerate(nexts):
        body = {"transactions": LEDGER[2 * k : 2 * k + 2], "next": following, **extra}
        served["/c" + (f"?cursor={nexts[k - 1]}" if k else "")] = (json.dumps(body).encode(), {})
    return served


def test_a_cursor_seen_twice_is_a_loop(route_server):
    server = route_server(cursor_pages(["a", "b", "a"]))
    with pytest.raises(
        DataError, match=r"^page 3: cursor 'a' leads back to page 2: the pages loop$"
    ):
        benchtest.run(settings(server.origin + "/c", paging="cursor"))
    assert len(server.asked) == 3


def test_a_next_link_to_another_origin_is_refused_before_it_is_asked_for(route_server):
    elsewhere = route_server({"/x": (b"[]", {})})
    link = f'<{elsewhere.origin}/x>; rel="next"'
    server = route_server({"/l": (json.dumps(LEDGER[:2]).encode(), {"Link": link})})
    message = (
        rf"^page 1: next link '{elsewhere.origin}/x' leads to {elsewhere.origin}: refused, "
        rf"only {server.origin} \(the configured origin\) is followed$"
    )
    with pytest.raises(FetchError, match=message):
        benchtest.run(settings(server.origin + "/l", paging="link", records_path="$"))
    assert elsewhere.asked == []


@pytest.mark.parametrize(
    ("following", "message"),
    [
        ("http://127.0.0.1:1/\x1b[2J", r"^page 1: next URL '.*' does not make a usable URL$"),
        ("/n?" + "x" * 5000, r"^page 1: next URL '/n\?x+…' does not make a usable URL$"),
        (
            "ftp://127.0.0.1/n",
            r"^page 1: next URL 'ftp://127\.0\.0\.1/n' does not make an http\(s\) URL$",
        ),
        (
            "//evil.example/n",
            r"^page 1: next URL '//evil\.example/n' leads to http://evil\.example:80: refused",
        ),
        ("/n", r"^page 1: next URL '/n' leads back to page 1: the pages loop$"),
    ],
    ids=["control", "long", "scheme", "other-host", "itself"],
)
def test_a_next_url_is_followed_only_when_it_is_one_to_follow(route_server, following, message):
    body = json.dumps({"transactions": LEDGER[:2], "next": following}).encode()
    server = route_server({"/n": (body, {})})
    with pytest.raises(benchtest.BenchtestError, match=message):
        benchtest.run(settings(server.origin + "/n", paging="next_url"))
    assert server.asked == ["/n?"]


def offset_pages(total: int | None, served_count: int = 10, size: int = 3) -> dict[str, Response]:
    """Offsets 0, size, … over the first ``served_count`` records, then empty pages."""
    served = {}
    for offset in range(0, served_count + 2 * size, size):
        body: dict[str, Any] = {"transactions": LEDGER[offset : min(offset + size, served_count)]}
        if total is not None:
            body["totalCount"] = total
        served[f"/o?offset={offset}&limit=3"] = (json.dumps(body).encode(), {})
    return served


@pytest.mark.parametrize(
    ("total", "error", "message"),
    [
        (12, DataError, r"^totalCount is 12 but 4 pages held 10 transactions$"),
        (9, FetchError, r"^page 4: expected the end \(an empty page\) after 3 pages; the ledger"),
    ],
    ids=["more-than-served", "fewer-than-served"],
)
def test_a_total_that_disagrees_with_what_was_served_fails_in_one_line(
    route_server, total, error, message
):
    server = route_server(offset_pages(total=total))
    with pytest.raises(error, match=message):
        benchtest.run(
            settings(server.origin + "/o?offset={offset}&limit={limit}", paging="offset", limit=3)
        )


def test_a_total_is_checked_in_the_sequential_styles_too(route_server):
    server = route_server(cursor_pages(["a", "b", None], totalCount=7))
    with pytest.raises(DataError, match=r"^totalCount is 7 but 3 pages held 6 transactions$"):
        benchtest.run(settings(server.origin + "/c", paging="cursor"))


def test_offsets_with_a_total_go_concurrently_and_end_with_an_empty_page(route_server):
    server = route_server(offset_pages(total=10), latency=0.05)
    result = benchtest.run(
        settings(server.origin + "/o?offset={offset}&limit={limit}", paging="offset", limit=3)
    )
    assert result.report.transaction_count == 10
    assert result.stats.expected_pages == 4
    assert sorted(server.asked) == sorted(f"/o?limit=3&offset={o}" for o in (0, 3, 6, 9, 12))
    assert server.max_in_flight >= 2  # pages 2..4 and the end, at once


def test_a_style_that_names_the_next_page_fetches_one_at_a_time(route_server):
    server = route_server(cursor_pages(["a", "b", None]), latency=0.05)
    assert benchtest.run(settings(server.origin + "/c", paging="cursor")).stats.pages == 3
    assert server.max_in_flight == 1


def test_offsets_without_a_total_advance_by_what_was_served(route_server):
    """An API that serves fewer than asked for (2 of limit=3): a short page is not the end."""
    served = {}
    for offset in range(0, 14, 2):
        body = {"transactions": LEDGER[offset : min(offset + 2, 10)]}
        served[f"/o?offset={offset}&limit=3"] = (json.dumps(body).encode(), {})
    server = route_server(served)
    result = benchtest.run(
        settings(server.origin + "/o?offset={offset}&limit={limit}", paging="offset", limit=3)
    )
    assert result.report.transaction_count == 10
    assert server.asked == [f"/o?limit=3&offset={o}" for o in (0, 2, 4, 6, 8, 10)]


def test_page_numbers_may_end_with_an_empty_page_instead_of_a_404(serve):
    pages = make_pages(LEDGER[:6], per_page=2, total=None)
    pages[4] = b'{"page": 4, "transactions": []}'
    server = serve(pages)
    result = benchtest.run(settings(server.url, page_end="empty"))
    assert (result.report.transaction_count, result.report.page_count) == (6, 3)
    del pages[4]
    with pytest.raises(
        FetchError, match=r"^page 4: HTTP 404 \(this API's pages end with an empty page\)$"
    ):
        benchtest.run(settings(serve(pages).url, page_end="empty"))
    counted = make_pages(LEDGER[:6], per_page=2)
    with pytest.raises(
        FetchError, match=r"^page 4: HTTP 404 \(this API's pages end with an empty page\)$"
    ):
        benchtest.run(settings(serve(counted).url, page_end="empty"))


def test_the_deadline_holds_in_a_sequential_style(route_server):
    server = route_server(cursor_pages(["a", "b", None]), latency=0.6)
    with pytest.raises(
        FetchError, match=r"^page 2: deadline of 1s reached while waiting for the response headers$"
    ):
        benchtest.run(settings(server.origin + "/c", paging="cursor", deadline=1.0))


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ('<https://a.example/2>; rel="next"', "https://a.example/2"),
        ('</1>; rel="prev", </3>; rel="next"', "/3"),
        ("</3>; REL=Next", "/3"),
        ('</3>; title="a, b"; rel="last next"', "/3"),
        ('</3> ; rel = "next" ; type="application/json"', "/3"),
        ('</1>; rel="prev"', None),
        ('</1>; rel="nextpage"', None),
        ("", None),
        ("garbage", None),
    ],
)
def test_link_headers_are_read_as_rfc_8288_writes_them(header, target):
    assert next_link(header) == target


# --- the decoder's forms --------------------------------------------------------------------


def decode(shape: Shape, doc: Any, number: int = 1) -> Any:
    return Decoder(shape)(number, doc if isinstance(doc, bytes) else json.dumps(doc).encode())


STAMPED = Shape(
    names=("when", "Ledger", "Amount", "Company"),
    terms=(("Amount", False),),
    date_form="timestamp",
    zone=zone("America/Vancouver"),
)


def test_timestamps_count_on_their_date_in_the_time_zone_never_rounded_into_the_next():
    records = [
        {"when": when, "Ledger": "", "Amount": "1.00", "Company": ""}
        for when in (
            "2024-01-02T23:59:59.9999999-08:00",  # msgspec's datetime rounds this to 01-03
            "2024-01-03T07:59:59Z",  # 23:59:59 on 01-02 in Vancouver
            "2024-01-03T08:00:00Z",
            "2024-07-01t06:30:00z",  # RFC 3339 allows t and z; 23:30 PDT on 06-30
        )
    ]
    page = decode(STAMPED, {"page": 1, "transactions": records})
    assert [r.date for r in page.records] == [
        date(2024, 1, 2),
        date(2024, 1, 2),
        date(2024, 1, 3),
        date(2024, 6, 30),
    ]


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2024-01-02", r"transactions\[0\]\.when: not a timestamp \(RFC 3339"),
        ("2024-01-02 10:00:00Z", r"transactions\[0\]\.when: not a timestamp"),
        (
            "2024-02-30T10:00:00Z",
            r"transactions\[0\]\.when: not a valid date \(day is out of range",
        ),
        ("2024-01-02T10:00:00+24:00", r"transactions\[0\]\.when: not a timestamp"),  # < a day
        ("2024-01-02T10:00:00+0060", r"transactions\[0\]\.when: not a timestamp"),
    ],
)
def test_a_timestamp_that_is_not_one_or_not_a_real_time_is_refused(when, message):
    records = [{"when": when, "Ledger": "", "Amount": "1.00", "Company": ""}]
    with pytest.raises(DataError, match="^page 1: " + message):
        decode(STAMPED, {"page": 1, "transactions": records})


NUMERIC = Shape(amount_form="number")


def numeric_page(*amounts: str) -> bytes:
    records = ",".join(
        f'{{"Date": "2024-01-02", "Ledger": "", "Amount": {a}, "Company": ""}}' for a in amounts
    )
    return f'{{"page": 1, "transactions": [{records}]}}'.encode()


def test_numeric_amounts_are_read_exactly_from_their_text():
    page = decode(
        NUMERIC, numeric_page(HUGE, "0.1", "-0.10", "12345678901234567890.123456789012345", "-0")
    )
    assert page.amounts == [
        Decimal(HUGE),
        Decimal("0.1"),
        Decimal("-0.10"),
        Decimal("12345678901234567890.123456789012345"),
        Decimal("-0"),
    ]
    assert float(HUGE) != Decimal(HUGE)  # what a float would have made of it
    assert [r.amount for r in page.records][:3] == [HUGE, "0.1", "-0.10"]  # as served


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1e3", r"not a plain decimal amount: '1e3'"),
        ("-1.5E-2", r"not a plain decimal amount: '-1\.5E-2'"),
        ('"12.50"', r"expected a number, got string"),
        ("null", r"expected a number, got null"),
        ("true", r"expected a number, got boolean"),
        ("[1]", r"expected a number, got list"),
        ("1" * 61, r"61 digits, more than the limit of 60"),
    ],
)
def test_a_numeric_amount_that_is_not_a_plain_number_is_refused(amount, message):
    with pytest.raises(DataError, match=r"^page 1: transactions\[1\]\.Amount: " + message + "$"):
        decode(NUMERIC, numeric_page("1.00", amount))


def test_fields_the_api_does_not_have_are_empty():
    shape = Shape(names=("Date", None, "Amount", None))
    assert Decoder(shape).described
    page = decode(shape, {"page": 1, "transactions": [{"Date": "2024-01-02", "Amount": "1.50"}]})
    assert (page.records[0].category, page.records[0].company, page.amounts) == (
        "",
        "",
        [Decimal("1.50")],
    )


def test_renamed_fields_decode_into_records():
    shape = Shape(
        records="data.items", total="data.total", names=("d", "c", "a", "p"), terms=(("a", False),)
    )
    decoder = Decoder(shape)
    page = decoder(
        1,
        json.dumps(
            {
                "page": 1,
                "data": {"total": 1, "items": [{"d": "2024-01-02", "c": "C", "a": "1", "p": "P"}]},
            }
        ).encode(),
    )
    assert (page.total_count, page.records[0].category, page.records[0].company) == (1, "C", "P")


# --- a wrong description: one line naming the path, and what is there ------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"rows": [], "count": 0},
            r"^page 1: data\.items: missing field; the page has 'rows', 'count'$",
        ),
        ({"data": {"rows": []}}, r"^page 1: data\.items: missing field; 'data' has 'rows'$"),
        ({"data": {}}, r"^page 1: data\.items: missing field; 'data' is empty$"),
        ({"data": []}, r"^page 1: data: expected an object, got list$"),
        ({"data": {"items": {}}}, r"^page 1: data\.items: expected a list, got object$"),
        (
            {"data": {"items": [{"date": "2024-01-02", "amount": "1", "memo": "x"}]}},
            r"^page 1: data\.items\[0\]\.posted_on: missing field; "
            r"the record has 'date', 'amount', 'memo'$",
        ),
        (
            {"k": list(range(12))} | {f"key{n}": n for n in range(12)},
            r"; the page has 'k', 'key0', .*'key8' and 3 more$",
        ),
    ],
)
def test_a_wrong_description_names_the_path_and_lists_what_is_there(doc, message):
    shape = Shape(
        records="data.items",
        total=None,
        page=None,
        names=("posted_on", None, "amount", None),
        terms=(("amount", False),),
    )
    with pytest.raises(DataError, match=message):
        decode(shape, doc)


def test_a_missing_field_after_page_one_is_a_bad_record_not_a_description():
    shape = Shape(
        records="data.items",
        total=None,
        page=None,
        names=("posted_on", None, "amount", None),
        terms=(("amount", False),),
    )
    with pytest.raises(DataError, match=r"^page 2: data\.items\[0\]\.amount: missing field$"):
        decode(shape, {"data": {"items": [{"posted_on": "2024-01-02"}]}}, number=2)


def test_keys_listed_from_a_hostile_page_are_quoted_and_short():
    with pytest.raises(DataError) as caught:
        decode(Shape(records="data"), {"page": 1, "\x1b[2J" + "k" * 500: 1})
    message = str(caught.value)
    assert "\x1b" not in message
    assert len(message) < 200
    assert message.startswith("page 1: data: missing field; the page has 'page', '\\x1b[2Jkkk")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"data": {"items": [], "total": 0, "total": 5}}',
            r"^page 1: data: key 'total' appears twice$",
        ),
        (
            b'{"data": {"items": [{"d": "2024-01-02", "a": "1", "a": "100"}], "total": 1}}',
            r"^page 1: data\.items\[0\]\.a: appears twice in the record$",
        ),
    ],
)
def test_a_key_repeated_anywhere_the_page_is_read_is_refused(body, message):
    shape = Shape(
        records="data.items",
        total="data.total",
        page=None,
        names=("d", None, "a", None),
        terms=(("a", False),),
    )
    with pytest.raises(DataError, match=message):
        decode(shape, body)


def test_the_bench_shape_still_decodes_straight_into_records():
    assert decode_page.record is benchtest.transactions.Record
    assert benchtest.transactions.decoder(settings("sample").source) is decode_page


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"paging": "offset", "url": "https://a.example/t?page=1"},
            r"^option: url: must contain '\{offset\}' \(paging = offset\)",
        ),
        (
            {"paging": "offset", "url": "https://a.example/t?o={offset}&x={x}"},
            r"url: only '\{limit\}' or '\{offset\}' may be in braces \(paging = offset\)",
        ),
        (
            {"paging": "cursor", "url": "https://a.example/{page}"},
            r"^option: url: no braces here \(paging = cursor\), got 'https://a\.example/\{page\}'$",
        ),
        (
            {"paging": "scroll"},
            r"^option: paging: must be one of page, offset, cursor, next_url, link, last_record "
            r"\(got 'scroll'\)$",
        ),
        (
            {"time_zone": "Mars/Olympus"},
            r"^option: time_zone: not a time zone in this machine's tz database",
        ),
        (
            {"records_path": "data..items"},
            r"^option: records_path: expected a key or a dotted path",
        ),
        ({"date_field": "a..b"}, r"^option: date_field: expected a key or a dotted path"),
        ({"amount_field": "none"}, r"^option: amount_field: required: the API must have it"),
        ({"cursor_param": "a b"}, r"^option: cursor_param: must be a query parameter name"),
        (
            {"url": "https://a/{page}", "total_path": "transactions.n"},
            r"^option: total_path: 'transactions\.n' overlaps records_path = 'transactions'$",
        ),
        (
            {"url": "https://a/{page}", "category_field": "Date"},
            r"^option: category_field: 'Date' overlaps date_field = 'Date'$",
        ),
    ],
)
def test_a_description_that_cannot_be_right_is_refused_at_start(
    overrides, message, tmp_path, monkeypatch
):
    """Refused when the settings are loaded, or (the URL against the style) when the paginator
    is made, before any request."""
    monkeypatch.chdir(tmp_path)

    def described() -> None:
        loaded = load_settings(overrides=overrides, env={})
        paginator(loaded.fetch.url, loaded)

    with pytest.raises(ConfigError, match=message):
        described()


def test_the_url_is_checked_against_the_paging_style_naming_where_it_came_from(tmp_path):
    conf = tmp_path / "site.conf"
    conf.write_text("[default]\nurl = https://a.example/t?offset={offset}\n")
    loaded = load_settings(env={"BENCH_PAGING": "offset"}, config_file=str(conf))
    assert paginator(loaded.fetch.url, loaded).template == "https://a.example/t?offset={offset}"
    loaded = load_settings(env={}, config_file=str(conf))
    with pytest.raises(
        ConfigError, match=r"^config file \[default\]: url: only '\{page\}' may be in braces"
    ):
        paginator(loaded.fetch.url, loaded)


def test_the_sample_is_bench_shaped_so_a_description_needs_a_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"^paging: needs a url: the bundled sample has the Bench shape$"
    ):
        benchtest.run(load_settings(overrides={"paging": "link"}, env={}))


def test_the_records_being_the_body_leaves_no_other_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(
        overrides={
            "url": "https://a/x",
            "paging": "link",
            "records_path": "$",
            "total_path": "data.total",
        },
        env={},
    )
    assert Shape.of(loaded.source) == Shape(records="$", total=None, page=None)


FILTERS = {
    "filter": ("--skip-field", "Status", "--skip-values", "pending"),
    "currency": ("--currency-field", "Currency", "--currency", "USD"),
}


@pytest.mark.parametrize("leave_out", FILTERS.values(), ids=FILTERS.keys())
def test_a_page_of_records_all_left_out_is_part_of_the_ledger(cli, serve, leave_out):
    """Not a misdescription ("no record has it") nor a crash: its records are counted."""
    kept = {"Status": "posted", "Currency": "USD"}
    gone = (
        {"Status": "pending", "Currency": "USD"} if "Status" in leave_out else {"Currency": "EUR"}
    )
    rows = [record(**gone), record(**gone), record(**kept), record(amount="2.50", **kept)]
    run = cli("--url", serve(make_pages(rows, 2)).url, *leave_out, "--format", "json", "-q")
    assert (run.code, run.err) == (0, [])
    doc = json.loads(run.out)
    assert (doc["total_balance"], sum(doc["left_out"].values())) == ("1.50", 2)


def test_a_field_no_record_has_is_one_line_beside_a_filter(cli, serve):
    rows = [record(Status="posted"), record(Status="posted", amount="2.00")]
    args = ("--category-field", "Kind", "--skip-field", "Status", "--skip-values", "pending")
    run = cli("--url", serve(make_pages(rows, 2)).url, *args)
    assert (run.code, run.out) == (1, "")
    assert run.err == [
        "benchtest: error: page 1: Kind: no record has it; the first record has 'Date', "
        "'Company', 'Amount', 'Status'"
    ]
