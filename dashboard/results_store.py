"""Server-side keeping of uploads and results, so that large images never travel through the browser as base64.

A bounded, thread-safe, in-memory cache of `StoredImage`s, each owned by a browser session. It evicts the
least recently used images when the total size passes a byte budget (a session over its own budget loses its own
oldest images first, not other people's), and drops any image not used for `ttl_seconds`. Image ids are unguessable
(128 bits): an image's URL is the capability to see that image alone (`get_shared`).
A result kept with its `TouchUpState` can be touched up (brush strokes, `dashboard.jobs.touch_up_result`): each
touch-up is a new image (a new id, so no browser shows a cached copy of the old one) that keeps its strokes and the
id of the model's own result.
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

from colorizers import Colorization, Stroke

from . import settings
from .imaging import jpeg_bytes, thumbnail
from .process_wide import process_wide

logger = logging.getLogger(__name__)


class ImageTooLargeToKeepError(Exception):
    """An image larger than the store's whole byte budget; the message is written for the user."""


@dataclass(frozen=True)
class TouchUpState:
    """What a result needs to be touched up (again): the model's own `Colorization` (full-resolution lightness,
    model-size chroma; its `rgb` dropped, the stored image holds the pixels), the strokes the result was touched up
    with (none for the model's own result) and the id of the model's own stored result (None on that result)."""

    colorization: Colorization
    strokes: tuple[Stroke, ...] = ()
    original_id: str | None = None

    @property
    def nbytes(self) -> int:
        colorization = self.colorization
        return int(colorization.lightness.nbytes) + int(colorization.chroma.nbytes) + int(colorization.rgb.nbytes)


@dataclass(frozen=True)
class StoredImage:
    """One image kept for a session.

    rgb: uint8 (H, W, 3) at full resolution, read-only. thumbnail_jpeg: JPEG bytes of the display-size copy.
    filename: the name a download gets (e.g. "beach-colorized-welsh.png").
    touch_up_state: on a result that can be touched up, what that needs; None on uploads.
    """

    rgb: np.ndarray
    thumbnail_jpeg: bytes
    filename: str
    touch_up_state: TouchUpState | None = None

    @property
    def nbytes(self) -> int:
        """Memory the image holds, as counted against the store's budget. A touch-up shares the model's own
        `Colorization` with that result and counts it again: it keeps it alive should that result be evicted."""
        own = int(self.rgb.nbytes) + len(self.thumbnail_jpeg)
        return own + (self.touch_up_state.nbytes if self.touch_up_state is not None else 0)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the full-resolution image."""
        return self.rgb.shape[0], self.rgb.shape[1]


def make_stored_image(rgb: np.ndarray, filename: str, display_long_side: int | None = None,
                      touch_up_state: TouchUpState | None = None) -> StoredImage:
    """A `StoredImage` for sRGB uint8 (H, W, 3) `rgb`, with its display-size thumbnail made now (once)."""
    long_side = settings.DISPLAY_LONG_SIDE if display_long_side is None else display_long_side
    rgb = np.array(rgb, dtype=np.uint8, copy=True)  # our own copy, so that nobody can change it behind our back
    rgb.setflags(write=False)
    return StoredImage(rgb=rgb, thumbnail_jpeg=jpeg_bytes(thumbnail(rgb, long_side)), filename=filename,
                       touch_up_state=touch_up_state)


@dataclass
class _Entry:
    session_id: str
    image: StoredImage
    last_used: float


class ResultsStore:
    """Thread-safe LRU cache of `StoredImage`s bounded by total bytes, with expiry after `ttl_seconds` unused."""

    def __init__(self, max_bytes: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic,
                 session_max_bytes: int | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive.")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive.")
        self.max_bytes = max_bytes
        self.session_max_bytes = min(session_max_bytes or max_bytes, max_bytes)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        # Least recently used first; since every use moves an entry to the end and refreshes its time, the
        # expired entries are always a prefix of this order.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._total_bytes = 0
        self._lock = threading.Lock()

    def put(self, session_id: str, image: StoredImage) -> str:
        """Keep `image` for `session_id`; returns its new id (URL-safe). Evicts older images to make room."""
        if image.nbytes > self.session_max_bytes:
            raise ImageTooLargeToKeepError(
                f"This image needs {image.nbytes / 1e6:.0f} MB of memory, more than the server keeps for one "
                f"visitor ({self.session_max_bytes / 1e6:.0f} MB)."
            )
        image_id = secrets.token_urlsafe(16)
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            own = [key for key, entry in self._entries.items() if entry.session_id == session_id]
            own_bytes = sum(self._entries[key].image.nbytes for key in own)
            while own and own_bytes + image.nbytes > self.session_max_bytes:
                own_bytes -= self._evict(own.pop(0))
            self._entries[image_id] = _Entry(session_id, image, now)
            self._total_bytes += image.nbytes
            while self._total_bytes > self.max_bytes:
                self._evict(next(iter(self._entries)))
        return image_id

    def _evict(self, image_id: str) -> int:
        """Drop one image (caller holds the lock); returns its size."""
        evicted = self._entries.pop(image_id)
        self._total_bytes -= evicted.image.nbytes
        logger.info("Evicted an image of session %s to stay within the memory budget", evicted.session_id[:6])
        return evicted.image.nbytes

    def get(self, session_id: str, image_id: str) -> StoredImage | None:
        """The image, or None when it is unknown, expired, evicted or belongs to another session."""
        return self._get(image_id, session_id)

    def get_shared(self, image_id: str) -> StoredImage | None:
        """The image whose id a URL carries, whoever asks (the id is the capability); None when unknown."""
        return self._get(image_id, None)

    def _get(self, image_id: str, session_id: str | None) -> StoredImage | None:
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            entry = self._entries.get(image_id)
            if entry is None or (session_id is not None and entry.session_id != session_id):
                return None
            entry.last_used = now
            self._entries.move_to_end(image_id)
            return entry.image

    def discard(self, session_id: str, image_id: str) -> bool:
        """Forget one image of `session_id` (another session's is left alone); returns whether there was one."""
        with self._lock:
            entry = self._entries.get(image_id)
            if entry is None or entry.session_id != session_id:
                return False
            self._total_bytes -= self._entries.pop(image_id).image.nbytes
        return True

    def discard_session(self, session_id: str) -> int:
        """Forget every image of `session_id`; returns how many there were."""
        with self._lock:
            keys = [key for key, entry in self._entries.items() if entry.session_id == session_id]
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
    """The process's store, sized from the environment (COLORIZER_RESULTS_MAX_BYTES, ..._TTL_SECONDS,
    COLORIZER_SESSION_MAX_BYTES)."""
    return ResultsStore(settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                        session_max_bytes=settings.SESSION_MAX_BYTES)
