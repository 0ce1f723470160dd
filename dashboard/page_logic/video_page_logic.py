"""The Video page's logic, without Dash: open an uploaded clip, colour a keyframe, keep keyframes, start the job and
say how it goes.

A clip stays in the upload inbox under its upload token while the page works on it (`dashboard.routes.uploads.
uploaded_clip`); the page remembers it as a small `ClipRecord` (JSON, in a `dcc.Store`): its facts, its shots and
the ids of its first frame and shot thumbnails in the results store. A keyframe is a frame the user coloured on the
spot (any model, then the touch-up editor) and kept: a `Keyframe` names its frame and its result in the results
store. Starting hands the clip and the keyframes' pixels to `dashboard.jobs.videos.submit_video`; the page then polls
`video_status` and shows a `ProgressView`.

Nothing the browser sends back is trusted: records are parsed field by field, images are looked up for the
session only, frame numbers are checked against the clip.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from colorizers import ColorizerError
from colorizers.registry import MODELS, available_models
from colorizers.video import frame_at, probe_clip

from .. import settings
from .imaging import download_name, thumbnail
from ..jobs.photos import AUTO_REFERENCE, KeptUpload, ReferenceRequest, colorize_uploads
from ..server.model_slots import model_slots
from ..stores.results_store import ResultsStore, make_stored_image
from ..stores.upload_inbox import RedisUploadInbox, UploadInbox
from ..routes.uploads import UploadedFile, clip_bytes, clip_media_type
from ..jobs.videos import VideoStatus, submit_video

# What the drop zone offers in the file dialog (the clip is checked on the server whatever it is called).
ACCEPTED_VIDEO_TYPES = "video/*,image/gif,.mp4,.m4v,.webm,.mov,.mpg,.mpeg,.avi,.gif"
AUTOMATIC = "automatic"
KEYFRAMES = "keyframes"
MODES = (AUTOMATIC, KEYFRAMES)
STRIP_LONG_SIDE = 200  # the shot strip's thumbnails
# Each keyframe is a full-size coloured frame with its touch-up state (about 16 MB at 1080p), kept in the visitor's
# share of the results store.
MAX_KEYFRAMES = 12
DEFAULT_MODEL = "cnn"
# Codecs Chromium, Firefox and Safari play in <video> (in MP4 or WebM): the original plays beside the result.
BROWSER_CODECS = frozenset({"h264", "vp8", "vp9", "av1"})

CLIP_EXPIRED = "This clip has expired from the server; please add it again."
NO_CLIP = "Add a clip first."
NO_KEYFRAME = ("No keyframe kept yet: colour a frame and keep it, or choose automatic colouring.")
KEYFRAME_EXPIRED = "A keyframe has expired from the server; please colour it again."
NOT_A_MODEL = "Choose one of the models listed."
TOO_MANY_KEYFRAMES = f"A clip can have at most {MAX_KEYFRAMES} keyframes: remove one before keeping another."
JOB_GONE = "This colouring is no longer on the server (results are kept for about an hour); please start again."


def _int(value: object, minimum: int = 0) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    number = int(value)
    return number if number == value and number >= minimum else None


def _text(value: object, max_length: int = 200) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= max_length else None


# --- The clip -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipRecord:
    """An uploaded clip as the page remembers it (JSON-friendly).

    token: its upload token (the clip waits in the inbox under it). width, height: as shown (upright). shots:
    (start, stop) frame ranges. first_frame_id, shot_image_ids: display copies in the results store (the first
    frame, and the first frame of each shot). media_type: what the browser's <video> is given to play the original,
    None when browsers cannot play it (MPEG, AVI, GIF...): the page shows its first frame instead.
    """

    token: str
    filename: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration: float
    has_audio: bool
    codec: str
    shots: tuple[tuple[int, int], ...]
    first_frame_id: str
    shot_image_ids: tuple[str, ...]
    media_type: str | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["shots"] = [list(shot) for shot in self.shots]
        data["shot_image_ids"] = list(self.shot_image_ids)
        return data

    @classmethod
    def from_json(cls, data: object) -> ClipRecord | None:
        """The record a page's store holds, or None when it is not one (anything a hand-made request sends)."""
        if not isinstance(data, dict):
            return None
        token, filename, codec = _text(data.get("token"), 64), _text(data.get("filename")), _text(data.get("codec"))
        first = _text(data.get("first_frame_id"), 64)
        numbers = [_int(data.get(key), 1) for key in ("width", "height", "frame_count")]
        fps, duration = data.get("fps"), data.get("duration")
        shots_data, images = data.get("shots"), data.get("shot_image_ids")
        if None in (token, filename, codec, first, *numbers) or not all(
                isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and value > 0 for value in (fps, duration)):
            return None
        if not isinstance(shots_data, list) or not isinstance(images, list) or len(shots_data) != len(images):
            return None
        shots = []
        for shot in shots_data:
            bounds = [_int(value) for value in shot] if isinstance(shot, list) and len(shot) == 2 else [None]
            if None in bounds or not bounds[0] < bounds[1] <= numbers[2]:
                return None
            shots.append((bounds[0], bounds[1]))
        if not shots or shots[0][0] != 0 or not all(isinstance(image, str) and image for image in images):
            return None
        media_type = data.get("media_type")
        return cls(token, filename, numbers[0], numbers[1], float(fps), numbers[2], float(duration),
                   bool(data.get("has_audio")), codec, tuple(shots), first, tuple(images),
                   media_type if media_type in ("video/mp4", "video/webm") else None)

    def shot_of(self, frame: int) -> int:
        """The index of the shot that frame `frame` belongs to (the last one for a frame past the end)."""
        for index, (start, stop) in enumerate(self.shots):
            if start <= frame < stop:
                return index
        return len(self.shots) - 1


