"""Video jobs: a clip coloured in the background (`colorizers.video.colorize_video`), its progress, a preview of the
latest coloured frame, cancelling, and the MP4 once done. No Dash here: the Video page and the API
(`dashboard.routes.api`, /api/videos) call the functions at the bottom.

Who colours: in one process, a worker thread of this process, one video at a time, the others queued in order; it
holds one of the site's model slots (`dashboard.server.model_slots`) while each frame is coloured, so photos keep flowing
while a video runs. In the scaled set-up (COLORIZER_REDIS_URL), the Celery task `colorizer.colour_video`
(`dashboard.server.worker`) on any worker: the job's record, spec, progress, preview and cancel flag are in Redis
(`dashboard.stores.video_store`), never pickled.

Where things are kept: the clip waits with its job (in this process, or in Redis) until a worker takes it; one job
per owner at a time bounds them. The MP4 is kept in the results store (`dashboard.stores.results_store`, a `StoredVideo`)
under the job's owner: it counts in the visitor's byte budget and expires like photos (COLORIZER_SESSION_MAX_BYTES,
COLORIZER_RESULTS_TTL_SECONDS). Nothing is written to disk (PyAV decodes and encodes in memory).

Owners: a browser session (the page), or for the API `api_owner(address)`: one pending job per owner at a time
(a second is refused with `VideoBusyError`). Job ids are unguessable (128 bits): a job's URLs carry its id, which is
the capability to see that job alone; the page's functions also check the session.

A job that fails keeps the error's message when it was written for the user (`ColorizerError`, e.g. a
`VideoError`), else a generic one (the error is logged); nothing a job does stops the worker.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from colorizers import ColorizerError
from colorizers.registry import MAX_STRENGTH
from colorizers.video import (
    ClipInfo, VideoCancelled, VideoError, check_model, checked_keyframes, colorize_video, probe_clip,
)

from .. import settings
from ..page_logic.imaging import download_name, jpeg_bytes, thumbnail
from ..server.model_slots import model_slots
from ..server.process_wide import process_wide
from ..server.redis_link import redis_client
from ..stores.results_store import ImageTooLargeToKeepError, ResultsStore, RedisResultsStore, StoredVideo, default_store
from ..stores.video_store import (
    CANCELLED, DONE, FAILED, QUEUED, RUNNING, JobRecord, MemoryVideoTable, RedisVideoTable, VideoBusyError, VideoSpec,
)

logger = logging.getLogger(__name__)

VIDEO_TASK_NAME = "colorizer.colour_video"  # the Celery task `dashboard.server.worker` runs: (job id,)
# The most keyframes one clip may have (each kept at the clip's size until its job is done).
MAX_KEYFRAMES = 30
# Reference photos are kept at most this long side: plenty to take colour from, and light to keep for the job.
REFERENCE_SIDE = 1024
# How often a job in Redis writes its progress and asks whether it was cancelled, and how often any job makes a
# new preview JPEG (seconds).
REDIS_PROGRESS_SECONDS = 0.5
PREVIEW_SECONDS = 1.0

BUSY_MESSAGE = ("You already have a video being coloured. Wait for it to finish, or cancel it, before sending "
                "another.")
CLIP_EXPIRED = "The clip expired from the server before its turn came; please send it again."
LOST_MESSAGE = "The worker colouring this video stopped before it finished; please try again."
RESULT_EXPIRED = "This video has expired from the server; please colour it again."
GENERIC_ERROR = "Something went wrong while colouring this video. The error was logged; please try again."


@dataclass(frozen=True)
class VideoStatus:
    """Where a job stands. state: "queued", "running", "done", "failed" or "cancelled". frames_total: the clip's
    frames; seconds_left: a guess from the pace so far (None before the first frame). message: why it failed (or
    that its result has expired). has_preview: a coloured frame can be shown (`video_preview_jpeg`).
    result_ready: the MP4 can be fetched (`video_result`). filename: the download's name
    ("<stem>-colorized-<model>.mp4")."""

    state: str
    frames_done: int
    frames_total: int
    seconds_left: float | None
    message: str | None
    has_preview: bool
    result_ready: bool
    filename: str

    @property
    def pending(self) -> bool:
        return self.state in (QUEUED, RUNNING)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> VideoStatus | None:
        """A status a page kept in a dcc.Store (None for anything else)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(state=str(data["state"]), frames_done=int(data["frames_done"]),
                       frames_total=int(data["frames_total"]),
                       seconds_left=None if data.get("seconds_left") is None else float(data["seconds_left"]),
                       message=data.get("message"), has_preview=bool(data.get("has_preview")),
                       result_ready=bool(data.get("result_ready")), filename=str(data.get("filename", "")))
        except (KeyError, TypeError, ValueError):
            return None


