"""Every page of a ledger: a paginator per paging style over one fetcher, the pages checked."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import ClassVar, NamedTuple, Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import msgspec

from .errors import DataError, FetchError
from .settings import Settings, SourceSettings, check_source
from .stats import RunStats
from .text import number as shown
from .text import quoted
from .transactions import Decoder, Page, decode_page, keys_at
from .transport import Guard, Transport, next_link
from .urls import origin, template_fields, without_credentials

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 16 * 1024 * 1024  # a page of 1,000 transactions is ~100 KB
MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024
MAX_URL_CHARS = 4096  # far above any real cursor; servers refuse longer request lines


def page_cap(concurrency: int) -> int:
    """The most bytes one page may have at this concurrency: at most 2 x concurrency pages are
    in flight (asked for, or answered and waiting), within ``MAX_BYTES_IN_FLIGHT``."""
    return min(MAX_PAGE_BYTES, MAX_BYTES_IN_FLIGHT // (2 * concurrency))


PAGINATORS: dict[str, type[Paginator]] = {}  # by `SourceSettings.paging`, as they register


class Answer(NamedTuple):
    """A page's answer: its number, the URL asked, the body (None for a 404), the Link header."""

    number: int
    url: str
    body: bytes | None
    link: str | None


# --------------------------------------------------------------------------- paginators


class Paginator:
    """A paging style: page 1's URL, the URL after a page, and how its ledger ends."""

    placeholders: ClassVar[tuple[str, ...]] = ()  # the URL template's fields
    numbered: ClassVar[bool] = False  # page N's URL follows from N: pages can be asked at once
    ends_with: ClassVar[tuple[str, ...]] = ("auto",)  # the page_end values it takes; the first
    ending = "a page naming no next"  # how the ledger ends, for messages

    def __init_subclass__(cls, paging: str = "", **kw: object) -> None:
        super().__init_subclass__(**kw)
        if paging:
            PAGINATORS[paging] = cls

    def __init__(self, template: str, source: SourceSettings) -> None:
        self.template = template
        self.end = self.ends_with[0] if source.page_end == "auto" else source.page_end
        self.source = source
        self.reads: tuple[str, ...] = ("more_path",) if self.end == "flag" else ()

    def url(self, number: int, offset: int) -> str:
        """Page ``number``'s URL, ``offset`` records into the ledger (numbered styles)."""
        return self.template

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        """The URL after ``page`` and what named it (for messages); None: it was the last."""
        return None

    def ends(self, page: Page | None) -> bool:
        """Whether an answer (``page``; None for a 404) is the end of the ledger rather than a
        page; a 404 that is not this style's end is an error."""
        if page is None:
            raise FetchError(f"HTTP 404 (this API's pages end with {self.ending})")
        return self.end == "empty" and not page.size

    def more(self, page: Page, answer: Answer) -> bool:
        """page_end = flag: whether the page says more pages follow."""
        if page.more is None:
            why = "page_end = flag reads there whether more pages follow"
            raise _missing(self.source.more_path, answer, why)
        return page.more

    def named(self, page: Page, answer: Answer) -> str | None:
        """The next value the page holds at next_path (None: the end), by page_end."""
        value, path = page.next, self.source.next_path
        if self.end == "flag":
            if not self.more(page, answer):
                return None
            if value is msgspec.UNSET or value is None or value == "":
                why = f"{self.source.more_path} is true: the next page must be named there"
                raise _missing(path, answer, why)
            return str(value)
        if value is msgspec.UNSET and self.end != "absent":
            why = "each page names the next there, null at the last (page_end = absent: left out)"
            raise _missing(path, answer, why)
        return None if value in (msgspec.UNSET, None, "") else str(value)


def _missing(path: str, answer: Answer, why: str) -> DataError:
    """A page that shows neither a next page nor the end signal: a misdescription."""
    return DataError(f"missing, but {why}{keys_at(answer.body or b'', path)}", field=path)


def _with_param(template: str, param: str, value: str) -> str:
    parts = urlsplit(template)
    query = [pair for pair in parse_qsl(parts.query, True) if pair[0] != param]
    return urlunsplit(parts._replace(query=urlencode([*query, (param, value)])))


class PageNumbers(Paginator, paging="page"):
    """``{page}`` in the URL; the page after the last answers 404, or is empty (page_end)."""

    placeholders: ClassVar[tuple[str, ...]] = ("page",)
    numbered = True
    ends_with: ClassVar[tuple[str, ...]] = ("404", "empty")

    def __init__(self, template: str, source: SourceSettings) -> None:
        super().__init__(template, source)
        self.ending = "404" if self.end == "404" else "an empty page"
        self.reads = ("page_path",)

    def url(self, number: int, offset: int) -> str:
        return self.template.format(page=number)

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        return self.url(page.number + 1, 0), "page number"

    def ends(self, page: Page | None) -> bool:
        return page is None if self.end == "404" else super().ends(page)


