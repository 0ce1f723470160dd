"""Server-side keeping of uploads and results, so that large images never travel through the browser as base64.

A bounded, thread-safe, in-memory cache of `StoredImage`s keyed by (browser session id, image id). It evicts the
least recently used images when the total size passes a byte budget, and drops any image not used for `ttl_seconds`.
Each worker process has its own store: serve the app with one worker process (and several threads), or with sticky
sessions, so that an image is looked up in the process that made it.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import settings
from .imaging import jpeg_bytes, thumbnail
from .process_wide import process_wide

logger = logging.getLogger(__name__)


class ImageTooLargeToKeepError(Exception):
    """An image larger than the store's whole byte budget; the message is written for the user."""


@dataclass(frozen=True)
class StoredImage:
    """One image kept for a session.

    rgb: uint8 (H, W, 3) at full resolution, read-only. thumbnail_jpeg: JPEG bytes of the display-size copy.
    filename: the name a download gets (e.g. "beach-colorized-welsh.png").
    """

    rgb: np.ndarray
    thumbnail_jpeg: bytes
    filename: str

    @property
    def nbytes(self) -> int:
        """Memory the image holds, as counted against the store's budget."""
        return int(self.rgb.nbytes) + len(self.thumbnail_jpeg)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the full-resolution image."""
        return self.rgb.shape[0], self.rgb.shape[1]


def make_stored_image(rgb: np.ndarray, filename: str, display_long_side: int | None = None) -> StoredImage:
    """A `StoredImage` for sRGB uint8 (H, W, 3) `rgb`, with its display-size thumbnail made now (once)."""
    long_side = settings.DISPLAY_LONG_SIDE if display_long_side is None else display_long_side
    rgb = np.array(rgb, dtype=np.uint8, copy=True)  # our own copy, so that nobody can change it behind our back
    rgb.setflags(write=False)
    return StoredImage(rgb=rgb, thumbnail_jpeg=jpeg_bytes(thumbnail(rgb, long_side)), filename=filename)


@dataclass
class _Entry:
    image: StoredImage
    last_used: float


class ResultsStore:
    """Thread-safe LRU cache of `StoredImage`s bounded by total bytes, with expiry after `ttl_seconds` unused."""

    def __init__(self, max_bytes: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive.")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive.")
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        # Least recently used first; since every use moves an entry to the end and refreshes its time, the
        # expired entries are always a prefix of this order.
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._total_bytes = 0
        self._lock = threading.Lock()

    def put(self, session_id: str, image: StoredImage) -> str:
        """Keep `image` for `session_id`; returns its new id (URL-safe). Evicts older images to make room."""
        if image.nbytes > self.max_bytes:
            raise ImageTooLargeToKeepError(
                f"This image needs {image.nbytes / 1e6:.0f} MB of memory, more than the server keeps for all "
                f"results ({self.max_bytes / 1e6:.0f} MB)."
            )
        image_id = secrets.token_urlsafe(9)
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            self._entries[(session_id, image_id)] = _Entry(image, now)
            self._total_bytes += image.nbytes
            while self._total_bytes > self.max_bytes:
                (evicted_session, evicted_id), evicted = self._entries.popitem(last=False)
                self._total_bytes -= evicted.image.nbytes
                logger.info("Evicted image %s of session %s to stay under %d bytes", evicted_id, evicted_session[:6],
                            self.max_bytes)
        return image_id

    def get(self, session_id: str, image_id: str) -> StoredImage | None:
        """The image, or None when it is unknown, expired, evicted or belongs to another session."""
        key = (session_id, image_id)
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            entry = self._entries.get(key)
            if entry is None:
                return None
            entry.last_used = now
            self._entries.move_to_end(key)
            return entry.image

    def discard_session(self, session_id: str) -> int:
        """Forget every image of `session_id`; returns how many there were."""
        with self._lock:
            keys = [key for key in self._entries if key[0] == session_id]
            for key in keys:
                self._total_bytes -= self._entries.pop(key).image.nbytes
        return len(keys)

    @property
    def total_bytes(self) -> int:
        """Bytes held now (expired images not yet dropped included)."""
        with self._lock:
            return self._total_bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _drop_expired(self, now: float) -> None:
        """Drop entries unused for ttl_seconds (caller holds the lock)."""
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if now - entry.last_used < self.ttl_seconds:
                break
            del self._entries[key]
            self._total_bytes -= entry.image.nbytes


@process_wide
def default_store() -> ResultsStore:
    """The process's store, sized from the environment (COLORIZER_RESULTS_MAX_BYTES, ..._TTL_SECONDS)."""
    return ResultsStore(settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS)
