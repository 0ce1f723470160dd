"""The REST API's OpenAPI 3.1 document (GET /api/openapi.json), made from the code's own constants at request time:
the limits from `colorizers.settings` and `dashboard.settings`, the model names from the registry's available models,
the video limits from `colorizers.video`. `dashboard.routes.api_reference` renders the same document as HTML
(GET /api/docs); tests/test_openapi.py checks it against the Flask routes and the settings, and
tests/server/test_schemathesis_live.py runs Schemathesis from it against the real server.
"""
from __future__ import annotations

from typing import Any

from colorizers import available_models, settings
from colorizers.reference_transfer import AUTO as AUTO_REFERENCE
from colorizers.reference_transfer import MAX_REFERENCES
from colorizers.registry import BY_HAND, MAX_STRENGTH
from colorizers.video import MAX_CLIP_BYTES
from colorizers.video.clip import LIMITS_SENTENCE, MAX_FRAME_PIXELS, MAX_LONG_SIDE, MAX_SECONDS

from .. import settings as dashboard_settings
from ..guards.fair_share import RETRY_AFTER_SECONDS as BUSY_RETRY_AFTER_SECONDS
from ..jobs.videos import MAX_KEYFRAMES, REFERENCE_SIDE

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
# Video job ids are `secrets.token_urlsafe(16)`: URL-safe base64 (22 characters; a longer id is simply unknown).
JOB_ID_PATTERN = "^[A-Za-z0-9_-]{1,64}$"


def request_limit() -> int:
    """The largest body POST /api/colorize accepts (as `dashboard.routes.api` computes it)."""
    from .api import _request_limit

    return _request_limit()


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, retry_after: str | None = None) -> dict:
    """A JSON {"error": message} response; `retry_after`: "required" or "optional" Retry-After."""
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
    if retry_after:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
        if retry_after == "required":
            response["headers"]["Retry-After"] = {"$ref": "#/components/headers/RetryAfterRequired"}
    return response


def _mb(size: int) -> str:
    return f"{size / 1e6:g} MB"


def model_names() -> list[str]:
    """What the `model` field accepts here: the available models, then those that colour by hand."""
    return [info.name for info in available_models()] + list(BY_HAND)


def limits() -> dict[str, int | float]:
    """The limits the document states (also under `x-limits`), from the settings in force."""
    return {
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "max_request_bytes": settings.MAX_REQUEST_BYTES,
        "colorize_request_max_bytes": request_limit(),
        "max_pixels": settings.MAX_PIXELS,
        "min_side": settings.MIN_SIDE,
        "max_references": MAX_REFERENCES,
        "max_strength": MAX_STRENGTH,
        "api_max_wait_seconds": dashboard_settings.API_MAX_WAIT_SECONDS,
        "max_video_bytes": MAX_CLIP_BYTES,
        "video_request_max_bytes": dashboard_settings.video_request_max_bytes(),
        "max_video_seconds": MAX_SECONDS,
        "max_video_long_side": MAX_LONG_SIDE,
        "max_video_frame_pixels": MAX_FRAME_PIXELS,
        "max_keyframes": MAX_KEYFRAMES,
        "video_reference_side": REFERENCE_SIDE,
        "heavy_per_visitor": dashboard_settings.HEAVY_PER_VISITOR,
        "heavy_per_address": dashboard_settings.HEAVY_PER_ADDRESS,
    }


