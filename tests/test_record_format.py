"""dashboard.stores.record_format: what the stores write to Redis round-trips, and nothing read from Redis can run code (a
pickle planted there by whoever can write to it reads as missing, and runs nothing)."""
from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from colorizers import Colorization, Stroke
from dashboard.stores.record_format import RecordFormat, UnreadableRecordError
from dashboard.stores.results_store import RedisResultsStore, StoredImage, TouchUpState


class WritesAMarker:
    """Unpickled, it runs a shell command that creates `path`: what an attacker with access to Redis would plant."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


@pytest.fixture
def planted(tmp_path):
    """(pickle that would create the marker when unpickled, the marker's path)."""
    marker = tmp_path / "pickle-ran"
    return pickle.dumps(WritesAMarker(marker)), marker


@dataclass
class Inner:
    name: str
    values: tuple = ()


@dataclass(frozen=True)
class Outer:
    inner: Inner
    pixels: np.ndarray
    extras: dict = field(default_factory=dict)


def test_values_round_trip_with_their_types():
    record = RecordFormat([Inner, Outer])
    strided = np.arange(60, dtype=np.float32).reshape(6, 10)[::2, 1::3]  # not contiguous
    value = {
        "ints": [1, -2, 2**40], "float": 0.25, "nan": float("nan"), "none": None, "flag": True, "text": "é",
        "tuple": ((1.5, 2.0), (3, 4)), "bytes": b"\x00\xff" * 3, "empty": b"",
        "order": OrderedDict([("b", 1), ("a", 2)]), 7: "non-string key",
        "arrays": [np.zeros((2, 3, 3), np.uint8) + 7, strided, np.array([True, False]), np.zeros((0, 2), np.int16),
                   np.float32(2.5)],
        "outer": Outer(Inner("x", (1, "y")), np.ones((3, 1), np.float64), {"seconds": 0.5}),
    }
    back = record.loads(record.dumps(value))
    assert list(back) == list(value) and back[7] == "non-string key"
    assert back["ints"] == [1, -2, 2**40] and back["float"] == 0.25 and back["nan"] != back["nan"]
    assert back["none"] is None and back["flag"] is True and back["text"] == "é"
    assert back["tuple"] == ((1.5, 2.0), (3, 4)) and isinstance(back["tuple"][0], tuple)
    assert back["bytes"] == b"\x00\xff" * 3 and back["empty"] == b""
    assert type(back["order"]) is OrderedDict and list(back["order"]) == ["b", "a"]
    for got, sent in zip(back["arrays"][:4], value["arrays"][:4]):
        assert got.dtype == sent.dtype and got.shape == sent.shape and np.array_equal(got, sent)
        assert got.flags.writeable and got.flags.aligned
    assert back["arrays"][4] == 2.5
    assert type(back["outer"]) is Outer
    assert back["outer"].inner == Inner("x", (1, "y")) and back["outer"].extras == {"seconds": 0.5}
    assert np.array_equal(back["outer"].pixels, np.ones((3, 1)))


def test_only_the_classes_it_was_made_with_are_written_or_read():
    with pytest.raises(TypeError):
        RecordFormat([Inner]).dumps(Outer(Inner("x"), np.zeros(1)))
    with pytest.raises(TypeError):
        RecordFormat().dumps({"object": object()})
    with pytest.raises(TypeError):
        RecordFormat().dumps(np.array([object()], dtype=object))
    written = RecordFormat([Inner]).dumps(Inner("x"))
    with pytest.raises(UnreadableRecordError):
        RecordFormat().loads(written)  # a reader that was not told about Inner builds nothing


def test_an_object_array_or_a_damaged_record_is_never_read(planted):
    record = RecordFormat()
    good = record.dumps(np.zeros(4, np.int64))
    object_array = good.replace(b'"<i8"', b'"|O8"')
    for bad in (object_array, good[:-8], good.replace(b'"ndarray"', b'"unknown"'), b"", planted[0],
                b"colorizer-record/1\n" + b"\xff" * 8):
        with pytest.raises(UnreadableRecordError):
            record.loads(bad)
    assert record.loads_or_none(planted[0]) is None and record.loads(None) is None


def test_a_pickle_planted_in_the_results_store_is_never_unpickled(redis_client, planted):
    pickled, marker = planted
    store = RedisResultsStore(redis_client, max_bytes=10**6, ttl_seconds=60)
    image = StoredImage(np.zeros((4, 5, 3), np.uint8), b"jpeg", "photo.png", TouchUpState(
        Colorization("cnn", np.zeros((4, 5), np.float32), np.zeros((2, 2, 2), np.float32), np.zeros((0, 0, 3)),
                     0.5, details={"reference": "sunset"}), (Stroke(((1.0, 2.0), (3.0, 4.0)), (1, 2, 3), 4.0),)))
    image_id = store.put("session-a", image)
    back = store.get("session-a", image_id)
    assert back.touch_up_state.strokes == image.touch_up_state.strokes and np.array_equal(back.rgb, image.rgb)
    assert back.touch_up_state.colorization.details == {"reference": "sunset"} and back.filename == "photo.png"
    redis_client.set(f"colorizer:store:image:{image_id}", pickled)
    assert store.get("session-a", image_id) is None and store.get_shared(image_id) is None
    assert not marker.exists()


def test_a_pickle_planted_in_the_studio_store_is_never_unpickled(redis_client, planted):
    from dashboard.studio.model import EXPIRED_MESSAGE, Blob, Row, StudioError
    from dashboard.studio.store import RedisStudioStore

    pickled, marker = planted
    store = RedisStudioStore(redis_client, ttl_seconds=60)
    with store.session("session-a", create=True) as session:
        session.rows["row"] = Row("row", "a.png", ["cnn"], upload=Blob(b"the file"),
                                  lightness=Blob(np.full((3, 4), 50, np.float32)), size=(3, 4))
    with store.peek("session-a") as session:
        row = session.rows["row"]
        assert row.upload.get() == b"the file" and row.lightness.get().shape == (3, 4) and row.size == (3, 4)
        blob_key = row.upload.key
    redis_client.set(f"colorizer:studio:blob:{blob_key}", pickled)
    with store.peek("session-a") as session:
        with pytest.raises(StudioError, match=EXPIRED_MESSAGE.split(";")[0]):
            session.rows["row"].upload.get()
    redis_client.set("colorizer:studio:session:session-a", pickled)
    with store.peek("session-a") as session:
        assert session is None
    with store.session("session-a") as session:
        assert session is None
    assert not marker.exists()
