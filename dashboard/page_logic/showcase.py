"""The home page's before/after example.

The example chosen by measurement (`scripts/choose_showcase.py`: the best-scoring lively result on photos from
sources never trained on) is read from assets/showcase/ as it was made, so showing it never loads a model. Without
it, a gallery photo is turned grey and coloured again by Welsh transfer. Made once per process (at app start) and
kept; None when neither can be made, in which case the home page simply goes without it.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from colorizers import colorize
from colorizers.settings import REPO_ROOT
from colorizers.color import gray_rgb, rgb_to_lightness
from colorizers.references import gallery, load_gallery_photo, suggest_references

from .. import settings
from .imaging import png_bytes, thumbnail
from ..jobs.photos import reference_title

logger = logging.getLogger(__name__)

EXAMPLE_LONG_SIDE = 720
SHOWCASE_DIR = REPO_ROOT / "assets" / "showcase"


@dataclass(frozen=True)
class Showcase:
    """PNG bytes of the grey and the coloured example, and what to say about them."""

    before_png: bytes
    after_png: bytes
    photo_title: str
    after_caption: str
    credit: str = ""


def measured_showcase(folder: Path = SHOWCASE_DIR) -> Showcase | None:
    """The example chosen by measurement, or None when assets/showcase/ has none."""
    record_path = folder / "showcase.json"
    if not record_path.is_file():
        return None
    record = json.loads(record_path.read_text(encoding="utf-8"))
    images = []
    for name in ("before.jpg", "after.jpg"):
        with Image.open(folder / name) as image:
            images.append(png_bytes(np.asarray(image.convert("RGB"))))
    gain = record["psnr"] - record["gray_psnr"]
    caption = (f"Coloured by the {record['model_title']} model: our best-scoring result on photos from sources it "
               f"never saw ({gain:+.1f} dB PSNR over leaving it grey)")
    credit = f"Photo: {record['source_package']} {record['source_version']}, licence {record['licence']}."
    return Showcase(images[0], images[1], record["title"], caption, credit)


def build_showcase(long_side: int = EXAMPLE_LONG_SIDE) -> Showcase | None:
    """The measured example; without one, grey a gallery photo (settings.SHOWCASE_PHOTO, else the first) and
    colour it by Welsh transfer from the best suggested *other* photo.

    The photo itself is left out of the suggestions: copying a photo's colours back onto itself would flatter
    the method.
    """
    measured = measured_showcase()
    if measured is not None:
        return measured
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
    return Showcase(png_bytes(gray_rgb(lightness)), png_bytes(result.rgb), photo.title,
                    f"Coloured by Welsh transfer from “{reference_title(reference)}”")


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
