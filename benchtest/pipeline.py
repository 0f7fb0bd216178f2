"""One run: source -> pages -> transactions -> ledger -> report. CLI and Lambda both call `run`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import Settings
from .fetch import FetchStats, fetch_pages
from .ledger import Ledger
from .model import Report, build_report
from .source import open_source
from .workers import Parallel

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RunResult:
    report: Report
    stats: FetchStats


def run(
    settings: Settings,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Fetch, validate and aggregate every page; raise `BenchError`, never return a partial result.

    ``deadline`` (seconds from now) overrides ``settings.deadline``, e.g. a Lambda's remaining time.
    """
    started = time.monotonic()
    until = started + (settings.deadline if deadline is None else deadline)
    stats = FetchStats()
    ledger = Ledger(
        settings.detail_limit, max_days=None if settings.active_days_only else settings.max_days
    )
    with open_source(settings) as (template, label):
        parallel = Parallel(template, settings, stats, until, ledger, progress)
        for page in fetch_pages(template, settings, stats, until, parallel):
            ledger.add(page)
            if progress is not None:
                progress(stats.pages, stats.expected_pages)
    summary = ledger.summarize(
        exclude_duplicates=settings.exclude_duplicates,
        fill_gaps=not settings.active_days_only,
    )
    report = build_report(summary, label)
    stats.seconds = time.monotonic() - started
    return RunResult(report, stats)