def video_download_name(filename: str | None, model: str) -> str:
    """e.g. ("Old film.mov", "cnn") -> "Old-film-colorized-cnn.mp4" (safe characters only)."""
    return str(PurePath(download_name(filename or "video", f"colorized-{model}")).with_suffix(".mp4"))


def api_owner(address: str) -> str:
    """The owner of a job sent through the API from `address` (API callers have no session)."""
    return f"api:{address}"


class _VideoThread:
    """The worker thread that colours this process's video jobs, one at a time, in the order sent."""

    def __init__(self, run: Callable[[str], None], autostart: bool = True) -> None:
        self._run = run
        self._autostart = autostart
        self._waiting: deque[str] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def send(self, job_id: str) -> None:
        with self._ready:
            self._waiting.append(job_id)
            self._ready.notify()
            if self._autostart:
                self._start_if_stopped()

    def ensure_worker(self) -> None:
        """Start the worker thread now if it is not running (tests start it before a server that kills later ones)."""
        with self._ready:
            self._start_if_stopped()

    def _start_if_stopped(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work_forever, name="video-worker", daemon=True)
            self._thread.start()

    def process_next(self, block: bool = False) -> bool:
        """Run the next job; False when none was waiting (with block=False). The worker thread calls this."""
        with self._ready:
            while not self._waiting:
                if not block:
                    return False
                self._ready.wait()
            job_id = self._waiting.popleft()
        try:
            self._run(job_id)
        except Exception:  # the thread must survive anything (run itself records a job's failure)
            logger.exception("Video job %s failed outside its run", job_id[:6])
        return True

    def _work_forever(self) -> None:
        while True:
            self.process_next(block=True)


