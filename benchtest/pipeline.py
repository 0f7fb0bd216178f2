"""One run: source -> pages -> transactions -> ledger -> report (`run`), then compare, render
and write it to its sinks (`deliver`). The CLI and the Lambda call both."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from .aggregate import Aggregator
from .errors import ConfigError
from .model import Report
from .pagesfile import Recorder
from .paging import fetch_pages, paginator
from .reconcile import Load, changes_since, check_assertions
from .renderers import Rendered
from .settings import Settings, SourceSettings
from .stats import RunStats
from .transactions import decoder
from .urls import without_credentials

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RunResult:
    report: Report
    stats: RunStats


@contextmanager
def _source(settings: Settings) -> Iterator[tuple[str, str | None]]:
    """Yield (URL template, the sample's label or None); the bundled sample is served on
    loopback for the run."""
    if not settings.is_sample:
        yield settings.fetch.url, None
        return
    default = SourceSettings()
    fields = default.__struct_fields__
    described = [f for f in fields if getattr(settings.source, f) != getattr(default, f)]
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
    recorder: Recorder | None = None,
) -> RunResult:
    """Fetch, validate and aggregate every page; raise `BenchtestError`, never a partial result.
    ``deadline`` (seconds from now) overrides ``settings.fetch.deadline``, e.g. a Lambda's time
    left. ``stats``, when given, is filled in as the run goes, so a caller still knows how far a
    failed run got. ``generated_at`` is the report's time (aware; default: the replay's, or now,
    UTC). ``recorder`` keeps the pages read, or replays a pages file (`pagesfile.Recorder`)."""
    started = time.monotonic()
    until = started + (settings.fetch.deadline if deadline is None else deadline)
    stats = RunStats() if stats is None else stats
    options = settings.report
    aggregator = None
    recorder = recorder or Recorder(settings)  # the digest of the pages read, at least
    replay = None if recorder.replay is None else nullcontext(recorder.replay.source)
    try:
        with replay or _source(settings) as (template, label):
            pages = paginator(template, settings)
            decode = decoder(settings.source, pages.reads)
            days = None if options.active_days_only else options.max_days
            aggregator = Aggregator(decode, max_days=days, bodies=recorder.bodies)
            answers = recorder.opener(template)
            for page, body in fetch_pages(pages, settings, stats, until, decode, answers):
                aggregator.add(page, body)
                del page, body  # not held while the next is decoded
                if progress is not None:
                    progress(stats.pages, stats.expected_pages)
        at = (generated_at or recorder.generated_at or datetime.now(UTC)).astimezone(UTC)
        at = at.replace(microsecond=0)
        report = aggregator.report(
            label or without_credentials(pages.template),
            generated_at=at,
            exclude_duplicates=options.exclude_duplicates,
            fill_gaps=not options.active_days_only,
            detail_limit=options.detail_limit,
            currency=decode.shape.currency,
            left_out=decode.shape.left_out,
            pages_digest=recorder.digest(at),
        )
    finally:
        if aggregator is not None:
            aggregator.close()
        stats.finish(time.monotonic() - started)
    return RunResult(check_assertions(report, options.assert_balance), stats)


class Sink(Protocol):
    """Where a report goes: the formats it takes, and how their bytes (in pieces) are written."""

    formats: tuple[str, ...]

    def write(self, bodies: dict[str, Iterable[bytes]]) -> None: ...


def deliver(
    report: Report,
    sink: Sink | None,
    settings: Settings,
    previous: Load | None = None,
    asked_by: str = "previous report",
    compared: Callable[[Report], None] | None = None,
) -> Report:
    """Compare ``report`` with the ``previous`` one (when there is one to read), tell
    ``compared``, render it in the sink's formats and write them; return the report."""
    if previous is not None:
        report = changes_since(report, previous, asked_by, settings.report.detail_limit)
    if compared is not None:
        compared(report)
    if sink is not None:
        sink.write({fmt: Rendered(report, fmt) for fmt in sink.formats})
    return report
