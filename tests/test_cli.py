"""The command line as a user runs it: stdout carries only the report, exit codes, no tracebacks."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal

import pytest

import benchtest
from benchtest.cli import main
from benchtest.source import sample_pages
from tests.support import ROOT, make_pages, on_terminal, record

# The bundled sample's figures, worked out by hand from scripts/make_sample.py.
SAMPLE_DAYS = [
    ("2026-03-02", "927.15", "927.15", 4),
    ("2026-03-03", "-475.60", "451.55", 3),
    ("2026-03-04", "-445.19", "6.36", 2),
    ("2026-03-05", "2492.05", "2498.41", 2),
    ("2026-03-06", "-1317.60", "1180.81", 2),
    ("2026-03-07", "0.00", "1180.81", 0),
    ("2026-03-08", "-13.99", "1166.82", 1),
    ("2026-03-09", "-199.17", "967.65", 2),
    ("2026-03-10", "4471.50", "5439.15", 3),
    ("2026-03-11", "-82.40", "5356.75", 2),
]


def cli(*args, env=None, cwd=None):
    """Run ``benchtest ARGS`` in this process as a shell would: no BENCH_* variables but
    ``env``, in ``cwd``; the exit code, stdout and stderr. (A process of its own adds nothing
    here; the tests of signals, pipes, terminals and the console script start one.)"""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("BENCH_")]:
            patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:  # argparse: usage errors, --help, --version
                code = exit_.code if isinstance(exit_.code, int) else 2
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_sample_pages_add_up_to_the_expected_total():
    amounts = [
        Decimal(t["Amount"])
        for body in sample_pages().values()
        for t in json.loads(body)["transactions"]
    ]
    assert (len(amounts), sum(amounts)) == (21, Decimal("5356.75"))


def test_default_run_serves_the_bundled_sample_and_prints_a_table(tmp_path):
    done = cli(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "bundled sample ledger" in done.stderr
    out = done.stdout
    assert "Source:        sample (bundled ledger, served on 127.0.0.1)" in out
    assert "Pages:         3" in out
    assert "Transactions:  21" in out
    assert "2026-03-02 to 2026-03-11 (10 days, days without activity included)" in out
    assert "Total balance: 5,356.75" in out
    assert "2026-03-07       0.00  1,180.81             0" in out
    assert "2 possible duplicate group(s), 2 extra transaction(s) totalling -45.75" in out


def test_json_format_is_the_report_with_money_as_strings(tmp_path):
    done = cli("--url", "sample", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["total_balance"] == "5356.75"
    assert (report["transaction_count"], report["page_count"]) == (21, 3)
    days = [(d["date"], d["change"], d["balance"], d["count"]) for d in report["daily_balances"]]
    assert days == SAMPLE_DAYS
    assert {d["vendor"] for d in report["duplicates"]} == {"LONDON DRUGS", "KINGS TAXI"}
    assert {c["name"] for c in report["categories"]} >= {"Uncategorized", "Hardware"}
    assert report["source"].startswith("sample")

    def no_floats(value):
        assert not isinstance(value, float)
        for child in (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        ):
            no_floats(child)

    no_floats(report)


def test_csv_format_lists_daily_balances(tmp_path):
    done = cli("--format", "csv", "--active-days-only", "--exclude-duplicates", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["date", "change", "balance", "count", "asserted_balance", "previous_balance"]
    assert len(rows) == 1 + 9  # 2026-03-07 had no activity
    assert rows[-1] == ["2026-03-11", "-82.40", "5402.50", "2", "", ""]  # 5356.75 + 31.50 + 14.25


def test_environment_configures_the_run(serve, tmp_path):
    server = serve(make_pages([record(amount="-2.50")] * 3, per_page=2))
    done = cli("--format", "json", "-q", env={"BENCH_API_URL": server.url}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_balance"] == "-7.50"
    assert done.stderr == ""


def test_a_data_error_is_one_line_on_stderr_exit_1_and_nothing_on_stdout(serve, tmp_path):
    server = serve(make_pages([record(), record(amount="NaN")], per_page=1))
    done = cli("--url", server.url, "--format", "json", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "benchtest: error: page 2: transactions[0].Amount: not a plain decimal amount: 'NaN'\n"
    )


def test_a_fetch_error_exits_1_without_traceback(serve, tmp_path):
    server = serve({})
    done = cli("--url", server.url, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "benchtest: error: page 1: HTTP 404: no ledger at this URL"


def test_detail_limit_flag_caps_the_transactions_listed(tmp_path):
    listed = cli("--format", "json", "--detail-limit", "21", cwd=tmp_path)
    capped = cli("--format", "json", "--detail-limit", "20", cwd=tmp_path)
    assert (listed.returncode, capped.returncode) == (0, 0), capped.stderr
    assert json.loads(listed.stdout)["transactions_listed"] is True
    assert json.loads(capped.stdout)["transactions_listed"] is False


def test_debug_adds_the_traceback_with_its_cause_to_the_one_line_error(serve, tmp_path):
    server = serve({1: b'{"page": 1, "transactions": [}'})
    line = "benchtest: error: page 1: invalid or truncated JSON: JSON is malformed: invalid"
    plain = cli("--url", server.url, cwd=tmp_path)
    debug = cli("--url", server.url, "--debug", cwd=tmp_path)
    assert (plain.returncode, debug.returncode) == (1, 1)
    assert plain.stderr.startswith(line)
    assert plain.stderr.count("\n") == 1
    assert "Traceback" in debug.stderr
    assert "msgspec.DecodeError" in debug.stderr
    assert "The above exception was the direct cause" in debug.stderr
    assert debug.stderr.splitlines()[-1] == plain.stderr.strip()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--url", "https://a.example/no-page-here"], {}, "url: must contain '{page}'"),
        (["--concurrency", "0"], {}, "concurrency: must be between 1 and 64"),
        ([], {"BENCH_TIMEOUT": "soon"}, "BENCH_TIMEOUT: timeout:"),
        (["--config", "/nonexistent/sites.conf"], {}, "config file not found"),
        (["--format", "pdf"], {}, "invalid choice: 'pdf'"),
    ],
)
def test_usage_and_configuration_errors_exit_2(args, env, message, tmp_path):
    done = cli(*args, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_progress_is_shown_on_a_terminal_only(tmp_path):
    done, shown = on_terminal(["--format", "json"], tmp_path)
    assert done.returncode == 0
    assert "fetched 3/3 pages" in shown
    assert json.loads(done.stdout)["total_balance"] == "5356.75"  # stdout untouched


def test_the_console_script_is_installed():
    script = shutil.which("benchtest", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("package not installed (pip install -e .)")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == f"benchtest {benchtest.__version__}"
