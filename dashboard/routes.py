"""Flask routes that serve images kept on the server: results and uploads, gallery thumbnails, the home example.

Pages show images through these URLs (see `dashboard.urls`) instead of sending base64 through callbacks.
Anything unknown, expired or malformed answers 404.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, abort, send_file

from colorizers.references import gallery, load_gallery_photo

from . import settings, showcase
from .imaging import png_bytes, thumbnail
from .results_store import ResultsStore, StoredImage
from .session import is_valid_session_id

_RESULT_CACHE = "private, max-age=3600"
_GALLERY_CACHE = "public, max-age=86400"


def register_routes(server: Flask, store: ResultsStore) -> None:
    """Add the image routes to the app's Flask `server`, looking results up in `store`."""

    def stored_image(session_id: str, image_id: str) -> StoredImage:
        image = store.get(session_id, image_id) if is_valid_session_id(session_id) else None
        if image is None:
            abort(404)
        return image

    @server.get("/results/<session_id>/<image_id>.png")
    def result_download(session_id: str, image_id: str) -> Response:
        image = stored_image(session_id, image_id)
        response = send_file(
            io.BytesIO(png_bytes(image.rgb)), mimetype="image/png", as_attachment=True,
            download_name=image.filename,
        )
        response.headers["Cache-Control"] = _RESULT_CACHE
        return response

    @server.get("/results/<session_id>/<image_id>/thumb.png")
    def result_thumbnail(session_id: str, image_id: str) -> Response:
        image = stored_image(session_id, image_id)
        return _png_response(image.thumbnail_png, _RESULT_CACHE)

    @server.get("/gallery/<name>/thumb.png")
    def gallery_thumbnail(name: str) -> Response:
        photo = next((photo for photo in gallery() if photo.name == name), None)
        if photo is None:
            abort(404)
        return _png_response(_gallery_thumbnail_png(photo.name, photo.file, settings.GALLERY_THUMB_SIDE),
                             _GALLERY_CACHE)

    @server.get("/showcase/<which>.png")
    def showcase_image(which: str) -> Response:
        example = showcase.get_showcase()
        if example is None or which not in ("before", "after"):
            abort(404)
        return _png_response(example.before_png if which == "before" else example.after_png, _GALLERY_CACHE)


def _png_response(data: bytes, cache_control: str) -> Response:
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = cache_control
    return response


@lru_cache(maxsize=128)
def _gallery_thumbnail_png(name: str, file: Path, long_side: int) -> bytes:
    """Made once per photo (the file path is part of the key, so a different gallery folder is not confused)."""
    return png_bytes(thumbnail(load_gallery_photo(name), long_side))
