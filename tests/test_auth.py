"""Authenticated APIs: the auth header from BENCH_AUTH_TOKEN (CLI) or SSM (Lambda, moto).

The server is a real loopback server that answers 401 without ``Authorization: Bearer s3cret``;
every test that sends the token also checks that ``s3cret`` shows up nowhere else.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import benchtest
import handler
from benchtest import BenchtestError, ConfigError, FetchError, auth, load_settings
from benchtest.auth import Secret
from benchtest.source import PageHandler, PageServer, sample_pages, serving
from tests.support import settings
from tests.test_handler import LambdaContext

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "Bearer s3cret"
WORD = "s3cret"  # must appear in no output, log, report or error
SCHEDULED = {"scheduled_time": "2026-11-25T06:00:00Z"}
WITH_TOKEN = {"BENCH_AUTH_TOKEN": TOKEN}
INVALID = "is not a valid header value:"


class AuthServer(PageServer):
    """The sample ledger behind a header check; ``redirects`` maps a path to a Location."""

    def __init__(
        self,
        token: str = TOKEN,
        header: str = "Authorization",
        denial: int = 401,
        redirects: Mapping[str, str] | None = None,
    ) -> None:
        self.token, self.header, self.denial = token, header, denial
        self.redirects = dict(redirects or {})
        self.seen: list[str | None] = []  # the header's value on each request
        self.lock = threading.Lock()
        super().__init__(sample_pages(), _AuthHandler)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AuthHandler(PageHandler):
    server: AuthServer

    def page_number(self) -> int:
        self.path = self.path.removeprefix("/moved")  # where same-origin redirects point
        return super().page_number()

    def do_GET(self) -> None:
        got = self.headers.get(self.server.header)
        with self.server.lock:
            self.server.seen.append(got)
        location = self.server.redirects.get(self.path)
        if location is not None:
            self.send(302, b"", headers={"Location": location})
        elif got != self.server.token:
            self.send(self.server.denial, b'{"error": "unauthorized"}')
        else:
            super().do_GET()


@pytest.fixture
def serve_auth() -> Iterator[Callable[..., AuthServer]]:
    servers: list[Any] = []

    def start(**options: Any) -> AuthServer:
        context = serving(AuthServer(**options))
        servers.append(context)
        return context.__enter__()

    yield start
    for context in reversed(servers):
        context.__exit__(None, None, None)


def token(value: str = TOKEN) -> Secret:
    return Secret(value, auth.TOKEN_ENV)


# --- the value and the header name ----------------------------------------------------------


def test_the_secret_never_shows_itself() -> None:
    secret = token()
    loaded = load_settings(env={"BENCH_AUTH_TOKEN": TOKEN, "BENCH_API_URL": "http://h/{page}"})
    shown = [repr(secret), str(secret), f"{secret}", repr(loaded), str(loaded)]
    assert loaded.auth_token is not None
    assert loaded.auth_token.reveal() == TOKEN
    assert all(WORD not in text for text in shown)
    assert repr(secret) == "Secret('***')"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Bearer s3cret\r\nX-Injected: 1", f"{INVALID} character 14 is a line break (CR or LF)"),
        ("Bearer s3\ncret", f"{INVALID} character 10 is a line break (CR or LF)"),
        ("Bearer s3cret\x00", f"{INVALID} character 14 is not printable ASCII"),
        ("Bearer s3cret…", f"{INVALID} character 14 is not printable ASCII"),  # from a README
        ("   ", "is empty: no auth header value"),
    ],
)
def test_a_bad_header_value_is_refused_naming_the_variable_not_the_value(
    value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"BENCH_AUTH_TOKEN": value})
    assert str(caught.value) == f"BENCH_AUTH_TOKEN: {message}"


def test_surrounding_whitespace_of_the_value_is_dropped() -> None:
    loaded = load_settings(env={"BENCH_AUTH_TOKEN": f" {TOKEN}\n"})
    assert loaded.auth_token is not None
    assert loaded.auth_token.reveal() == TOKEN


@pytest.mark.parametrize("name", ["X Api Key", "X-Api-Key:", "Authorization\r\nX: 1", "Ä"])
def test_a_header_name_that_is_not_an_http_token_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=r"^BENCH_AUTH_HEADER: auth_header: must be an HTTP"):
        load_settings(env={"BENCH_AUTH_HEADER": name})


@pytest.mark.parametrize(
    ("env", "secret", "message"),
    [
        (
            {"BENCH_AUTH_TOKEN": TOKEN, "BENCH_API_URL": "http://u:p@h/{page}"},
            None,
            "the URL holds credentials and BENCH_AUTH_TOKEN an auth header: use one",
        ),
        (
            {"BENCH_AUTH_TOKEN": TOKEN},
            Secret(TOKEN, "SSM parameter /p"),
            "set BENCH_AUTH_TOKEN or BENCH_AUTH_PARAMETER, not both",
        ),
    ],
)
def test_two_sources_of_credentials_are_refused(
    env: dict[str, str], secret: Secret | None, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env, secret=secret)


# --- what goes over the wire ----------------------------------------------------------------


def test_the_header_is_sent_on_every_request_and_the_run_succeeds(
    serve_auth: Callable[..., AuthServer], sample_report: benchtest.Report
) -> None:
    server = serve_auth()
    report = benchtest.run(settings(server.url, auth_token=token())).report
    assert report.total_balance == sample_report.total_balance
    assert len(server.seen) == len(sample_pages()) + 1  # every page and the 404 end
    assert set(server.seen) == {TOKEN}
    assert WORD not in json.dumps(report.to_dict())


def test_the_header_name_is_configurable(serve_auth: Callable[..., AuthServer]) -> None:
    server = serve_auth(header="X-Api-Key", token="k-s3cret")
    run = settings(server.url, auth_header="X-Api-Key", auth_token=token("k-s3cret"))
    assert benchtest.run(run).stats.pages == len(sample_pages())
    assert set(server.seen) == {"k-s3cret"}


@pytest.mark.parametrize(
    ("sent", "denial", "message"),
    [
        (
            None,
            401,
            "page 1: HTTP 401 (no auth header was sent: set BENCH_AUTH_TOKEN (CLI) or "
            "BENCH_AUTH_PARAMETER (Lambda) to the header value, and BENCH_AUTH_HEADER if it "
            "is not Authorization)",
        ),
        (
            "Bearer wrong",
            401,
            "page 1: HTTP 401 (check the Authorization header (BENCH_AUTH_HEADER) and its "
            "value from BENCH_AUTH_TOKEN)",
        ),
        (
            "Bearer wrong",
            403,
            "page 1: HTTP 403 (check the Authorization header (BENCH_AUTH_HEADER) and its "
            "value from BENCH_AUTH_TOKEN)",
        ),
    ],
)
def test_a_refused_token_is_one_line_with_a_hint_and_no_value(
    serve_auth: Callable[..., AuthServer], sent: str | None, denial: int, message: str
) -> None:
    server = serve_auth(denial=denial)
    with pytest.raises(FetchError) as caught:
        benchtest.run(settings(server.url, auth_token=None if sent is None else token(sent)))
    assert str(caught.value) == message
    assert len(server.seen) == 1  # 401 and 403 are not retried


def test_a_same_origin_redirect_keeps_the_header(serve_auth: Callable[..., AuthServer]) -> None:
    server = serve_auth(redirects={"/transactions/1.json": "/moved/transactions/1.json"})
    assert benchtest.run(settings(server.url, auth_token=token())).stats.pages == 3
    assert set(server.seen) == {TOKEN}


def test_a_redirect_to_another_origin_is_refused_before_the_header_could_leak(
    serve_auth: Callable[..., AuthServer],
) -> None:
    elsewhere = serve_auth()
    server = serve_auth(redirects={"/transactions/1.json": f"{elsewhere.origin}/transactions/1"})
    with pytest.raises(FetchError, match=f"page 1: HTTP 302 redirect to {elsewhere.origin} ref"):
        benchtest.run(settings(server.url, auth_token=token()))
    assert elsewhere.seen == []


def test_the_bundled_sample_is_not_sent_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    run = benchtest.run(settings("sample", auth_token=token()))
    assert run.stats.pages == len(sample_pages())
    assert "sending the" not in caplog.text


# --- the command line -----------------------------------------------------------------------


def cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    full.update(PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "benchtest", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("form", ["json", "table"])
def test_cli_sends_the_token_from_the_environment_and_shows_it_nowhere(
    serve_auth: Callable[..., AuthServer], form: str
) -> None:
    server = serve_auth()
    done = cli("--debug", "--format", form, env={"BENCH_API_URL": server.url, **WITH_TOKEN})
    assert done.returncode == 0, done.stderr
    assert ("5,356.75" if form == "table" else '"total_balance": "5356.75"') in done.stdout
    assert "sending the Authorization header (value from BENCH_AUTH_TOKEN)" in done.stderr
    assert '"GET /transactions/1.json HTTP/1.1" 200' in done.stderr  # urllib3's DEBUG log
    assert WORD not in done.stdout + done.stderr
    assert set(server.seen) == {TOKEN}


@pytest.mark.parametrize(
    ("env", "hint"),
    [
        ({}, "(no auth header was sent: set BENCH_AUTH_TOKEN"),
        ({"BENCH_AUTH_TOKEN": "Bearer s3cret-old"}, "(check the Authorization header"),
    ],
)
def test_cli_without_the_right_token_fails_with_one_line(
    serve_auth: Callable[..., AuthServer], env: dict[str, str], hint: str
) -> None:
    server = serve_auth()
    done = cli(env={"BENCH_API_URL": server.url, **env})
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"benchtest: error: page 1: HTTP 401 {hint}")
    debug = cli("--debug", env={"BENCH_API_URL": server.url, **env})
    assert "Traceback" in debug.stderr
    assert WORD not in line + debug.stderr + debug.stdout


def test_cli_has_no_flag_for_the_value() -> None:
    done = cli("--help", env={})
    assert "--auth-header NAME" in done.stdout
    assert "--auth-token" not in done.stdout
    assert cli("--auth-token", TOKEN, env={}).returncode == 2


# --- Lambda: the value from SSM Parameter Store (moto) ---------------------------------------


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """A function with an auth parameter in moto's SSM; yields GetParameter calls made so far."""
    for name in [n for n in os.environ if n.startswith(("BENCH_", "REPORT_"))]:
        monkeypatch.delenv(name)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "benchtest-test",
        "BENCH_RETRIES": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_LOG_FORMAT", raising=False)
    calls = {"GetParameter": 0}

    def count(**_: Any) -> None:
        calls["GetParameter"] += 1

    auth.forget()
    with mock_aws():  # which resets boto3's default session: replace it after
        # A real session whose clients report each GetParameter call to the hook.
        session = boto3.session.Session()
        session.events.register("before-call.ssm.GetParameter", count)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)
        yield calls
    auth.forget()


