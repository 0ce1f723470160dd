"""Small image helpers for display: thumbnails, PNG and JPEG bytes, download names. Arrays are sRGB uint8 (H, W, 3).

Pages show JPEG thumbnails (a tenth of a PNG's size, so they load at once) and WebP at a fixed ladder of widths
(`WIDTH_LADDER`, for `srcset`); downloads are always PNG.
"""
from __future__ import annotations

import hashlib
import io
import re
from functools import lru_cache
from pathlib import Path, PurePath

import numpy as np
from PIL import Image

from colorizers import encode_png


def thumbnail(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """`rgb` shrunk (never enlarged) so that its longer side is at most `long_side` pixels."""
    if long_side < 1:
        raise ValueError("long_side must be at least 1.")
    height, width = rgb.shape[:2]
    scale = long_side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def png_bytes(rgb: np.ndarray) -> bytes:
    """sRGB uint8 (H, W, 3) as PNG bytes."""
    return encode_png(np.ascontiguousarray(rgb))


JPEG_QUALITY = 85


def jpeg_bytes(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """sRGB uint8 (H, W, 3) as JPEG bytes (4:2:0 chroma, `quality` 1-95), for display only."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="JPEG", quality=quality, optimize=False)
    return buffer.getvalue()


WEBP_QUALITY = 80
# The only widths display images are made at (never a width the client picks: each one costs an encode and a
# cache entry). A rung wider than the source serves the source's own width (never enlarged).
WIDTH_LADDER = (160, 320, 480, 640, 960, 1280)


def webp_bytes(rgb: np.ndarray, quality: int = WEBP_QUALITY) -> bytes:
    """sRGB uint8 (H, W, 3) as lossy WebP bytes (`quality` 0-100), for display only."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="WEBP", quality=quality, method=4)
    return buffer.getvalue()


def resized_to_width(rgb: np.ndarray, width: int) -> np.ndarray:
    """`rgb` shrunk (never enlarged) to `width` pixels wide, keeping its aspect ratio."""
    height, source_width = rgb.shape[:2]
    if width >= source_width:
        return rgb
    size = (width, max(1, round(height * width / source_width)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def served_width(rung: int, source_width: int) -> int:
    """The width actually served for ladder rung `rung` of a `source_width`-wide image."""
    return min(rung, source_width)


def ladder_for(source_width: int, widths: tuple[int, ...] = WIDTH_LADDER) -> list[tuple[int, int]]:
    """(rung, served width) for the rungs of `widths` worth offering for a `source_width`-wide image: every rung
    narrower than the source, then the first rung at least as wide (it serves the source's own width)."""
    pairs = []
    for rung in sorted(widths):
        pairs.append((rung, served_width(rung, source_width)))
        if rung >= source_width:
            break
    return pairs


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, read from its header (cached while the file is unchanged)."""
    stat = path.stat()
    return _image_size(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _image_size(path: Path, _mtime_ns: int, _size: int) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def file_token(path: Path) -> str:
    """A short hash of a file's bytes (cached while the file is unchanged): the version token of its URLs."""
    stat = path.stat()
    return _file_token(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _file_token(path: Path, _mtime_ns: int, _size: int) -> str:
    return bytes_token(path.read_bytes())


def bytes_token(data: bytes) -> str:
    """A short hash of `data` (10 hex digits), a version token for URLs."""
    return hashlib.sha256(data).hexdigest()[:10]


_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def download_name(filename: str | None, suffix: str) -> str:
    """A safe PNG file name derived from the upload's name, e.g. ("My photo.jpg", "colorized-welsh") ->
    "My-photo-colorized-welsh.png"."""
    stem = PurePath((filename or "").replace("\\", "/")).stem
    stem = _UNSAFE_NAME_CHARACTERS.sub("-", stem).strip("-.")[:80] or "photo"
    return f"{stem}-{suffix}.png" if suffix else f"{stem}.png"


def colorized_name(filename: str | None, model_title: str) -> str:
    """A result's download name, after the model's name as the page shows it, e.g. ("My photo.jpg", "Fusion CNN")
    -> "My-photo-colorized-fusion-cnn.png"."""
    slug = _UNSAFE_NAME_CHARACTERS.sub("-", model_title.lower()).strip("-.")
    return download_name(filename, f"colorized-{slug}" if slug else "colorized")
