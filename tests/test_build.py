"""build.sh and the Lambda package it writes: reproducible, whole, and working when unpacked.

The builds install the pinned manylinux wheels with pip; the tests skip, saying why, only
when pip cannot download them (no package index reachable). The unpacked zip runs in a clean
interpreter (`python -I -S`, only the unpacked folder on sys.path): with its own boto3 it writes
to S3 (moto) alone, and again with the runtime's boto3 after it, the way Lambda puts /var/task
before the runtime's; with its own tzdata it reads a named time zone with no system tz database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

import benchtest
from tests.runtime_api import find_python312
from tests.support import make_pages, record

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build.sh"
ARCHES = ("arm64", "x86_64")
# The package this machine can run: msgspec's compiled extension loads on its own platform only.
NATIVE = {"x86_64": "x86_64", "aarch64": "arm64"}.get(os.uname().machine)
ELF_SUFFIX = {"arm64": "aarch64-linux-gnu.so", "x86_64": "x86_64-linux-gnu.so"}
SCHEDULED = {"scheduled_time": "2026-11-25T06:00:00Z"}
MAX_ZIP_BYTES = 25_000_000
OWN_MODULES = ("handler", "benchtest", "urllib3", "certifi", "msgspec")
SDK_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six")

pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the function's, pip's target or AWS settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BENCH_", "REPORT_", "AWS_", "ARCH", "DIST_DIR", "PYTHON"))
    }
    env.update(extra)
    return env


def pins(name: str = "requirements.txt") -> dict[str, str]:
    """{normalised name: version} of the ``==`` pins in a requirements file."""
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        match = re.match(r"\s*([A-Za-z0-9._-]+)==([^\s;#\\]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pip_can_download(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip the module when pip cannot fetch a manylinux wheel for Lambda's Python."""
    version = pins()["msgspec"]
    probe = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
            *("--dest", str(tmp_path_factory.mktemp("probe"))),
            *("--implementation", "cp", "--python-version", "3.12", "--only-binary=:all:"),
            *("--platform", "manylinux2014_aarch64", "--platform", "manylinux_2_28_aarch64"),
            f"msgspec=={version}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["(no message)"])[-1]
        pytest.skip(f"pip cannot download manylinux wheels (no package index reachable?): {last}")