class Offsets(PageNumbers, paging="offset"):
    """``{offset}`` (and ``{limit}``) in the URL; the page after the last is empty. A short
    page is not taken for the end: an API may serve fewer than ``limit`` a page."""

    placeholders = ("offset", "limit")
    ends_with = ("empty",)

    def __init__(self, template: str, source: SourceSettings) -> None:
        super().__init__(template, source)
        self.reads = ()
        self.limit, self.served = source.limit, 0

    def url(self, number: int, offset: int) -> str:
        return self.template.format(offset=offset, limit=self.limit)

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        self.served += page.size
        return self.url(page.number + 1, self.served), "offset"


class Cursor(Paginator, paging="cursor"):
    """The page's cursor (at next_path), sent as query parameter cursor_param of page 1's URL."""

    ends_with = ("null", "absent", "flag")

    def __init__(self, template: str, source: SourceSettings) -> None:
        super().__init__(template, source)
        self.reads = ("next_path", *self.reads)

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        cursor = self.named(page, answer)
        if cursor is None:
            return None
        url = _with_param(self.template, self.source.cursor_param, cursor)
        return url, f"cursor {quoted(cursor)}"


class NextUrl(Cursor, paging="next_url"):
    """The next page's URL (at next_path), absolute or relative to the page's."""

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        target = self.named(page, answer)
        if target is None:
            return None
        return urljoin(answer.url, target), f"next URL {quoted(target)}"


class LinkHeader(Paginator, paging="link"):
    """The next page's URL in the ``Link`` header (``<…>; rel="next"``)."""

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        target = next_link(answer.link or "")
        if target is None:
            return None
        return urljoin(answer.url, target), f"next link {quoted(target)}"


class LastRecord(Paginator, paging="last_record"):
    """The cursor is the page's last record's cursor_field (Stripe's ``starting_after``); the
    ledger ends when more_path is false (page_end = flag), or with an empty page."""

    ends_with = ("flag", "empty")

    def __init__(self, template: str, source: SourceSettings) -> None:
        super().__init__(template, source)
        self.reads = ("cursor_field", *self.reads)
        self.ending = "an empty page" if self.end == "empty" else self.ending

    def next(self, page: Page, answer: Answer) -> tuple[str, str] | None:
        if self.end == "flag" and not self.more(page, answer):
            return None
        if page.cursor is None:  # no record: the end of an empty-ended ledger, or an error
            if self.end == "empty":
                return None
            why = f"{self.source.more_path} is true: the last record's cursor_field is the cursor"
            raise DataError(f"no records, but {why}", field=self.source.records_path)
        cursor = page.cursor
        what = f"cursor {quoted(cursor)} (the last record's {self.source.cursor_field})"
        return _with_param(self.template, self.source.cursor_param, cursor), what


def paginator(template: str, settings: Settings) -> Paginator:
    """The paginator the settings name, for the page URL ``template``; a `ConfigError` when the
    description does not suit the style (its URL, its end, what it must read)."""
    source, paging = settings.source, settings.source.paging
    cls = PAGINATORS[paging]
    if cls is PageNumbers and template.endswith("/") and "{page}" not in template:
        template += "{page}.json"
    try:
        fields = template_fields(template, cls.placeholders)
        if cls.placeholders and cls.placeholders[0] not in fields:
            needs = "or end with '/'" if paging == "page" else f"(paging = {paging})"
            raise ValueError(f"must contain '{{{cls.placeholders[0]}}}' {needs}")
    except ValueError as exc:
        shown = quoted(without_credentials(template), 200)
        plain = paging == "page" or "must contain" in str(exc)
        reason = str(exc) if plain else f"{exc} (paging = {paging})"
        raise settings.refused("url", f"{reason}, got {shown}", template) from None
    if source.page_end not in ("auto", *cls.ends_with):
        ends = ", ".join(cls.ends_with) if cls.ends_with != ("auto",) else "auto only"
        message = f"{source.page_end} is not how paging = {paging} ends ({ends})"
        raise settings.refused("page_end", message)
    pages = cls(template, source)
    body = [name for name in pages.reads if name != "page_path" and name != "cursor_field"]
    if source.records_path == "$" and body:
        raise settings.refused(
            "records_path",
            f"$ (the body is the list of records), but paging = {paging} reads {body[0]} from "
            "the page: a body that is a list has nothing else",
        )
    check_source(settings, pages.reads)
    return pages


