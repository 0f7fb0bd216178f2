"""Pages kept and replayed (docs/pages-file.md): the Bench ledger's reports byte for byte, the
digest that ties a report to its pages, a failed run's pages, and pages files as hostile input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchtest import Settings, duplicates, pagesfile
from benchtest.pagesfile import DESCRIPTION, Recorder
from tests.ledger_server import LedgerServer
from tests.support import ROOT, make_pages, record
from tests.test_sources import readme_sites, shapes  # noqa: F401 (a fixture)

FORMATS = ("json", "csv", "html", "txt")


def rewrite(path: Path, edit: Callable[[str, bytes], bytes | None]) -> None:
    """Rewrite the ZIP at ``path``, each member through ``edit`` (None drops it)."""
    with zipfile.ZipFile(path) as old:
        members = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in members:
            edited = edit(name, data)
            if edited is not None:
                new.writestr(name, edited)


def kept_and_replayed(cli: Any, url: str, tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    """A run keeping its pages, then its replay, each writing every format: their folders."""
    live, replayed = tmp_path / "live", tmp_path / "replayed"
    live.mkdir()
    replayed.mkdir()
    outputs = [arg for fmt in FORMATS for arg in ("-o", str(live / f"report.{fmt}"))]
    done = cli("--url", url, "--keep-pages", str(tmp_path / "pages.zip"), *outputs, *extra)
    assert (done.code, done.err) == (0, [])
    outputs = [arg for fmt in FORMATS for arg in ("-o", str(replayed / f"report.{fmt}"))]
    done = cli("--replay", str(tmp_path / "pages.zip"), *outputs)
    assert (done.code, done.err) == (0, [])
    return live, replayed


def test_the_bench_ledger_replayed_gives_every_report_byte_for_byte(
    bench_pages: dict[int, bytes], serve: Callable[..., LedgerServer], cli: Any, tmp_path: Path
) -> None:
    server = serve(bench_pages)
    live, replayed = kept_and_replayed(cli, server.url, tmp_path, "-q")
    for fmt in FORMATS:
        assert (replayed / f"report.{fmt}").read_bytes() == (live / f"report.{fmt}").read_bytes()
    report = json.loads((live / "report.json").read_text())
    assert (report["total_balance"], report["page_count"]) == ("18377.16", 4)
    assert re.fullmatch("sha256:[0-9a-f]{64}", report["pages_digest"])
    for fmt in ("csv", "html", "txt"):  # every report names it
        assert report["pages_digest"] in (live / f"report.{fmt}").read_text()
    requests = server.requests
    done = cli("--replay", "pages.zip", "--report", str(live / "report.json"), "--format", "json")
    assert done.code == 0
    assert done.out == (live / "report.json").read_text()
    assert server.requests == requests  # offline
    with zipfile.ZipFile(tmp_path / "pages.zip") as kept:
        assert sorted(kept.namelist()) == ["1", "2", "3", "4", "5", DESCRIPTION]  # 5: the 404
        head, _, body = kept.read("2").partition(b"\n")
        assert body == bench_pages[2]  # as served
        assert json.loads(head) == {"url": f"{server.url.format(page=2)}", "status": 200,
                                    "headers": {}}  # fmt: skip
        assert json.loads(kept.read("5")) == {
            "url": server.url.format(page=5),
            "status": 404,
            "headers": {},
        }


def test_an_edited_amount_changes_the_digest_and_the_report_refuses_it(
    bench_pages: dict[int, bytes], serve: Callable[..., LedgerServer], cli: Any, tmp_path: Path
) -> None:
    live, _ = kept_and_replayed(cli, serve(bench_pages).url, tmp_path, "-q")
    report = json.loads((live / "report.json").read_text())
    amount = json.loads(bench_pages[2])["transactions"][0]["Amount"]

    def edit(name: str, data: bytes) -> bytes:
        return data.replace(f'"{amount}"'.encode(), b'"1000.00"', 1) if name == "2" else data

    rewrite(tmp_path / "pages.zip", edit)
    done = cli("--replay", "pages.zip", "--format", "json")
    assert done.code == 0
    edited = json.loads(done.out)
    assert edited["pages_digest"] != report["pages_digest"]
    assert edited["total_balance"] != report["total_balance"]
    done = cli("--replay", "pages.zip", "--report", str(live / "report.json"), "-o", "x.json")
    assert (done.code, done.out, len(done.err)) == (1, "", 1)
    assert done.err[0].startswith(f"benchtest: error: the pages' digest {edited['pages_digest']}")
    assert report["pages_digest"] in done.err[0]
    assert not (tmp_path / "x.json").exists()


def test_every_readme_paging_style_replays_and_a_moved_link_changes_the_digest(
    shapes: Any,  # noqa: F811
    cli: Any,
    tmp_path: Path,
) -> None:
    (tmp_path / "shapes.conf").write_text(
        readme_sites().replace("https://api.example", shapes.origin)
    )
    for site in ("offset", "cursor", "next_url", "link"):
        folder = tmp_path / site
        folder.mkdir()
        config = ("--config", str(tmp_path / "shapes.conf"), "--site", site, "-q")
        done = cli(*config, "--keep-pages", str(folder / "pages.zip"), "--format", "json")
        assert done.code == 0, done.err
        again = cli("--replay", str(folder / "pages.zip"), "--format", "json")
        assert (again.code, again.out) == (0, done.out), site
    digest = json.loads(done.out)["pages_digest"]
    linked = [name for name, data in members(tmp_path / "link" / "pages.zip") if b"rel=" in data]
    assert linked  # the Link headers paging read are kept

    def edit(name: str, data: bytes) -> bytes:  # the same next page, named another way
        return data.replace(b'rel=\\"last\\"', b'rel=\\"last\\"; x=1') if name == "1" else data

    rewrite(tmp_path / "link" / "pages.zip", edit)
    again = cli("--replay", str(tmp_path / "link" / "pages.zip"), "--format", "json")
    assert again.code == 0
    assert json.loads(again.out)["pages_digest"] != digest
    assert again.out.replace(json.loads(again.out)["pages_digest"], digest) == done.out


def members(path: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as kept:
        return [(name, kept.read(name)) for name in kept.namelist()]


class Served:
    """A transport that answers from a dict: page -> (body, Link)."""

    origin = "http://x"

    def __init__(self, answers: dict[int, tuple[bytes | None, str | None]]) -> None:
        self.answers = answers

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]:
        return self.answers[page]


def digest_of(answers: dict[int, tuple[bytes | None, str | None]]) -> str:
    recorder = Recorder(Settings())
    recorder.inner = Served(answers)  # type: ignore[assignment]
    for page in answers:
        recorder.get(f"http://x/{page}", page)
    return recorder.digest(datetime(2026, 1, 1, tzinfo=UTC))


def test_bytes_moved_across_a_page_boundary_or_an_edited_header_change_the_digest() -> None:
    one = digest_of({1: (b"[1, 2", None), 2: (b"]", None), 3: (None, None)})
    assert one == digest_of({3: (None, None), 2: (b"]", None), 1: (b"[1, 2", None)})  # order
    assert one != digest_of({1: (b"[1, ", None), 2: (b"2]", None), 3: (None, None)})
    assert one != digest_of({1: (b"[1, 2", "<x>; rel=next"), 2: (b"]", None), 3: (None, None)})
    assert one != digest_of({1: (b"[1, 2", None), 2: (b"]", None), 3: (b"", None)})  # 200, not 404


def test_a_failed_run_keeps_the_pages_it_read_and_its_replay_fails_the_same_way(
    serve: Callable[..., LedgerServer], cli: Any, tmp_path: Path
) -> None:
    records = [record(amount=f"-{n}.00") for n in range(1, 7)]
    records[4]["Amount"] = "1e3"
    pages = make_pages(records, per_page=2)
    done = cli("--url", serve(pages).url, "--keep-pages", "pages.zip", "-q")
    assert done.code == 1
    [line] = done.err
    assert "page 3: transactions[0].Amount" in line
    with zipfile.ZipFile(tmp_path / "pages.zip") as kept:
        described = json.loads(kept.read(DESCRIPTION))
        assert {"1", "3"} <= set(kept.namelist())  # page 1, and the page that failed
    error = line.removeprefix("benchtest: error: ")
    assert described["error"] == error
    # Offline, the same error; or, when a page in flight was cut short, that page missing and
    # why the run that kept the file stopped.
    again = cli("--replay", "pages.zip")
    assert (again.code, again.out, len(again.err)) == (1, "", 1)
    assert again.err == [line] or re.fullmatch(
        rf"benchtest: error: page \d: not in the pages file \(the run that kept it failed: "
        rf"{re.escape(error)}\)",
        again.err[0],
    )


def test_a_replay_has_the_files_settings_never_the_environment_or_sites_conf(
    serve: Callable[..., LedgerServer], cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = make_pages([record(), record(date="2024-01-05", amount="3.00")], per_page=1)
    done = cli("--url", serve(pages).url, "--keep-pages", "pages.zip", "--active-days-only",
               "--assert-balance", "2024-01-02=-1.00", "--format", "json")  # fmt: skip
    assert done.code == 0
    monkeypatch.setenv("BENCH_DETAIL_LIMIT", "0")
    monkeypatch.setenv("BENCH_API_URL", "http://127.0.0.1:9/none/{page}")
    (tmp_path / "sites.conf").write_text("[default]\nexclude_duplicates = true\nmax_days = 1\n")
    again = cli("--replay", "pages.zip", "--format", "json")
    assert (again.code, again.out) == (0, done.out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--replay", "p.zip", "--url", "sample"), "--url with --replay"),
        (("--replay", "p.zip", "--config", "x.conf"), "--config with --replay"),
        (("--replay", "p.zip", "--keep-pages", "q.zip"), "--keep-pages with --replay"),
        (("--report", "r.json"), "--report needs --replay"),
        (("--keep-pages", "missing/p.zip"), "--keep-pages: missing/p.zip: no such folder"),
        (("--keep-pages", "p.json", "-o", "p.json"), "the same file given twice"),
    ],
)
def test_usage_errors_are_one_line_before_any_fetch(
    cli: Any, args: tuple[str, ...], message: str
) -> None:
    done = cli(*args)
    assert (done.code, done.out, len(done.err)) == (2, "", 1)
    assert message in done.err[0]


# --- hostile pages files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A good pages file: the bundled sample's."""
    path = tmp_path_factory.mktemp("kept") / "pages.zip"
    settings = Settings()
    with Recorder(settings, lambda file: path.write_bytes(file.read())) as recorder:
        pagesfile_run(settings, recorder)
    return path.read_bytes()


