"""Server-side keeping of uploads and results, so that large images never travel through the browser as base64.

A bounded, thread-safe cache of `StoredImage`s, each owned by a browser session. It evicts the
least recently used images when the total size passes a byte budget (a session over its own budget loses its own
oldest images first, not other people's), and drops any image not used for `ttl_seconds`. Image ids are unguessable
(128 bits): an image's URL is the capability to see that image alone (`get_shared`).
A coloured video is kept the same way (`StoredVideo`: its MP4 bytes), counted in the same budgets: `get` and
`get_shared` give images only, `get(..., kind=StoredVideo)` videos only.
A result kept with its `TouchUpState` can be touched up (brush strokes, `dashboard.jobs.photos.touch_up_result`): each
touch-up is a new image (a new id, so no browser shows a cached copy of the old one) that keeps its strokes and the
id of the model's own result.
Two implementations with one interface: `ResultsStore` keeps the images in this process's memory (so serve the app
with one worker process and several threads, or with sticky sessions, so that an image is looked up in the process
that made it); `RedisResultsStore` keeps them in Redis, shared by every web process and machine and kept across
restarts of the web processes. `default_store()` picks Redis when COLORIZER_REDIS_URL is set.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from colorizers import Colorization, Stroke

from ..server import redis_link
from .. import settings
from .record_format import RecordFormat
from ..page_logic.imaging import jpeg_bytes, thumbnail
from ..server.process_wide import process_wide

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)


class ImageTooLargeToKeepError(Exception):
    """An image larger than the store's whole byte budget; the message is written for the user."""


def _refuse_if_too_large(nbytes: int, session_max_bytes: int) -> None:
    """Raise `ImageTooLargeToKeepError` for an image that one session's budget cannot hold."""
    if nbytes > session_max_bytes:
        raise ImageTooLargeToKeepError(
            f"This image needs {nbytes / 1e6:.0f} MB of memory, more than the server keeps for one "
            f"visitor ({session_max_bytes / 1e6:.0f} MB)."
        )


def _checked_limits(max_bytes: int, ttl_seconds: float, session_max_bytes: int | None) -> int:
    """Validate a store's limits; returns the session budget (at most the whole budget, which it defaults to)."""
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive.")
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive.")
    return min(session_max_bytes or max_bytes, max_bytes)


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


@dataclass(frozen=True)
class StoredVideo:
    """A coloured clip kept for a session: its MP4 bytes and the name a download gets (e.g.
    "film-colorized-cnn.mp4")."""

    mp4: bytes
    filename: str

    @property
    def nbytes(self) -> int:
        return len(self.mp4)


Kept = StoredImage | StoredVideo


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
    image: Kept
    last_used: float


class _Lookups:
    """How both stores are read: `_get(image_id, session_id or None, kind)` is each store's own."""

    def get(self, session_id: str, image_id: str, kind: type[Kept] = StoredImage) -> Kept | None:
        """The image (or with kind=StoredVideo, the video), or None when it is unknown, expired, evicted, of another
        kind or belongs to another session."""
        return self._get(image_id, session_id, kind)

    def get_shared(self, image_id: str, kind: type[Kept] = StoredImage) -> Kept | None:
        """The image (or video) whose id a URL carries, whoever asks (the id is the capability); None when unknown."""
        return self._get(image_id, None, kind)



class ResultsStore(_Lookups):
    """Thread-safe LRU cache of `StoredImage`s bounded by total bytes, with expiry after `ttl_seconds` unused."""

    def __init__(self, max_bytes: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic,
                 session_max_bytes: int | None = None) -> None:
        self.session_max_bytes = _checked_limits(max_bytes, ttl_seconds, session_max_bytes)
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        # Least recently used first; since every use moves an entry to the end and refreshes its time, the
        # expired entries are always a prefix of this order.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._total_bytes = 0
        self._lock = threading.Lock()

    def put(self, session_id: str, image: Kept) -> str:
        """Keep `image` for `session_id`; returns its new id (URL-safe). Evicts older images to make room."""
        _refuse_if_too_large(image.nbytes, self.session_max_bytes)
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

    def _get(self, image_id: str, session_id: str | None, kind: type[Kept]) -> Kept | None:
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            entry = self._entries.get(image_id)
            if entry is None or (session_id is not None and entry.session_id != session_id):
                return None
            if not isinstance(entry.image, kind):
                return None
            entry.last_used = now
            self._entries.move_to_end(image_id)
            return entry.image

    def exists(self, image_id: str) -> bool:
        """Whether the image (or video) is still kept, without counting this as a use (cheap: a page's polls)."""
        with self._lock:
            self._drop_expired(self._clock())
            return image_id in self._entries

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


