"""At most N photos decoded and coloured at once in this process (pages, studio and API together).

Colouring a large photo needs memory in proportion to its pixels (see `scripts/bench_memory.py`), so the number
of photos worked on at once is what bounds the process's memory: `settings.MODEL_SLOTS` slots, taken first come,
first served; the others wait in order. The API asks for an estimate of the wait first and answers 503 with
Retry-After rather than hold a client longer than it allows (counting the time its request already waited for an
app thread: `dashboard.server.connections.seconds_since_received`).
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from .. import settings
from .process_wide import process_wide


class SlotWaitTooLong(Exception):
    """No slot came free in time; `retry_after` is a fair guess, in whole seconds, of when one will."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy; retry after {retry_after} s")
        self.retry_after = retry_after


class ModelSlots:
    """A fair (first come, first served) counting semaphore that also estimates how long a newcomer would wait."""

    def __init__(self, count: int, typical_seconds: float = 2.0) -> None:
        if count < 1:
            raise ValueError("count must be at least 1.")
        self.count = count
        self._busy = 0
        self._waiting: deque[tuple[object, str | None]] = deque()  # (ticket, owner), first come first
        self._condition = threading.Condition()
        self._typical_seconds = typical_seconds  # a running average of how long one photo holds a slot

    @property
    def waiting(self) -> int:
        with self._condition:
            return len(self._waiting)

    def expected_wait(self) -> float:
        """Seconds a newcomer would wait now: the jobs ahead of it, shared among the slots."""
        with self._condition:
            ahead = len(self._waiting) + self._busy - self.count + 1
            return max(ahead, 0) * self._typical_seconds / self.count

    def position(self, owner: str) -> int | None:
        """How many photos wait before `owner`'s first waiting one (None when it has none waiting): what a page
        shows while its photo waits."""
        with self._condition:
            return next((index for index, (_, waiting) in enumerate(self._waiting) if waiting == owner), None)

    @contextmanager
    def slot(self, timeout: float | None = None, owner: str | None = None) -> Iterator[None]:
        """Hold a slot for the block; SlotWaitTooLong if none came free within `timeout` seconds. `owner` (a
        browser session) lets `position` find this wait."""
        ticket = (object(), owner)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            self._waiting.append(ticket)
            while self._busy >= self.count or self._waiting[0] is not ticket:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._waiting.remove(ticket)
                    self._condition.notify_all()
                    raise SlotWaitTooLong(self._retry_after())
                self._condition.wait(remaining)
            self._waiting.popleft()
            self._busy += 1
            self._condition.notify_all()  # the next in line may also find a free slot
        started = time.monotonic()
        try:
            yield
        finally:
            with self._condition:
                self._busy -= 1
                self._typical_seconds = 0.8 * self._typical_seconds + 0.2 * (time.monotonic() - started)
                self._condition.notify_all()

    def _retry_after(self) -> int:
        ahead = len(self._waiting) + self._busy
        return max(1, math.ceil(ahead * self._typical_seconds / self.count))

    def refuse_if_wait_over(self, seconds: float) -> None:
        """SlotWaitTooLong now when the expected wait is longer than `seconds` (no point queueing; always when
        `seconds` is below 0)."""
        if self.expected_wait() > seconds:
            raise self.too_long()

    def too_long(self) -> SlotWaitTooLong:
        """The refusal for a newcomer that cannot wait (raise it), with a Retry-After for the work here now."""
        with self._condition:
            return SlotWaitTooLong(self._retry_after())


@process_wide
def model_slots() -> ModelSlots:
    """The process's slots (COLORIZER_MODEL_SLOTS)."""
    return ModelSlots(settings.MODEL_SLOTS)
