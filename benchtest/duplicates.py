"""Possible duplicates: records identical as served, found exactly, in any order of dates."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import pairwise
from tempfile import SpooledTemporaryFile

from .errors import DataError, StorageError
from .transactions import Page, Record

SPOOL_MEMORY = 8 * 1024 * 1024  # page bodies kept in memory before the spool moves to disk
# The spool's bound on disk: ~35 million transactions of the Bench API's shape. A source that
# sends more cannot fill the disk of the machine that runs the report.
MAX_SPOOL_BYTES = 4 * 1024**3
RANGE_PRINTS = 1 << 16  # fingerprints in one set at the end: ~5 MB

Decode = Callable[[int, bytes], Page]


class Pages:
    """Every page of a run, kept for the end: bodies spooled, fingerprints in memory."""

    def __init__(self, decode: Decode, bodies: Callable[[int], bytes] | None = None) -> None:
        """``bodies``: where a page's body can be read back (the pages file) instead of a spool."""
        self._decode, self._bodies, self._size = decode, bodies, 0
        self._spool = SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 (closed in close)
        self._spans: dict[int, tuple[int, int]] = {}  # page number -> (offset, length)
        self._prints: dict[int, array[int]] = {}  # page number -> sorted fingerprints
        self._pages: dict[int, int] = {}  # a page's digest (of its fingerprints) -> its number
        self._count = 0

    def add(self, page: Page, body: bytes) -> None:
        """Keep ``page`` (decoded from ``body``)."""
        offset = self._size
        if offset + len(body) > MAX_SPOOL_BYTES:
            raise StorageError(
                f"the pages so far exceed the {MAX_SPOOL_BYTES:,} bytes kept for the duplicate "
                "check",
                page=page.number,
            )
        try:
            if self._bodies is None:
                self._spool.write(body)
        except OSError as exc:
            raise StorageError(
                f"cannot keep the page for the duplicate check: {exc.strerror or exc} "
                "(the spool is in TMPDIR; it needs about the size of the ledger's pages)",
                page=page.number,
            ) from exc
        self._size += len(body)
        hashes = list(map(hash, page.records))
        # An API serving a page again, whatever its URL: the same records in the same order
        # (one record alone may be a duplicate).
        earlier = self._pages.setdefault(hash(tuple(hashes)), page.number)
        if (
            len(hashes) > 1
            and earlier != page.number
            and self.page(earlier).records == page.records
        ):
            raise DataError(f"the same records as page {earlier}: the pages loop", page=page.number)
        self._spans[page.number] = (offset, len(body))
        self._prints[page.number] = array("q", sorted(hashes))
        self._count += len(page)

    def close(self) -> None:
        self._spool.close()

    def page(self, number: int) -> Page:
        """Page ``number`` again, decoded from the spool."""
        if self._bodies is not None:
            return self._decode(number, self._bodies(number))
        offset, length = self._spans[number]
        self._spool.seek(offset)
        body = self._spool.read(length)
        self._spool.seek(0, 2)  # back to the end, for the next `add`
        return self._decode(number, body)

    def records(self) -> Iterator[tuple[int, int, Record]]:
        """Every record, in ledger order: (page number, index, record)."""
        for number in sorted(self._spans):
            for index, record in enumerate(self.page(number).records):
                yield number, index, record

    def repeats(self) -> dict[Record, int]:
        """Each record that occurs more than once, and how many times (in ledger order)."""
        candidates = self._repeated_prints()
        counts: Counter[Record] = Counter()
        for number in sorted(self._prints) if candidates else ():
            if not candidates.isdisjoint(self._prints[number]):
                counts.update(r for r in self.page(number).records if hash(r) in candidates)
        return {record: count for record, count in counts.items() if count > 1}

    def _repeated_prints(self) -> set[int]:
        """The fingerprints that occur more than once, a value range at a time."""
        ranges = max(1, math.ceil(self._count / RANGE_PRINTS))
        bounds = [-(2**63) + (2**64 * k) // ranges for k in range(ranges + 1)]
        runs = list(self._prints.values())
        repeated: set[int] = set()
        for low, high in pairwise(bounds):
            part = array("q")
            for run in runs:
                if ranges == 1:
                    part.extend(run)
                else:
                    part.extend(run[bisect_left(run, low) : bisect_left(run, high)])
            unique = set(part)
            if len(unique) < len(part):
                for fingerprint in part:  # rare: only a range that holds a repeat
                    if fingerprint in unique:
                        unique.discard(fingerprint)
                    else:
                        repeated.add(fingerprint)
        return repeated
