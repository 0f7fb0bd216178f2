"""Command line: ``benchtest [--url TEMPLATE|sample] [--format table|json|csv|html] …``."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Iterable, Sequence

from . import pagesfile
from ._version import __version__
from .errors import BenchtestError, ConfigError
from .files import check_target, read_file, write_files
from .model import UNAVAILABLE, BalanceCheck, Report
from .money import for_people
from .observability import quiet_urllib3
from .pipeline import deliver, run
from .reconcile import MAX_PREVIOUS_BYTES
from .renderers import FORMATS
from .settings import CONFIG_ENV, DECLARED, GROUPS, Declared, load_settings, show
from .text import for_terminal

log = logging.getLogger("benchtest")
# Exit codes of a complete, written report that a job should still look at.
ASSERTION_FAILED = 3  # it contradicts a known balance
CHANGES_FOUND = 4  # past data changed since the previous report (with --fail-on-changes)
NOT_COMPARED = 5  # --compare was asked for, but the previous report could not be used
EMPTY_LEDGER = 6  # no transactions, and --allow-empty was not given
# The format of an -o file, by its extension.
EXTENSIONS = {".txt": "table", ".json": "json", ".csv": "csv", ".html": "html", ".htm": "html"}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="benchtest",
        description="Fetch every page of a ledger API; report total and running daily balances.",
        epilog="Precedence: flags > environment > config file > defaults. "
        "With no URL anywhere, the bundled sample ledger is served on 127.0.0.1 and used.",
    )
    p.add_argument("--format", choices=FORMATS, help="stdout's format (default: table)")
    p.add_argument(
        "-o",
        "--output",
        action="append",
        metavar="FILE",
        help="write the report to FILE instead of stdout, atomically, in the format its "
        "extension names (.txt table, .json, .csv, .html); repeat for several formats of one run",
    )
    groups = {name: p.add_argument_group(f"{name} settings") for name in GROUPS}
    for setting in DECLARED:
        _add_flag(groups[setting.group], setting)
    p.add_argument(
        "--config",
        metavar="FILE",
        help=f"INI settings file (default: ./sites.conf if present) [{CONFIG_ENV}]",
    )
    p.add_argument("--site", help="section of the config file to use (default: [default])")
    p.add_argument(
        "--compare",
        metavar="PREVIOUS.json",
        help="a JSON report of an earlier run: report the transactions added, removed or "
        f"changed, restated and new days since then; exit {NOT_COMPARED} if it cannot be used",
    )
    p.add_argument(
        "--fail-on-changes",
        action="store_true",
        help=f"with --compare: exit {CHANGES_FOUND} when past data changed (a restated day, or a "
        "transaction added, removed or changed)",
    )
    p.add_argument(
        "--keep-pages",
        metavar="FILE",
        help="also write the pages read (each URL, status, Link header and body as served) to "
        "FILE, a ZIP, atomically, a failed run's too: docs/pages-file.md",
    )
    p.add_argument(
        "--replay",
        metavar="PAGES",
        help="recompute the report offline from a --keep-pages file, with its settings",
    )
    p.add_argument(
        "--report",
        metavar="REPORT.json",
        help="with --replay: refuse the pages unless their digest is the one this report names",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or notices on stderr")
    p.add_argument(
        "--debug", action="store_true", help="log details; on error, the traceback and its causes"
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _add_flag(p: argparse._ArgumentGroup, setting: Declared) -> None:
    """A flag for ``setting``; ``None`` when not given, so the environment and file still count."""
    limits = "" if setting.bounds is None else "; " + "-".join(map(show, setting.bounds))
    choices = "" if setting.choices is None else f": {', '.join(setting.choices)}"
    text = f"{setting.help}{choices} (default {show(setting.default)}{limits}) [{setting.env}]"
    if setting.kind is bool:
        p.add_argument(setting.flag, action="store_true", default=None, help=text)
    elif setting.kind is tuple:  # repeatable; parsed with the other sources' values
        p.add_argument(setting.flag, action="append", metavar=setting.metavar, help=text)
    else:
        # Parsed as text by `load_settings`, like the environment: argparse's int() and float()
        # would accept '1_0', other scripts' digits and 'nan'.
        p.add_argument(setting.flag, metavar=setting.metavar, help=text)


class _ProgressLine:
    """``fetched 3/10 pages``, rewritten in place on a terminal's stderr."""

    open = False  # written without its newline yet

    def __call__(self, done: int, expected: int | None) -> None:
        of = f"/{expected}" if expected else ""
        self.open = expected is None or done < expected
        sys.stderr.write(f"\rfetched {done}{of} pages{'' if self.open else chr(10)}")
        sys.stderr.flush()

    def end(self) -> None:
        """End the line, so what follows (an error, the report) starts on a line of its own."""
        if self.open:
            sys.stderr.write("\n")
            self.open = False


