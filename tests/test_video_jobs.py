"""dashboard.jobs.videos and dashboard.stores.video_store: video jobs with the real engine (`colorizers.video`) on tiny clips
made in memory (`tests.video_clips`), kept in this process's memory or in a real Redis (the scaled set-up's
tables; the Celery worker itself is tests/scaled/test_video_celery.py), and the routes that serve their results."""
from __future__ import annotations

import io
import threading
import time

import av
import numpy as np
import pytest
from flask import Flask
from PIL import Image

from colorizers import ColorizerError, UnknownModelError
from colorizers.video import VideoError
from dashboard.stores.results_store import RedisResultsStore, ResultsStore, StoredVideo, make_stored_image
from dashboard.jobs.videos import (
    CLIP_EXPIRED, GENERIC_ERROR, LOST_MESSAGE, RESULT_EXPIRED, VideoJobs, VideoStatus, video_download_name,
)
from dashboard.stores.video_store import (
    CANCELLED, DONE, FAILED, QUEUED, RUNNING, MemoryVideoTable, RedisVideoTable, VideoBusyError, VideoSpec,
    spec_from_bytes, spec_to_bytes,
)
from tests.video_clips import make_clip, pattern_frames

MODEL = "cnn"
TIMEOUT = 120


@pytest.fixture(params=["memory", "redis"])
def make_jobs(request):
    """Makes VideoJobs kept in this process or in Redis; their worker thread is the test's (autostart off) unless
    asked for."""

    def make(session_max_bytes: int = 10**9, autostart: bool = False, ttl_seconds: float = 600,
             progress_seconds: float = 0.05) -> VideoJobs:
        if request.param == "memory":
            table = MemoryVideoTable(ttl_seconds)
            store = ResultsStore(10**9, ttl_seconds, session_max_bytes=session_max_bytes)
        else:
            client = request.getfixturevalue("redis_client")
            table = RedisVideoTable(client, ttl_seconds)
            store = RedisResultsStore(client, 10**9, ttl_seconds, session_max_bytes=session_max_bytes)
        return VideoJobs(table, store, autostart=autostart, progress_seconds=progress_seconds)

    return make


def wait_for(jobs: VideoJobs, job_id: str, timeout: float = TIMEOUT) -> VideoStatus:
    deadline = time.monotonic() + timeout
    while (status := jobs.status(job_id)).pending:
        assert time.monotonic() < deadline, status
        time.sleep(0.02)
    return status


