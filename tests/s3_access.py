"""S3 answering the function's role as AWS documents it, in front of moto (which evaluates no
IAM and answers 404 for every missing key): a botocore hook on each client storage makes.

- A request the role's policy does not allow is refused with 403 AccessDenied. The policy is
  Allow statements only (as iam.tf writes them): actions, resources with IAM's ``*`` and ``?``,
  and ``StringLike`` on ``s3:prefix`` (ListObjectsV2's ``Prefix``; absent, it matches nothing).
- A PutObject with tags (``Tagging``) needs s3:PutObjectTagging as well (docs/aws-behaviour.md).
- GetObject or HeadObject of a missing key is 404 only when the role may s3:ListBucket the
  bucket whatever the prefix, 403 otherwise: S3 documents the 404 for a caller with
  "s3:ListBucket permission on the bucket", and not whether a grant limited by ``s3:prefix``
  counts, so the documented worst case is taken (docs/aws-behaviour.md).

Not part of the product: tests/test_s3_reports.py and tests/test_scheduled_run.py use it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from benchtest import storage

# The S3 operations storage makes, with the IAM action that authorises each.
ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}


def role_statements(bucket: str, prefix: str, *, created: bool) -> list[dict[str, Any]]:
    """The S3 statements iam.tf grants the function (tests/test_terraform.py checks them
    against the deployed policy), for a bucket Terraform creates or an existing one."""
    objects = f"arn:aws:s3:::{bucket}/{prefix}"
    listing: dict[str, Any] = {
        "Sid": "ListLatestReport",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if not created:
        listing["Condition"] = {"StringLike": {"s3:prefix": f"{prefix}/latest/*"}}
    return [
        {
            "Sid": "WriteReports",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{objects}/*",
        },
        {
            "Sid": "ReadLatestReport",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{objects}/latest/*",
        },
        listing,
        {
            "Sid": "RemoveFailedRunObjects",
            "Effect": "Allow",
            "Action": "s3:DeleteObject",
            "Resource": [f"{objects}/????/??/??/run-*/*", f"{objects}/manual/run-*/*"],
        },
        {
            "Sid": "TagKeptPages",
            "Effect": "Allow",
            "Action": "s3:PutObjectTagging",
            "Resource": [
                f"{objects}/????/??/??/run-*/pages.zip",
                f"{objects}/manual/run-*/pages.zip",
            ],
        },
    ]


def normalised(statements: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Statements comparable whatever the order of their lists (and a one-item list or not)."""
    return sorted(
        (
            s["Sid"],
            s["Effect"],
            sorted(_listed(s["Action"])),
            sorted(_listed(s["Resource"])),
            {
                op: {k: sorted(_listed(v)) for k, v in c.items()}
                for op, c in s.get("Condition", {}).items()
            },
        )
        for s in statements
    )


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def iam_match(pattern: str, text: str) -> bool:
    """IAM's wildcards: "*" is any run of characters ("/" too), "?" any one character."""
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern)
    return re.fullmatch(regex, text) is not None


def allowed(statements: list[dict[str, Any]], action: str, arn: str, prefix: str | None) -> bool:
    """Whether an Allow statement grants ``action`` on ``arn`` with this ``s3:prefix``."""
    for stmt in statements:
        if stmt["Effect"] != "Allow" or action not in _listed(stmt["Action"]):
            continue
        if not any(iam_match(p, arn) for p in _listed(stmt["Resource"])):
            continue
        conditions = stmt.get("Condition", {})
        assert set(conditions) <= {"StringLike"}, conditions  # the only operator iam.tf uses
        like = conditions.get("StringLike", {})
        assert set(like) <= {"s3:prefix"}, like
        patterns = _listed(like.get("s3:prefix", []))
        if like and (prefix is None or not any(iam_match(p, prefix) for p in patterns)):
            continue
        return True
    return False


def _denied(operation: str) -> ClientError:
    # HeadObject has no body: botocore names its error by the status, as for real S3.
    code = "403" if operation == "HeadObject" else "AccessDenied"
    answer = {"Error": {"Code": code, "Message": "Access Denied"}}
    return ClientError({**answer, "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)


def as_documented(
    monkeypatch: pytest.MonkeyPatch, statements: list[dict[str, Any]], admin: Any
) -> list[str]:
    """Make every client `storage.new_client` returns answer as S3 answers this role; return
    the list of its 403s ("Operation key-or-prefix"), appended as they happen. ``admin`` is a
    client without the hook, which sees whether a key exists."""
    refusals: list[str] = []
    make = storage.new_client

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        bucket, key = params["Bucket"], params.get("Key")
        arn = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key is not None else "")
        prefix = params.get("Prefix") if operation == "ListObjectsV2" else None
        denied = not allowed(statements, ACTIONS[operation], arn, prefix)
        if "Tagging" in params:  # a PutObject with tags: s3:PutObjectTagging too, the worst case
            denied = denied or not allowed(statements, "s3:PutObjectTagging", arn, None)
        if not denied and operation in ("GetObject", "HeadObject"):  # moto answers the 404
            listed = admin.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
            missing = key not in [item["Key"] for item in listed.get("Contents", [])]
            may_list = allowed(statements, "s3:ListBucket", f"arn:aws:s3:::{bucket}", None)
            denied = missing and not may_list
        if denied:
            refusals.append(f"{operation} {key or prefix}")
            raise _denied(operation)

    def client() -> Any:
        real = make()
        for operation in ACTIONS:
            real.meta.events.register(f"before-parameter-build.s3.{operation}", check)
        return real

    monkeypatch.setattr(storage, "new_client", client)
    return refusals
