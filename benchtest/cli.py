"""Command line: ``benchtest [--url TEMPLATE|sample] [--format table|json|csv|html] …``.

stdout carries only the report; logs and progress go to stderr. Exit codes: 0 success,
1 fetch or data error, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .config import ENV_NAMES, load_settings
from .errors import BenchError
from .pipeline import Progress, run
from .render import FORMATS, render

log = logging.getLogger("benchtest")


def _parser() -> argparse.ArgumentParser:
    env = ENV_NAMES
    p = argparse.ArgumentParser(
        prog="benchtest",
        description="Fetch every page of a ledger API; report total and running daily balances.",
        epilog="Precedence: flags > environment > config file > defaults. "
        "With no URL anywhere, the bundled sample ledger is served on 127.0.0.1 and used.",
    )
    p.add_argument(
        "--url",
        help=f"page URL template with {{page}}, a base ending in '/', or 'sample' [{env['url']}]",
    )
    p.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    p.add_argument(
        "--concurrency", type=int, help=f"pages fetched at once (default 8) [{env['concurrency']}]"
    )
    p.add_argument(
        "--timeout", type=float, help=f"seconds per request (default 10) [{env['timeout']}]"
    )
    p.add_argument("--retries", type=int, help=f"retries per page (default 4) [{env['retries']}]")
    p.add_argument(
        "--deadline",
        type=float,
        help=f"seconds for the whole run (default 300) [{env['deadline']}]",
    )
    p.add_argument(
        "--max-pages",
        type=int,
        help=f"refuse ledgers longer than this (default 10000) [{env['max_pages']}]",
    )
    p.add_argument(
        "--active-days-only",
        action="store_true",
        default=None,
        help=f"list only days with transactions (default: every day) [{env['active_days_only']}]",
    )
    p.add_argument(
        "--exclude-duplicates",
        action="store_true",
        default=None,
        help=f"leave possible duplicates out of totals [{env['exclude_duplicates']}]",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="INI settings file (default: ./sites.conf if present) [BENCH_CONFIG]",
    )
    p.add_argument("--site", help="section of the config file to use (default: [default])")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or notices on stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


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
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.WARNING,
        format="benchtest: %(message)s",
        stream=sys.stderr,
    )
    flags = {
        "url": args.url,
        "concurrency": args.concurrency,
        "timeout": args.timeout,
        "retries": args.retries,
        "deadline": args.deadline,
        "max_pages": args.max_pages,
        "active_days_only": args.active_days_only,
        "exclude_duplicates": args.exclude_duplicates,
    }
    try:
        settings = load_settings(overrides=flags, config_file=args.config, site=args.site)
        result = run(settings, progress=None if args.quiet else _progress_bar())
        text = render(result.report, args.format)
    except BenchError as exc:
        print(f"benchtest: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("benchtest: interrupted", file=sys.stderr)
        return 130
    sys.stdout.write(text)
    return 0
