"""Training examples from the photo manifest: whole-image splits, random multi-scale crops with flips.

Shared by the CNN and the cGAN (through the encoder-feature cache, `features.py`). Photos are listed in
datasets/manifest.csv (split = train / val / foreign / rejected) and live in data/photos/ (fetched by `make data`,
never committed).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .. import settings
from ..color import resize_plane, rgb_to_lab

MANIFEST = settings.REPO_ROOT / "datasets" / "manifest.csv"
PHOTOS_DIR = settings.REPO_ROOT / "data" / "photos"
MAX_LOADED_SIDE = 1600


def split_files(split: str, manifest: Path = MANIFEST, photos_dir: Path = PHOTOS_DIR) -> list[Path]:
    """Paths of the manifest's photos in `split` ("train" or "val"), in manifest order."""
    with open(manifest, newline="") as handle:
        return [photos_dir / row["file"] for row in csv.DictReader(handle) if row["split"] == split]


def load_photo(path: Path, max_side: int = MAX_LOADED_SIDE) -> np.ndarray:
    """A photo as sRGB uint8 (H, W, 3), shrunk so its long side is at most `max_side`."""
    with Image.open(path) as image:
        image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale directly
        image = ImageOps.exif_transpose(image).convert("RGB")  # camera photos: upright as shown
        scale = max_side / max(image.size)
        if scale < 1.0:
            image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
        return np.asarray(image)


def random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator, max_zoom_out: float = 4.0) -> np.ndarray:
    """A square crop resized to size x size, taken at a random scale and flipped left-right half the time.

    The crop side in the photo is size x 2**u pixels, u uniform, up to `max_zoom_out` times `size` or the
    photo's short side; photos smaller than `size` are enlarged first.
    """
    height, width = rgb.shape[:2]
    short = min(height, width)
    largest = min(short, size * max_zoom_out)
    side = int(round(min(largest, size) * 2 ** rng.uniform(0.0, max(0.0, np.log2(largest / size)))))
    side = max(1, min(side, short))
    top = int(rng.integers(0, height - side + 1))
    left = int(rng.integers(0, width - side + 1))
    crop = Image.fromarray(rgb[top : top + side, left : left + side]).resize((size, size), Image.BILINEAR)
    crop = np.asarray(crop)
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def lightness_and_chroma(rgb: np.ndarray, chroma_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Lightness (H, W) float32 and chroma a/b (chroma_size, chroma_size, 2) float32 (area-averaged)."""
    lab = rgb_to_lab(rgb)
    return lab[..., 0], resize_plane(lab[..., 1:], (chroma_size, chroma_size), Image.BOX)


def crops_per_photo(photos: list[np.ndarray], total: int) -> np.ndarray:
    """How many crops to take from each photo: proportional to the square root of its area, at least 2."""
    weights = np.sqrt([photo.shape[0] * photo.shape[1] for photo in photos])
    counts = np.maximum(2, np.round(weights / weights.sum() * total)).astype(int)
    return counts
