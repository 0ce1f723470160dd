"""Results as people see them: a model's chroma merged with the row's lightness at any strength, without running the
model again. The display copy (lightness at display size) gives the page's JPEG and its colourfulness; the
full-resolution lightness gives the PNG a download or the zip gets.
"""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import replace

import numpy as np
from PIL import Image

from colorizers import Colorization
from colorizers.metrics import colourfulness

from ..page_logic.imaging import jpeg_bytes, png_bytes
from .model import DEFAULT_STRENGTH, Blob, KeptResult, Render, Row

CACHED_RENDERS = 64  # display renders at other strengths kept by this process, most recently used
# Bounds on what a decoded row keeps, to judge from the file's header whether a photo will fit: float32 lightness
# at full and display size, and per model its chroma (float32, at most 512 px on the long side: Welsh's working size)
# and its display-size image.
_LIGHTNESS_BYTES_PER_PIXEL = 4
_CHROMA_BYTES_PER_PIXEL = 2 * 4
_MAX_CHROMA_PIXELS = 512 * 512
_EMPTY = np.empty((0, 0), np.float32)


def without_arrays(colorization: Colorization) -> Colorization:
    """What a result keeps besides its blobs: model, seconds, details."""
    return replace(colorization, lightness=_EMPTY, chroma=_EMPTY, rgb=np.empty((0, 0, 3), np.uint8))


def full_colorization(row: Row, result: KeptResult) -> Colorization:
    """The result over the row's full-resolution lightness."""
    return replace(result.colorization, lightness=row.lightness.get(), chroma=result.chroma.get())


def _display_colorization(row: Row, result: KeptResult) -> Colorization:
    return replace(result.colorization, lightness=row.display_lightness.get(), chroma=result.chroma.get())


def first_render(display_lightness: np.ndarray, colorization: Colorization) -> tuple[Blob, float]:
    """The display JPEG at DEFAULT_STRENGTH (made once, by the worker) and its colourfulness."""
    rgb = replace(colorization, lightness=display_lightness).at_strength(DEFAULT_STRENGTH / 100.0)
    return Blob(jpeg_bytes(rgb)), colourfulness(rgb)


class RenderCache:
    """Display renders at strengths other than the default, per process (thread-safe LRU by count)."""

    def __init__(self, size: int = CACHED_RENDERS) -> None:
        self._renders: OrderedDict[tuple[str, int], Render] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._renders)

    def render(self, row: Row, result: KeptResult, strength: int) -> Render:
        if strength == DEFAULT_STRENGTH:
            return Render(result.first_render.get(), result.colourfulness)
        key = (result.result_id, strength)
        with self._lock:
            cached = self._renders.get(key)
            if cached is not None:
                self._renders.move_to_end(key)
                return cached
        rgb = _display_colorization(row, result).at_strength(strength / 100.0)
        render = Render(jpeg_bytes(rgb), colourfulness(rgb))
        with self._lock:
            self._renders[key] = render
            while len(self._renders) > self._size:
                self._renders.popitem(last=False)
        return render


def png_at(row: Row, result: KeptResult, strength: int) -> bytes:
    """The result at full resolution and `strength` percent, as a PNG."""
    return png_bytes(full_colorization(row, result).at_strength(strength / 100.0))


def expected_row_bytes(data: bytes, model_count: int, display_long_side: int) -> int:
    """At least what a row for this image file will hold once decoded, judged from its header (the file's size if
    unreadable: decoding will then say what is wrong)."""
    try:
        width, height = Image.open(io.BytesIO(data)).size
    except Exception:
        return len(data)
    display_pixels = width * height * min(1.0, display_long_side / max(width, height)) ** 2
    per_model = display_pixels * 3 + min(width * height, _MAX_CHROMA_PIXELS) * _CHROMA_BYTES_PER_PIXEL
    return int(len(data) + _LIGHTNESS_BYTES_PER_PIXEL * (width * height + display_pixels) + model_count * per_model)
