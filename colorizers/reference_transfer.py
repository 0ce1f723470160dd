"""The Welsh colorizer as the registry sees it: resolves the reference (photo, gallery name or "auto")."""
from __future__ import annotations

import numpy as np

from . import welsh
from .errors import ReferenceImageError
from .references import load_gallery_photo, suggest_references

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
        """Chroma (H, W, 2) for lightness (H, W); `reference` is sRGB uint8 (h, w, 3), a gallery name or "auto"."""
        reference_rgb, reference_name = resolve_reference(reference, lightness)
        if not 1 <= samples <= 5000:
            raise ReferenceImageError("The number of samples must be between 1 and 5000.")
        chroma = welsh.transfer_chroma(lightness, reference_rgb, samples=samples, seed=seed)
        return chroma, {"reference": reference_name}


def resolve_reference(reference: np.ndarray | str | None, lightness: np.ndarray) -> tuple[np.ndarray, str]:
    """The reference as sRGB uint8 (h, w, 3) and a name to show ("uploaded" for an array)."""
    if reference is None or (isinstance(reference, str) and reference == AUTO):
        name = suggest_references(lightness, count=1)[0][0]
        return load_gallery_photo(name), name
    if isinstance(reference, str):
        return load_gallery_photo(reference), reference
    reference = np.asarray(reference)
    if reference.ndim != 3 or reference.shape[-1] != 3 or reference.dtype != np.uint8:
        raise ReferenceImageError("The reference must be a colour photo.")
    return reference, "uploaded"
