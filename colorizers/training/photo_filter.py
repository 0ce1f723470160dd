"""Tell natural colour photographs from drawings, logos, renders and near-grayscale pictures.

A drawing has few distinct colours, large areas of exactly one colour and hard edges; a photograph
has many colours and sensor noise or texture almost everywhere. The statistics below are measured on
a copy downsampled to at most `ANALYSIS_SIDE` pixels on the long side, so they do not depend much on
the image's resolution. The thresholds were tuned by looking at contact sheets of the training
sources (see `scripts/fetch_data.py`, which writes `data/contact_kept.png` and
`data/contact_rejected.png`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ANALYSIS_SIDE = 256
MIN_SHORT_SIDE = 200
MAX_TRANSPARENT_FRACTION = 0.05  # cut-outs teach nothing about backgrounds; strict on purpose

# Quantisation for the colour counts: 5 bits per channel (32,768 possible colours).
QUANT_SHIFT = 3
TOP_COLOURS = 8

MIN_DISTINCT_COLOURS = 400       # photos: hundreds to thousands; flat drawings: tens to a few hundred
MAX_FLAT_FRACTION = 0.40         # fraction of pixels with (near) zero local gradient
MAX_TOP_COLOURS_FRACTION = 0.55  # share of the image in its TOP_COLOURS most frequent colours
MIN_COLOURFULNESS = 15.0         # Hasler & Suesstrunk (2003); about 15 is "slightly colourful"
FLAT_GRADIENT_LEVEL = 1          # |neighbour difference| <= this (all channels) counts as flat


@dataclass(frozen=True)
class PhotoStatistics:
    """Measurements on the downsampled copy, each in [0, 1] except the colour count and colourfulness."""

    distinct_colours: int
    flat_fraction: float
    top_colours_fraction: float
    colourfulness: float


def downsample_for_analysis(rgb: np.ndarray, max_side: int = ANALYSIS_SIDE) -> np.ndarray:
    """Area-average `rgb` (uint8 HxWx3) so its long side is at most `max_side`; returns uint8 hxwx3."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX), dtype=np.uint8)


def measure(rgb: np.ndarray) -> PhotoStatistics:
    """Measure the statistics the filter decides on, for `rgb` uint8 HxWx3 (any size)."""
    small = downsample_for_analysis(rgb)
    pixels = small.reshape(-1, 3)
    quantised = pixels >> QUANT_SHIFT
    codes = (quantised[:, 0].astype(np.int32) << 10) | (quantised[:, 1].astype(np.int32) << 5) | quantised[:, 2]
    counts = np.bincount(codes, minlength=1 << 15)
    top = np.sort(counts)[::-1][:TOP_COLOURS].sum()
    return PhotoStatistics(
        distinct_colours=int(np.count_nonzero(counts)),
        flat_fraction=_flat_fraction(small),
        top_colours_fraction=float(top) / len(codes),
        colourfulness=colourfulness(small),
    )


def _flat_fraction(rgb: np.ndarray) -> float:
    """Fraction of pixels whose right and lower neighbours differ by at most FLAT_GRADIENT_LEVEL."""
    signed = rgb.astype(np.int16)
    if signed.shape[0] < 2 or signed.shape[1] < 2:
        return 1.0
    horizontal = np.abs(np.diff(signed, axis=1))[:-1].max(axis=2)
    vertical = np.abs(np.diff(signed, axis=0))[:, :-1].max(axis=2)
    flat = (horizontal <= FLAT_GRADIENT_LEVEL) & (vertical <= FLAT_GRADIENT_LEVEL)
    return float(flat.mean())


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk colourfulness of `rgb` uint8 HxWx3: 0 for gray, about 15 slightly, 60+ very colourful."""
    red, green, blue = (rgb[..., channel].astype(np.float64) for channel in range(3))
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = np.hypot(red_green.std(), yellow_blue.std())
    mean = np.hypot(red_green.mean(), yellow_blue.mean())
    return float(spread + 0.3 * mean)


def transparent_fraction(rgba: np.ndarray) -> float:
    """Fraction of pixels with alpha below 128 in `rgba` uint8 HxWx4 (0.0 for HxWx3)."""
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        return 0.0
    return float((rgba[..., 3] < 128).mean())


def is_natural_photo(rgb: np.ndarray) -> tuple[bool, str]:
    """Decide whether `rgb` is a natural colour photograph worth training a colorizer on.

    `rgb`: uint8 HxWx3, or HxWx4 with an alpha channel. Returns (keep, reason): the reason names
    the rule that rejected the image, or summarises the statistics of a kept one.
    Raises ValueError for arrays that are not uint8 HxWx3 or HxWx4.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"expected a uint8 HxWx3 or HxWx4 array, got {rgb.dtype} with shape {rgb.shape}")
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SHORT_SIDE:
        return False, f"too small ({width}x{height}, short side < {MIN_SHORT_SIDE})"
    transparent = transparent_fraction(rgb)
    if transparent > MAX_TRANSPARENT_FRACTION:
        return False, f"transparent areas ({transparent:.0%} of pixels)"
    stats = measure(np.ascontiguousarray(rgb[..., :3]))
    summary = (
        f"colours={stats.distinct_colours} flat={stats.flat_fraction:.2f} "
        f"top{TOP_COLOURS}={stats.top_colours_fraction:.2f} cf={stats.colourfulness:.0f}"
    )
    if stats.colourfulness < MIN_COLOURFULNESS:
        return False, f"near-grayscale: {summary}"
    if stats.distinct_colours < MIN_DISTINCT_COLOURS:
        return False, f"few colours: {summary}"
    if stats.flat_fraction > MAX_FLAT_FRACTION:
        return False, f"flat areas: {summary}"
    if stats.top_colours_fraction > MAX_TOP_COLOURS_FRACTION:
        return False, f"dominant colours: {summary}"
    return True, f"photo: {summary}"
