"""The pages a run read, kept in one file, and read back to replay the run (docs/pages-file.md).

`Recorder` stands between the paging and its transport: each answer (page, URL, status, the
headers paging reads, the body as served) is hashed by the fetch thread that got it and, when the
pages are kept, compressed there into a ZIP member, off the thread that decodes. `Replay` reads a
pages file back, bounded and checked before anything is built from it, and answers the paging
as the transport did. `digest`: SHA-256 over the description and each answer's SHA-256.
"""

from __future__ import annotations

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
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

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

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger("benchtest")

FORMAT, VERSION = "benchtest pages", 1
DESCRIPTION = "description.json"  # the member that describes the run; the others are pages
MAX_PAGES = 100_000  # pages a file holds besides their end: the default max_pages
MAX_DESCRIPTION_BYTES = 1 << 20
MAX_HEAD_BYTES = 8192 + MAX_LINK_CHARS  # an answer's first line: URL, status, headers
KEPT_FETCH = ("url", "concurrency", "max_pages", "auth_header")  # never a secret


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
    request_headers: tuple[str, ...]  # names of the headers sent besides User-Agent, Accept
    tz_database: str | None  # where a named time zone is used: the tz database's version
    error: str | None  # how the run ended, when it failed


class _Head(msgspec.Struct):
    format: str = ""
    version: int = 0


_SORTED = msgspec.json.Encoder(order="sorted")


def _frame(digest: Any, *parts: bytes) -> None:
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def answer_digest(page: int, answer: Answer, body: bytes) -> bytes:
    """SHA-256 of one answer: page number, URL, status, headers and body, each length-prefixed."""
    digest = hashlib.sha256()
    headers = _SORTED.encode(answer.headers)
    _frame(digest, b"%d" % page, answer.url.encode(), b"%d" % answer.status, headers, body)
    return digest.digest()


def tz_database(name: str) -> str:
    """The version of the tz database zone ``name`` is read from, and where: zoneinfo reads the
    system's first (its tzdata.zi names the version), else the tzdata package."""
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        if os.path.isfile(os.path.join(folder, name)):
            try:
                with open(os.path.join(folder, "tzdata.zi"), encoding="utf-8") as file:
                    first = file.readline(100)
            except OSError:
                first = ""
            found = first.startswith("# version ")
            return f"{first[10:].strip() if found else 'unknown'} ({folder})"
    import tzdata  # type: ignore[import-untyped]

    return f"{tzdata.IANA_VERSION} (the tzdata package)"


def _describe(
    settings: Settings, template: str | None, at: datetime, error: BaseException | None
) -> bytes:
    fetch, source = settings.fetch, settings.source
    kept = {name: getattr(fetch, name) for name in KEPT_FETCH}
    kept["url"] = url = without_credentials(fetch.url)
    token = settings.auth_token is not None and not settings.is_sample
    sent = (fetch.auth_header,) if token else ("Authorization",) if url != fetch.url else ()
    named = source.date_form == "timestamp" and source.time_zone != "UTC"
    description = Description(
        format=FORMAT,
        version=VERSION,
        benchtest=__version__,
        generated_at=at,
        template=without_credentials(template or fetch.url),
        fetch=kept,
        source=source,
        report=settings.report,
        request_headers=sent,
        tz_database=tz_database(source.time_zone) if named else None,
        error=None if error is None else str(error) or type(error).__name__,
    )
    return msgspec.json.encode(description)


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
        self.template: str | None = None
        self._hashes: dict[int, bytes] = {}
        self._file: IO[bytes] | None = None
        self._zip: zipfile.ZipFile | None = None
        self._failure: StorageError | None = None  # the writer's

    def opener(self, template: str) -> Callable[..., Answers]:
        """`fetch_pages`' transport: `Transport` (or the replay), each answer recorded."""
        self.template = template
        if self._keep is not None:
            import zipfile  # only when pages are kept: not at every Lambda init

            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
            self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            # Bounded: when compressing lags, the fetch threads wait, not the memory grows.
            self._queue: queue.Queue[tuple[int, bytes, bytes] | None] = queue.Queue(
                self.settings.fetch.concurrency
            )
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
        thread that decodes nor the answer's way to it waits for that."""
        assert self._zip is not None
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
        return self.body if self._keep is not None or self.replay is not None else None

    def body(self, page: int) -> bytes:
        """Page ``page``'s body as served, read back from the pages file."""
        if self.replay is not None:
            return self.replay.read(page)[1]
        assert self._zip is not None
        self._queue.join()  # the writer has written every answer so far
        if self._failure is not None:
            raise self._failure
        with self._zip.open(str(page)) as member:
            return member.read().partition(b"\n")[2]

    def stop(self) -> None:
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()

    @property
    def generated_at(self) -> datetime | None:
        return None if self.replay is None else self.replay.generated_at

    def digest(self, at: datetime, error: BaseException | None = None) -> str:
        """``sha256:`` and the hex SHA-256 of the run's description (made here, once, with its
        time ``at``) and of each answer's digest, in page order."""
        if self.description is None:
            self.description = _describe(self.settings, self.template, at, error)
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
        """Finish the pages file and hand it to ``keep``: when the run failed, a failure to
        keep it is logged, and the run's error stands."""
        if self.replay is not None:
            self.replay.release()
        if self._zip is None or self._file is None or self._keep is None:
            return
        self._queue.put(None)
        self._writer.join()
        try:
            if self._failure is not None:
                raise self._failure
            if self.description is None:  # the run failed before its report
                self.digest(datetime.now(UTC).replace(microsecond=0), error)
            import zipfile

            with self._zip:  # the date of every member 1980-01-01, as for the pages
                self._zip.writestr(zipfile.ZipInfo(DESCRIPTION), self.description or b"")
            self._file.seek(0)
            self._keep(self._file)
        except Exception as exc:
            failure = exc
            if not isinstance(exc, BenchtestError):
                failure = StorageError(
                    f"cannot keep the pages: {getattr(exc, 'strerror', 0) or exc}"
                )
                failure.__cause__ = exc
            if error is None:
                raise failure from failure.__cause__
            log.error("the pages read were not kept: %s", failure)
        finally:
            self._file.close()


