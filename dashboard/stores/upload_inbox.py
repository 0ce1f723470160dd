"""Where an uploaded file waits, as raw bytes, between `POST /uploads` and the callback that reads it.

A page's drop zone sends its files to `POST /uploads` (`dashboard.routes.uploads`), which keeps each file here under an
unguessable token for the visitor's session; the page's callback then names the token (`upload:<token>`) and
takes the file, once (or, for a video clip the page works on for a while, reads it as often as it needs with
`peek`, until it expires). Files never travel inside a callback's JSON.

Same rules as the results store (`dashboard.stores.results_store`): a total byte budget (COLORIZER_RESULTS_MAX_BYTES) and
one per session (COLORIZER_SESSION_MAX_BYTES; a session over it loses its own oldest files first, not other
people's), and a file not taken within COLORIZER_RESULTS_TTL_SECONDS is dropped. `UploadInbox` keeps the files in
this process; `RedisUploadInbox` in Redis (raw bytes: nothing is ever unpickled), shared by every web process.
`default_inbox()` picks Redis when COLORIZER_REDIS_URL is set.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..server import redis_link
from .. import settings
from ..server.process_wide import process_wide

if TYPE_CHECKING:
    import redis


def _checked_limits(max_bytes: int, ttl_seconds: float, session_max_bytes: int | None) -> int:
    if max_bytes <= 0 or ttl_seconds <= 0:
        raise ValueError("max_bytes and ttl_seconds must be positive.")
    return min(session_max_bytes or max_bytes, max_bytes)


def new_token() -> str:
    """An unguessable token (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


@dataclass
class _Waiting:
    session_id: str
    data: bytes
    put_at: float


class UploadInbox:
    """Files waiting in this process's memory, each for one session (thread-safe)."""

    def __init__(self, max_bytes: int, ttl_seconds: float, session_max_bytes: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.session_max_bytes = _checked_limits(max_bytes, ttl_seconds, session_max_bytes)
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._files: OrderedDict[str, _Waiting] = OrderedDict()  # oldest first
        self._total = 0
        self._lock = threading.Lock()

    def put(self, session_id: str, data: bytes) -> str:
        """Keep `data` for `session_id`; returns its token. Older files make room (the session's own first)."""
        token = new_token()
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            own = [key for key, file in self._files.items() if file.session_id == session_id]
            own_bytes = sum(len(self._files[key].data) for key in own)
            while own and own_bytes + len(data) > self.session_max_bytes:
                own_bytes -= self._drop(own.pop(0))
            self._files[token] = _Waiting(session_id, data, now)
            self._total += len(data)
            while self._total > self.max_bytes and len(self._files) > 1:
                self._drop(next(iter(self._files)))
        return token

    def take(self, session_id: str, token: str) -> bytes | None:
        """The file's bytes, forgotten here; None when unknown, expired, dropped or another session's."""
        with self._lock:
            self._drop_expired(self._clock())
            file = self._files.get(token)
            if file is None or file.session_id != session_id:
                return None
            self._drop(token)
            return file.data

    def peek(self, session_id: str, token: str) -> bytes | None:
        """The file's bytes, left here (a clip the Video page reads again: its frames, its start, its playback);
        None when unknown, expired, dropped or another session's. It expires as any file, ttl_seconds after `put`."""
        with self._lock:
            self._drop_expired(self._clock())
            file = self._files.get(token)
            if file is None or file.session_id != session_id:
                return None
            return file.data

    def holds(self, session_id: str, token: str) -> bool:
        """Whether `peek` would find the file (without reading it)."""
        return self.peek(session_id, token) is not None

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def _drop(self, token: str) -> int:
        size = len(self._files.pop(token).data)
        self._total -= size
        return size

    def _drop_expired(self, now: float) -> None:
        while self._files:
            token, file = next(iter(self._files.items()))
            if now - file.put_at < self.ttl_seconds:
                break
            self._drop(token)


_PREFIX = "colorizer:inbox:"
_ORDER = _PREFIX + "order"  # sorted set: token -> time put (microseconds)
_SIZES = _PREFIX + "sizes"  # hash: token -> bytes
_OWNERS = _PREFIX + "owners"  # hash: token -> session
_LOCK_SECONDS = 30


def _file_key(token: str) -> str:
    return f"{_PREFIX}file:{token}"


class RedisUploadInbox:
    """`UploadInbox` in Redis: `file:<token>` holds the raw bytes with the TTL; the budgets are counted on the
    bookkeeping (`order`, `sizes`, `owners`), changed under a lock on put; entries of expired files are dropped then."""

    def __init__(self, client: redis.Redis, max_bytes: int, ttl_seconds: float,
                 session_max_bytes: int | None = None) -> None:
        self.session_max_bytes = _checked_limits(max_bytes, ttl_seconds, session_max_bytes)
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._ttl_ms = max(1, round(ttl_seconds * 1000))

    def put(self, session_id: str, data: bytes) -> str:
        token = new_token()
        with self._client.lock(_PREFIX + "lock", timeout=_LOCK_SECONDS, sleep=0.005,
                               blocking_timeout=_LOCK_SECONDS):
            order, sizes, owners = self._live()
            own = [key for key in order if owners[key] == session_id]
            own_bytes = sum(sizes[key] for key in own)
            dropped: list[str] = []
            while own and own_bytes + len(data) > self.session_max_bytes:
                dropped.append(own.pop(0))
                own_bytes -= sizes[dropped[-1]]
            others = [key for key in order if key not in set(dropped)]
            total = sum(sizes[key] for key in others) + len(data)
            while others and total > self.max_bytes:
                dropped.append(others.pop(0))
                total -= sizes[dropped[-1]]
            pipe = self._client.pipeline()
            self._forget(pipe, dropped)
            pipe.set(_file_key(token), data, px=self._ttl_ms)
            pipe.zadd(_ORDER, {token: time.time_ns() // 1000})
            pipe.hset(_SIZES, token, len(data))
            pipe.hset(_OWNERS, token, session_id)
            for key in (_ORDER, _SIZES, _OWNERS):
                pipe.pexpire(key, self._ttl_ms)
            pipe.execute()
        return token

    def take(self, session_id: str, token: str) -> bytes | None:
        if self._client.hget(_OWNERS, token) != session_id.encode():
            return None
        pipe = self._client.pipeline()
        pipe.get(_file_key(token))
        self._forget(pipe, [token])
        return pipe.execute()[0]

    def peek(self, session_id: str, token: str) -> bytes | None:
        if self._client.hget(_OWNERS, token) != session_id.encode():
            return None
        return self._client.get(_file_key(token))

    def holds(self, session_id: str, token: str) -> bool:
        return (self._client.hget(_OWNERS, token) == session_id.encode()
                and bool(self._client.exists(_file_key(token))))

    @property
    def total_bytes(self) -> int:
        return sum(self._live()[1].values())

    def __len__(self) -> int:
        return len(self._live()[0])

    def _live(self) -> tuple[list[str], dict[str, int], dict[str, str]]:
        """The files still in Redis (tokens oldest first, sizes, owners); the bookkeeping of expired ones dropped."""
        order, sizes, owners, gone = redis_link.live_entries(self._client, _ORDER, _SIZES, _OWNERS, _file_key)
        if gone:
            forget = self._client.pipeline()
            self._forget(forget, gone)
            forget.execute()
        return order, sizes, owners

    @staticmethod
    def _forget(pipe: redis.client.Pipeline, tokens: list[str]) -> None:
        if tokens:
            pipe.delete(*(_file_key(token) for token in tokens))
            pipe.zrem(_ORDER, *tokens)
            pipe.hdel(_SIZES, *tokens)
            pipe.hdel(_OWNERS, *tokens)


@process_wide
def default_inbox() -> UploadInbox | RedisUploadInbox:
    """The process's inbox: in Redis when COLORIZER_REDIS_URL is set, else in this process's memory."""
    if settings.REDIS_URL:
        return RedisUploadInbox(redis_link.redis_client(), settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                                session_max_bytes=settings.SESSION_MAX_BYTES)
    return UploadInbox(settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                       session_max_bytes=settings.SESSION_MAX_BYTES)