def open_mp4(data: bytes) -> tuple[int, int, int]:
    """(frames, width, height) of an MP4, decoded with PyAV."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return len(frames), frames[0].shape[1], frames[0].shape[0]


def in_background(jobs: VideoJobs) -> threading.Thread:
    worker = threading.Thread(target=jobs.thread.process_next, daemon=True)
    worker.start()
    return worker


# --- A job from start to end ----------------------------------------------------------------------------------------

def test_a_job_moves_through_its_frames_and_gives_a_playable_mp4(make_jobs):
    jobs = make_jobs()
    clip = make_clip(width=96, height=64, frames=36)
    job_id = jobs.submit("session-a", clip, "Old film.mov", MODEL)
    queued = jobs.status(job_id)
    assert (queued.state, queued.frames_done, queued.frames_total) == (QUEUED, 0, 36)
    assert not queued.result_ready and not queued.has_preview and queued.seconds_left is None
    assert queued.filename == "Old-film-colorized-cnn.mp4"

    seen = []
    worker = in_background(jobs)
    while worker.is_alive():
        seen.append(jobs.status(job_id))
        time.sleep(0.01)
    worker.join()
    done = jobs.status(job_id)
    running = [status for status in seen if status.state == RUNNING]
    assert running, seen
    progress = [status.frames_done for status in running]
    assert progress == sorted(progress) and any(0 < done_ < 36 for done_ in progress), progress
    assert any(status.seconds_left is not None and status.seconds_left > 0 for status in running)
    assert (done.state, done.frames_done, done.frames_total, done.message) == (DONE, 36, 36, None)
    assert done.result_ready and done.has_preview and done.to_json()["state"] == "done"
    assert VideoStatus.from_json(done.to_json()) == done

    result = jobs.result(job_id)
    assert isinstance(result, StoredVideo) and result.filename == "Old-film-colorized-cnn.mp4"
    assert open_mp4(result.mp4) == (36, 96, 64)
    preview = Image.open(io.BytesIO(jobs.preview_jpeg(job_id)))
    assert preview.format == "JPEG" and preview.size == (96, 64)


def test_keyframes_and_a_reference_travel_with_the_job(make_jobs):
    """A keyframe (the first frame in colour) is carried through the clip by the exemplar engine; in Redis the
    keyframe and the reference travel as PNG."""
    jobs = make_jobs()
    clip = make_clip(width=96, height=64, frames=12)
    keyframe = pattern_frames(96, 64, 12, colour=True)[0]
    job_id = jobs.submit("session-a", clip, "film.mp4", "exemplar", keyframes={0: keyframe})
    assert jobs.thread.process_next()
    status = jobs.status(job_id)
    assert status.state == DONE, status
    with av.open(io.BytesIO(jobs.result(job_id).mp4)) as container:
        last = list(container.decode(video=0))[-1].to_ndarray(format="rgb24").astype(int)
    assert np.abs(last[..., 0] - last[..., 2]).mean() > 3  # the keyframe's colour reached the last frame


def test_the_spec_record_keeps_photos_as_png_and_names_as_they_are():
    keyframe = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    spec = VideoSpec("exemplar", 0.8, ("landscape", keyframe[:10]), {7: keyframe})
    blob = spec_to_bytes(spec)
    assert b"\x89PNG" in blob and b"pickle" not in blob
    back = spec_from_bytes(blob)
    assert (back.model, back.strength, back.reference[0]) == ("exemplar", 0.8, "landscape")
    assert np.array_equal(back.reference[1], keyframe[:10]) and np.array_equal(back.keyframes[7], keyframe)
    assert back.reference_argument()[0] == "landscape" and isinstance(back.reference_argument(), list)
    assert spec_from_bytes(b"not a record") is None and spec_from_bytes(None) is None


# --- Cancelling ---------------------------------------------------------------------------------------------------

def test_cancel_stops_a_running_job_before_its_next_frame(make_jobs):
    jobs = make_jobs()
    job_id = jobs.submit("session-a", make_clip(frames=120), "long.mp4", MODEL)
    worker = in_background(jobs)
    deadline = time.monotonic() + TIMEOUT
    while jobs.status(job_id).frames_done < 2:
        assert time.monotonic() < deadline and worker.is_alive()
        time.sleep(0.01)
    assert jobs.cancel(job_id)
    worker.join(TIMEOUT)
    status = jobs.status(job_id)
    assert status.state == CANCELLED and status.frames_done < 120 and not status.result_ready
    assert jobs.result(job_id) is None and jobs.store.total_bytes == 0
    assert not jobs.cancel(job_id)  # nothing left to cancel


def test_cancel_of_a_queued_job_drops_its_clip_and_it_never_runs(make_jobs):
    jobs = make_jobs()
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    assert jobs.cancel(job_id)
    assert jobs.status(job_id).state == CANCELLED and jobs.table.take_input(job_id) is None
    assert jobs.thread.process_next()  # taken from the line, and left alone
    assert jobs.status(job_id).state == CANCELLED and jobs.status(job_id).frames_done == 0
    jobs.submit("session-a", make_clip(), "next.mp4", MODEL)  # the session may send another now


def test_delete_cancels_frees_the_result_and_forgets_the_job(make_jobs):
    jobs = make_jobs()
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    jobs.thread.process_next()
    assert jobs.status(job_id).result_ready and jobs.store.total_bytes > 0
    assert jobs.delete(job_id)
    assert jobs.status(job_id) is None and jobs.store.total_bytes == 0 and not jobs.delete(job_id)


# --- Failures -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, words", [
    (b"a shopping list, not a film", "not a video"),
    (make_clip()[:300], "video"),  # cut short: too little of it to read
])
def test_a_bad_clip_is_refused_at_once_with_its_message(make_jobs, data, words):
    jobs = make_jobs()
    with pytest.raises(VideoError, match=words):
        jobs.submit("session-a", data, "bad.mp4", MODEL)
    assert jobs.pending_job("session-a") is None


def test_bad_options_are_refused_at_once(make_jobs):
    jobs = make_jobs()
    clip = make_clip(frames=12)
    with pytest.raises(UnknownModelError):
        jobs.submit("session-a", clip, "clip.mp4", "no-such-model")
    with pytest.raises(VideoError, match="brush strokes"):
        jobs.submit("session-a", clip, "clip.mp4", "scribble")
    with pytest.raises(ColorizerError, match="strength"):
        jobs.submit("session-a", clip, "clip.mp4", MODEL, strength=2.0)
    with pytest.raises(VideoError, match="no frame 12"):
        jobs.submit("session-a", clip, "clip.mp4", "exemplar", keyframes={12: np.zeros((64, 96, 3), np.uint8)})
    with pytest.raises(VideoError, match="no colour"):
        jobs.submit("session-a", clip, "clip.mp4", "exemplar", keyframes={3: np.full((64, 96, 3), 90, np.uint8)})
    assert jobs.pending_job("session-a") is None


def test_a_job_that_fails_keeps_the_message_and_the_worker_goes_on(make_jobs, monkeypatch):
    import dashboard.jobs.videos as video_jobs

    jobs = make_jobs(autostart=True)
    real = video_jobs.colorize_video
    errors = iter([VideoError("This clip's sound cannot be read."), RuntimeError("a bug of ours")])

    def failing(*args, **kwargs):
        error = next(errors, None)
        if error is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(video_jobs, "colorize_video", failing)
    clip = make_clip()
    first = wait_for(jobs, jobs.submit("session-a", clip, "a.mp4", MODEL))
    assert (first.state, first.message) == (FAILED, "This clip's sound cannot be read.")
    second = wait_for(jobs, jobs.submit("session-a", clip, "b.mp4", MODEL))
    assert (second.state, second.message) == (FAILED, GENERIC_ERROR)  # logged, never shown
    third = wait_for(jobs, jobs.submit("session-a", clip, "c.mp4", MODEL))
    assert third.state == DONE and third.result_ready  # the same worker thread, still there


def test_a_clip_gone_before_its_turn_fails_saying_so(make_jobs):
    jobs = make_jobs()
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    clip, spec = jobs.table.take_input(job_id)  # as if it expired from Redis while queued
    assert clip[4:8] == b"ftyp" and spec.model == MODEL
    jobs.thread.process_next()
    assert (jobs.status(job_id).state, jobs.status(job_id).message) == (FAILED, CLIP_EXPIRED)


def test_a_running_job_whose_worker_died_is_failed_once_its_lease_lapses(redis_client):
    """In Redis, a job marked running with no worker's lease (the worker was killed) says so, and frees the owner."""
    table = RedisVideoTable(redis_client, 600)
    jobs = VideoJobs(table, RedisResultsStore(redis_client, 10**9, 600), send=lambda job_id: None)
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    with pytest.raises(VideoBusyError):
        jobs.submit("session-a", make_clip(), "again.mp4", MODEL)
    assert table.move(job_id, [QUEUED], state=RUNNING, started=time.time())  # as a worker does, then it dies
    status = jobs.status(job_id)
    assert (status.state, status.message) == (FAILED, LOST_MESSAGE)
    jobs.run(job_id)  # the task handed out again: nothing to do
    assert jobs.status(job_id).state == FAILED
    jobs.submit("session-a", make_clip(), "again.mp4", MODEL)


