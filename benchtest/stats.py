"""What a run did, counted as it goes: a failed run still tells how far it got."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RunStats:
    pages: int = 0
    transactions: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    expected_pages: int | None = None  # known once page 1 gives the total count
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def request(self) -> None:
        with self._lock:
            self.requests += 1

    def retry(self) -> None:
        """One more attempt of a request that failed."""
        with self._lock:
            self.retries += 1

    def page(self, transactions: int) -> None:
        with self._lock:
            self.pages += 1
            self.transactions += transactions

    def expect(self, pages: int) -> None:
        self.expected_pages = pages

    def finish(self, seconds: float) -> None:
        self.seconds = seconds
