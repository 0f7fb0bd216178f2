"""Every page of a ledger: page 1 first, then the rest concurrently, then the end (a 404).

Paging only decides which page to ask for next and whether the pages add up; any transport does
the asking (`Fetch`: a page's URL and number to its body, or None for a 404). Page 1 gives
``totalCount`` and the page size (never assumed), so the number of pages is known; pages 2..N
and N+1, which must be the 404, go out through a window of 2 x concurrency requests in flight,
and are handed on as they arrive, so memory holds a few pages however long the ledger is.
Without a ``totalCount`` the pages are fetched in order until the 404. Any gap, a page that
repeats another, a count that changes or does not add up, fails the run naming the page.

Limits (docs/limits.md lists them):

- ``MAX_PAGE_BYTES``: one page's body.
- ``MAX_BYTES_IN_FLIGHT``: bodies held at once. At most 2 x concurrency pages are in flight
  (fetching, or fetched and waiting for the consumer), so each page may hold at most
  ``MAX_BYTES_IN_FLIGHT / (2 x concurrency)`` bytes (and never more than ``MAX_PAGE_BYTES``).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator

from .config import Settings
from .errors import DataError, FetchError
from .stats import RunStats
from .transactions import Page, decode_page
from .transport import Transport

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page of 1,000 transactions is ~100 KB
MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024

Body = bytes | None  # a page's body, or None for the 404 that ends a ledger


def page_cap(concurrency: int) -> int:
    """The most bytes one page may have at this concurrency."""
    return min(MAX_PAGE_BYTES, MAX_BYTES_IN_FLIGHT // (2 * concurrency))


def fetch_pages(
    template: str, settings: Settings, stats: RunStats, deadline: float
) -> Iterator[tuple[Page, bytes]]:
    """Yield every page of the ledger, validated, with its body, in arrival order.

    ``deadline`` is a `time.monotonic()` value for the whole run. Requests run in
    ``settings.concurrency`` threads; leaving the generator (done, error, Ctrl-C, closed)
    abandons those in flight and joins the threads before it returns.
    """
    transport = Transport(
        template,
        deadline=deadline,
        stats=stats,
        concurrency=settings.concurrency,
        timeout=settings.timeout,
        retries=settings.retries,
        backoff=settings.backoff,
        retry_after_cap=settings.retry_after_cap,
        page_cap=page_cap(settings.concurrency),
        auth_header=settings.auth_header,
        auth_token=None if settings.is_sample else settings.auth_token,
    )
    pager = _Pager(template, transport, stats, settings.concurrency)
    try:
        yield from pager.pages(settings.max_pages)
    finally:
        transport.stop()
        pager.close()
        transport.close()


class _Pager:
    """One run's paging: which page to ask for next, and whether the pages add up.

    Page numbers go to ``concurrency`` threads through one queue and their answers come back
    through another (an executor and its futures cost 4x the CPU per page, which shows at 10
    transactions a page); at most ``window`` requests are out at once.
    """

    def __init__(
        self, template: str, transport: Transport, stats: RunStats, concurrency: int
    ) -> None:
        self.template = template
        self.transport = transport
        self.stats = stats
        self.window = 2 * concurrency
        self.out: set[int] = set()  # asked for, not yet answered
        self._asks: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[int, Body, BaseException | None]] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"benchtest-fetch-{k}", daemon=True)
            for k in range(concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        for _ in self._threads:
            self._asks.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (number := self._asks.get()) is not None:
            try:
                self._answers.put((number, self.transport.get(self.url(number), number), None))
            except BaseException as exc:  # handed to the consumer, which raises it
                self._answers.put((number, None, exc))

    def url(self, number: int) -> str:
        return self.template.format(page=number)

    def error(self, number: int, message: str) -> FetchError:
        return FetchError(message, page=number, url=self.url(number))

    def ask(self, number: int) -> None:
        self.out.add(number)
        self._asks.put(number)

    def answer(self) -> tuple[int, Body]:
        """The next answer to arrive; none by the deadline is the deadline's error."""
        guard = self.transport.guard
        try:
            number, body, error = self._answers.get(
                timeout=max(0.0, guard.deadline - time.monotonic())
            )
        except queue.Empty:
            number = min(self.out)
            expired = guard.expired(number)
            expired.locate(page=number, url=self.url(number))
            raise expired from None
        self.out.discard(number)
        if error is not None:
            raise error
        return number, body

    def decode(self, number: int, body: bytes) -> Page:
        try:
            return decode_page(number, body)
        except DataError as exc:
            exc.locate(page=number, url=self.url(number))
            raise

    def pages(self, max_pages: int) -> Iterator[tuple[Page, bytes]]:
        self.ask(1)
        _, body = self.answer()
        if body is None:
            raise self.error(1, "HTTP 404: no ledger at this URL")
        first = self.decode(1, body)
        total = first.total_count
        self.stats.page(len(first))
        yield first, body
        if total is None:
            log.info("no totalCount on page 1: fetching pages in order until the 404")
            rest = self.in_order(max_pages)
        else:
            last = self.page_count(total, len(first), max_pages)
            self.stats.expect(last)
            rest = self.concurrently(last)
        for page, body in rest:
            if page.total_count != total:
                raise DataError(
                    f"is {page.total_count}, page 1 said {total}",
                    page=page.number,
                    field="totalCount",
                    url=self.url(page.number),
                )
            self.stats.page(len(page))
            yield page, body
        if total is not None and self.stats.transactions != total:
            raise DataError(
                f"totalCount is {total} but {self.stats.pages} pages held "
                f"{self.stats.transactions} transactions"
            )

    def page_count(self, total: int, size: int, max_pages: int) -> int:
        if total == 0:
            return 1
        if size == 0:
            raise DataError(f"no transactions, but totalCount is {total}", page=1, url=self.url(1))
        last = math.ceil(total / size)
        if last > max_pages:
            raise self.error(
                1,
                f"totalCount {total} at {size} per page needs {last} pages "
                f"(the cap is {max_pages})",
            )
        return last

    def in_order(self, max_pages: int) -> Iterator[tuple[Page, bytes]]:
        for number in range(2, max_pages + 2):
            self.ask(number)
            _, body = self.answer()
            if body is None:
                return
            if number > max_pages:
                raise self.error(number, f"more than the cap of {max_pages} pages")
            yield self.decode(number, body), body

    def concurrently(self, last: int) -> Iterator[tuple[Page, bytes]]:
        """Pages 2..last, then last+1, which must be the 404; at most `window` out at once."""
        numbers = iter(range(2, last + 2))
        for number in numbers:
            self.ask(number)
            if len(self.out) >= self.window:
                break
        while self.out:
            number, body = self.answer()
            if number <= last and body is None:
                raise self.error(number, f"HTTP 404, but totalCount implies {last} pages")
            if number > last and body is not None:
                raise self.error(
                    number,
                    f"expected the end (404) after {last} pages; the ledger changed while paging",
                )
            for following in numbers:
                self.ask(following)
                break
            if body is not None:
                yield self.decode(number, body), body
