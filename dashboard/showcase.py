"""The home page's before/after example: a gallery photo turned grey and coloured again by Welsh transfer.

Made once per process (at app start) and kept; None when the gallery is empty or the example fails, in which
case the home page simply goes without it.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from colorizers import colorize
from colorizers.color import gray_rgb, rgb_to_lightness
from colorizers.references import gallery, load_gallery_photo, suggest_references

from . import settings
from .imaging import png_bytes, thumbnail
from .jobs import reference_title

logger = logging.getLogger(__name__)

EXAMPLE_LONG_SIDE = 720


@dataclass(frozen=True)
class Showcase:
    """PNG bytes of the grey and the coloured example, and what to say about them."""

    before_png: bytes
    after_png: bytes
    photo_title: str
    reference_title: str
    seconds: float


def build_showcase(long_side: int = EXAMPLE_LONG_SIDE) -> Showcase | None:
    """Grey a gallery photo (settings.SHOWCASE_PHOTO, else the first) and colour it by Welsh transfer from the
    best suggested *other* photo.

    The photo itself is left out of the suggestions: copying a photo's colours back onto itself would flatter
    the method.
    """
    photos = gallery()
    if not photos:
        logger.warning("The reference gallery is empty: the home page will show no example.")
        return None
    photo = next((photo for photo in photos if photo.name == settings.SHOWCASE_PHOTO), photos[0])
    original = thumbnail(load_gallery_photo(photo.name), long_side)
    lightness = rgb_to_lightness(original)
    suggestions = [name for name, _ in suggest_references(lightness, count=len(photos)) if name != photo.name]
    reference = suggestions[0] if suggestions else photo.name
    result = colorize(lightness, "welsh", reference=reference)
    return Showcase(
        png_bytes(gray_rgb(lightness)), png_bytes(result.rgb), photo.title, reference_title(reference), result.seconds
    )


_showcase: Showcase | None = None
_built = False
_lock = threading.Lock()


def get_showcase() -> Showcase | None:
    """The process's example, made on the first call (the app calls this at start)."""
    global _showcase, _built
    with _lock:
        if not _built:
            try:
                _showcase = build_showcase()
            except Exception:  # the example is a nicety; the app must start without it
                logger.exception("Could not make the home page's example")
                _showcase = None
            _built = True
        return _showcase
