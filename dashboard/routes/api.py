"""The REST API, on the same Flask server as the pages, with the same registry and limits (`colorizers.settings`).

GET  /api/models     -> JSON list of the models available here: name, title, summary, uses_reference.
GET  /api/openapi.json -> this API's OpenAPI 3.1 document (`dashboard.routes.openapi`); GET /api/docs: the same as
                        a readable page (`dashboard.routes.api_reference`).
POST /api/colorize   -> multipart form: `image` (file), `model` (name), optional `reference` (reference-based
                        models only: `welsh`, `exemplar`), optional `strength` (0 to 1.5, default 1), optional
                        `hints` (a transparent PNG, the photo's size or scaled to it, whose opaque pixels are brush
                        strokes: the result is touched up with them; model `scribble` colours from them alone).
                        Answers image/png at the input's size.
                        `reference` may be repeated, 1 to MAX_REFERENCES (5) in all: each a colour photo file or a
                        gallery or library name (files first, then names, each in the order sent); or "auto" alone
                        (the default: chosen by content).
Response headers: X-Colorizer-Model, X-Colorizer-Seconds; X-Colorizer-Reference (the first reference used) and
X-Colorizer-References (all of them, comma-separated, when several or chosen by "auto"; uploads are named
"uploaded", or "uploaded 1", "uploaded 2"... when several); X-Colorizer-Fallback (`exemplar` only, when part of the
photo took the CNN's colour because the references show nothing alike: a sentence saying how much).
Errors are JSON {"error": message}: 400 bad image, strength or reference (not a colour photo, an unknown name, more
than 5, "auto" with others; `scribble` without strokes); 404 unknown model; 413 too large (saying what: a file,
the whole request, too many parts, a long text field); 503 model weights missing, or the server too busy to colour
it soon (with Retry-After, in seconds).
The wait allowed (API_MAX_WAIT_SECONDS) runs from when the server had read the request whole: time spent queued for
an app thread while all were busy counts, and a request that has already waited that long is answered 503 at once.

Video (`dashboard.jobs.videos`: the clip is coloured in the background):
POST   /api/videos             -> multipart form: `video` (file: MP4, WebM, MOV, MPEG, AVI or animated GIF, within
                                  `colorizers.video.LIMITS_SENTENCE`), `model`, optional `reference` (as above, for
                                  the models that take one), optional `strength`, and optional `keyframe` files,
                                  each a frame of the clip as you coloured it, its file name its frame number counted
                                  from 0 ("12.png"; at most MAX_KEYFRAMES): their colour is carried through their shot.
                                  Answers 202 {"id", "url"} with the job's URL in Location.
GET    /api/videos/<id>        -> {"state": queued|running|done|failed|cancelled, "frames_done", "frames_total",
                                  "seconds_left" (a guess, or null), "message" (why it failed, or null),
                                  "result_url" (once done, else null)}.
GET    /api/videos/<id>/result -> the MP4 (H.264, the clip's size and frame rate, its sound kept); 409 until done.
DELETE /api/videos/<id>        -> 204: the job is cancelled if still queued or running, its result freed, and it is
                                  forgotten (404 afterwards).
The job's id is the capability: whoever has it may ask for the job. One job at a time per client address (a second
while one is queued or running: 429 with Retry-After); its result counts in that address's byte budget and expires
like photos. Errors are JSON {"error": message}: 400 a bad clip (too long, too large a frame...), model field,
strength, reference or keyframe; 404 an unknown model or job; 409 a result asked for before it is done; 413 a clip
over its byte limit or a request over `dashboard.settings.video_request_max_bytes()`; 415 a file that is no video
we can read (or one cut short before its first frame); 422 a keyframe for a frame the clip does not have; 429 a job
already pending; 503 the model's weights missing or the store unavailable.
"""
from __future__ import annotations

import io
import logging
import re
import time

import numpy as np
from flask import Blueprint, Flask, Response, jsonify, request, send_file
from werkzeug.datastructures import FileStorage