def build(arch: str, dist: Path) -> tuple[Path, str]:
    """Run build.sh from an unrelated folder; return the zip and what the build printed."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(BUILD)],
        cwd=dist.parent,
        env=clean_env(ARCH=arch, DIST_DIR=str(dist)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"build.sh failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    package = dist / "lambda.zip"
    assert package.is_file(), f"build.sh did not write {package}"
    print(f"\nbuild.sh ARCH={arch}: {time.monotonic() - started:.1f} s")
    return package, result.stdout


@pytest.fixture(scope="module")
def packages(
    pip_can_download: None, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, str]]:
    return {arch: build(arch, tmp_path_factory.mktemp(f"build-{arch}") / "dist") for arch in ARCHES}


def unpack(package: Path, dest: Path) -> Path:
    dest.mkdir()
    with zipfile.ZipFile(package) as archive:
        archive.extractall(dest)
    return dest


# --------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------


def test_build_twice_gives_the_same_bytes(
    packages: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    first, printed = packages["arm64"]
    second, _ = build("arm64", tmp_path / "dist")
    data = first.read_bytes()
    assert data == second.read_bytes(), "two builds of the same sources differ"
    digest = hashlib.sha256(data)
    # The printed figures are the ones Terraform and Lambda will show.
    assert f"sha256:  {digest.hexdigest()}" in printed
    assert base64.b64encode(digest.digest()).decode() in printed
    assert f"size:    {len(data)} bytes" in printed
    print(f"lambda.zip (arm64): {len(data)} bytes, sha256 {digest.hexdigest()}")


def test_hash_lock_pins_what_requirements_pin() -> None:
    """build.sh installs from requirements-lambda.txt (hashes); it must follow requirements.txt."""
    lock = ROOT / "requirements-lambda.txt"
    if not lock.exists():
        pytest.skip("no requirements-lambda.txt: build.sh installs requirements.txt without hashes")
    assert pins(lock.name) == pins(), "requirements.txt changed: run './build.sh lock'"
    hashes = re.findall(r"--hash=sha256:([0-9a-f]+)", lock.read_text())
    assert hashes, lock
    assert all(len(h) == 64 for h in hashes)


def test_unknown_arch_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(BUILD)],
        cwd=tmp_path,
        env=clean_env(ARCH="sparc", DIST_DIR=str(tmp_path / "dist")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ARCH must be arm64 or x86_64" in result.stderr
    assert not (tmp_path / "dist").exists()


def _sources(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        return [
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("benchtest/") and name.endswith(".py")
        ]


@pytest.mark.parametrize("arch", ARCHES)
def test_package_contents(packages: dict[str, tuple[Path, str]], arch: str) -> None:
    package, _ = packages[arch]
    size = package.stat().st_size
    assert size <= MAX_ZIP_BYTES, f"lambda.zip is {size} bytes"
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert {"handler.py", "benchtest/__init__.py", "benchtest/sample/1.json"} <= set(names)
    assert {"urllib3/__init__.py", "msgspec/__init__.py"} <= set(names)
    # Test tooling (the fault-injecting ledger server) stays in tests/, out of the product.
    assert "tests/ledger_server.py" not in names
    assert not any("LedgerServer" in archive_text for archive_text in _sources(package))
    tops = {name.split("/", 1)[0] for name in names}
    # The pinned versions, nothing else: boto3 and its dependencies included.
    dists = {
        re.sub(r"[-_.]+", "-", top.removesuffix(".dist-info").rsplit("-", 1)[0]).lower(): (
            top.removesuffix(".dist-info").rsplit("-", 1)[1]
        )
        for top in tops
        if top.endswith(".dist-info")
    }
    assert dists == pins()
    assert {"boto3", "botocore", "tzdata"} <= dists.keys()
    # botocore whole (every service model, as its wheel has them), and tzdata's zones.
    import botocore

    assert botocore.__version__ == dists["botocore"]  # the dev environment's is the pinned one
    data = Path(botocore.__file__).parent / "data"
    wheel = {f"botocore/data/{p.relative_to(data).as_posix()}" for p in data.rglob("*.*")}
    assert wheel <= set(names), sorted(wheel - set(names))[:5]
    assert "tzdata/zoneinfo/America/Vancouver" in names
    for name in names:
        parts = name.rstrip("/").split("/")
        assert not {"tests", "bin", "..", ""} & set(parts), name
        if name.endswith((".pyc", ".pyo")):  # only the runtime's bytecode, beside its source
            assert pyc_source(name) in names, name
        if name.endswith(".so"):
            assert name.endswith(ELF_SUFFIX[arch]), name
    for info in infos:
        mode = info.external_attr >> 16
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.create_system == 3, info.filename
        assert info.extra == b"", info.filename
        if info.is_dir():
            assert mode == stat.S_IFDIR | 0o755, (info.filename, oct(mode))
        else:
            assert mode == stat.S_IFREG | 0o644, (info.filename, oct(mode))
            assert info.compress_type == zipfile.ZIP_DEFLATED, info.filename
    print(f"lambda.zip ({arch}): {size} bytes ({size / 1024:.1f} KB), {len(names)} entries")


# --------------------------------------------------------------------------------------------
# Bytecode for the runtime's Python (Lambda's /var/task is read-only: nothing compiles there)
# --------------------------------------------------------------------------------------------

PYC_312 = re.compile(r"(?:(.*)/)?__pycache__/([^/]+)\.cpython-312\.pyc")
MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def pyc_source(name: str) -> str:
    """The source a pyc in the zip was compiled from ("" for a pyc not named for 3.12)."""
    match = PYC_312.fullmatch(name)
    return "" if match is None else "/".join(filter(None, [match[1], f"{match[2]}.py"]))


# argv: folder. Checks every pyc's source hash with 3.12's own key, then imports the handler.
CHECK_312 = """
import importlib.util, pathlib, sys
folder = pathlib.Path(sys.argv[1])
for pyc in sorted(folder.rglob("*.pyc")):
    source = pyc.parent.parent / (pyc.name.split(".")[0] + ".py")
    if pyc.read_bytes()[8:16] != importlib.util.source_hash(source.read_bytes()):
        sys.exit(f"stale bytecode: {pyc}")