class VideoJobs:
    """Submits, runs and reports video jobs kept in `table`; results go to `store`.
    `send(job_id)` hands a job to whoever colours it: by default this process's worker thread (made here), which
    holds a model slot for each frame; with Celery, the workers (frames then need no slot: a worker colours one
    thing at a time). `progress_seconds`: the least time between two writes of a job's progress (and cancel
    checks)."""

    def __init__(
        self,
        table: MemoryVideoTable | RedisVideoTable,
        store: ResultsStore | RedisResultsStore,
        send: Callable[[str], None] | None = None,
        autostart: bool = True,
        progress_seconds: float = 0.0,
    ) -> None:
        self.table = table
        self.store = store
        self.progress_seconds = progress_seconds
        self.thread = _VideoThread(self.run, autostart) if send is None else None
        self._send = self.thread.send if self.thread is not None else send
        self._use_model_slots = send is None

    # --- Asking for a video -------------------------------------------------------------------------------------

    def submit(self, owner: str, data: bytes, filename: str, model: str, reference: Any = None,
               keyframes: Mapping[int, np.ndarray] | None = None, strength: float = 1.0,
               info: ClipInfo | None = None) -> str:
        """Queue a job colouring clip `data` (see `submit_video`); returns its id. Raises ColorizerError (or its
        VideoError, VideoBusyError, UnknownModelError, WeightsMissingError) with a message for the user."""
        busy = self.pending_job(owner)
        if busy is not None:  # checked again, atomically, when the job is kept
            raise VideoBusyError(BUSY_MESSAGE, busy)
        check_model(model)
        strength = _checked_strength(strength)
        info = probe_clip(data) if info is None else info
        keyframes = dict(keyframes or {})
        if len(keyframes) > MAX_KEYFRAMES:
            raise VideoError(f"Give at most {MAX_KEYFRAMES} keyframes (got {len(keyframes)}).")
        spec = VideoSpec(model, strength, _kept_reference(reference), checked_keyframes(keyframes, info))
        job_id = secrets.token_urlsafe(16)
        record = JobRecord(owner=owner, state=QUEUED, filename=video_download_name(filename, model), model=model,
                           frames_total=info.frame_count)
        self.table.add(job_id, record, data, spec, BUSY_MESSAGE)
        try:
            self._send(job_id)
        except Exception:  # e.g. the broker cannot be reached: the job would wait for ever
            self._end(job_id, record, QUEUED, state=FAILED, message=GENERIC_ERROR)
            raise
        logger.info("Video job %s queued: %d frames of %dx%d with %s", job_id[:6], info.frame_count, info.width,
                    info.height, model)
        return job_id

    def pending_job(self, owner: str) -> str | None:
        """The id of `owner`'s queued or running job, if any (a quick look: `submit` checks again atomically)."""
        job_id = self.table.active_job(owner)
        record = self.record(job_id) if job_id is not None else None
        return job_id if record is not None and record.pending else None

    # --- Looking at a job (owner None: the job id is the capability) --------------------------------------------

    def record(self, job_id: str, owner: str | None = None) -> JobRecord | None:
        if not isinstance(job_id, str) or not 0 < len(job_id) <= 64:
            return None
        record = self.table.get(job_id)
        if record is None or (owner is not None and record.owner != owner):
            return None
        if record.state == RUNNING and self.table.lost(job_id):
            self._end(job_id, record, RUNNING, state=FAILED, message=LOST_MESSAGE)
            record = self.table.get(job_id)
        return record

    def status(self, job_id: str, owner: str | None = None) -> VideoStatus | None:
        record = self.record(job_id, owner)
        if record is None:
            return None
        message = record.message
        result_ready = record.state == DONE and record.result_id is not None and self.store.exists(record.result_id)
        if record.state == DONE and not result_ready:
            message = RESULT_EXPIRED
        return VideoStatus(state=record.state, frames_done=record.frames_done, frames_total=record.frames_total,
                           seconds_left=record.seconds_left(time.time()), message=message,
                           has_preview=self.table.has_preview(job_id), result_ready=result_ready,
                           filename=record.filename)

    def result(self, job_id: str, owner: str | None = None) -> StoredVideo | None:
        record = self.record(job_id, owner)
        if record is None or record.state != DONE or record.result_id is None:
            return None
        return self.store.get_shared(record.result_id, kind=StoredVideo)

    def preview_jpeg(self, job_id: str, owner: str | None = None) -> bytes | None:
        return self.table.preview(job_id) if self.record(job_id, owner) is not None else None

    # --- Stopping a job -----------------------------------------------------------------------------------------

    def cancel(self, job_id: str, owner: str | None = None) -> bool:
        """Cancel a queued or running job (a running one stops before its next frame); False when it was neither."""
        record = self.record(job_id, owner)
        if record is None or not record.pending:
            return False
        if record.state == QUEUED and self._end(job_id, record, QUEUED, state=CANCELLED):
            logger.info("Video job %s cancelled before it started", job_id[:6])
            return True
        self.table.request_cancel(job_id)
        return True

    def delete(self, job_id: str, owner: str | None = None) -> bool:
        """Cancel the job if pending, free its result, and forget it (the API's DELETE); False when unknown."""
        record = self.record(job_id, owner)
        if record is None:
            return False
        self.cancel(job_id, owner)
        self.table.forget(job_id)
        if record.result_id is not None:
            self.store.discard(record.owner, record.result_id)
        return True

    # --- The work (a worker thread here, or a Celery worker) ----------------------------------------------------

    def run(self, job_id: str) -> None:
        """Colour the job's clip, if it is still queued and no other worker has it."""
        record = self.record(job_id)
        if record is None or record.state != QUEUED:
            return
        with self.table.working_on(job_id) as held:
            if not held or not self.table.move(job_id, [QUEUED], state=RUNNING, started=time.time()):
                return
            try:
                self._colour(job_id, record)
            finally:
                self.table.finished(job_id, record.owner)

    def _colour(self, job_id: str, record: JobRecord) -> None:
        started = time.monotonic()
        try:
            taken = self.table.take_input(job_id)
            if taken is None:
                raise ColorizerError(CLIP_EXPIRED)
            clip, spec = taken
            mp4 = colorize_video(clip, spec.model, reference=spec.reference_argument(), keyframes=spec.keyframes,
                                 strength=spec.strength, progress=self._progress(job_id),
                                 cancelled=self._cancelled(job_id), frame_slot=self._frame_slot(record.owner))
            del clip, taken
            result_id = self.store.put(record.owner, StoredVideo(mp4, record.filename))
        except VideoCancelled:
            self.table.move(job_id, [RUNNING], state=CANCELLED)
            logger.info("Video job %s cancelled", job_id[:6])
            return
        except ImageTooLargeToKeepError:
            self.table.move(job_id, [RUNNING], state=FAILED, message=(
                f"The coloured video is {len(mp4) / 1e6:.0f} MB, more than the server keeps for one visitor "
                f"({self.store.session_max_bytes / 1e6:.0f} MB): try a shorter or smaller clip."))
            return
        except Exception as error:  # whatever happens, the worker goes on with the next job
            self.table.move(job_id, [RUNNING], state=FAILED, message=_message_for(error, job_id))
            return
        if not self.table.move(job_id, [RUNNING], state=DONE, result_id=result_id, message=None):
            self.store.discard(record.owner, result_id)  # forgotten (deleted) meanwhile: nobody will ask for it
            return
        logger.info("Video job %s done in %.1f s (%.1f MB)", job_id[:6], time.monotonic() - started, len(mp4) / 1e6)

    def _progress(self, job_id: str) -> Callable[[int, int, np.ndarray], None]:
        last = {"progress": 0.0, "preview": 0.0}

        def progress(done: int, total: int, rgb: np.ndarray) -> None:
            now = time.time()
            final = done >= total
            if final or now - last["progress"] >= self.progress_seconds:
                last["progress"] = now
                self.table.move(job_id, [RUNNING], frames_done=done, frames_total=total, reported=now)
            if final or now - last["preview"] >= PREVIEW_SECONDS:
                last["preview"] = now
                self.table.set_preview(job_id, jpeg_bytes(thumbnail(rgb, settings.DISPLAY_LONG_SIDE)))

        return progress

    def _cancelled(self, job_id: str) -> Callable[[], bool]:
        last = {"asked": 0.0, "answer": False}

        def cancelled() -> bool:
            now = time.monotonic()
            if not last["answer"] and now - last["asked"] >= self.progress_seconds:
                last["asked"], last["answer"] = now, self.table.cancel_requested(job_id)
            return last["answer"]

        return cancelled

    def _frame_slot(self, owner: str) -> Callable[[], AbstractContextManager] | None:
        if not self._use_model_slots:
            return None
        return lambda: model_slots().slot(owner=owner)

    def _end(self, job_id: str, record: JobRecord, from_state: str, **changes: Any) -> bool:
        """End a job that never ran to its end (cancelled while queued, lost, not sent): its input goes."""
        if not self.table.move(job_id, [from_state], **changes):
            return False
        self.table.finished(job_id, record.owner)
        return True