from colorizers import (
    ColorizerError,
    ImageTooLargeError,
    InvalidImageError,
    ModelInfo,
    ReferenceImageError,
    UnknownModelError,
    WeightsMissingError,
    available_models,
    colorize,
    decode_image,
    model_info,
    open_image,
    settings,
)
from colorizers.decode import over_the_limit
from colorizers.library import library
from colorizers.reference_transfer import AUTO as AUTO_REFERENCE
from colorizers.reference_transfer import MAX_REFERENCES
from colorizers.references import gallery
from colorizers.registry import BY_HAND, MAX_STRENGTH
from colorizers.touchup import NoStrokesError, decode_hints
from colorizers.video import MAX_CLIP_BYTES, ClipInfo, NotAVideoError, VideoError, probe_clip

from ..server.connections import seconds_since_received
from ..page_logic.imaging import png_bytes, thumbnail
from ..server.model_slots import SlotWaitTooLong, model_slots
from ..guards.outage import is_outage, unavailable_response
from ..guards.security import FormTooLarge
from ..settings import API_MAX_WAIT_SECONDS, VIDEO_API_PATH, video_request_max_bytes
from ..jobs.videos import BUSY_MESSAGE, MAX_KEYFRAMES, REFERENCE_SIDE, api_owner, default_video_jobs
from ..stores.video_store import VideoBusyError

logger = logging.getLogger(__name__)

api = Blueprint("api", __name__, url_prefix="/api")

# A multipart body carries the image, up to MAX_REFERENCES reference photos and a hints image, each within
# MAX_UPLOAD_BYTES, plus headers and form fields; COLORIZER_MAX_REQUEST_BYTES stays the bound on the whole.
_MAX_FILES = 2 + MAX_REFERENCES
_FORM_OVERHEAD_BYTES = 64 * 1024


class ApiError(Exception):
    """An error answered as JSON {"error": message} with `status`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _status_of(error: ColorizerError) -> int:
    if isinstance(error, ImageTooLargeError):
        return 413
    if isinstance(error, UnknownModelError):
        return 404
    if isinstance(error, WeightsMissingError):
        return 503
    return 400


@api.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    return jsonify(error=error.message), error.status


@api.errorhandler(ColorizerError)
def _colorizer_error(error: ColorizerError) -> Response | tuple[Response, int]:
    if is_outage(error):  # the store (Redis) cannot be reached: 503 with Retry-After, as outside the API
        return unavailable_response()
    return jsonify(error=str(error)), _status_of(error)


@api.errorhandler(VideoBusyError)
def _video_busy(error: VideoBusyError) -> tuple[Response, int, dict]:
    status = default_video_jobs().status(error.job_id)
    retry_after = max(5, round(status.seconds_left)) if status is not None and status.seconds_left else 30
    return jsonify(error=str(error)), 429, {"Retry-After": str(retry_after)}


@api.errorhandler(SlotWaitTooLong)
def _busy(error: SlotWaitTooLong) -> tuple[Response, int, dict]:
    message = f"The server is busy colouring other photos; please try again in {error.retry_after} s."
    return jsonify(error=message), 503, {"Retry-After": str(error.retry_after)}


@api.errorhandler(413)
def _too_large(error: Exception) -> tuple[Response, int]:
    if isinstance(error, FormTooLarge):  # too many parts or a long text field: not a matter of any photo's size
        return jsonify(error=error.description), 413
    if request.path == VIDEO_API_PATH:
        return jsonify(error=_video_too_large_message(request.content_length)), 413
    return jsonify(error=_too_large_message(request.content_length)), 413


_OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE"]


@api.route("/colorize", methods=_OTHER_METHODS)
def colorize_wrong_method() -> tuple[Response, int, dict]:
    """Without this the site's page route would answer a GET here with the page's HTML."""
    message = "Use POST for /api/colorize (multipart form with the photo as 'image'; see GET /api/models)."
    return jsonify(error=message), 405, {"Allow": "POST"}


def _wrong_method(allowed: str, use: str) -> tuple[Response, int, dict]:
    return jsonify(error=f"Use {use}."), 405, {"Allow": allowed}


@api.route("/videos", methods=_OTHER_METHODS)
def videos_wrong_method() -> tuple[Response, int, dict]:
    return _wrong_method("POST", "POST for /api/videos (multipart form with the clip as 'video'), then GET the "
                                 "job's URL it answers")


@api.route("/videos/<job_id>", methods=["POST", "PUT", "PATCH"])
def video_job_wrong_method(job_id: str) -> tuple[Response, int, dict]:
    return _wrong_method("GET, DELETE", "GET for a video job's state, DELETE to cancel it")


@api.route("/videos/<job_id>/result", methods=["POST", "PUT", "PATCH", "DELETE"])
def video_result_wrong_method(job_id: str) -> tuple[Response, int, dict]:
    return _wrong_method("GET", "GET for a video's result (DELETE the job itself to cancel it)")


@api.route("/<path:unknown>", methods=["GET", "POST", *_OTHER_METHODS[1:]])
def unknown_endpoint(unknown: str) -> tuple[Response, int]:
    return jsonify(error=f"There is no API endpoint /api/{unknown[:60]}. Try GET /api/models, POST /api/colorize "
                         "or POST /api/videos."), 404


@api.get("/models")
def list_models() -> Response:
    return jsonify([
        {"name": info.name, "title": info.title, "summary": info.summary, "uses_reference": info.uses_reference}
        for info in available_models()
    ])


@api.get("/openapi.json")
def openapi_json() -> Response:
    """This API's OpenAPI 3.1 document (`dashboard.routes.openapi`), made from the limits and models in force."""
    from .openapi import openapi_document

    return jsonify(openapi_document())