def put_parameter(value: str = TOKEN, kind: str = "SecureString") -> str:
    client = boto3.client("ssm")
    client.put_parameter(Name="/benchtest/api-token", Type=kind, Value=value, Overwrite=True)
    arn: str = client.get_parameter(Name="/benchtest/api-token")["Parameter"]["ARN"]
    return arn


def everything_shown(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], *more: object
) -> str:
    logged = " ".join(f"{r.getMessage()} {r.__dict__} {r.exc_info}" for r in caplog.records)
    return logged + "".join(capsys.readouterr()) + " ".join(map(str, more))


def summaries(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "benchtest.run"]


def test_lambda_reads_the_parameter_once_and_sends_the_header(
    lambda_env: dict[str, int],
    serve_auth: Callable[..., AuthServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = serve_auth()
    monkeypatch.setenv("BENCH_API_URL", server.url)
    monkeypatch.setenv("BENCH_AUTH_PARAMETER", put_parameter())
    calls_before = lambda_env["GetParameter"]  # put_parameter's own read
    caplog.set_level(logging.DEBUG)
    first = handler.handler(SCHEDULED, None)
    second = handler.handler(SCHEDULED, None)
    assert first["total_balance"] == second["total_balance"] == "5356.75"
    assert lambda_env["GetParameter"] - calls_before == 1
    assert set(server.seen) == {TOKEN}
    assert len(server.seen) == 2 * (len(sample_pages()) + 1)
    assert [s["success"] for s in summaries(caplog)] == [True, True]
    assert WORD not in everything_shown(caplog, capsys, first, second)


def test_lambda_with_a_missing_parameter_fails_with_one_line_naming_it(
    lambda_env: dict[str, int],
    serve_auth: Callable[..., AuthServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = serve_auth()
    put_parameter()  # exists, but another name is configured
    monkeypatch.setenv("BENCH_API_URL", server.url)
    monkeypatch.setenv("BENCH_AUTH_PARAMETER", "/benchtest/missing")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as caught:
        handler.handler(SCHEDULED, None)
    assert str(caught.value) == (
        "BENCH_AUTH_PARAMETER: SSM parameter /benchtest/missing: not found "
        "(check the name or ARN, and the function's region)"
    )
    [summary] = summaries(caplog)
    assert summary["success"] is False
    assert summary["error"] == f"ConfigError: {caught.value}"
    assert server.seen == []
    assert WORD not in everything_shown(caplog, capsys, caught.value)


def test_lambda_refuses_a_parameter_that_is_not_a_securestring(
    lambda_env: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_API_URL", "http://127.0.0.1:9/{page}")
    monkeypatch.setenv("BENCH_AUTH_PARAMETER", put_parameter(kind="String"))
    with pytest.raises(ConfigError, match="is a String, not a SecureString") as caught:
        handler.handler(SCHEDULED, None)
    assert WORD not in str(caught.value)


def test_lambda_reads_a_rotated_token_after_a_refused_run(
    lambda_env: dict[str, int],
    serve_auth: Callable[..., AuthServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve_auth()
    monkeypatch.setenv("BENCH_API_URL", server.url)
    monkeypatch.setenv("BENCH_AUTH_PARAMETER", put_parameter("Bearer expired"))
    with pytest.raises(FetchError, match=r"value from SSM parameter arn:aws:ssm:.*api-token\)$"):
        handler.handler(SCHEDULED, None)
    put_parameter(TOKEN)  # rotated while the function stays warm
    assert handler.handler(SCHEDULED, None)["total_balance"] == "5356.75"


@pytest.mark.parametrize(
    ("code", "kind", "cause"),
    [
        ("AccessDeniedException", ConfigError, "access denied (the function's role needs"),
        ("InvalidKeyId", ConfigError, "its KMS key is disabled or not usable"),
        ("ThrottlingException", BenchtestError, "throttled by SSM; the next run will try again"),
        ("SomethingNew", ConfigError, "GetParameter failed (SomethingNew)"),
    ],
)
def test_ssm_errors_are_one_line_naming_the_parameter_and_the_cause(
    code: str, kind: type[BenchtestError], cause: str
) -> None:
    exc = ClientError({"Error": {"Code": code, "Message": "details"}}, "GetParameter")
    error = auth.explain(exc, "SSM parameter /benchtest/api-token")
    assert type(error) is kind
    assert f"SSM parameter /benchtest/api-token: {cause}" in str(error)
    assert "details" not in str(error)


def test_the_ssm_read_is_bounded_and_kept_back_from_the_run(
    lambda_env: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSM answering 500 to everything: botocore tries SSM_ATTEMPTS times (no more), well
    within SSM_SECONDS; and a function whose time left is under the reserve with SSM's bound
    in it fails at its start, naming the timeout it needs."""
    asked: list[str] = []

    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(self.headers.get("X-Amz-Target", ""))
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        started = time.monotonic()
        with pytest.raises(
            BenchtestError, match=r"SSM parameter /benchtest/x: GetParameter failed \(500\)"
        ):
            auth.from_parameter({auth.PARAMETER_ENV: "/benchtest/x"})
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert asked == ["AmazonSSM.GetParameter"] * auth.SSM_ATTEMPTS
    assert elapsed < auth.SSM_SECONDS

    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("BENCH_AUTH_PARAMETER", put_parameter())
    reserve = handler.RESERVE_SECONDS + auth.SSM_SECONDS
    short = LambdaContext(remaining_ms=int((reserve - 1) * 1000))
    with pytest.raises(benchtest.DeadlineError, match=rf"above {reserve:.0f}s$"):
        handler.handler(SCHEDULED, short)