# --------------------------------------------------------------------------- fetching


class Answers(Protocol):
    """What the fetcher needs of a transport: `Transport`, or a pages file's replay."""

    origin: str
    guard: Guard

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class Fetcher:
    """Pages asked for by number and answered in any order, by ``concurrency`` threads, with
    at most ``window`` requests out at once. Two queues rather than an executor: its futures
    cost 4x the CPU per page, which shows at 10 transactions a page."""

    def __init__(self, transport: Answers, concurrency: int) -> None:
        self.transport = transport
        self.window = 2 * concurrency
        self.out: dict[int, str] = {}  # asked for, not yet answered: page number -> URL
        self._asks: queue.SimpleQueue[tuple[int, str] | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[Answer, BaseException | None]] = queue.SimpleQueue()
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
        while (ask := self._asks.get()) is not None:
            number, url = ask
            try:
                self._answers.put((Answer(number, url, *self.transport.get(url, number)), None))
            except BaseException as exc:  # handed to the consumer, which raises it
                self._answers.put((Answer(number, url, None, None), exc))

    def ask(self, number: int, url: str) -> None:
        self.out[number] = url
        self._asks.put((number, url))

    def answer(self) -> Answer:
        """The next answer to arrive; none by the deadline is the deadline's error."""
        guard = self.transport.guard
        try:
            answer, error = self._answers.get(timeout=max(0.0, guard.deadline - time.monotonic()))
        except queue.Empty:
            number = min(self.out)
            expired = guard.expired(number)
            expired.locate(page=number, url=self.out[number])
            raise expired from None
        del self.out[answer.number]
        if error is not None:
            raise error
        return answer

    def get(self, number: int, url: str) -> Answer:
        """Page ``number`` alone."""
        self.ask(number, url)
        return self.answer()


def fetch_pages(
    pages: Paginator,
    settings: Settings,
    stats: RunStats,
    deadline: float,
    decode: Decoder = decode_page,
    open_transport: Callable[..., Answers] = Transport,
) -> Iterator[tuple[Page, bytes]]:
    """Yield every page of the ledger, validated, with its body, in arrival order. ``deadline``:
    a `time.monotonic()` value for the whole run. Leaving the generator (done, error, Ctrl-C,
    closed) abandons the requests in flight and joins the threads. ``open_transport`` takes
    `Transport`'s arguments (a pages file's recorder or replay)."""
    fetch = settings.fetch
    token = None if settings.is_sample else settings.auth_token
    cap = page_cap(fetch.concurrency)
    transport = open_transport(
        pages.template, deadline=deadline, stats=stats, fetch=fetch, page_cap=cap, auth_token=token
    )
    fetcher = Fetcher(transport, fetch.concurrency)
    walk = _Walk(pages, fetcher, decode, stats, settings.source.total_path)
    try:
        yield from walk.pages(fetch.max_pages)
    finally:
        transport.stop()
        fetcher.close()
        transport.close()


