"""Command line: ``benchtest [--url TEMPLATE|sample] [--format table|json|csv|html] …``.

stdout carries only the report; logs and progress go to stderr. Exit codes: 0 success,
1 fetch or data error, or the report could not be written, 2 usage or configuration error,
3 the report is complete (and printed) but a balance assertion (``--assert-balance``) failed: one
stderr line per failed assertion, 141 stdout closed by its reader (``benchtest | head -1``), as
for a tool ended by SIGPIPE.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Sequence

from . import __version__
from .config import CONFIG_ENV, SETTINGS, BalanceAssertions, Setting, load_settings, show
from .errors import BenchtestError
from .model import BalanceCheck
from .money import for_people
from .observability import quiet_urllib3
from .pipeline import run
from .reconcile import (
    MAX_PREVIOUS_BYTES,
    changes_since,
)
from .renderers import FORMATS, render
from .storage import read_file
from .text import for_terminal

log = logging.getLogger("benchtest")
ASSERTION_FAILED = 3  # exit code: the report is complete, but it contradicts a known balance


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="benchtest",
        description="Fetch every page of a ledger API; report total and running daily balances.",
        epilog="Precedence: flags > environment > config file > defaults. "
        "With no URL anywhere, the bundled sample ledger is served on 127.0.0.1 and used.",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    for setting in SETTINGS:
        _add_flag(p, setting)
    p.add_argument(
        "--config",
        metavar="FILE",
        help=f"INI settings file (default: ./sites.conf if present) [{CONFIG_ENV}]",
    )
    p.add_argument("--site", help="section of the config file to use (default: [default])")
    p.add_argument(
        "--compare",
        metavar="PREVIOUS.json",
        help="a JSON report of an earlier run: report restated and new days since then",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or notices on stderr")
    p.add_argument(
        "--debug", action="store_true", help="log details; on error, the traceback and its causes"
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _add_flag(p: argparse.ArgumentParser, setting: Setting) -> None:
    """A flag for ``setting``; ``None`` when not given, so the environment and file still count."""
    limits = "" if setting.bounds is None else "; " + "-".join(map(show, setting.bounds))
    choices = "" if setting.choices is None else f": {', '.join(setting.choices)}"
    text = f"{setting.help}{choices} (default {show(setting.default)}{limits}) [{setting.env}]"
    if setting.type is bool:
        p.add_argument(setting.flag, action="store_true", default=None, help=text)
    elif setting.type is BalanceAssertions:  # repeatable; parsed with the other sources' values
        p.add_argument(setting.flag, action="append", metavar=setting.metavar, help=text)
    else:
        # Parsed as text by `load_settings`, like the environment: argparse's int() and float()
        # would accept '1_0', other scripts' digits and 'nan'.
        p.add_argument(setting.flag, metavar=setting.metavar, help=text)


class _ProgressLine:
    """``fetched 3/10 pages``, rewritten in place on a terminal's stderr."""

    def __init__(self) -> None:
        self.open = False  # written without its newline yet

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
    if sys.stdout is None:  # started with stdout closed (``>&-``): no fetch for nothing
        return _cannot_write(os.strerror(errno.EBADF))
    flags = {setting.name: getattr(args, setting.name) for setting in SETTINGS}
    progress = _ProgressLine() if not args.quiet and sys.stderr.isatty() else None
    try:
        settings = load_settings(overrides=flags, config_file=args.config, site=args.site)
        result = run(settings, progress=progress)
        report = result.report
        if args.compare is not None:
            path = args.compare
            report = changes_since(report, lambda: read_file(path, MAX_PREVIOUS_BYTES), "--compare")
        text = render(report, args.format)
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
    code = _write(text)
    if code:
        return code
    for check in report.failed_assertions:
        print(f"benchtest: {failed(check)}", file=sys.stderr)
    return ASSERTION_FAILED if report.failed_assertions else 0


def _write(text: str) -> int:
    """Write the report to stdout as POSIX tools do: quiet when the reader has gone, one line
    and exit 1 when the write fails (a full disk, a closed descriptor)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_PIPE_CLOSED
    except OSError as exc:
        _discard_stdout()
        return _cannot_write(exc.strerror or str(exc))
    return 0


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
