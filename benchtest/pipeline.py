"""One run: source -> pages -> transactions -> aggregate -> report. CLI and Lambda call `run`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from .aggregate import Aggregator
from .config import SOURCE_SETTINGS, Settings
from .errors import ConfigError, without_credentials
from .model import Report
from .paging import fetch_pages
from .reconcile import check_assertions
from .stats import RunStats
from .transactions import decoder

Progress = Callable[[int, int | None], None]
DEFAULTS = {name: getattr(Settings(), name) for name in SOURCE_SETTINGS}


@dataclass(frozen=True)
class RunResult:
    report: Report
    stats: RunStats


@contextmanager
def _source(settings: Settings) -> Iterator[tuple[str, str]]:
    """Yield (URL template, label); the bundled sample is served on loopback for the run."""
    if not settings.is_sample:
        yield settings.url, without_credentials(settings.url)
        return
    described = [name for name in SOURCE_SETTINGS if getattr(settings, name) != DEFAULTS[name]]
    if described:
        raise ConfigError("needs a url: the bundled sample has the Bench shape", field=described[0])
    # Only the demo needs a server: a real URL never imports http.server (Lambda's cold start).
    from .source import SAMPLE_SOURCE, serve_sample

    with serve_sample() as url:
        yield url, SAMPLE_SOURCE


def run(
    settings: Settings,
    *,
    deadline: float | None = None,
    progress: Progress | None = None,
    stats: RunStats | None = None,
    generated_at: datetime | None = None,
) -> RunResult:
    """Fetch, validate and aggregate every page; raise `BenchtestError`, never a partial result.

    ``deadline`` (seconds from now) overrides ``settings.deadline``, e.g. a Lambda's remaining time.
    ``stats``, when given, is filled in as the run goes, so a caller still knows how far a
    failed run got (pages, requests, retries) for its logs and metrics. ``generated_at`` is
    the report's time (aware; default: now, UTC), given by tests that compare bytes.
    """
    started = time.monotonic()
    until = started + (settings.deadline if deadline is None else deadline)
    stats = RunStats() if stats is None else stats
    decode = decoder(settings)
    aggregator = Aggregator(
        decode, max_days=None if settings.active_days_only else settings.max_days
    )
    try:
        with _source(settings) as (template, label):
            for page, body in fetch_pages(template, settings, stats, until, decode):
                aggregator.add(page, body)
                if progress is not None:
                    progress(stats.pages, stats.expected_pages)
        report = aggregator.report(
            label,
            generated_at=(generated_at or datetime.now(UTC)).replace(microsecond=0),
            exclude_duplicates=settings.exclude_duplicates,
            fill_gaps=not settings.active_days_only,
            detail_limit=settings.detail_limit,
        )
    finally:
        aggregator.close()
        stats.finish(time.monotonic() - started)
    return RunResult(check_assertions(report, settings.assert_balance), stats)