@api.get("/docs")
def api_reference() -> Response:
    """The same document as a readable page (`dashboard.routes.api_reference`): server-made HTML, no script."""
    from .api_reference import reference_html

    return Response(reference_html(), mimetype="text/html")


@api.post("/colorize")
def colorize_image() -> Response:
    if request.content_length is not None and request.content_length > _request_limit():  # before reading the body
        raise ApiError(_too_large_message(request.content_length), 413)
    slots = model_slots()
    # The client's wait began when its request was read whole, before it queued for an app thread.
    deadline = time.monotonic() + API_MAX_WAIT_SECONDS - seconds_since_received(request.environ)
    if deadline <= time.monotonic():
        raise slots.too_long()  # waited the whole allowance before reaching the app: 503 with Retry-After at once
    model_name, info = _model_field()
    strength = _strength(request.form.get("strength"))
    upload = request.files.get("image")
    if upload is None:
        raise ApiError("Send the photo as the multipart file field 'image'.", 400)
    data = _read_limited(upload.stream, "photo")
    reference_fields = _reference_fields() if info.uses_reference else [AUTO_REFERENCE]  # names checked at once
    hints_upload = request.files.get("hints")
    hints_data = _read_limited(hints_upload.stream, "hints image") if hints_upload and hints_upload.filename else None
    if hints_data is None and model_name in BY_HAND:
        raise NoStrokesError(info.title)  # 400 at once: from gray, no stroke would give the photo back gray
    open_image(data)  # a file that is no image, or too large, is told so at once, without waiting for a slot
    slots.refuse_if_wait_over(deadline - time.monotonic())  # SlotWaitTooLong -> 503 with Retry-After
    with slots.slot(timeout=max(0.0, deadline - time.monotonic())):  # decoding a large photo costs memory too
        reference = _decoded_references(reference_fields)
        image = decode_image(data)  # InvalidImageError -> 400, too large -> 413
        del data
        options = {"hints": decode_hints(hints_data, image.size)} if hints_data is not None else {}  # HintsError -> 400
        try:
            result = colorize(image, model_name, strength=strength, reference=reference, **options)
        except ColorizerError:
            raise
        except Exception:
            logger.exception("Unexpected error in /api/colorize with %s", model_name)
            raise ApiError("Something went wrong while colouring this photo. The error was logged.", 500) from None
        del image
        png = png_bytes(result.rgb)
    response = send_file(io.BytesIO(png), mimetype="image/png")
    response.headers["X-Colorizer-Model"] = model_name
    response.headers["X-Colorizer-Seconds"] = f"{result.seconds:.3f}"
    if info.uses_reference and result.details.get("reference"):
        response.headers["X-Colorizer-Reference"] = _header_value(result.details["reference"])
    if result.details.get("references"):  # every reference used, or the library photos a suggestion averaged
        response.headers["X-Colorizer-References"] = _header_value(result.details["references"])
    if result.details.get("fallback"):  # exemplar: where the references show nothing alike, the CNN's colour
        response.headers["X-Colorizer-Fallback"] = _header_value(result.details["fallback"])
    return response