def _checked_strength(strength: float) -> float:
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise ColorizerError(f"The strength must be a number from 0 to {MAX_STRENGTH}.") from None
    if not 0.0 <= value <= MAX_STRENGTH:  # also refuses NaN
        raise ColorizerError(f"The strength must be from 0 to {MAX_STRENGTH}, got {value:g}.")
    return value


def _kept_reference(reference: Any) -> Any:
    """The reference as a job keeps it: photos at most REFERENCE_SIDE long, several as a tuple."""
    if isinstance(reference, (list, tuple)):
        return tuple(_kept_reference(item) for item in reference)
    if isinstance(reference, np.ndarray):
        return np.ascontiguousarray(thumbnail(reference, REFERENCE_SIDE))
    return reference


def _message_for(error: Exception, job_id: str) -> str:
    if isinstance(error, ColorizerError):
        return str(error)
    logger.error("Unexpected error in video job %s", job_id[:6], exc_info=error)
    return GENERIC_ERROR


@process_wide
def default_video_jobs() -> VideoJobs:
    """The process's video jobs: in Redis with the Celery workers when COLORIZER_REDIS_URL (or the sentinels) is
    set, else in this process with its worker thread."""
    client = redis_client()
    if client is None:
        return VideoJobs(MemoryVideoTable(settings.RESULTS_TTL_SECONDS), default_store())
    from ..studio.queue import celery_client

    def send(job_id: str) -> None:
        celery_client(settings.REDIS_URL).send_task(VIDEO_TASK_NAME, args=[job_id], serializer="json")

    return VideoJobs(RedisVideoTable(client, settings.RESULTS_TTL_SECONDS), default_store(), send=send,
                     progress_seconds=REDIS_PROGRESS_SECONDS)


