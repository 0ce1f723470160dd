"""Issue 11, item 5, against the real server with a small memory budget: eight browser sessions queue three photos
each on the Compare page at once; no queued or working photo is ever dropped, and every photo ends coloured or
refused with its reason."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
import requests
from PIL import Image

from tests.server.conftest import running_server, upload_tokens

SESSIONS, PHOTOS_EACH = 8, 3
POLL_SECONDS, DEADLINE_SECONDS = 0.3, 300


@pytest.fixture(scope="module")
def small_budget_server(tmp_path_factory):
    # Room for a handful of these photos' rows at once, not all 24.
    with running_server(tmp_path_factory.mktemp("small-budget"), COLORIZER_RESULTS_MAX_BYTES="40000000") as server:
        yield server


def photo_png(index: int) -> bytes:
    rows, columns = np.mgrid[0:300, 0:400]
    gray = (40 + 150 * rows / 300 + 20 * np.sin(columns / (3.0 + index))).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG")
    return buffer.getvalue()


def dash_request(outputs: list[tuple[str, str]], inputs: list[dict], states: list[dict], changed: str) -> dict:
    return {
        "output": ".." + "...".join(f"{id_}.{prop}" for id_, prop in outputs) + "..",
        "outputs": [{"id": id_, "property": prop} for id_, prop in outputs],
        "inputs": inputs, "changedPropIds": [changed], "state": states,
    }


def upload_to_compare(browser: requests.Session, url: str, photos: list[tuple[str, bytes]],
                      timeout: float = 60) -> requests.Response:
    """The Compare page's upload, as the browser makes it: the files to /uploads, then the callback with tokens."""
    names = [name for name, _ in photos]
    contents = upload_tokens(browser, url, photos)
    request = dash_request(
        [("compare-upload", "contents"), ("compare-feedback", "children"), ("compare-poll", "disabled")],
        [{"id": "compare-upload", "property": "contents", "value": contents}],
        [{"id": "compare-upload", "property": "filename", "value": names}],
        "compare-upload.contents",
    )
    # An output shared with other callbacks has a suffix Dash made: take the callback's own name for it.
    dependencies = browser.get(f"{url}/_dash-dependencies", timeout=30).json()
    request["output"] = next(callback["output"] for callback in dependencies
                             if callback["output"].startswith("..compare-upload.contents..."))
    request["outputs"][2]["property"] = request["output"].rstrip(".").rsplit("...", 1)[1].split(".", 1)[1]
    return browser.post(f"{url}/_dash-update-component", json=request, timeout=timeout)


def queue_photos(browser: requests.Session, url: str, session_index: int) -> None:
    names = [f"s{session_index}-photo-{index}.png" for index in range(PHOTOS_EACH)]
    photos = [(name, photo_png(session_index * PHOTOS_EACH + index)) for index, name in enumerate(names)]
    assert upload_to_compare(browser, url, photos).status_code == 200


def queue_state(browser: requests.Session, url: str) -> dict[str, tuple[str, str]]:
    """Row id -> (status, detail) as the Compare page's queue list shows them now."""
    request = dash_request(
        [("compare-queue", "children"), ("compare-results", "children"), ("compare-rendered", "data"),
         ("compare-poll", "disabled"), ("compare-zip", "href"), ("compare-zip", "className"), ("compare-newest", "data"),
         ("compare-scroll", "data")],
        [{"id": "compare-poll", "property": "n_intervals", "value": 1},
         {"id": "compare-strength", "property": "value", "value": 100}],
        [{"id": "compare-legacy-request", "property": "data", "value": None},
         {"id": "compare-rendered", "property": "data", "value": None},
         {"id": "compare-newest", "property": "data", "value": None}],
        "compare-poll.n_intervals",
    )
    answer = browser.post(f"{url}/_dash-update-component", json=request, timeout=60)
    assert answer.status_code == 200
    queue = answer.json()["response"]["compare-queue"]["children"]
    rows = {}
    for item in (queue.get("props", {}).get("children") or []):
        badge, detail = item["props"]["children"][1], item["props"]["children"][3]
        rows[item["props"]["data-row"]] = (badge["props"]["children"], detail["props"]["children"])
    return rows


def test_no_queued_photo_is_ever_dropped(small_budget_server):
    url = small_budget_server.url
    browsers = []
    for index in range(SESSIONS):
        browser = requests.Session()
        browser.get(f"{url}/compare", timeout=30)  # its session cookie
        browsers.append(browser)
    for index, browser in enumerate(browsers):
        queue_photos(browser, url, index)

    last_seen: dict[str, str] = {}
    row_owner: dict[str, requests.Session] = {}
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        pending = False
        for browser in browsers:
            rows = queue_state(browser, url)
            for row_id, status in last_seen.items():
                if row_id in rows or status not in ("queued", "working"):
                    continue
                if browser is row_owner[row_id]:
                    pytest.fail(f"row {row_id} vanished while {status}")
            for row_id, (status, detail) in rows.items():
                last_seen[row_id] = status
                row_owner.setdefault(row_id, browser)
                if status == "error":
                    assert detail, "a refused photo says why"
                pending = pending or status in ("queued", "working")
        if not pending:
            break
        assert time.monotonic() < deadline, "the queue did not finish"
        time.sleep(POLL_SECONDS)
    assert len(last_seen) == SESSIONS * PHOTOS_EACH
    assert set(last_seen.values()) <= {"done", "error"}
    assert list(last_seen.values()).count("done") >= 4  # the others were refused up front, each saying why
