"""AWS Lambda entry point: glue around `benchtest.run`."""

from __future__ import annotations

import os
import time
from typing import Any

import benchtest
from benchtest import auth, observability, pagesfile, storage
from benchtest.events import parse_event
from benchtest.pipeline import deliver
from benchtest.reconcile import MAX_PREVIOUS_BYTES
from benchtest.urls import without_credentials

# Kept back from the run's deadline, so that a run ends with its summary line before Lambda's
# timeout: the fetch ends within ~0.1 s of its deadline (it cuts its sockets), then the report
# is rendered and logged (5 s, for a large report on a slow Lambda CPU) and, with a bucket,
# written (storage.S3_SECONDS, the bound of its S3 calls; the client is made before the fetch).
# With an auth parameter, auth.SSM_SECONDS too (the bound of its read), so a timeout too short
# for the worst case fails every run at its start (and main.tf's precondition at plan).
RESERVE_SECONDS = 5.0

observability.configure_logging()


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """The report as ``--format json`` prints it, plus ``s3`` ({format: URI}) with a bucket."""
    request_id = getattr(context, "aws_request_id", None) or time.strftime(
        "%Y%m%dT%H%M%SZ", time.gmtime()
    )
    with observability.RunLog(request_id) as record:
        try:
            invocation = parse_event(event)
            record.summary.update(
                trigger=invocation.trigger, run_time=invocation.run_time.isoformat()
            )
            if invocation.execution_id is not None:
                record.summary["execution_id"] = invocation.execution_id
                record.scheduled = True
            secret = auth.from_parameter(os.environ)  # read at the first invocation, then cached
            settings = benchtest.load_settings(overrides=invocation.options, secret=secret)
            record.allow_empty = settings.report.allow_empty
            record.summary["source"] = without_credentials(settings.fetch.url)
            target = storage.S3Target.from_env(os.environ)
            sink = None if target is None else storage.S3Reports(target, invocation, request_id)
            reserve = RESERVE_SECONDS + (0 if sink is None else storage.S3_SECONDS)
            reserve += auth.SSM_SECONDS if os.environ.get(auth.PARAMETER_ENV, "").strip() else 0
            deadline = _time_left(context, settings.fetch.deadline, reserve)
            keep = None if sink is None or not sink.target.keep_pages else sink.keep
            with pagesfile.Recorder(settings, keep) as recorder:  # a failed run's pages too
                result = benchtest.run(
                    settings, deadline=deadline, stats=record.stats, recorder=recorder
                )
            latest = None if sink is None else lambda: sink.latest(MAX_PREVIOUS_BYTES)
            report = deliver(result.report, sink, settings, latest, compared=record.reported)
        except Exception:
            auth.forget()  # a rotated token (a 401) is read again by the next invocation
            raise
        response = report.to_dict()
        record.summary["success"] = True
        if sink is not None:
            response["s3"] = sink.uris
            record.summary["s3"] = sink.uris["json"]
            if sink.published is not None:
                kept = "kept: a newer run is there"
                record.summary["latest"] = "published" if sink.published else kept
        return response


def _time_left(context: Any, configured: float, reserve: float) -> float:
    """The configured deadline, shortened to what this invocation has left less ``reserve``."""
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
