"""Frozen-encoder features, computed once and shared by both trainers.

Both learned models read the same frozen ImageNet feature pyramid (`backbone.feature_pyramid`), so it is run once
per training crop and per validation photo and cached in an .npz file; the CNN decoder and the cGAN generator's
decoder then train from the cache alone, many times faster than running the encoder at every step.

A cache holds, per crop: the pyramid maps `detail`, `mid`, `deep`, `top` (float16), the gray input at half size
`gray_half` (float16, [-1, 1]) and the true chroma at half size `chroma` (float16 a/b).
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from .. import settings
from .backbone import BACKBONE_FILE, feature_pyramid
from ..color import encoder_input, rgb_to_lab
from .data import crops_per_photo, load_photo, random_crop
from .loop import cached, choice_split, gray_baseline, validation_views

log = logging.getLogger(__name__)

PYRAMID_NAMES = ("detail", "mid", "deep", "top")
CACHE_DIR = settings.REPO_ROOT / "checkpoints" / "features"


def half_size(planes: np.ndarray) -> np.ndarray:
    """(..., H, W, C) -> (..., H/2, W/2, C) by 2x2 means (H and W even): the area average of a box resize."""
    *batch, height, width, channels = planes.shape
    return planes.reshape(*batch, height // 2, 2, width // 2, 2, channels).mean(axis=(-4, -2))


def encode_crops(pyramid, crops: list[np.ndarray], batch: int = 32) -> dict[str, np.ndarray]:
    """The cache arrays (see the module docstring) for square sRGB uint8 crops (S, S, 3)."""
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in (*PYRAMID_NAMES, "gray_half", "chroma")}
    for start in range(0, len(crops), batch):
        lab = rgb_to_lab(np.stack(crops[start : start + batch]))
        gray = encoder_input(lab[..., 0])
        for name, values in zip(PYRAMID_NAMES, pyramid.predict_on_batch(gray)):
            arrays[name].append(np.asarray(values).astype(np.float16))
        arrays["gray_half"].append(half_size(gray).astype(np.float16))
        arrays["chroma"].append(half_size(lab[..., 1:]).astype(np.float16))
        if start // batch % 25 == 0:
            log.info("encoded %d / %d crops", start + len(lab), len(crops))
    return {name: np.concatenate(values) for name, values in arrays.items()}


def training_crops(paths: list[Path], total: int, size: int, seed: int) -> list[np.ndarray]:
    """Random multi-scale flipped square crops (size x size) from the training photos."""
    rng = np.random.default_rng(seed)
    photos = [load_photo(path) for path in paths]
    crops = []
    for photo, count in zip(photos, crops_per_photo(photos, total)):
        crops.extend(random_crop(photo, size, rng) for _ in range(count))
    return crops


def _cache_path(kind: str, paths: list[Path], numbers: tuple, cache_dir: Path | None) -> Path:
    """A cache file named by what it was made from (photo names and settings), so a changed split is re-encoded."""
    digest = hashlib.sha256("\n".join([*(path.name for path in paths), *map(str, numbers)]).encode()).hexdigest()[:12]
    return (cache_dir or CACHE_DIR) / f"{kind}_{digest}.npz"


def training_features(paths: list[Path], crops: int, size: int, seed: int, backbone: Path | None = BACKBONE_FILE,
                      cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """Cached encoder features and targets of `crops` random crops of the training photos."""
    path = _cache_path("train", paths, (crops, size, seed, backbone is None), cache_dir)
    return cached(path, lambda: encode_crops(feature_pyramid(size, backbone), training_crops(paths, crops, size, seed)))


def validation_features(paths: list[Path], size: int, backbone: Path | None = BACKBONE_FILE,
                        cache_dir: Path | None = None) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Whole photos squashed to size x size (as served) and their cached features."""
    views = validation_views(paths, size)
    path = _cache_path("views", paths, (size, backbone is None), cache_dir)
    return views, cached(path, lambda: encode_crops(feature_pyramid(size, backbone), views))


def held_out_splits(validation: dict[str, list[Path]], size: int, backbone: Path | None = BACKBONE_FILE,
                    cache_dir: Path | None = None) -> tuple[dict, str, dict]:
    """For both trainers: each held-out split's (views, cached features), the split the choice is made on
    (`loop.choice_split`: the foreign one), and each split's gray baseline (logged)."""
    splits = {name: validation_features(paths, size, backbone, cache_dir) for name, paths in validation.items() if paths}
    grays = {name: gray_baseline(views) for name, (views, _) in splits.items()}
    for name, gray in grays.items():
        log.info("gray baseline on %s at model size: PSNR %.2f dB, dCF %.1f", name, gray["psnr"], gray["dcf"])
    return splits, choice_split(splits), grays
