"""Exemplar colour by content: every part of the gray photo takes the colour of what it looks like in the references.

Welsh (2002) matches pixels by lightness and local texture, so a red chair and a gray wall of the same lightness
look alike to it. Here the photo and the references are described by the frozen ImageNet layers of MobileNetV2 (the
CNN's encoder up to block_13, exported once by `make export` to `weights/exemplar_features.onnx`, free spatial
size), and matched coarse to fine:

1. At 1/16 of the working size, every target position is compared (cosine) with every position of every
   reference (one to five), on ImageNet features of two depths; it keeps its COARSE_MATCHES best.
2. At 1/8 and then 1/4, each target position looks only at the children of its parent's best matches, scored by
   finer features plus the parent's score; at 1/4 the lightness (the reference's remapped to the target's mean
   and spread, as Welsh does) joins the score, so colour follows light and dark within a matched region.
3. a/b is the softmax-weighted average over the finest candidates. The best coarse cosine is the position's
   confidence; where the references have nothing alike, the CNN's colour takes over (`details` says how much).
4. Edge-aware upsampling (a fast guided filter, He and Sun 2015, guided by the photo's own lightness) brings a/b
   from the 1/4 grid to the output size, so colour stops at edges; the chroma merge joins it with the
   full-resolution lightness.

Chosen references are matched at once; "Suggest for me" averages the colourings of the five nearest (measured
best on the foreign split). Parameters were chosen there too: weights/MODEL_CARD.md, "Match by content".

Conventions: lightness float32 (H, W) in [0, 100]; chroma a/b float32 (h, w, 2); references sRGB uint8 (h, w, 3).
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .color import encoder_input, resize_plane, rgb_to_lab
from .onnx_model import inference_session, run
from .reference_transfer import AUTO, Reference, is_auto, reference_details, resolve_references
from .suggestion import OwnReference, reference_rgb, suggested_references

log = logging.getLogger(__name__)

# The layers `make export` writes, by output name: 1/4, 1/8 and 1/16 of the input (all still ImageNet's weights).
FINE_LAYER, MID_LAYER, COARSE_LAYER = "block_3_expand_relu", "block_6_expand_relu", "block_13_expand_relu"
# Long side of the working size the features are computed at (a multiple of 16).
WORKING_SIDE = 448
# How much the 1/8 features count beside the 1/16 ones in the coarse descriptor.
MID_WEIGHT = 0.7
# References "auto" takes: the photos most alike in content (each colours the photo; the results are averaged).
SUGGESTED_COUNT = 5
COARSE_MATCHES = 8
FINE_MATCHES = 8
# Weight of a level's own cosine against its parent's score.
LEVEL_WEIGHT = 0.5
# Lightness difference (L* units, after remapping) that costs as much as one unit of score.
LIGHTNESS_SCALE = 40.0
TEMPERATURE = 0.02
# Confidence (the best coarse cosine) below LOW is all CNN, above HIGH all exemplar.
CONFIDENCE_LOW, CONFIDENCE_HIGH = 0.7, 0.8
# Guided filter at the 1/4 grid: radius in grid cells and regularisation in squared L* units.
GUIDE_RADIUS = 1
GUIDE_EPSILON = 4.0
# The chroma is made at most this many pixels (the merge brings it to the photo's size).
MAX_OUTPUT_PIXELS = 2_000_000
_CHUNK = 4096
# References whose pyramids are kept (a visitor colours many photos from the same few references).
_KEPT_REFERENCES = 8


class ExemplarColorizer:
    """The registry's `exemplar` model: colour from one to five references, matched by content."""

    def __init__(self, onnx_path: Path):
        self.network = FeatureNetwork(onnx_path)
        self._kept: OrderedDict[bytes, Pyramid] = OrderedDict()
        self._kept_lock = threading.Lock()
        log.info("Exemplar features loaded from %s", onnx_path)

    def predict_chroma(
        self,
        lightness: np.ndarray,
        reference: Reference | Sequence[Reference] | None = AUTO,
        own_references: Sequence[OwnReference] = (),
        **_unused,
    ) -> tuple[np.ndarray, dict]:
        """Chroma (h, w, 2) at the photo's size (at most MAX_OUTPUT_PIXELS) for lightness (H, W).

        reference: sRGB uint8 (h, w, 3), a gallery or library name, a list of up to five of those, or "auto" (the
        photos most alike in content among the library and the visitor's `own_references`)."""
        suggested = is_auto(reference) and suggested_references(lightness, SUGGESTED_COUNT, own_references)
        if suggested:
            references = [reference_rgb(photo) for photo in suggested]
            details = {"reference": suggested[0].name, "references": ",".join(photo.name for photo in suggested)}
        else:  # chosen references, or no library here (auto then takes the gallery photo of alike lightness)
            references, names = zip(*resolve_references(reference, lightness))
            details = reference_details(list(names))
        target = self.network.pyramid(lightness)
        pyramids = [self._reference_pyramid(rgb) for rgb in references]
        # Chosen references are matched at once (each part of the photo takes its best match among them all);
        # suggested ones each colour the photo and the results are averaged: a suggestion is often wrong
        # somewhere, and averaging keeps what they agree on (measured on the foreign split: weights/MODEL_CARD.md).
        groups = [[pyramid] for pyramid in pyramids] if suggested else [pyramids]
        matched = [correspond(target, group) for group in groups]
        weights = [fallback_weight(confidence) for _, confidence in matched]
        share = float(np.mean(weights))
        cnn_chroma = _cnn_chroma(lightness, target.lightness.shape) if share > 0.0 else None
        chroma = np.zeros_like(matched[0][0])
        for (group_chroma, _), weight in zip(matched, weights):
            if cnn_chroma is not None:
                group_chroma += weight[..., None] * (cnn_chroma - group_chroma)
            chroma += group_chroma / np.float32(len(matched))
        if cnn_chroma is None:
            share = 0.0
        details["cnn_share"] = round(share, 3)
        if share >= 0.005:
            details["fallback"] = (f"{share:.0%} of the photo looks like nothing in the references: "
                                   "the CNN's colour was used there.")
        return guided_upsample(target.lightness, chroma, output_lightness(lightness)), details

    def _reference_pyramid(self, rgb: np.ndarray) -> Pyramid:
        key = hashlib.sha1(np.ascontiguousarray(rgb).data).digest() + bytes(str(rgb.shape), "ascii")
        with self._kept_lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        pyramid = self.network.reference_pyramid(rgb)
        with self._kept_lock:
            self._kept[key] = pyramid
            while len(self._kept) > _KEPT_REFERENCES:
                self._kept.popitem(last=False)
        return pyramid

    def forget_references(self) -> None:
        """Drop the kept reference pyramids (benchmarks time every reference as new)."""
        with self._kept_lock:
            self._kept.clear()


