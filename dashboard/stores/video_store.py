"""Where video jobs are kept (`dashboard.jobs.videos` runs them): a job's record (its state and progress), its input
until a worker takes it (the clip's bytes and its `VideoSpec`), its latest coloured frame as a JPEG preview and its
cancel flag. The MP4 goes to the results store (`dashboard.stores.results_store`), in the owner's byte budget.

Two tables with one interface: `MemoryVideoTable` in this process (the worker thread of `dashboard.jobs.videos`
shares it), `RedisVideoTable` in Redis, shared by the web processes and the Celery workers.

Redis keys (under `colorizer:video:`), each with a TTL of the results' lifetime (renewed when the job is looked at
or makes progress): `job:<id>` a hash of the record's fields; `clip:<id>` the clip's bytes and `spec:<id>` the spec
as a record (`dashboard.stores.record_format`: JSON and raw bytes, the keyframes and reference photos as PNG; never
pickle), both deleted when a worker takes them; `preview:<id>` JPEG bytes; `cancel:<id>` a flag; `lease:<id>` held
(and renewed) by the worker colouring it, so that a job whose worker died is known (`lost`); `active:<owner>` the
owner's pending job (one at a time). Changes of state are atomic (Lua scripts), so a cancel and a worker that starts
the job at the same moment cannot both win.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from colorizers import ColorizerError, decode_image

from ..page_logic.imaging import png_bytes
from .record_format import RecordFormat
from ..server.redis_link import RedisUnavailable

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
PENDING = frozenset({QUEUED, RUNNING})
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)


class VideoBusyError(ColorizerError):
    """The visitor already has a video job queued or running (the message is written for the user)."""

    def __init__(self, message: str, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


@dataclass(frozen=True)
class JobRecord:
    """What is known of one job. owner: the browser session (or the API caller, `dashboard.routes.api`) whose budget
    holds its result. started and reported: wall-clock times (time.time(): several machines read them) of the
    start and of the latest progress. result_id: the MP4's id in the results store, once done."""

    owner: str
    state: str
    filename: str
    model: str
    frames_done: int = 0
    frames_total: int = 0
    started: float | None = None
    reported: float | None = None
    message: str | None = None
    result_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.state in PENDING

    def seconds_left(self, now: float) -> float | None:
        """Time to the last frame at the pace so far (None before the first frame is done)."""
        if self.state != RUNNING or not self.frames_done or self.started is None or self.reported is None:
            return None
        per_frame = max(0.0, self.reported - self.started) / self.frames_done
        left = per_frame * (self.frames_total - self.frames_done) - max(0.0, now - self.reported)
        return max(0.0, left)


@dataclass(frozen=True)
class VideoSpec:
    """How a job colours its clip (the arguments of `colorizers.video.colorize_video`). reference: None, "auto", a
    gallery or library name, a colour photo (sRGB uint8 (h, w, 3)), or a tuple of names and photos. keyframes:
    frame index -> that frame as the user coloured it (sRGB uint8 (h, w, 3))."""

    model: str
    strength: float = 1.0
    reference: Any = None
    keyframes: dict[int, np.ndarray] = field(default_factory=dict)

    def reference_argument(self) -> Any:
        """`reference` as colorize_video takes it (a list for several)."""
        return list(self.reference) if isinstance(self.reference, tuple) else self.reference


# --- In this process -----------------------------------------------------------------------------------------------

@dataclass
class _MemoryJob:
    record: JobRecord
    input: tuple[bytes, VideoSpec] | None  # the clip and its spec, until the worker takes them
    last_used: float
    preview: bytes | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


