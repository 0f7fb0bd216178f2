"""Cold start under Lambda's real runtime: the shipped zip's init against an empty handler's.

    python benchmarks/cold_start.py                  # build the x86_64 zip, 9 rounds
    python benchmarks/cold_start.py --zip dist/lambda.zip -n 15

Init is Lambda's init phase as this machine can show it: from spawning
`python3.12 -m awslambdaric handler.handler` to the runtime's first `GET /invocation/next` on
the loopback Runtime API stand-in (tests/runtime_api.py). The CPU time the process used by
then (10 ms ticks) is printed too: it depends less on what else the machine is running. Each
package is unpacked into a read-only folder, as /var/task is, so nothing compiled at init is
kept between rounds. The two run interleaved, so load on the machine hits both alike; the
ratio is the figure to compare across machines (the goal: shipped <= 150 ms here, and <= 3.5x
the empty handler).

Then the SDK: init imports no boto3 (a run imports it when it first needs S3 or SSM), so the
first invocation with a bucket pays for it. Timed in a fresh Python 3.12 per round: importing
boto3 and making the S3 client (`benchtest.storage.new_client`) from the read-only folder, with
the zip's own SDK, and with the runtime stand-in's boto3 (what the zip used before it carried one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from runtime_api import find_python312, launch, make_readonly, runtime_venv  # noqa: E402

EMPTY_HANDLER = "def handler(event, context):\n    return {}\n"


def build(arch: str, dist: Path) -> Path:
    subprocess.run(
        ["bash", str(ROOT / "build.sh")],
        env={**os.environ, "ARCH": arch, "DIST_DIR": str(dist)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dist / "lambda.zip"


def init_seconds(interpreter: Path, task: Path, log: Path) -> tuple[float, float]:
    """(wall, CPU) seconds from spawning the runtime to its first /next."""
    with launch(interpreter, task, log) as function:
        return function.init_seconds(), function.cpu_seconds()


# argv: folder, then folders to put before it. Prints the seconds import and client took.
SDK = """
import sys, time
sys.path[:0] = [*sys.argv[2:], sys.argv[1]]
started = time.perf_counter()
from benchtest import storage
storage.new_client()
print(time.perf_counter() - started)
"""


def sdk_seconds(interpreter: Path, task: Path, first: list[str]) -> float:
    """Import boto3 and make the S3 client from ``task``, with ``first`` before it on the path
    (the runtime's site-packages: then its boto3, not the zip's)."""
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run(
        [str(interpreter), "-I", "-S", "-B", "-c", SDK, str(task), *first],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zip", type=Path, help="a built lambda.zip (default: build x86_64)")
    parser.add_argument("-n", "--rounds", type=int, default=9, help="rounds (default 9)")
    args = parser.parse_args()

    python = find_python312()
    if python is None:
        print("cold_start: no Python 3.12 on this machine", file=sys.stderr)
        return 2
    interpreter = runtime_venv(python, ROOT / ".pytest_cache" / "d" / "runtime")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        work = Path(tmp)
        package = args.zip or build("x86_64", work / "dist")
        tasks = {"shipped": work / "shipped", "empty": work / "empty"}
        with zipfile.ZipFile(package) as archive:
            archive.extractall(tasks["shipped"])
        tasks["empty"].mkdir()
        (tasks["empty"] / "handler.py").write_text(EMPTY_HANDLER)
        for task in tasks.values():
            make_readonly(task)
        init_seconds(interpreter, tasks["empty"], work / "warm.log")  # warm the OS caches
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in tasks}
        for round_ in range(args.rounds):
            order = list(tasks) if round_ % 2 == 0 else list(reversed(tasks))
            for name in order:
                times[name].append(init_seconds(interpreter, tasks[name], work / f"{name}.log"))
        runtime = site_packages(interpreter)
        sdk: dict[str, list[float]] = {"zip's SDK": [], "runtime's SDK": []}
        for _ in range(args.rounds):
            sdk["zip's SDK"].append(sdk_seconds(interpreter, tasks["shipped"], []))
            sdk["runtime's SDK"].append(sdk_seconds(interpreter, tasks["shipped"], runtime))
        for task in tasks.values():  # make_readonly'd: let TemporaryDirectory remove them
            subprocess.run(["chmod", "-R", "u+w", str(task)], check=True)

    print(f"package: {package if args.zip else 'built by build.sh, ARCH=x86_64'}")
    print(f"runtime: {interpreter} -m awslambdaric, {args.rounds} rounds interleaved")
    for i, clock in enumerate(("wall", "CPU")):
        medians = {}
        for name, values in times.items():
            seconds = sorted(v[i] for v in values)
            medians[name] = statistics.median(seconds)
            spread = ", ".join(f"{v * 1000:.0f}" for v in seconds)
            print(f"init {clock:4} {name:8} median {medians[name] * 1000:6.1f} ms   ({spread})")
        print(f"init {clock:4} ratio shipped/empty: {medians['shipped'] / medians['empty']:.2f}x")
    for name, values in sdk.items():
        spread = ", ".join(f"{v * 1000:.0f}" for v in sorted(values))
        median = statistics.median(values) * 1000
        print(f"first S3 client, {name:13} median {median:6.1f} ms   ({spread})")
    return 0


def site_packages(interpreter: Path) -> list[str]:
    code = "import json, sysconfig as s; print(json.dumps([s.get_path('purelib')]))"
    done = subprocess.run(
        [str(interpreter), "-c", code], capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout))


if __name__ == "__main__":
    sys.exit(main())
