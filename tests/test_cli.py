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
from benchtest.source import sample_pages, serving
from tests.hostile_server import RawServer
from tests.ledger_server import RouteServer
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
    assert rows[0][7:] == [
        "currency",
        "records_left_out",
        "generated_at",
        "generated_by",
        "pages_digest",
    ]
    assert len(rows) == 1 + 9  # 2026-03-07 had no activity
    assert rows[-1][:7] == ["2026-03-11", "-82.40", "5402.50", "2", "", "", ""]  # +31.50 +14.25
    assert {tuple(row[7:]) for row in rows[1:]} == {
        ("", "", rows[1][9], f"benchtest {benchtest.__version__}", rows[1][11])
    }
    assert re.fullmatch("sha256:[0-9a-f]{64}", rows[1][11])


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


# --- an empty ledger, extra headers, GET only (issue 24) ----------------------------------

EMPTY_LINE = (
    "benchtest: the ledger is empty (no transactions); if that is expected, say so with "
    "--allow-empty (BENCH_ALLOW_EMPTY, allow_empty in sites.conf)"
)


def test_an_empty_ledger_is_written_but_exits_6_with_one_line_unless_expected(serve, tmp_path):
    server = serve(make_pages([], per_page=10))
    done = cli("--url", server.url, "-o", "r.json", cwd=tmp_path)
    assert (done.returncode, done.stderr.splitlines()) == (6, [EMPTY_LINE])
    assert json.loads((tmp_path / "r.json").read_text())["transaction_count"] == 0
    (tmp_path / "sites.conf").write_text("[quiet]\nallow_empty = true\n")
    for args, env in [
        (["--allow-empty"], None),
        ([], {"BENCH_ALLOW_EMPTY": "true"}),
        (["--site", "quiet"], None),
    ]:
        done = cli("--url", server.url, *args, env=env, cwd=tmp_path)
        assert (done.returncode, done.stderr) == (0, ""), args
        assert "Total balance" in done.stdout
    # The lowest status wins: a failed assertion (3) over the empty ledger (6), a line each.
    done = cli("--url", server.url, "--assert-balance", "2024-01-02=1.00", cwd=tmp_path)
    assert done.returncode == 3
    assert done.stderr.splitlines()[1:] == [EMPTY_LINE]


def test_extra_headers_go_on_every_request(tmp_path):
    pages = make_pages([record(amount="-1.00"), record(amount="2.50")], per_page=1)
    routes = {f"/t/{n}.json": (body, {}) for n, body in pages.items()}
    required = {"xero-tenant-id": "0a1b-2c3d", "Stripe-Version": "2024-06-20"}
    with serving(RouteServer(routes, require=required)) as server:
        url = server.origin + "/t/{page}.json"
        given = ["--headers", "xero-tenant-id=0a1b-2c3d", "--headers", "Stripe-Version=2024-06-20"]
        done = cli("--url", url, "--format", "json", *given, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["total_balance"] == "1.50"
        assert len(server.asked) == 3  # pages 1 and 2, and the 404 after the last
        env = {"BENCH_HEADERS": "xero-tenant-id=0a1b-2c3d\nStripe-Version=2024-06-20"}
        assert cli("--url", url, env=env, cwd=tmp_path).returncode == 0
        missing = cli("--url", url, given[0], given[1], cwd=tmp_path)
        assert missing.stderr == "benchtest: error: page 1: HTTP 400\n"


@pytest.mark.parametrize(
    ("given", "env", "reason"),
    [
        ("X-Tenant", {}, "expected NAME=VALUE, NAME an HTTP header name, got 'X-Tenant'"),
        ("X Tenant=s3cr3t", {}, "expected NAME=VALUE, NAME an HTTP header name, got 'X Tenant'"),
        ("X-T=s3cr3t\rX-Evil: 1", {}, "'X-T': the value must be visible ASCII, not empty"),
        ("X-T=s3cr3t\x1b[2J", {}, "'X-T': the value must be visible ASCII, not empty"),
        ("X-T=", {}, "'X-T': the value must be visible ASCII, not empty"),
        ("X-T=s3cr3t,x-t=s3cr3t", {}, "'x-t': given twice"),
        ("user-agent=s3cr3t", {}, "'user-agent': benchtest sets it, or it carries credentials"),
        ("Authorization=s3cr3t", {}, "'Authorization': benchtest sets it, or it carries"),
        (
            "x-api-key=s3cr3t",
            {"BENCH_AUTH_HEADER": "X-Api-Key"},
            "X-Api-Key is the auth header (auth_header): its value comes from BENCH_AUTH_TOKEN",
        ),
        (",".join(f"X-{i}=s3cr3t" for i in range(33)), {}, "at most 32 headers, got 33"),
    ],
)
def test_bad_headers_are_refused_in_one_line_without_their_values(given, env, reason, tmp_path):
    done = cli("--url", "https://ledger.example/{page}", env={"BENCH_HEADERS": given, **env})
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"benchtest: error: BENCH_HEADERS: headers: {reason}")
    assert "s3cr3t" not in line


GET_ONLY = (
    "the API does not allow GET here; benchtest pages with GET only (POST-body paging, as Plaid's "
    "/transactions/get uses, is not supported: docs/sources.md#post-body-paging)"
)


@pytest.mark.parametrize("status", ["405", "501"])
def test_get_not_allowed_is_one_line_naming_post_body_paging(status, serve, tmp_path):
    server = serve(make_pages([record()], per_page=1), faults={1: [status]})
    done = cli("--url", server.url, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"benchtest: error: page 1: HTTP {status}: {GET_ONLY}\n"
    assert server.requests == 1  # not retried
    assert "\n## POST-body paging\n" in (ROOT / "docs" / "sources.md").read_text()  # the anchor


@pytest.mark.parametrize(
    ("allow", "message"),
    [("POST, OPTIONS", f"HTTP 400: {GET_ONLY}"), ("POST,GET", "HTTP 400"), ("", "HTTP 400")],
)
def test_an_allow_header_without_get_reads_as_get_not_allowed(allow, message, tmp_path):
    def answer(conn, server):
        allowed = f"Allow: {allow}\r\n" if allow else ""
        conn.sendall(f"HTTP/1.1 400 Bad Request\r\n{allowed}Content-Length: 0\r\n\r\n".encode())

    with RawServer(make_pages([record()], per_page=1), 1, answer) as server:
        done = cli("--url", server.url, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, f"benchtest: error: page 1: {message}\n")