class Replay:
    """A pages file read back: checked and bounded before anything is built from it (the
    entries counted, each member's size and compression, the description), then a transport
    (`open`) answering from it."""

    origin: str
    guard: Guard

    def __init__(self, path: str) -> None:
        import zipfile

        self.name = f"pages file {quoted(path, 200)}"
        try:
            self._file = open_regular_file(path)
        except OSError as exc:
            raise ConfigError(f"{self.name}: cannot read: {exc.strerror or exc}") from None
        self._lock = threading.Lock()
        try:
            self._read(zipfile)
        except BaseException:
            self._file.close()
            raise

    def _refused(self, reason: str) -> ConfigError:
        return ConfigError(f"{self.name}: {reason}")

    def _read(self, zipfile: Any) -> None:
        # zipfile's reader of the end record (private, there since Python 2): the entries and
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
        self.pages: dict[int, zipfile.ZipInfo] = {}
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
        if total > MAX_SPOOL_BYTES:
            raise self._refused(f"more than the {MAX_SPOOL_BYTES:,} bytes a run keeps")
        if DESCRIPTION not in self.zip.NameToInfo:
            raise self._refused(f"not a pages file (no {DESCRIPTION})")
        try:
            with self.zip.open(DESCRIPTION) as member:
                text = member.read(MAX_DESCRIPTION_BYTES + 1)
            head = msgspec.json.decode(text, type=_Head)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, msgspec.MsgspecError) as exc:
            raise self._refused(f"not a pages file ({exc})") from None
        if head.format != FORMAT or len(text) > MAX_DESCRIPTION_BYTES:
            raise self._refused("not a pages file")
        if head.version != VERSION:
            raise self._refused(
                f"a pages file of version {head.version}; benchtest {__version__} reads "
                f"version {VERSION}"
            )
        try:
            self._describe(msgspec.json.decode(text, type=Description))
        except (msgspec.MsgspecError, ValueError) as exc:
            raise self._refused(f"its description cannot be rebuilt: {exc}") from None
        self.description = text

    def _describe(self, kept: Description) -> None:
        """The run's settings, template and time, from its description, checked as settings."""
        if not set(kept.fetch) <= set(KEPT_FETCH):
            raise ValueError(f"unknown fetch settings {sorted(set(kept.fetch) - set(KEPT_FETCH))}")
        fetch = msgspec.convert(kept.fetch, FetchSettings)
        if fetch.url != SAMPLE:
            origin(fetch.url)  # ValueError unless an http(s) URL
        origin(kept.template)
        zone(kept.source.time_zone)  # one this machine has
        if not all(amount.is_finite() for _, amount in kept.report.assert_balance):
            raise ValueError("assert_balance: not a finite amount")
        here = kept.tz_database and tz_database(kept.source.time_zone)
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
        """A transport for `fetch_pages`, as `Transport`'s arguments ask."""
        self.origin, self.guard, self.page_cap = origin(url), Guard(deadline), page_cap
        return self

    def read(self, page: int, url: str | None = None) -> tuple[Answer, bytes]:
        """Page ``page``'s answer and body, read from the file, bounded and checked."""
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
        if len(body) > self.page_cap or (answer.status == 404 and body):
            raise DataError("its body in the pages file is not one a run keeps", page=page, url=url)
        return answer, body

    def get(self, url: str, page: int) -> tuple[bytes | None, str | None]:
        """Page ``page``'s answer, as the transport gave it, if the file has it at ``url``."""
        answer, body = self.read(page, url)
        link = answer.headers.get("Link")
        if answer.url != without_credentials(url):
            raise DataError(f"the pages file has {quoted(answer.url, 200)}", page=page, url=url)
        if link is not None and len(link) > MAX_LINK_CHARS:
            raise DataError("its Link header in the pages file is too long", page=page, url=url)
        return (body if answer.status == 200 else None), link

    def stop(self) -> None:
        self.guard.stop()

    def close(self) -> None:
        """The transport's: the file stays open for the duplicate check (`release`)."""

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
