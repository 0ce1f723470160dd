"""The Welsh colorizer as the registry sees it: resolves the reference (photo, gallery or library name, "auto")."""
from __future__ import annotations

import numpy as np

from . import welsh
from .errors import ReferenceImageError
from .library import library, load_library_photo
from .references import gallery, load_gallery_photo, suggest_references
from .suggestion import suggested_chroma

AUTO = "auto"


class WelshColorizer:
    """Reference-based colorizer; holds no weights."""

    def predict_chroma(
        self,
        lightness: np.ndarray,
        reference: np.ndarray | str | None = AUTO,
        samples: int = welsh.DEFAULT_SAMPLES,
        seed: int = 0,
    ) -> tuple[np.ndarray, dict]:
        """Chroma (H, W, 2) for lightness (H, W) from `reference`: sRGB uint8 (h, w, 3), a gallery or library
        name, or "auto" (the references most alike in content, averaged; see `suggestion`)."""
        if not 1 <= samples <= 5000:
            raise ReferenceImageError("The number of samples must be between 1 and 5000.")
        if reference is None or (isinstance(reference, str) and reference == AUTO):
            suggested = suggested_chroma(lightness, samples=samples, seed=seed)
            if suggested is not None:
                chroma, photos = suggested
                return chroma, {"reference": photos[0].name, "references": ",".join(photo.name for photo in photos)}
        reference_rgb, reference_name = resolve_reference(reference, lightness)
        chroma = welsh.transfer_chroma(lightness, reference_rgb, samples=samples, seed=seed)
        return chroma, {"reference": reference_name}


def resolve_reference(reference: np.ndarray | str | None, lightness: np.ndarray) -> tuple[np.ndarray, str]:
    """The reference as sRGB uint8 (h, w, 3) and a name to show ("uploaded" for an array)."""
    if reference is None or (isinstance(reference, str) and reference == AUTO):
        name = suggest_references(lightness, count=1)[0][0]  # no library here: the lightness-statistics match
        return load_gallery_photo(name), name
    if isinstance(reference, str):
        found = library()
        if found is not None and reference not in {photo.name for photo in gallery()}:
            return load_library_photo(found.find(reference).file), reference
        return load_gallery_photo(reference), reference
    reference = np.asarray(reference)
    if reference.ndim != 3 or reference.shape[-1] != 3 or reference.dtype != np.uint8:
        raise ReferenceImageError("The reference must be a colour photo.")
    return reference, "uploaded"
