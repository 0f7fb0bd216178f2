"""The daily run as AWS runs it, on a deployment applied to moto: from the schedule's raw input
to the report under latest/, and the README's real-account path, command by command.

One deployment (terraform apply against a moto server, as in test_terraform.py) whose api_url is
a loopback server holding the Bench ledger (../shared/bench-sample). moto stores what Terraform
deploys but runs none of it, so each AWS behaviour the run relies on is applied here as AWS
documents it (docs/aws-behaviour.md), never taken from moto:

- Scheduler's context attributes: the test reads the schedule's raw Target.Input and replaces
  every <aws.scheduler.*> keyword as text, then decodes the result as Lambda decodes a payload.
- Lambda invoke needs Docker under moto: handler.handler runs in this process with the
  function's deployed environment (read back with get_function), boto3 pointed at moto.

- The bucket's TLS-only policy (aws:SecureTransport): moto applies it, and the test speaks plain
  HTTP to moto on loopback, so the fixture deletes that policy (after checking it is exactly the
  TLS deny) before anything runs. The function speaks HTTPS to real S3.

- IAM and S3's answer for a missing key: moto evaluates no policy and answers 404 for every
  missing key. tests/s3_access.py stands in for S3 as documented, with the deployed role's
  policy read back from moto: a request it does not allow is a 403, and so is a missing key
  unless the role may list the whole bucket. A fresh deploy's first and second scheduled runs
  go through it, with a bucket Terraform creates and with an existing one (a deployment each).

What moto cannot enforce, so this test does not show: Lambda's asynchronous retries, its
on-failure destination and CloudWatch's alarm evaluation.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import handler
from tests import s3_access
from tests.ledger_server import LedgerServer, serve_ledger
from tests.test_handler import LambdaContext, emf_lines, summary_lines
from tests.test_terraform import (  # fixtures: lambda_zip, terraform, tf_env
    APPLY_TIMEOUT,
    INIT_TIMEOUT,
    REGION,
    aws,
    copy_configuration,
    lambda_zip,  # noqa: F401
    moto_override,
    outputs,
    run_tf,
    terraform,  # noqa: F401
    tf_env,  # noqa: F401
)

ROOT = Path(__file__).resolve().parent.parent
NAME = "benchtest-run"
PREFIX = "reports"  # the default, as the README's path assumes
# Scheduler's documented example of an execution id.
EXECUTION_ID = "d32c5kddcf5bb8c3"
EXISTING_BUCKET = "benchtest-run-existing-reports"


@dataclass
class Deployment:
    workdir: Path
    env: dict[str, str]  # terraform's environment
    endpoint: str
    out: dict[str, Any]
    ledger: LedgerServer


@contextmanager
def deploy(
    tf: tuple[str, dict[str, str]],
    endpoint: str,
    package: Path,
    pages: dict[int, bytes],
    workdir: Path,
    **variables: Any,
) -> Iterator[Deployment]:
    """The configuration applied to moto (``tf``: terraform and its environment) with a
    loopback Bench ledger; destroyed at the end."""
    binary, env = tf
    with serve_ledger(pages) as ledger:
        copy_configuration(workdir)
        (workdir / "dist").mkdir()
        (workdir / "dist" / "lambda.zip").write_bytes(package.read_bytes())
        (workdir / "moto_override.tf").write_text(moto_override(endpoint))
        variables = {"api_url": ledger.url, **variables}
        (workdir / "run.auto.tfvars.json").write_text(json.dumps(variables))
        run_tf(binary, workdir, env, "init", "-no-color", timeout=INIT_TIMEOUT)
        try:
            run_tf(binary, workdir, env, *APPLY, timeout=APPLY_TIMEOUT)
            yield Deployment(workdir, env, endpoint, outputs(binary, workdir, env), ledger)
        finally:
            run_tf(binary, workdir, env, "destroy", *APPLY[1:], timeout=APPLY_TIMEOUT)


@pytest.fixture(scope="module")
def deployment(
    terraform: str,  # noqa: F811
    tf_env: dict[str, str],  # noqa: F811
    moto_endpoint: str,
    lambda_zip: Path,  # noqa: F811
    bench_pages: dict[int, bytes],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """A deployment whose report bucket Terraform creates (report_bucket_force_destroy)."""
    with deploy(
        *((terraform, tf_env), moto_endpoint, lambda_zip, bench_pages),
        tmp_path_factory.mktemp("terraform") / "run",
        name=NAME,
        create_report_bucket=True,
        report_bucket_force_destroy=True,
    ) as deployed:
        s3 = aws("s3", moto_endpoint)
        bucket = deployed.out["report_bucket_name"]
        (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, deny
        s3.delete_bucket_policy(Bucket=bucket)  # plain HTTP on loopback
        yield deployed


@pytest.fixture(scope="module")
def existing_bucket_deployment(
    terraform: str,  # noqa: F811
    tf_env: dict[str, str],  # noqa: F811
    moto_endpoint: str,
    lambda_zip: Path,  # noqa: F811
    bench_pages: dict[int, bytes],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """A deployment writing to a bucket that was there before it (and stays after it)."""
    s3 = aws("s3", moto_endpoint)
    s3.create_bucket(Bucket=EXISTING_BUCKET)
    with deploy(
        *((terraform, tf_env), moto_endpoint, lambda_zip, bench_pages),
        tmp_path_factory.mktemp("terraform") / "existing",
        name=f"{NAME}-existing",
        report_bucket_name=EXISTING_BUCKET,
    ) as deployed:
        yield deployed
    assert s3.head_bucket(Bucket=EXISTING_BUCKET)  # destroy left the bucket alone


APPLY = ("apply", "-auto-approve", "-no-color")


def substitute_context_attributes(raw: str, schedule_arn: str, at: datetime) -> str:
    """What Scheduler does to a target's input: each keyword replaced as text by its value
    ("Adding context attributes in EventBridge Scheduler"; its example values)."""
    values = {
        "schedule-arn": schedule_arn,
        "scheduled-time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),  # 2022-03-22T18:59:43Z
        "execution-id": EXECUTION_ID,
        "attempt-number": "1",
    }
    for name, value in values.items():
        raw = raw.replace(f"<aws.scheduler.{name}>", value)
    return raw


def as_the_function(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """This process's environment made the deployed function's, boto3 pointed at moto; return
    the function's configuration."""
    lam = aws("lambda", deployment.endpoint)
    name = deployment.out["function_name"]
    config: dict[str, Any] = lam.get_function(FunctionName=name)["Configuration"]
    for name in list(os.environ):
        if name.startswith(("BENCH_", "REPORT_", "AWS_")):
            monkeypatch.delenv(name)
    for name, value in {
        **config["Environment"]["Variables"],
        "AWS_LAMBDA_FUNCTION_NAME": config["FunctionName"],
        "AWS_ENDPOINT_URL": deployment.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    return config


def invoke_deployed(config: dict[str, Any], event: object, request_id: str) -> Any:
    """What Lambda would run: the handler, with the function's timeout as the time left."""
    context = LambdaContext(aws_request_id=request_id, remaining_ms=config["Timeout"] * 1000)
    return handler.handler(event, context)


@pytest.mark.slow
def test_the_scheduled_run_from_the_deployed_input_to_latest_in_s3(
    deployment: Deployment,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    out = deployment.out
    schedule = aws("scheduler", deployment.endpoint).get_schedule(
        Name=out["schedule_name"], GroupName=out["schedule_group_name"]
    )
    raw = schedule["Target"]["Input"]
    at = datetime.now(UTC).replace(microsecond=0)
    text = substitute_context_attributes(raw, schedule["Arn"], at)
    assert "<aws.scheduler.scheduled-time>" in raw
    assert "<aws.scheduler." not in text, f"a keyword Scheduler would not replace: {text}"
    assert "\\u003c" not in raw  # jsonencode's escape: Scheduler would find no keyword
    event = json.loads(text)  # what Lambda hands the handler

    config = as_the_function(deployment, monkeypatch)
    caplog.set_level("INFO")
    response = invoke_deployed(config, event, "8f5e2b1c-0000-4000-8000-00000000aa01")

    assert (response["total_balance"], response["transaction_count"]) == ("18377.16", 38)
    bucket = out["report_bucket_name"]
    folder = response["s3"]["json"].removeprefix(f"s3://{bucket}/").rpartition("/")[0]
    assert re.fullmatch(rf"{PREFIX}/{at:%Y/%m/%d}/run-[^/]+", folder), folder
    s3 = aws("s3", deployment.endpoint)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/")
    names = ("balances.csv", "balances.html", "balances.json")
    assert {o["Key"] for o in listed["Contents"]} >= {
        *(f"{folder}/{name}" for name in names),
        *(f"{PREFIX}/latest/{name}" for name in names),
    }
    latest = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/latest/balances.json")
    assert latest["Metadata"]["scheduled-time"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert latest["Metadata"]["run-id"] == folder.rpartition("/")[2]
    assert json.loads(latest["Body"].read())["total_balance"] == "18377.16"

    summary = json.loads(summary_lines(caplog)[0].getMessage())
    assert (summary["success"], summary["execution_id"]) == (True, EXECUTION_ID)
    assert summary["source"] == deployment.ledger.url
    [emf] = emf_lines(capsys.readouterr().err)
    assert (emf["ScheduledSuccess"], emf["ComparisonFailures"]) == (1, 0)
    assert deployment.ledger.requests > 0

    # The pages beside the reports, downloaded and replayed offline by the CLI: the same report.
    # A first run's comparison is the CLI's with a previous report that is not there yet.
    assert f"{folder}/pages.zip" in {o["Key"] for o in listed["Contents"]}
    assert response["changes"]["status"] == "first_run"
    pages, stored = tmp_path / "pages.zip", tmp_path / "balances.json"
    s3.download_file(bucket, f"{folder}/pages.zip", str(pages))
    s3.download_file(bucket, f"{folder}/balances.json", str(stored))
    requests = deployment.ledger.requests
    replay = [sys.executable, "-m", "benchtest", "--replay", str(pages), "--report", str(stored)]
    replay += ["--compare", str(tmp_path / "no-previous.json"), "-o", str(tmp_path / "r.json")]
    done = subprocess.run(replay, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.json").read_bytes() == stored.read_bytes()
    assert deployment.ledger.requests == requests


def scheduled_event(deployment: Deployment, at: datetime) -> Any:
    """The event Scheduler hands the function for a run at ``at``, from the deployed input."""
    out = deployment.out
    schedule = aws("scheduler", deployment.endpoint).get_schedule(
        Name=out["schedule_name"], GroupName=out["schedule_group_name"]
    )
    return json.loads(
        substitute_context_attributes(schedule["Target"]["Input"], schedule["Arn"], at)
    )


@pytest.mark.slow
@pytest.mark.parametrize("answers", ["documented-403", "moto-404"])
@pytest.mark.parametrize("bucket", ["created", "existing"])
def test_a_fresh_deploy_runs_its_first_and_second_schedules(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bucket: str,
    answers: str,
) -> None:
    """Both runs succeed, whether a missing key is a 403 (the role's own grants, S3 as its
    documentation allows: tests/s3_access.py) or moto's 404; with either bucket."""
    fixture = {"created": "deployment", "existing": "existing_bucket_deployment"}[bucket]
    deployment: Deployment = request.getfixturevalue(fixture)
    config = as_the_function(deployment, monkeypatch)
    name = deployment.out["report_bucket_name"]
    s3 = aws("s3", deployment.endpoint)
    # A fresh deploy's bucket: every version deleted, so no delete marker is left (moto's
    # force_destroy of a versioned bucket fails on one).
    for item in s3.list_object_versions(Bucket=name).get("Versions", []):
        s3.delete_object(Bucket=name, Key=item["Key"], VersionId=item["VersionId"])
    assert s3.list_object_versions(Bucket=name).get("DeleteMarkers", []) == []
    iam = aws("iam", deployment.endpoint)
    role = deployment.out["lambda_role_name"]
    policy = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    statements = json.loads(policy)["Statement"] if isinstance(policy, str) else policy["Statement"]
    created = bucket == "created"
    s3_grants = [s for s in statements if str(s["Action"]).startswith("s3:")]
    expected = s3_access.role_statements(name, PREFIX, created=created)
    assert s3_access.normalised(s3_grants) == s3_access.normalised(expected)
    if answers == "documented-403":
        refusals = s3_access.as_documented(monkeypatch, statements, s3)
    now = datetime.now(UTC).replace(microsecond=0)
    runs = []
    for at in (now - timedelta(days=1), now):
        event = scheduled_event(deployment, at)
        runs.append(invoke_deployed(config, event, f"8f5e2b1c-{at:%d%H%M%S}-4000-8000-aa03"))
    assert [run["changes"]["status"] for run in runs] == ["first_run", "compared"]
    assert [run["total_balance"] for run in runs] == ["18377.16", "18377.16"]
    latest = s3.head_object(Bucket=name, Key=f"{PREFIX}/latest/balances.json")
    assert latest["Metadata"]["scheduled-time"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    emfs = emf_lines(capsys.readouterr().err)
    assert [(m["ScheduledSuccess"], m["ComparisonFailures"]) for m in emfs] == [(1, 0), (1, 0)]
    if answers == "documented-403":
        assert refusals == []
        # The stand-in is in force: a missing key is a 403 unless the role may list the bucket.
        client = handler.storage.new_client()
        with pytest.raises(ClientError) as caught:
            client.head_object(Bucket=name, Key=f"{PREFIX}/latest/never-written")
        assert (
            caught.value.response["Error"]["Code"] == {"created": "404", "existing": "403"}[bucket]
        )


# --- the README's real-account path ------------------------------------------------------------

README_MARKER = "<!-- real-account path:"

# Commands of that section that cannot run against moto, with what the test does instead. Every
# other `aws` and `terraform output` command (and `python3 -c` reading out.json) runs as written.
SUBSTITUTED = {
    "terraform init": "the fixture initialises the configuration with the offline provider "
    "mirror and a provider override that points every service at moto",
    "terraform apply": "the fixture applies its own variables (a loopback ledger, a created "
    "bucket, the default prefix) instead of the reader's trial.tfvars",
    "aws lambda invoke": "Lambda invoke needs Docker under moto: the command's arguments are "
    "evaluated by bash, then handler.handler runs with the deployed environment and that "
    "payload, and its response is written where the command writes it",
    "aws logs tail": "AWS CLI v2 only (PyPI's awscli is v1), and nothing runs in moto's Lambda "
    "to log: the group it names is looked up with describe-log-groups instead",
    "terraform destroy": "the fixture destroys the deployment at the end of the module",
}


def readme_commands() -> list[str]:
    """The shell commands of the section that starts at README_MARKER, in order, one logical
    line each (backslash continuations joined)."""
    text = (ROOT / "README.md").read_text()
    start = text.index(README_MARKER)
    end = re.search(r"^#{1,3} ", text[start:], re.MULTILINE)
    section = text[start : start + end.start()] if end else text[start:]
    blocks = re.findall(r"^ *```sh\n(.*?)^ *```", section, re.DOTALL | re.MULTILINE)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in lines if line.strip()]


def test_the_readme_section_is_found_and_holds_the_commands_it_promises() -> None:
    commands = readme_commands()
    assert any(c.startswith("aws s3 cp") for c in commands), commands
    for prefix in SUBSTITUTED:
        assert any(c.startswith(prefix) for c in commands), (
            f"{prefix!r} is gone: update SUBSTITUTED"
        )


@pytest.mark.slow
def test_the_readme_real_account_path_runs_against_the_deployment(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Each `aws` and `terraform output` command of the section, run by bash in the deployment's
    folder with the AWS CLI pointed at moto, so a wrong key or output name fails."""
    config = as_the_function(deployment, monkeypatch)
    env = {
        **deployment.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{deployment.env['PATH']}",
        "AWS_ENDPOINT_URL": deployment.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "BENCH_AUTH_TOKEN": "Bearer readme-test",  # step 2 reads it from the terminal
    }

    def bash(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=deployment.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    ran: dict[str, str] = {}
    for command in readme_commands():
        if command.startswith("aws lambda invoke"):
            # bash evaluates the arguments ($(terraform output …), $(date …)) as written.
            args_file = tmp_path / "invoke.args"
            shown = bash(
                f"aws() {{ printf '%s\\0' \"$@\" > {shlex.quote(str(args_file))}; }}; {command}"
            )
            assert shown.returncode == 0, shown.stderr
            args = args_file.read_text().split("\0")[:-1]
            assert args[args.index("--function-name") + 1] == NAME
            payload = json.loads(args[args.index("--payload") + 1])
            response = invoke_deployed(config, payload, "8f5e2b1c-0000-4000-8000-00000000aa02")
            (deployment.workdir / args[-1]).write_text(json.dumps(response))
            continue
        if command.startswith("aws logs tail"):
            group = bash("terraform output -raw log_group_name").stdout
            command = f"aws logs describe-log-groups --log-group-name-prefix {shlex.quote(group)}"
        elif command.startswith("terraform ") and "terraform output" not in command:
            assert any(command.startswith(prefix) for prefix in SUBSTITUTED), command
            continue
        elif not (command.startswith(("aws ", "python3 -c")) or "terraform output" in command):
            continue  # not AWS: the build, the virtualenv, reading the token, the local try
        result = bash(command)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        ran[command] = result.stdout

    parameter = next(out for cmd, out in ran.items() if cmd.startswith("aws ssm get-parameter"))
    assert parameter.strip().endswith(":parameter/benchtest/api-token")
    own = next(out for cmd, out in ran.items() if cmd.startswith("python3 -c"))
    assert f"/{PREFIX}/{datetime.now(UTC):%Y/%m/%d}/run-" in own  # this run's own folder
    latest = next(out for cmd, out in ran.items() if cmd.startswith("aws s3 cp"))
    assert latest.startswith("{"), latest
    assert '"total_balance": "18377.16"' in latest, latest
    listing = next(out for cmd, out in ran.items() if cmd.startswith("aws s3 ls"))
    assert f"{PREFIX}/latest/balances.json" in listing
    logs = next(out for cmd, out in ran.items() if cmd.startswith("aws logs"))
    assert json.loads(logs)["logGroups"][0]["logGroupName"] == f"/aws/lambda/{NAME}"


# --- docs/aws-behaviour.md ---------------------------------------------------------------------


def test_every_test_the_aws_behaviour_doc_names_exists() -> None:
    """The doc's tests are its evidence: a renamed or deleted test must not leave it lying."""
    named = re.findall(
        r"`(tests/\w+\.py)::(test_\w+)`", (ROOT / "docs/aws-behaviour.md").read_text()
    )
    assert len(named) >= 10, named
    for path, name in named:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path}::{name} does not exist"