# --- What the Video page calls ------------------------------------------------------------------------------------

def submit_video(session_id: str, data: bytes, filename: str, model: str, reference: Any = None,
                 keyframes: dict[int, np.ndarray] | None = None, strength: float = 1.0, *,
                 info: ClipInfo | None = None) -> str:
    """Queue the clip `data` (its file name `filename`) to be coloured with `model`; returns the job's id.

    reference: for the models that take one, as for photos (None, "auto", a gallery or library name, a colour
    photo as sRGB uint8 (h, w, 3), or a list of those). keyframes: frame index (from 0) -> that frame as the user
    coloured it (sRGB uint8, any size; at most MAX_KEYFRAMES). strength: 0 to 1.5. info: the clip's `probe_clip`,
    when the caller has it already (else the clip is probed here: it decodes the whole clip once).
    Raises ColorizerError with a message for the user: VideoError (a bad clip or keyframe), VideoBusyError (the
    session has a video queued or running), UnknownModelError, WeightsMissingError."""
    return default_video_jobs().submit(session_id, data, filename, model, reference, keyframes, strength, info)


def video_status(session_id: str, job_id: str) -> VideoStatus | None:
    """The session's job's status; None when unknown, forgotten or another session's."""
    return default_video_jobs().status(job_id, session_id)


def cancel_video(session_id: str, job_id: str) -> bool:
    """Cancel the session's queued or running job; False when there was nothing to cancel."""
    return default_video_jobs().cancel(job_id, session_id)


def video_result(session_id: str, job_id: str) -> bytes | None:
    """The MP4 of the session's finished job; None when not done, expired or another session's."""
    result = default_video_jobs().result(job_id, session_id)
    return result.mp4 if result is not None else None


def video_preview_jpeg(session_id: str, job_id: str) -> bytes | None:
    """The latest coloured frame of the session's job as a display-size JPEG; None before the first."""
    return default_video_jobs().preview_jpeg(job_id, session_id)
