"""dashboard.stores.results_store: LRU by bytes, expiry, per-session isolation and thread safety, in this process's memory
and in a real Redis (shared by several web processes)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from dashboard.stores.results_store import (
    ImageTooLargeToKeepError,
    RedisResultsStore,
    ResultsStore,
    StoredImage,
    make_stored_image,
)

PREFIX = "colorizer:store:"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def image_of(nbytes: int, name: str = "photo.png") -> StoredImage:
    """A stored image that counts exactly `nbytes` (no thumbnail)."""
    rgb = np.zeros((1, nbytes // 3, 3), np.uint8)
    return StoredImage(rgb=rgb, thumbnail_jpeg=b"", filename=name)


def same_image(got: StoredImage | None, image: StoredImage) -> bool:
    """Whether `got` is `image` or, out of Redis, an equal copy."""
    return got is image or (got is not None and got.filename == image.filename and got.thumbnail_jpeg ==
                            image.thumbnail_jpeg and np.array_equal(got.rgb, image.rgb))


class Backend:
    """Makes stores of one backend, and lets time pass for them: a fake clock in memory, real sleeps in Redis."""

    def __init__(self, name: str, client=None) -> None:
        self.name, self.client, self.clock = name, client, FakeClock()

    def store(self, max_bytes: int, ttl_seconds: float = 60, session_max_bytes: int | None = None):
        if self.client is None:
            return ResultsStore(max_bytes, ttl_seconds, clock=self.clock, session_max_bytes=session_max_bytes)
        return RedisResultsStore(self.client, max_bytes, ttl_seconds, session_max_bytes=session_max_bytes)

    def wait(self, seconds: float) -> None:
        if self.client is None:
            self.clock.now += seconds
        else:
            time.sleep(seconds)


@pytest.fixture(params=["memory", "redis"])
def backend(request) -> Backend:
    if request.param == "memory":
        return Backend("memory")
    return Backend("redis", request.getfixturevalue("redis_client"))


@pytest.fixture
def make_store(backend):
    return backend.store


def test_put_then_get_returns_the_image(make_store):
    store = make_store(max_bytes=10_000, ttl_seconds=60)
    image = make_stored_image(np.full((10, 10, 3), 77, np.uint8), "beach.png", display_long_side=5)
    image_id = store.put("session-a", image)
    got = store.get("session-a", image_id)
    assert same_image(got, image) and not got.rgb.flags.writeable
    assert same_image(store.get_shared(image_id), image)
    assert store.total_bytes == image.nbytes and len(store) == 1


def test_ids_are_unique_and_url_safe(make_store):
    store = make_store(max_bytes=10_000, ttl_seconds=60)
    ids = {store.put("session-a", image_of(3)) for _ in range(200)}
    assert len(ids) == 200
    assert all(image_id.replace("-", "").replace("_", "").isalnum() for image_id in ids)


def test_sessions_are_isolated(make_store):
    store = make_store(max_bytes=10_000, ttl_seconds=60)
    image_id = store.put("session-a", image_of(300))
    assert store.get("session-b", image_id) is None
    assert store.get("session-a", "unknown") is None
    assert store.get_shared("unknown") is None
    assert store.discard("session-b", image_id) is False
    assert store.get("session-a", image_id) is not None


def test_discard_forgets_one_image(make_store):
    store = make_store(max_bytes=10_000, ttl_seconds=60)
    gone, kept = store.put("a", image_of(300)), store.put("a", image_of(600))
    assert store.discard("a", gone) is True
    assert store.get("a", gone) is None and store.get_shared(gone) is None
    assert store.discard("a", gone) is False
    assert store.get("a", kept) is not None
    assert store.total_bytes == 600 and len(store) == 1


def test_least_recently_used_images_are_evicted_when_over_budget(make_store):
    store = make_store(max_bytes=900, ttl_seconds=60)
    first = store.put("a", image_of(300))
    second = store.put("a", image_of(300))
    third = store.put("b", image_of(300))
    store.get("a", first)  # now `second` is the least recently used
    fourth = store.put("b", image_of(300))
    assert store.get("a", second) is None
    assert all(store.get(session, image_id) for session, image_id in [("a", first), ("b", third), ("b", fourth)])
    assert store.total_bytes == 900


def test_a_large_image_evicts_as_many_as_needed(make_store):
    store = make_store(max_bytes=1000, ttl_seconds=60)
    small_ids = [store.put("a", image_of(150)) for _ in range(6)]
    big_id = store.put("a", image_of(600))
    kept = [image_id for image_id in small_ids if store.get("a", image_id)]
    assert kept == small_ids[-2:]
    assert store.get("a", big_id) is not None
    assert store.total_bytes == 900


def test_a_session_over_its_budget_loses_its_own_oldest_images_first(make_store):
    store = make_store(max_bytes=3000, ttl_seconds=60, session_max_bytes=1000)
    others = [store.put("b", image_of(300)) for _ in range(3)]  # the least recently used of all
    mine = [store.put("a", image_of(300)) for _ in range(3)]
    store.get("a", mine[0])  # now mine[1] is a's least recently used
    newest = store.put("a", image_of(300))
    assert store.get("a", mine[1]) is None
    assert all(store.get("a", image_id) for image_id in [mine[0], mine[2], newest])
    assert all(store.get("b", image_id) for image_id in others)
    assert store.total_bytes == 1800


def test_an_image_larger_than_the_whole_budget_is_refused_with_a_message(make_store):
    store = make_store(max_bytes=1000, ttl_seconds=60)
    kept = store.put("a", image_of(300))
    with pytest.raises(ImageTooLargeToKeepError, match="MB"):
        store.put("a", image_of(1200))
    assert store.get("a", kept) is not None


def test_an_image_larger_than_the_session_budget_is_refused_with_a_message(make_store):
    store = make_store(max_bytes=10_000_000, ttl_seconds=60, session_max_bytes=2_000_000)
    with pytest.raises(ImageTooLargeToKeepError, match=r"needs 3 MB .* one visitor \(2 MB\)"):
        store.put("a", image_of(3_000_000))
    assert len(store) == 0


def test_images_expire_when_unused_for_the_ttl(backend):
    store = backend.store(max_bytes=10_000, ttl_seconds=1.0)
    old = store.put("a", image_of(300))
    backend.wait(0.5)
    fresh = store.put("a", image_of(300))
    backend.wait(0.6)  # `old` unused for 1.1 s, `fresh` for 0.6 s
    assert store.get("a", old) is None
    assert store.get("a", fresh) is not None
    assert store.total_bytes == 300 and len(store) == 1


def test_using_an_image_keeps_it_alive(backend):
    store = backend.store(max_bytes=10_000, ttl_seconds=1.0)
    image_id = store.put("a", image_of(300))
    for _ in range(3):  # alive 1.5 s after it was kept: longer than the TTL
        backend.wait(0.5)
        assert store.get("a", image_id) is not None
    backend.wait(1.1)
    assert store.get("a", image_id) is None
    assert len(store) == 0 and store.total_bytes == 0


def test_discard_session_forgets_only_that_session(make_store):
    store = make_store(max_bytes=10_000, ttl_seconds=60)
    for _ in range(3):
        store.put("a", image_of(300))
    other = store.put("b", image_of(300))
    assert store.discard_session("a") == 3
    assert store.discard_session("a") == 0
    assert store.get("b", other) is not None
    assert store.total_bytes == 300


def test_store_is_consistent_under_concurrent_use(backend):
    store = backend.store(max_bytes=30_000, ttl_seconds=60)
    rounds = 300 if backend.name == "memory" else 40  # Redis: each put is a few round trips under a lock
    errors = []

    def worker(session: str) -> None:
        try:
            for _ in range(rounds):
                image_id = store.put(session, image_of(300, session))
                image = store.get(session, image_id)
                assert image is None or image.filename == session  # never another session's image
        except Exception as error:  # collected: an assert in a thread would be lost
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"session-{index}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.total_bytes <= 30_000
    assert store.total_bytes == 300 * len(store) == 30_000


def test_make_stored_image_keeps_a_read_only_copy_and_a_display_size_thumbnail():
    from io import BytesIO

    from PIL import Image

    rgb = np.full((1000, 1600, 3), 128, np.uint8)
    image = make_stored_image(rgb, "photo.png", display_long_side=400)
    rgb[:] = 0
    assert image.rgb[0, 0, 0] == 128
    assert not image.rgb.flags.writeable
    thumbnail = Image.open(BytesIO(image.thumbnail_jpeg))
    assert thumbnail.format == "JPEG" and thumbnail.size == (400, 250)
    assert image.size == (1000, 1600)
    assert image.nbytes == rgb.nbytes + len(image.thumbnail_jpeg)


def test_store_rejects_nonsense_limits(redis_client):
    for make in (ResultsStore, lambda *limits: RedisResultsStore(redis_client, *limits)):
        with pytest.raises(ValueError):
            make(0, 60)
        with pytest.raises(ValueError):
            make(10, 0)


# --- Redis only: several web processes, budgets measured in Redis, nothing left behind ----------------------------
@pytest.fixture
def another_client(redis_url):
    """A second connection to the same Redis, as another web process (or machine) would have."""
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def recorded_sizes(client) -> dict[str, int]:
    return {key.decode(): int(size) for key, size in client.hgetall(PREFIX + "sizes").items()}


def test_two_processes_share_images_and_one_budget(redis_client, another_client):
    image = make_stored_image(np.full((20, 30, 3), 77, np.uint8), "beach.png", display_long_side=10)
    one = RedisResultsStore(redis_client, max_bytes=image.nbytes + 600, ttl_seconds=60)
    two = RedisResultsStore(another_client, max_bytes=image.nbytes + 600, ttl_seconds=60)
    first = one.put("a", image)
    assert same_image(two.get("a", first), image) and same_image(two.get_shared(first), image)
    assert two.get("b", first) is None
    second, third = two.put("b", image_of(300)), one.put("b", image_of(300))
    two.get("a", first)  # used through the other process: `second` is now the least recently used of all
    fourth = two.put("a", image_of(300))
    assert one.get("b", second) is None
    assert all(one.get(session, key) for session, key in [("a", first), ("b", third), ("a", fourth)])
    assert one.total_bytes == two.total_bytes == image.nbytes + 600 and len(one) == len(two) == 3
    assert two.discard_session("a") == 2 and one.get_shared(first) is None


def test_images_outlive_the_web_process_that_kept_them(redis_client, redis_url):
    import redis

    before = redis.Redis.from_url(redis_url)
    image_id = RedisResultsStore(before, max_bytes=10_000, ttl_seconds=60).put("a", image_of(300))
    before.close()  # the process restarts
    after = RedisResultsStore(redis_client, max_bytes=10_000, ttl_seconds=60)
    assert same_image(after.get("a", image_id), image_of(300))


def test_byte_budgets_hold_measured_in_redis(redis_client):
    store = RedisResultsStore(redis_client, max_bytes=100_000, ttl_seconds=60, session_max_bytes=40_000)
    for index in range(30):
        store.put(f"session-{index % 4}", image_of(9_000 + 600 * (index % 5)))
        sizes = recorded_sizes(redis_client)
        owners = {key.decode(): owner.decode() for key, owner in redis_client.hgetall(PREFIX + "owners").items()}
        image_keys = {key.decode() for key in redis_client.keys(PREFIX + "image:*")}
        assert image_keys == {PREFIX + "image:" + image_id for image_id in sizes}
        assert set(owners) == set(sizes) and redis_client.zcard(PREFIX + "last_used") == len(sizes)
        assert sum(sizes.values()) <= 100_000
        for session in set(owners.values()):
            assert sum(size for key, size in sizes.items() if owners[key] == session) <= 40_000
        used = {key: redis_client.memory_usage(key) for key in image_keys}
        assert sum(used.values()) <= 1.15 * sum(sizes.values()) + 512 * len(used)  # the record's header and allocator overhead
    assert store.total_bytes == sum(recorded_sizes(redis_client).values()) > 80_000


def test_redis_forgets_everything_once_it_expired(redis_client):
    store = RedisResultsStore(redis_client, max_bytes=1_000, ttl_seconds=0.3, session_max_bytes=700)
    ids = [store.put(f"session-{index % 2}", image_of(300)) for index in range(5)]  # evicts some
    store.get_shared(ids[-1])
    store.discard("session-0", ids[-1])
    store.get("session-1", "unknown")
    assert redis_client.keys(PREFIX + "*")
    time.sleep(0.5)
    assert redis_client.keys(PREFIX + "*") == []  # Redis forgot them by itself: no store call since
    assert len(store) == 0 and store.total_bytes == 0


def test_expired_images_are_pruned_from_the_bookkeeping(redis_client):
    store = RedisResultsStore(redis_client, max_bytes=10_000, ttl_seconds=0.3)
    old = store.put("a", image_of(300))
    time.sleep(0.4)
    fresh = store.put("b", image_of(600))  # renews the bookkeeping, which still lists `old`
    assert set(recorded_sizes(redis_client)) == {fresh}
    assert redis_client.zrange(PREFIX + "last_used", 0, -1) == [fresh.encode()]
    assert store.get("a", old) is None and store.total_bytes == 600


def test_concurrent_puts_from_several_processes_keep_the_budgets(redis_client, redis_url):
    import redis

    clients = [redis.Redis.from_url(redis_url) for _ in range(4)]
    stores = [RedisResultsStore(client, max_bytes=20_000, ttl_seconds=60, session_max_bytes=6_000)
              for client in clients]
    errors = []

    def worker(index: int) -> None:
        try:
            for round_ in range(40):
                stores[index].put(f"session-{(index + round_) % 5}", image_of(900 + 300 * (round_ % 4)))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    assert errors == []
    sizes = recorded_sizes(redis_client)
    assert 15_000 < sum(sizes.values()) <= 20_000
    assert len(redis_client.keys(PREFIX + "image:*")) == len(sizes) == len(stores[0])
    assert redis_client.exists(PREFIX + "lock") == 0


def test_default_store_is_in_redis_when_a_url_is_set(monkeypatch, redis_client, redis_url):
    from dashboard.server import redis_link
    from dashboard import settings
    from dashboard.stores.results_store import default_store

    made, make_client = [], redis_link.redis_client.__wrapped__

    def fresh_client():  # the process-wide client may already be made, without a URL
        made.append(make_client())
        return made[-1]

    monkeypatch.setattr(redis_link, "redis_client", fresh_client)
    monkeypatch.setattr(settings, "REDIS_URL", redis_url)
    store = default_store.__wrapped__()  # the factory itself, past the process-wide cache
    assert isinstance(store, RedisResultsStore)
    assert (store.max_bytes, store.ttl_seconds) == (settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS)
    image_id = store.put("a", image_of(300))
    assert redis_client.exists(PREFIX + "image:" + image_id) == 1
    for client in made:
        client.close()

    monkeypatch.setattr(settings, "REDIS_URL", "")
    assert type(default_store.__wrapped__()) is ResultsStore
