"""The "Suggest for me" reference, by content: the reference library ranked by what the gray photo shows, and
the colour the nearest references agree on.

Measured on the foreign split (photos from packages the library never saw; `scripts/tune_suggestion.py`, table in
weights/MODEL_CARD.md): a single reference, even the nearest by content, is often wrong somewhere; averaging
the Welsh a/b of the SUGGESTED_COUNT nearest keeps what they agree on and hedges toward gray where they do not.
The transfers run at a working size (long side WORKING_SIDE): the average is smooth anyway, and the chroma merge
brings it back to the photo's full size and lightness. Needs the CNN's weights (its frozen ImageNet encoder
describes the photo) and the library (assets/library/); without either, `suggested_chroma` returns None.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from . import welsh
from .color import resize_plane
from .library import LibraryPhoto, library, load_library_photo

SUGGESTED_COUNT = 5
WORKING_SIDE = 512


def working_lightness(lightness: np.ndarray, max_side: int = WORKING_SIDE) -> np.ndarray:
    """Lightness (H, W) shrunk (area average) so that its long side is at most `max_side`."""
    height, width = lightness.shape
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return lightness
    return resize_plane(lightness, (max(1, round(height * scale)), max(1, round(width * scale))), Image.BOX)


def suggested_references(lightness: np.ndarray, count: int = SUGGESTED_COUNT) -> list[LibraryPhoto] | None:
    """The `count` library photos most alike in content, best first; None when the library or CNN is missing."""
    from .registry import get_model, model_info  # the registry imports this module's users

    found = library()
    if found is None or not model_info("cnn").is_available:
        return None
    embedding = get_model("cnn").embed(lightness)
    return [photo for photo, _ in found.nearest(embedding, count)]


def suggested_chroma(lightness: np.ndarray, count: int = SUGGESTED_COUNT, samples: int = welsh.DEFAULT_SAMPLES,
                     seed: int = 0) -> tuple[np.ndarray, list[LibraryPhoto]] | None:
    """Welsh a/b averaged over the `count` nearest references, at the working size, and those references;
    None when no content suggestion can be made here."""
    photos = suggested_references(lightness, count)
    if not photos:
        return None
    references = [load_library_photo(photo.file) for photo in photos]
    return welsh.average_transfer_chroma(working_lightness(lightness), references, samples, seed), photos
