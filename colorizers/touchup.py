"""Touch-up by brush strokes: Levin, Lischinski and Weiss, "Colorization using Optimization" (SIGGRAPH 2004).

Neighbouring pixels of similar lightness should have similar chroma. Strokes fix the chroma of the pixels they
cover (hard constraints); everywhere else the result stays close to a starting chroma (any model's result, a soft
data term), so a stroke's colour flows through the region it touches and stops at that region's edges.

We solve for the change from the starting chroma, D = result - start:

    minimise  sum over neighbours r~s of A_rs (D_r - D_s)^2  +  data_weight * sum_r D_r^2,
    with      D = stroke - start on the stroke pixels,

where A is Levin's affinity in a 3x3 window (row-normalised, then made symmetric so the system is symmetric
positive definite). From a gray start (no starting chroma) there is no data term: Levin's original problem.
It is solved at a working resolution (long side WORKING_SIDE) by `touchup_solver`; callers merge the
working-size chroma with the full-resolution lightness as every model does (`color.merge_chroma`).

Conventions: lightness float32 (H, W) in [0, 100]; chroma a/b float32 (h, w, 2); hints sRGB(A) uint8.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from . import settings
from .color import resize_plane, rgb_to_lab
from .errors import ColorizerError

WORKING_SIDE = 512
# Data term per pixel, against affinities that sum to about 1 per pixel: a stroke's change fades over about
# sqrt(0.75 / DATA_WEIGHT) pixels (~160 at the working size) inside a flat region, and stops at edges sooner.
# Larger keeps changes closer to the strokes; smaller fills big regions from one stroke but leaks through soft edges.
DATA_WEIGHT = 3e-5
OPAQUE = 128  # alpha at or above this marks a stroke pixel in a hints image
# A working pixel is a stroke pixel when strokes cover at least this share of it (thin strokes survive a downscale).
MIN_COVERAGE = 0.25
# A hints image may have this many times the pixels the photo needs (its own, or WORKING_SIDE squared for a small
# one), and no more: checked from its header, before its pixels are decoded (a small PNG can hold 40 MP).
HINTS_PIXEL_FACTOR = 4
# Points of the editor's strokes: a hand-drawn stroke has a few hundred, a whole touch-up a few thousand. More is
# refused before anything is drawn (a million points took 10 s).
MAX_STROKE_POINTS = 5_000
MAX_POINTS = 20_000



class HintsError(ColorizerError):
    """A hints image that cannot be used (unreadable, no transparency, wrong shape or aspect ratio)."""


class NoStrokesError(HintsError):
    """A by-hand model was asked to colour a photo without any brush stroke."""

    def __init__(self, model_title: str = "Scribble") -> None:
        super().__init__(
            f"Paint at least one stroke: the {model_title} model colours a photo from its brush strokes alone "
            "(a transparent PNG whose opaque pixels are the strokes' colours: the API's 'hints' field, the command "
            "line's --hints).")


@dataclass(frozen=True)
class Hints:
    """Stroke constraints at one size: `mask` bool (h, w) marks stroke pixels, `chroma` float32 (h, w, 2) is their
    target a/b (zero elsewhere)."""

    mask: np.ndarray
    chroma: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.mask.shape

    @property
    def is_empty(self) -> bool:
        return not bool(self.mask.any())


@dataclass(frozen=True)
class Stroke:
    """One brush stroke: `points` ((x, y), ...) in pixels of the photo at full size, an sRGB colour, and the
    brush's diameter in those pixels."""

    points: tuple[tuple[float, float], ...]
    rgb: tuple[int, int, int]
    width: float


