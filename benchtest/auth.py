"""The API's auth header value: from ``BENCH_AUTH_TOKEN`` (CLI) or an SSM parameter (Lambda)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from .errors import BenchtestError, ConfigError

TOKEN_ENV = "BENCH_AUTH_TOKEN"  # noqa: S105 (a variable's name) - the CLI's header value, e.g. "Bearer …"
PARAMETER_ENV = "BENCH_AUTH_PARAMETER"  # the Lambda's SSM parameter (name or ARN) holding it

# RFC 9110 field-value, narrowed to visible ASCII and inner spaces or tabs: anything else (CR
# or LF above all: header injection) is refused here, before requests would put the value in
# its own error message.
_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?")


class Secret:
    """A header value that does not show itself: ``repr`` and ``str`` are ``Secret('***')``."""

    __slots__ = ("_value", "origin")

    def __init__(self, value: str, origin: str) -> None:
        self._value = value
        self.origin = origin  # where it came from, for messages: a variable or parameter name

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


def header_value(value: str, origin: str) -> Secret:
    """``value`` as a `Secret`, surrounding whitespace removed; ConfigError naming ``origin``."""
    value = value.strip()
    if not value:
        raise ConfigError("is empty: no auth header value", origin=origin)
    if _VALUE.fullmatch(value) is None:
        # The position only: the character could be part of the token.
        bad = next(i for i, c in enumerate(value, 1) if not (" " <= c <= "~" or c == "\t"))
        what = "a line break (CR or LF)" if value[bad - 1] in "\r\n" else "not printable ASCII"
        raise ConfigError(f"is not a valid header value: character {bad} is {what}", origin=origin)
    return Secret(value, origin)


def from_env(env: Mapping[str, str]) -> Secret | None:
    """The CLI's header value, from ``BENCH_AUTH_TOKEN``; None when it is unset or empty."""
    value = env.get(TOKEN_ENV, "")
    return header_value(value, TOKEN_ENV) if value else None


_cache: dict[str, Secret] = {}

# The read is bounded as storage's S3 calls are (botocore's Config; standard mode waits under
# 1 s before its one retry): SSM_SECONDS, which the handler keeps back from the invocation.
SSM_CONNECT_SECONDS = SSM_READ_SECONDS = 5.0
SSM_ATTEMPTS = 2
SSM_SECONDS = SSM_ATTEMPTS * (SSM_CONNECT_SECONDS + SSM_READ_SECONDS) + (SSM_ATTEMPTS - 1)


def from_parameter(env: Mapping[str, str]) -> Secret | None:
    """The Lambda's header value, from the SSM parameter ``BENCH_AUTH_PARAMETER`` names: read once
    per execution environment (see `forget`); None, without importing boto3, when none is named."""
    name = env.get(PARAMETER_ENV, "").strip()
    if not name:
        return None
    if name not in _cache:
        _cache[name] = _read_parameter(name)
    return _cache[name]


def forget() -> None:
    """Drop the cached value, so the next invocation reads the parameter again."""
    _cache.clear()


def _read_parameter(name: str) -> Secret:
    import boto3  # only a function with a parameter pays for boto3, and only when it runs
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"SSM parameter {name}"
    config = Config(
        connect_timeout=SSM_CONNECT_SECONDS,
        read_timeout=SSM_READ_SECONDS,
        retries={"mode": "standard", "total_max_attempts": SSM_ATTEMPTS},
    )
    # botocore's DEBUG log prints every response body, the decrypted value included; Lambda
    # keeps DEBUG records when application_log_level is DEBUG. The function is single-threaded
    # here, so switching its parser's logger off for the call silences no other work.
    parsers = logging.getLogger("botocore.parsers")
    disabled, parsers.disabled = parsers.disabled, True
    try:
        client = boto3.client("ssm", config=config)
        answer = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as exc:
        raise explain(exc, where) from exc
    except BotoCoreError as exc:  # no credentials or region, endpoint unreachable
        raise BenchtestError(f"{where}: cannot read it: {exc}") from exc
    finally:
        parsers.disabled = disabled
    if answer.get("Type") != "SecureString":
        raise ConfigError(
            f"{where} is a {answer.get('Type')}, not a SecureString: store the token "
            "encrypted (aws ssm put-parameter --type SecureString --overwrite …)",
            origin=PARAMETER_ENV,
        )
    return header_value(str(answer["Value"]), where)


# Error codes SSM and KMS answer GetParameter with, as the person fixing it needs to read them.
_CAUSES = {
    "ParameterNotFound": "not found (check the name or ARN, and the function's region)",
    "ParameterVersionNotFound": "that version was not found",
    "AccessDeniedException": "access denied (the function's role needs ssm:GetParameter on it)",
    "AccessDenied": "access denied (the function's role needs ssm:GetParameter on it)",
    "UnrecognizedClientException": "the AWS credentials were refused",
    "ValidationException": "not a valid parameter name or ARN",
    "InvalidKeyId": "its KMS key is disabled or not usable",
    "KMSAccessDeniedException": "access denied to its KMS key (kms:Decrypt)",
    "ThrottlingException": "throttled by SSM; the next run will try again",
}


def explain(exc: Any, where: str) -> BenchtestError:
    """A ClientError as one line naming the parameter and the cause (its code), never a value."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "")) or "Unknown"
    cause = _CAUSES.get(code, f"GetParameter failed ({code})")
    if code in {"ThrottlingException", "InternalServerError"}:
        return BenchtestError(f"{where}: {cause}")
    return ConfigError(f"{where}: {cause}", origin=PARAMETER_ENV)
