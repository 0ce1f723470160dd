"""One shared object per process, made on first use."""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def process_wide(factory: Callable[[], T]) -> Callable[[], T]:
    """`factory` called once, under a lock (threads may ask at the same moment); later calls return its result."""
    made: list[T] = []
    lock = threading.Lock()

    @functools.wraps(factory)
    def get() -> T:
        with lock:
            if not made:
                made.append(factory())
            return made[0]

    return get
