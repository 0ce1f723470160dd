"""Issue 11, item 2, against the real server: the largest photo allowed, alone and four at once, stays within the
documented memory budget (README, "Memory"), or is refused with a clear message."""
from __future__ import annotations

import io
import threading

import numpy as np
import pytest
import requests
from PIL import Image

from colorizers import settings
from colorizers.references import gallery
from dashboard.settings import MODEL_SLOTS
from tests.server.conftest import PeakSampler, running_server

GIB = 1024**3
PER_PHOTO_BUDGET = 1 * GIB  # the most one photo at the pixel limit may add while it is worked on (README)
BUFFERS_BUDGET = GIB // 2  # request bodies and PNG answers in flight, allocator slack


def largest_allowed_png() -> bytes:
    """A gray PNG just under the pixel limit (6324 x 6324 at 40 MP), small on disk as the issue's was."""
    side = int(settings.MAX_PIXELS**0.5)
    gradient = np.linspace(0, 255, side, dtype=np.float32).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.broadcast_to(gradient, (side, side)).copy()).save(buffer, format="PNG")
    return buffer.getvalue()


def colorize(live_server, photo: bytes, reference: str) -> requests.Response:
    return requests.post(f"{live_server.url}/api/colorize", data={"model": "welsh", "reference": reference},
                         files={"image": ("big.png", photo, "image/png")}, timeout=600)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The real server, with room for four heavy requests from this one test client at once (by default a visitor
    gets two at a time and the rest are told 429: here the four must reach the model slots)."""
    with running_server(tmp_path_factory.mktemp("memory"), COLORIZER_HEAVY_PER_VISITOR="4",
                        COLORIZER_HEAVY_PER_ADDRESS="4") as server:
        yield server


def test_the_largest_photos_stay_within_the_memory_budget(live_server):
    reference = gallery()[0].name  # a named reference: Welsh's heaviest path (full-size sampling)
    small = io.BytesIO()
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(small, format="PNG")
    assert colorize(live_server, small.getvalue(), reference).status_code == 200  # warm
    photo = largest_allowed_png()
    baseline = live_server.rss_bytes()

    with PeakSampler(live_server.rss_bytes, interval=0.1) as alone:
        answer = colorize(live_server, photo, reference)
    assert answer.status_code == 200 and Image.open(io.BytesIO(answer.content)).size == Image.open(
        io.BytesIO(photo)).size
    assert max(alone.samples) - baseline <= PER_PHOTO_BUDGET + BUFFERS_BUDGET

    answers: list[requests.Response] = []
    clients = [threading.Thread(target=lambda: answers.append(colorize(live_server, photo, reference)))
               for _ in range(4)]
    with PeakSampler(live_server.rss_bytes, interval=0.1) as together:
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    assert max(together.samples) - baseline <= MODEL_SLOTS * PER_PHOTO_BUDGET + BUFFERS_BUDGET
    for answer in answers:
        if answer.status_code == 503:  # refused rather than wait too long: said clearly, with when to retry
            assert "busy" in answer.json()["error"] and int(answer.headers["Retry-After"]) >= 1
        else:
            assert answer.status_code == 200