def pagesfile_run(settings: Settings, recorder: Recorder) -> None:
    import benchtest

    benchtest.run(settings, recorder=recorder)


def described(data: bytes, **changes: Any) -> bytes:
    description = json.loads(data)
    for key, value in changes.items():
        group, _, name = key.partition("__")
        if name:
            description[group][name] = value
        else:
            description[key] = value
    return json.dumps(description).encode()


def a_zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda n, d: d if n != DESCRIPTION else None, "not a pages file (no description.json)"),
        (lambda n, d: described(d, version=2) if n == DESCRIPTION else d, "of version '2'; "),
        (lambda n, d: described(d, format="x") if n == DESCRIPTION else d, ": not a pages file"),
        (lambda n, d: b"[]" if n == DESCRIPTION else d, "'pages.zip': not a pages file"),
        (
            lambda n, d: described(d, fetch__concurrency=0) if n == DESCRIPTION else d,
            "its description cannot be rebuilt: Expected `int` >= 1 - at `$.concurrency`",
        ),
        (
            lambda n, d: (
                described(d, source__date_form="timestamp", source__time_zone="Mars/Olympus")
                if n == DESCRIPTION
                else d
            ),
            "cannot be rebuilt: not a time zone in this machine's tz database",
        ),
        (
            lambda n, d: (
                described(d, report__assert_balance=[["2026-03-02", "NaN"]])
                if n == DESCRIPTION
                else d
            ),
            "cannot be rebuilt: assert_balance: not a finite amount",
        ),
        (
            lambda n, d: described(d, fetch__auth_token="x") if n == DESCRIPTION else d,
            "cannot be rebuilt: unknown fetch settings ['auth_token']",
        ),
        (lambda n, d: d if n != "2" else None, "page 2: not in the pages file"),
        (
            lambda n, d: d.replace(b'"status":200', b'"status":302') if n == "1" else d,
            "page 1: damaged in the pages file: Invalid enum value 302 - at `$.status`",
        ),
        (
            lambda n, d: d.replace(b"/1.json", b"/9.json") if n == "1" else d,
            "page 1: the pages file has 'http://127.0.0.1:",
        ),
        (lambda n, d: d + b"x" if n == "4" else d, "page 4: in the pages file, not as a run keeps"),
        (
            lambda n, d: (
                d.replace(b'"headers":{}', b'"headers":{"Link":"' + b"<" * 65537 + b'"}')
                if n == "1"
                else d
            ),
            "page 1: in the pages file, not as a run keeps it",
        ),
    ],
)
def test_a_bad_pages_file_is_one_line(
    kept: bytes, cli: Any, tmp_path: Path, edit: Any, message: str
) -> None:
    path = tmp_path / "pages.zip"
    path.write_bytes(kept)
    rewrite(path, edit)
    done = cli("--replay", "pages.zip")
    assert (done.out, len(done.err)) == ("", 1)
    assert done.code == (2 if "page " not in message else 1)
    assert message in done.err[0], done.err[0]