@api.post("/videos")
def submit_video_job() -> tuple[Response, int, dict]:
    limit = video_request_max_bytes()
    request.max_content_length = limit  # a clip may be larger than a photo request (Waitress allows it here too)
    if request.content_length is not None and request.content_length > limit:  # before reading the body
        raise ApiError(_video_too_large_message(request.content_length), 413)
    model_name, info = _model_field()
    jobs = default_video_jobs()
    owner = api_owner(request.remote_addr or "")
    pending = jobs.pending_job(owner)
    if pending is not None:  # before the clip is read and checked (submit checks again, atomically)
        raise VideoBusyError(BUSY_MESSAGE, pending)
    strength = _strength(request.form.get("strength"))
    upload = request.files.get("video")
    if upload is None:
        raise ApiError("Send the clip as the multipart file field 'video'.", 400)
    data = _read_limited(upload.stream, "video", MAX_CLIP_BYTES)
    reference_fields = _reference_fields() if info.uses_reference and _references_sent() else None
    keyframe_uploads = _keyframe_uploads()
    try:
        clip = probe_clip(data)
    except VideoError as error:
        raise ApiError(str(error), 415 if isinstance(error, NotAVideoError) else _status_of(error)) from None
    keyframes = {index: _decoded_keyframe(upload, index, clip) for index, upload in keyframe_uploads.items()}
    reference = _decoded_references(reference_fields, REFERENCE_SIDE) if reference_fields else None
    job_id = jobs.submit(owner, data, upload.filename or "video", model_name, reference, keyframes, strength,
                         info=clip)
    url = f"{VIDEO_API_PATH}/{job_id}"
    return jsonify(id=job_id, url=url), 202, {"Location": url, "Cache-Control": "no-store"}


@api.get("/videos/<job_id>")
def video_job(job_id: str) -> Response:
    status = default_video_jobs().status(job_id)
    if status is None:
        raise ApiError(_UNKNOWN_JOB, 404)
    result_url = f"{VIDEO_API_PATH}/{job_id}/result" if status.result_ready else None
    seconds_left = round(status.seconds_left, 1) if status.seconds_left is not None else None
    response = jsonify(state=status.state, frames_done=status.frames_done, frames_total=status.frames_total,
                       seconds_left=seconds_left, message=status.message, result_url=result_url)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.delete("/videos/<job_id>")
def delete_video_job(job_id: str) -> Response:
    if not default_video_jobs().delete(job_id):
        raise ApiError(_UNKNOWN_JOB, 404)
    return Response(status=204)


@api.get("/videos/<job_id>/result")
def video_job_result(job_id: str) -> Response:
    jobs = default_video_jobs()
    status = jobs.status(job_id)
    if status is None:
        raise ApiError(_UNKNOWN_JOB, 404)
    if status.pending:
        raise ApiError(f"The video is not ready yet ({status.state}, {status.frames_done} of {status.frames_total} "
                       "frames); GET the job's URL until its state is 'done'.", 409)
    result = jobs.result(job_id) if status.result_ready else None
    if result is None:
        raise ApiError(status.message or f"This video job ended {status.state}: it has no result.", 404)
    response = send_file(io.BytesIO(result.mp4), mimetype="video/mp4", as_attachment=True,
                         download_name=result.filename, conditional=True, etag=False, max_age=None)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


