"""Write a report to S3: JSON, CSV of daily balances and HTML, under a key per run.

boto3 is imported here only, so the CLI and a run without a bucket never pay for it. Every
body is rendered before anything is written, and ``balances.json`` is written last: when it
exists, the run's other objects are complete too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import REPORT_BUCKET_ENV, REPORT_KMS_KEY_ID_ENV, REPORT_PREFIX_ENV
from .events import Invocation
from .model import Report
from .renderers import render

# (format, file name, content type), in write order: JSON last, as the completion marker.
OBJECTS = (
    ("csv", "balances.csv", "text/csv; charset=utf-8"),
    ("html", "balances.html", "text/html; charset=utf-8"),
    ("json", "balances.json", "application/json"),
)


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str = "reports"
    kms_key_id: str | None = None  # None: SSE-KMS with the AWS managed aws/s3 key

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Target | None:
        """``REPORT_BUCKET`` (unset or empty: no S3), ``REPORT_PREFIX``, ``REPORT_KMS_KEY_ID``."""
        bucket = env.get(REPORT_BUCKET_ENV, "").strip()
        if not bucket:
            return None
        return cls(
            bucket=bucket,
            prefix=env.get(REPORT_PREFIX_ENV, "reports").strip().strip("/"),
            kms_key_id=env.get(REPORT_KMS_KEY_ID_ENV, "").strip() or None,
        )


def run_folder(invocation: Invocation, run_id: str) -> str:
    """``YYYY/MM/DD`` for a scheduled run; ``manual/<run id>`` for a manual one.

    A retried scheduled run (same scheduled time) and a retried asynchronous invocation
    (same request id) land on the same keys, so a retry overwrites instead of adding.
    """
    if invocation.scheduled:
        return invocation.run_time.strftime("%Y/%m/%d")
    return f"manual/{run_id}"


def write_report(
    report: Report, target: S3Target, folder: str, client: Any = None
) -> dict[str, str]:
    """Put the report's objects; return ``{format: s3 URI}``."""
    bodies = [(fmt, name, ctype, render(report, fmt).encode()) for fmt, name, ctype in OBJECTS]
    if client is None:
        import boto3  # the Lambda runtime provides it

        client = boto3.client("s3")
    encryption: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
    if target.kms_key_id:
        encryption["SSEKMSKeyId"] = target.kms_key_id
    uris = {}
    for fmt, name, ctype, body in bodies:
        key = "/".join(part for part in (target.prefix, folder, name) if part)
        client.put_object(Bucket=target.bucket, Key=key, Body=body, ContentType=ctype, **encryption)
        uris[fmt] = f"s3://{target.bucket}/{key}"
    return uris
