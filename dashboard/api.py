"""The REST API, on the same Flask server as the pages, with the same registry and limits (`colorizers.settings`).

GET  /api/models     -> JSON list of the models available here: name, title, summary, uses_reference.
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
"""
from __future__ import annotations

import io
import logging
import time

import numpy as np
from flask import Blueprint, Flask, Response, jsonify, request, send_file
from werkzeug.datastructures import FileStorage

from colorizers import (
    ColorizerError,
    ImageTooLargeError,
    InvalidImageError,
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

from .connections import seconds_since_received
from .imaging import png_bytes
from .model_slots import SlotWaitTooLong, model_slots
from .security import FormTooLarge
from .settings import API_MAX_WAIT_SECONDS

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
def _colorizer_error(error: ColorizerError) -> tuple[Response, int]:
    return jsonify(error=str(error)), _status_of(error)


@api.errorhandler(SlotWaitTooLong)
def _busy(error: SlotWaitTooLong) -> tuple[Response, int, dict]:
    message = f"The server is busy colouring other photos; please try again in {error.retry_after} s."
    return jsonify(error=message), 503, {"Retry-After": str(error.retry_after)}


@api.errorhandler(413)
def _too_large(error: Exception) -> tuple[Response, int]:
    if isinstance(error, FormTooLarge):  # too many parts or a long text field: not a matter of any photo's size
        return jsonify(error=error.description), 413
    return jsonify(error=_too_large_message(request.content_length)), 413


_OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE"]


@api.route("/colorize", methods=_OTHER_METHODS)
def colorize_wrong_method() -> tuple[Response, int, dict]:
    """Without this the site's page route would answer a GET here with the page's HTML."""
    message = "Use POST for /api/colorize (multipart form with the photo as 'image'; see GET /api/models)."
    return jsonify(error=message), 405, {"Allow": "POST"}


@api.route("/<path:unknown>", methods=["GET", "POST", *_OTHER_METHODS[1:]])
def unknown_endpoint(unknown: str) -> tuple[Response, int]:
    return jsonify(error=f"There is no API endpoint /api/{unknown[:60]}. Try GET /api/models or POST /api/colorize."), 404


@api.get("/models")
def list_models() -> Response:
    return jsonify([
        {"name": info.name, "title": info.title, "summary": info.summary, "uses_reference": info.uses_reference}
        for info in available_models()
    ])


@api.post("/colorize")
def colorize_image() -> Response:
    if request.content_length is not None and request.content_length > _request_limit():  # before reading the body
        raise ApiError(_too_large_message(request.content_length), 413)
    slots = model_slots()
    # The client's wait began when its request was read whole, before it queued for an app thread.
    deadline = time.monotonic() + API_MAX_WAIT_SECONDS - seconds_since_received(request.environ)
    if deadline <= time.monotonic():
        raise slots.too_long()  # waited the whole allowance before reaching the app: 503 with Retry-After at once
    model_name = request.form.get("model", "").strip()
    if not model_name:
        raise ApiError("Say which model to use in the form field 'model' (see GET /api/models).", 400)
    info = model_info(model_name)  # UnknownModelError -> 404
    if not info.is_available:
        raise ApiError(f"The {info.title} model is not installed here: its weights file is missing.", 503)
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


def _decoded_references(fields: list[FileStorage | str]) -> str | np.ndarray | list[str | np.ndarray]:
    """What colorize takes as `reference`: "auto", one name or sRGB uint8 (H, W, 3), or a list of those."""
    references = [field if isinstance(field, str) else _decoded_reference(field, index, len(fields))
                  for index, field in enumerate(fields, 1)]
    return references[0] if len(references) == 1 else references


def _decoded_reference(upload: FileStorage, index: int, count: int) -> np.ndarray:
    what = "reference photo" if count == 1 else f"reference photo {index} ({upload.filename[:60]})"
    try:
        decoded = decode_image(_read_limited(upload.stream, what))
    except ImageTooLargeError:
        raise  # 413
    except InvalidImageError as error:
        raise ApiError(f"The {what} could not be used: {error}", 400) from None
    if not decoded.was_color:
        raise ApiError(f"The {what} has no colour to copy; send a colour photo.", 400)
    return decoded.rgb


def _read_limited(stream, what: str) -> bytes:
    data = stream.read(settings.MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.MAX_UPLOAD_BYTES:
        raise ApiError(f"The {what} is larger than the limit of {settings.MAX_UPLOAD_BYTES / 1e6:.0f} MB.", 413)
    return data


def _request_limit() -> int:
    """The largest body accepted: every file at its limit, within COLORIZER_MAX_REQUEST_BYTES."""
    return min(_MAX_FILES * settings.MAX_UPLOAD_BYTES + _FORM_OVERHEAD_BYTES, settings.MAX_REQUEST_BYTES)


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
