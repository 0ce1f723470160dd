"""Measure ways of choosing and combining Welsh references, and CNN blends, on held-out photos.

    .venv/bin/python scripts/tune_suggestion.py [--split foreign] [--side 512] [--k 5]

For every photo of the split (long side --side): the gray photo's content embedding ranks the reference library
(training photos only), then each way below colours it and is scored against the truth (PSNR, colourfulness gap
dCF, mean over photos). None of the choices looks at the truth. The table goes into weights/MODEL_CARD.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers import registry, welsh  # noqa: E402
from colorizers.color import merge_chroma, resize_plane, rgb_to_lightness  # noqa: E402
from colorizers.library import library, load_library_photo  # noqa: E402
from colorizers.metrics import colourfulness, psnr  # noqa: E402
from colorizers.references import load_gallery_photo, suggest_references  # noqa: E402
from colorizers.training.evaluation import validation_photos  # noqa: E402

BLEND_WEIGHTS = (0.3, 0.5, 0.7)


def variants(lightness: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Chroma of every way of colouring one photo, by name."""
    cnn = registry.get_model("cnn")
    size = lightness.shape
    cnn_chroma = resize_plane(cnn.predict_chroma(lightness)[0], size)
    ranked = library().nearest(cnn.embed(lightness), k)
    references = [load_library_photo(photo.file) for photo, _ in ranked]
    each = [welsh.transfer_chroma(lightness, reference) for reference in references]
    found = {
        "gray": np.zeros((*size, 2), np.float32),
        "welsh, old suggestion (20 gallery photos, lightness statistics)":
            welsh.transfer_chroma(lightness, load_gallery_photo(suggest_references(lightness, 1)[0][0])),
        "welsh, nearest by content": each[0],
        "cnn": cnn_chroma,
    }
    for count in (3, k):
        average = np.mean(each[:count], axis=0)
        found[f"welsh, a/b averaged over the {count} nearest"] = average
        found[f"welsh, one transfer from the {count} nearest pooled"] = welsh.transfer_chroma(lightness, references[:count])
        agreement = [np.mean(np.abs(chroma - cnn_chroma)) for chroma in each[:count]]
        found[f"welsh, of the {count} nearest the one closest to the cnn"] = each[int(np.argmin(agreement))]
        for weight in BLEND_WEIGHTS:
            found[f"blend: {weight} cnn + {1 - weight:.1f} average of {count}"] = weight * cnn_chroma + (1 - weight) * average
    pooled = found[f"welsh, one transfer from the {k} nearest pooled"]
    for weight in BLEND_WEIGHTS:
        found[f"blend: {weight} cnn + {1 - weight:.1f} pooled {k}"] = weight * cnn_chroma + (1 - weight) * pooled
    if registry.model_info("exemplar").is_available:
        found.update(exemplar_variants(lightness, references, cnn_chroma))
    return found


def exemplar_variants(lightness: np.ndarray, references: list[np.ndarray], cnn_chroma: np.ndarray
                      ) -> dict[str, np.ndarray]:
    """The exemplar engine (colour by content) on the nearest library photos, alone and blended with the CNN."""
    exemplar = registry.get_model("exemplar")
    size = lightness.shape
    found = {}
    for count in (1, 3, len(references)):
        chroma = resize_plane(exemplar.predict_chroma(lightness, reference=references[:count])[0], size)
        found[f"exemplar, the {count} nearest matched at once"] = chroma
        for weight in BLEND_WEIGHTS:
            found[f"blend: {weight} cnn + {1 - weight:.1f} exemplar of {count}"] = (
                weight * cnn_chroma + (1 - weight) * chroma)
    each = [resize_plane(exemplar.predict_chroma(lightness, reference=reference)[0], size) for reference in references]
    found[f"exemplar, a/b averaged over the {len(references)} nearest"] = np.mean(each, axis=0)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="foreign")
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--k", type=int, default=5)
    arguments = parser.parse_args(argv)
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    photos = validation_photos(max_side=arguments.side, split=arguments.split)
    started = time.perf_counter()
    for name, truth in photos:
        lightness = rgb_to_lightness(truth)
        truth_cf = colourfulness(truth)
        for label, chroma in variants(lightness, arguments.k).items():
            result = merge_chroma(lightness, chroma)
            scores[label].append((psnr(result, truth), abs(colourfulness(result) - truth_cf)))
    print(f"{arguments.split} split: {len(photos)} photos, long side {arguments.side} px "
          f"({time.perf_counter() - started:.0f} s)\n\n| way | PSNR dB | dCF |\n|---|---:|---:|")
    for label, values in scores.items():
        mean = np.mean(values, axis=0)
        print(f"| {label} | {mean[0]:.2f} | {mean[1]:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
