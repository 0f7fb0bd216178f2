"""AWS Lambda entry point: glue around `benchtest.run`.

Parse the event, load settings from the environment, run the core within the time Lambda has
left, write the report to S3 when a bucket is configured, log one summary line and one metric
record, and return the report. Any failure raises, so Lambda marks the invocation failed and
its retries, failure destination and alarms see it.

With a bucket, the report is compared with the latest scheduled run's (``changes``), and a
scheduled run then becomes ``latest`` (see `benchtest.storage`). A failed balance assertion does
not raise (a retry cannot fix a mismatch): the report is written, the summary is logged at
ERROR and the ``AssertionFailures`` metric counts it.
"""

from __future__ import annotations

import os
import time
from typing import Any

import benchtest
from benchtest import auth, observability, storage
from benchtest.errors import without_credentials
from benchtest.events import parse_event
from benchtest.model import UNAVAILABLE, Changes, TransactionChange
from benchtest.money import plain
from benchtest.reconcile import MAX_PREVIOUS_BYTES, changes_since
from benchtest.renderers import change_fields
from benchtest.storage import S3Target
from benchtest.text import quoted

# Kept back from the run's deadline, so that a run ends with its summary line before Lambda's
# timeout. The fetch ends within ~0.1 s of its deadline (it cuts its sockets); then the report is
# rendered and logged (5 s leaves room for a large report on a slow Lambda CPU) and, with a
# bucket, written: storage.S3_SECONDS more, the bound of its S3 calls. With an auth parameter,
# auth.SSM_SECONDS too, the bound of its read: so the smallest timeout that can run is the
# reserve (main.tf's precondition). The S3 client (boto3's import, 0.9-1.3 s here) is made
# before the fetch, so it is not in the reserve.
RESERVE_SECONDS = 5.0

observability.configure_logging()


# What the function returns: the report as ``--format json`` prints it, plus ``s3`` (``{format:
# s3 URI}``, where the run wrote it) with a bucket.
Response = dict[str, Any]


def handler(event: dict[str, Any] | None, context: Any) -> Response:
    started = time.monotonic()
    request_id = getattr(context, "aws_request_id", None) or time.strftime(
        "%Y%m%dT%H%M%SZ", time.gmtime()
    )
    summary: dict[str, Any] = {"request_id": request_id, "success": False}
    stats = benchtest.RunStats()  # filled in as the run goes: a failed run reports it too
    reconciliation = {"AssertionFailures": 0, "RestatedDays": 0, "ComparisonFailures": 0}
    scheduled = False  # started by EventBridge Scheduler (it sent its execution id)
    try:
        invocation = parse_event(event)
        summary["trigger"] = invocation.trigger
        summary["run_time"] = invocation.run_time.isoformat()
        if invocation.execution_id is not None:
            summary["execution_id"] = invocation.execution_id
            scheduled = True
        secret = auth.from_parameter(os.environ)  # read at the first invocation, then cached
        settings = benchtest.load_settings(overrides=invocation.options, secret=secret)
        summary["source"] = without_credentials(settings.url)
        target = S3Target.from_env(os.environ)
        client = None if target is None else storage.new_client()
        reserve = RESERVE_SECONDS + (0 if target is None else storage.S3_SECONDS)
        reserve += auth.SSM_SECONDS if os.environ.get(auth.PARAMETER_ENV, "").strip() else 0
        deadline = _time_left(context, settings.deadline, reserve)
        report = benchtest.run(settings, deadline=deadline, stats=stats).report
        if target is not None:
            report = changes_since(
                report,
                lambda: storage.read_latest(target, client, MAX_PREVIOUS_BYTES),
                "previous report",
                settings.detail_limit,
            )
        failed = report.failed_assertions
        restated = 0 if report.changes is None else len(report.changes.restated_days)
        unavailable = report.changes is not None and report.changes.status == UNAVAILABLE
        reconciliation.update(
            AssertionFailures=len(failed),
            RestatedDays=restated,
            ComparisonFailures=int(unavailable),
        )
        response: Response = report.to_dict()
        summary.update(source=report.source, total_balance=response["total_balance"])
        if report.assertions:
            summary["assertion_failures"] = len(failed)
        if failed:
            summary["failed_assertion_dates"] = [check.date.isoformat() for check in failed]
        if report.changes is not None:
            summary.update(changes=report.changes.status, restated_days=restated)
            summary.update(_changes(report.changes))
        if target is not None:
            bodies = [
                (fmt, name, ctype, benchtest.render(report, fmt).encode())
                for fmt, name, ctype in storage.OBJECTS
            ]
            uris, published = storage.deliver(bodies, target, invocation, request_id, client)
            response["s3"] = uris
            summary["s3"] = uris["json"]
            if published is not None:
                summary["latest"] = "published" if published else "kept: a newer run is there"
        summary["success"] = True
        return response
    except Exception as exc:
        summary["error"] = f"{type(exc).__name__}: {exc}"
        summary["error_type"] = type(exc).__name__
        auth.forget()  # a rotated token (a 401) is read again by the next invocation
        raise
    finally:
        seconds = round(time.monotonic() - started, 3)
        summary.update(
            pages=stats.pages,
            transactions=stats.transactions,
            requests=stats.requests,
            retries=stats.retries,
            seconds=seconds,
        )
        observability.log_summary(summary)
        observability.emit_metrics(
            {
                "Pages": stats.pages,
                "Transactions": stats.transactions,
                "Retries": stats.retries,
                "Success": int(summary["success"]),
                "Seconds": seconds,
                **reconciliation,
                # Only scheduled runs count for the no-success alarm: a test run cannot clear it.
                **({"ScheduledSuccess": int(summary["success"])} if scheduled else {}),
            },
            properties={"ErrorType": summary["error_type"]} if "error_type" in summary else None,
        )


# Restated days and transaction changes named in the summary line; the report has them all.
SUMMARY_ITEMS = 5


def _changes(changes: Changes) -> dict[str, Any]:
    """The summary's account of what changed: the first restated days and transaction changes
    (one short, quoted line each), with their counts."""
    found: dict[str, Any] = {}
    if changes.restated_days:
        first = changes.restated_days[:SUMMARY_ITEMS]
        found["restated_dates"] = [d.date.isoformat() for d in first]
    if changes.transactions_compared:
        found["transaction_change_counts"] = changes.counts()
        found["transaction_changes"] = [
            _change_line(c) for c in changes.transaction_changes[:SUMMARY_ITEMS]
        ]
    return found


def _change_line(change: TransactionChange) -> str:
    """``changed 2013-12-18 'Office Expense' 'COSTCO …' -642.79 -> -742.79``: the text quoted
    (short, escaped), a changed field as ``previous -> current``."""
    day, category, company, amount = (
        f"{was} -> {now}" if was else now for was, now in change_fields(change, plain)
    )
    return f"{change.change} {day} {quoted(category)} {quoted(company)} {amount}"


def _time_left(context: Any, configured: float, reserve: float) -> float:
    """The run's deadline: the configured one, shortened to what this invocation has left
    less ``reserve``."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return configured
    left: float = context.get_remaining_time_in_millis() / 1000 - reserve
    if left <= 0:
        raise benchtest.DeadlineError(
            f"only {left + reserve:.1f}s left in this invocation; "
            f"raise the function timeout above {reserve:.0f}s"
        )
    return min(configured, left)


if __name__ == "__main__":  # a local run: python handler.py events/scheduled.json
    import json
    import sys

    with open(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin", encoding="utf-8") as file:
        print(json.dumps(handler(json.load(file), None), indent=2, ensure_ascii=False))
