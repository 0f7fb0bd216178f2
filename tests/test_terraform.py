"""The Terraform at the repository root: formatting, validation, and a real apply/destroy.

The apply test runs `terraform apply` and `terraform destroy` against a local moto server
(loopback only, fake credentials) with the provider from an offline filesystem mirror, and
checks what was created with boto3. Tests skip, saying why, only when terraform or the
provider mirror is missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests import s3_access

ROOT = Path(__file__).resolve().parent.parent
TF_FILES = sorted(p for p in ROOT.glob("*.tf") if not p.name.endswith("_override.tf"))

REGION = "us-east-1"
REGION2 = "eu-west-3"  # a second deployment of the same name, same account
ACCOUNT = "123456789012"  # moto's default account
NAME = "benchtest-ci"
PREFIX = "reports/daily"
API_URL = "https://ledger.example/transactions/{page}.json"
TAGS = {"project": "benchtest", "owner": "ci"}
REPORT_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111aaaa-2222-bbbb-3333-cccc4444dddd"
AUTH_PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/benchtest/api-token"
AUTH_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/5555eeee-6666-ffff-7777-000088889999"
# Deliberately not the defaults, so the checks prove each variable reaches AWS.
TEST_VARS: dict[str, Any] = {
    "name": NAME,
    "architecture": "arm64",
    "memory_size": 256,
    "ephemeral_storage_size": 1024,
    "timeout": 150,  # above the reserve: 5 s, 105 s for S3, 21 s for SSM (main.tf)
    "api_url": API_URL,
    "auth_parameter_arn": AUTH_PARAMETER,
    "auth_header_name": "X-Api-Key",
    "auth_kms_key_arn": AUTH_KEY,
    "report_kms_key_arn": REPORT_KEY,
    "application_log_level": "DEBUG",
    "fetch_concurrency": 4,
    "fetch_timeout": 7.5,
    "fetch_retries": 3,
    "environment_variables": {"BENCH_DEADLINE": "100"},
    "log_retention_in_days": 30,
    "schedule_expression": "cron(30 5 * * ? *)",
    "schedule_timezone": "Europe/Paris",
    "schedule_maximum_retry_attempts": 5,
    "schedule_maximum_event_age_in_seconds": 7200,
    "maximum_retry_attempts": 1,
    "maximum_event_age_in_seconds": 3600,
    "alarm_email": "ops@example.com",
    "create_report_bucket": True,
    "report_prefix": PREFIX,
    "report_bucket_force_destroy": True,
    "tags": TAGS,
    # Out of date order: the environment variable lists them sorted.
    "assert_balances": {"2013-12-22": "18377.16", "2013-12-20": "18505.85"},
}

INIT_TIMEOUT = 180
APPLY_TIMEOUT = 600
PLAN_TIMEOUT = 300
BUILD_TIMEOUT = 900


# --------------------------------------------------------------------------------------------
# Terraform and its offline provider mirror
# --------------------------------------------------------------------------------------------


def _has_aws_provider(root: Path) -> bool:
    return any(
        (root / "registry.terraform.io/hashicorp/aws").glob("5.*/*/terraform-provider-aws_v*")
    )


def find_provider_mirror() -> Path | None:
    """Root of an unpacked filesystem mirror holding hashicorp/aws 5.x, or None."""
    candidates = [Path(p) for p in [os.environ.get("TF_PROVIDER_MIRROR")] if p]
    candidates += [
        Path("/opt/tf-plugins"),
        Path.home() / ".terraform.d/plugins",
        Path("/usr/local/share/terraform/plugins"),
        Path("/usr/share/terraform/plugins"),
    ]
    for root in candidates:
        if _has_aws_provider(root):
            return root
    # Last resort: look for the provider binary on this filesystem (bounded in time).
    try:
        found = subprocess.run(
            ["find", "/", "-xdev", "-name", "terraform-provider-aws_v*", "-path", "*/aws/5.*"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in found:
        for parent in Path(line).parents:
            if parent.name == "registry.terraform.io" and _has_aws_provider(parent.parent):
                return parent.parent
    return None


@pytest.fixture(scope="session")
def terraform() -> str:
    path = shutil.which("terraform")
    if path is None:
        pytest.skip("terraform is not installed (not on PATH)")
    return path


@pytest.fixture(scope="session")
def tf_env(terraform: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for terraform: offline provider mirror, no real AWS settings."""
    mirror = find_provider_mirror()
    if mirror is None:
        pytest.skip(
            "no offline filesystem mirror with hashicorp/aws 5.x found "
            "(looked in TF_PROVIDER_MIRROR, /opt/tf-plugins and the filesystem)"
        )
    config = tmp_path_factory.mktemp("terraform-cli") / "offline.tfrc"
    config.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "TF_VAR_", "TF_CLI_ARGS")) and k not in {"TF_DATA_DIR"}
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def run_tf(
    terraform: str,
    workdir: Path,
    env: dict[str, str],
    *args: str,
    timeout: float,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            [terraform, *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"terraform {args[0]} did not finish within {timeout:.0f} s: {exc.stdout!r}")
    if check and result.returncode != 0:
        pytest.fail(
            f"terraform {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout (tail) ---\n{result.stdout[-4000:]}\n"
            f"--- stderr (tail) ---\n{result.stderr[-4000:]}"
        )
    return result


def copy_configuration(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for tf in TF_FILES:
        shutil.copy2(tf, dest / tf.name)
    return dest


# --------------------------------------------------------------------------------------------
# Static checks
# --------------------------------------------------------------------------------------------


def test_configuration_files_present() -> None:
    names = {p.name for p in TF_FILES}
    assert names >= {
        *("main.tf", "iam.tf", "schedule.tf", "alarms.tf", "storage.tf"),
        *("variables.tf", "outputs.tf", "versions.tf"),
    }


def test_fmt(terraform: str) -> None:
    result = subprocess.run(
        [terraform, "fmt", "-check", "-diff", "-no-color", *[p.name for p in TF_FILES]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.slow  # terraform init and validate: ~5 s
def test_validate(terraform: str, tf_env: dict[str, str], tmp_path: Path) -> None:
    workdir = copy_configuration(tmp_path / "validate")
    run_tf(terraform, workdir, tf_env, "init", "-backend=false", "-no-color", timeout=INIT_TIMEOUT)
    result = run_tf(terraform, workdir, tf_env, "validate", "-json", "-no-color", timeout=120)
    report = json.loads(result.stdout)
    assert report["valid"], report
    assert report["warning_count"] == 0, report["diagnostics"]


# --------------------------------------------------------------------------------------------
# The deployment package and the moto server
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real package, built by ./build.sh into a temporary folder (dist/ is left alone)."""
    dist = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "ARCH": TEST_VARS["architecture"], "DIST_DIR": str(dist)}
    result = subprocess.run(
        ["bash", str(ROOT / "build.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"build.sh failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    package = dist / "lambda.zip"
    with zipfile.ZipFile(package) as zf:
        assert "handler.py" in zf.namelist(), "the package has no top-level handler.py"
    return package


MOTO_SERVICES = [
    "cloudwatch",
    "cloudwatchlogs",
    "iam",
    "lambda",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "sts",
]


def moto_override(endpoint: str, region: str = REGION) -> str:
    """Provider override (merged over versions.tf): every service at moto, fake credentials."""
    endpoints = "\n".join(f"    {svc:<14} = {json.dumps(endpoint)}" for svc in MOTO_SERVICES)
    return f"""provider "aws" {{
  region                      = "{region}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


@pytest.fixture(scope="module")
def moto_workdir(
    terraform: str,
    tf_env: dict[str, str],
    moto_endpoint: str,
    lambda_zip: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The configuration, the package and a moto override in a temp dir, initialised offline."""
    workdir = copy_configuration(tmp_path_factory.mktemp("terraform") / "deploy")
    (workdir / "dist").mkdir()
    shutil.copy2(lambda_zip, workdir / "dist" / "lambda.zip")
    (workdir / "moto_override.tf").write_text(moto_override(moto_endpoint))
    (workdir / "ci.auto.tfvars.json").write_text(json.dumps(TEST_VARS, indent=2))
    run_tf(terraform, workdir, tf_env, "init", "-no-color", timeout=INIT_TIMEOUT)
    return workdir


@pytest.fixture(scope="module")
def region2_workdir(
    terraform: str,
    tf_env: dict[str, str],
    moto_endpoint: str,
    moto_workdir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The same configuration for REGION2 with no variables set (they come as -var flags)."""
    workdir = copy_configuration(tmp_path_factory.mktemp("terraform") / "region2")
    shutil.copytree(moto_workdir / "dist", workdir / "dist")
    (workdir / "moto_override.tf").write_text(moto_override(moto_endpoint, REGION2))
    run_tf(terraform, workdir, tf_env, "init", "-no-color", timeout=INIT_TIMEOUT)
    return workdir


# A second deployment of the same name in REGION2: the required variable, as a demo, and the
# restated-days alarm switched off.
REGION2_ARGS = (
    *("-var", f"name={NAME}", "-var", "api_url=sample"),
    *("-var", "alarm_on_restated_days=false"),
)


def aws(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# --------------------------------------------------------------------------------------------
# Variable validation (plan against moto; fails before creating anything)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_bad_variables_are_rejected(
    terraform: str, tf_env: dict[str, str], moto_workdir: Path
) -> None:
    bad = {
        "timeout": "901",
        "memory_size": "64",
        "ephemeral_storage_size": "256",
        "architecture": "sparc",
        "log_retention_in_days": "42",
        "schedule_expression": "cron(0 6 * * *)",
        "reserved_concurrent_executions": "-1",
        "report_prefix": "/reports/",
        "name": "Bench_Test",
        "assert_balances": '{"22/12/2013"="18377.16"}',
        "environment_variables": '{"BENCH_ASSERT_BALANCE"="2013-12-22=1"}',
        "application_log_level": "WARN",
        "api_url": "https://user:secret@ledger.example/{page}.json",
        "runtime": "python3.13",
        "auth_parameter_arn": "benchtest/api-token",
    }
    args = [arg for k, v in bad.items() for arg in ("-var", f"{k}={v}")]
    result = run_tf(
        terraform,
        moto_workdir,
        tf_env,
        "plan",
        "-no-color",
        *args,
        timeout=PLAN_TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    errors = " ".join(result.stderr.split())
    for expected in [
        "timeout must be",
        "memory_size must be",
        "ephemeral_storage_size must be",
        "architecture must be",
        "log_retention_in_days must be",
        "schedule_expression must be",
        "reserved_concurrent_executions must be",
        "report_prefix must be",
        "name must be 1-28 lower-case letters",
        "Lambda files as INFO, so WARN, ERROR or FATAL would drop it",
        "api_url must be",
        "the version ./build.sh builds",
        "auth_parameter_arn must be an SSM parameter ARN",
        "assert_balances keys must be real dates",
        "environment_variables may not set",
    ]:
        assert expected in errors, f"{expected!r} not reported:\n{result.stderr}"


# Further refused values, one per variable and plan, so each message is known to come from that
# value. The report prefix rules are benchtest.storage.check_prefix's (the first regex refuses
# empty segments and a leading or trailing "/"); the assertion forms are benchtest.reconcile's.
REFUSED_PLANS: list[tuple[dict[str, str], list[str]]] = [
    (
        {
            # Both cron rules: six fields (above), and "?" in day-of-month or day-of-week.
            "schedule_expression": "cron(0 6 1 * MON *)",
            "report_prefix": "reports/../daily",
            "assert_balances": '{"2013-02-29"="1.00"}',
        },
        ['must be "?"', "may not have '.' or '..' segments", "assert_balances keys must be"],
    ),
    (
        {"report_prefix": "./reports", "assert_balances": '{"2013-12-22"="1,000.00"}'},
        ["may not have '.' or '..' segments", "assert_balances keys must be"],
    ),
    (
        {"report_prefix": "r" * 513, "assert_balances": '{"2013-12-22"="1e3"}'},
        ["report_prefix must be at most 512 characters", "assert_balances keys must be"],
    ),
    # The no-success alarm's window: days that depend on the month need it stated; a weekly
    # cron's gap plus slack is over CloudWatch's 7 days; a stated window under the gap.
    ({"schedule_expression": "cron(0 6 1 * ? *)"}, ["plan cannot tell the longest time"]),
    ({"schedule_expression": "cron(0 6 ? * MON *)"}, ["is over 7 days"]),
    ({"alarm_period": "604860"}, ["alarm_period must be a multiple of 60 seconds between 60"]),
    (
        {"schedule_expression": "cron(0 7 ? * MON-FRI *)", "success_alarm_period": "90000"},
        ["must be at least the longest time between two scheduled runs"],
    ),
]

# The no-success alarm's window in whole hours: the longest gap between runs plus 2 hours.
ALARM_WINDOWS = {
    "cron(0 7 ? * MON-FRI *)": 3 * 24 + 2,  # Friday to Monday
    "cron(0 7 ? * FRI-MON *)": 4 * 24 + 2,  # a range over the weekend: Monday to Friday
    "rate(6 hours)": 6 + 2,
    "cron(0/15 * * * ? *)": 24 + 2,  # every day: a bound, not the 15 minutes
}


@pytest.mark.slow
def test_further_refused_values(terraform: str, tf_env: dict[str, str], moto_workdir: Path) -> None:
    def plan(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
        args = [arg for k, v in variables.items() for arg in ("-var", f"{k}={v}")]
        return run_tf(
            terraform,
            moto_workdir,
            tf_env,
            *("plan", "-no-color", "-lock=false", "-refresh=false", *args),
            timeout=PLAN_TIMEOUT,
            check=False,
        )

    with ThreadPoolExecutor(max_workers=len(REFUSED_PLANS)) as pool:
        results = list(pool.map(plan, [variables for variables, _ in REFUSED_PLANS]))
    for (variables, messages), result in zip(REFUSED_PLANS, results, strict=True):
        assert result.returncode != 0, f"{variables} was accepted"
        errors = " ".join(result.stderr.split())
        for expected in messages:
            assert expected in errors, f"{variables}: {expected!r} not reported:\n{errors}"


@pytest.mark.slow
def test_no_success_window_follows_the_longest_gap_of_the_schedule(
    terraform: str, tf_env: dict[str, str], moto_workdir: Path, tmp_path: Path
) -> None:
    def planned_hours(expression: str) -> int:
        plan = tmp_path / f"{abs(hash(expression))}.tfplan"
        run_tf(
            terraform,
            moto_workdir,
            tf_env,
            *("plan", "-no-color", "-lock=false", "-refresh=false", f"-out={plan}"),
            *("-var", f"schedule_expression={expression}"),
            timeout=PLAN_TIMEOUT,
        )
        shown = run_tf(terraform, moto_workdir, tf_env, "show", "-json", str(plan), timeout=120)
        (alarm,) = [
            rc["change"]["after"]
            for rc in json.loads(shown.stdout)["resource_changes"]
            if rc["address"] == "aws_cloudwatch_metric_alarm.no_success"
        ]
        assert alarm["period"] == 3600
        assert alarm["datapoints_to_alarm"] == alarm["evaluation_periods"]
        return int(alarm["evaluation_periods"])

    with ThreadPoolExecutor(max_workers=len(ALARM_WINDOWS)) as pool:
        hours = dict(zip(ALARM_WINDOWS, pool.map(planned_hours, ALARM_WINDOWS), strict=True))
    assert hours == ALARM_WINDOWS


@pytest.mark.slow
def test_plan_without_api_url_is_refused(
    terraform: str, tf_env: dict[str, str], region2_workdir: Path
) -> None:
    """No default: a forgotten api_url must not deploy a function reporting the sample."""
    result = run_tf(
        terraform,
        region2_workdir,
        tf_env,
        "plan",
        "-no-color",
        *REGION2_ARGS[:2],
        timeout=PLAN_TIMEOUT,
        check=False,
    )
    assert result.returncode != 0
    errors = " ".join(result.stderr.split())
    assert "No value for required variable" in errors, result.stderr
    assert 'variable "api_url"' in errors, result.stderr


def test_the_reserve_in_main_tf_is_the_handlers() -> None:
    """main.tf's precondition on timeout adds the same seconds the handler keeps back."""
    import handler
    from benchtest import auth, storage

    found = re.search(
        r"reserve_seconds = ([0-9.]+) \+ \(local\.reports_enabled \? ([0-9.]+) : 0\) "
        r"\+ \(var\.auth_parameter_arn == null \? 0 : ([0-9.]+)\)",
        (ROOT / "main.tf").read_text(),
    )
    assert found is not None
    code = (handler.RESERVE_SECONDS, storage.S3_SECONDS, auth.SSM_SECONDS)
    assert tuple(float(n) for n in found.groups()) == code


@pytest.mark.slow
def test_a_timeout_the_reserve_leaves_nothing_of_is_refused_at_plan(
    terraform: str, tf_env: dict[str, str], moto_workdir: Path, region2_workdir: Path
) -> None:
    """With a bucket and an auth parameter (TEST_VARS) the reserve is 131 s; with neither, 5 s.
    The smallest timeout planned is one second above it."""

    def plan(job: tuple[Path, tuple[str, ...], int]) -> subprocess.CompletedProcess[str]:
        workdir, args, timeout = job
        return run_tf(
            terraform,
            workdir,
            tf_env,
            *("plan", "-no-color", "-lock=false", "-refresh=false", *args),
            *("-var", f"timeout={timeout}"),
            timeout=PLAN_TIMEOUT,
            check=False,
        )

    jobs = [
        (workdir, args, reserve + above)
        for workdir, args, reserve in ((moto_workdir, (), 131), (region2_workdir, REGION2_ARGS, 5))
        for above in (0, 1)
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(plan, jobs))
    for (_, _, timeout), result in zip(jobs, results, strict=True):
        errors = " ".join(result.stderr.split())
        if timeout in (131, 5):
            assert result.returncode != 0, f"timeout={timeout} was accepted"
            reserve = f"timeout ({timeout} s) must be above the {timeout} s the function keeps back"
            assert reserve in errors, errors
        else:
            assert result.returncode == 0, f"timeout={timeout}: {errors}"


def test_runtime_is_the_python_build_sh_builds_for() -> None:
    """One Python version: the only runtime Terraform allows is the one build.sh targets."""
    variables = (ROOT / "variables.tf").read_text()
    block = re.search(r'variable "runtime" \{.*?\n\}', variables, re.DOTALL)
    assert block is not None
    allowed = re.search(r"contains\(\[([^\]]*)\], var\.runtime\)", block[0])
    default = re.search(r'default\s*=\s*"([^"]+)"', block[0])
    assert allowed is not None
    assert default is not None
    built = re.search(r"^PYTHON_VERSION=([0-9.]+)$", (ROOT / "build.sh").read_text(), re.MULTILINE)
    assert built is not None
    assert json.loads(f"[{allowed[1]}]") == [f"python{built[1]}"]
    assert default[1] == f"python{built[1]}"


# --------------------------------------------------------------------------------------------
# Apply, check with boto3, destroy
# --------------------------------------------------------------------------------------------


@dataclass
class Timings:
    phases: dict[str, float] = field(default_factory=dict)

    def run(self, phase: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            self.phases[phase] = time.monotonic() - start


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(document: dict[str, Any] | str) -> list[dict[str, Any]]:
    doc = json.loads(document) if isinstance(document, str) else document
    return [doc["Statement"]] if isinstance(doc["Statement"], dict) else doc["Statement"]


def inline_policy(iam: Any, role: str) -> list[dict[str, Any]]:
    """The role's only policy (inline, no managed policies), as statements."""
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    assert names == [role]
    return statements(iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"])


# Report keys the function may delete: its run folders (wildcards checked against real keys).
RUN_FOLDERS = ("/????/??/??/run-*/", "/manual/run-*/")
RUN_FOLDER_PATTERNS = tuple(f"{folder}*" for folder in RUN_FOLDERS)


def grants(stmts: list[dict[str, Any]]) -> dict[tuple[str, ...], list[str]]:
    """Allow statements as {sorted actions: resources}; no Deny/NotAction tricks expected."""
    out: dict[tuple[str, ...], list[str]] = {}
    for stmt in stmts:
        assert stmt["Effect"] == "Allow", stmt
        assert "NotAction" not in stmt, stmt
        assert "NotResource" not in stmt, stmt
        actions = as_list(stmt["Action"])
        resources = as_list(stmt["Resource"])
        for item in actions:
            assert "*" not in item, f"wildcard action {item!r}"
        for item in resources:
            # Only a trailing ":*" (log streams), "/*" (objects under the prefix) or run folder
            # (any object, or the pages).
            fixed = item
            for pattern in (*RUN_FOLDER_PATTERNS, *(f"{f}pages.zip" for f in RUN_FOLDERS)):
                fixed = fixed.removesuffix(pattern)
            fixed = fixed.removesuffix(":*").removesuffix("/*")
            assert not {"*", "?"} & set(fixed), f"wildcard resource {item!r}"
        out[tuple(sorted(actions))] = sorted(resources)
    return out


def check_function(endpoint: str, out: dict[str, Any], package: Path, bucket: str) -> list[str]:
    """Returns the attributes moto does not expose (so could not be checked)."""
    unchecked = []
    lam = aws("lambda", endpoint)
    fn = lam.get_function(FunctionName=NAME)
    cfg = fn["Configuration"]
    assert cfg["FunctionArn"] == out["function_arn"]
    assert cfg["Runtime"] in {"python3.12", "python3.13"}
    assert cfg["Runtime"] == "python3.12"  # the default
    assert cfg["Handler"] == "handler.handler"
    assert cfg["Architectures"] == ["arm64"]
    assert cfg["MemorySize"] == 256
    assert cfg["EphemeralStorage"] == {"Size": 1024}
    assert cfg["Timeout"] == 150
    assert cfg["Role"] == out["lambda_role_arn"]
    digest = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    assert cfg["CodeSha256"] == digest, "the function does not hold dist/lambda.zip"
    assert cfg["Environment"]["Variables"] == {
        "BENCH_API_URL": API_URL,
        "BENCH_CONCURRENCY": "4",
        "BENCH_TIMEOUT": "7.5",
        "BENCH_RETRIES": "3",
        "BENCH_DEADLINE": "100",
        "REPORT_BUCKET": bucket,
        "REPORT_PREFIX": PREFIX,
        "REPORT_KEEP_PAGES": "true",
        "REPORT_KMS_KEY_ID": REPORT_KEY,
        "BENCH_AUTH_PARAMETER": AUTH_PARAMETER,
        "BENCH_AUTH_HEADER": "X-Api-Key",
        "BENCH_ASSERT_BALANCE": "2013-12-20=18505.85,2013-12-22=18377.16",
    }
    # No reservation by default: nothing taken from the account's unreserved pool.
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=NAME)
    assert fn.get("Tags", {}).items() >= TAGS.items()
    logging_config = cfg.get("LoggingConfig")
    if logging_config:
        assert logging_config["LogFormat"] == "JSON"
        assert logging_config["LogGroup"] == out["log_group_name"]
        assert logging_config.get("ApplicationLogLevel") in {None, "DEBUG"}
    else:
        unchecked.append("Lambda LoggingConfig (JSON log format, log group, log levels)")

    invoke = lam.get_function_event_invoke_config(FunctionName=NAME)
    assert invoke["MaximumRetryAttempts"] == 1
    assert invoke["MaximumEventAgeInSeconds"] == 3600
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == out["dlq_arn"]
    return unchecked


def check_roles(endpoint: str, out: dict[str, Any], bucket: str) -> None:
    iam = aws("iam", endpoint)
    lambda_role = out["lambda_role_name"]
    assert lambda_role == f"{NAME}-{REGION}-lambda"
    trust = statements(iam.get_role(RoleName=lambda_role)["Role"]["AssumeRolePolicyDocument"])
    assert [(s["Effect"], s["Action"], s["Principal"]) for s in trust] == [
        ("Allow", "sts:AssumeRole", {"Service": "lambda.amazonaws.com"})
    ]
    log_group_arn = out["log_group_arn"]
    reports = f"arn:aws:s3:::{bucket}/{PREFIX}"
    lambda_grants = grants(inline_policy(iam, lambda_role))
    # Write under the prefix; read latest/ only; delete in run folders only; list the bucket.
    assert lambda_grants == {
        ("logs:CreateLogStream", "logs:PutLogEvents"): [f"{log_group_arn}:*"],
        ("sqs:SendMessage",): [out["dlq_arn"]],
        ("s3:PutObject",): [f"{reports}/*"],
        ("s3:GetObject",): [f"{reports}/latest/*"],
        ("s3:ListBucket",): [f"arn:aws:s3:::{bucket}"],
        ("s3:DeleteObject",): sorted(reports + p for p in RUN_FOLDER_PATTERNS),
        ("s3:PutObjectTagging",): sorted(reports + p + "pages.zip" for p in RUN_FOLDERS),
        ("kms:Decrypt", "kms:GenerateDataKey"): [REPORT_KEY],
        ("ssm:GetParameter",): [AUTH_PARAMETER],
        ("kms:Decrypt",): [AUTH_KEY],
    }
    # The grants tests/s3_access.py evaluates: a created bucket may be listed whole.
    s3_grants = [s for s in inline_policy(iam, lambda_role) if str(s["Action"]).startswith("s3:")]
    expected = s3_access.role_statements(bucket, PREFIX, created=True)
    assert s3_access.normalised(s3_grants) == s3_access.normalised(expected)
    (narrow,) = [  # an existing bucket's (tests/test_scheduled_run.py deploys one)
        s["Condition"]
        for s in s3_access.role_statements(bucket, PREFIX, created=False)
        if s["Action"] == "s3:ListBucket"
    ]
    check_report_grants_fit_storage_keys(lambda_grants, bucket, narrow)
    (auth_key,) = [s for s in inline_policy(iam, lambda_role) if s["Resource"] == AUTH_KEY]
    assert auth_key["Condition"] == {
        "StringEquals": {"kms:EncryptionContext:PARAMETER_ARN": AUTH_PARAMETER}
    }

    scheduler_role = out["scheduler_role_arn"].rsplit("/", 1)[1]
    assert scheduler_role == f"{NAME}-{REGION}-scheduler"
    trust = statements(iam.get_role(RoleName=scheduler_role)["Role"]["AssumeRolePolicyDocument"])
    assert len(trust) == 1
    assert trust[0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert trust[0]["Condition"]["ArnEquals"]["aws:SourceArn"] == (
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{NAME}"
    )
    assert grants(inline_policy(iam, scheduler_role)) == {
        ("lambda:InvokeFunction",): [out["function_arn"]],
        ("sqs:SendMessage",): [out["dlq_arn"]],
    }
    for role in (lambda_role, scheduler_role):
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
        assert tags.items() >= TAGS.items(), role


def iam_match(pattern: str, arn: str) -> bool:
    """IAM resource matching: "*" is any run of characters ("/" too), "?" any one character."""
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern)
    return re.fullmatch(regex, arn) is not None


def check_report_grants_fit_storage_keys(
    lambda_grants: dict[tuple[str, ...], list[str]], bucket: str, listing: dict[str, Any]
) -> None:
    """The granted patterns against the keys benchtest.storage really writes, reads and deletes.

    ``listing`` is an existing bucket's s3:ListBucket condition: storage lists each latest/ key
    with itself as the prefix before reading it, so the condition must cover those keys (and no
    run folder's).
    """
    assert list(listing) == ["StringLike"]
    (prefix_patterns,) = listing["StringLike"].values()
    assert list(listing["StringLike"]) == ["s3:prefix"]
    from benchtest.events import parse_event
    from benchtest.storage import LATEST, OBJECTS, PAGES, S3Target, new_run

    target = S3Target(bucket=bucket, prefix=PREFIX)
    runs = [
        new_run(parse_event({"scheduled_time": "2013-12-22T06:00:00Z"}), "5e1b-aa01"),
        new_run(parse_event({}), "5e1b-aa02"),  # manual
    ]
    names = [name for _, name, _ in OBJECTS]
    run_keys = [target.key(run.folder, name) for run in runs for name in names]
    latest_keys = [target.key(LATEST, name) for name in names]
    assert any(key.startswith(f"{PREFIX}/manual/run-") for key in run_keys), run_keys

    def allowed(action: str, key: str) -> bool:
        arn = f"arn:aws:s3:::{bucket}/{key}"
        return any(iam_match(p, arn) for p in lambda_grants[(action,)])

    for key in run_keys:
        assert allowed("s3:PutObject", key), key
        assert allowed("s3:DeleteObject", key), key
        assert not allowed("s3:GetObject", key), key
        assert not allowed("s3:PutObjectTagging", key), key
    for run in runs:  # the pages are put with their tag
        key = target.key(run.folder, PAGES)
        assert allowed("s3:PutObject", key), key
        assert allowed("s3:PutObjectTagging", key), key
    assert not allowed("s3:PutObjectTagging", target.key(LATEST, PAGES))

    def listed(key: str) -> bool:
        return any(iam_match(p, key) for p in as_list(prefix_patterns))

    for key in latest_keys:
        assert allowed("s3:PutObject", key), key
        assert allowed("s3:GetObject", key), key
        assert not allowed("s3:DeleteObject", key), key
        assert listed(key), key
    assert not any(listed(key) for key in run_keys), run_keys
    for outside in ("other/latest/balances.json", f"{PREFIX}-x/latest/balances.json"):
        assert not any(allowed(a, outside) for a in ("s3:PutObject", "s3:GetObject")), outside


def check_logs_queue_schedule(endpoint: str, out: dict[str, Any]) -> None:
    groups = aws("logs", endpoint).describe_log_groups(logGroupNamePrefix=out["log_group_name"])
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in groups["logGroups"]] == [
        (f"/aws/lambda/{NAME}", 30)
    ]

    sqs = aws("sqs", endpoint)
    attrs = sqs.get_queue_attributes(QueueUrl=out["dlq_url"], AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == out["dlq_arn"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["MessageRetentionPeriod"] == "1209600"
    assert sqs.list_queue_tags(QueueUrl=out["dlq_url"]).get("Tags", {}).items() >= TAGS.items()

    schedule = aws("scheduler", endpoint).get_schedule(
        Name=out["schedule_name"], GroupName=out["schedule_group_name"]
    )
    assert schedule["Arn"] == out["schedule_arn"]
    assert schedule["ScheduleExpression"] == "cron(30 5 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["State"] == "ENABLED"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == out["function_arn"]
    assert target["RoleArn"] == out["scheduler_role_arn"]
    # The raw text, not its decoding: Scheduler finds its keywords only as text (schedule.tf).
    assert target["Input"] == (
        '{"scheduled_time": "<aws.scheduler.scheduled-time>", '
        '"execution_id": "<aws.scheduler.execution-id>"}'
    )
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 7200}
    assert target["DeadLetterConfig"] == {"Arn": out["dlq_arn"]}


def check_alarms(endpoint: str, out: dict[str, Any]) -> None:
    topic = out["alarm_topic_arn"]
    names = out["alarm_names"]
    alarms = aws("cloudwatch", endpoint).describe_alarms(AlarmNames=list(names.values()))
    by_name = {a["AlarmName"]: a for a in alarms["MetricAlarms"]}
    assert set(by_name) == set(names.values())
    errors = by_name[f"{NAME}-errors"]
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == (
        "AWS/Lambda",
        "Errors",
        "Sum",
    )
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": NAME}]
    assert errors["ComparisonOperator"] == "GreaterThanThreshold"
    assert errors["Threshold"] == 0
    assert errors["AlarmActions"] == [topic]
    # Each message sent (not the depth, which stays above 0 after the first): every failure.
    failed = by_name[f"{NAME}-failed-runs"]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
        "AWS/SQS",
        "NumberOfMessagesSent",
        "Sum",
    )
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanThreshold", 0)
    assert failed["TreatMissingData"] == "notBreaching"
    assert failed["Dimensions"] == [{"Name": "QueueName", "Value": f"{NAME}-failed-runs"}]
    assert failed["AlarmActions"] == [topic]
    delivery = by_name[names["failed_deliveries"]]
    assert (delivery["Namespace"], delivery["MetricName"], delivery["Statistic"]) == (
        "AWS/Lambda",
        "DestinationDeliveryFailures",
        "Sum",
    )
    assert delivery["Dimensions"] == [{"Name": "FunctionName", "Value": NAME}]
    assert (delivery["ComparisonOperator"], delivery["Threshold"]) == ("GreaterThanThreshold", 0)
    assert delivery["AlarmActions"] == [topic]
    # The EMF record the handler writes: namespace benchtest, dimension FunctionName.
    # The EMF metric only Scheduler's runs emit; "missing" so that a new alarm stays in
    # INSUFFICIENT_DATA (not ALARM) until the first scheduled run, and that state notifies when
    # runs stop reporting later (docs/aws-behaviour.md).
    silent = by_name[f"{NAME}-no-success"]
    assert (silent["Namespace"], silent["MetricName"], silent["Statistic"]) == (
        "benchtest",
        "ScheduledSuccess",
        "Maximum",
    )
    assert silent["Dimensions"] == [{"Name": "FunctionName", "Value": NAME}]
    assert (silent["ComparisonOperator"], silent["Threshold"]) == ("LessThanThreshold", 1)
    assert silent["TreatMissingData"] == "missing"
    # The daily cron's gap plus 2 hours, in one-hour periods, all of them needed to alarm.
    assert (silent["Period"], silent["EvaluationPeriods"]) == (3600, 26)
    assert silent["DatapointsToAlarm"] == 26
    assert out["no_success_alarm_period"] == 26 * 3600
    assert silent["ActionsEnabled"] is True
    assert silent["AlarmActions"] == silent["OKActions"] == [topic]
    assert silent["InsufficientDataActions"] == [topic]
    # Reconciliation: failed balance assertions and restated days, from the same EMF record.
    assert names["assertion_failures"] == f"{NAME}-assertion-failures"
    assert names["restated_days"] == f"{NAME}-restated-days"
    assert names["empty_ledger"] == f"{NAME}-empty-ledger"
    for key, metric in [
        ("assertion_failures", "AssertionFailures"),
        ("restated_days", "RestatedDays"),
        ("comparison_failures", "ComparisonFailures"),
        ("empty_ledger", "EmptyLedger"),
    ]:
        alarm = by_name[names[key]]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "benchtest",
            metric,
            "Maximum",
        )
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": NAME}]
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]

    subs = aws("sns", endpoint).list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "ops@example.com")]


def check_bucket(endpoint: str, bucket: str) -> None:
    s3 = aws("s3", endpoint)
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert len(block) == 4, block
    assert all(block.values()), block
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": REPORT_KEY,
    }
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    lifecycle, pages = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Status"] == "Enabled"
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 7
    assert "Expiration" not in lifecycle  # reports are kept, by default
    assert (pages["ID"], pages["Status"]) == ("pages", "Enabled")
    assert pages["Expiration"] == {"Days": 400}  # variables.tf's pages_expiration_days
    assert pages["Filter"] == {"Tag": {"Key": "benchtest", "Value": "pages"}}  # storage.PAGES_TAG
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (deny,) = statements(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags.items() >= TAGS.items()


def check_no_drift(terraform: str, workdir: Path, env: dict[str, str]) -> None:
    """A second plan changes nothing, except what moto cannot read back (logging_config)."""
    run_tf(terraform, workdir, env, "plan", "-no-color", "-out=drift.tfplan", timeout=PLAN_TIMEOUT)
    shown = run_tf(terraform, workdir, env, "show", "-json", "drift.tfplan", timeout=120)
    changes = {
        rc["address"]: rc["change"]
        for rc in json.loads(shown.stdout).get("resource_changes", [])
        if rc["change"]["actions"] not in (["no-op"], ["read"])
    }
    # moto does not return LoggingConfig, so the function shows that one block as new; the
    # scheduler policy reads the function ARN and is re-planned with it.
    assert set(changes) <= {"aws_lambda_function.this", "aws_iam_role_policy.scheduler"}, changes
    for change in changes.values():
        assert change["actions"] == ["update"], change
    if "aws_lambda_function.this" in changes:
        change = changes["aws_lambda_function.this"]
        differing = {
            key
            for key in set(change["before"]) | set(change["after"])
            if change["before"].get(key) != change["after"].get(key)
            and not change["after_unknown"].get(key)
        }
        assert differing == {"logging_config"}, differing


def check_all_gone(endpoint: str, region: str) -> None:
    lam = aws("lambda", endpoint, region)
    assert lam.list_functions()["Functions"] == []
    with pytest.raises(ClientError):
        lam.get_function(FunctionName=NAME)
    iam = aws("iam", endpoint, region)
    assert [
        r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(NAME)
    ] == []
    scheduler = aws("scheduler", endpoint, region)
    assert scheduler.list_schedules()["Schedules"] == []
    groups = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert NAME not in groups
    assert aws("sqs", endpoint, region).list_queues().get("QueueUrls", []) == []
    assert aws("sns", endpoint, region).list_topics()["Topics"] == []
    alarms = aws("cloudwatch", endpoint, region).describe_alarms()
    assert alarms["MetricAlarms"] == []
    logs = aws("logs", endpoint, region).describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{NAME}"
    )
    assert logs["logGroups"] == []
    assert aws("s3", endpoint, region).list_buckets()["Buckets"] == []


def check_second_region(endpoint: str, out: dict[str, Any]) -> None:
    """Same name, same account, another region: its own roles, the sample, no bucket."""
    assert out["lambda_role_name"] == f"{NAME}-{REGION2}-lambda"
    assert out["scheduler_role_arn"].endswith(f"/{NAME}-{REGION2}-scheduler")
    assert out["function_arn"] == f"arn:aws:lambda:{REGION2}:{ACCOUNT}:function:{NAME}"
    assert out.get("report_bucket_name") is None  # null outputs are left out
    cfg = aws("lambda", endpoint, REGION2).get_function(FunctionName=NAME)["Configuration"]
    assert cfg["Environment"]["Variables"]["BENCH_API_URL"] == "sample"
    assert (
        not {"REPORT_BUCKET", "BENCH_AUTH_PARAMETER", "BENCH_ASSERT_BALANCE"}
        & cfg["Environment"]["Variables"].keys()
    )
    # No bucket, no S3 grant at all; alarm_on_restated_days=false leaves out that one alarm.
    iam = aws("iam", endpoint)
    lambda_actions = {
        a for stmt in inline_policy(iam, out["lambda_role_name"]) for a in as_list(stmt["Action"])
    }
    assert not {a for a in lambda_actions if a.startswith("s3:")}, lambda_actions
    assert "restated_days" not in out["alarm_names"]
    assert out["alarm_names"]["assertion_failures"] == f"{NAME}-assertion-failures"
    assert out["alarm_names"]["empty_ledger"] == f"{NAME}-empty-ledger"
    alarms = aws("cloudwatch", endpoint, REGION2).describe_alarms(AlarmNamePrefix=NAME)
    assert {a["AlarmName"] for a in alarms["MetricAlarms"]} == set(out["alarm_names"].values())
    roles = {r["RoleName"] for r in aws("iam", endpoint).list_roles()["Roles"]}
    assert {
        f"{NAME}-{region}-{kind}"
        for region in (REGION, REGION2)
        for kind in ("lambda", "scheduler")
    } <= roles


def outputs(terraform: str, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    shown = run_tf(terraform, workdir, env, "output", "-json", "-no-color", timeout=60)
    return {k: v["value"] for k, v in json.loads(shown.stdout).items()}


@pytest.mark.slow
def test_apply_and_destroy_against_moto(
    terraform: str,
    tf_env: dict[str, str],
    moto_endpoint: str,
    moto_workdir: Path,
    region2_workdir: Path,
    lambda_zip: Path,
    record_property: Any,
) -> None:
    """Two deployments of one name in two regions of one account, applied side by side."""
    timings = Timings()
    workdirs = {moto_workdir: (), region2_workdir: REGION2_ARGS}

    def both(command: str) -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(
                    run_tf,
                    *(terraform, workdir, tf_env, command, "-auto-approve", "-no-color", *args),
                    timeout=APPLY_TIMEOUT,
                )
                for workdir, args in workdirs.items()
                if command == "apply" or (workdir / "terraform.tfstate").exists()
            ]
            for future in futures:
                future.result()

    try:
        timings.run("apply (2 regions)", both, "apply")
        out = outputs(terraform, moto_workdir, tf_env)
        bucket = out["report_bucket_name"]
        assert bucket.startswith(f"{NAME}-reports-"), bucket
        assert out["report_location"] == f"s3://{bucket}/{PREFIX}/latest/"

        unchecked = check_function(moto_endpoint, out, lambda_zip, bucket)
        check_roles(moto_endpoint, out, bucket)
        check_logs_queue_schedule(moto_endpoint, out)
        check_alarms(moto_endpoint, out)
        check_bucket(moto_endpoint, bucket)
        check_second_region(moto_endpoint, outputs(terraform, region2_workdir, tf_env))
        timings.run("plan (drift)", check_no_drift, terraform, moto_workdir, tf_env)
    finally:
        timings.run("destroy (2 regions)", both, "destroy")
        summary = ", ".join(f"{k} {v:.1f} s" for k, v in timings.phases.items())
        print(f"\nterraform against moto: {summary}")
        for phase, seconds in timings.phases.items():
            record_property(f"{phase} seconds", round(seconds, 1))

    for workdir in workdirs:
        state = run_tf(terraform, workdir, tf_env, "state", "list", timeout=60, check=False)
        assert state.stdout.strip() == ""
    for region in (REGION, REGION2):
        check_all_gone(moto_endpoint, region)
    if unchecked:
        print("not checkable in moto: " + "; ".join(unchecked))
