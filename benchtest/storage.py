"""Where reports are kept: S3 (run folders and ``latest``) and local files, as bytes and keys."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from .errors import ConfigError, StorageError
from .events import Invocation
from .settings import (
    REPORT_BUCKET_ENV,
    REPORT_KEEP_PAGES_ENV,
    REPORT_KMS_KEY_ID_ENV,
    REPORT_PREFIX_ENV,
)
from .text import quoted

log = logging.getLogger("benchtest.s3")

# (format, file name, content type), in write order: JSON last, as the completion marker.
OBJECTS: tuple[tuple[str, str, str], ...] = (
    ("csv", "balances.csv", "text/csv; charset=utf-8"),
    ("html", "balances.html", "text/html; charset=utf-8"),
    ("json", "balances.json", "application/json"),
)
LATEST = "latest"
# A run's pages (docs/pages-file.md), in its folder before its reports, a failed run's too;
# tagged, so that a lifecycle rule of their own expires them (storage.tf).
PAGES, PAGES_TAG = "pages.zip", "benchtest=pages"
# Metadata on every object (x-amz-meta-…): which run wrote it, and when it was scheduled.
RUN_ID, SCHEDULED_TIME = "run-id", "scheduled-time"
# Compare-and-swap rounds on one latest object before giving up (each is a newer writer winning).
CAS_ATTEMPTS = 8
_RETRY_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}

# Every S3 call is bounded (botocore's Config): connecting, each read of the answer, and at most
# S3_ATTEMPTS attempts in botocore's standard retry mode, whose wait before its first retry is
# rand(0, 1) s (docs/aws-behaviour.md). A run makes S3_CALLS calls when no other run races it
# (ListObjectsV2 and GetObject for latest; a PutObject for the pages and per object;
# ListObjectsV2, HeadObject and PutObject per latest object), so S3_SECONDS bounds them all:
# the handler keeps that much of the invocation back for them.
S3_CONNECT_SECONDS = 1.0
S3_READ_SECONDS = 2.0
S3_ATTEMPTS = 2
S3_BACKOFF_SECONDS = 1.0
S3_CALLS = 3 + 4 * len(OBJECTS)
S3_SECONDS = S3_CALLS * (
    S3_ATTEMPTS * (S3_CONNECT_SECONDS + S3_READ_SECONDS) + (S3_ATTEMPTS - 1) * S3_BACKOFF_SECONDS
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_PREFIX_BYTES = 512  # S3 keys are at most 1024 bytes; the rest is for the run's own names


def check_bucket(name: str) -> str:
    """``name`` if it follows the S3 bucket naming rules; else a `ConfigError` saying so."""
    problem = None
    if not _BUCKET.fullmatch(name):
        problem = "3-63 lowercase letters, digits, '.' and '-', starting and ending alphanumeric"
    elif ".." in name:
        problem = "no two adjacent periods"
    elif _is_ip(name):
        problem = "not formatted as an IP address"
    elif name.startswith(_BUCKET_PREFIXES) or name.endswith(_BUCKET_SUFFIXES):
        problem = "a reserved prefix or suffix"
    if problem is not None:
        message = f"not a valid S3 bucket name: {quoted(name)} ({problem})"
        raise ConfigError(message, origin=REPORT_BUCKET_ENV)
    return name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def check_prefix(prefix: str) -> str:
    """``prefix`` without a trailing ``/``; `ConfigError` for a leading ``/``, an empty (``a//b``),
    ``.`` or ``..`` segment or a control character: keys different tools resolve differently."""
    text = prefix.strip().rstrip("/")
    problem = None
    if _CONTROL.search(text):
        problem = "contains a control character"
    elif text.startswith("/"):
        problem = "starts with '/'"
    elif text and any(part in ("", ".", "..") for part in text.split("/")):
        problem = "has an empty, '.' or '..' segment"
    elif len(text.encode()) > MAX_PREFIX_BYTES:
        problem = f"is longer than {MAX_PREFIX_BYTES} bytes"
    if problem is not None:
        raise ConfigError(f"{problem}: {quoted(prefix)}", origin=REPORT_PREFIX_ENV)
    return text


@dataclass(frozen=True)
class S3Target:
    bucket: str
    prefix: str = "reports"
    kms_key_id: str | None = None  # None: SSE-KMS with the AWS managed aws/s3 key
    keep_pages: bool = True  # the run's pages beside its reports

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Target | None:
        """From ``REPORT_BUCKET`` (unset or empty: no S3), ``REPORT_PREFIX``, ``REPORT_KMS_KEY_ID``
        and ``REPORT_KEEP_PAGES``, checked before any fetch, so a typo fails in milliseconds."""
        bucket = env.get(REPORT_BUCKET_ENV, "").strip()
        if not bucket:
            return None
        keep = env.get(REPORT_KEEP_PAGES_ENV, "true").strip().lower()
        if keep not in ("true", "false"):
            raise ConfigError(f"expected true or false, got {keep!r}", origin=REPORT_KEEP_PAGES_ENV)
        return cls(
            bucket=check_bucket(bucket),
            prefix=check_prefix(env.get(REPORT_PREFIX_ENV, "reports")),
            kms_key_id=env.get(REPORT_KMS_KEY_ID_ENV, "").strip() or None,
            keep_pages=keep == "true",
        )

    def key(self, *parts: str) -> str:
        return "/".join(part for part in (self.prefix, *parts) if part)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


@dataclass(frozen=True)
class Run:
    """One attempt: where its folder is, and its place in the order of scheduled runs."""

    folder: str  # relative to the prefix
    run_id: str
    scheduled_time: str | None  # ISO 8601 UTC; None for a manual run

    @property
    def order(self) -> tuple[str, str]:
        """Later scheduled time wins; for the same schedule, the later attempt."""
        return (self.scheduled_time or "", self.run_id)

    @property
    def metadata(self) -> dict[str, str]:
        return {RUN_ID: self.run_id, SCHEDULED_TIME: self.scheduled_time or ""}


def new_run(invocation: Invocation, request_id: str, started: datetime | None = None) -> Run:
    """A unique run folder: ``YYYY/MM/DD/<run id>`` (scheduled) or ``manual/<run id>``."""
    started = started or datetime.now(UTC)
    safe_request = re.sub(r"[^A-Za-z0-9-]", "", request_id)[:64] or "local"
    run_id = f"run-{started:%Y%m%dT%H%M%SZ}-{safe_request}-{secrets.token_hex(3)}"
    if not invocation.scheduled:
        return Run(f"manual/{run_id}", run_id, None)
    scheduled = invocation.run_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Run(f"{invocation.run_time:%Y/%m/%d}/{run_id}", run_id, scheduled)


def new_client() -> Any:
    """An S3 client of its own (a session per call: boto3's default session is not threadsafe),
    with bounded calls."""
    import boto3  # the zip's own (requirements.txt): its S3 model has PutObject's conditions
    from botocore.config import Config

    config = Config(
        connect_timeout=S3_CONNECT_SECONDS,
        read_timeout=S3_READ_SECONDS,
        retries={"mode": "standard", "total_max_attempts": S3_ATTEMPTS},
    )
    return boto3.session.Session().client("s3", config=config)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    error = response.get("Error", {})
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


# Each object of `OBJECTS` with its body: (format, file name, content type, body).
Bodies = list[tuple[str, str, str, bytes]]


def write_run(bodies: Bodies, target: S3Target, run: Run, client: Any) -> dict[str, str]:
    """Create the run's objects in its own folder, JSON last; return ``{format: s3 URI}``. A
    failed write deletes what this attempt wrote, then raises."""
    written: list[str] = []
    try:
        for _, name, ctype, body in bodies:
            key = target.key(run.folder, name)
            _put(client, target, key, body, ctype, run, IfNoneMatch="*")
            written.append(key)
    except Exception:
        for key in reversed(written):
            try:
                client.delete_object(Bucket=target.bucket, Key=key)
            except Exception as exc:  # the folder has no balances.json: still incomplete
                log.warning("could not delete %s after a failed write: %s", key, exc)
        raise
    return {fmt: target.uri(target.key(run.folder, name)) for fmt, name, _, _ in bodies}


def _put(
    client: Any, target: S3Target, key: str, body: Any, ctype: str, run: Run, **condition: str
) -> None:
    """One report object, encrypted, tagged with its run; only if ``condition`` holds."""
    key_id = {"SSEKMSKeyId": target.kms_key_id} if target.kms_key_id else {}
    client.put_object(
        Bucket=target.bucket,
        Key=key,
        Body=body,
        ContentType=ctype,
        Metadata=run.metadata,
        **condition,
        ServerSideEncryption="aws:kms",
        **key_id,
    )


def publish_latest(bodies: Bodies, target: S3Target, run: Run, client: Any) -> bool:
    """Make ``latest`` this run's report unless a newer run is there; True when published."""
    for _, name, ctype, body in bodies:
        key = target.key(LATEST, name)
        for _ in range(CAS_ATTEMPTS):  # each round: another run wrote (or removed) it since
            current = _head(client, target.bucket, key) if _exists(client, target, key) else None
            if current is not None and current[0] >= run.order:
                return False  # a newer run (or this very attempt) publishes its own set
            condition = {"IfNoneMatch": "*"} if current is None else {"IfMatch": current[1]}
            try:
                _put(client, target, key, body, ctype, run, **condition)
                break
            except Exception as exc:
                if _code(exc) not in _RETRY_CODES:
                    raise
        else:
            raise StorageError(
                f"{target.uri(key)}: {CAS_ATTEMPTS} conditional writes refused (a newer writer "
                "each time, or the function may not s3:GetObject it)"
            )
    return True


def _exists(client: Any, target: S3Target, key: str) -> bool:
    """Whether ``key`` exists: listed with itself as the prefix (a longer key sorts after it),
    so the role needs s3:ListBucket for that prefix only, and a missing key is never read."""
    listed = client.list_objects_v2(Bucket=target.bucket, Prefix=key, MaxKeys=1)
    return any(item.get("Key") == key for item in listed.get("Contents", []))


def _head(client: Any, bucket: str, key: str) -> tuple[tuple[str, str], str]:
    """(the order of the run that wrote ``key``, its ETag)."""
    head = client.head_object(Bucket=bucket, Key=key)
    meta = head.get("Metadata", {})
    return (meta.get(SCHEDULED_TIME, ""), meta.get(RUN_ID, "")), str(head["ETag"])


def read_latest(target: S3Target, client: Any, limit: int) -> tuple[bytes, str] | None:
    """The latest scheduled run's report (at most ``limit`` bytes read) and where it is; None
    when a listing lacks its key (none yet, `_exists`); any failure is a `StorageError`."""
    key = target.key(LATEST, "balances.json")
    uri = target.uri(key)
    try:
        if not _exists(client, target, key):
            return None
        answer = client.get_object(Bucket=target.bucket, Key=key)
    except Exception as exc:
        raise StorageError(f"{uri}: cannot read: {_code(exc) or exc}") from exc
    with answer["Body"] as body:
        if int(answer.get("ContentLength", 0)) > limit:
            raise StorageError(f"{uri}: larger than {limit:,} bytes")
        data: bytes = body.read(limit + 1)
    scheduled = answer.get("Metadata", {}).get(SCHEDULED_TIME) or "unknown time"
    return data, f"{uri} (scheduled run {scheduled})"


class S3Reports:
    """The Lambda's sink: each run's own folder, then (scheduled runs) ``latest``; and the
    latest scheduled report, to compare with. The client is made at once, before any fetch."""

    formats = tuple(fmt for fmt, _, _ in OBJECTS)

    def __init__(self, target: S3Target, invocation: Invocation, request_id: str) -> None:
        self.target, self.invocation = target, invocation
        self.run = new_run(invocation, request_id)
        self.client = new_client()
        self.uris: dict[str, str] = {}  # {format: s3 URI} once written; "pages" too
        self.published: bool | None = None  # None: a manual run; False: a newer run is there

    def latest(self, limit: int) -> tuple[bytes, str] | None:
        return read_latest(self.target, self.client, limit)

    def keep(self, pages: IO[bytes]) -> None:
        """Put the run's pages file in its folder (`pagesfile.Recorder` calls it)."""
        key = self.target.key(self.run.folder, PAGES)
        uri = self.target.uri(key)
        try:
            _put(
                self.client,
                self.target,
                key,
                pages,
                "application/zip",
                self.run,
                IfNoneMatch="*",
                Tagging=PAGES_TAG,
            )
        except Exception as exc:
            raise StorageError(f"{uri}: cannot write: {_code(exc) or exc}") from exc
        self.uris["pages"] = uri

    def write(self, rendered: dict[str, Iterable[bytes]]) -> None:
        """Write the run's folder, then (scheduled runs only) publish it as ``latest``: each
        object whole (S3 puts it so)."""
        bodies = [(fmt, name, ctype, b"".join(rendered[fmt])) for fmt, name, ctype in OBJECTS]
        self.uris.update(write_run(bodies, self.target, self.run, self.client))
        if self.invocation.scheduled:
            self.published = publish_latest(bodies, self.target, self.run, self.client)
