"""Issue 20 against the real server: one visitor's heavy requests cannot starve everybody else
(`dashboard.guards.fair_share`)."""
from __future__ import annotations

import io
import threading
import time
import zipfile

import numpy as np
import requests
from PIL import Image

from tests.server.test_compare_queue_live import queue_state, upload_to_compare

PHOTOS, HEIGHT, WIDTH = 8, 1200, 1600  # 1.92 MP each
ZIPS = 8


def photo_png(index: int, height: int, width: int) -> bytes:
    rows, columns = np.mgrid[0:height, 0:width]
    gray = (40 + 150 * rows / height + 20 * np.sin(columns / (3.0 + index))).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG")
    return buffer.getvalue()


def wait_until_coloured(browser: requests.Session, url: str, deadline_seconds: float = 300) -> None:
    deadline = time.monotonic() + deadline_seconds
    while any(status in ("queued", "working") for status, _ in queue_state(browser, url).values()):
        assert time.monotonic() < deadline, "the queue did not finish"
        time.sleep(0.5)


def test_eight_zips_from_one_visitor_leave_another_visitors_api_call_fast(live_server):
    url = live_server.url
    hoarder = requests.Session()
    hoarder.get(f"{url}/compare", timeout=30)  # its session cookie
    assert upload_to_compare(hoarder, url, [(f"photo-{index}.png", photo_png(index, HEIGHT, WIDTH))
                                           for index in range(PHOTOS)], timeout=120).ok
    wait_until_coloured(hoarder, url)
    one = hoarder.get(f"{url}/results/all.zip", timeout=120)
    assert one.status_code == 200
    results = len(zipfile.ZipFile(io.BytesIO(one.content)).namelist())
    assert results >= 24, results

    answers: list[requests.Response] = []
    start = threading.Barrier(ZIPS + 1)

    def download() -> None:
        start.wait()
        answers.append(hoarder.get(f"{url}/results/all.zip", timeout=120))

    downloads = [threading.Thread(target=download) for _ in range(ZIPS)]
    for thread in downloads:
        thread.start()
    start.wait()
    time.sleep(0.3)  # every zip asked for
    other_photo = photo_png(99, 1000, 1000)  # 1 MP
    started = time.monotonic()
    other = requests.post(f"{url}/api/colorize", data={"model": "cnn"},
                          files={"image": ("other.png", other_photo, "image/png")}, timeout=120)
    other_seconds = time.monotonic() - started
    for thread in downloads:
        thread.join(timeout=120)
    statuses = sorted(answer.status_code for answer in answers)
    assert other.status_code == 200 and other_seconds < 3.0, (other.status_code, other_seconds, statuses)
    assert statuses.count(200) >= 2 and set(statuses) <= {200, 429}, statuses
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert int(refused.headers["Retry-After"]) > 0 and "try again" in refused.text


def test_the_api_answers_429_json_past_a_visitors_share(live_server):
    """Six API calls at once from one address (a visitor without a cookie): those past its share of 2 are told
    429 with Retry-After, in JSON."""
    photo = photo_png(7, 1200, 1600)
    answers: list[requests.Response] = []

    def call() -> None:
        answers.append(requests.post(f"{live_server.url}/api/colorize", data={"model": "welsh"},
                                     files={"image": ("a.png", photo, "image/png")}, timeout=120))

    callers = [threading.Thread(target=call) for _ in range(6)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=120)
    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused and all(answer.status_code in (200, 429) for answer in answers), [a.status_code for a in answers]
    assert "try again" in refused[0].json()["error"] and int(refused[0].headers["Retry-After"]) > 0
