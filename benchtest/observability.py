"""The Lambda's logs and metrics: one JSON summary line and one EMF record per run, owned by one
context (`RunLog`), written however the run ends. Stdlib only: Powertools would cost ~1 MB and
~40 ms of cold start for one line and one record (docs/lambda.md)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from .model import UNAVAILABLE, Report, TransactionChange
from .money import plain
from .renderers import change_fields
from .stats import RunStats
from .text import quoted

log = logging.getLogger("benchtest.run")
NAMESPACE = "benchtest"


def configure_logging(env: Mapping[str, str] = os.environ) -> None:
    """Make the INFO summary visible: outside Lambda (no root handler) on stderr; in Lambda, lift
    the root logger from Python's WARNING, unless an application log level is configured
    (``AWS_LAMBDA_LOG_LEVEL``): the runtime has set that one, and it is kept."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    elif not env.get("AWS_LAMBDA_LOG_LEVEL") and root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    quiet_urllib3(debug=root.getEffectiveLevel() <= logging.DEBUG)


def quiet_urllib3(*, debug: bool) -> None:
    """Keep urllib3's warnings for debugging: it tells each retry (``Retrying (Retry(total=3,
    …)) after connection broken by …``) and odd headers (with the server's bytes), while a run's
    error is one line and its retries are counted (`RunStats.retries`, the Retries metric)."""
    logging.getLogger("urllib3").setLevel(logging.NOTSET if debug else logging.ERROR)


def log_summary(fields: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> None:
    """One structured line per run: INFO when it succeeded, ERROR when it failed, when a
    balance assertion failed (the report was written, but it contradicts a known balance) or
    when the ledger is empty unexpectedly."""
    ok = fields.get("success") and not (
        fields.get("assertion_failures") or fields.get("empty_ledger")
    )
    level = logging.INFO if ok else logging.ERROR
    if env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        log.log(level, "benchtest run", extra=dict(fields))
    else:
        log.log(level, json.dumps(dict(fields), separators=(",", ":"), ensure_ascii=False))


def emf_record(
    metrics: Mapping[str, float], function: str, properties: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An Embedded Metric Format record: one value per metric, one ``FunctionName`` dimension;
    ``properties`` (a failed run's ``ErrorType``) stay in the log event, for Logs Insights to
    group by, without creating metrics."""
    units = [{"Name": n, "Unit": "Seconds" if n == "Seconds" else "Count"} for n in metrics]
    directive = {"Namespace": NAMESPACE, "Dimensions": [["FunctionName"]], "Metrics": units}
    return {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [directive]},
        "FunctionName": function,
        **(properties or {}),
        **metrics,
    }


def emit_metrics(
    metrics: Mapping[str, float],
    env: Mapping[str, str] = os.environ,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Write the record as one bare line: EMF must be the whole log event, not a log message."""
    function = env.get("AWS_LAMBDA_FUNCTION_NAME", "benchtest")
    record = emf_record(metrics, function, properties=properties)
    sys.stderr.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stderr.flush()


# Restated days and transaction changes named in the summary line; the report has them all.
SUMMARY_ITEMS = 5


class RunLog:
    """One run's summary line and metric record: filled in as the run goes (`stats`,
    `started`, `reported`), logged when the ``with`` block ends, with the error if it raised."""

    def __init__(self, request_id: str) -> None:
        self.clock = time.monotonic()
        self.stats = RunStats()  # filled in as the run goes: a failed run reports it too
        self.summary: dict[str, Any] = {"request_id": request_id, "success": False}
        names = ("AssertionFailures", "RestatedDays", "ComparisonFailures", "EmptyLedger")
        self.counts = dict.fromkeys(names, 0)
        self.scheduled = False  # started by EventBridge Scheduler (it sent its execution id)
        self.allow_empty = False  # the allow_empty setting, once read

    def __enter__(self) -> RunLog:
        return self

    def reported(self, report: Report) -> None:
        """The report's figures, compared, for the summary and the metrics (before it is
        written: a failed write still logs them)."""
        failed, changes = report.failed_assertions, report.changes
        restated = 0 if changes is None else len(changes.restated_days)
        empty = report.empty and not self.allow_empty
        self.counts.update(
            AssertionFailures=len(failed),
            RestatedDays=restated,
            ComparisonFailures=int(changes is not None and changes.status == UNAVAILABLE),
            EmptyLedger=int(empty),
        )
        if empty:
            self.summary["empty_ledger"] = True
        self.summary.update(source=report.source, total_balance=plain(report.total_balance))
        if report.assertions:
            self.summary["assertion_failures"] = len(failed)
        if failed:
            self.summary["failed_assertion_dates"] = [check.date.isoformat() for check in failed]
        if changes is not None:
            self.summary.update(changes=changes.status, restated_days=restated)
            if changes.restated_days:
                first = changes.restated_days[:SUMMARY_ITEMS]
                self.summary["restated_dates"] = [d.date.isoformat() for d in first]
            if changes.transactions_compared:
                self.summary["transaction_change_counts"] = changes.counts()
                self.summary["transaction_changes"] = [
                    _change_line(c) for c in changes.transaction_changes[:SUMMARY_ITEMS]
                ]

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if error is not None:
            self.summary["error"] = f"{type(error).__name__}: {error}"
            self.summary["error_type"] = type(error).__name__
        stats, success = self.stats, int(self.summary["success"])
        seconds = round(time.monotonic() - self.clock, 3)
        self.summary.update(
            pages=stats.pages,
            transactions=stats.transactions,
            requests=stats.requests,
            retries=stats.retries,
            seconds=seconds,
        )
        log_summary(self.summary)
        metrics = {
            "Pages": stats.pages,
            "Transactions": stats.transactions,
            "Retries": stats.retries,
            "Success": success,
            "Seconds": seconds,
            **self.counts,
            # Only scheduled runs count for the no-success alarm: a test run cannot clear it.
            **({"ScheduledSuccess": success} if self.scheduled else {}),
        }
        kind_of = self.summary.get("error_type")
        emit_metrics(metrics, properties=None if kind_of is None else {"ErrorType": kind_of})


def _change_line(change: TransactionChange) -> str:
    """``changed 2013-12-18 'Office Expense' 'COSTCO …' -642.79 -> -742.79``: the text quoted
    (short, escaped), a changed field as ``previous -> current``."""
    day, category, company, amount = (
        f"{was} -> {now}" if was else now for was, now in change_fields(change, plain)
    )
    return f"{change.change} {day} {quoted(category)} {quoted(company)} {amount}"
