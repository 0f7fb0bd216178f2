"""One run: source -> pages -> transactions -> ledger -> report. CLI and Lambda both call `run`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .config import Settings
from .errors import without_credentials
from .fetch import FetchStats, fetch_pages
from .ledger import Ledger
from .model import Report, build_report
from .reconcile import check_assertions
from .workers import Parallel

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RunResult:
    report: Report
    stats: FetchStats


@contextmanager
def _source(settings: Settings) -> Iterator[tuple[str, str]]:
    """Yield (URL template, label); the bundled sample is served on loopback for the run."""
    if not settings.is_sample:
        yield settings.url, without_credentials(settings.url)
        return
    # Only the demo needs a server: a real URL never imports http.server (Lambda's cold start).
    from .source import SAMPLE_SOURCE, serve_sample

    with serve_sample() as url:
        yield url, SAMPLE_SOURCE


def run(
    settings: Settings,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
    stats: FetchStats | None = None,
) -> RunResult:
    """Fetch, validate and aggregate every page; raise `BenchtestError`, never a partial result.

    ``deadline`` (seconds from now) overrides ``settings.deadline``, e.g. a Lambda's remaining time.
    ``stats``, when given, is filled in as the run goes, so a caller still knows how far a
    failed run got (pages, requests, retries) for its logs and metrics.
    """
    started = time.monotonic()
    until = started + (settings.deadline if deadline is None else deadline)
    stats = FetchStats() if stats is None else stats
    ledger = Ledger(
        settings.detail_limit, max_days=None if settings.active_days_only else settings.max_days
    )
    try:
        with _source(settings) as (template, label):
            parallel = Parallel(template, settings, stats, until, ledger, progress)
            for page in fetch_pages(template, settings, stats, until, parallel):
                ledger.add(page)
                if progress is not None:
                    progress(stats.pages, stats.expected_pages)
    finally:
        stats.seconds = time.monotonic() - started
    summary = ledger.summarize(
        exclude_duplicates=settings.exclude_duplicates,
        fill_gaps=not settings.active_days_only,
    )
    report = check_assertions(build_report(summary, label), settings.assert_balance)
    stats.seconds = time.monotonic() - started
    return RunResult(report, stats)
