"""Flask routes that serve images kept on the server: results and uploads, the studio's rows and results, the zip of
a session's results, gallery and legacy thumbnails, the home example and the evaluation's contact sheet; and the
coloured videos (`register_video_routes`: /videos/<job id>/result.mp4, /download and /preview.jpg).

Pages show images through these URLs (see `dashboard.routes.urls`) instead of sending base64 through callbacks.
Anything unknown, expired or malformed answers 404 (an image that is not there, with a message saying it expired:
the photo has to be uploaded again); while the store cannot be reached, 503 (`dashboard.guards.outage`). Display images
are JPEG, or WebP at a width of a fixed ladder (`/w<width>.webp`: the static sources, for `srcset`; a width off the
ladder answers 404, so a client cannot make the server resize to any size it likes); downloads are PNG at full
resolution. A static source's URL with `?v=<its version token>` is cached for a year (immutable). An image's URL carries that image's own unguessable id and opens that image alone; the zip of a session's results
is the one thing that needs the session itself (its cookie).
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
from flask import Flask, Response, abort, request, send_file
from PIL import Image

from colorizers.library import library
from colorizers.references import gallery, load_gallery_photo

from ..page_logic import model_docs, showcase
from ..page_logic.legacy import legacy_photos
from .. import settings
from ..page_logic.imaging import (
    WIDTH_LADDER,
    bytes_token,
    file_token,
    jpeg_bytes,
    png_bytes,
    resized_to_width,
    thumbnail,
    webp_bytes,
)
from ..stores.results_store import ResultsStore, StoredImage, StoredVideo
from ..guards.session import current_session_id
from ..studio import MAX_STRENGTH, Studio, StudioError, checked_strength
from ..studio.model import EXPIRED_MESSAGE
from ..jobs.videos import RESULT_EXPIRED, VideoJobs, default_video_jobs

_RESULT_CACHE = "private, max-age=3600"
_GALLERY_CACHE = "public, max-age=86400"
_NO_CACHE = "no-store"
_CONTACT_SHEET_CACHE = "public, max-age=300"
# A URL whose `?v=` is the current version token of its source (a hash of its bytes) never changes content.
_IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def _gone() -> None:
    """Answer 404 for an image that is not (or no longer) here, saying what to do."""
    abort(Response(EXPIRED_MESSAGE, status=404, mimetype="text/plain"))


def register_routes(server: Flask, store: ResultsStore, studio: Studio | None = None) -> None:
    """Add the image routes to the app's Flask `server`, looking results up in `store` and `studio`."""

    def stored_image(image_id: str) -> StoredImage:
        image = store.get_shared(image_id)
        if image is None:
            _gone()
        return image

    @server.get("/results/<image_id>.png")
    def result_download(image_id: str) -> Response:
        image = stored_image(image_id)
        return _download(png_bytes(image.rgb), image.filename, "image/png")

    @server.get("/results/<image_id>/thumb.jpg")
    def result_thumbnail(image_id: str) -> Response:
        image = stored_image(image_id)
        return _image_response(image.thumbnail_jpeg, "image/jpeg", _RESULT_CACHE)

    @server.get("/gallery/<name>/thumb.jpg")
    def gallery_thumbnail(name: str) -> Response:
        photo = next((photo for photo in gallery() if photo.name == name), None)
        if photo is None:
            abort(404)
        return _image_response(_gallery_thumbnail_jpeg(photo.name, photo.file, settings.GALLERY_THUMB_SIDE),
                               "image/jpeg", _cache_for(file_token(photo.file), _GALLERY_CACHE))

    @server.get("/gallery/<name>/w<int:width>.webp")
    def gallery_webp(name: str, width: int) -> Response:
        photo = next((photo for photo in gallery() if photo.name == name), None)
        if photo is None or width not in WIDTH_LADDER:
            abort(404)
        return _image_response(_gallery_webp(photo.name, photo.file, width), "image/webp",
                               _cache_for(file_token(photo.file), _GALLERY_CACHE))

    @server.get("/legacy-photos/<name>/w<int:width>.webp")
    def legacy_webp(name: str, width: int) -> Response:
        photo = next((photo for photo in legacy_photos() if photo.name == name), None)
        if photo is None or width not in WIDTH_LADDER or not photo.path.is_file():
            abort(404)
        return _file_webp_response(photo.path, width, _GALLERY_CACHE)

    @server.get("/library/<name>/w<int:width>.webp")
    def library_webp(name: str, width: int) -> Response:
        found = library()
        photo = found.get(name) if found is not None else None
        if photo is None or width not in WIDTH_LADDER or not Path(photo.file).is_file():
            abort(404)
        return _file_webp_response(Path(photo.file), width, _GALLERY_CACHE)

    @server.get("/showcase/<which>.png")
    def showcase_image(which: str) -> Response:
        example = showcase.get_showcase()
        if example is None or which not in ("before", "after"):
            abort(404)
        png = example.before_png if which == "before" else example.after_png
        return _image_response(png, "image/png", _cache_for(bytes_token(png), _GALLERY_CACHE))

    @server.get("/showcase/<which>/w<int:width>.webp")
    def showcase_webp(which: str, width: int) -> Response:
        example = showcase.get_showcase()
        if example is None or which not in ("before", "after") or width not in WIDTH_LADDER:
            abort(404)
        png = example.before_png if which == "before" else example.after_png
        return _image_response(_png_webp(png, width), "image/webp", _cache_for(bytes_token(png), _GALLERY_CACHE))

    @server.get("/evaluation/<split>/contact_sheet.png")
    def evaluation_contact_sheet(split: str) -> Response:
        path = model_docs.contact_sheet_path(split)
        if path is None:
            abort(404)
        return _image_response(path.read_bytes(), "image/png", _cache_for(file_token(path), _CONTACT_SHEET_CACHE))

    @server.get("/evaluation/<split>/contact_sheet/w<int:width>.webp")
    def evaluation_contact_sheet_webp(split: str, width: int) -> Response:
        path = model_docs.contact_sheet_path(split)
        if path is None or width not in WIDTH_LADDER:
            abort(404)
        return _file_webp_response(path, width, _CONTACT_SHEET_CACHE)

    if studio is None:
        return

    def strength_of(percent: int) -> int:
        if not 0 <= percent <= MAX_STRENGTH:
            abort(404)
        return percent

    @server.get("/results/rows/<row_id>/original.jpg")
    def studio_original(row_id: str) -> Response:
        data = studio.original_jpeg(row_id)
        if data is None:
            _gone()
        return _image_response(data, "image/jpeg", _RESULT_CACHE)

    @server.get("/results/studio/<result_id>/s<int:percent>.jpg")
    def studio_result_display(result_id: str, percent: int) -> Response:
        render = studio.display_render(result_id, strength_of(percent))
        if render is None:
            _gone()
        return _image_response(render.jpeg, "image/jpeg", _RESULT_CACHE)

    @server.get("/results/studio/<result_id>/s<int:percent>.png")
    def studio_result_download(result_id: str, percent: int) -> Response:
        found = studio.download_png(result_id, strength_of(percent))
        if found is None:
            _gone()
        data, filename = found
        return _download(data, filename, "image/png")

    @server.get("/results/all.zip")
    def studio_zip() -> Response:
        percent = request.args.get("strength")
        try:
            strength = None if percent is None else checked_strength(percent)
        except StudioError:
            abort(404)
        data = studio.zip_png(current_session_id(), strength)
        if data is None:
            abort(404)
        response = _download(data, "colorized-photos.zip", "application/zip")
        response.headers["Cache-Control"] = _NO_CACHE  # the session's results change as work goes on
        return response