# --- One job at a time per visitor; owners ------------------------------------------------------------------------

def test_a_visitor_has_one_pending_job_at_a_time_and_sees_only_its_own(make_jobs):
    jobs = make_jobs()
    clip = make_clip()
    job_id = jobs.submit("session-a", clip, "clip.mp4", MODEL)
    with pytest.raises(VideoBusyError, match="already have a video") as refused:
        jobs.submit("session-a", clip, "clip.mp4", MODEL)
    assert refused.value.job_id == job_id
    other = jobs.submit("session-b", clip, "clip.mp4", MODEL)  # somebody else may
    assert jobs.status(job_id, "session-b") is None and jobs.result(job_id, "session-b") is None
    assert not jobs.cancel(job_id, "session-b") and not jobs.delete(job_id, "session-b")
    assert jobs.status(job_id, "session-a").state == QUEUED
    jobs.thread.process_next()
    jobs.thread.process_next()
    assert jobs.status(other).state == DONE and jobs.preview_jpeg(job_id, "session-b") is None
    jobs.submit("session-a", clip, "clip.mp4", MODEL)  # done: the next may come


def test_unknown_and_malformed_job_ids_are_none(make_jobs):
    jobs = make_jobs()
    for job_id in ["", "x" * 500, "no-such-job", "../../etc"]:
        assert jobs.status(job_id) is None and jobs.result(job_id) is None and jobs.preview_jpeg(job_id) is None
        assert not jobs.cancel(job_id) and not jobs.delete(job_id)