def browser_media_type(data: bytes, codec: str) -> str | None:
    """The media type a browser's <video> plays the clip as, or None when browsers would not play it."""
    media_type = clip_media_type(data)
    if codec in BROWSER_CODECS and media_type in ("video/mp4", "video/webm"):
        return media_type
    return None


def open_clip(file: UploadedFile, token: str, session_id: str, store: ResultsStore) -> ClipRecord:
    """Check the uploaded clip (`file`, kept in the inbox under `token`) and find its shots; its first frame and a
    thumbnail of each shot's first frame are kept in `store`. Raises ColorizerError (VideoError for a clip that
    cannot be coloured) with a message written for the user."""
    if file.data is None:
        raise ColorizerError(file.error or "The file could not be read.")
    with model_slots().slot(owner=session_id):  # decoding the whole clip costs memory and time like a colouring
        info = probe_clip(file.data)
    first_frame_id = store.put(session_id, make_stored_image(
        thumbnail(info.first_frame, settings.DISPLAY_LONG_SIDE), download_name(file.filename, "first-frame")))
    shot_image_ids = tuple(
        store.put(session_id, make_stored_image(thumbnail(frame, STRIP_LONG_SIDE),
                                                download_name(file.filename, f"shot-{index + 1}"),
                                                display_long_side=STRIP_LONG_SIDE))
        for index, frame in enumerate(info.shot_frames))
    return ClipRecord(
        token=token, filename=file.filename, width=info.width, height=info.height, fps=float(info.fps),
        frame_count=info.frame_count, duration=float(info.duration), has_audio=info.has_audio, codec=info.codec,
        shots=tuple((shot.start, shot.stop) for shot in info.shots), first_frame_id=first_frame_id,
        shot_image_ids=shot_image_ids, media_type=browser_media_type(file.data, info.codec))


def clip_data(clip: ClipRecord | None, session_id: str, inbox: UploadInbox | RedisUploadInbox | None = None
              ) -> bytes:
    """The clip's bytes from the inbox; ColorizerError when there is no clip or it has expired."""
    if clip is None:
        raise ColorizerError(NO_CLIP)
    data = clip_bytes(clip.token, session_id, inbox)
    if data is None:
        raise ColorizerError(CLIP_EXPIRED)
    return data


def clip_facts(clip: ClipRecord) -> str:
    """One line about the clip: "96 × 64 · 12 fps · 12 frames (1.0 s) · 1 shot · no sound"."""
    shots = len(clip.shots)
    sound = "with sound (kept)" if clip.has_audio else "no sound"
    return (f"{clip.width} × {clip.height} · {clip.fps:g} fps · {clip.frame_count} frames "
            f"({clip.duration:.1f} s) · {shots} shot{'s' if shots != 1 else ''} · {sound}")