class MemoryVideoTable:
    """Jobs in this process's memory (thread-safe). A finished job not looked at for `ttl_seconds` is dropped; a
    pending one never is."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._jobs: dict[str, _MemoryJob] = {}
        self._lock = threading.Lock()

    def add(self, job_id: str, record: JobRecord, clip: bytes, spec: VideoSpec, busy_message: str) -> None:
        """Keep a new queued job with its input; VideoBusyError when its owner has a pending one."""
        with self._lock:
            self._drop_expired()
            for other_id, other in self._jobs.items():
                if other.record.owner == record.owner and other.record.pending:
                    raise VideoBusyError(busy_message, other_id)
            self._jobs[job_id] = _MemoryJob(record, (clip, spec), self._clock())

    def active_job(self, owner: str) -> str | None:
        """The owner's pending job, if any."""
        with self._lock:
            return next((job_id for job_id, job in self._jobs.items()
                         if job.record.owner == owner and job.record.pending), None)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            self._drop_expired()
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.last_used = self._clock()
            return job.record

    def take_input(self, job_id: str) -> tuple[bytes, VideoSpec] | None:
        """The job's clip and spec, forgotten here (None when already taken, dropped or unknown)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            taken, job.input = job.input, None
            return taken

    def move(self, job_id: str, from_states: Iterable[str], **changes: Any) -> bool:
        """Change the job's record (e.g. state=DONE) if its state is one of `from_states`; whether it did."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.record.state not in set(from_states):
                return False
            job.record = replace(job.record, **changes)
            job.last_used = self._clock()
            return True

    def set_preview(self, job_id: str, jpeg: bytes) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].preview = jpeg

    def preview(self, job_id: str) -> bytes | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.preview if job is not None else None

    def has_preview(self, job_id: str) -> bool:
        return self.preview(job_id) is not None

    def request_cancel(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].cancel.set()

    def cancel_requested(self, job_id: str) -> bool:
        """True once cancelled, or once the job is forgotten."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job is None or job.cancel.is_set()

    @contextmanager
    def working_on(self, job_id: str) -> Iterator[bool]:
        """Held by the one worker thread while it colours the job: always granted."""
        yield True

    def lost(self, job_id: str) -> bool:
        """Whether a running job's worker is gone: never here (the worker thread outlives every job)."""
        return False

    def finished(self, job_id: str, owner: str) -> None:
        """The job ended: drop what only its run needed."""
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].input = None

    def forget(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is not None:
                job.cancel.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    def _drop_expired(self) -> None:
        now = self._clock()
        for job_id in [job_id for job_id, job in self._jobs.items()
                       if not job.record.pending and now - job.last_used >= self.ttl_seconds]:
            del self._jobs[job_id]


# --- In Redis --------------------------------------------------------------------------------------------------------

_PREFIX = "colorizer:video:"
_SPEC_FORMAT = RecordFormat()  # plain values and bytes only: photos travel as PNG

# Keep a new job unless its owner has a pending one (queued, or running with its worker's lease alive); returns
# that job's id, or nil when the new one was kept (its clip is set beforehand, and deleted when refused).
# KEYS: active, job, spec. ARGV: job id, TTL (ms), job key prefix, lease key prefix, spec blob, then the job's hash
# fields and values.
_ADD = """
local current = redis.call('GET', KEYS[1])
if current then
  local state = redis.call('HGET', ARGV[3] .. current, 'state')
  if state == 'queued' or (state == 'running' and redis.call('EXISTS', ARGV[4] .. current) == 1) then
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[2])
return false
"""
# Set fields of a job whose state is one of ARGV[1] (",queued,running,"); 1 when it did. KEYS: job. ARGV: states,
# TTL (ms), then fields and values.
_MOVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or not string.find(ARGV[1], ',' .. state .. ',', 1, true) then
  return 0
end
if #ARGV > 2 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# Forget the owner's active job if it is this one. KEYS: active. ARGV: job id.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _key(kind: str, job_id: str) -> str:
    return f"{_PREFIX}{kind}:{job_id}"


def _hash_fields(changes: dict[str, Any]) -> list[str]:
    """Record fields as a flat list of Redis hash fields and values (None as the empty string)."""
    flat: list[str] = []
    for name, value in changes.items():
        flat += [name, "" if value is None else str(value)]
    return flat


def _record_from_hash(values: dict[bytes, bytes]) -> JobRecord | None:
    text = {key.decode(): value.decode() for key, value in values.items()}
    if text.get("state") not in STATES or "owner" not in text:
        return None
    known: dict[str, Any] = {}
    for item in fields(JobRecord):
        raw = text.get(item.name)
        if raw is None:
            continue
        if item.name in ("frames_done", "frames_total"):
            known[item.name] = int(raw or 0)
        elif item.name in ("started", "reported"):
            known[item.name] = float(raw) if raw else None
        elif item.name in ("message", "result_id"):
            known[item.name] = raw or None
        else:
            known[item.name] = raw
    try:
        return JobRecord(**known)
    except (TypeError, ValueError):
        return None


def spec_to_bytes(spec: VideoSpec) -> bytes:
    """The spec as a record: JSON and raw bytes, every photo (reference, keyframes) as PNG."""

    def photo_or_name(value: Any) -> Any:
        return {"png": png_bytes(value)} if isinstance(value, np.ndarray) else value

    reference = spec.reference
    reference = [photo_or_name(item) for item in reference] if isinstance(reference, tuple) else \
        photo_or_name(reference)
    return _SPEC_FORMAT.dumps({"model": spec.model, "strength": float(spec.strength), "reference": reference,
                               "several": isinstance(spec.reference, tuple),
                               "keyframes": [[int(index), png_bytes(rgb)] for index, rgb in spec.keyframes.items()]})


def spec_from_bytes(data: bytes | None) -> VideoSpec | None:
    """The spec `spec_to_bytes` wrote; None for anything else (missing, unreadable)."""
    value = _SPEC_FORMAT.loads_or_none(data, "video job")
    if not isinstance(value, dict):
        return None

    def photo_or_name(item: Any) -> Any:
        return decode_image(item["png"]).rgb if isinstance(item, dict) else item

    try:
        reference = value["reference"]
        reference = tuple(map(photo_or_name, reference)) if value["several"] else photo_or_name(reference)
        keyframes = {int(index): decode_image(png).rgb for index, png in value["keyframes"]}
        return VideoSpec(str(value["model"]), float(value["strength"]), reference, keyframes)
    except (KeyError, TypeError, ValueError, ColorizerError):
        return None


class RedisVideoTable:
    """`MemoryVideoTable` in Redis (see the module's docstring for its keys)."""

    LEASE_SECONDS = 20
    _RENEW_SECONDS = 5

    def __init__(self, client, ttl_seconds: float) -> None:
        self._client = client
        self.ttl_seconds = ttl_seconds
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._add = client.register_script(_ADD)
        self._move = client.register_script(_MOVE)
        self._release = client.register_script(_RELEASE)

    def add(self, job_id: str, record: JobRecord, clip: bytes, spec: VideoSpec, busy_message: str) -> None:
        blob = spec_to_bytes(spec)
        self._client.set(_key("clip", job_id), clip, px=self._ttl_ms)
        other = self._add(keys=[_key("active", record.owner), _key("job", job_id), _key("spec", job_id)],
                          args=[job_id, self._ttl_ms, _PREFIX + "job:", _PREFIX + "lease:", blob,
                                *_hash_fields(asdict(record))])
        if other is not None:
            self._client.delete(_key("clip", job_id))
            raise VideoBusyError(busy_message, other.decode())

    def active_job(self, owner: str) -> str | None:
        """The job last kept for the owner while it had none pending (it may have ended since)."""
        job_id = self._client.get(_key("active", owner))
        return job_id.decode() if job_id is not None else None

    def get(self, job_id: str) -> JobRecord | None:
        pipe = self._client.pipeline()
        pipe.hgetall(_key("job", job_id))
        pipe.pexpire(_key("job", job_id), self._ttl_ms)
        pipe.pexpire(_key("preview", job_id), self._ttl_ms)
        return _record_from_hash(pipe.execute()[0])

    def take_input(self, job_id: str) -> tuple[bytes, VideoSpec] | None:
        pipe = self._client.pipeline()
        pipe.get(_key("clip", job_id))
        pipe.get(_key("spec", job_id))
        pipe.delete(_key("clip", job_id), _key("spec", job_id))
        clip, blob, _ = pipe.execute()
        spec = spec_from_bytes(blob)
        return (clip, spec) if clip is not None and spec is not None else None

    def move(self, job_id: str, from_states: Iterable[str], **changes: Any) -> bool:
        states = "," + ",".join(from_states) + ","
        return bool(self._move(keys=[_key("job", job_id)], args=[states, self._ttl_ms, *_hash_fields(changes)]))

    def set_preview(self, job_id: str, jpeg: bytes) -> None:
        self._client.set(_key("preview", job_id), jpeg, px=self._ttl_ms)

    def preview(self, job_id: str) -> bytes | None:
        return self._client.get(_key("preview", job_id))

    def has_preview(self, job_id: str) -> bool:
        return bool(self._client.exists(_key("preview", job_id)))

    def request_cancel(self, job_id: str) -> None:
        self._client.set(_key("cancel", job_id), "1", px=self._ttl_ms)

    def cancel_requested(self, job_id: str) -> bool:
        """True once cancelled, or once the job is forgotten."""
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(_key("cancel", job_id))
        pipe.exists(_key("job", job_id))
        cancelled, exists = pipe.execute()
        return bool(cancelled) or not exists

    @contextmanager
    def working_on(self, job_id: str) -> Iterator[bool]:
        """The job's lease, held and renewed while the block runs; False (and nothing held) when another worker
        holds it."""
        lease = _key("lease", job_id)
        if not self._client.set(lease, "1", nx=True, ex=self.LEASE_SECONDS):
            yield False
            return
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self._RENEW_SECONDS):
                try:
                    self._client.set(lease, "1", ex=self.LEASE_SECONDS)
                except RedisUnavailable:  # an outage: the next renewal may reach it (else the job is lost)
                    pass

        renewer = threading.Thread(target=renew, name="video-lease", daemon=True)
        renewer.start()
        try:
            yield True
        finally:
            done.set()
            renewer.join()
            self._client.delete(lease)

    def lost(self, job_id: str) -> bool:
        """Whether the job is marked running but no worker holds its lease (the worker died)."""
        return not self._client.exists(_key("lease", job_id))

    def finished(self, job_id: str, owner: str) -> None:
        self._client.delete(_key("clip", job_id), _key("spec", job_id), _key("cancel", job_id))
        self._release(keys=[_key("active", owner)], args=[job_id])

    def forget(self, job_id: str) -> None:
        record = self.get(job_id)  # a worker still colouring it stops at its next frame (`cancel_requested`)
        self._client.delete(_key("job", job_id), _key("clip", job_id), _key("spec", job_id), _key("preview", job_id))
        if record is not None:
            self._release(keys=[_key("active", record.owner)], args=[job_id])
