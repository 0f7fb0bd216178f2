"""The Lambda handler: events, settings from the environment, S3 reports (moto), logs, metrics."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import benchtest
import handler
from benchtest import ConfigError, DataError, FetchError, observability
from benchtest.events import parse_event
from benchtest.source import sample_pages
from tests.hostile_server import RawServer, one_byte_per_second, silent
from tests.ledger_server import LedgerServer
from tests.support import made_at, make_pages, record

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
BUCKET = "benchtest-reports"
SCHEDULED = {"scheduled_time": "2026-11-25T06:00:00Z"}


@dataclass
class LambdaContext:
    """What the handler reads from Lambda's context object."""

    aws_request_id: str = "8f5e2b1c-0000-4000-8000-000000000001"
    remaining_ms: int = 900_000  # the function timeout (variables.tf)

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment: no ledger URL (bundled sample), no bucket, fast retries."""
    for name in ("BENCH_API_URL", "REPORT_BUCKET", "REPORT_PREFIX", "AWS_LAMBDA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BENCH_BACKOFF", "0.01")
    monkeypatch.setenv("BENCH_RETRIES", "1")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "benchtest-test")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto S3 with the report bucket, configured as the function's report target."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "REPORT_BUCKET": BUCKET,
        "REPORT_PREFIX": "reports/daily/",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


def keys(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def invoke(event: Any, context: Any = None) -> handler.Response:
    report = handler.handler(event, context or LambdaContext())
    json.dumps(report)  # what Lambda does with the return value: must not raise
    return report


# --- events -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_file", "trigger", "options"),
    [
        ("scheduled.json", "schedule", {}),
        ("rule.json", "rule", {}),
        ("manual.json", "manual", {}),
        ("manual-options.json", "manual", {"active_days_only": True, "exclude_duplicates": True}),
    ],
)
def test_sample_events_are_understood(
    event_file: str, trigger: str, options: dict[str, bool]
) -> None:
    invocation = parse_event(json.loads((EVENTS / event_file).read_text()))
    assert invocation.trigger == trigger
    assert invocation.options == options
    if trigger != "manual":
        assert invocation.run_time.isoformat() == "2026-11-25T06:00:00+00:00"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"url": "http://169.254.169.254/{page}"}, "'url' is not allowed"),
        ({"bucket": "elsewhere"}, "'bucket' is not allowed"),
        ({"BENCH_API_URL": "http://x/{page}"}, "'BENCH_API_URL' is not allowed"),
        ({"concurrency": 64}, "'concurrency' is not allowed"),
        ({"scheduled_time": "2026-11-25T06:00:00Z", "url": "x"}, "'url' is not allowed"),
        ({"active_days_only": "yes"}, "must be true or false"),
        ({"scheduled_time": "yesterday"}, "not an ISO 8601 time"),
        ({"scheduled_time": "2026-11-25T06:00:00"}, "no time zone"),
        ({"scheduled_time": 1764050400}, "must be an ISO 8601 string"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_events_that_would_change_more_than_safe_options_are_rejected(
    event: Any, message: str, serve: Callable[..., LedgerServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(sample_pages())
    monkeypatch.setenv("BENCH_API_URL", server.url)
    with pytest.raises(ConfigError, match=message):
        invoke(event)
    assert server.requests == 0  # rejected before any request is made


# What EventBridge Scheduler sends once it has replaced the schedule's keywords (schedule.tf).
FROM_SCHEDULER = {**SCHEDULED, "execution_id": "d32c5kddcf5bb8c3"}


@pytest.mark.parametrize(
    ("event", "scheduled_success"),
    [
        (FROM_SCHEDULER, 1),
        (SCHEDULED, None),  # a test run imitating a schedule (README)
        ({}, None),  # a manual run
    ],
)
def test_only_scheduler_runs_count_for_the_no_success_alarm(
    event: dict[str, str],
    scheduled_success: int | None,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    invoke(event)
    [emf] = emf_lines(capsys.readouterr().err)
    assert emf.get("ScheduledSuccess") == scheduled_success
    names = [m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert ("ScheduledSuccess" in names) is (scheduled_success is not None)
    summary = json.loads(summary_lines(caplog)[0].getMessage())
    assert summary.get("execution_id") == event.get("execution_id")


def test_a_scheduler_run_that_fails_counts_as_no_scheduled_success(
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BENCH_API_URL", serve({}).url)
    with pytest.raises(FetchError):
        invoke(FROM_SCHEDULER)
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["ScheduledSuccess"], emf["Success"]) == (0, 0)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"scheduled_time": "<aws.scheduler.scheduled-time>"},
            r"'scheduled_time' is '<aws\.scheduler\.scheduled-time>': EventBridge Scheduler",
        ),
        ({**SCHEDULED, "execution_id": "<aws.scheduler.execution-id>"}, "replaces that keyword"),
        ({**SCHEDULED, "execution_id": "a b"}, "not a Scheduler execution id"),
        ({"execution_id": "d32c5kddcf5bb8c3"}, "'execution_id' is not allowed"),
    ],
)
def test_an_unsubstituted_keyword_or_a_bad_execution_id_is_refused(
    event: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_event(event)


def test_scheduled_event_returns_the_same_report_as_the_cli(
    sample_report: benchtest.Report,
) -> None:
    report = invoke(SCHEDULED)
    assert report == made_at(sample_report, report).to_dict()


def test_manual_event_options_change_only_how_the_report_is_computed() -> None:
    report = invoke(json.loads((EVENTS / "manual-options.json").read_text()))
    assert report["gap_days_filled"] is False
    assert report["duplicates_excluded"] is True
    assert report["source"] == benchtest.source.SAMPLE_SOURCE


def test_bench_ledger_through_the_handler(
    bench_pages: dict[int, bytes],
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(bench_pages)
    monkeypatch.setenv("BENCH_API_URL", server.url)
    report = invoke(SCHEDULED)
    assert (report["total_balance"], report["transaction_count"], report["page_count"]) == (
        "18377.16",
        38,
        4,
    )


# --- S3 -----------------------------------------------------------------------------------


def test_scheduled_report_lands_in_s3_in_a_run_folder_under_the_schedule_date_and_latest(
    s3: Any, sample_report: benchtest.Report
) -> None:
    report = invoke(SCHEDULED)
    [folder] = {key.rpartition("/")[0] for key in keys(s3) if "/latest/" not in key}
    assert folder.startswith("reports/daily/2026/11/25/run-")
    assert keys(s3) == sorted(
        [f"{folder}/balances.{ext}" for ext in ("csv", "html", "json")]
        + [f"{folder}/pages.zip"]
        + [f"reports/daily/latest/balances.{ext}" for ext in ("csv", "html", "json")]
    )
    assert report["s3"] == {
        **{fmt: f"s3://{BUCKET}/{folder}/balances.{fmt}" for fmt in ("csv", "html", "json")},
        "pages": f"s3://{BUCKET}/{folder}/pages.zip",
    }
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=f"{folder}/pages.zip")["TagSet"]
    assert tags == [{"Key": "benchtest", "Value": "pages"}]  # storage.tf's rule expires them
    expected_types = {
        "json": "application/json",
        "csv": "text/csv; charset=utf-8",
        "html": "text/html; charset=utf-8",
    }
    for fmt, content_type in expected_types.items():
        head = s3.head_object(Bucket=BUCKET, Key=f"{folder}/balances.{fmt}")
        assert head["ContentType"] == content_type
        assert head["ServerSideEncryption"] == "aws:kms"
    stored = s3.get_object(Bucket=BUCKET, Key=f"{folder}/balances.json")["Body"].read()
    first_run = {"status": "first_run", "note": "first run: nothing to compare"}
    sample_report = made_at(sample_report, json.loads(stored))
    assert json.loads(stored) == {
        **sample_report.to_dict(),
        "changes": json.loads(stored)["changes"],
    }
    assert json.loads(stored)["changes"].items() >= first_run.items()
    csv_text = s3.get_object(Bucket=BUCKET, Key=f"{folder}/balances.csv")["Body"].read().decode()
    assert csv_text == benchtest.render(sample_report, "csv")


def test_customer_managed_kms_key_is_used_when_configured(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    monkeypatch.setenv("REPORT_KMS_KEY_ID", key_id)
    invoke(SCHEDULED)
    for key in keys(s3):
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_id)


def test_a_retried_schedule_writes_a_folder_of_its_own_and_never_overwrites(s3: Any) -> None:
    first = invoke(SCHEDULED, LambdaContext(aws_request_id="first"))
    retry = invoke(SCHEDULED, LambdaContext(aws_request_id="retry"))
    assert first["s3"]["json"] != retry["s3"]["json"]
    assert len(keys(s3)) == 4 + 4 + 3  # two run folders (reports and pages) and latest
    latest = s3.head_object(Bucket=BUCKET, Key="reports/daily/latest/balances.json")
    assert "-retry-" in latest["Metadata"]["run-id"]  # the later attempt of one schedule wins


def test_classic_rule_and_manual_runs_have_their_own_keys(s3: Any) -> None:
    invoke(json.loads((EVENTS / "rule.json").read_text()))
    invoke({}, LambdaContext(aws_request_id="console-test"))
    folders = sorted({key.rpartition("/")[0] for key in keys(s3)})
    assert [f.split("/run-")[0] for f in folders] == [
        "reports/daily/2026/11/25",
        "reports/daily/latest",
        "reports/daily/manual",
    ]
    assert "-console-test-" in folders[2]


@pytest.mark.parametrize(
    ("pages", "error", "message"),
    [
        ({1: b"<html>Bad gateway</html>"}, DataError, "page 1"),
        (
            make_pages([record(amount="NaN")] + [record()] * 3, per_page=2),
            DataError,
            r"page 1: transactions\[0\]\.Amount",
        ),
        ({}, FetchError, "page 1"),
    ],
)
def test_a_failed_run_raises_and_writes_only_the_pages_it_read(
    s3: Any,
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
    pages: dict[int, bytes],
    error: type[Exception],
    message: str,
) -> None:
    monkeypatch.setenv("BENCH_API_URL", serve(pages).url)
    with pytest.raises(error, match=message):
        invoke(SCHEDULED)
    [pages] = keys(s3)  # no report: only the pages the run read, for a bug report
    assert pages.startswith("reports/daily/2026/11/25/run-")
    assert pages.endswith("/pages.zip")


def test_run_stops_before_lambda_would_kill_it(
    serve: Callable[..., LedgerServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(sample_pages(), latency=2.0)
    monkeypatch.setenv("BENCH_API_URL", server.url)
    context = LambdaContext(remaining_ms=int((handler.RESERVE_SECONDS + 0.5) * 1000))
    with pytest.raises(FetchError):
        invoke(SCHEDULED, context)


def test_too_little_time_left_fails_before_fetching(
    serve: Callable[..., LedgerServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(sample_pages())
    monkeypatch.setenv("BENCH_API_URL", server.url)
    with pytest.raises(FetchError, match="left in this invocation"):
        invoke(SCHEDULED, LambdaContext(remaining_ms=3000))
    assert server.requests == 0


# --- logs and metrics ---------------------------------------------------------------------


# The metrics of every run's EMF record, in order (a failed run's too).
METRICS = [
    "Pages",
    "Transactions",
    "Retries",
    "Success",
    "Seconds",
    "AssertionFailures",
    "RestatedDays",
    "ComparisonFailures",
    "EmptyLedger",
]


def summary_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "benchtest.run"]


def emf_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith('{"_aws"')]


def test_one_json_summary_line_and_one_metric_record_per_run(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    invoke(SCHEDULED, LambdaContext(aws_request_id="req-1"))
    [line] = summary_lines(caplog)
    summary = json.loads(line.getMessage())
    assert summary["request_id"] == "req-1"
    assert summary["success"] is True
    assert (summary["pages"], summary["transactions"], summary["total_balance"]) == (
        3,
        21,
        "5356.75",
    )
    assert summary["seconds"] >= 0
    [emf] = emf_lines(capsys.readouterr().err)
    # No "level" key: Lambda files the line as INFO (docs/aws-behaviour.md).
    assert "level" not in emf
    definition = emf["_aws"]["CloudWatchMetrics"][0]
    assert definition["Namespace"] == "benchtest"
    assert [m["Name"] for m in definition["Metrics"]] == METRICS
    assert (emf["FunctionName"], emf["Pages"], emf["Transactions"], emf["Success"]) == (
        "benchtest-test",
        3,
        21,
        1,
    )
    assert emf["EmptyLedger"] == 0
    assert "empty_ledger" not in summary


def test_with_lambda_json_log_format_summary_fields_are_top_level_keys(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")
    caplog.set_level(logging.INFO)
    invoke(SCHEDULED)
    [line] = summary_lines(caplog)
    assert line.getMessage() == "benchtest run"
    assert (line.total_balance, line.transactions) == ("5356.75", 21)  # type: ignore[attr-defined]


def test_a_failed_run_is_logged_and_counted_as_a_failure(
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve({})
    monkeypatch.setenv("BENCH_API_URL", server.url.replace("http://", "http://user:s3cret@"))
    caplog.set_level(logging.INFO)
    with pytest.raises(FetchError):
        invoke(SCHEDULED)
    [line] = summary_lines(caplog)
    summary = json.loads(line.getMessage())
    assert line.levelno == logging.ERROR
    assert summary["success"] is False
    assert summary["error"].startswith("FetchError: ")
    assert summary["source"] == server.url  # which ledger failed, without its credentials
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["Success"], emf["Pages"]) == (0, 0)


def test_handler_imports_boto3_only_when_writing_to_s3() -> None:
    code = (
        "import sys, handler; handler.handler({}, None); "
        "print('boto3' in sys.modules, 'benchtest.renderers.html' in sys.modules,"
        " 'benchtest.renderers.chart' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False", "False"]


@pytest.mark.parametrize(
    ("configured", "lambda_level", "expected"),
    [
        (logging.WARNING, None, logging.INFO),  # text format: the summary must not be dropped
        (logging.WARNING, "WARN", logging.WARNING),  # the function's own setting wins
        (logging.DEBUG, None, logging.DEBUG),  # never raised
    ],
)
def test_logging_level_respects_lambdas_application_log_level(
    configured: int, lambda_level: str | None, expected: int
) -> None:
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, root.handlers[:]
    root.handlers = [logging.NullHandler()]  # as the runtime installs its own handler
    root.setLevel(configured)
    try:
        env = {} if lambda_level is None else {"AWS_LAMBDA_LOG_LEVEL": lambda_level}
        observability.configure_logging(env)
        assert root.level == expected
    finally:
        root.setLevel(saved_level)
        root.handlers = saved_handlers


# --- failures: deadline, what happened so far, no credentials ------------------------------


@pytest.mark.slow  # waits out a 12 s deadline
@pytest.mark.parametrize("behaviour", [silent, one_byte_per_second])
def test_a_stalled_source_with_17s_left_fails_in_time_with_its_summary(
    behaviour: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 10.1: the error is raised (Lambda posts it) well before the invocation is killed."""
    caplog.set_level(logging.INFO)
    with RawServer(sample_pages(), 1, behaviour) as server:
        monkeypatch.setenv("BENCH_API_URL", server.url)
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"^page 1: deadline of 12s reached while"):
            invoke(SCHEDULED, LambdaContext(remaining_ms=17_000))
        elapsed = time.monotonic() - started
    assert elapsed < 17 - handler.RESERVE_SECONDS + 1
    [line] = summary_lines(caplog)
    summary = json.loads(line.getMessage())
    assert (summary["success"], summary["error_type"], summary["pages"]) == (
        False,
        "DeadlineError",
        0,
    )
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["Success"], emf["ErrorType"]) == (0, "DeadlineError")