def seconds_words(seconds: float) -> str:
    """0.5 -> "0.5 s", 75 -> "1 min 15 s"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def shot_label(clip: ClipRecord, index: int) -> str:
    """The words for shot `index` (0-based): "Shot 2: frames 40 to 89 (1.6 s to 3.6 s)"."""
    start, stop = clip.shots[index]
    return (f"Shot {index + 1}: frames {start} to {stop - 1} ({seconds_words(start / clip.fps)} to "
            f"{seconds_words(stop / clip.fps)})")


def checked_frame(value: object, clip: ClipRecord | None) -> int:
    """The frame number the user typed or picked, within the clip; ColorizerError with what to type otherwise."""
    if clip is None:
        raise ColorizerError(NO_CLIP)
    if isinstance(value, str):
        value = value.strip()
        value = int(value) if value.isdigit() else None
    frame = _int(value)
    if frame is None or frame >= clip.frame_count:
        raise ColorizerError(f"Choose a frame number from 0 to {clip.frame_count - 1}.")
    return frame


# --- Models -------------------------------------------------------------------------------------------------------

def model_options() -> list[dict]:
    """The page's model choices: every model that can run here, by title."""
    return [{"label": info.title, "value": info.name} for info in available_models()]


def default_model() -> str:
    names = [info.name for info in available_models()]
    return DEFAULT_MODEL if DEFAULT_MODEL in names else (names[0] if names else DEFAULT_MODEL)


def checked_model(value: object) -> str:
    """`value` when it is a model that can run here; ColorizerError otherwise."""
    if isinstance(value, str) and any(info.name == value for info in available_models()):
        return value
    raise ColorizerError(NOT_A_MODEL)


def uses_reference(model: object) -> bool:
    info = MODELS.get(model) if isinstance(model, str) else None
    return bool(info and info.uses_reference)


def model_title(model: str) -> str:
    info = MODELS.get(model)
    return info.title if info else model


def checked_mode(value: object) -> str:
    return value if value in MODES else AUTOMATIC


# --- Keyframes ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A frame just coloured, not kept yet: its frame number and shot, the result shown (`result_id`, a new id after
    each touch-up), the model's own result (`original_id`, "before" in the editor) and the frame's (height, width)."""

    frame: int
    shot: int
    result_id: str
    original_id: str
    model: str
    size: tuple[int, int]

    def to_json(self) -> dict:
        data = asdict(self)
        data["size"] = list(self.size)
        return data

    @classmethod
    def from_json(cls, data: object) -> Candidate | None:
        if not isinstance(data, dict):
            return None
        frame, shot = _int(data.get("frame")), _int(data.get("shot"))
        result_id, original_id = _text(data.get("result_id"), 64), _text(data.get("original_id"), 64)
        model = _text(data.get("model"), 64)
        size = data.get("size")
        sides = [_int(side, 1) for side in size] if isinstance(size, list) and len(size) == 2 else [None]
        if None in (frame, shot, result_id, original_id, model, *sides):
            return None
        return cls(frame, shot, result_id, original_id, model, (sides[0], sides[1]))


def colour_frame(clip: ClipRecord, frame: int, model: str, reference: ReferenceRequest, session_id: str,
                 store: ResultsStore, inbox: UploadInbox | RedisUploadInbox | None = None) -> Candidate:
    """Colour frame `frame` of the clip with `model` (and `reference`, for the models that take one), kept in
    `store` as a result the touch-up editor can work on. Raises ColorizerError with the message to show."""
    data = clip_data(clip, session_id, inbox)
    with model_slots().slot(owner=session_id):  # decoding up to the frame; released before the model runs
        rgb = frame_at(data, frame)
    del data
    frame_id = store.put(session_id, make_stored_image(rgb, download_name(clip.filename, f"frame-{frame}")))
    upload = KeptUpload(download_name(clip.filename, f"frame-{frame}"), image_id=frame_id)
    [photo] = colorize_uploads([upload], session_id, store, [model], reference)
    store.discard(session_id, frame_id)  # the result keeps the frame's lightness; the gray frame is not shown
    result = photo.results[0] if photo.results else None
    if result is None or result.error or not result.image_id:
        raise ColorizerError((result.error if result else photo.error) or "The frame could not be coloured.")
    return Candidate(frame, clip.shot_of(frame), result.image_id, result.image_id, model, rgb.shape[:2])


def drop_candidate(candidate: Candidate | None, keyframes: list[Keyframe], session_id: str,
                   store: ResultsStore) -> None:
    """Forget a coloured frame that was not kept (another frame is being coloured): its results leave the store."""
    if candidate is None:
        return
    kept = {keyframe.image_id for keyframe in keyframes}
    for image_id in {candidate.result_id, candidate.original_id} - kept:
        store.discard(session_id, image_id)


@dataclass(frozen=True)
class Keyframe:
    """A kept keyframe: its frame number, its shot (0-based) and its coloured frame's id in the results store."""

    frame: int
    shot: int
    image_id: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Keyframe | None:
        if not isinstance(data, dict):
            return None
        frame, shot, image_id = _int(data.get("frame")), _int(data.get("shot")), _text(data.get("image_id"), 64)
        return None if None in (frame, shot, image_id) else cls(frame, shot, image_id)