def hints_from_rgba(rgba: np.ndarray) -> Hints:
    """Hints from an RGBA uint8 (H, W, 4) image whose opaque pixels are the strokes' colours (alpha >= 128).

    Raises HintsError for anything that is not an RGBA image."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[-1] != 4 or rgba.dtype != np.uint8:
        raise HintsError(f"The hints must be an RGBA image (uint8, H x W x 4), got {rgba.dtype} {rgba.shape}.")
    mask = rgba[..., 3] >= OPAQUE
    chroma = np.zeros(mask.shape + (2,), np.float32)
    if mask.any():
        chroma[mask] = rgb_to_lab(rgba[mask][:, :3])[:, 1:]
    return Hints(mask, chroma)


def hints_pixel_limit(size: tuple[int, int], max_pixels: int | None = None) -> int:
    """The most pixels a hints image for a photo of size (height, width) may have: HINTS_PIXEL_FACTOR times what
    the photo needs (its own pixels, or WORKING_SIDE squared for a smaller photo), within `max_pixels`
    (default settings.MAX_PIXELS)."""
    max_pixels = settings.MAX_PIXELS if max_pixels is None else max_pixels
    return min(max_pixels, HINTS_PIXEL_FACTOR * max(size[0] * size[1], WORKING_SIDE**2))


def decode_hints(data: bytes, size: tuple[int, int], max_pixels: int | None = None) -> np.ndarray:
    """A hints file (PNG or any image with transparency) as RGBA uint8 for a photo of size (height, width): at the
    hints' own size when that is at most the touch-up's working size, else scaled down to the working size
    (`working_size(size)`): a working pixel is opaque when strokes cover at least MIN_COVERAGE of it, in their mean
    colour, as `resize_hints` would make it, without the full-size float arrays.

    The hints may be at any scale of the photo (same aspect ratio, within 2%) with at most `hints_pixel_limit`
    pixels, both checked from the header before any pixel is decoded; raises HintsError otherwise, or when the
    image cannot be read or has no transparency (then every pixel would be a stroke)."""
    height, width = size
    try:
        image = Image.open(io.BytesIO(data))
    except Exception:
        raise HintsError("The hints file is not an image we can read; send a PNG with transparency.") from None
    limit = hints_pixel_limit(size, max_pixels)
    if image.width * image.height > limit:
        raise HintsError(
            f"The hints image is {image.width}x{image.height} ({image.width * image.height:,} pixels), more than a "
            f"{width}x{height} photo needs: send it at the photo's size or smaller (at most {limit:,} pixels).")
    if abs(image.width / image.height - width / height) > 0.02 * width / height:
        raise HintsError(f"The hints image is {image.width}x{image.height} but the photo is {width}x{height}; "
                         "it must be the photo's size or a scaled copy of it.")
    try:
        image.load()
    except Exception:
        raise HintsError("The hints file is not an image we can read; send a PNG with transparency.") from None
    if "A" not in image.getbands() and "transparency" not in image.info:
        raise HintsError("The hints image has no transparency: paint the strokes on a transparent PNG.")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    target_height, target_width = working_size(size)
    if rgba.width * rgba.height <= target_width * target_height:
        return np.asarray(rgba)
    # Stroke pixels fully opaque, the rest fully transparent; Pillow's resize weights colour by alpha, so each
    # working pixel gets the mean colour of the stroke pixels it covers and their share as its alpha.
    rgba.putalpha(rgba.getchannel("A").point(lambda alpha: 255 if alpha >= OPAQUE else 0))
    reduced = np.array(rgba.resize((target_width, target_height), Image.BOX))
    del rgba, image
    reduced[..., 3] = np.where(reduced[..., 3] >= round(MIN_COVERAGE * 255), 255, 0)
    return reduced


def check_stroke_points(strokes: list[Stroke] | tuple[Stroke, ...]) -> None:
    """Raises HintsError when a stroke has more than MAX_STROKE_POINTS points or all of them more than MAX_POINTS."""
    total = 0
    for number, stroke in enumerate(strokes, 1):
        count = len(stroke.points)
        if count > MAX_STROKE_POINTS:
            raise HintsError(f"Stroke {number} has {count:,} points; a stroke may have at most "
                             f"{MAX_STROKE_POINTS:,}. Draw it as several shorter strokes.")
        total += count
    if total > MAX_POINTS:
        raise HintsError(f"The strokes have {total:,} points in all; the limit is {MAX_POINTS:,}. Clear some "
                         "strokes (or apply fewer at once) and try again.")


def draw_strokes(strokes: list[Stroke] | tuple[Stroke, ...], size: tuple[int, int]) -> np.ndarray:
    """The strokes painted on a transparent RGBA uint8 image of size (height, width), later strokes on top.

    Raises HintsError for more points than MAX_STROKE_POINTS in a stroke or MAX_POINTS in all."""
    check_stroke_points(strokes)
    height, width = size
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        colour = (*(int(channel) for channel in stroke.rgb), 255)
        # A brush wider than twice the photo paints no more than one that wide (and none is infinite).
        diameter = max(1, round(min(stroke.width, 2 * max(size))) if math.isfinite(stroke.width) else 1)
        points = [(float(x), float(y)) for x, y in stroke.points]
        if len(points) > 1:
            draw.line(points, fill=colour, width=diameter, joint="curve")
        radius = diameter / 2
        for x, y in points:  # round caps and joints, and a dot for a single click
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    return np.asarray(canvas)


def resize_hints(hints: Hints, size: tuple[int, int]) -> Hints:
    """Hints at size (height, width): a pixel is a stroke pixel when strokes cover at least MIN_COVERAGE of it,
    and takes the covered area's mean chroma (area averaging, so thin strokes survive a downscale)."""
    if hints.size == tuple(size):
        return hints
    coverage = resize_plane(hints.mask.astype(np.float32), size, Image.BOX)
    weighted = resize_plane(hints.chroma * hints.mask[..., None], size, Image.BOX)
    mask = coverage >= MIN_COVERAGE
    chroma = np.zeros(tuple(size) + (2,), np.float32)
    chroma[mask] = weighted[mask] / coverage[mask][:, None]
    return Hints(mask, chroma)