def test_a_failed_runs_summary_and_metrics_carry_what_happened_so_far(
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 10.2: page 3 fails after four retries; pages 1 and 2 were fetched."""
    server = serve(sample_pages(), faults={3: ["503"] * 10})
    monkeypatch.setenv("BENCH_API_URL", server.url)
    monkeypatch.setenv("BENCH_RETRIES", "4")
    monkeypatch.setenv("BENCH_CONCURRENCY", "1")
    caplog.set_level(logging.INFO)
    with pytest.raises(FetchError, match=r"^page 3: HTTP 503 after 5 attempts$"):
        invoke(SCHEDULED)
    assert server.page_requests[3] == 5
    summary = json.loads(summary_lines(caplog)[0].getMessage())
    assert {k: summary[k] for k in ("pages", "retries", "error_type")} == {
        "pages": 2,
        "retries": 4,
        "error_type": "HTTPStatusError",
    }
    # A request counts when it is answered or fails. With one thread, one request may be cut by
    # the abort: read by the server and never answered (-1), or counted as failed before the
    # server read it (+1).
    assert summary["requests"] in {server.requests - 1, server.requests, server.requests + 1}
    assert summary["requests"] >= 7  # pages 1 and 2, and page 3's five attempts
    assert summary["transactions"] > 0
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["Success"], emf["Pages"], emf["Retries"]) == (0, 2, 4)
    assert emf["Transactions"] == summary["transactions"]
    assert [m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]] == METRICS


@pytest.mark.parametrize("pages", [sample_pages(), {}], ids=["success", "failure"])
def test_credentials_in_the_url_reach_no_log_or_metric(
    pages: dict[int, bytes],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    serve: Callable[..., LedgerServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(pages)
    monkeypatch.setenv("BENCH_API_URL", server.url.replace("http://", "http://user:s3cret@"))
    caplog.set_level(logging.DEBUG)
    if pages:
        shown = json.dumps(invoke(SCHEDULED))
        assert f'"source": "{server.url}"' in shown
    else:
        with pytest.raises(FetchError) as caught:
            invoke(SCHEDULED)
        shown = f"{caught.value} {caught.value.url}"
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "benchtest.run" in logged
    assert "s3cret" not in shown + logged + "".join(capsys.readouterr())
