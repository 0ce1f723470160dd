"""dashboard.results_store: LRU by bytes, expiry, per-session isolation and thread safety."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from dashboard.results_store import ImageTooLargeToKeepError, ResultsStore, StoredImage, make_stored_image


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def image_of(nbytes: int, name: str = "photo.png") -> StoredImage:
    """A stored image that counts exactly `nbytes` (no thumbnail)."""
    rgb = np.zeros((1, nbytes // 3, 3), np.uint8)
    return StoredImage(rgb=rgb, thumbnail_jpeg=b"", filename=name)


def test_put_then_get_returns_the_image():
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60)
    image = image_of(300)
    image_id = store.put("session-a", image)
    assert store.get("session-a", image_id) is image
    assert store.total_bytes == 300 and len(store) == 1


def test_ids_are_unique_and_url_safe():
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60)
    ids = {store.put("session-a", image_of(3)) for _ in range(200)}
    assert len(ids) == 200
    assert all(image_id.replace("-", "").replace("_", "").isalnum() for image_id in ids)


def test_sessions_are_isolated():
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60)
    image_id = store.put("session-a", image_of(300))
    assert store.get("session-b", image_id) is None
    assert store.get("session-a", "unknown") is None


def test_least_recently_used_images_are_evicted_when_over_budget():
    store = ResultsStore(max_bytes=900, ttl_seconds=60)
    first = store.put("a", image_of(300))
    second = store.put("a", image_of(300))
    third = store.put("b", image_of(300))
    store.get("a", first)  # now `second` is the least recently used
    fourth = store.put("b", image_of(300))
    assert store.get("a", second) is None
    assert all(store.get(session, image_id) for session, image_id in [("a", first), ("b", third), ("b", fourth)])
    assert store.total_bytes == 900


def test_a_large_image_evicts_as_many_as_needed():
    store = ResultsStore(max_bytes=1000, ttl_seconds=60)
    small_ids = [store.put("a", image_of(150)) for _ in range(6)]
    big_id = store.put("a", image_of(600))
    kept = [image_id for image_id in small_ids if store.get("a", image_id)]
    assert kept == small_ids[-2:]
    assert store.get("a", big_id) is not None
    assert store.total_bytes == 900


def test_an_image_larger_than_the_whole_budget_is_refused_with_a_message():
    store = ResultsStore(max_bytes=1000, ttl_seconds=60)
    kept = store.put("a", image_of(300))
    with pytest.raises(ImageTooLargeToKeepError, match="MB"):
        store.put("a", image_of(1200))
    assert store.get("a", kept) is not None


def test_images_expire_when_unused_for_the_ttl():
    clock = FakeClock()
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60, clock=clock)
    old = store.put("a", image_of(300))
    clock.now += 30
    fresh = store.put("a", image_of(300))
    clock.now += 31  # `old` unused for 61 s, `fresh` for 31 s
    assert store.get("a", old) is None
    assert store.get("a", fresh) is not None
    assert store.total_bytes == 300


def test_using_an_image_keeps_it_alive():
    clock = FakeClock()
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60, clock=clock)
    image_id = store.put("a", image_of(300))
    for _ in range(5):
        clock.now += 50
        assert store.get("a", image_id) is not None
    clock.now += 60
    assert store.get("a", image_id) is None
    assert len(store) == 0


def test_discard_session_forgets_only_that_session():
    store = ResultsStore(max_bytes=10_000, ttl_seconds=60)
    for _ in range(3):
        store.put("a", image_of(300))
    other = store.put("b", image_of(300))
    assert store.discard_session("a") == 3
    assert store.get("b", other) is not None
    assert store.total_bytes == 300


def test_store_is_consistent_under_concurrent_use():
    store = ResultsStore(max_bytes=30_000, ttl_seconds=60)
    errors = []

    def worker(session: str) -> None:
        try:
            for _ in range(300):
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


def test_store_rejects_nonsense_limits():
    with pytest.raises(ValueError):
        ResultsStore(max_bytes=0, ttl_seconds=60)
    with pytest.raises(ValueError):
        ResultsStore(max_bytes=10, ttl_seconds=0)
