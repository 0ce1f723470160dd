"""Where the studio keeps its sessions: in this process (`MemoryStudioStore`, the default) or in Redis
(`RedisStudioStore`, when `COLORIZER_REDIS_URL` is set), where every web process and Celery worker sees them.

Both give the same few operations: a session, locked, for reading and changing it (`session`), a session read
without the lock (`peek`, for images looked up by their URL's id), who owns a row or result id (`owner_of`), and
the other sessions' sizes for the studio's memory budget (`others`). Sessions expire `ttl_seconds` after their last
use. In Redis a session is a small record (`dashboard.stores.record_format`: JSON, never pickle); its `Blob`s (photos,
planes, JPEGs) are keys of their own, written once, with the same expiry, so that polling a page never moves
megabytes.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from colorizers import Colorization, Stroke

from ..stores.record_format import Custom, RecordFormat, dataclasses_of
from . import model
from .model import Blob, Session, StudioError

BUSY_MESSAGE = "The server is busy with your photos; please try again in a moment."


@dataclass(frozen=True)
class SessionSize:
    session_id: str
    nbytes: int
    idle: bool  # nothing queued or being worked on: its rows may be evicted


class MemoryStudioStore:
    """Sessions as live objects in this process's memory, under one lock (re-entrant: the studio may open another
    session while it holds one), kept in least-recently-used order: a session's last use only ever moves it to
    the end, so the expired ones are always the first."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._lock = threading.RLock()

    @contextmanager
    def session(self, session_id: str, create: bool = False, wait: bool = True,
                touch: bool = True) -> Iterator[Session | None]:
        """The session (made when `create`; counted as used when `touch`), locked while the block runs; None when
        there is none."""
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            session = self._sessions.get(session_id)
            if session is None and create:
                session = self._sessions[session_id] = Session(last_used=now)
            if session is not None and touch:
                session.last_used = now
                self._sessions.move_to_end(session_id)
            yield session

    @contextmanager
    def peek(self, session_id: str) -> Iterator[Session | None]:
        """The session for reading (its last use unchanged)."""
        with self._lock:
            self._drop_expired(self._clock())
            yield self._sessions.get(session_id)

    def owner_of(self, token: str) -> str | None:
        with self._lock:
            self._drop_expired(self._clock())
            return next((session_id for session_id, session in self._sessions.items()
                         if token in set(session.tokens())), None)

    def others(self, session_id: str) -> list[SessionSize]:
        """Every other session's size, least recently used first."""
        with self._lock:
            return [SessionSize(key, session.nbytes, not session.pending)
                    for key, session in self._sessions.items() if key != session_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _drop_expired(self, now: float) -> None:
        """Drop the sessions unused for `ttl_seconds`: the first ones in least-recently-used order, so that a poll
        looks at the expired ones and one more, never at every session (its cost does not grow with visitors)."""
        while self._sessions:
            key, session = next(iter(self._sessions.items()))
            if now - session.last_used < self.ttl_seconds:
                return
            del self._sessions[key]


def _blob_state(blob: Blob) -> dict:
    return blob.__getstate__()  # its key and size: the value travels apart, once


def _blob_from_state(state: dict) -> Blob:
    if not isinstance(state.get("key"), str) or not isinstance(state.get("nbytes"), int):
        raise ValueError("A blob needs a key and a size")
    blob = Blob.__new__(Blob)
    blob.__setstate__({"key": state["key"], "nbytes": state["nbytes"]})
    return blob


# What a session record may hold: the studio's dataclasses, the colorizers' results and strokes, blobs (by key).
SESSION_FORMAT = RecordFormat([*dataclasses_of(model), Colorization, Stroke],
                              custom=[Custom(Blob, _blob_state, _blob_from_state)])
BLOB_FORMAT = RecordFormat()  # a blob's value: an array or bytes


class RedisStudioStore:
    """Sessions in Redis, shared by every process. A session is locked with a Redis lock while it changes; its
    record, its blobs and the ids its URLs carry all expire `ttl_seconds` after its last use."""

    PREFIX = "colorizer:studio:"
    # A session is held for short steps only (the longest writes a 40 MP photo's planes: well under a second), so a
    # process that dies holding one blocks the session's others for at most LOCK_SECONDS.
    LOCK_SECONDS = 10
    LOCK_WAIT_SECONDS = 30
    _REFRESH_FRACTION = 0.1  # blobs' and ids' expiry is pushed back when a tenth of the lifetime has passed

    def __init__(self, client, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._ttl_ms = max(1, int(ttl_seconds * 1000))

    def _key(self, *parts: str) -> str:
        return self.PREFIX + ":".join(parts)

    @contextmanager
    def session(self, session_id: str, create: bool = False, wait: bool = True,
                touch: bool = True) -> Iterator[Session | None]:
        """The session (made when `create`), locked across processes while the block runs and written back after
        it (its lifetime starting again: eviction's `touch=False` only skips the least-recently-used order); None
        when there is none (or, with `wait=False`, when another process holds it)."""
        lock = self._client.lock(self._key("lock", session_id), timeout=self.LOCK_SECONDS,
                                 blocking=wait, blocking_timeout=self.LOCK_WAIT_SECONDS)
        if not lock.acquire():
            if not wait:
                yield None
                return
            raise StudioError(BUSY_MESSAGE)
        try:
            session = self._load(session_id)
            if session is None and create:
                session = Session()
            before = (set(), set()) if session is None else self._contents(session)
            if session is not None and touch:
                session.last_used = time.time()
            yield session
            if session is not None:
                self._save(session_id, session, before)
        finally:
            try:
                lock.release()
            except Exception:  # expired meanwhile (a very slow block): nothing left to release
                pass

    @contextmanager
    def peek(self, session_id: str) -> Iterator[Session | None]:
        yield self._load(session_id)

    def owner_of(self, token: str) -> str | None:
        owner = self._client.get(self._key("owner", token))
        return owner.decode() if owner else None

    def others(self, session_id: str) -> list[SessionSize]:
        ids = [key.decode() for key in self._client.zrange(self._key("lru"), 0, -1)]
        ids = [key for key in ids if key != session_id]
        if not ids:
            return []
        pipe = self._client.pipeline(transaction=False)
        for key in ids:
            pipe.exists(self._key("session", key))
        pipe.hmget(self._key("sizes"), ids)
        *alive, sizes = pipe.execute()
        gone = [key for key, exists in zip(ids, alive) if not exists]
        if gone:  # expired: forget their bookkeeping too
            self._client.zrem(self._key("lru"), *gone)
            self._client.hdel(self._key("sizes"), *gone)
        result = []
        for key, exists, size in zip(ids, alive, sizes):
            if exists and size:
                nbytes, pending = size.decode().split()
                result.append(SessionSize(key, int(nbytes), pending == "0"))
        return result

    def __len__(self) -> int:
        return sum(1 for _ in self._client.scan_iter(self._key("session", "*")))

    def _load(self, session_id: str) -> Session | None:
        session = SESSION_FORMAT.loads_or_none(self._client.get(self._key("session", session_id)), "session")
        if not isinstance(session, Session):  # none, expired, or not a record this site wrote
            return None
        for blob in session.blobs():
            blob.attach(self._fetch_blob)
        return session

    def _fetch_blob(self, key: str) -> object:
        value = BLOB_FORMAT.loads_or_none(self._client.get(self._key("blob", key)), "photo")
        return value if isinstance(value, (np.ndarray, bytes)) else None

    @staticmethod
    def _contents(session: Session) -> tuple[set[str], set[str]]:
        return {blob.key for blob in session.blobs()}, set(session.tokens())

    def _save(self, session_id: str, session: Session, before: tuple[set[str], set[str]]) -> None:
        blob_keys, tokens = self._contents(session)
        old_blobs, old_tokens = before
        now = time.time()
        refresh = now - session.refreshed_at > self.ttl_seconds * self._REFRESH_FRACTION
        pipe = self._client.pipeline(transaction=False)
        for blob in session.blobs():
            if not blob.stored:
                pipe.set(self._key("blob", blob.key), BLOB_FORMAT.dumps(blob.get()), px=self._ttl_ms)
                blob.stored = True
            elif refresh:
                pipe.pexpire(self._key("blob", blob.key), self._ttl_ms)
        for token in tokens:
            if token not in old_tokens or refresh:
                pipe.set(self._key("owner", token), session_id, px=self._ttl_ms)
        removed = [self._key("blob", key) for key in old_blobs - blob_keys]
        removed += [self._key("owner", token) for token in old_tokens - tokens]
        if removed:
            pipe.delete(*removed)
        if refresh:
            session.refreshed_at = now
        pipe.set(self._key("session", session_id), SESSION_FORMAT.dumps(session), px=self._ttl_ms)
        pipe.hset(self._key("sizes"), session_id, f"{session.nbytes} {int(session.pending)}")
        pipe.zadd(self._key("lru"), {session_id: session.last_used})
        for bookkeeping in ("sizes", "lru"):  # gone once every session has expired
            pipe.pexpire(self._key(bookkeeping), self._ttl_ms)
        pipe.execute()

    def keys(self) -> list[bytes]:
        """Every key this store holds now (for checks that Redis is back to its baseline)."""
        return list(self._client.scan_iter(self.PREFIX + "*"))
