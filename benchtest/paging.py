"""Every page of a ledger, in the API's paging style; the pages checked against each other.

Paging decides which URL to ask for next and whether the pages add up; the transport does the
asking (`Transport.get`: a URL's body, or None for a 404, and its Link header). The styles
(docs/sources.md) differ only in how the next page's URL is found and how a ledger ends:

- `PageNumbers` (``{page}`` in the URL) and `Offsets` (``{offset}``): a page's URL follows from
  its number, so once page 1 gives the total and the page size (never assumed), pages 2..N and
  the page after the last, which must be the end (a 404, or an empty page), go out through a
  window of 2 x concurrency requests in flight, and are handed on as they arrive: memory holds a
  few pages however long the ledger is. Without a total they are fetched in order to the end.
- `Cursor`, `NextUrl` and `LinkHeader`: each page names the next (a cursor or a URL in the body,
  or the ``Link`` header), so pages are fetched in order until one names none. A next page on
  another origin, or one already fetched (a loop), fails the run.

Any gap, a page that repeats another, a total that changes or does not add up, fails the run
naming the page.

Limits (docs/limits.md lists them):

- ``MAX_PAGE_BYTES``: one page's body.
- ``MAX_BYTES_IN_FLIGHT``: bodies held at once. At most 2 x concurrency pages are in flight
  (fetching, or fetched and waiting for the consumer), so each page may hold at most
  ``MAX_BYTES_IN_FLIGHT / (2 x concurrency)`` bytes (and never more than ``MAX_PAGE_BYTES``).
- ``MAX_URL_CHARS``: a next page's URL, as a page names it.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from .config import Settings
from .errors import DataError, FetchError
from .stats import RunStats
from .text import quoted
from .transactions import Decoder, Page, decode_page
from .transport import Transport, next_link, origin

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page of 1,000 transactions is ~100 KB
MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024
MAX_URL_CHARS = 4096  # far above any real cursor; servers refuse longer request lines

Body = bytes | None  # a page's body, or None for a 404
Step = tuple[str, str]  # the next page's URL, and what named it (for messages)


def page_cap(concurrency: int) -> int:
    """The most bytes one page may have at this concurrency."""
    return min(MAX_PAGE_BYTES, MAX_BYTES_IN_FLIGHT // (2 * concurrency))


class Style:
    """How a ledger's pages are found. ``end``: what follows the last page: a "404", an "empty"
    page, or "none" (the last page names no next one)."""

    numbered = False  # a page's URL follows from its number: pages can be asked for at once
    end = "none"

    def __init__(self, template: str) -> None:
        self.template = template

    def url(self, number: int, offset: int) -> str:
        """Page ``number``'s URL, ``offset`` records into the ledger (page 1's, for the others)."""
        return self.template

    def after(self, page: Page, url: str, link: str | None) -> Step | None:
        """The page after ``page`` (served at ``url``, with Link header ``link``), if any."""
        return None


class PageNumbers(Style):
    """``{page}`` in the URL; the page after the last answers 404, or is empty (page_end)."""

    numbered = True

    def __init__(self, template: str, end: str) -> None:
        super().__init__(template)
        self.end = "404" if end == "404" else "empty"

    def url(self, number: int, offset: int) -> str:
        return self.template.format(page=number)


class Offsets(Style):
    """``{offset}`` (and ``{limit}``) in the URL; the page after the last is empty. A short
    page is not taken for the end: an API may serve fewer than ``limit`` a page."""

    numbered = True
    end = "empty"

    def __init__(self, template: str, limit: int) -> None:
        super().__init__(template)
        self.limit = limit

    def url(self, number: int, offset: int) -> str:
        return self.template.format(offset=offset, limit=self.limit)


class Cursor(Style):
    """The page's cursor (at next_path), sent as query parameter ``param`` of page 1's URL."""

    def __init__(self, template: str, param: str) -> None:
        super().__init__(template)
        self.param = param

    def after(self, page: Page, url: str, link: str | None) -> Step | None:
        if not page.next:
            return None
        parts = urlsplit(self.template)
        query = [pair for pair in parse_qsl(parts.query, True) if pair[0] != self.param]
        query.append((self.param, page.next))
        return urlunsplit(parts._replace(query=urlencode(query))), f"cursor {quoted(page.next)}"


class NextUrl(Style):
    """The next page's URL (at next_path), absolute or relative to the page's."""

    def after(self, page: Page, url: str, link: str | None) -> Step | None:
        if not page.next:
            return None
        return urljoin(url, page.next), f"next URL {quoted(page.next)}"


class LinkHeader(Style):
    """The next page's URL in the ``Link`` header (``<…>; rel="next"``)."""

    def after(self, page: Page, url: str, link: str | None) -> Step | None:
        target = next_link(link or "")
        return None if target is None else (urljoin(url, target), f"next link {quoted(target)}")


