"""The pages a run read, kept in one file and read back to replay it (docs/pages-file.md)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import tempfile
import threading
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Annotated, Any, Literal

import msgspec

from ._version import __version__
from .duplicates import MAX_SPOOL_BYTES
from .errors import BenchtestError, ConfigError, DataError, FetchError, StorageError
from .files import open_regular_file, read_file
from .model import decode as decode_report
from .paging import MAX_PAGE_BYTES, Answers
from .reconcile import MAX_PREVIOUS_BYTES
from .settings import SAMPLE, FetchSettings, ReportSettings, Settings, SourceSettings, zone
from .text import quoted
from .transport import MAX_LINK_CHARS, Guard, Transport
from .urls import origin, without_credentials

log = logging.getLogger("benchtest")

FORMAT, VERSION = "benchtest pages", 1
DESCRIPTION = "description.json"  # the member that describes the run; the others are pages
MAX_PAGES = 100_000  # pages a file holds besides their end: the default max_pages
MAX_HEAD_BYTES = 8192 + MAX_LINK_CHARS  # an answer's first line: URL, status, headers
KEPT_FETCH = ("url", "concurrency", "max_pages", "auth_header")  # never a secret
_SORTED = msgspec.json.Encoder(order="sorted")


class Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An answer's first line in its member; the body as served follows the newline."""

    url: str  # credentials removed
    status: Literal[200, 404]
    headers: dict[str, str]  # those paging reads: today Link, when there is one


