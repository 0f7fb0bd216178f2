"""The Lambda's S3 reports with moto: all-or-nothing run folders, a latest that never moves
backward, the comparison with the previous scheduled run, and names checked before the fetch."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from moto import mock_aws

import handler
from benchtest import ConfigError, DataError, StorageError, storage
from benchtest.source import sample_pages
from tests import s3_access
from tests.ledger_server import LedgerServer
from tests.test_handler import LambdaContext, emf_lines, summary_lines

BUCKET = "benchtest-reports"
PREFIX = "reports"
LATEST = f"{PREFIX}/latest/balances.json"


def scheduled(day: int) -> dict[str, str]:
    return {"scheduled_time": f"2026-11-{day:02d}T06:00:00Z"}


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BENCH_API_URL", "REPORT_PREFIX", "AWS_LAMBDA_LOG_FORMAT", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "BENCH_BACKOFF": "0.01",
        "BENCH_RETRIES": "1",
        "AWS_LAMBDA_FUNCTION_NAME": "benchtest-test",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "REPORT_BUCKET": BUCKET,
        "REPORT_PREFIX": PREFIX,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def ledger(serve: Callable[..., LedgerServer], monkeypatch: pytest.MonkeyPatch) -> LedgerServer:
    """The bundled sample on a loopback server whose pages a test may change between runs."""
    server = serve(sample_pages())
    monkeypatch.setenv("BENCH_API_URL", server.url)
    return server


def hook_puts(monkeypatch: pytest.MonkeyPatch, on_put: Callable[[dict[str, Any]], None]) -> None:
    """Every S3 client the handler makes calls ``on_put(params)`` before each PutObject.

    A botocore event hook on a real client (it sees the API parameters, e.g. ``Key``): the
    request path stays boto3's own.
    """
    make = storage.new_client

    def client() -> Any:
        real = make()
        real.meta.events.register(
            "before-parameter-build.s3.PutObject", lambda params, **_: on_put(params)
        )
        return real

    monkeypatch.setattr(storage, "new_client", client)


def keys(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def latest(s3: Any) -> tuple[str, dict[str, Any]]:
    """(scheduled time, report) of latest; the CSV and HTML must be from that run too."""
    heads = {
        ext: s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/latest/balances.{ext}")["Metadata"]
        for ext in ("csv", "html", "json")
    }
    assert len({m["run-id"] for m in heads.values()}) == 1, heads
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=LATEST)["Body"].read())
    return heads["json"]["scheduled-time"], report


def edit_amount(server: LedgerServer, page: int, index: int, delta: str) -> None:
    doc = json.loads(server.pages[page])
    record = doc["transactions"][index]
    record["Amount"] = str(Decimal(record["Amount"]) + Decimal(delta))
    server.pages[page] = json.dumps(doc).encode()


def invoke(event: dict[str, Any], request_id: str = "req") -> Any:
    report = handler.handler(event, LambdaContext(aws_request_id=request_id))
    json.dumps(report)
    return report


# --- first run, second run, assertions ----------------------------------------------------------


def test_a_first_run_says_so_and_becomes_latest(s3: Any, ledger: LedgerServer) -> None:
    report = invoke(scheduled(24))
    assert report["changes"]["status"] == "first_run"
    assert report["changes"]["note"] == "first run: nothing to compare"
    assert latest(s3) == ("2026-11-24T06:00:00Z", {k: v for k, v in report.items() if k != "s3"})


def test_a_second_run_reports_the_restated_days_and_counts_them(
    s3: Any, ledger: LedgerServer, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    invoke(scheduled(24), "day-24")
    edit_amount(ledger, page=3, index=0, delta="-0.05")  # a 2026-03-10 or -11 record
    changed_day = json.loads(ledger.pages[3])["transactions"][0]["Date"]
    caplog.set_level(logging.INFO)
    caplog.clear()
    capsys.readouterr()
    report = invoke(scheduled(25), "day-25")
    changes = report["changes"]
    assert changes["status"] == "compared"
    assert changes["previous"] == (f"s3://{BUCKET}/{LATEST} (scheduled run 2026-11-24T06:00:00Z)")
    # One edited record: one restated day (later days only carry its difference), one change.
    assert [(d["date"], d["balance_difference"]) for d in changes["restated_days"]] == [
        (changed_day, "-0.05")
    ]
    assert (changes["total_balance_difference"], changes["new_days"]) == ("-0.05", [])
    [edited] = changes["transaction_changes"]
    assert (edited["change"], edited["previous"]["amount"], edited["current"]["amount"]) == (
        "changed",
        "-31.50",
        "-31.55",
    )
    [emf] = emf_lines(capsys.readouterr().err)
    assert emf["RestatedDays"] == 1
    [line] = summary_lines(caplog)
    summary = json.loads(line.getMessage())
    assert summary["restated_days"] == emf["RestatedDays"]
    assert summary["restated_dates"] == [changed_day]
    assert summary["transaction_change_counts"] == {"changed": 1, "added": 0, "removed": 0}
    assert summary["transaction_changes"] == [
        f"changed {changed_day} 'Office Supplies' 'LONDON DRUGS #12 VANCOUVER BC' -31.50 -> -31.55"
    ]
    assert latest(s3)[0] == "2026-11-25T06:00:00Z"


def test_a_failed_assertion_writes_the_report_logs_an_error_and_does_not_raise(
    s3: Any,
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: Any,
) -> None:
    monkeypatch.setenv("BENCH_ASSERT_BALANCE", "2026-03-11=5356.75,2026-03-05=2500")
    caplog.set_level(logging.INFO)
    report = invoke(scheduled(24))
    assert [a["ok"] for a in report["assertions"]] == [False, True]
    assert len(keys(s3)) == 7  # the run folder (the reports, the pages) and latest
    [line] = summary_lines(caplog)
    assert line.levelno == logging.ERROR
    summary = json.loads(line.getMessage())
    assert (summary["success"], summary["assertion_failures"]) == (True, 1)
    assert summary["failed_assertion_dates"] == ["2026-03-05"]  # the one that failed
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["AssertionFailures"], emf["Success"]) == (1, 1)


@pytest.mark.parametrize("allowed", [False, True])
def test_an_empty_ledger_writes_the_report_and_logs_an_error_unless_expected(
    s3: Any,
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: Any,
    allowed: bool,
) -> None:
    ledger.pages.clear()
    ledger.pages[1] = json.dumps({"page": 1, "totalCount": 0, "transactions": []}).encode()
    if allowed:
        monkeypatch.setenv("BENCH_ALLOW_EMPTY", "true")
    caplog.set_level(logging.INFO)
    report = invoke(scheduled(24))
    assert (report["transaction_count"], report["total_balance"]) == (0, "0.00")
    assert len(keys(s3)) == 7  # the run folder (its pages too) and latest
    [line] = summary_lines(caplog)
    assert line.levelno == (logging.INFO if allowed else logging.ERROR)
    summary = json.loads(line.getMessage())
    assert (summary["success"], summary.get("empty_ledger")) == (True, None if allowed else True)
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["EmptyLedger"], emf["Success"]) == (int(not allowed), 1)


# --- latest never moves backward --------------------------------------------------------------


def test_a_late_older_run_leaves_latest_alone(s3: Any, ledger: LedgerServer) -> None:
    newer = invoke(scheduled(25), "newer")
    older = invoke(scheduled(24), "older")  # a retry of yesterday, finishing after today's run
    assert older["s3"]["json"].startswith(f"s3://{BUCKET}/{PREFIX}/2026/11/24/run-")
    assert s3.head_object(Bucket=BUCKET, Key=older["s3"]["json"].split(BUCKET + "/")[1])
    assert latest(s3) == ("2026-11-25T06:00:00Z", {k: v for k, v in newer.items() if k != "s3"})


def test_a_manual_run_compares_with_latest_and_never_changes_it(
    s3: Any, ledger: LedgerServer
) -> None:
    invoke(scheduled(24), "scheduled")
    before = {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in keys(s3)}
    edit_amount(ledger, page=1, index=0, delta="1.00")
    report = invoke({}, "console")
    assert report["changes"]["status"] == "compared"
    assert report["changes"]["total_balance_difference"] == "1.00"
    assert report["s3"]["json"].startswith(f"s3://{BUCKET}/{PREFIX}/manual/run-")
    assert {k: s3.head_object(Bucket=BUCKET, Key=k)["ETag"] for k in before} == before


@pytest.mark.parametrize("first", ["older", "newer"])
def test_two_runs_racing_on_latest_leave_the_newer_one(
    s3: Any, ledger: LedgerServer, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    """Both runs read latest (absent), then ``first`` publishes all of it while the other waits
    with what it read, now stale; only a conditional write stops the older one winning."""
    order = {"older": 24, "newer": 25}
    second = ({"older", "newer"} - {first}).pop()
    both_read = threading.Barrier(2, timeout=20)
    first_done = threading.Event()
    met: set[str] = set()

    def race(params: dict[str, Any]) -> None:
        name = threading.current_thread().name
        if params["Key"].startswith(f"{PREFIX}/latest/") and name not in met:
            met.add(name)
            both_read.wait()  # both have read latest as absent
            if name == second:
                assert first_done.wait(timeout=20)

    hook_puts(monkeypatch, race)
    results: dict[str, Any] = {}

    def run(name: str) -> None:
        results[name] = invoke(scheduled(order[name]), name)
        if name == first:
            first_done.set()

    threads = [threading.Thread(target=run, args=(name,), name=name) for name in order]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert set(results) == {"older", "newer"}
    assert met == {"older", "newer"}  # both reached the race
    time, report = latest(s3)
    assert time == "2026-11-25T06:00:00Z"
    assert report == {k: v for k, v in results["newer"].items() if k != "s3"}


def test_a_corrupt_latest_report_is_noted_and_replaced(
    s3: Any, ledger: LedgerServer, caplog: pytest.LogCaptureFixture
) -> None:
    s3.put_object(Bucket=BUCKET, Key=LATEST, Body=b'{"total_balance": 1e999}')
    caplog.set_level(logging.INFO)
    report = invoke(scheduled(24))
    assert report["changes"]["status"] == "unavailable"
    assert report["changes"]["note"].startswith(
        f"not compared: s3://{BUCKET}/{LATEST} (scheduled run unknown time): not a usable report"
    )
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("warning: previous report: not compared" in r.getMessage() for r in warnings)
    assert latest(s3)[0] == "2026-11-24T06:00:00Z"


# --- all or nothing ----------------------------------------------------------------------------


@pytest.mark.parametrize("failing_put", [3, 4])  # the pages, the CSV, then the HTML or JSON
def test_s3_failing_mid_set_leaves_no_partial_report(
    s3: Any, ledger: LedgerServer, monkeypatch: pytest.MonkeyPatch, failing_put: int
) -> None:
    puts: list[str] = []

    def fail(params: dict[str, Any]) -> None:
        puts.append(params["Key"])
        if len(puts) == failing_put:
            raise EndpointConnectionError(endpoint_url="https://s3.test")

    hook_puts(monkeypatch, fail)
    with pytest.raises(EndpointConnectionError):
        invoke(scheduled(24))
    assert len(puts) == failing_put
    assert [key.rpartition("/")[2] for key in keys(s3)] == ["pages.zip"]


def test_a_retry_failing_on_its_last_write_leaves_the_previous_set_whole(
    s3: Any, ledger: LedgerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(scheduled(24), "attempt-1")
    before = sorted(keys(s3))
    latest_before = latest(s3)
    edit_amount(ledger, page=2, index=0, delta="5.00")

    def fail_json(params: dict[str, Any]) -> None:
        if params["Key"].endswith("/balances.json") and "/latest/" not in params["Key"]:
            raise EndpointConnectionError(endpoint_url="https://s3.test")

    hook_puts(monkeypatch, fail_json)
    with pytest.raises(EndpointConnectionError):
        invoke(scheduled(24), "attempt-2")
    [kept] = set(keys(s3)) - set(before)  # the pages attempt 2 read, and no report
    assert "-attempt-2-" in kept
    assert kept.endswith("/pages.zip")
    assert sorted(set(keys(s3)) - {kept}) == before
    assert latest(s3) == latest_before


# --- the pages kept beside the reports ----------------------------------------------------------


def test_the_pages_can_be_left_out(
    s3: Any, ledger: LedgerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT_KEEP_PAGES", "false")
    report = invoke(scheduled(24))
    assert "pages" not in report["s3"]
    assert not [key for key in keys(s3) if key.endswith("pages.zip")]
    assert report["pages_digest"].startswith("sha256:")  # the report still names them


def test_pages_that_cannot_be_kept_fail_the_run_before_its_reports(
    s3: Any, ledger: LedgerServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_pages(params: dict[str, Any]) -> None:
        if params["Key"].endswith("/pages.zip"):
            raise EndpointConnectionError(endpoint_url="https://s3.test")

    hook_puts(monkeypatch, fail_pages)
    with pytest.raises(StorageError, match=r"pages\.zip: cannot write: Could not connect"):
        invoke(scheduled(24))
    assert keys(s3) == []


def test_a_failed_run_whose_pages_cannot_be_kept_fails_with_its_own_error(
    s3: Any,
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ledger.pages[2] = b"not json"
    hook_puts(monkeypatch, lambda params: (_ for _ in ()).throw(EndpointConnectionError(
        endpoint_url="https://s3.test")))  # fmt: skip
    with pytest.raises(DataError, match="page 2"):
        invoke(scheduled(24))
    assert keys(s3) == []
    [kept] = [r for r in caplog.records if "pages read were not kept" in r.getMessage()]
    assert "pages.zip: cannot write" in kept.getMessage()


# --- names checked before anything is fetched -------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPORT_PREFIX", "reports/../other", r"REPORT_PREFIX: has an empty, '\.' or '\.\.'"),
        ("REPORT_PREFIX", "..", r"REPORT_PREFIX: has an empty, '\.' or '\.\.' segment"),
        ("REPORT_PREFIX", "/reports", r"REPORT_PREFIX: starts with '/'"),
        ("REPORT_PREFIX", "a//b", r"REPORT_PREFIX: has an empty"),
        ("REPORT_PREFIX", "a/\x1b[2Jb", r"REPORT_PREFIX: contains a control character"),
        ("REPORT_BUCKET", "Reports_Bucket", r"REPORT_BUCKET: not a valid S3 bucket name"),
        ("REPORT_BUCKET", "ab", r"not a valid S3 bucket name: 'ab'"),
        ("REPORT_BUCKET", "a..b", r"no two adjacent periods"),
        ("REPORT_BUCKET", "192.168.5.4", r"not formatted as an IP address"),
        ("REPORT_BUCKET", "xn--bucket", r"a reserved prefix or suffix"),
        ("REPORT_BUCKET", "bucket-s3alias", r"a reserved prefix or suffix"),
        ("REPORT_KEEP_PAGES", "yes", r"REPORT_KEEP_PAGES: expected true or false, got 'yes'"),
    ],
)
def test_a_bad_prefix_or_bucket_is_refused_before_any_request(
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    called: list[str] = []
    monkeypatch.setattr(storage, "new_client", lambda: called.append("s3"))
    with pytest.raises(ConfigError, match=message):
        invoke(scheduled(24))
    assert (ledger.requests, called) == (0, [])


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("reports/daily/", "reports/daily"), ("", ""), (" team-a/reports ", "team-a/reports")],
)
def test_good_prefixes_are_kept(prefix: str, expected: str) -> None:
    assert storage.check_prefix(prefix) == expected


def test_a_scheduled_time_in_the_future_is_refused(ledger: LedgerServer) -> None:
    with pytest.raises(ConfigError, match="is in the future"):
        invoke({"scheduled_time": "2999-01-01T06:00:00Z"})
    assert ledger.requests == 0


# --- a missing key answered as S3 documents it (tests/s3_access.py) ---------------------------


@pytest.mark.parametrize("created", [True, False], ids=["created-bucket", "existing-bucket"])
def test_a_first_and_a_second_run_succeed_with_403_for_a_missing_key(
    s3: Any,
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    created: bool,
) -> None:
    """The role's grants as iam.tf writes them, a missing key answered 403 unless the role may
    list the whole bucket: the runs list a latest/ key before reading it, never after."""
    statements = s3_access.role_statements(BUCKET, PREFIX, created=created)
    refusals = s3_access.as_documented(monkeypatch, statements, s3)
    first = invoke(scheduled(24), "day-24")
    assert first["changes"]["status"] == "first_run"
    edit_amount(ledger, page=1, index=0, delta="1.00")
    second = invoke(scheduled(25), "day-25")
    assert second["changes"]["status"] == "compared"
    assert second["changes"]["total_balance_difference"] == "1.00"
    assert latest(s3)[0] == "2026-11-25T06:00:00Z"
    assert refusals == []
    assert [m["ComparisonFailures"] for m in emf_lines(capsys.readouterr().err)] == [0, 0]
    # The stand-in bites: a read of a missing key is a 403 unless the role may list the bucket.
    client = storage.new_client()
    with pytest.raises(ClientError) as caught:
        client.head_object(Bucket=BUCKET, Key=f"{PREFIX}/latest/never-written.json")
    assert caught.value.response["Error"]["Code"] == ("404" if created else "403")
    if not created:  # and the narrow grant lists latest/ only
        with pytest.raises(ClientError, match="AccessDenied"):
            client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/2026/")
    assert len(refusals) == (0 if created else 2)


@pytest.mark.parametrize("without", ["ListLatestReport", "ReadLatestReport"])
def test_a_refused_listing_or_read_is_counted_and_never_taken_for_absent(
    s3: Any,
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    without: str,
) -> None:
    """A broken grant makes the comparison "unavailable" (counted) and fails the run before
    latest is written: read as "no report yet", the run would create latest over a newer one."""
    invoke(scheduled(24), "day-24")
    before = latest(s3)
    capsys.readouterr()
    statements = [
        s for s in s3_access.role_statements(BUCKET, PREFIX, created=False) if s["Sid"] != without
    ]
    refusals = s3_access.as_documented(monkeypatch, statements, s3)
    with pytest.raises(ClientError, match=r"AccessDenied|\(403\)"):
        invoke(scheduled(25), "day-25")
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["Success"], emf["ComparisonFailures"]) == (0, 1)
    assert latest(s3) == before
    operation = "ListObjectsV2" if without == "ListLatestReport" else "GetObject"
    assert refusals[0] == f"{operation} {LATEST}", refusals


# --- a stalled S3 ------------------------------------------------------------------------------


@pytest.mark.slow  # waits out the S3 client timeouts
def test_a_stalled_s3_ends_within_the_reserve_with_one_error_and_the_summary(
    ledger: LedgerServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """S3 accepts connections and never answers: every call ends at its read timeout, the run
    fails with one line and logs its summary, well within what the handler keeps back for S3."""
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(16)  # the kernel completes each connection; nothing ever answers
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{stalled.getsockname()[1]}")
        caplog.set_level(logging.INFO)
        started = time.monotonic()
        with pytest.raises(StorageError) as caught:
            invoke(scheduled(24))
        elapsed = time.monotonic() - started
    assert elapsed < storage.S3_SECONDS
    assert isinstance(caught.value.__cause__, ReadTimeoutError)
    assert "\n" not in str(caught.value)
    summary = json.loads(summary_lines(caplog)[0].getMessage())
    assert summary["success"] is False
    assert re.match(
        r"StorageError: s3://\S+/pages\.zip: cannot write: Read timeout on", summary["error"]
    )
    assert "changes" not in summary  # the pages, put first, timed out before latest was read
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["Success"], emf["ComparisonFailures"]) == (0, 0)
    print(f"stalled S3: the run failed after {elapsed:.1f} s (bound {storage.S3_SECONDS:.0f} s)")