def working_size(size: tuple[int, int], working_side: int = WORKING_SIDE) -> tuple[int, int]:
    """(height, width) with the long side at most `working_side`, keeping the aspect ratio."""
    height, width = size
    scale = min(1.0, working_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def touch_up_chroma(
    lightness: np.ndarray,
    hints: Hints,
    start_chroma: np.ndarray | None = None,
    working_side: int = WORKING_SIDE,
    data_weight: float = DATA_WEIGHT,
) -> np.ndarray:
    """Chroma a/b float32 at the working size where the strokes' colours spread through regions of similar
    lightness and the rest keeps `start_chroma`.

    lightness: float (H, W) in [0, 100], the photo at full size. hints: strokes at any size (scaled to the working
    size). start_chroma: a/b (h, w, 2) at any size, or None for a gray start (then colour spreads from the strokes
    alone, as in Levin et al.). With no stroke pixels, `start_chroma` comes back unchanged (gray if None).
    """
    lightness = np.asarray(lightness, dtype=np.float32)
    if lightness.ndim != 2:
        raise ValueError(f"lightness must have shape (H, W), got {lightness.shape}")
    if start_chroma is not None and (start_chroma.ndim != 3 or start_chroma.shape[-1] != 2):
        raise ValueError(f"start_chroma must have shape (h, w, 2), got {start_chroma.shape}")
    size = working_size(lightness.shape, working_side)
    if hints.is_empty:
        return start_chroma if start_chroma is not None else np.zeros(size + (2,), np.float32)
    hints = resize_hints(hints, size)
    start = (resize_plane(start_chroma, size) if start_chroma is not None
             else np.zeros(size + (2,), np.float32))
    if hints.is_empty:  # every stroke was too thin to cover a working pixel
        return start_chroma if start_chroma is not None else start
    from .touchup_solver import levin_laplacian, solve_change  # scipy's sparse solvers: only when a touch-up runs

    laplacian = levin_laplacian(resize_plane(lightness, size))
    change = solve_change(laplacian, hints.mask.ravel(), (hints.chroma - start).reshape(-1, 2)[hints.mask.ravel()],
                          data_weight if start_chroma is not None else 0.0, size)
    return (start + change.reshape(size + (2,))).astype(np.float32)


class ScribbleColorizer:
    """The by-hand model ("scribble"): gray everywhere; the registry spreads the strokes (its `hints` option) from
    there, with no model's colours to keep."""

    def predict_chroma(self, lightness: np.ndarray, **options) -> tuple[np.ndarray, dict]:
        return np.zeros(working_size(np.shape(lightness)) + (2,), np.float32), {}