_UNKNOWN_JOB = "There is no such video job: it may have expired or been deleted (POST /api/videos starts one)."
_KEYFRAME_NAME = re.compile(r"(\d{1,9})(\.[A-Za-z0-9]{1,8})?")


def _references_sent() -> bool:
    return any(upload.filename for upload in request.files.getlist("reference")) or any(
        value.strip() for value in request.form.getlist("reference"))


def _keyframe_uploads() -> dict[int, FileStorage]:
    """The `keyframe` files by frame index (their file names), checked before anything is decoded."""
    uploads = [upload for upload in request.files.getlist("keyframe") if upload.filename]
    if len(uploads) > MAX_KEYFRAMES:
        raise ApiError(f"Send at most {MAX_KEYFRAMES} keyframes (got {len(uploads)}).", 400)
    by_index: dict[int, FileStorage] = {}
    for upload in uploads:
        match = _KEYFRAME_NAME.fullmatch(upload.filename)
        if match is None:
            raise ApiError(f"Name each keyframe file by its frame number, counted from 0 (e.g. '12.png'), not "
                           f"{upload.filename[:60]!r}.", 400)
        index = int(match.group(1))
        if index in by_index:
            raise ApiError(f"Frame {index} has two keyframes; send one.", 400)
        by_index[index] = upload
    return by_index


def _decoded_keyframe(upload: FileStorage, index: int, clip: ClipInfo) -> np.ndarray:
    """Keyframe `index` as sRGB uint8, at most the clip's size (shrunk as soon as it is decoded)."""
    if index >= clip.frame_count:
        raise ApiError(f"There is no frame {index} in this clip: it has frames 0 to {clip.frame_count - 1}.", 422)
    try:
        decoded = decode_image(_read_limited(upload.stream, f"keyframe {index}"))
    except ImageTooLargeError:
        raise
    except InvalidImageError as error:
        raise ApiError(f"Keyframe {index} could not be used: {error}", 400) from None
    return np.asarray(thumbnail(decoded.rgb, max(clip.width, clip.height)))


def _model_field() -> tuple[str, ModelInfo]:
    """The form's `model` and its registry entry: 400 when missing, 404 unknown, 503 without its weights."""
    model_name = request.form.get("model", "").strip()
    if not model_name:
        raise ApiError("Say which model to use in the form field 'model' (see GET /api/models).", 400)
    info = model_info(model_name)  # UnknownModelError -> 404
    if not info.is_available:
        raise ApiError(f"The {info.title} model is not installed here: its weights file is missing.", 503)
    return model_name, info


def _strength(value: str | None) -> float:
    if value is None or value.strip() == "":
        return 1.0
    try:
        strength = float(value)
    except ValueError:
        raise ApiError(f"The strength must be a number from 0 to {MAX_STRENGTH}, not {value[:40]!r}.", 400) from None
    if not 0.0 <= strength <= MAX_STRENGTH:  # also refuses NaN
        raise ApiError(f"The strength must be from 0 to {MAX_STRENGTH}, got {strength:g}.", 400)
    return strength


def _reference_fields() -> list[FileStorage | str]:
    """The `reference` form fields, checked before any photo is decoded: "auto" (alone), or 1 to MAX_REFERENCES
    uploaded files (FileStorage, still undecoded) and gallery or library names, files first, each in the order sent."""
    uploads = [upload for upload in request.files.getlist("reference") if upload.filename]
    names = [value.strip() for value in request.form.getlist("reference") if value.strip()]
    given = len(uploads) + len(names)
    if given == 0 or (names == [AUTO_REFERENCE] and not uploads):
        return [AUTO_REFERENCE]
    if AUTO_REFERENCE in names:
        raise ApiError("The reference 'auto' chooses the references itself: send it alone, not with other "
                       "references.", 400)
    if given > MAX_REFERENCES:
        raise ApiError(f"Send at most {MAX_REFERENCES} references (got {given}): colour photo files and gallery or "
                       "library names together.", 400)
    for name in names:
        _check_reference_name(name)
    return [*uploads, *names]