IMAGE_FORMAT = RecordFormat([StoredImage, StoredVideo, TouchUpState, Colorization, Stroke])  # what a record may hold
_KEY_PREFIX = "colorizer:store:"  # other users of the same Redis (Celery, the studio) keep out of it
_LAST_USED = _KEY_PREFIX + "last_used"
_SIZES = _KEY_PREFIX + "sizes"
_OWNERS = _KEY_PREFIX + "owners"
_LOCK_SECONDS = 30  # a put holding the lock longer (or a crashed process) lets the next one in


def _image_key(image_id: str) -> str:
    return f"{_KEY_PREFIX}image:{image_id}"


class RedisResultsStore(_Lookups):
    """`ResultsStore` with the images in Redis: shared by every web process and machine that uses the same Redis, and
    kept across their restarts. Same budgets, eviction order and sliding expiry.

    Keys (under `colorizer:store:`): `image:<id>` holds the image as a record (`IMAGE_FORMAT`: never pickle) with a
    TTL of ttl_seconds that every use renews, so Redis itself forgets unused images. The budgets are counted on the
    bookkeeping: `last_used` (sorted set of ids by last use), `sizes` and `owners` (hashes of ids to bytes and to
    sessions). Each use renews their TTL as well, so they expire with the last image (never before one). Changes to them happen under `lock` (a redis-py
    lock); entries of expired images are dropped lazily (put, total_bytes, len).
    """

    def __init__(self, client: redis.Redis, max_bytes: int, ttl_seconds: float,
                 session_max_bytes: int | None = None) -> None:
        self.session_max_bytes = _checked_limits(max_bytes, ttl_seconds, session_max_bytes)
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._ttl_ms = max(1, round(ttl_seconds * 1000))

    def put(self, session_id: str, image: Kept) -> str:
        """Keep `image` for `session_id`; returns its new id (URL-safe). Evicts older images to make room."""
        _refuse_if_too_large(image.nbytes, self.session_max_bytes)
        image_id = secrets.token_urlsafe(16)
        blob = IMAGE_FORMAT.dumps(image)  # before taking the lock that other processes wait on
        with self._lock():
            order, sizes, owners = self._live()
            own = [key for key in order if owners[key] == session_id]
            own_bytes = sum(sizes[key] for key in own)
            evicted: list[str] = []
            while own and own_bytes + image.nbytes > self.session_max_bytes:
                evicted.append(own.pop(0))
                own_bytes -= sizes[evicted[-1]]
            own_evicted = set(evicted)
            others = [key for key in order if key not in own_evicted]
            total = sum(sizes[key] for key in others) + image.nbytes
            while total > self.max_bytes:  # the new image alone fits, so `others` runs out no sooner
                evicted.append(others.pop(0))
                total -= sizes[evicted[-1]]
            pipe = self._client.pipeline()  # MULTI/EXEC: a get elsewhere sees all of this or none of it
            self._forget(pipe, evicted)
            pipe.set(_image_key(image_id), blob, px=self._ttl_ms)
            pipe.zadd(_LAST_USED, {image_id: _now_us()})
            pipe.hset(_SIZES, image_id, image.nbytes)
            pipe.hset(_OWNERS, image_id, session_id)
            self._renew_bookkeeping(pipe)
            pipe.execute()
        for key in evicted:
            logger.info("Evicted an image of session %s to stay within the memory budget", owners[key][:6])
        return image_id

    def _get(self, image_id: str, session_id: str | None, kind: type[Kept]) -> Kept | None:
        # No lock: one round trip (two to check the owner), and only renewals that cannot break the bookkeeping.
        if session_id is not None and self._client.hget(_OWNERS, image_id) != session_id.encode():
            return None
        pipe = self._client.pipeline()
        pipe.get(_image_key(image_id))
        pipe.pexpire(_image_key(image_id), self._ttl_ms)
        pipe.zadd(_LAST_USED, {image_id: _now_us()}, xx=True)  # xx: never brings back an evicted image's entry
        self._renew_bookkeeping(pipe)
        image = IMAGE_FORMAT.loads_or_none(pipe.execute()[0], "image")
        return image if isinstance(image, kind) else None

    def exists(self, image_id: str) -> bool:
        """Whether the image (or video) is still kept, without counting this as a use (cheap: a page's polls)."""
        return bool(self._client.exists(_image_key(image_id)))

    def discard(self, session_id: str, image_id: str) -> bool:
        """Forget one image of `session_id` (another session's is left alone); returns whether there was one."""
        with self._lock():
            if self._client.hget(_OWNERS, image_id) != session_id.encode():
                return False
            return self._forget_now([image_id]) > 0

    def discard_session(self, session_id: str) -> int:
        """Forget every image of `session_id`; returns how many there were."""
        with self._lock():
            owners = self._client.hgetall(_OWNERS)
            return self._forget_now([key.decode() for key, owner in owners.items() if owner == session_id.encode()])

    @property
    def total_bytes(self) -> int:
        """Bytes held now (expired images excluded)."""
        with self._lock():
            return sum(self._live()[1].values())

    def __len__(self) -> int:
        with self._lock():
            return len(self._live()[0])

    def _lock(self) -> redis.lock.Lock:
        return self._client.lock(_KEY_PREFIX + "lock", timeout=_LOCK_SECONDS, sleep=0.005,
                                 blocking_timeout=_LOCK_SECONDS)

    def _live(self) -> tuple[list[str], dict[str, int], dict[str, str]]:
        """The images still in Redis (ids least recently used first, sizes, owners), after dropping the bookkeeping
        of those whose key expired (caller holds the lock)."""
        order, sizes, owners, gone = redis_link.live_entries(self._client, _LAST_USED, _SIZES, _OWNERS, _image_key)
        self._forget_now(gone)
        return order, sizes, owners

    def _forget_now(self, image_ids: list[str]) -> int:
        """Drop these images and their bookkeeping (caller holds the lock); returns how many were still there."""
        if not image_ids:
            return 0
        pipe = self._client.pipeline()
        self._forget(pipe, image_ids)
        return pipe.execute()[0]

    @staticmethod
    def _forget(pipe: redis.client.Pipeline, image_ids: list[str]) -> None:
        """Queue the deletion of these images and their bookkeeping on `pipe` (the image keys' DEL first)."""
        if image_ids:
            pipe.delete(*(_image_key(image_id) for image_id in image_ids))
            pipe.zrem(_LAST_USED, *image_ids)
            pipe.hdel(_SIZES, *image_ids)
            pipe.hdel(_OWNERS, *image_ids)

    def _renew_bookkeeping(self, pipe: redis.client.Pipeline) -> None:
        """Queue the renewal of the bookkeeping's TTL: issued after the images', it expires no sooner than theirs."""
        for key in (_LAST_USED, _SIZES, _OWNERS):
            pipe.pexpire(key, self._ttl_ms)


def _now_us() -> int:
    """Last-use time for the LRU order, in microseconds, so that two uses in a row never tie."""
    return time.time_ns() // 1000


@process_wide
def default_store() -> ResultsStore | RedisResultsStore:
    """The process's store, sized from the environment (COLORIZER_RESULTS_MAX_BYTES, ..._TTL_SECONDS,
    COLORIZER_SESSION_MAX_BYTES): in Redis when COLORIZER_REDIS_URL is set, else in this process's memory."""
    if settings.REDIS_URL:
        return RedisResultsStore(redis_link.redis_client(), settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                                 session_max_bytes=settings.SESSION_MAX_BYTES)
    return ResultsStore(settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                        session_max_bytes=settings.SESSION_MAX_BYTES)
