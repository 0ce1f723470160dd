"""The reference gallery for the Welsh method, and automatic reference suggestion.

The gallery is a folder of colour photos with a `manifest.json` (name, title, file, source, licence).
Suggestion ranks gallery photos by how alike their luminance statistics and texture are to the target's:
histograms of lightness and of local deviation, plus the coarse layout of lightness (sky above, ground below).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import settings
from .color import resize_plane, rgb_to_lightness
from .errors import ReferenceImageError
from .welsh import local_deviation

_SIGNATURE_SIDE = 192
_LIGHTNESS_BINS = np.linspace(0.0, 100.0, 17)
_DEVIATION_BINS = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 11.0, 15.0, 20.0, np.inf])
_LAYOUT_GRID = 4


@dataclass(frozen=True)
class GalleryPhoto:
    """One reference photo: `name` is its identifier, `file` its path."""

    name: str
    title: str
    file: Path
    source_package: str
    licence: str


def gallery(folder: Path | None = None) -> list[GalleryPhoto]:
    """The gallery's photos, in manifest order; an empty list when the folder has no manifest."""
    return list(_gallery(Path(folder or settings.GALLERY_DIR)))


@lru_cache(maxsize=4)
def _gallery(folder: Path) -> tuple[GalleryPhoto, ...]:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return ()
    entries = json.loads(manifest.read_text())
    return tuple(
        GalleryPhoto(
            name=entry["name"],
            title=entry.get("title", entry["name"]),
            file=folder / entry["file"],
            source_package=entry.get("source_package", ""),
            licence=entry.get("licence", ""),
        )
        for entry in entries
    )


def load_gallery_photo(name: str, folder: Path | None = None) -> np.ndarray:
    """The gallery photo called `name` as sRGB uint8 (H, W, 3); ReferenceImageError if missing or unreadable."""
    photo = _find(name, folder)
    try:
        return _load_rgb(photo.file)
    except OSError:
        raise ReferenceImageError(f"The reference photo '{name}' could not be read from the gallery.") from None


def _find(name: str, folder: Path | None) -> GalleryPhoto:
    for photo in gallery(folder):
        if photo.name == name:
            return photo
    raise ReferenceImageError(f"There is no reference photo called '{name}' in the gallery.")


@lru_cache(maxsize=64)
def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    rgb.setflags(write=False)
    return rgb


def signature(lightness: np.ndarray) -> np.ndarray:
    """A short vector describing a photo's luminance statistics and texture, for comparing photos.

    lightness: float (H, W) in [0, 100]. Returns float64 (k,): lightness histogram, local-deviation histogram
    (both normalised to sum 1) and a 4x4 layout of mean lightness divided by 100.
    """
    height, width = lightness.shape
    scale = _SIGNATURE_SIDE / max(height, width)
    if scale < 1.0:
        lightness = resize_plane(lightness, (max(8, round(height * scale)), max(8, round(width * scale))))
    lightness_histogram = np.histogram(lightness, _LIGHTNESS_BINS)[0] / lightness.size
    deviation_histogram = np.histogram(local_deviation(lightness), _DEVIATION_BINS)[0] / lightness.size
    layout = resize_plane(lightness, (_LAYOUT_GRID, _LAYOUT_GRID), Image.BOX).ravel() / 100.0
    return np.concatenate([lightness_histogram, deviation_histogram, layout])


def signature_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Chi-square distance on the histograms plus mean squared difference of the layouts."""
    histograms = len(_LIGHTNESS_BINS) - 1 + len(_DEVIATION_BINS) - 1
    a, b = first[:histograms], second[:histograms]
    chi_square = 0.5 * float(np.sum((a - b) ** 2 / (a + b + 1e-9)))
    layout = float(np.mean((first[histograms:] - second[histograms:]) ** 2))
    return chi_square + 4.0 * layout


_signature_lock = threading.Lock()


@lru_cache(maxsize=4)
def _gallery_signatures(folder: Path) -> tuple[tuple[str, np.ndarray], ...]:
    return tuple((photo.name, signature(rgb_to_lightness(_load_rgb(photo.file)))) for photo in _gallery(folder))


def suggest_references(lightness: np.ndarray, count: int = 3, folder: Path | None = None) -> list[tuple[str, float]]:
    """The `count` gallery photos most alike the target lightness (H, W), as (name, distance), best first."""
    with _signature_lock:  # computed once per process, on first use
        try:
            signatures = _gallery_signatures(Path(folder or settings.GALLERY_DIR))
        except OSError as error:
            raise ReferenceImageError(f"The reference gallery could not be read ({error.strerror}).") from None
    if not signatures:
        raise ReferenceImageError("The reference gallery is empty, so no reference can be suggested.")
    target = signature(lightness)
    ranked = sorted(((name, signature_distance(target, other)) for name, other in signatures), key=lambda x: x[1])
    return ranked[:count]
