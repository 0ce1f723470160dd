"""The reference-based colorizers as the registry sees them, and how a reference is named: an uploaded photo (an
array), a gallery or library name, "auto" (chosen by content), or a list of up to MAX_REFERENCES of the first two."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import welsh
from .errors import ReferenceImageError
from .library import library, load_library_photo
from .references import gallery, load_gallery_photo, suggest_references
from .suggestion import OwnReference, suggested_chroma

AUTO = "auto"
MAX_REFERENCES = 5

Reference = np.ndarray | str


def is_auto(reference: Reference | Sequence[Reference] | None) -> bool:
    return reference is None or (isinstance(reference, str) and reference == AUTO)


class WelshColorizer:
    """Reference-based colorizer; holds no weights."""

    def predict_chroma(
        self,
        lightness: np.ndarray,
        reference: Reference | Sequence[Reference] | None = AUTO,
        samples: int = welsh.DEFAULT_SAMPLES,
        seed: int = 0,
        own_references: Sequence[OwnReference] = (),
    ) -> tuple[np.ndarray, dict]:
        """Chroma (H, W, 2) for lightness (H, W) from `reference`: sRGB uint8 (h, w, 3), a gallery or library
        name, a list of up to MAX_REFERENCES of those (every pixel takes its nearest sample among them all), or
        "auto" (the references most alike in content, the visitor's `own_references` included, averaged; see
        `suggestion`)."""
        if not 1 <= samples <= 5000:
            raise ReferenceImageError("The number of samples must be between 1 and 5000.")
        if is_auto(reference):
            suggested = suggested_chroma(lightness, samples=samples, seed=seed, own_references=own_references)
            if suggested is not None:
                chroma, photos = suggested
                return chroma, {"reference": photos[0].name, "references": ",".join(photo.name for photo in photos)}
        resolved = resolve_references(reference, lightness)
        chroma = welsh.transfer_chroma(lightness, [rgb for rgb, _ in resolved], samples=samples, seed=seed)
        return chroma, reference_details([name for _, name in resolved])


def reference_details(names: list[str]) -> dict:
    """The result's details naming the references used (the first, and all when several)."""
    details = {"reference": names[0]}
    if len(names) > 1:
        details["references"] = ",".join(names)
    return details


def resolve_references(reference: Reference | Sequence[Reference] | None, lightness: np.ndarray
                       ) -> list[tuple[np.ndarray, str]]:
    """One reference or a list of 1 to MAX_REFERENCES, each as sRGB uint8 (h, w, 3) and a name to show."""
    values = list(reference) if isinstance(reference, (list, tuple)) else [reference]
    if not 1 <= len(values) <= MAX_REFERENCES:
        raise ReferenceImageError(f"Give between 1 and {MAX_REFERENCES} reference photos.")
    if len(values) > 1 and any(is_auto(value) for value in values):
        raise ReferenceImageError("'auto' chooses the references itself: give it alone, not with other references.")
    resolved = [resolve_reference(value, lightness) for value in values]
    if len(resolved) > 1:  # several uploads are told apart by their place
        resolved = [(rgb, f"uploaded {index}" if name == "uploaded" else name)
                    for index, (rgb, name) in enumerate(resolved, 1)]
    return resolved


def resolve_reference(reference: Reference | None, lightness: np.ndarray) -> tuple[np.ndarray, str]:
    """The reference as sRGB uint8 (h, w, 3) and a name to show ("uploaded" for an array)."""
    if is_auto(reference):
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
