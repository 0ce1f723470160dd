"""The video API (`POST /api/videos`, `dashboard.routes.api`) against the production server really started (Waitress, the
worker thread of `dashboard.jobs.videos`, the real engine): post, poll, fetch, cancel; a bad clip and a request too
large are JSON errors. The server runs with small clip and request limits, so that passing them is cheap; only
/api/videos may send more than a photo request."""
from __future__ import annotations

import http.client
import io
import json
import socket
import time
from dataclasses import dataclass

import av
import pytest
import requests
from urllib3 import encode_multipart_formdata

from tests.server.conftest import LiveServer, running_server
from tests.video_clips import make_clip, pattern_frames

MAX_VIDEO_BYTES = 1_500_000
MAX_REQUEST_BYTES = 1_000_000
VIDEO_REQUEST_BYTES = MAX_VIDEO_BYTES + MAX_REQUEST_BYTES  # dashboard.settings.video_request_max_bytes()
TIMEOUT = 120


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("video-api"), COLORIZER_CHANNEL_TIMEOUT="10",
                        COLORIZER_MAX_VIDEO_BYTES=str(MAX_VIDEO_BYTES),
                        COLORIZER_MAX_REQUEST_BYTES=str(MAX_REQUEST_BYTES)) as live:
        yield live


def post_video(server: LiveServer, fields: list[tuple], source: str = "127.0.0.1",
               path: str = "/api/videos") -> Answer:
    """POST a multipart form from the local address `source` (each address is its own API client)."""
    body, content_type = encode_multipart_formdata(fields)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT, source_address=(source, 0))
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return Answer(response.status, {key.lower(): value for key, value in response.getheaders()}, response.read())
    finally:
        connection.close()


def clip_fields(clip: bytes, model: str = "cnn", *extra: tuple) -> list[tuple]:
    return [("model", model), ("video", ("old film.mp4", clip, "video/mp4")), *extra]


def job_url(server: LiveServer, answer: Answer) -> str:
    assert answer.status == 202, answer.body[:300]
    assert answer.headers["content-type"].startswith("application/json")
    job = answer.json()
    assert job["url"] == f"/api/videos/{job['id']}" == answer.headers["location"] and len(job["id"]) >= 22
    return server.url + job["url"]