def _components(models: list[str]) -> dict:
    strength = {"type": "number", "minimum": 0, "maximum": MAX_STRENGTH, "default": 1,
                "description": f"How much colour, from 0 (gray) to {MAX_STRENGTH:g}; 1 is the model's own."}
    return {
        "schemas": {
            "Error": {
                "type": "object",
                "description": "Every error of the API: one sentence saying what went wrong and what to do.",
                "required": ["error"],
                "properties": {"error": {"type": "string", "minLength": 1}},
                "examples": [{"error": "Say which model to use in the form field 'model' (see GET /api/models)."}],
            },
            "Model": {
                "type": "object",
                "required": ["name", "title", "summary", "uses_reference"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "description": "What to send as `model`."},
                    "title": {"type": "string"},
                    "summary": {"type": "string"},
                    "uses_reference": {"type": "boolean",
                                       "description": "Whether the model takes `reference` photos."},
                },
            },
            "ColorizeForm": {
                "type": "object",
                "required": ["image", "model"],
                "properties": {
                    "image": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
                              "description": (f"The photo (JPEG, PNG, WebP, TIFF, BMP, GIF...), at most "
                                              f"{_mb(settings.MAX_UPLOAD_BYTES)} and {settings.MAX_PIXELS:,} "
                                              f"pixels, each side at least {settings.MIN_SIDE} pixels.")},
                    "model": {"type": "string", "enum": models,
                              "description": "A model's name from GET /api/models, or `scribble` (colours from "
                                             "the `hints` strokes alone)."},
                    "strength": strength,
                    "reference": {
                        "type": "array", "maxItems": MAX_REFERENCES,
                        "items": {"type": "string"},
                        "description": (f"Reference-based models only (the others ignore it). Repeat the field, 1 "
                                        f"to {MAX_REFERENCES} in all: each a colour photo sent as a file part or "
                                        f"a gallery or library photo's name (files first, then names, each in the "
                                        f"order sent); or `{AUTO_REFERENCE}` alone, the default: chosen by "
                                        f"content."),
                    },
                    "hints": {"type": "string", "format": "binary", "contentMediaType": "image/png",
                              "description": "A transparent PNG, the photo's size or scaled to it, whose opaque "
                                             "pixels are brush strokes: the result is touched up with them. "
                                             "Required by `scribble`."},
                },
            },
            "VideoForm": {
                "type": "object",
                "required": ["video", "model"],
                "properties": {
                    "video": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream",
                              "description": LIMITS_SENTENCE},
                    "model": {"type": "string", "enum": models,
                              "description": "A model's name from GET /api/models."},
                    "strength": strength,
                    "reference": {
                        "type": "array", "maxItems": MAX_REFERENCES, "items": {"type": "string"},
                        "description": (f"As for POST /api/colorize, for the models that take one (each photo "
                                        f"shrunk to {REFERENCE_SIDE} pixels on its long side). None: chosen by "
                                        f"content."),
                    },
                    "keyframe": {
                        "type": "array", "maxItems": MAX_KEYFRAMES,
                        "items": {"type": "string", "format": "binary", "contentMediaType": "image/*"},
                        "description": (f"At most {MAX_KEYFRAMES} frames of the clip as you coloured them, each "
                                        f"file named by its frame number counted from 0 (e.g. `12.png`): their "
                                        f"colour is carried through their shot."),
                    },
                },
            },
            "VideoJobCreated": {
                "type": "object",
                "required": ["id", "url"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "string", "pattern": JOB_ID_PATTERN,
                           "description": "The job's id: whoever has it may ask for the job."},
                    "url": {"type": "string", "description": "The job's URL (also in Location)."},
                },
            },
            "VideoJob": {
                "type": "object",
                "required": ["state", "frames_done", "frames_total", "seconds_left", "message", "result_url"],
                "additionalProperties": False,
                "properties": {
                    "state": {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]},
                    "frames_done": {"type": "integer", "minimum": 0},
                    "frames_total": {"type": "integer", "minimum": 0},
                    "seconds_left": {"type": ["number", "null"], "minimum": 0,
                                     "description": "A guess, or null."},
                    "message": {"type": ["string", "null"], "description": "Why it failed, or null."},
                    "result_url": {"type": ["string", "null"], "description": "Once done, else null."},
                },
            },
            "Health": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
            "Ready": {
                "type": "object", "required": ["ready"],
                "properties": {"ready": {"type": "boolean"},
                               "models": {"type": "array", "items": {"type": "string"},
                                          "description": "The models loaded and run once."}},
            },
        },
        "parameters": {
            "JobId": {"name": "job_id", "in": "path", "required": True,
                      "description": "The id POST /api/videos answered.",
                      "schema": {"type": "string", "pattern": JOB_ID_PATTERN}},
        },
        "headers": {
            "RetryAfter": {"description": "Seconds to wait before trying again (when the server is busy).",
                           "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            "RetryAfterRequired": {"description": "Seconds to wait before trying again.", "required": True,
                                   "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        },
    }


def openapi_document() -> dict:
    """The whole document, as served at GET /api/openapi.json."""
    models = model_names()
    limit = limits()
    busy = _error(f"Too many heavy requests at once from this client (at most {limit['heavy_per_visitor']} per "
                  f"visitor, {limit['heavy_per_address']} per address): try again after Retry-After "
                  f"({BUSY_RETRY_AFTER_SECONDS} s).", "required")
    colorize_413 = _error(
        f"Too large, saying what: a file over {_mb(settings.MAX_UPLOAD_BYTES)}, a photo over "
        f"{settings.MAX_PIXELS:,} pixels, the whole request over {_mb(request_limit())}, too many parts, or a long "
        f"text field.")
    unavailable = _error("The store (Redis) cannot be reached, with Retry-After.", "optional")
    video_id = [{"$ref": "#/components/parameters/JobId"}]
    no_store = {"Cache-Control": {"description": "`no-store`.", "schema": {"type": "string"}}}
    paths = {
        "/api/models": {"get": {
            "operationId": "listModels", "tags": ["Photos"], "summary": "The models available here",
            "responses": {"200": {"description": "Every model the `model` field accepts (besides `scribble`).",
                                  "content": {JSON: {"schema": {"type": "array", "items": _ref("Model")}}}}},
        }},
        "/api/colorize": {"post": {
            "operationId": "colorize", "tags": ["Photos"], "summary": "Colour a photo",
            "description": (
                f"Answers the coloured photo as PNG at the input's size. Other methods answer 405 with Allow: POST. "
                f"The wait allowed ({limit['api_max_wait_seconds']:g} s) runs from when the server had read the "
                f"request whole; a request that cannot be coloured within it is answered 503 with Retry-After."),
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": _ref("ColorizeForm"),
                "encoding": {"image": {"contentType": "application/octet-stream"},
                             "hints": {"contentType": "image/png"}},
            }}},
            "responses": {
                "200": {
                    "description": "The coloured photo.",
                    "content": {"image/png": {"schema": {"type": "string", "format": "binary",
                                                         "contentMediaType": "image/png"}}},
                    "headers": {
                        "X-Colorizer-Model": {"required": True, "description": "The model used.",
                                              "schema": {"type": "string", "enum": models}},
                        "X-Colorizer-Seconds": {"required": True, "description": "Seconds spent colouring.",
                                                "schema": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$"}},
                        "X-Colorizer-Reference": {"description": "The first reference used (reference models).",
                                                  "schema": {"type": "string"}},
                        "X-Colorizer-References": {
                            "description": "All the references used, comma-separated, when several or chosen by "
                                           "`auto` (uploads are named `uploaded`, or `uploaded 1`, `uploaded 2`...).",
                            "schema": {"type": "string"}},
                        "X-Colorizer-Fallback": {
                            "description": "`exemplar` only: a sentence saying how much of the photo took the CNN's "
                                           "colour because the references show nothing alike.",
                            "schema": {"type": "string"}},
                    },
                },
                "400": _error(f"A bad image, strength or reference (not a colour photo, an unknown name, more than "
                              f"{MAX_REFERENCES}, `{AUTO_REFERENCE}` with others), bad hints, a missing field, "
                              f"or `scribble` without strokes."),
                "404": _error("An unknown model."),
                "413": colorize_413,
                "429": busy,
                "503": _error("The model's weights are missing, the server is too busy to colour it within "
                              f"{limit['api_max_wait_seconds']:g} s (with Retry-After), or the store cannot be "
                              "reached (with Retry-After).", "optional"),
            },
        }},
        "/api/videos": {"post": {
            "operationId": "submitVideo", "tags": ["Videos"], "summary": "Colour a video clip (in the background)",
            "description": ("Starts a job and answers at once: 202 with its URL in Location. One job at a time per "
                            "client address. Its result counts in that address's byte budget and expires like "
                            "photos. Other methods answer 405 with Allow: POST."),
            "requestBody": {"required": True, "content": {"multipart/form-data": {
                "schema": _ref("VideoForm"),
                "encoding": {"video": {"contentType": "application/octet-stream"},
                             "keyframe": {"contentType": "image/png, image/jpeg, image/*"}},
            }}},
            "responses": {
                "202": {"description": "The job was started.",
                        "headers": {"Location": {"required": True, "description": "The job's URL.",
                                                 "schema": {"type": "string", "pattern": "^/api/videos/"}},
                                    **no_store},
                        "content": {JSON: {"schema": _ref("VideoJobCreated")}},
                        "links": {
                            "GetVideoJob": {"operationId": "getVideoJob",
                                            "parameters": {"job_id": "$response.body#/id"}},
                            "GetVideoResult": {"operationId": "getVideoResult",
                                               "parameters": {"job_id": "$response.body#/id"}},
                            "DeleteVideoJob": {"operationId": "deleteVideoJob",
                                               "parameters": {"job_id": "$response.body#/id"}},
                        }},
                "400": _error("A bad clip (too long, too large a frame...), model field, strength, reference or "
                              f"keyframe (more than {MAX_KEYFRAMES}, badly named, not an image)."),
                "404": _error("An unknown model."),
                "413": _error(f"A clip over {_mb(MAX_CLIP_BYTES)}, a photo over "
                              f"{_mb(settings.MAX_UPLOAD_BYTES)}, or a request over "
                              f"{_mb(dashboard_settings.video_request_max_bytes())}."),
                "415": _error("A file that is no video we can read (or one cut short before its first frame)."),
                "422": _error("A keyframe for a frame the clip does not have."),
                "429": _error("A job of this client's is already queued or running, or too many heavy requests at "
                              "once: try again after Retry-After.", "required"),
                "503": _error("The model's weights are missing, or the store is unavailable (with Retry-After).",
                              "optional"),
            },
        }},
        "/api/videos/{job_id}": {
            "parameters": video_id,
            "get": {
                "operationId": "getVideoJob", "tags": ["Videos"], "summary": "A video job's state",
                "responses": {
                    "200": {"description": "The job's state.", "headers": no_store,
                            "content": {JSON: {"schema": _ref("VideoJob")}}},
                    "404": _error("No such job (expired, deleted, or never started)."),
                    "503": unavailable,
                },
            },
            "delete": {
                "operationId": "deleteVideoJob", "tags": ["Videos"], "summary": "Cancel and forget a video job",
                "description": "Cancelled if still queued or running, its result freed, and forgotten (404 after).",
                "responses": {
                    "204": {"description": "Deleted."},
                    "404": _error("No such job."),
                    "503": unavailable,
                },
            },
        },
        "/api/videos/{job_id}/result": {
            "parameters": video_id,
            "get": {
                "operationId": "getVideoResult", "tags": ["Videos"], "summary": "A video job's result (MP4)",
                "description": "The MP4 (H.264, the clip's size and frame rate, its sound kept). Byte ranges "
                               "(Range) are answered 206.",
                "responses": {
                    "200": {"description": "The coloured clip, as an attachment.",
                            "headers": {"Content-Disposition": {"required": True, "schema": {"type": "string"}}},
                            "content": {"video/mp4": {"schema": {"type": "string", "format": "binary",
                                                                 "contentMediaType": "video/mp4"}}}},
                    "206": {"description": "Part of the clip (a Range request).",
                            "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
                    "404": _error("No such job, or it ended without a result (failed or cancelled: why)."),
                    "409": _error("The job is still queued or running."),
                    "416": {"description": "A Range outside the clip.",
                            "content": {"text/html": {"schema": {"type": "string"}}}},
                    "503": unavailable,
                },
            },
        },
        "/api/openapi.json": {"get": {
            "operationId": "getOpenAPI", "tags": ["Documentation"], "summary": "This document",
            "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                  "content": {JSON: {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}},
        }},
        "/api/docs": {"get": {
            "operationId": "getReference", "tags": ["Documentation"], "summary": "This document as a web page",
            "responses": {"200": {"description": "The API reference (HTML).",
                                  "content": {"text/html": {"schema": {"type": "string"}}}}},
        }},
        "/healthz": {"get": {
            "operationId": "healthz", "tags": ["Health"], "summary": "Liveness",
            "responses": {"200": {"description": "The process answers.",
                                  "content": {JSON: {"schema": _ref("Health")}}}},
        }},
        "/readyz": {"get": {
            "operationId": "readyz", "tags": ["Health"], "summary": "Readiness",
            "responses": {
                "200": {"description": "Every model is loaded and has run once: send users now.",
                        "content": {JSON: {"schema": _ref("Ready")}}},
                "503": {"description": "Still warming the models.",
                        "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfterRequired"}},
                        "content": {JSON: {"schema": _ref("Ready")}}},
            },
        }},
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Colorization studio API",
            "version": "1.0.0",
            "summary": "Colour black-and-white photos and video clips.",
            "description": (
                "Every error is JSON `{\"error\": message}`. Unknown paths under /api/ answer 404, a method an "
                "endpoint does not take 405 with Allow. A request body over the server's limit is refused with 413 "
                "before it is read; headers too large: 431. Photos stay in memory about an hour; nothing is "
                "stored on disk."),
        },
        "tags": [{"name": "Photos"}, {"name": "Videos"}, {"name": "Documentation"}, {"name": "Health"}],
        "paths": paths,
        "components": _components(models),
        "x-limits": limit,
    }