sys.path.insert(0, str(folder))
import handler
"""


@pytest.mark.parametrize("arch", ARCHES)
def test_bytecode_is_python312_unchecked_hash_for_every_module(
    packages: dict[str, tuple[Path, str]], arch: str
) -> None:
    with zipfile.ZipFile(packages[arch][0]) as archive:
        names = set(archive.namelist())
        sources = {n for n in names if n.endswith(".py")}
        pycs = {n for n in names if n.endswith(".pyc")}
        assert {pyc_source(n) for n in pycs} == sources
        for name in pycs:
            header = archive.read(name)[:16]
            assert header[:4] == MAGIC_312, name
            assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, name


def test_python312_imports_the_handler_from_the_shipped_bytecode(
    packages: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    """Every module of the package loads from its pyc, whose hash matches the shipped source."""
    python = find_python312()
    if python is None:
        pytest.skip("no Python 3.12 on this machine (Lambda's python3.12 runtime version)")
    folder = unpack(packages["x86_64"][0], tmp_path / "task")
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-v", "-c", CHECK_312, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = re.findall(r"^# code object from '?(.+?)'?$", result.stderr, re.MULTILINE)
    ours = [path for path in loaded if Path(path).is_relative_to(folder)]
    assert any(path.endswith("handler.cpython-312.pyc") for path in ours), ours
    assert any("/urllib3/__pycache__/" in path for path in ours), ours
    compiled_at_import = [path for path in ours if not path.endswith(".pyc")]
    assert compiled_at_import == []


# --------------------------------------------------------------------------------------------
# The unpacked zip, run
# --------------------------------------------------------------------------------------------

# argv: folder, output file, event JSON, then folders to append to sys.path (the "runtime").
RUN = """
import json, sys
folder, out, event = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, folder)
sys.path.extend(sys.argv[4:])
import handler
report = handler.handler(event, None)
files = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())}
import sysconfig
stdlib = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
with open(out, "w", encoding="utf-8") as f:
    json.dump({"report": report, "files": files, "stdlib": stdlib,
               "version": list(sys.version_info[:2])}, f)
