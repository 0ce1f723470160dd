"""Video jobs in the scaled set-up, really started (tests/scaled/conftest.py: Redis, two Celery workers, two web
servers): a clip posted to one web process is coloured by the Celery task `colorizer.colour_video`, followed and
fetched from the other, cancelled through Redis; its result counts in the caller's byte budget in Redis, and nothing
the job keeps there is a pickle."""
from __future__ import annotations

import io
import time

import av
import requests

from dashboard.page_logic.imaging import png_bytes
from dashboard.stores.record_format import MAGIC
from tests.video_clips import make_clip, pattern_frames

TIMEOUT = 240


def post(url: str, clip: bytes, model: str = "cnn", files: list | None = None) -> str:
    answer = requests.post(f"{url}/api/videos", data={"model": model},
                           files=[("video", ("film.mp4", clip, "video/mp4")), *(files or [])], timeout=TIMEOUT)
    assert answer.status_code == 202, answer.text[:300]
    return answer.json()["url"]


def poll(url: str, until=lambda job: job["state"] not in ("queued", "running")) -> dict:
    deadline = time.monotonic() + TIMEOUT
    while True:
        answer = requests.get(url, timeout=30)
        assert answer.status_code == 200, answer.text[:300]
        job = answer.json()
        if until(job):
            return job
        assert time.monotonic() < deadline and job["state"] in ("queued", "running"), job
        time.sleep(0.1)


def worker_logs(scaled_site) -> str:
    return "".join(log.read_text(errors="replace") for log in scaled_site.folder.glob("worker*.log"))


def test_a_clip_posted_to_one_web_process_is_coloured_by_a_celery_worker(scaled_site):
    first, second = scaled_site.url(0), scaled_site.url(1)
    path = post(first, make_clip(width=96, height=64, frames=24))
    job_id = path.rsplit("/", 1)[1]
    running = poll(second + path, lambda job: job["state"] == "running" or job["state"] == "done")
    assert running["frames_total"] == 24
    done = poll(second + path)  # the other web process follows it in Redis
    assert (done["state"], done["frames_done"], done["message"]) == ("done", 24, None), done
    result = requests.get(first + done["result_url"], timeout=TIMEOUT)
    assert result.status_code == 200 and result.headers["Content-Type"] == "video/mp4"
    with av.open(io.BytesIO(result.content)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 24 and (frames[0].width, frames[0].height) == (96, 64)
    assert f"Video job {job_id[:6]} done" in worker_logs(scaled_site)  # a Celery worker coloured it
    preview = requests.get(f"{second}/videos/{job_id}/preview.jpg", timeout=30)
    assert preview.status_code == 200 and preview.content.startswith(b"\xff\xd8")  # the latest frame, as JPEG

    client = scaled_site.redis()
    owners = client.hgetall("colorizer:store:owners")
    sizes = client.hgetall("colorizer:store:sizes")
    kept = [key for key, owner in owners.items() if owner == b"api:127.0.0.1"]
    assert [int(sizes[key]) for key in kept] == [len(result.content)]  # in the caller's byte budget
    for key in client.scan_iter("colorizer:video:*"):  # nothing the job keeps is a pickle
        if client.type(key) == b"string":
            value = client.get(key)
            assert value.startswith((MAGIC, b"\xff\xd8")) or value.isascii(), (key, value[:20])
            assert not value.startswith(b"\x80"), key
    assert requests.delete(first + path, timeout=30).status_code == 204
    assert int(client.hlen("colorizer:store:owners")) == len(owners) - 1  # its result freed


def test_keyframes_travel_to_the_worker_and_a_job_is_cancelled_through_redis(scaled_site):
    url = scaled_site.url(0)
    keyframe = pattern_frames(96, 64, 12, colour=True)[0]
    path = post(url, make_clip(frames=12), "exemplar", [("keyframe", ("0.png", png_bytes(keyframe), "image/png"))])
    assert poll(url + path)["state"] == "done"
    requests.delete(url + path, timeout=30)

    path = post(url, make_clip(frames=600))
    job_id = path.rsplit("/", 1)[1]
    poll(url + path, lambda job: job["frames_done"] >= 2)
    assert requests.delete(url + path, timeout=30).status_code == 204
    deadline = time.monotonic() + 30
    while f"Video job {job_id[:6]} cancelled" not in worker_logs(scaled_site):  # it stopped at its next frame
        assert time.monotonic() < deadline, worker_logs(scaled_site)[-3000:]
        time.sleep(0.2)
    again = post(scaled_site.url(1), make_clip(frames=12))  # the caller may send the next at once
    assert poll(scaled_site.url(0) + again)["state"] == "done"