def keyframes_from_state(records: object, clip: ClipRecord | None, session_id: str,
                         store: ResultsStore) -> list[Keyframe]:
    """The keyframes a page's state lists, trusting nothing in it: frames of the clip, each once (the first entry
    kept), images this session still has, at most MAX_KEYFRAMES, in frame order."""
    if clip is None or not isinstance(records, list):
        return []
    kept: dict[int, Keyframe] = {}
    for keyframe in map(Keyframe.from_json, records):
        if keyframe is None or keyframe.frame in kept or keyframe.frame >= clip.frame_count:
            continue
        if store.get(session_id, keyframe.image_id) is None:
            continue
        kept[keyframe.frame] = Keyframe(keyframe.frame, clip.shot_of(keyframe.frame), keyframe.image_id)
    return [kept[frame] for frame in sorted(kept)][:MAX_KEYFRAMES]


def keep_keyframe(keyframes: list[Keyframe], candidate: Candidate, clip: ClipRecord, session_id: str,
                  store: ResultsStore) -> tuple[list[Keyframe], str]:
    """`keyframes` with the candidate kept (replacing a keyframe of the same frame) and words saying so. Raises
    ColorizerError when the candidate's result is gone or one keyframe too many."""
    if candidate.frame >= clip.frame_count:
        raise ColorizerError(f"Choose a frame number from 0 to {clip.frame_count - 1}.")
    if store.get(session_id, candidate.result_id) is None:
        raise ColorizerError("This coloured frame has expired from the server; please colour it again.")
    others = [keyframe for keyframe in keyframes if keyframe.frame != candidate.frame]
    if len(others) >= MAX_KEYFRAMES:
        raise ColorizerError(TOO_MANY_KEYFRAMES)
    shot = clip.shot_of(candidate.frame)
    kept = sorted([*others, Keyframe(candidate.frame, shot, candidate.result_id)], key=lambda item: item.frame)
    replaced = " (in place of the one kept before)" if len(others) < len(keyframes) else ""
    return kept, f"Kept frame {candidate.frame} as a keyframe of shot {shot + 1}{replaced}."


def without_keyframe(keyframes: list[Keyframe], frame: object) -> list[Keyframe]:
    return [keyframe for keyframe in keyframes if keyframe.frame != frame]