def _cnn_chroma(lightness: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """The CNN's a/b for the photo at `size`, or None when the CNN is not installed."""
    from .registry import get_model, model_info  # the registry imports this module

    if not model_info("cnn").is_available:
        return None
    return resize_plane(get_model("cnn").predict_chroma(lightness)[0], size)


def load_colorizer(weights_path: Path) -> ExemplarColorizer:
    return ExemplarColorizer(weights_path)


@dataclass(frozen=True)
class Level:
    """Unit-length descriptors of one photo at one scale: float32 (h, w, D)."""

    descriptors: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.descriptors.shape[:2]


@dataclass(frozen=True)
class Pyramid:
    """A photo described at 1/16, 1/8 and 1/4 of its working size, with lightness (and, for a reference, a/b)
    on the 1/4 grid."""

    levels: tuple[Level, Level, Level]  # coarse (1/16), mid (1/8), fine (1/4)
    lightness: np.ndarray  # float32 (h4, w4)
    chroma: np.ndarray | None = None  # float32 (h4, w4, 2)


def working_size(shape: tuple[int, int], side: int = WORKING_SIDE) -> tuple[int, int]:
    """(height, width), multiples of 16, with the long side `side` and about the photo's aspect ratio."""
    height, width = shape
    scale = side / max(height, width)
    return max(16, round(height * scale / 16) * 16), max(16, round(width * scale / 16) * 16)


def _unit(values: np.ndarray) -> np.ndarray:
    return values / np.maximum(np.linalg.norm(values, axis=-1, keepdims=True), 1e-6)


def _pool(values: np.ndarray, factor: int) -> np.ndarray:
    """Mean over factor x factor blocks of (h, w, ...) (h and w multiples of factor)."""
    height, width = values.shape[:2]
    return values.reshape(height // factor, factor, width // factor, factor, *values.shape[2:]).mean(axis=(1, 3))


class FeatureNetwork:
    """The exported ImageNet layers: gray (1, H, W, 1) in [-1, 1] -> the three feature maps."""

    def __init__(self, onnx_path: Path):
        self.session = inference_session(onnx_path)

    def pyramid(self, lightness: np.ndarray, chroma: np.ndarray | None = None) -> Pyramid:
        """The pyramid of lightness (H, W) (and its chroma (H, W, 2), for a reference) at the working size."""
        size = working_size(lightness.shape)
        small = resize_plane(lightness, size, Image.BOX) if lightness.shape != size else lightness
        maps = run(self.session, gray=encoder_input(small)[None])
        fine, mid, coarse = maps[FINE_LAYER][0], maps[MID_LAYER][0], maps[COARSE_LAYER][0]
        coarse = _unit(np.concatenate([_unit(coarse), MID_WEIGHT * _unit(_pool(mid, 2))], axis=-1))
        levels = (Level(coarse.astype(np.float32)), Level(_unit(mid)), Level(_unit(fine)))
        fine_chroma = None
        if chroma is not None:
            fine_chroma = _pool(resize_plane(chroma, size, Image.BOX), 4).astype(np.float32)
        return Pyramid(levels, _pool(small, 4).astype(np.float32), fine_chroma)

    def reference_pyramid(self, reference_rgb: np.ndarray) -> Pyramid:
        """A colour reference (h, w, 3) uint8, shrunk to its working size first (cheaper than converting it whole)."""
        size = working_size(reference_rgb.shape[:2])
        small = np.asarray(Image.fromarray(reference_rgb).resize(size[::-1], Image.BOX))
        lab = rgb_to_lab(small)
        return self.pyramid(lab[..., 0], lab[..., 1:])


@dataclass
class _Positions:
    """Every position of every reference at one level, flattened: descriptors (N, D) and where each lies."""

    descriptors: np.ndarray
    offsets: np.ndarray  # (R,) index of each reference's first position
    widths: np.ndarray  # (R,)
    heights: np.ndarray  # (R,)
    owner: np.ndarray  # (N,) which reference
    row: np.ndarray  # (N,)
    column: np.ndarray  # (N,)

    @classmethod
    def of(cls, levels: Sequence[Level]) -> "_Positions":
        shapes = np.array([level.shape for level in levels])
        counts = shapes[:, 0] * shapes[:, 1]
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        owner = np.repeat(np.arange(len(levels)), counts)
        local = np.arange(counts.sum()) - offsets[owner]
        widths = shapes[:, 1]
        descriptors = np.concatenate([level.descriptors.reshape(-1, level.descriptors.shape[-1]) for level in levels])
        return cls(descriptors, offsets, widths, shapes[:, 0], owner, local // widths[owner], local % widths[owner])

    def children(self, index: np.ndarray, finer: "_Positions") -> np.ndarray:
        """The 2x2 positions at the finer level under positions `index` (...,) -> (..., 4)."""
        owner, row, column = self.owner[index], self.row[index], self.column[index]
        top = finer.offsets[owner] + 2 * row * finer.widths[owner] + 2 * column
        width = finer.widths[owner]
        return np.stack([top, top + 1, top + width, top + width + 1], axis=-1)


def correspond(target: Pyramid, references: Sequence[Pyramid]) -> tuple[np.ndarray, np.ndarray]:
    """a/b (h4, w4, 2) on the target's 1/4 grid from the references, and the confidence (h4, w4) of each position."""
    coarse = _Positions.of([reference.levels[0] for reference in references])
    target_coarse = target.levels[0].descriptors.reshape(-1, coarse.descriptors.shape[-1])
    similarity = target_coarse @ coarse.descriptors.T
    count = min(COARSE_MATCHES, similarity.shape[1])
    matches = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
    scores = np.take_along_axis(similarity, matches, axis=1)
    # Confidence: how alike the best match is at the coarse, semantic level (finer cosines are high everywhere).
    confidence = np.repeat(np.repeat(scores.max(axis=1).reshape(target.levels[0].shape), 4, axis=0), 4, axis=1)
    parent = coarse
    for depth in (1, 2):
        finer = _Positions.of([reference.levels[depth] for reference in references])
        shape = target.levels[depth].shape
        # The four children of a target position share its candidates: the children of its best matches.
        candidates = parent.children(matches, finer).reshape(len(matches), -1)  # (parents, 4K)
        parent_scores = np.repeat(scores, 4, axis=-1)[:, None, :]
        descriptors = _by_parent(target.levels[depth].descriptors)  # (parents, 4, D)
        scores = np.empty((len(candidates), 4, candidates.shape[1]), np.float32)
        for part in range(0, len(candidates), _CHUNK // 4):
            rows = slice(part, part + _CHUNK // 4)
            cosine = np.matmul(descriptors[rows], finer.descriptors[candidates[rows]].transpose(0, 2, 1))
            scores[rows] = LEVEL_WEIGHT * cosine + (1.0 - LEVEL_WEIGHT) * parent_scores[rows]
        if depth == 2:
            break
        count = min(FINE_MATCHES, scores.shape[-1])
        best = np.argpartition(-scores, count - 1, axis=-1)[..., :count]
        matches = _from_parent(np.take_along_axis(np.broadcast_to(candidates[:, None], scores.shape), best, axis=-1),
                               shape).reshape(-1, count)
        scores = _from_parent(np.take_along_axis(scores, best, axis=-1), shape).reshape(-1, count)
        parent = finer
    scale, offset = _lightness_remap([reference.lightness for reference in references], target.lightness)
    reference_lightness = np.concatenate([reference.lightness.ravel() * s + o
                                          for reference, s, o in zip(references, scale, offset)])
    reference_chroma = np.concatenate([reference.chroma.reshape(-1, 2) for reference in references])
    lightness_gap = np.abs(_by_parent(target.lightness)[..., None] - reference_lightness[candidates][:, None, :])
    total = scores - lightness_gap / LIGHTNESS_SCALE
    weights = np.exp((total - total.max(axis=-1, keepdims=True)) / TEMPERATURE)
    weights /= weights.sum(axis=-1, keepdims=True)
    chroma = np.matmul(weights, reference_chroma[candidates])  # (parents, 4, 2)
    return _from_parent(chroma, target.lightness.shape).astype(np.float32), confidence.astype(np.float32)


def _by_parent(values: np.ndarray) -> np.ndarray:
    """A grid (h, w, ...) as (h/2 * w/2, 4, ...): each position of the coarser grid, row-major, and its 2x2 children."""
    height, width = values.shape[:2]
    rest = values.shape[2:]
    grouped = values.reshape(height // 2, 2, width // 2, 2, *rest).swapaxes(1, 2)
    return grouped.reshape(height // 2 * (width // 2), 4, *rest)


def _from_parent(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The inverse of `_by_parent`: (h/2 * w/2, 4, ...) back to the grid (h, w, ...)."""
    height, width = shape
    rest = values.shape[2:]
    return values.reshape(height // 2, width // 2, 2, 2, *rest).swapaxes(1, 2).reshape(height, width, *rest)


def _lightness_remap(references: Sequence[np.ndarray], target: np.ndarray) -> tuple[list[float], list[float]]:
    """Scale and offset per reference giving its lightness the target's mean and spread (Welsh's remapping)."""
    scales, offsets = [], []
    for lightness in references:
        spread = float(lightness.std())
        scale = float(target.std()) / spread if spread > 1e-6 else 1.0
        scales.append(scale)
        offsets.append(float(target.mean()) - scale * float(lightness.mean()))
    return scales, offsets


def fallback_weight(confidence: np.ndarray) -> np.ndarray:
    """How much of the CNN's colour a position takes: 1 below CONFIDENCE_LOW, 0 above CONFIDENCE_HIGH."""
    return np.clip((CONFIDENCE_HIGH - confidence) / (CONFIDENCE_HIGH - CONFIDENCE_LOW), 0.0, 1.0).astype(np.float32)


def box_mean(plane: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2 radius + 1)^2 window of (h, w) or (h, w, C), edges mirrored."""
    pad = [(radius, radius), (radius, radius)] + [(0, 0)] * (plane.ndim - 2)
    # Running sums in float64: in float32 a sum of squared lightness loses the small variances the filter divides by.
    summed = np.pad(plane.astype(np.float64), pad, mode="symmetric").cumsum(axis=0).cumsum(axis=1)
    summed = np.pad(summed, [(1, 0), (1, 0)] + [(0, 0)] * (plane.ndim - 2))
    window = 2 * radius + 1
    height, width = plane.shape[:2]
    total = (summed[window:window + height, window:window + width] - summed[:height, window:window + width]
             - summed[window:window + height, :width] + summed[:height, :width])
    return (total / np.float32(window * window)).astype(np.float32)


def guided_upsample(guide_small: np.ndarray, chroma_small: np.ndarray, guide: np.ndarray,
                    radius: int = GUIDE_RADIUS, epsilon: float = GUIDE_EPSILON) -> np.ndarray:
    """Fast guided filter (He and Sun 2015): chroma (h, w, 2) on the grid of guide_small (h, w) brought to the size
    of `guide` (H, W) as a locally linear function of the guide, so that colour edges follow lightness edges.
    Returns float32 (H, W, 2)."""
    mean_guide = box_mean(guide_small, radius)
    mean_chroma = box_mean(chroma_small, radius)
    covariance = box_mean(guide_small[..., None] * chroma_small, radius) - mean_guide[..., None] * mean_chroma
    variance = box_mean(guide_small * guide_small, radius) - mean_guide * mean_guide
    slope = covariance / (variance[..., None] + np.float32(epsilon))
    intercept = mean_chroma - slope * mean_guide[..., None]
    slope, intercept = box_mean(slope, radius), box_mean(intercept, radius)
    size = guide.shape
    result = resize_plane(slope, size) * guide[..., None]
    result += resize_plane(intercept, size)
    return result


def output_lightness(lightness: np.ndarray) -> np.ndarray:
    """The lightness the chroma is made at: the photo's own, shrunk (area average) to at most MAX_OUTPUT_PIXELS."""
    height, width = lightness.shape
    scale = np.sqrt(MAX_OUTPUT_PIXELS / (height * width))
    if scale >= 1.0:
        return lightness
    return resize_plane(lightness, (max(1, round(height * scale)), max(1, round(width * scale))), Image.BOX)
