"""Flask routes that serve images kept on the server: results and uploads, the studio's rows and results, the zip of
a session's results, gallery and legacy thumbnails, the home example and the evaluation's contact sheet; and the
coloured videos (`register_video_routes`: /videos/<job id>/result.mp4, /download and /preview.jpg).

Pages show images through these URLs (see `dashboard.urls`) instead of sending base64 through callbacks.
Anything unknown, expired or malformed answers 404 (an image that is not there, with a message saying it expired:
the photo has to be uploaded again); while the store cannot be reached, 503 (`dashboard.outage`). Display images
are JPEG; downloads are PNG at full resolution. An image's URL carries that image's own unguessable id and opens that image alone; the zip of a session's results
is the one thing that needs the session itself (its cookie).
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, abort, request, send_file

from colorizers.references import gallery, load_gallery_photo

from . import model_docs, settings, showcase
from .imaging import jpeg_bytes, png_bytes, thumbnail
from .results_store import ResultsStore, StoredImage, StoredVideo
from .session import current_session_id
from .studio import MAX_STRENGTH, Studio, StudioError, checked_strength
from .studio.model import EXPIRED_MESSAGE
from .video_jobs import RESULT_EXPIRED, VideoJobs, default_video_jobs

_RESULT_CACHE = "private, max-age=3600"
_GALLERY_CACHE = "public, max-age=86400"
_NO_CACHE = "no-store"


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
                               "image/jpeg", _GALLERY_CACHE)

    @server.get("/showcase/<which>.png")
    def showcase_image(which: str) -> Response:
        example = showcase.get_showcase()
        if example is None or which not in ("before", "after"):
            abort(404)
        return _image_response(example.before_png if which == "before" else example.after_png, "image/png",
                               _GALLERY_CACHE)

    @server.get("/evaluation/<split>/contact_sheet.png")
    def evaluation_contact_sheet(split: str) -> Response:
        path = model_docs.contact_sheet_path(split)
        if path is None:
            abort(404)
        return _image_response(path.read_bytes(), "image/png", "public, max-age=300")

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
    """Add the routes of coloured videos (`dashboard.video_jobs`, default the process's jobs): the MP4 to play
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


@lru_cache(maxsize=128)
def _gallery_thumbnail_jpeg(name: str, file: Path, long_side: int) -> bytes:
    """Made once per photo (the file path is part of the key, so a different gallery folder is not confused)."""
    return jpeg_bytes(thumbnail(load_gallery_photo(name), long_side))