def poll(url: str) -> tuple[dict, list[dict]]:
    """GET the job until it is no longer queued or running: (the last answer, every answer)."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while True:
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        seen.append(answer.json())
        if seen[-1]["state"] not in ("queued", "running"):
            return seen[-1], seen
        assert time.monotonic() < deadline, seen[-1]
        time.sleep(0.05)


def assert_error(answer: Answer | requests.Response, status: int, words: str) -> None:
    code = answer.status if isinstance(answer, Answer) else answer.status_code
    body = answer.body if isinstance(answer, Answer) else answer.content
    assert code == status, body[:300]
    assert words in json.loads(body)["error"], body[:300]


def test_post_poll_and_fetch_a_coloured_clip(server):
    url = job_url(server, post_video(server, clip_fields(make_clip(width=96, height=64, frames=36))))
    done, seen = poll(url)
    assert set(done) == {"state", "frames_done", "frames_total", "seconds_left", "message", "result_url"}
    assert (done["state"], done["frames_done"], done["frames_total"], done["message"]) == ("done", 36, 36, None)
    assert done["result_url"] == url[len(server.url):] + "/result"
    assert all(answer["frames_total"] == 36 for answer in seen)
    assert [answer["frames_done"] for answer in seen] == sorted(answer["frames_done"] for answer in seen)

    result = requests.get(server.url + done["result_url"], timeout=TIMEOUT)
    assert result.status_code == 200 and result.headers["Content-Type"] == "video/mp4"
    assert 'filename=old-film-colorized-cnn.mp4' in result.headers["Content-Disposition"]
    with av.open(io.BytesIO(result.content)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 36 and (frames[0].width, frames[0].height) == (96, 64)
    part = requests.get(server.url + done["result_url"], headers={"Range": "bytes=0-99"}, timeout=TIMEOUT)
    assert part.status_code == 206 and part.content == result.content[:100]

    assert requests.delete(url, timeout=10).status_code == 204  # frees the result
    assert_error(requests.get(url, timeout=10), 404, "no such video job")
    assert_error(requests.get(url + "/result", timeout=10), 404, "no such video job")


def test_keyframes_named_by_frame_number_colour_the_clip(server):
    keyframe = pattern_frames(96, 64, 12, colour=True)[5]
    from dashboard.page_logic.imaging import png_bytes

    fields = clip_fields(make_clip(), "exemplar", ("keyframe", ("5.png", png_bytes(keyframe), "image/png")))
    url = job_url(server, post_video(server, fields))
    done, _ = poll(url)
    assert done["state"] == "done", done
    requests.delete(url, timeout=10)


def test_delete_cancels_a_running_job_and_one_job_at_a_time_per_client(server):
    url = job_url(server, post_video(server, clip_fields(make_clip(frames=240))))
    busy = post_video(server, clip_fields(make_clip()))
    assert_error(busy, 429, "already have a video")
    assert int(busy.headers["retry-after"]) > 0
    other = job_url(server, post_video(server, clip_fields(make_clip()), source="127.0.0.2"))  # another client
    deadline = time.monotonic() + TIMEOUT
    while (state := requests.get(url, timeout=10).json())["frames_done"] < 2:
        assert state["state"] in ("queued", "running") and time.monotonic() < deadline, state
        time.sleep(0.05)
    assert requests.delete(url, timeout=10).status_code == 204
    assert_error(requests.get(url, timeout=10), 404, "no such video job")
    assert_error(requests.delete(url, timeout=10), 404, "no such video job")
    again = job_url(server, post_video(server, clip_fields(make_clip())))  # the client may send another at once
    assert poll(again)[0]["state"] == "done" and poll(other)[0]["state"] == "done"  # the worker went on
    for finished in (again, other):
        requests.delete(finished, timeout=10)


def test_a_result_asked_for_too_soon_is_409(server):
    url = job_url(server, post_video(server, clip_fields(make_clip(frames=120))))
    assert_error(requests.get(url + "/result", timeout=10), 409, "not ready yet")
    requests.delete(url, timeout=10)


@pytest.mark.parametrize("data, status, words", [
    (b"a shopping list, not a film", 415, "not a video we can read"),
    (make_clip()[:400], 415, "not a video we can read"),  # cut short before its first frame
    (make_clip(width=32, height=32, frames=62, fps=1), 413, "longest we colour is 60 seconds"),
    (make_clip(width=1952, height=16, frames=2), 413, "largest we colour is 1920x1080"),
])
def test_a_bad_clip_is_a_json_error(server, data, status, words):
    assert_error(post_video(server, clip_fields(data)), status, words)


@pytest.mark.parametrize("fields, status, words", [
    ([("model", "cnn")], 400, "'video'"),
    ([("video", ("a.mp4", b"x", "video/mp4"))], 400, "'model'"),
    (clip_fields(b"x", "no-such-model"), 404, "no-such-model"),
    (clip_fields(b"x", "cnn", ("strength", "2")), 400, "strength"),
    (clip_fields(make_clip(), "exemplar", ("keyframe", ("frame.png", b"x", "image/png"))), 400, "frame number"),
    (clip_fields(make_clip(), "exemplar", ("keyframe", ("12.png", b"x", "image/png"))), 422, "no frame 12"),
    (clip_fields(make_clip(), "exemplar", ("keyframe", ("3.png", b"x", "image/png"))), 400, "Keyframe 3"),
    (clip_fields(make_clip(), "welsh", ("reference", "no-such-photo")), 400, "no-such-photo"),
])
def test_bad_fields_are_json_errors(server, fields, status, words):
    assert_error(post_video(server, fields), status, words)


def test_too_large_is_413_and_only_videos_may_send_more_than_a_photo_request(server):
    over_clip = make_clip() + b"\0" * MAX_VIDEO_BYTES  # a clip over its own limit, the request within its own
    assert_error(post_video(server, clip_fields(over_clip)), 413, "The video is larger than the limit of 1.5 MB")
    # a body announced over the video request's limit: Waitress answers before reading it
    status, body = announce_body(server, "/api/videos", VIDEO_REQUEST_BYTES + 10)
    assert status == 413 and "a video request may be at most 2.5 MB" in json.loads(body)["error"], body
    # more than a photo request, within a video request: read whole, and judged by what it holds
    large = clip_fields(make_clip(), "exemplar", ("keyframe", ("0.png", b"\0" * (MAX_REQUEST_BYTES + 1000),
                                                               "image/png")))
    assert_error(post_video(server, large), 400, "Keyframe 0 could not be used")
    # the same size to the photo API or a page's upload of photos: refused; the Video page's upload of a clip: kept
    for path in ("/api/colorize", "/uploads"):
        status, _ = announce_body(server, path, MAX_REQUEST_BYTES + 1000)
        assert status == 413, path
    clip = make_clip() + b"\0" * (MAX_REQUEST_BYTES + 100_000)  # under the clip's limit, over a photo request's
    kept = requests.post(f"{server.url}/uploads?kind=video", files={"file": ("film.mp4", clip, "video/mp4")},
                         timeout=TIMEOUT)
    assert kept.status_code == 200 and kept.json()["files"][0]["token"], kept.text[:300]


def announce_body(server: LiveServer, path: str, length: int) -> tuple[int, bytes]:
    """Send a POST's headers announcing a body of `length` bytes and a little of it; the status and body of the
    answer (Waitress answers a body over its limit as soon as it has the headers)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {server.host}\r\nConnection: close\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n").encode()
    answer = b""
    with socket.create_connection((server.host, server.port), timeout=30) as connection:
        connection.sendall(head + b"\0" * 1000)
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_wrong_methods_and_unknown_jobs(server):
    answer = requests.get(f"{server.url}/api/videos", timeout=10)
    assert answer.status_code == 405 and answer.headers["Allow"] == "POST"
    answer = requests.put(f"{server.url}/api/videos/abc", timeout=10)
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, DELETE"
    assert_error(requests.get(f"{server.url}/api/videos/abc", timeout=10), 404, "no such video job")
    assert requests.get(f"{server.url}/videos/abc/result.mp4", timeout=10).status_code == 404
