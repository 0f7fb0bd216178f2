"""Command line: ``benchtest [--url TEMPLATE|sample] [--format table|json|csv|html] …``.

stdout carries only the report; logs and progress go to stderr. Exit codes: 0 success,
1 fetch or data error, 2 usage or configuration error, 3 the report is complete (and printed)
but a balance assertion (``--assert-balance``) failed: one stderr line per failed assertion.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .config import CONFIG_ENV, SETTINGS, Setting, load_settings, show
from .errors import BenchError
from .model import BalanceCheck
from .money import for_people
from .pipeline import Progress, run
from .reconcile import (
    BalanceAssertions,
    PreviousReportError,
    compare,
    read_previous_file,
    unavailable,
)
from .renderers import FORMATS, render

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
    text = f"{setting.help} (default {show(setting.default)}{limits}) [{setting.env}]"
    if setting.type is bool:
        p.add_argument(setting.flag, action="store_true", default=None, help=text)
    elif setting.type is BalanceAssertions:  # repeatable; parsed with the other sources' values
        p.add_argument(setting.flag, action="append", metavar=setting.metavar, help=text)
    else:
        p.add_argument(setting.flag, type=setting.type, metavar=setting.metavar, help=text)


def _progress_bar() -> Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, expected: int | None) -> None:
        of = f"/{expected}" if expected else ""
        end = "\n" if expected is not None and done >= expected else ""
        sys.stderr.write(f"\rfetched {done}{of} pages{end}")
        sys.stderr.flush()

    return show


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.debug else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="benchtest: %(message)s", stream=sys.stderr)
    flags = {setting.name: getattr(args, setting.name) for setting in SETTINGS}
    try:
        settings = load_settings(overrides=flags, config_file=args.config, site=args.site)
        result = run(settings, progress=None if args.quiet else _progress_bar())
        report = result.report
        if args.compare is not None:
            try:
                report = compare(report, read_previous_file(args.compare))
            except PreviousReportError as exc:
                report = dataclasses.replace(report, changes=unavailable(str(exc)))
            if report.changes is not None and report.changes.status == "unavailable":
                log.warning("warning: --compare: %s", report.changes.note)
        text = render(report, args.format)
    except BenchError as exc:
        log.debug("the error, with its causes:", exc_info=exc)
        print(f"benchtest: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("benchtest: interrupted", file=sys.stderr)
        return 130
    sys.stdout.write(text)
    for check in report.failed_assertions:
        print(f"benchtest: {failed(check)}", file=sys.stderr)
    return ASSERTION_FAILED if report.failed_assertions else 0


def failed(check: BalanceCheck) -> str:
    """One line for a failed assertion, with the exact amounts."""
    return (
        f"balance assertion failed: {check.date.isoformat()}: expected "
        f"{for_people(check.expected)}, actual {for_people(check.actual)}, "
        f"difference {for_people(check.difference)}"
    )