# A reader that stopped reading: the same exit status a shell shows for a SIGPIPE'd tool.
EXIT_PIPE_CLOSED = 128 + 13


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.debug else logging.ERROR if args.quiet else logging.WARNING
    # force: a second run in one process (the tests) logs to its own stderr, not the first's.
    logging.basicConfig(level=level, format="benchtest: %(message)s", stream=sys.stderr, force=True)
    quiet_urllib3(debug=args.debug)
    if sys.stdout is None and not args.output:  # stdout closed (``>&-``): no fetch for nothing
        return _cannot_write(os.strerror(errno.EBADF))
    flags = {setting.name: getattr(args, setting.name) for setting in DECLARED}
    progress = _ProgressLine() if not args.quiet and sys.stderr.isatty() else None
    try:
        sink = _sink(args)
        replay = None if args.replay is None else pagesfile.Replay(args.replay)
        if replay is None:
            settings = load_settings(overrides=flags, config_file=args.config, site=args.site)
        else:
            settings = replay.settings
        kept = args.keep_pages
        keep = None if kept is None else lambda pages: write_files([(kept, pages)])
        with pagesfile.Recorder(settings, keep, replay) as recorder:
            report = run(settings, progress=progress, recorder=recorder).report
        if args.report is not None:
            pagesfile.check_report(report.pages_digest, args.report)
        path = args.compare
        previous = None if path is None else lambda: read_file(path, MAX_PREVIOUS_BYTES)
        report = deliver(report, sink, settings, previous, "--compare")
    except BenchtestError as exc:
        log.debug("the error, with its causes:", exc_info=exc)
        if progress is not None:
            progress.end()
        print(f"benchtest: error: {for_terminal(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("benchtest: interrupted", file=sys.stderr)
        return 130
    finally:
        if progress is not None:
            progress.end()
    empty = report.empty and not settings.report.allow_empty
    return sink.code or _verdict(report, fail_on_changes=args.fail_on_changes, empty=empty)


class _Files:
    """``-o`` files: each the format its extension names, written atomically together."""

    code = 0

    def __init__(self, outputs: list[tuple[str, str]]) -> None:
        self.outputs = outputs
        self.formats: tuple[str, ...] = tuple(dict.fromkeys(fmt for _, fmt in outputs))

    def write(self, bodies: dict[str, Iterable[bytes]]) -> None:
        write_files([(path, bodies[fmt]) for path, fmt in self.outputs])


class _Stdout:
    """stdout in one format, written as POSIX tools do: quiet when the reader has gone (exit
    141), one line and exit 1 when the write fails (a full disk, a closed descriptor)."""

    code = 0

    def __init__(self, fmt: str) -> None:
        self.formats: tuple[str, ...] = (fmt,)

    def write(self, bodies: dict[str, Iterable[bytes]]) -> None:
        try:
            for piece in bodies[self.formats[0]]:
                sys.stdout.write(piece.decode())
            sys.stdout.flush()
        except BrokenPipeError:
            _discard_stdout()
            self.code = EXIT_PIPE_CLOSED
        except OSError as exc:
            _discard_stdout()
            self.code = _cannot_write(exc.strerror or str(exc))


def _sink(args: argparse.Namespace) -> _Files | _Stdout:
    """Where the report goes, checked before any fetch; usage errors say why."""
    if args.report is not None and args.replay is None:
        raise ConfigError("--report needs --replay PAGES")
    if args.replay is not None:
        given = [s.flag for s in DECLARED if getattr(args, s.name) is not None]
        given += ["--config"] * (args.config is not None) + ["--site"] * (args.site is not None)
        given += ["--keep-pages"] * (args.keep_pages is not None)
        if given:
            raise ConfigError(f"{given[0]} with --replay: a replay has the pages file's settings")
    outputs = _outputs(args)
    return _Files(outputs) if outputs else _Stdout(args.format or "table")


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(path, format) of each ``-o`` file, checked before any fetch; usage errors say why."""
    if args.fail_on_changes and args.compare is None:
        raise ConfigError("--fail-on-changes needs --compare PREVIOUS.json")
    paths: list[str] = args.output or []
    if paths and args.format is not None:
        raise ConfigError("--format is stdout's: with -o, each file's extension names its format")
    outputs = []
    for path in paths:
        fmt = EXTENSIONS.get(os.path.splitext(path)[1].lower())
        if fmt is None:
            known = ", ".join(EXTENSIONS)
            raise ConfigError(f"{path}: no format for this extension (use {known})", origin="-o")
        check_target(path)
        outputs.append((path, fmt))
    if args.keep_pages is not None:
        check_target(args.keep_pages, "--keep-pages")
        paths = [*paths, args.keep_pages]
    targets = [os.path.realpath(path) for path in paths]
    if len(set(targets)) < len(targets):
        raise ConfigError("the same file given twice", origin="-o")
    return outputs


def _verdict(report: Report, *, fail_on_changes: bool, empty: bool) -> int:
    """The exit code of a written report, with one stderr line for each thing that sets it."""
    changes = report.changes
    changed = fail_on_changes and changes is not None and changes.found
    for check in report.failed_assertions:
        print(f"benchtest: {failed(check)}", file=sys.stderr)
    if changed:
        assert changes is not None  # for mypy: changed says so
        counts = ", ".join(f"{n} {kind}" for kind, n in changes.counts().items() if n)
        print(
            "benchtest: changes since the previous report: "
            f"{len(changes.restated_days)} restated day(s)"
            + (f"; transactions: {counts}" if counts else ""),
            file=sys.stderr,
        )
    if empty:
        print(
            "benchtest: the ledger is empty (no transactions); if that is expected, say so with "
            "--allow-empty (BENCH_ALLOW_EMPTY, allow_empty in sites.conf)",
            file=sys.stderr,
        )
    if report.failed_assertions:
        return ASSERTION_FAILED
    if changed:
        return CHANGES_FOUND
    if changes is not None and changes.status == UNAVAILABLE:
        return NOT_COMPARED
    return EMPTY_LEDGER if empty else 0


def _discard_stdout() -> None:
    """Point fd 1 at /dev/null, so the interpreter's last flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _cannot_write(reason: str) -> int:
    print(f"benchtest: error: cannot write the report: {reason}", file=sys.stderr)
    return 1


def failed(check: BalanceCheck) -> str:
    """One line for a failed assertion, with the exact amounts."""
    return (
        f"balance assertion failed: {check.date.isoformat()}: expected "
        f"{for_people(check.expected)}, actual {for_people(check.actual)}, "
        f"difference {for_people(check.difference)}"
    )