"""


def run_unpacked(
    python: str, folder: Path, out: Path, env: dict[str, str], runtime: list[str] | None = None
) -> dict[str, Any]:
    result = subprocess.run(
        [python, "-I", "-S", "-c", RUN, str(folder), str(out), json.dumps(SCHEDULED)]
        + (runtime or []),
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"the unpacked handler failed:\n{result.stderr[-4000:]}"
    assert "Warning" not in result.stderr, result.stderr
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def expected_report(sample_report: benchtest.Report) -> dict[str, Any]:
    """The in-repo report as it comes back through JSON (what the unpacked run returns)."""
    report = sample_report.to_dict()
    assert report["total_balance"] == "5356.75"
    as_json: dict[str, Any] = json.loads(json.dumps(report))
    return as_json


def inside(file: str | None, folder: Path) -> bool:
    return file is not None and Path(file).resolve().is_relative_to(folder.resolve())


def loaded_outside(data: dict[str, Any], folder: Path, allowed: list[str]) -> list[str]:
    """Modules the run loaded from neither the unpacked folder, its stdlib nor ``allowed``."""
    roots = [Path(p).resolve() for p in [folder, *data["stdlib"], *allowed]]
    outside = []
    for name, file in data["files"].items():
        if file is None:
            continue
        path = Path(file).resolve()
        if not any(path.is_relative_to(root) for root in roots):
            outside.append(f"{name}: {file}")
    return outside


def test_unpacked_zip_serves_a_scheduled_event(
    packages: dict[str, tuple[Path, str]],
    expected_report: dict[str, Any],
    runtime_python: Path,
    tmp_path: Path,
) -> None:
    """This machine's package under Python 3.12, with only the unpacked folder and the stdlib:
    the bundled sample, served on loopback, and each compiled extension really loaded (the
    wheels are for Lambda's platform). The other architecture's package is checked by
    `test_package_contents`: its extensions cannot load here."""
    if NATIVE is None:
        pytest.skip(f"no Lambda architecture matches this machine ({os.uname().machine})")
    folder = unpack(packages[NATIVE][0], tmp_path / "task")
    started = time.monotonic()
    data = run_unpacked(str(runtime_python), folder, tmp_path / "out.json", clean_env())
    seconds = time.monotonic() - started
    print(f"\nunpacked {NATIVE} package, Python {data['version']}: {seconds:.2f} s")
    assert data["version"] == [3, 12]
    made = {key: data["report"][key] for key in ("generated_at", "pages_digest")}  # the run's
    assert data["report"] == {**expected_report, **made}
    files = data["files"]
    for name in OWN_MODULES:
        assert inside(files[name], folder), (name, files[name])
    assert loaded_outside(data, folder, []) == []
    native = {path.resolve() for path in folder.rglob("*.so")}
    loaded = {Path(f).resolve() for f in files.values() if f and f.endswith(".so")}
    assert native <= loaded, sorted(map(str, native - loaded))


# --------------------------------------------------------------------------------------------
# The zip's own SDK writing to S3 (moto), alone and with the runtime's boto3 behind it
# --------------------------------------------------------------------------------------------


def runtime_paths(python: Path) -> list[str]:
    """Where ``python`` (the runtime stand-in's interpreter) has its boto3."""
    code = (
        "import json, sysconfig as s; "
        "print(json.dumps([s.get_path('purelib'), s.get_path('platlib')]))"
    )
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return sorted(set(json.loads(done.stdout)))


@pytest.mark.parametrize("behind", ["alone", "runtime-boto3-behind"])
def test_unpacked_zip_writes_to_s3_with_its_own_sdk(
    packages: dict[str, tuple[Path, str]],
    expected_report: dict[str, Any],
    moto_endpoint: str,
    runtime_python: Path,
    tmp_path: Path,
    behind: str,
) -> None:
    """This machine's package on Python 3.12: its boto3, botocore and urllib3 write the report,
    with nothing but the stdlib behind it, or the runtime's boto3 (which it never loads)."""
    if NATIVE is None:
        pytest.skip(f"no Lambda architecture matches this machine ({os.uname().machine})")
    boto3 = pytest.importorskip("boto3")
    bucket = f"benchtest-build-{behind}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    folder = unpack(packages[NATIVE][0], tmp_path / "task")
    runtime = runtime_paths(runtime_python) if behind != "alone" else []
    env = clean_env(
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        REPORT_BUCKET=bucket,
        REPORT_PREFIX="reports",
    )
    data = run_unpacked(str(runtime_python), folder, tmp_path / "out.json", env, runtime)
    files = data["files"]
    for name in (*OWN_MODULES, *SDK_MODULES):
        assert inside(files[name], folder), (name, files[name])
    assert files["botocore.httpsession"], "boto3 never reached its HTTP layer"
    assert loaded_outside(data, folder, []) == []  # nothing from the runtime's site-packages

    report = data["report"]
    uris = report.pop("s3")
    changes = report.pop("changes")
    assert changes["status"] == "first_run"
    made = {key: report[key] for key in ("generated_at", "pages_digest")}  # the run's own
    assert report == {k: v for k, v in {**expected_report, **made}.items() if k != "changes"}
    run_folder = uris["json"].removeprefix(f"s3://{bucket}/").rpartition("/")[0]
    assert run_folder.startswith("reports/2026/11/25/run-")
    keys = {fmt: f"{run_folder}/balances.{fmt}" for fmt in ("json", "csv", "html")}
    keys["pages"] = f"{run_folder}/pages.zip"
    assert uris == {fmt: f"s3://{bucket}/{key}" for fmt, key in keys.items()}
    latest = [f"reports/latest/balances.{fmt}" for fmt in ("json", "csv", "html")]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="reports/")
    assert sorted(obj["Key"] for obj in listed.get("Contents", [])) == sorted(
        [*keys.values(), *latest]
    )
    body = s3.get_object(Bucket=bucket, Key=keys["json"])["Body"].read()
    assert json.loads(body) == {**expected_report, **made, "changes": changes}


# --------------------------------------------------------------------------------------------
# A named time zone from the zip's tzdata, with no system tz database
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tzdata", ["packaged", "removed"])
def test_a_named_time_zone_works_from_the_zip_without_a_system_tz_database(
    packages: dict[str, tuple[Path, str]],
    runtime_python: Path,
    serve: Any,
    tmp_path: Path,
    tzdata: str,
) -> None:
    """PYTHONTZPATH names an empty folder, so zoneinfo finds no system zone file and falls back
    to the tzdata package: the zip's. Without it (removed), the same run fails in one line."""
    if NATIVE is None:
        pytest.skip(f"no Lambda architecture matches this machine ({os.uname().machine})")
    folder = unpack(packages[NATIVE][0], tmp_path / "task")
    if tzdata == "removed":
        for path in [folder / "tzdata", *folder.glob("tzdata-*.dist-info")]:
            shutil.rmtree(path)
    stamps = ("2024-01-03T07:59:59Z", "2024-01-03T08:00:00Z")  # 23:59:59 and 00:00 in Vancouver
    server = serve(make_pages([record(date=when, amount="1.00") for when in stamps], 10))
    (tmp_path / "no-zones").mkdir()
    env = clean_env(
        PYTHONTZPATH=str(tmp_path / "no-zones"),
        BENCH_API_URL=server.url,
        BENCH_DATE_FORM="timestamp",
        BENCH_TIME_ZONE="America/Vancouver",
    )
    if tzdata == "removed":
        result = subprocess.run(
            [str(runtime_python), "-I", "-S", "-c", RUN, str(folder), "out", "{}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode != 0
        assert "America/Vancouver" in result.stderr
        assert "not a time zone in this machine's tz database" in result.stderr
        return
    data = run_unpacked(str(runtime_python), folder, tmp_path / "out.json", env)
    days = [(d["date"], d["change"]) for d in data["report"]["daily_balances"]]
    assert days == [("2024-01-02", "1.00"), ("2024-01-03", "1.00")]
    assert inside(data["files"]["tzdata"], folder), data["files"].get("tzdata")
