"""Old prints as they are: a tinted monochrome scan (sepia, cyanotype, a faded or toned print) is not a colour photo.

A tinted print's colour is one tint that depends only on how light a place is: at a given lightness every pixel has
about the same a/b. A colour photo has many hues at the same lightness. So the a/b of the pixels is compared with
the median a/b of their lightness band: when nearly all pixels lie within TINT_SPREAD of it, the photo is a tinted
monochrome, named by the tint's hue.

Conventions: sRGB uint8 (H, W, 3) in; CIELAB a/b of a small copy inside.
"""
from __future__ import annotations

import numpy as np

from .color import rgb_to_lab

# Long side of the copy the tint is measured on (the tint is a property of the whole print).
SAMPLE_SIDE = 128
# Lightness bands (L*) the median tint is taken in; extremes, where a print's chroma is unreliable, are left out.
BANDS = np.arange(8.0, 96.0, 4.0)
# a/b distance (CIELAB units) from its band's median tint that almost every pixel of a tinted print stays within,
# and the share of pixels that must (scanner noise and dust leave a few out). Chosen on the foreign split: none of
# its 65 colour photos is called tinted, and all of 60 tinted copies of them (sepia, cyanotype, green; grain of
# 0, 3 and 6 levels per channel) are (`tests/test_prints.py` keeps a smaller version of that check).
TINT_SPREAD = 5.0
TINT_SHARE = 0.95
# Above this chroma (a/b units, the 95th percentile) no toned print goes: sepia reaches about 30, cyanotype 40.
TINT_MAX_CHROMA = 45.0
# How much the tints of the lightness bands must agree in hue: the length of their chroma-weighted mean direction
# (1: one hue; 0.9: within about 25 degrees).
HUE_AGREEMENT = 0.9
# Below this chroma (a/b units, the 95th percentile) a print is gray, not tinted.
TINT_CHROMA = 3.0
# Hue ranges (degrees of the a/b plane, 0 = +a red, 90 = +b yellow) of the named tints.
PRINT_TINTS = ("sepia", "cyanotype", "tinted")
SEPIA_HUES = (20.0, 110.0)
CYANOTYPE_HUES = (180.0, 300.0)


def print_tint(rgb: np.ndarray) -> str | None:
    """"sepia", "cyanotype" or "tinted" for a tinted monochrome print; None for a colour or a gray photo."""
    lab = rgb_to_lab(_sample(rgb)).reshape(-1, 3)
    lightness, chroma = lab[:, 0], lab[:, 1:]
    kept = (lightness >= BANDS[0]) & (lightness < BANDS[-1])
    if np.count_nonzero(kept) < 64:
        return None
    lightness, chroma = lightness[kept], chroma[kept]
    strongest = np.percentile(np.hypot(chroma[:, 0], chroma[:, 1]), 95)
    if strongest < TINT_CHROMA:
        return None  # gray
    if strongest > TINT_MAX_CHROMA:
        return None  # too vivid for a toned print (a flat red poster is one hue too)
    band = np.digitize(lightness, BANDS) - 1
    tint = np.zeros_like(chroma)
    for index in np.unique(band):
        members = band == index
        tint[members] = np.median(chroma[members], axis=0)
    spread = np.hypot(*(chroma - tint).T)
    if np.mean(spread <= TINT_SPREAD) < TINT_SHARE:
        return None  # several hues at the same lightness: a colour photo
    size = np.hypot(*tint.T)
    direction = np.sum(tint / np.maximum(size, 1e-6)[:, None] * size[:, None], axis=0)
    if np.hypot(*direction) < HUE_AGREEMENT * np.sum(size):
        return None  # one colour per lightness but not one hue (a gradient from one colour to another)
    mean_a, mean_b = np.mean(tint, axis=0)
    hue = float(np.degrees(np.arctan2(mean_b, mean_a)) % 360.0)
    if SEPIA_HUES[0] <= hue <= SEPIA_HUES[1]:
        return "sepia"
    if CYANOTYPE_HUES[0] <= hue <= CYANOTYPE_HUES[1]:
        return "cyanotype"
    return "tinted"


def _sample(rgb: np.ndarray) -> np.ndarray:
    """A copy at most SAMPLE_SIDE long, each pixel the mean of its block: grain and scanner noise average out
    (from every few pixels of a large photo first, so that the copy stays small)."""
    step = max(1, max(rgb.shape[:2]) // (4 * SAMPLE_SIDE))
    rgb = rgb[::step, ::step]
    block = max(1, -(-max(rgb.shape[:2]) // SAMPLE_SIDE))
    height, width = (rgb.shape[0] // block) * block, (rgb.shape[1] // block) * block
    if block == 1 or not height or not width:
        return np.ascontiguousarray(rgb)
    blocks = rgb[:height, :width].reshape(height // block, block, width // block, block, 3)
    return blocks.mean(axis=(1, 3)).round().astype(np.uint8)
