"""Small image helpers for display: thumbnails, PNG and JPEG bytes, download names. Arrays are sRGB uint8 (H, W, 3).

Pages show JPEG thumbnails (a tenth of a PNG's size, so they load at once); downloads are always PNG.
"""
from __future__ import annotations

import io
import re
from pathlib import PurePath

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


_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


def download_name(filename: str | None, suffix: str) -> str:
    """A safe PNG file name derived from the upload's name, e.g. ("My photo.jpg", "colorized-welsh") ->
    "My-photo-colorized-welsh.png"."""
    stem = PurePath((filename or "").replace("\\", "/")).stem
    stem = _UNSAFE_NAME_CHARACTERS.sub("-", stem).strip("-.")[:80] or "photo"
    return f"{stem}-{suffix}.png" if suffix else f"{stem}.png"