def register_video_routes(server: Flask, jobs: VideoJobs | None = None) -> None:
    """Add the routes of coloured videos (`dashboard.jobs.videos`, default the process's jobs): the MP4 to play
    (inline, with byte ranges so that the page's <video> can seek) and to download, and the job's latest coloured
    frame (a JPEG that changes as the job goes on: never cached). The job's id is the capability; an unknown,
    unfinished or expired job's answers 404."""

    def video_jobs() -> VideoJobs:
        return default_video_jobs() if jobs is None else jobs

    def finished_video(job_id: str) -> StoredVideo:
        video = video_jobs().result(job_id)
        if video is None:
            abort(Response(RESULT_EXPIRED, status=404, mimetype="text/plain"))
        return video

    @server.get("/videos/<job_id>/result.mp4")
    def video_result_inline(job_id: str) -> Response:
        video = finished_video(job_id)
        response = send_file(io.BytesIO(video.mp4), mimetype="video/mp4", conditional=True, etag=False, max_age=None)
        response.headers["Cache-Control"] = _RESULT_CACHE
        return response

    @server.get("/videos/<job_id>/download")
    def video_result_download(job_id: str) -> Response:
        video = finished_video(job_id)
        response = send_file(io.BytesIO(video.mp4), mimetype="video/mp4", as_attachment=True,
                             download_name=video.filename, conditional=True, etag=False, max_age=None)
        response.headers["Cache-Control"] = _RESULT_CACHE
        return response

    @server.get("/videos/<job_id>/preview.jpg")
    def video_preview(job_id: str) -> Response:
        jpeg = video_jobs().preview_jpeg(job_id)
        if jpeg is None:
            abort(404)
        return _image_response(jpeg, "image/jpeg", _NO_CACHE)


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = _RESULT_CACHE
    return response


def _image_response(data: bytes, mimetype: str, cache_control: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = cache_control
    return response


def _cache_for(token: str, cache_control: str) -> str:
    """A year, immutable, when the request's `?v=` is the source's current `token`; else `cache_control`."""
    return _IMMUTABLE_CACHE if request.args.get("v") == token else cache_control


def _file_webp_response(path: Path, width: int, cache_control: str) -> Response:
    stat = path.stat()
    data = _file_webp(path, stat.st_mtime_ns, stat.st_size, width)
    return _image_response(data, "image/webp", _cache_for(file_token(path), cache_control))


# WebP of static sources, made once per (source, ladder width). A rung wider than the source serves its own width.
@lru_cache(maxsize=256)
def _file_webp(path: Path, _mtime_ns: int, _size: int, width: int) -> bytes:
    """An image file (the legacy photos, library photos, contact sheets) as WebP `width` pixels wide at most; the
    file's modification time and size are part of the key, so a rewritten file is encoded again."""
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    return webp_bytes(resized_to_width(rgb, width))


@lru_cache(maxsize=16)
def _png_webp(png: bytes, width: int) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        rgb = np.asarray(image.convert("RGB"))
    return webp_bytes(resized_to_width(rgb, width))


@lru_cache(maxsize=128)
def _gallery_webp(name: str, file: Path, width: int) -> bytes:
    return webp_bytes(resized_to_width(load_gallery_photo(name), width))


@lru_cache(maxsize=128)
def _gallery_thumbnail_jpeg(name: str, file: Path, long_side: int) -> bytes:
    """Made once per photo (the file path is part of the key, so a different gallery folder is not confused)."""
    return jpeg_bytes(thumbnail(load_gallery_photo(name), long_side))
