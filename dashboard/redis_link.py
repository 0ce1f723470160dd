"""The process's connection to Redis, when `COLORIZER_REDIS_URL` says there is one (None otherwise).

Values are pickled: Redis here is private to the site's own processes (bind it to localhost or a private network,
with a password), like the Celery broker it also is; nothing a visitor sends is unpickled without passing through
the site's own code first.
"""
from __future__ import annotations

import pickle

from . import settings
from .process_wide import process_wide


@process_wide
def redis_client():
    """A client for settings.REDIS_URL (thread-safe, pooled), or None when it is unset."""
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL)


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes | None) -> object:
    return None if data is None else pickle.loads(data)
