"""Quantised a/b chroma for the classification head (after Zhang, Isola and Efros 2016).

Chroma is predicted as a distribution over bins of a 10-unit a/b grid (the bins that exist in the sRGB gamut).
Targets are soft: each pixel spreads over its 5 nearest bins with a Gaussian of sigma 5 (built in the training
loss, `train_cnn.make_loss`). Rare, saturated bins are up-weighted by rebalancing against the training prior, and
a distribution becomes one colour by the annealed mean (softmax of logits / T, in `cnn.CNNColorizer`), which keeps
colour vivid without the noise of taking the mode.
"""
from __future__ import annotations

import numpy as np

from .color import AB_SCALE, RELATIVE_XYZ_TO_RGB, lightness_to_luminance, linear_to_srgb, rgb_to_lab

GRID_STEP = 10.0
SOFT_NEIGHBOURS = 5
SOFT_SIGMA = 5.0
_CHUNK = 65536


def gamut_bins(step: float = GRID_STEP) -> np.ndarray:
    """Centres (Q, 2) float32 of the a/b grid cells that hold an sRGB colour at some lightness."""
    centres = np.arange(-AB_SCALE + step / 2, AB_SCALE, step, dtype=np.float32)
    grid = np.stack(np.meshgrid(centres, centres, indexing="ij"), axis=-1).reshape(-1, 2)
    lightness = np.linspace(1.0, 99.0, 50, dtype=np.float32)
    # A bin is in gamut when some point of its cell survives Lab -> sRGB -> Lab nearly unchanged.
    offsets = np.array([[0, 0], [-0.4, -0.4], [-0.4, 0.4], [0.4, -0.4], [0.4, 0.4]], dtype=np.float32) * step
    keep = np.zeros(len(grid), dtype=bool)
    for offset in offsets:
        points = grid + offset
        lab = np.concatenate(
            [np.repeat(lightness[:, None, None], len(grid), axis=1), np.broadcast_to(points, (len(lightness), *points.shape))],
            axis=-1,
        )
        keep |= _in_gamut(lab).any(axis=0)
    return grid[keep]


def _in_gamut(lab: np.ndarray) -> np.ndarray:
    round_trip = rgb_to_lab(_clipped_lab_to_rgb(lab))
    return np.abs(round_trip[..., 1:] - lab[..., 1:]).max(axis=-1) < 3.0


def _clipped_lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (..., 3) to sRGB uint8 with R, G, B clipped (not `lab_to_rgb`, which keeps lightness by giving up
    chroma): the test the shipped networks' bins were chosen by, so their output layers keep their size."""
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16.0) / 116.0
    xyz = np.stack([lightness_to_luminance(116.0 * (fy + a / 500.0) - 16.0), lightness_to_luminance(lightness),
                    lightness_to_luminance(116.0 * (fy - b / 200.0) - 16.0)], axis=-1)
    return linear_to_srgb(xyz @ RELATIVE_XYZ_TO_RGB.T)


def nearest_bin(chroma: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Index of the nearest bin for each chroma (..., 2)."""
    flat = chroma.reshape(-1, 2)
    nearest = np.empty(len(flat), dtype=np.int64)
    for start in range(0, len(flat), _CHUNK):  # bounded memory for millions of pixels
        part = flat[start : start + _CHUNK]
        nearest[start : start + _CHUNK] = ((part[:, None, :] - bins[None]) ** 2).sum(axis=-1).argmin(axis=1)
    return nearest.reshape(chroma.shape[:-1])


def rebalancing_weights(bin_counts: np.ndarray, bins: np.ndarray, mix: float = 0.5, sigma: float = 5.0) -> np.ndarray:
    """Per-bin loss weights (Q,) float32: inverse of the smoothed prior mixed with uniform, mean 1 under the prior."""
    prior = bin_counts / max(bin_counts.sum(), 1)
    distance = ((bins[:, None, :] - bins[None]) ** 2).sum(axis=-1)
    smoothing = np.exp(-distance / (2 * sigma**2))
    smoothed = smoothing @ prior
    smoothed /= smoothed.sum()
    weights = 1.0 / ((1.0 - mix) * smoothed + mix / len(bins))
    weights /= (smoothed * weights).sum()
    return weights.astype(np.float32)