class Description(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    format: str
    version: int
    benchtest: str  # the version that kept the pages
    generated_at: Annotated[datetime, msgspec.Meta(tz=True)]  # the report's
    template: str  # the page URL template paged, credentials removed
    fetch: dict[str, Any]  # KEPT_FETCH
    source: SourceSettings
    report: ReportSettings
    request_headers: tuple[str, ...]  # names of headers sent besides User-Agent and Accept
    tz_database: str | None  # where a named time zone is used
    error: str | None  # how the run ended, when it failed


def _frame(digest: Any, *parts: bytes) -> None:
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def answer_digest(page: int, answer: Answer, body: bytes) -> bytes:
    """SHA-256 of one answer: page number, URL, status, headers and body, each length-prefixed."""
    digest, headers = hashlib.sha256(), _SORTED.encode(answer.headers)
    _frame(digest, b"%d" % page, answer.url.encode(), b"%d" % answer.status, headers, body)
    return digest.digest()


def tz_database(name: str) -> str:
    """The tz database zone ``name`` is read from, and its version: zoneinfo reads the system's
    first (its tzdata.zi names the version), else the tzdata package's."""
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        if os.path.isfile(os.path.join(folder, name)):
            with contextlib.suppress(OSError), open(os.path.join(folder, "tzdata.zi")) as file:
                return f"{file.readline(100).removeprefix('# version ').strip()} ({folder})"
            return f"unknown ({folder})"
    import tzdata  # type: ignore[import-untyped]

    return f"{tzdata.IANA_VERSION} (the tzdata package)"


def named_zone(source: SourceSettings) -> str | None:
    """The tz database zone the records' dates are counted in, if one is used."""
    used = source.date_form != "date" and source.time_zone not in ("UTC", "as_served", "")
    return source.time_zone if used else None


def describe(settings: Settings, template: str, at: datetime, error: str | None) -> bytes:
    """The run's description: what shapes paging, decoding and the report, never a secret."""
    fetch, source = settings.fetch, settings.source
    kept = {name: getattr(fetch, name) for name in KEPT_FETCH}
    kept["url"] = url = without_credentials(fetch.url)
    token = settings.auth_token is not None and not settings.is_sample
    sent: tuple[str, ...] = (
        (fetch.auth_header,) if token else ("Authorization",) if url != fetch.url else ()
    )
    sent += tuple(name for name, _ in fetch.headers)  # their names, never their values
    named = named_zone(source)
    return msgspec.json.encode(
        Description(
            format=FORMAT,
            version=VERSION,
            benchtest=__version__,
            generated_at=at,
            template=without_credentials(template),
            fetch=kept,
            source=source,
            report=settings.report,
            request_headers=sent,
            tz_database=named and tz_database(named),
            error=error,
        )
    )


class Recorder:
    """One run's answers and their digest; with ``keep``, the pages file, handed to ``keep``
    when the run ends (a failed run's too); with ``replay``, the answers are a pages file's."""

    origin: str
    guard: Guard
    inner: Answers

    def __init__(
        self,
        settings: Settings,
        keep: Callable[[IO[bytes]], None] | None = None,
        replay: Replay | None = None,
    ) -> None:
        self.settings, self.replay, self._keep = settings, replay, keep
        self.description = None if replay is None else replay.description
        self.generated_at = None if replay is None else replay.generated_at
        self.template = settings.fetch.url
        self._hashes: dict[int, bytes] = {}
        self._zip: Any = None  # a zipfile.ZipFile, while the pages are written
        self._failure: StorageError | None = None  # the writer's
        # Bounded: when compressing lags, the fetch threads wait; the memory does not grow.
        self._queue: queue.Queue[tuple[int, bytes, bytes] | None] = queue.Queue(
            settings.fetch.concurrency
        )

    def opener(self, template: str) -> Callable[..., Answers]:
        """`fetch_pages`' transport: `Transport` (or the replay), each answer recorded."""
        self.template = template
        if self._keep is not None:
            import zipfile  # only when pages are kept: not at every Lambda init

            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
            self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            self._writer = threading.Thread(target=self._write, name="benchtest-pages")
            self._writer.start()
        make = Transport if self.replay is None else self.replay.open

        def open_transport(*args: Any, **kw: Any) -> Answers:
            self.inner = make(*args, **kw)
            self.origin, self.guard = self.inner.origin, self.inner.guard
            return self

        return open_transport

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]:
        body, link = self.inner.get(url, page)
        headers = {} if link is None else {"Link": link}
        answer = Answer(without_credentials(url), 404 if body is None else 200, headers)
        self._hashes[page] = answer_digest(page, answer, body or b"")
        if self._zip is not None:
            if self._failure is not None:
                raise self._failure
            if page > MAX_PAGES + 1:
                raise StorageError(f"a pages file holds at most {MAX_PAGES:,} pages", page=page)
            self._queue.put((page, msgspec.json.encode(answer) + b"\n", body or b""))
        return body, link

    def _write(self) -> None:
        """The writer thread: each answer into its member, compressed here, so that neither the
        thread that decodes nor an answer's way to it waits for deflate."""
        while (item := self._queue.get()) is not None:
            page, head, body = item
            try:
                if self._failure is None:
                    with self._zip.open(str(page), "w") as member:
                        member.write(head)
                        member.write(body)
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or exc
                self._failure = StorageError(f"cannot keep the pages: {reason}", page=page)
            self._queue.task_done()

    @property
    def bodies(self) -> Callable[[int], bytes] | None:
        """Where the duplicate check reads a body back: the pages file, when there is one."""
        return None if self._keep is None and self.replay is None else self.body

    def body(self, page: int) -> bytes:
        """Page ``page``'s body as served, read back from the pages file."""
        if self.replay is not None:
            return self.replay.read(page)[1]
        self._queue.join()  # every answer so far written
        if self._failure is not None:
            raise self._failure
        with self._zip.open(str(page)) as member:
            data: bytes = member.read()
        return data.partition(b"\n")[2]

    def stop(self) -> None:
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()

    def digest(self, at: datetime, error: str | None = None) -> str:
        """``sha256:`` and the hex SHA-256 of the run's description (made here, once, with its
        time ``at``), length-prefixed, and of each answer's digest, in page order."""
        if self.description is None:
            self.description = describe(self.settings, self.template, at, error)
        elif self.replay is not None and self.replay.pages.keys() - self._hashes:
            unasked = min(self.replay.pages.keys() - self._hashes)
            raise DataError("is in the pages file but this run never asked for it", page=unasked)
        outer = hashlib.sha256()
        _frame(outer, self.description)
        for page in sorted(self._hashes):
            outer.update(self._hashes[page])
        return f"sha256:{outer.hexdigest()}"

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        """Finish the pages file and hand it to ``keep``; when the run failed, a failure to keep
        them is logged and the run's error stands."""
        if self.replay is not None:
            self.replay.release()
        if self._zip is None:
            return
        import zipfile

        self._queue.put(None)
        self._writer.join()
        try:
            if self._failure is not None:
                raise self._failure
            if self.description is None:  # the run failed before its report
                how = None if error is None else str(error) or type(error).__name__
                self.digest(datetime.now(UTC).replace(microsecond=0), how)
            with self._zip:  # every member dated 1980-01-01
                self._zip.writestr(zipfile.ZipInfo(DESCRIPTION), self.description)
            self._file.seek(0)
            assert self._keep is not None
            self._keep(self._file)
        except Exception as exc:
            reason = getattr(exc, "strerror", None) or exc
            failure = exc
            if not isinstance(exc, BenchtestError):
                failure = StorageError(f"cannot keep the pages: {reason}")
            if error is None:
                raise failure from exc.__cause__ if failure is exc else exc
            log.error("the pages read were not kept: %s", failure)
        finally:
            self._file.close()