# --- The byte budget ----------------------------------------------------------------------------------------------

def test_the_result_counts_in_the_visitors_byte_budget(make_jobs):
    jobs = make_jobs(session_max_bytes=80_000)
    photo = make_stored_image(np.zeros((155, 160, 3), np.uint8), "photo.png", display_long_side=8)
    photo_id = jobs.store.put("session-a", photo)  # 75 kB of the visitor's 80 kB
    other_id = jobs.store.put("session-b", photo)
    job_id = jobs.submit("session-a", make_clip(width=320, height=240, frames=24), "clip.mp4", MODEL)
    jobs.thread.process_next()
    status = jobs.status(job_id)
    assert status.state == DONE, status
    size = len(jobs.result(job_id).mp4)
    assert 80_000 - photo.nbytes < size < 80_000  # the two together pass the visitor's budget
    assert jobs.store.get("session-a", photo_id) is None  # so the visitor's own photo made room
    assert jobs.store.get("session-b", other_id) is not None  # not somebody else's
    assert jobs.store.total_bytes == photo.nbytes + size


def test_a_result_larger_than_the_visitors_budget_fails_saying_so(make_jobs):
    jobs = make_jobs(session_max_bytes=2_000)
    job_id = jobs.submit("session-a", make_clip(width=160, height=120), "clip.mp4", MODEL)
    jobs.thread.process_next()
    status = jobs.status(job_id)
    assert status.state == FAILED and "more than the server keeps for one visitor" in status.message
    assert jobs.store.total_bytes == 0


def test_an_expired_result_says_so_and_finished_jobs_are_forgotten_after_the_ttl():
    clock = [0.0]
    table = MemoryVideoTable(100, clock=lambda: clock[0])
    store = ResultsStore(10**9, 100, clock=lambda: clock[0])
    jobs = VideoJobs(table, store, autostart=False)
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    jobs.thread.process_next()
    clock[0] = 60.0
    assert jobs.status(job_id).result_ready  # looked at: the job stays another 100 s, its result 40 s more
    clock[0] = 110.0
    status = jobs.status(job_id)
    assert (status.state, status.result_ready, status.message) == (DONE, False, RESULT_EXPIRED)
    clock[0] = 300.0
    assert jobs.status(job_id) is None and len(table) == 0


def test_download_names():
    assert video_download_name("My old film.MOV", "cnn") == "My-old-film-colorized-cnn.mp4"
    assert video_download_name("", "exemplar") == "video-colorized-exemplar.mp4"
    assert video_download_name("../../x.gif", "welsh") == "x-colorized-welsh.mp4"


# --- The routes ---------------------------------------------------------------------------------------------------

def test_the_routes_play_with_byte_ranges_download_and_preview(make_jobs):
    from dashboard.routes.images import register_video_routes

    jobs = make_jobs()
    server = Flask(__name__)
    register_video_routes(server, jobs)
    client = server.test_client()
    job_id = jobs.submit("session-a", make_clip(), "clip.mp4", MODEL)
    assert client.get(f"/videos/{job_id}/result.mp4").status_code == 404  # not done yet
    jobs.thread.process_next()
    mp4 = jobs.result(job_id).mp4

    whole = client.get(f"/videos/{job_id}/result.mp4")
    assert whole.status_code == 200 and whole.mimetype == "video/mp4" and whole.data == mp4
    assert whole.headers["Accept-Ranges"] == "bytes" and "attachment" not in whole.headers.get(
        "Content-Disposition", "")
    part = client.get(f"/videos/{job_id}/result.mp4", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == mp4[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(mp4)}"

    download = client.get(f"/videos/{job_id}/download")
    assert download.data == mp4 and 'attachment; filename=clip-colorized-cnn.mp4' in download.headers[
        "Content-Disposition"]
    preview = client.get(f"/videos/{job_id}/preview.jpg")
    assert preview.mimetype == "image/jpeg" and preview.headers["Cache-Control"] == "no-store"
    for path in ["/videos/nope/result.mp4", "/videos/nope/download", "/videos/nope/preview.jpg"]:
        assert client.get(path).status_code == 404
