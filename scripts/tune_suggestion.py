"""Measure (and choose the weights of) the automatic reference suggestion for Welsh, on training photos.

For N training photos that are not in the gallery (held-out validation photos are never used), colour each with
every gallery photo and score PSNR and colourfulness gap against the truth; then, for each weighting of the
signature's parts, see which reference the suggestion would pick and how good that pick is, against the best
possible pick (oracle) and the average pick (random). Usage: python scripts/tune_suggestion.py [--photos 40]
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colorizers import references, welsh  # noqa: E402
from colorizers.color import lab_to_rgb, rgb_to_lightness  # noqa: E402
from colorizers.metrics import colourfulness, psnr  # noqa: E402
from colorizers.training.data import load_photo, split_files  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--side", type=int, default=256)
    arguments = parser.parse_args()
    gallery = references.gallery()
    gallery_stems = {photo.file.stem for photo in gallery}
    rng = np.random.default_rng(0)
    candidates = [path for path in split_files("train") if path.stem not in gallery_stems]
    chosen = [candidates[index] for index in sorted(rng.choice(len(candidates), arguments.photos, replace=False))]
    gallery_rgb = [references.load_gallery_photo(photo.name) for photo in gallery]
    gallery_parts = [parts(rgb_to_lightness(rgb)) for rgb in gallery_rgb]
    quality = np.zeros((len(chosen), len(gallery), 2))
    distances = np.zeros((len(chosen), len(gallery), 3))
    for row, path in enumerate(chosen):
        truth = load_photo(path, arguments.side)
        lightness = rgb_to_lightness(truth)
        target_parts = parts(lightness)
        for column, reference in enumerate(gallery_rgb):
            result = welsh.colorize(lightness, reference)
            quality[row, column] = psnr(result, truth), abs(colourfulness(result) - colourfulness(truth))
            distances[row, column] = part_distances(target_parts, gallery_parts[column])
    print(f"{len(chosen)} training photos x {len(gallery)} references, long side {arguments.side}")
    print(f"oracle (best PSNR pick): PSNR {quality[..., 0].max(axis=1).mean():.2f}")
    print(f"random pick (mean):      PSNR {quality[..., 0].mean():.2f}, dCF {quality[..., 1].mean():.1f}")
    results = []
    for deviation_weight, layout_weight in itertools.product([0, 0.5, 1, 2], [0, 1, 4, 16, 64]):
        weights = np.array([1.0, deviation_weight, layout_weight])
        picks = (distances * weights).sum(axis=-1).argmin(axis=1)
        picked = quality[np.arange(len(chosen)), picks]
        results.append((picked[:, 0].mean(), picked[:, 1].mean(), deviation_weight, layout_weight))
    for psnr_mean, dcf_mean, deviation_weight, layout_weight in sorted(results, reverse=True)[:8]:
        print(f"deviation x{deviation_weight:<4} layout x{layout_weight:<4}: PSNR {psnr_mean:.2f}, dCF {dcf_mean:.1f}")
    return 0


def parts(lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    vector = references.signature(lightness)
    lightness_bins = len(references._LIGHTNESS_BINS) - 1
    deviation_bins = len(references._DEVIATION_BINS) - 1
    return vector[:lightness_bins], vector[lightness_bins : lightness_bins + deviation_bins], vector[lightness_bins + deviation_bins :]


def part_distances(first, second) -> np.ndarray:
    chi = [0.5 * float(np.sum((a - b) ** 2 / (a + b + 1e-9))) for a, b in zip(first[:2], second[:2])]
    return np.array([chi[0], chi[1], float(np.mean((first[2] - second[2]) ** 2))])


if __name__ == "__main__":
    sys.exit(main())