class Replay:
    """A pages file, checked before anything is built from it (its entries, each member's size
    and compression, the description as settings); `open` makes it the transport."""

    origin: str
    guard: Guard

    def __init__(self, path: str) -> None:
        import zipfile

        self.name, self._lock = f"pages file {quoted(path, 200)}", threading.Lock()
        try:
            self._file = open_regular_file(path)
        except OSError as exc:
            raise ConfigError(f"{self.name}: cannot read: {exc.strerror or exc}") from None
        try:
            self._read(zipfile)
        except BaseException:
            self._file.close()
            raise

    def _refused(self, reason: str) -> ConfigError:
        return ConfigError(f"{self.name}: {reason}")

    def _read(self, zipfile: Any) -> None:
        # zipfile's own reader of the end record (private, there since Python 2): the count and
        # the directory's size, before ZipFile builds an object for each entry.
        end = zipfile._EndRecData(self._file)
        if end is None:
            raise self._refused("not a pages file (not a ZIP file)")
        if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_PAGES + 2 or end[zipfile._ECD_SIZE] > 1 << 24:
            raise self._refused(f"more entries than the {MAX_PAGES + 2:,} a pages file holds")
        try:
            self.zip = zipfile.ZipFile(self._file)
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise self._refused(f"not a pages file ({exc})") from None
        self.pages: dict[int, Any] = {}  # page number -> its ZipInfo
        total = 0
        for info in self.zip.infolist():
            name, total = info.filename, total + info.file_size
            if name != DESCRIPTION:
                number = int(name) if name.isascii() and name.isdigit() else 0
                if str(number) != name or not 0 < number <= MAX_PAGES + 1 or number in self.pages:
                    raise self._refused(f"not a pages file (an entry named {quoted(name, 100)})")
                self.pages[number] = info
            usual = info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            if not usual or info.flag_bits & 1 or info.file_size > MAX_HEAD_BYTES + MAX_PAGE_BYTES:
                raise self._refused(f"{quoted(name, 100)} is not as benchtest writes it")
        if total > MAX_SPOOL_BYTES or DESCRIPTION not in self.zip.NameToInfo:
            why = "more bytes than a run keeps" if total > MAX_SPOOL_BYTES else f"no {DESCRIPTION}"
            raise self._refused(f"not a pages file ({why})")
        try:
            with self.zip.open(DESCRIPTION) as member:
                text = member.read(1 << 20)  # far above any description
            head = msgspec.json.decode(text)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, msgspec.MsgspecError) as exc:
            raise self._refused(f"not a pages file ({exc})") from None
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise self._refused("not a pages file")
        if head.get("version") != VERSION:
            raise self._refused(
                f"a pages file of version {quoted(str(head.get('version')), 20)}; benchtest "
                f"{__version__} reads version {VERSION}"
            )
        try:
            self._rebuild(msgspec.json.decode(text, type=Description))
        except (msgspec.MsgspecError, ValueError) as exc:
            raise self._refused(f"its description cannot be rebuilt: {exc}") from None
        self.description = text

    def _rebuild(self, kept: Description) -> None:
        """The run's settings, template and time, checked as settings are."""
        if not set(kept.fetch) <= set(KEPT_FETCH):
            raise ValueError(f"unknown fetch settings {sorted(set(kept.fetch) - set(KEPT_FETCH))}")
        fetch = msgspec.convert(kept.fetch, FetchSettings)
        for url in {kept.template, fetch.url} - {SAMPLE}:
            origin(url)  # ValueError unless an http(s) URL
        named = named_zone(kept.source)
        if not all(amount.is_finite() for _, amount in kept.report.assert_balance):
            raise ValueError("assert_balance: not a finite amount")
        here = named and zone(named) and tz_database(named)  # a zone this machine has
        if here != kept.tz_database:
            log.warning("the pages were read with tz %s; here it is %s", kept.tz_database, here)
        self.settings = Settings(fetch, kept.source, kept.report)
        self.template, self.generated_at, self.error = kept.template, kept.generated_at, kept.error

    @property
    def source(self) -> tuple[str, str | None]:
        """The page URL template and the report's label for it (the bundled sample's)."""
        from .source import SAMPLE_SOURCE

        return self.template, SAMPLE_SOURCE if self.settings.is_sample else None

    def open(self, url: str, *, deadline: float, page_cap: int, **_: Any) -> Replay:
        """This file as `fetch_pages`' transport, from `Transport`'s arguments."""
        self.origin, self.guard, self.page_cap = origin(url), Guard(deadline), page_cap
        return self

    def read(self, page: int, url: str | None = None) -> tuple[Answer, bytes]:
        """Page ``page``'s answer and body, read from the file, bounded and checked (asked for
        at ``url``, when given)."""
        import zipfile

        info = self.pages.get(page)
        if info is None:
            failed = "" if self.error is None else f" (the run that kept it failed: {self.error})"
            raise FetchError(f"not in the pages file{failed}", page=page, url=url)
        try:
            with self._lock:  # ZipFile counts its open members
                member = self.zip.open(info)
            with member:
                head, _, body = member.read(MAX_HEAD_BYTES + self.page_cap + 1).partition(b"\n")
            answer = msgspec.json.decode(head, type=Answer)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, msgspec.MsgspecError) as exc:
            raise DataError(f"damaged in the pages file: {exc}", page=page, url=url) from None
        if url is not None and answer.url != without_credentials(url):
            raise DataError(f"the pages file has {quoted(answer.url, 200)}", page=page, url=url)
        link = answer.headers.get("Link", "")
        over = len(head) > MAX_HEAD_BYTES or len(body) > self.page_cap
        if over or len(link) > MAX_LINK_CHARS or (answer.status == 404 and body):
            raise DataError("in the pages file, not as a run keeps it", page=page, url=url)
        return answer, body

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]:
        """Page ``page``'s answer as the transport gave it, if the file has it at ``url``."""
        answer, body = self.read(page, url)
        return (body if answer.status == 200 else None), answer.headers.get("Link")

    def stop(self) -> None:
        self.guard.stop()

    def close(self) -> None:
        """The transport's: the file stays open for the duplicate check until `release`."""

    def release(self) -> None:
        self.zip.close()
        self._file.close()


def check_report(digest: str | None, path: str) -> None:
    """Refuse pages whose digest is not the one the JSON report at ``path`` names."""
    read = read_file(path, MAX_PREVIOUS_BYTES)
    if read is None:
        raise ConfigError(f"{path}: no such file", origin="--report")
    try:
        named = decode_report(read[0]).pages_digest
    except msgspec.MsgspecError as exc:
        raise ConfigError(f"{path}: not a JSON report ({exc})", origin="--report") from None
    if named is None:
        raise DataError(f"{path} names no pages digest: it was made before pages were kept")
    if named != digest:
        raise DataError(
            f"the pages' digest {digest} is not the {named} that {path} names: these are not "
            "the pages that report was computed from"
        )
