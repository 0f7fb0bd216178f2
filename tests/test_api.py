"""The public API is what `benchtest.__all__` says, and nothing in it disappears by accident."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import benchtest

PUBLIC = [
    "FORMATS",
    "BenchtestError",
    "ConfigError",
    "DataError",
    "DeadlineError",
    "FetchError",
    "HTTPStatusError",
    "NetworkError",
    "Report",
    "RunResult",
    "RunStats",
    "Settings",
    "StorageError",
    "__version__",
    "load_settings",
    "render",
    "run",
]


def test_public_api_is_pinned() -> None:
    assert sorted(benchtest.__all__) == sorted(PUBLIC)
    for name in benchtest.__all__:
        assert hasattr(benchtest, name), name


def test_test_tooling_is_not_public() -> None:
    assert not {"LedgerServer", "serve_ledger"} & set(dir(benchtest))


# Every module but the `python -m benchtest` entry point, which runs the CLI when imported.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(benchtest.__path__, "benchtest.")
    if info.name != "benchtest.__main__"
)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_on_its_own(module: str) -> None:
    """A fresh interpreter per module: an import cycle would fail here, whatever the order;
    and an import writes nothing (no print, no warning: the Lambda logs every byte of init)."""
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