def _joined(numbers: list[int]) -> str:
    words = [str(number) for number in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def fallback_note(keyframes: list[Keyframe], clip: ClipRecord, model: str) -> str:
    """What happens to the shots without a keyframe (they are coloured automatically with `model`)."""
    covered = {keyframe.shot for keyframe in keyframes}
    missing = [index + 1 for index in range(len(clip.shots)) if index not in covered]
    title = model_title(model)
    if not keyframes:
        return f"No keyframe kept yet: without one, the whole clip is coloured automatically with {title}."
    if not missing:
        return "Every shot has a keyframe: each shot takes its colour from its own keyframes."
    if len(missing) == len(clip.shots):
        return f"No shot has a keyframe: the clip is coloured automatically with {title}."
    if len(missing) == 1:
        return f"Shot {missing[0]} has no keyframe: it is coloured automatically with {title}."
    return f"Shots {_joined(missing)} have no keyframe: they are coloured automatically with {title}."


def keyframe_images(keyframes: list[Keyframe], session_id: str, store: ResultsStore) -> dict[int, np.ndarray]:
    """Frame number -> the coloured frame (sRGB uint8 (H, W, 3)); ColorizerError when one has expired."""
    images = {}
    for keyframe in keyframes:
        image = store.get(session_id, keyframe.image_id)
        if image is None:
            raise ColorizerError(KEYFRAME_EXPIRED)
        images[keyframe.frame] = image.rgb
    return images


# --- The job --------------------------------------------------------------------------------------------------------

def video_reference(model: str, mode: str, choice: object, request: ReferenceRequest) -> object:
    """What `submit_video` is given as the reference: None for models without one; with keyframes and "Suggest for
    me", None too, so that the keyframes themselves are the references (the exemplar's shots without a keyframe
    take their colour from them); else the picker's choice (a gallery or library name, or the user's photos)."""
    if not uses_reference(model):
        return None
    if mode == KEYFRAMES and (not choice or choice == AUTO_REFERENCE):
        return None
    reference = request.reference
    return list(reference) if isinstance(reference, tuple) else reference


def start_colouring(clip: ClipRecord | None, mode: str, model: str, reference: object, keyframes: list[Keyframe],
                    session_id: str, store: ResultsStore,
                    inbox: UploadInbox | RedisUploadInbox | None = None) -> str:
    """Start colouring the clip (automatic, or from `keyframes`); returns the job's id. Raises ColorizerError
    with the message to show (no clip, a keyframe expired, the job refused...)."""
    data = clip_data(clip, session_id, inbox)
    images = None
    if mode == KEYFRAMES:
        if not keyframes:
            raise ColorizerError(NO_KEYFRAME)
        images = keyframe_images(keyframes, session_id, store)
    return submit_video(session_id, data, clip.filename, model, reference=reference, keyframes=images)


def checked_job(value: object) -> str | None:
    """A job id as the page keeps it (None for anything else)."""
    return value if isinstance(value, str) and 0 < len(value) <= 64 and value.replace("-", "").replace(
        "_", "").isalnum() else None


def result_url(job_id: str) -> str:
    """The coloured clip, inline (the page's <video>; byte ranges)."""
    return f"/videos/{job_id}/result.mp4"


def download_url(job_id: str) -> str:
    return f"/videos/{job_id}/download"


def preview_url(job_id: str, frames_done: int) -> str:
    """The latest coloured frame; the frame count in the query makes each new frame a new URL."""
    return f"/videos/{job_id}/preview.jpg?frame={frames_done}"


def time_left_words(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "working out the time left…"
    if seconds < 1:
        return "almost done"
    if seconds < 60:
        return f"about {math.ceil(seconds)} s left"
    minutes, rest = divmod(math.ceil(seconds), 60)
    return f"about {minutes} min {rest} s left" if rest else f"about {minutes} min left"


@dataclass(frozen=True)
class ProgressView:
    """What the page shows of a job: the bar (percent and its words), a status line, whether to keep polling, the
    preview and the result."""

    percent: int
    frames: str
    status: str
    polling: bool
    cancellable: bool
    preview: str | None = None
    result: str | None = None
    download: str | None = None
    download_name: str | None = None
    failed: bool = False


def progress_view(job_id: str, status: VideoStatus | None) -> ProgressView:
    """The view of `status` (None: the job is unknown or gone)."""
    if status is None:
        return ProgressView(0, "", JOB_GONE, polling=False, cancellable=False, failed=True)
    total = max(0, int(status.frames_total or 0))
    done = min(max(0, int(status.frames_done or 0)), total) if total else max(0, int(status.frames_done or 0))
    percent = round(100 * done / total) if total else 0
    frames = f"{done} of {total} frames" if total else f"{done} frames"
    preview = preview_url(job_id, done) if status.has_preview else None
    if status.state == "queued":
        return ProgressView(0, frames, status.message or "Waiting for the server to start on your clip…",
                            polling=True, cancellable=True)
    if status.state == "running":
        return ProgressView(percent, frames, f"Colouring: {frames}, {time_left_words(status.seconds_left)}",
                            polling=True, cancellable=True, preview=preview)
    if status.state == "done":
        ready = bool(status.result_ready)
        return ProgressView(
            100, frames, "Done: the coloured clip plays beside the original." if ready
            else "Done, but the result has expired from the server; please start again.",
            polling=False, cancellable=False, preview=preview, result=result_url(job_id) if ready else None,
            download=download_url(job_id) if ready else None,
            download_name=status.filename if ready else None, failed=not ready)
    if status.state == "cancelled":
        return ProgressView(percent, frames, f"Cancelled after {frames}.", polling=False, cancellable=False,
                            preview=preview)
    return ProgressView(percent, frames, status.message or "The clip could not be coloured; please try again.",
                        polling=False, cancellable=False, failed=True)
