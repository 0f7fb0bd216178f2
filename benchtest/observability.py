"""The Lambda's logs and metrics: one JSON summary line and one EMF record per run.

Stdlib only (no Powertools): the function logs one line and one metric record per run, which
does not justify ~1 MB in the zip and ~40 ms of cold start. The summary goes through
`logging`: with Lambda's JSON log format its fields become top-level keys of the runtime's
record (next to ``requestId``); with the text format, or outside Lambda, the message itself
is the JSON object. The metrics are a CloudWatch Embedded Metric Format record, written as a
raw line to stderr (Lambda sends stdout and stderr lines to the log stream unchanged, and stdout
stays free for a local run's report); CloudWatch turns it into metrics without any API call.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("benchtest.run")
NAMESPACE = "benchtest"


def configure_logging(env: Mapping[str, str] = os.environ) -> None:
    """Make the INFO summary visible, unless Lambda's application log level says otherwise.

    Outside Lambda there is no root handler: log to stderr. In Lambda with the text format the
    root logger stays at Python's WARNING, which would drop the summary; with an application
    log level configured (``AWS_LAMBDA_LOG_LEVEL``), the runtime has set it and it is kept.
    """
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
    """One structured line per run: INFO when it succeeded, ERROR when it failed or when a
    balance assertion failed (the report was written, but it contradicts a known balance)."""
    ok = fields.get("success") and not fields.get("assertion_failures")
    level = logging.INFO if ok else logging.ERROR
    if env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        log.log(level, "benchtest run", extra=dict(fields))
    else:
        log.log(level, json.dumps(dict(fields), separators=(",", ":"), ensure_ascii=False))


def emf_record(
    metrics: Mapping[str, float],
    function: str,
    timestamp_ms: int | None = None,
    properties: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An Embedded Metric Format record: one value per metric, one ``FunctionName`` dimension.

    ``properties`` are extra keys that are not metrics (a failed run's ``ErrorType``): EMF keeps
    them in the log event, where Logs Insights can group by them, without creating metrics.
    """
    units = {"Seconds": "Seconds"}
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [
                        {"Name": name, "Unit": units.get(name, "Count")} for name in metrics
                    ],
                }
            ],
        },
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
