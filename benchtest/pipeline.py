"""One run: source -> pages -> transactions -> ledger -> report. CLI and Lambda both call `run`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .config import Settings
from .fetch import FetchStats, fetch_pages
from .ledger import Ledger
from .report import Report, build_report

log = logging.getLogger(__name__)

SAMPLE_SOURCE = "sample (bundled ledger, served on 127.0.0.1)"
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RunResult:
    report: Report
    stats: FetchStats


@contextmanager
def _source(settings: Settings) -> Iterator[tuple[str, str]]:
    """Yield (URL template, label); the sample is served on loopback for the run's duration."""
    if not settings.is_sample:
        yield settings.url, settings.url
        return
    log.warning("no ledger URL configured: using the bundled sample ledger")
    from .server import sample_pages, serve_ledger  # only the demo needs it: not at Lambda init

    with serve_ledger(sample_pages()) as server:
        yield server.url, SAMPLE_SOURCE


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
    ledger = Ledger(settings.detail_limit)
    with _source(settings) as (template, label):
        for page in fetch_pages(template, settings, stats, until):
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