def test_an_entry_no_run_asked_for_is_refused(kept: bytes, cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "pages.zip"
    path.write_bytes(kept)
    with zipfile.ZipFile(path, "a") as more:
        more.writestr("9", b'{"url":"http://127.0.0.1:1/9","status":404,"headers":{}}\n')
    done = cli("--replay", "pages.zip")
    assert (done.code, done.err) == (1, ["benchtest: error: page 9: is in the pages file but "
                                         "this run never asked for it"])  # fmt: skip


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really", "not a pages file (not a ZIP file)"),
        (b"\x00" * 100, "not a pages file (not a ZIP file)"),
        ({"../1": b"x", DESCRIPTION: b"{}"}, "not a pages file (an entry named '../1')"),
        ({"01": b"x", DESCRIPTION: b"{}"}, "not a pages file (an entry named '01')"),
        ({"100002": b"x", DESCRIPTION: b"{}"}, "(an entry named '100002')"),
        ({DESCRIPTION: b"\xff" * 10}, "not a pages file (JSON is malformed"),
    ],
)
def test_a_file_that_is_not_a_pages_file_is_one_line(
    cli: Any, tmp_path: Path, content: bytes | dict[str, bytes], message: str
) -> None:
    path = tmp_path / "pages.zip"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        a_zip(path, content)
    done = cli("--replay", "pages.zip")
    assert (done.code, done.out, len(done.err)) == (2, "", 1)
    assert message in done.err[0], done.err[0]