def _check_reference_name(name: str) -> None:
    gallery_names = [photo.name for photo in gallery()]
    if name in gallery_names:
        return
    found = library()
    if found is not None and found.get(name) is not None:
        return
    raise ReferenceImageError(
        f"There is no reference photo called '{name[:60]}' in the gallery or the library. Send 'auto', a gallery "
        f"name ({', '.join(gallery_names)}), a library name or a colour photo file."
    )


def _decoded_references(fields: list[FileStorage | str], long_side: int | None = None
                        ) -> str | np.ndarray | list[str | np.ndarray]:
    """What colorize takes as `reference`: "auto", one name or sRGB uint8 (H, W, 3), or a list of those; each photo
    at most `long_side` long when given (shrunk as soon as it is decoded)."""
    def decoded(field: FileStorage, index: int) -> np.ndarray:
        rgb = _decoded_reference(field, index, len(fields))
        return rgb if long_side is None else np.asarray(thumbnail(rgb, long_side))

    references = [field if isinstance(field, str) else decoded(field, index) for index, field in enumerate(fields, 1)]
    return references[0] if len(references) == 1 else references


def _decoded_reference(upload: FileStorage, index: int, count: int) -> np.ndarray:
    what = "reference photo" if count == 1 else f"reference photo {index} ({upload.filename[:60]})"
    try:
        decoded = decode_image(_read_limited(upload.stream, what))
    except ImageTooLargeError:
        raise  # 413
    except InvalidImageError as error:
        raise ApiError(f"The {what} could not be used: {error}", 400) from None
    if not decoded.has_colour:
        raise ApiError(f"The {what} has no colour to copy; send a colour photo.", 400)
    return decoded.rgb


def _read_limited(stream, what: str, limit: int | None = None) -> bytes:
    limit = settings.MAX_UPLOAD_BYTES if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ApiError(f"The {what} is larger than the limit of {limit / 1e6:g} MB.", 413)
    return data


def _request_limit() -> int:
    """The largest body accepted: every file at its limit, within COLORIZER_MAX_REQUEST_BYTES."""
    return min(_MAX_FILES * settings.MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES, settings.MAX_REQUEST_BYTES)


def _video_too_large_message(size: int | None = None) -> str:
    limit = video_request_max_bytes()
    whole = (f"The request is too large: {over_the_limit(size, limit, 'MB', 1e6, 'bytes')} for a video request"
             if size is not None and size > limit else
             f"The request is too large: a video request may be at most {limit / 1e6:g} MB")
    return (f"{whole} (the clip at most {MAX_CLIP_BYTES / 1e6:g} MB, each photo at most "
            f"{settings.MAX_UPLOAD_BYTES / 1e6:g} MB).")


def _header_value(value: object) -> str:
    """`value` as one line of printable ASCII (header values are Latin-1 at best; a name or sentence may not be)."""
    text = " ".join(str(value).split())
    return text.encode("ascii", "replace").decode("ascii")


def _too_large_message(size: int | None = None) -> str:
    """For a whole request over the limit (`size` bytes when its Content-Length said so)."""
    limit = _request_limit()
    whole = (f"The request is too large: {over_the_limit(size, limit, 'MB', 1e6, 'bytes')} for a whole request"
             if size is not None and size > limit else
             f"The request is too large: a whole request may be at most {limit / 1e6:g} MB")
    return f"{whole} (each photo at most {settings.MAX_UPLOAD_BYTES / 1e6:g} MB)."


def register_api(server: Flask) -> None:
    """Add the /api routes to the app's Flask server."""
    server.register_blueprint(api)
