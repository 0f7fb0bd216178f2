"""The command line as a user runs it: stdout carries only the report, exit codes, no tracebacks."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal

import pytest

import benchtest
from benchtest import files, load_settings
from benchtest.cli import main
from benchtest.source import sample_pages
from tests.support import ROOT, made_at, make_pages, on_terminal, record

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
    assert rows[0][:7] == [
        "date",
        "change",
        "balance",
        "count",
        "asserted_balance",
        "previous_balance",
        "transactions_changed",
    ]
    assert rows[0][7:] == ["generated_at", "generated_by", "pages_digest"]
    assert len(rows) == 1 + 9  # 2026-03-07 had no activity
    assert rows[-1][:7] == ["2026-03-11", "-82.40", "5402.50", "2", "", "", ""]  # +31.50 +14.25
    assert {tuple(row[7:]) for row in rows[1:]} == {
        (rows[1][7], f"benchtest {benchtest.__version__}", rows[1][9])
    }
    assert re.fullmatch("sha256:[0-9a-f]{64}", rows[1][9])


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


# --- -o/--output: files for a daily job ---------------------------------------------------------


@pytest.fixture
def in_folder(tmp_path, monkeypatch, capsys):
    """Run the CLI in-process in ``tmp_path``, away from sites.conf and BENCH_* variables;
    returns ``run(*args) -> (exit code, stdout, stderr)``."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("BENCH_")]:
        monkeypatch.delenv(name)

    def run(*args):
        code = main(["-q", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_several_formats_from_one_fetch_each_file_its_extensions(serve, tmp_path, in_folder):
    server = serve(sample_pages())
    names = ["r.json", "r.html", "r.csv", "r.txt", "R.HTM"]
    code, out, err = in_folder("--url", server.url, *(f"-o{name}" for name in names))
    assert (code, out, err) == (0, "", "")
    files = server.requests
    assert in_folder("--url", server.url)[0] == 0  # one run to stdout, for comparison
    assert files == server.requests - files  # five files, the requests of one run
    doc = json.loads((tmp_path / "r.json").read_text())
    report = made_at(
        benchtest.run(load_settings(overrides={"url": server.url}, env={})).report, doc
    )
    for name, fmt in zip(names, ["json", "html", "csv", "table", "html"], strict=True):
        assert (tmp_path / name).read_text() == benchtest.render(report, fmt), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temporary file left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-o", "r.pdf"],
            "-o: r.pdf: no format for this extension (use .txt, .json, .csv, .html, .htm)",
        ),
        (["-o", "report"], "-o: report: no format for this extension"),
        (
            ["--format", "json", "-o", "r.json"],
            "--format is stdout's: with -o, each file's extension",
        ),
        (["-o", "r.json", "-o", "./r.json"], "-o: the same file given twice"),
        (["-o", "missing/r.json"], "--output: missing/r.json: no such folder"),
        (["-o", "folder.json"], "--output: folder.json: not a regular file"),
        (["-o", "fifo.json"], "--output: fifo.json: not a regular file"),
    ],
)
def test_an_output_that_cannot_be_written_is_a_usage_error_before_any_fetch(
    serve, tmp_path, in_folder, args, message
):
    (tmp_path / "folder.json").mkdir()
    os.mkfifo(tmp_path / "fifo.json")
    server = serve(sample_pages())
    code, out, err = in_folder("--url", server.url, *args)
    assert (code, out, server.requests) == (2, "", 0)
    assert err.startswith(f"benchtest: error: {message}")


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failed_write_leaves_every_file_as_it_was_and_no_temporary_file(
    tmp_path, in_folder, monkeypatch, failure
):
    for name in ("r.json", "r.html"):
        (tmp_path / name).write_text("yesterday's")
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the second file: the first is written and flushed by then
            raise failure
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    code, out, err = in_folder("-o", "r.json", "-o", "r.html")
    if isinstance(failure, OSError):
        assert (code, err) == (
            1,
            "benchtest: error: r.html: cannot write: No space left on device\n",
        )
    else:
        assert (code, err) == (130, "benchtest: interrupted\n")
    assert out == ""
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "r.json": "yesterday's",
        "r.html": "yesterday's",
    }


def test_a_new_file_gets_the_umask_a_replaced_one_keeps_its_mode_a_link_is_followed(
    tmp_path, in_folder
):
    (tmp_path / "kept.json").write_text("old")
    os.chmod(tmp_path / "kept.json", 0o600)
    (tmp_path / "real.html").write_text("old")
    os.symlink("real.html", tmp_path / "link.html")
    old = os.umask(0o027)
    try:
        assert in_folder("-o", "new.json", "-o", "kept.json", "-o", "link.html")[0] == 0
    finally:
        os.umask(old)
    assert oct((tmp_path / "new.json").stat().st_mode & 0o777) == oct(0o640)
    assert oct((tmp_path / "kept.json").stat().st_mode & 0o777) == oct(0o600)
    assert (tmp_path / "link.html").is_symlink()
    assert (tmp_path / "real.html").read_text().startswith("<!DOCTYPE html>")


def test_a_daily_job_compares_with_and_replaces_its_own_report(tmp_path, in_folder):
    job = ("--compare", "balances.json", "--fail-on-changes", "-o", "balances.json")
    first = in_folder(*job, "-o", "balances.html")
    assert first[0] == 0  # nothing to compare with yet: a first run, said in the report
    assert json.loads((tmp_path / "balances.json").read_text())["changes"]["status"] == (
        "first_run"
    )
    assert in_folder(*job, "-o", "balances.html")[0] == 0  # the same ledger: nothing changed
    doc = json.loads((tmp_path / "balances.json").read_text())
    assert doc["changes"]["note"].startswith("compared with balances.json: 0 restated day(s)")


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "html"])
def test_compare_with_a_file_not_there_yet_is_a_first_run_said_in_every_format(
    tmp_path, in_folder, capsys, fmt
):
    """A cron job's first run: exit 0, the note in the report (a CSV has no place for it) and
    on stderr, whatever the format."""
    code = main(["--url", "sample", "--compare", str(tmp_path / "balances.json"), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 0
    assert "benchtest: note: --compare: first run: nothing to compare" in err.splitlines()
    assert ("first run: nothing to compare" in out) == (fmt != "csv")
    assert not (tmp_path / "balances.json").exists()


@pytest.mark.parametrize(
    ("previous", "why"),
    [
        ("no-such-folder/balances.json", "cannot read: no such file or folder"),
        ("folder.json", "cannot read: not a regular file"),
        ("broken.json", "not a JSON report"),
        ("dangling.json", "cannot read: no such file or folder"),
    ],
)
def test_compare_with_a_missing_folder_or_an_unusable_file_exits_5(
    tmp_path, in_folder, capsys, previous, why
):
    """A mistyped path must not pass for a first run; nor may a broken file."""
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "broken.json").write_text('{"total_balance": ')
    os.symlink("gone.json", tmp_path / "dangling.json")
    code = main(["--url", "sample", "--compare", previous])
    out, err = capsys.readouterr()
    assert code == 5
    assert f"not compared: {previous}: " in out
    [warning] = [line for line in err.splitlines() if "warning" in line]
    assert warning.startswith(f"benchtest: warning: --compare: not compared: {previous}: ")
    assert why in warning