# The peak is this process's VmHWM: ru_maxrss would count the forked test process's memory.
BOUNDED = """
import re, sys, time
from benchtest import cli
started = time.monotonic()
code = cli.main(["--replay", sys.argv[1], "-q"])
status = open("/proc/self/status").read()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024
print(code, round(time.monotonic() - started, 2), round(peak), file=sys.stderr)
"""


def replayed_in_a_process(path: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak RSS MB, the error line) of a replay of ``path``."""
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    *lines, figures = done.stderr.splitlines()
    code, seconds, peak = figures.split()
    assert len(lines) == 1, done.stderr
    return int(code), float(seconds), float(peak), lines[0]


def test_a_zip_bomb_stays_bounded(kept: bytes, tmp_path: Path) -> None:
    """A member whose 1 GiB of zeros compresses to 1 MB, declaring itself 2 KB (what a run
    keeps), and one declaring its real size: neither is decompressed past its bound."""
    with zipfile.ZipFile(__import__("io").BytesIO(kept)) as good:
        description = good.read(DESCRIPTION)
        page1 = good.read("1")
    for lie in (True, False):
        path = tmp_path / f"bomb-{lie}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
            bomb.writestr(DESCRIPTION, description)
            with bomb.open("1", "w", force_zip64=True) as member:
                member.write(page1.partition(b"\n")[0] + b"\n")
                zeros = bytes(1 << 20)
                for _ in range(1024):
                    member.write(zeros)
            if lie:
                bomb.filelist[-1].file_size = 2048
        code, seconds, peak, line = replayed_in_a_process(path)
        assert peak < 150, peak
        assert seconds < 10, seconds
        if lie:
            assert (code, line) == (1, line)
            assert "page 1: damaged in the pages file: Bad CRC-32 for file '1'" in line
        else:
            assert code == 2
            assert line.endswith("'1' is not as benchtest writes it")


def test_too_many_entries_are_refused_before_they_are_read(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    started = time.monotonic()
    with zipfile.ZipFile(path, "w") as many:
        for number in range(1, pagesfile.MAX_PAGES + 3):
            many.writestr(str(number), b"")
        many.writestr(DESCRIPTION, b"{}")
    made = time.monotonic() - started
    code, seconds, peak, line = replayed_in_a_process(path)
    assert code == 2
    assert line.endswith(": more entries than the 100,002 a pages file holds")
    assert seconds < min(made, 1.0), (seconds, made)
    assert peak < 80, peak


def test_a_report_without_a_digest_or_not_a_report_is_refused(
    kept: bytes, cli: Any, tmp_path: Path
) -> None:
    (tmp_path / "pages.zip").write_bytes(kept)
    done = cli("--replay", "pages.zip", "--format", "json")
    old = json.loads(done.out)
    del old["pages_digest"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "bad.json").write_text("[]")
    done = cli("--replay", "pages.zip", "--report", "old.json")
    assert (done.code, done.err) == (1, ["benchtest: error: old.json names no pages digest: it "
                                         "was made before pages were kept"])  # fmt: skip
    done = cli("--replay", "pages.zip", "--report", "bad.json")
    assert done.code == 2
    assert done.err == ["benchtest: error: --report: bad.json: not a JSON report (Expected "
                        "`object`, got `array`)"]  # fmt: skip


def test_the_docs_digest_recipe_gives_the_reports_digest(kept: bytes, tmp_path: Path) -> None:
    """docs/pages-file.md's Python, run on a pages file, prints the digest its report names."""
    text = (ROOT / "docs" / "pages-file.md").read_text(encoding="utf-8")
    recipe = text.partition("## The digest")[2].partition("```python\n")[2].partition("```")[0]
    (tmp_path / "pages.zip").write_bytes(kept)
    done = subprocess.run(
        [sys.executable, "-c", recipe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    replay = pagesfile.Replay(str(tmp_path / "pages.zip"))
    with Recorder(replay.settings, None, replay) as recorder:
        pagesfile_run(replay.settings, recorder)
        digest = recorder.digest(replay.generated_at)
    assert done.stdout.strip() == digest


def test_the_duplicate_check_reads_the_pages_file_not_a_spool_of_its_own(
    serve: Callable[..., LedgerServer], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept pages are the only copy of the bodies: the listing and the duplicates come from
    the pages file (and a replay's from the file it replays)."""
    pages = make_pages([record(), record(), record(amount="2.00")], per_page=2)
    written: list[int] = []
    real = duplicates.SpooledTemporaryFile

    class Counted(real):  # type: ignore[misc, valid-type]
        def write(self, data: bytes) -> int:
            written.append(len(data))
            return super().write(data)

    monkeypatch.setattr(duplicates, "SpooledTemporaryFile", Counted)
    done = cli("--url", serve(pages).url, "--keep-pages", "pages.zip", "--format", "json")
    assert done.code == 0
    report = json.loads(done.out)
    assert (report["duplicate_count"], report["transactions_listed"]) == (1, True)
    again = cli("--replay", "pages.zip", "--format", "json")
    assert (again.code, again.out) == (0, done.out)
    assert written == []
    cli("--url", serve(pages).url, "--format", "json")  # without: the spool, as before
    assert written


def test_a_named_zone_records_its_tz_database_and_a_replay_says_when_it_differs(
    serve: Callable[..., LedgerServer], cli: Any, tmp_path: Path
) -> None:
    pages = make_pages([record(date="2024-01-02T07:30:00Z"), record()], per_page=1)
    zoned = ("--date-form", "timestamp", "--time-zone", "America/Vancouver")
    done = cli("--url", serve(pages).url, *zoned, "--keep-pages", "pages.zip", "-q")
    assert done.code == 1  # the second record's date is not a timestamp: a failed run's pages
    with zipfile.ZipFile(tmp_path / "pages.zip") as kept:
        recorded = json.loads(kept.read(DESCRIPTION))["tz_database"]
    assert recorded == pagesfile.tz_database("America/Vancouver")
    assert re.fullmatch(r"\S+ \((/\S+|the tzdata package)\)", recorded)
    rewrite(tmp_path / "pages.zip", lambda n, d: d.replace(recorded.encode(), b"1999a (x)"))
    again = cli("--replay", "pages.zip")
    assert (
        again.err[0] == f"benchtest: the pages were read with tz 1999a (x); here it is {recorded}"
    )


@pytest.mark.parametrize("how", ["token", "url"])
def test_the_file_names_the_auth_header_never_its_value(
    serve: Callable[..., LedgerServer],
    cli: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    url = serve(make_pages([record(), record(amount="3.00")], per_page=1)).url
    if how == "token":
        monkeypatch.setenv("BENCH_AUTH_TOKEN", "s3cr3t-t0ken")
        args = ("--url", url, "--auth-header", "X-Api-Key")
    else:
        args = ("--url", url.replace("http://", "http://reader:s3cr3t-t0ken@"))
    done = cli(*args, "--keep-pages", "pages.zip", "--format", "json")
    assert done.code == 0, done.err
    data = (tmp_path / "pages.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "pages.zip") as kept:
        everything = b"".join(kept.read(name) for name in kept.namelist())
        described = json.loads(kept.read(DESCRIPTION))
    assert b"s3cr3t" not in data + everything
    assert described["request_headers"] == ["X-Api-Key" if how == "token" else "Authorization"]
    assert described["fetch"]["url"] == url
    again = cli("--replay", "pages.zip", "--format", "json")
    assert (again.code, again.out) == (0, done.out)