def style(template: str, settings: Settings) -> Style:
    """The paging style the settings name, for page URL ``template``."""
    if settings.paging == "page":
        return PageNumbers(template, settings.page_end)
    if settings.paging == "offset":
        return Offsets(template, settings.limit)
    if settings.paging == "cursor":
        return Cursor(template, settings.cursor_param)
    return NextUrl(template) if settings.paging == "next_url" else LinkHeader(template)


def fetch_pages(
    template: str,
    settings: Settings,
    stats: RunStats,
    deadline: float,
    decode: Decoder = decode_page,
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
    pager = _Pager(style(template, settings), decode, transport, stats, settings)
    try:
        for page, body, _ in pager.pages(settings.max_pages):
            yield page, body
    finally:
        transport.stop()
        pager.close()
        transport.close()


class _Pager:
    """One run's paging: which page to ask for next, and whether the pages add up.

    Pages go to ``concurrency`` threads through one queue and their answers come back through
    another (an executor and its futures cost 4x the CPU per page, which shows at 10
    transactions a page); at most ``window`` requests are out at once.
    """

    def __init__(
        self,
        style: Style,
        decode: Decoder,
        transport: Transport,
        stats: RunStats,
        settings: Settings,
    ) -> None:
        self.style = style
        self._decode = decode
        self.transport = transport
        self.stats = stats
        self.total = settings.total_path  # the total's name, for messages
        self.window = 2 * settings.concurrency
        self.out: dict[int, str] = {}  # asked for, not yet answered: page number -> URL
        self._asks: queue.SimpleQueue[tuple[int, str] | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[int, Body, str | None, BaseException | None]] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"benchtest-fetch-{k}", daemon=True)
            for k in range(settings.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        for _ in self._threads:
            self._asks.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (ask := self._asks.get()) is not None:
            number, url = ask
            try:
                self._answers.put((number, *self.transport.get(url, number), None))
            except BaseException as exc:  # handed to the consumer, which raises it
                self._answers.put((number, None, None, exc))

    def ask(self, number: int, url: str) -> None:
        self.out[number] = url
        self._asks.put((number, url))

    def answer(self) -> tuple[int, str, Body, str | None]:
        """The next answer to arrive (number, URL, body, Link header); none by the deadline is
        the deadline's error."""
        guard = self.transport.guard
        try:
            number, body, link, error = self._answers.get(
                timeout=max(0.0, guard.deadline - time.monotonic())
            )
        except queue.Empty:
            number = min(self.out)
            expired = guard.expired(number)
            expired.locate(page=number, url=self.out[number])
            raise expired from None
        url = self.out.pop(number)
        if error is not None:
            raise error
        return number, url, body, link

    def fetch(self, number: int, url: str) -> tuple[Body, str | None]:
        """Page ``number`` alone: its body and Link header."""
        self.ask(number, url)
        _, _, body, link = self.answer()
        return body, link

    def decode(self, number: int, body: bytes, url: str) -> Page:
        try:
            return self._decode(number, body)
        except DataError as exc:
            exc.locate(page=number, url=url)
            raise

    def pages(self, max_pages: int) -> Iterator[tuple[Page, bytes, str]]:
        url = self.style.url(1, 0)
        body, link = self.fetch(1, url)
        if body is None:
            raise FetchError("HTTP 404: no ledger at this URL", page=1, url=url)
        first = self.decode(1, body, url)
        total = first.total_count
        self.stats.page(len(first))
        yield first, body, url
        if total is not None and self.style.numbered:
            last = self.page_count(total, len(first), max_pages, url)
            self.stats.expect(last)
            rest = self.concurrently(last, len(first))
        else:
            if self.style.numbered:
                log.info("no %s on page 1: fetching pages in order to the end", self.total)
            rest = self.in_order(first, url, link, max_pages)
        for page, body, url in rest:
            if page.total_count != total:
                raise DataError(
                    f"is {page.total_count}, page 1 said {total}",
                    page=page.number,
                    field=self.total,
                    url=url,
                )
            self.stats.page(len(page))
            yield page, body, url
        if total is not None and self.stats.transactions != total:
            raise DataError(
                f"{self.total} is {total} but {self.stats.pages} pages held "
                f"{self.stats.transactions} transactions"
            )

    def page_count(self, total: int, size: int, max_pages: int, url: str) -> int:
        if total == 0:
            return 1
        if size == 0:
            raise DataError(f"no transactions, but {self.total} is {total}", page=1, url=url)
        last = math.ceil(total / size)
        if last > max_pages:
            raise FetchError(
                f"{self.total} {total} at {size} per page needs {last} pages "
                f"(the cap is {max_pages})",
                page=1,
                url=url,
            )
        return last

    def in_order(
        self, page: Page, url: str, link: str | None, max_pages: int
    ) -> Iterator[tuple[Page, bytes, str]]:
        """The pages after ``page`` (page 1), one at a time, to the end."""
        style, seen, served = self.style, {url: 1}, len(page)
        if style.end == "empty" and not page:  # an empty page 1: an empty ledger
            return
        for number in range(2, max_pages + 2):
            if style.numbered:
                url = style.url(number, served)
            else:
                step = style.after(page, url, link)
                if step is None:
                    return
                url = self.follow(number - 1, url, step, seen)
            body, link = self.fetch(number, url)
            if body is None:
                if style.end == "404":
                    return
                ending = "an empty page" if style.end == "empty" else "a page naming no next"
                raise FetchError(
                    f"HTTP 404 (this API's pages end with {ending})", page=number, url=url
                )
            page = self.decode(number, body, url)
            if style.end == "empty" and not page:
                return
            if number > max_pages:
                raise FetchError(f"more than the cap of {max_pages} pages", page=number, url=url)
            seen[url] = number
            served += len(page)
            yield page, body, url

    def follow(self, number: int, url: str, step: Step, seen: dict[str, int]) -> str:
        """The URL that page ``number`` (served at ``url``) names for the next page, if it is
        one to follow: a URL of the configured origin, not a page already fetched."""
        target, what = step
        if len(target) > MAX_URL_CHARS or not (target.isascii() and target.isprintable()):
            raise DataError(f"{what} does not make a usable URL", page=number, url=url)
        try:
            where = origin(target)
        except ValueError:
            raise DataError(f"{what} does not make an http(s) URL", page=number, url=url) from None
        if where != self.transport.origin:
            raise FetchError(
                f"{what} leads to {where}: refused, only {self.transport.origin} "
                "(the configured origin) is followed",
                page=number,
                url=url,
            )
        if target in seen:
            raise DataError(
                f"{what} leads back to page {seen[target]}: the pages loop", page=number, url=url
            )
        return target

    def concurrently(self, last: int, size: int) -> Iterator[tuple[Page, bytes, str]]:
        """Pages 2..last, then last+1, which must be the end; at most `window` out at once."""
        style = self.style
        numbers = iter(range(2, last + 2))
        for number in numbers:
            self.ask(number, style.url(number, (number - 1) * size))
            if len(self.out) >= self.window:
                break
        while self.out:
            number, url, body, _ = self.answer()
            if number <= last and body is None:
                raise FetchError(
                    f"HTTP 404, but {self.total} implies {last} pages", page=number, url=url
                )
            if number > last:
                self.check_end(number, url, body, last)
            for following in numbers:
                self.ask(following, style.url(following, (following - 1) * size))
                break
            if number <= last and body is not None:
                yield self.decode(number, body, url), body, url

    def check_end(self, number: int, url: str, body: Body, last: int) -> None:
        """Page ``number``, after the ``last``, must be the end: a 404, or an empty page."""
        if self.style.end == "404" and body is None:
            return
        if self.style.end == "empty":
            if body is None:
                raise FetchError(
                    "HTTP 404, expected an empty page after the last", page=number, url=url
                )
            if not self.decode(number, body, url):
                return
        ending = "404" if self.style.end == "404" else "an empty page"
        raise FetchError(
            f"expected the end ({ending}) after {last} pages; the ledger changed while paging",
            page=number,
            url=url,
        )
