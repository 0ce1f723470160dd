"""The process's connection to Redis, when `COLORIZER_REDIS_URL` says there is one, or to the primary the sentinels
name when `COLORIZER_REDIS_SENTINELS` and `COLORIZER_REDIS_MASTER` are set (None otherwise); and Celery's options
for the same Redis.

Nothing read from Redis is unpickled: the stores write records of `dashboard.stores.record_format` (JSON and raw array
buffers), which cannot run code when read. Still bind Redis to localhost or a private network, with a password: it
holds visitors' photos.

While Redis cannot be reached (stopped, restarting), every command raises `StoreUnavailableError`: a
`ColorizerError`, so pages show its message like any other written for users, and the routes and the API answer
503 (`dashboard.guards.outage`); it is also redis-py's own `ConnectionError`, so the client drops the dead connection and
makes a new one on the next command, with no restart, once Redis is back. With Sentinel, the loss of the primary
is such an outage until the sentinels have promoted its replica (a few seconds): no primary to be found, or one that
no longer answers or has become a replica, raises `StoreUnavailableError`, and the next command asks the sentinels
again and reaches the new primary.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import redis
from redis.exceptions import ConnectionError as _ConnectionError
from redis.exceptions import TimeoutError as _TimeoutError
from redis.sentinel import Sentinel, SentinelManagedConnection

from colorizers import ColorizerError

from .. import settings
from .process_wide import process_wide

STORE_UNAVAILABLE_MESSAGE = "The server's store is unavailable for a moment; please try again."
RETRY_AFTER_SECONDS = 5
# A connection that cannot be made or a reply that does not come within these fails the request with a 503, rather
# than hold its thread (the largest reply, a 40 MP photo's record, takes well under a second on a local network).
CONNECT_TIMEOUT_SECONDS = 2.0
REPLY_TIMEOUT_SECONDS = 20.0


class StoreUnavailableError(ColorizerError, _ConnectionError):
    """Redis cannot be reached at the moment; the message is written for the user."""

    def __init__(self, message: str = STORE_UNAVAILABLE_MESSAGE) -> None:
        super().__init__(message)


# What redis-py raises while Redis cannot be reached (stopped, restarting, failing over, still loading).
RedisUnavailable = (_ConnectionError, _TimeoutError)


@contextmanager
def _outage_as_store_unavailable():
    try:
        yield
    except StoreUnavailableError:
        raise
    except RedisUnavailable as error:
        raise StoreUnavailableError() from error


class _OutagesAsStoreUnavailable:
    """Mixed into redis-py's connections: their failures to reach Redis raised as `StoreUnavailableError` (the cause
    logged by nobody: an outage is expected, and says so to the user)."""

    def connect(self, *args, **kwargs):
        with _outage_as_store_unavailable():
            return super().connect(*args, **kwargs)

    def send_packed_command(self, *args, **kwargs):
        with _outage_as_store_unavailable():
            return super().send_packed_command(*args, **kwargs)

    def read_response(self, *args, **kwargs):
        with _outage_as_store_unavailable():
            return super().read_response(*args, **kwargs)


class _Connection(_OutagesAsStoreUnavailable, redis.Connection):
    """A connection to the Redis of a URL."""


class _SentinelConnection(_OutagesAsStoreUnavailable, SentinelManagedConnection):
    """A connection to the primary the sentinels name (asked again on every new connection); no primary known
    (`MasterNotFoundError`) and a primary demoted to replica are connection errors, so outages too."""


def connect(url: str) -> redis.Redis:
    """A pooled, thread-safe client for `url` whose outages raise `StoreUnavailableError`."""
    options = {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "socket_timeout": REPLY_TIMEOUT_SECONDS,
               "health_check_interval": 30}
    if url.startswith("redis://"):  # rediss:// (TLS) and unix sockets keep redis-py's own connection class
        options["connection_class"] = _Connection
    return redis.Redis.from_url(url, **options)


def connect_sentinel(sentinels: Sequence[tuple[str, int]], master_name: str) -> redis.Redis:
    """A pooled, thread-safe client for the primary that `sentinels` ((host, port), ...) monitor as `master_name`,
    whose outages (the failover included) raise `StoreUnavailableError`. The sentinels are asked with the connect
    timeout (a sentinel that does not answer is skipped); the primary gets the site's usual timeouts."""
    sentinel = Sentinel(list(sentinels), sentinel_kwargs={"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                                          "socket_timeout": CONNECT_TIMEOUT_SECONDS},
                        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=REPLY_TIMEOUT_SECONDS,
                        health_check_interval=30)
    return sentinel.master_for(master_name, connection_class=_SentinelConnection)


def celery_transport_options(broker_url: str) -> dict[str, object]:
    """kombu's transport options for Celery on `broker_url`: for Sentinel (`sentinel://...`, settings.REDIS_URL
    when COLORIZER_REDIS_SENTINELS is set), the name of the primary (settings.REDIS_MASTER) and the sentinels asked
    with the connect timeout; nothing for plain Redis."""
    if not broker_url.startswith("sentinel://"):
        return {}
    return {"master_name": settings.REDIS_MASTER,
            "sentinel_kwargs": {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                "socket_timeout": CONNECT_TIMEOUT_SECONDS},
            "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS}


@process_wide
def redis_client():
    """A client for the sentinels' primary (settings.REDIS_SENTINELS) or settings.REDIS_URL (thread-safe, pooled),
    or None when neither is set."""
    if settings.REDIS_SENTINELS:
        return connect_sentinel(settings.REDIS_SENTINELS, settings.REDIS_MASTER)
    if not settings.REDIS_URL:
        return None
    return connect(settings.REDIS_URL)


def live_entries(client, order_key: str, sizes_key: str, owners_key: str, entry_key: Callable[[str], str]
                 ) -> tuple[list[str], dict[str, int], dict[str, str], list[str]]:
    """The bookkeeping of a budgeted store in Redis (a sorted set of ids, hashes of sizes and owners, one key per
    entry): the ids whose key still exists, in the sorted set's order, with their sizes and owners, and the ids
    whose key expired (for the caller to forget). Whether the key exists decides, not a time: web processes on
    several machines do not share one clock."""
    pipe = client.pipeline(transaction=False)
    pipe.zrange(order_key, 0, -1)
    pipe.hgetall(sizes_key)
    pipe.hgetall(owners_key)
    raw_order, raw_sizes, raw_owners = pipe.execute()
    order = [key.decode() for key in raw_order]
    sizes = {key.decode(): int(size) for key, size in raw_sizes.items()}
    owners = {key.decode(): owner.decode() for key, owner in raw_owners.items()}
    for key in order:
        pipe.exists(entry_key(key))
    live = {key for key, exists in zip(order, pipe.execute()) if exists and key in sizes and key in owners}
    gone = [key for key in order if key not in live]
    order = [key for key in order if key in live]
    return order, {key: sizes[key] for key in order}, {key: owners[key] for key in order}, gone