class _Walk:
    """One run's walk through the ledger: the page to ask for next; whether the pages add up."""

    def __init__(
        self, paginator: Paginator, fetcher: Fetcher, decode: Decoder, stats: RunStats, total: str
    ) -> None:
        self.paginator = paginator
        self.fetcher = fetcher
        self._decode = decode
        self.stats = stats
        self.total = total  # total_path, for messages
        self.origin = fetcher.transport.origin

    def decode(self, answer: Answer) -> Page | None:
        """The answer's page, or None for a 404."""
        if answer.body is None:
            return None
        try:
            return self._decode(answer.number, answer.body)
        except DataError as exc:
            exc.locate(page=answer.number, url=answer.url)
            raise

    def pages(self, max_pages: int) -> Iterator[tuple[Page, bytes]]:
        first = self.fetcher.get(1, self.paginator.url(1, 0))
        page = self.decode(first)
        if page is None:
            raise FetchError("HTTP 404: no ledger at this URL", page=1, url=first.url)
        assert first.body is not None  # for mypy: a page has a body
        total = page.total_count
        self.stats.page(page.size)
        yield page, first.body
        if total == 0 and self.paginator.ends(page):  # page 1 is the end: nothing more to ask
            rest: Iterator[tuple[Page, bytes, str]] = iter(())
        elif total is not None and self.paginator.numbered:
            last = self.page_count(total, page.size, max_pages, first.url)
            self.stats.expect(last)
            rest = self.concurrently(last, page.size)
        else:
            if self.paginator.numbered:
                log.info("no %s on page 1: fetching pages in order to the end", self.total)
            rest = self.in_order(page, first, max_pages)
        del page, first  # not held while the next are decoded
        for page, body, url in rest:
            if page.total_count != total:
                said = f"is {shown(page.total_count)}, page 1 said {shown(total)}"
                raise DataError(said, page=page.number, field=self.total, url=url)
            self.stats.page(page.size)
            yield page, body
            del page, body  # not held while the next is decoded
        if total is not None and self.stats.transactions != total:
            raise DataError(
                f"{self.total} is {shown(total)} but {self.stats.pages} pages held "
                f"{self.stats.transactions} transactions"
            )

    def page_count(self, total: int, size: int, max_pages: int, url: str) -> int:
        if total == 0:
            return 1
        if size == 0:
            raise DataError(f"no transactions, but {self.total} is {total}", page=1, url=url)
        last = -(-total // size)  # exact: total / size overflows a float past 10**308
        if last > max_pages:
            needs = f"{self.total} {shown(total)} at {size} per page needs {shown(last)} pages"
            raise FetchError(f"{needs} (the cap is {max_pages})", page=1, url=url)
        return last

    def in_order(
        self, page: Page, answer: Answer, max_pages: int
    ) -> Iterator[tuple[Page, bytes, str]]:
        """The pages after page 1, one at a time, to the end."""
        # Pages asked for, by their URL's hash: a never-ending cursor must not fill memory.
        pages, seen = self.paginator, {hash(answer.url): 1}
        if pages.ends(page):  # an empty page 1, where an empty page is the end
            return
        for number in range(2, max_pages + 2):
            try:
                step = pages.next(page, answer)
            except DataError as exc:
                exc.locate(page=page.number, url=answer.url)
                raise
            if step is None:
                return
            del page  # not held while the next is fetched and decoded
            url = step[0] if pages.numbered else self.follow(number - 1, answer.url, step, seen)
            answer = self.fetcher.get(number, url)
            try:
                following = self.decode(answer)
                if pages.ends(following):
                    return
            except FetchError as exc:
                exc.locate(page=number, url=url)
                raise
            assert following is not None  # not the end: a page, with its body
            assert answer.body is not None
            if number > max_pages:
                raise FetchError(f"more than the cap of {max_pages} pages", page=number, url=url)
            seen[hash(url)] = number
            page = following
            yield page, answer.body, url

    def follow(self, number: int, url: str, step: tuple[str, str], seen: dict[int, int]) -> str:
        """The URL that page ``number`` (served at ``url``) names for the next page, if it is
        one to follow: a URL of the configured origin, not a page already fetched."""
        target, what = step
        if len(target) > MAX_URL_CHARS or not (target.isascii() and target.isprintable()):
            raise DataError(f"{what} does not make a usable URL", page=number, url=url)
        try:
            where = origin(target)
        except ValueError:
            raise DataError(f"{what} does not make an http(s) URL", page=number, url=url) from None
        if where != self.origin:
            raise FetchError(
                f"{what} leads to {where}: refused, only {self.origin} "
                "(the configured origin) is followed",
                page=number,
                url=url,
            )
        if hash(target) in seen:
            loop = f"{what} leads back to page {seen[hash(target)]}: the pages loop"
            raise DataError(loop, page=number, url=url)
        return target

    def concurrently(self, last: int, size: int) -> Iterator[tuple[Page, bytes, str]]:
        """Pages 2..last, then last+1, which must be the end; at most `window` out at once."""
        pages, fetcher = self.paginator, self.fetcher
        numbers = iter(range(2, last + 2))
        for number in numbers:
            fetcher.ask(number, pages.url(number, (number - 1) * size))
            if len(fetcher.out) >= fetcher.window:
                break
        while fetcher.out:
            answer = fetcher.answer()
            number = answer.number
            if number > last:
                self.check_end(answer, last)
            elif answer.body is None:
                raise FetchError(
                    f"HTTP 404, but {self.total} implies {last} pages", page=number, url=answer.url
                )
            else:
                page = self.decode(answer)
                assert page is not None  # a body
                yield page, answer.body, answer.url
                del page  # not held while the next is decoded
            for following in numbers:  # after the page: it counts in the window until added
                fetcher.ask(following, pages.url(following, (following - 1) * size))
                break

    def check_end(self, answer: Answer, last: int) -> None:
        """The answer after the ``last`` page must be the end."""
        try:
            if self.paginator.ends(self.decode(answer)):
                return
        except FetchError as exc:
            exc.locate(page=answer.number, url=answer.url)
            raise
        raise FetchError(
            f"expected the end ({self.paginator.ending}) after {last} pages; the ledger "
            "changed while paging",
            page=answer.number,
            url=answer.url,
        )
