"""Mutation testing of the money core (docs/mutation.md): a fresh mutmut run, then its score.

    python scripts/mutation.py [--children N] [--report-only]

mutmut's settings (the four modules, the tests each mutant runs, the timeout) are in
pyproject.toml's [tool.mutmut]; its progress goes to mutants.log. Prints the score and each
mutant not killed, as a row of docs/mutation.md's table, with why when that table names it
equivalent; exits 1 when one is not named there or the score is below GOAL.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "mutation.md"
GOAL = 97.0  # percent of all mutants killed (issue 27)
KILLED = {"killed", "timeout"}  # a mutant that hangs the tests is caught too


def mutmut(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mutmut", *args]
    return subprocess.run(command, cwd=ROOT, text=True, check=True, **options)  # noqa: S603


def where(name: str) -> str:
    """``benchtest.aggregate.xǁAggregatorǁreport__mutmut_3`` -> ``aggregate.Aggregator.report``."""
    module, _, function = name.removeprefix("benchtest.").partition(".")
    function = re.sub(r"__mutmut_\d+$", "", function)
    function = function[2:] if function.startswith("x_") else function[1:]  # x_f, xǁClassǁf
    return f"{module}.{function.strip('ǁ').replace('ǁ', '.')}"


def cell(lines: list[str]) -> str:
    code = " / ".join(re.split(r"  # ", line.strip())[0] for line in lines) or "(removed)"
    return "`" + code.replace("|", "\\|") + "`"


def row(name: str) -> str:
    """The mutant as a table row: | function | written | mutated |."""
    diff = mutmut("show", name, capture_output=True).stdout.splitlines()
    written = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    mutated = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    return f"| {where(name)} | {cell(written)} | {cell(mutated)} |"


def named_equivalent() -> dict[str, str]:
    """docs/mutation.md's equivalent mutants: their row's first three cells -> why."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[1].startswith("`"):
            rows["| " + " | ".join(cells[:3]) + " |"] = cells[3]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=1, help="mutants at once (default 1)")
    parser.add_argument("--report-only", action="store_true", help="score the last run again")
    args = parser.parse_args()
    started = time.monotonic()
    if not args.report_only:
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)  # a fresh copy of code and tests
        with (ROOT / "mutants.log").open("w") as log:
            mutmut("run", "--max-children", str(args.children), stdout=log, stderr=log)
    results = mutmut("results", "--all", "true", capture_output=True).stdout
    status = dict(line.strip().rsplit(": ", 1) for line in results.splitlines() if ": " in line)
    unchecked = sum(s == "not checked" for s in status.values())
    if unchecked:
        print(f"the run is not complete: {unchecked} of {len(status)} mutants not checked yet")
        return 1
    missed = sorted(name for name, s in status.items() if s not in KILLED)
    score = 100 * (len(status) - len(missed)) / len(status)
    minutes = (time.monotonic() - started) / 60
    print(
        f"money core: {len(status)} mutants, {len(status) - len(missed)} killed, "
        f"{len(missed)} not: {score:.1f}% ({minutes:.0f} min)"
    )
    equivalent, unexplained = named_equivalent(), 0
    for name in missed:
        text = row(name)
        why = equivalent.get(text)
        unexplained += why is None
        print(f"{status[name]:>9} {text} {why or 'NOT NAMED EQUIVALENT in docs/mutation.md'}")
    print(f"{len(missed) - unexplained} named equivalent, {unexplained} not (goal: {GOAL}%)")
    return 0 if unexplained == 0 and score >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
