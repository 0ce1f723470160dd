"""Train the scratch detector on this CPU: `python -m colorizers.training.train_scratches` (`make train-scratches`).

Training pairs come from the Restore evaluation's own generator (`restore_evaluation.make_scan`: thin straight or
slightly curved scratches 1-3 px wide, bright or dark, dust, clumped grain, half the prints sepia) drawn over
**train-split** photos (long side LONG_SIDES px), each photo scanned `--scans-per-photo` times under other names than
the evaluation's (so other defects), cut into square crops (most around a scratch, the rest anywhere). The input is
the scan's lightness as read back from its sRGB pixels; the targets are the pixels where scratches and dust were
drawn. The foreign split (the evaluation's photos) is never read. Every `--eval-every` steps the network is scored
on whole scans of the **val** split (precision and recall of the scratch and dust pixels at a probability of 0.5)
and saved; at the end the snapshot with the best scratch F1 on val is exported to weights/scratch_detector.onnx.
Re-running resumes from the latest checkpoint; everything is logged to checkpoints/scratches/train.log.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import settings
from ..restore import LEVELS_PER_L
from ..scratch_detector import SIZE_MULTIPLE, WEIGHTS_FILE
from .data import load_photo
from .loop import cached, command_line, export_snapshot, record_val_choice, train_with_snapshots
from .restore_evaluation import MAX_SIDE, make_scan

log = logging.getLogger("colorizers.training.train_scratches")

LONG_SIDES = (400, 640)  # the photos' long side (px) before scanning, uniform in this range
CROPS_PER_SCAN = 6
NEAR_SCRATCH_SHARE = 2 / 3  # of the crops, centred on a pixel of a scratch (when the scan's part holds one)
SCRATCH_BIT, DUST_BIT = 1, 2


@dataclass
class Settings:
    crop: int = 128
    scans_per_photo: int = 6  # 3 (5,328 crops) reached a scratch F1 of 0.67 on val in 1,200 steps; 6, 0.80 in 3,600
    steps: int = 3600
    batch: int = 16
    learning_rate: float = 2e-3
    positive_weight: float = 4.0  # a defect pixel's weight in the cross-entropy (they are about 2% of the pixels)
    eval_every: int = 600
    seed: int = 0
    out: Path = settings.REPO_ROOT / "checkpoints" / "scratches"


def scan_crops(photo: np.ndarray, name: str, sepia: bool, crop: int, count: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`count` square crops of the photo's scan (made under `name`): lightness as 8-bit levels (count, crop, crop)
    uint8 and the targets (count, crop, crop) uint8 (SCRATCH_BIT where a scratch was drawn, DUST_BIT dust)."""
    scan = make_scan(name, photo, sepia)
    levels = np.clip(scan.lightness * LEVELS_PER_L + 0.5, 0, 255).astype(np.uint8)
    scratches = np.zeros(levels.shape, bool)
    for scratch in scan.scratches:
        scratches |= scratch.pixels
    targets = scratches.astype(np.uint8) * SCRATCH_BIT + scan.dust.astype(np.uint8) * DUST_BIT
    crops = square_crops(np.stack([levels, targets], axis=-1), scratches, crop, count, NEAR_SCRATCH_SHARE, rng)
    return crops[..., 0], crops[..., 1]


def square_crops(planes: np.ndarray, near: np.ndarray, crop: int, count: int, share: float,
                 rng: np.random.Generator) -> np.ndarray:
    """`count` square crops (count, crop, crop, ...) of planes (H, W, ...), mirrored out to at least `crop` px;
    about `share` of them hold a pixel of `near` (bool (H, W)) a quarter to three quarters of the way in."""
    height, width = planes.shape[:2]
    pad = ((0, max(0, crop - height)), (0, max(0, crop - width))) + ((0, 0),) * (planes.ndim - 2)
    planes = np.pad(planes, pad, mode="symmetric")
    height, width = planes.shape[:2]
    rows, columns = np.nonzero(near)
    chosen = []
    for _ in range(count):
        if len(rows) and rng.random() < share:
            pick = rng.integers(len(rows))
            top = int(np.clip(rows[pick] - rng.integers(crop // 4, 3 * crop // 4), 0, height - crop))
            left = int(np.clip(columns[pick] - rng.integers(crop // 4, 3 * crop // 4), 0, width - crop))
        else:
            top, left = int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))
        chosen.append(planes[top:top + crop, left:left + crop])
    return np.stack(chosen)


def training_pairs(paths: list[Path], crop: int, seed: int, scans_per_photo: int) -> dict[str, np.ndarray]:
    """Crops of synthetic scans of the (train-split) photos: {"levels", "targets"}, uint8 (N, crop, crop) each."""
    rng = np.random.default_rng(seed)
    inputs, outputs = [], []
    for index, path in enumerate(paths):
        for scan in range(scans_per_photo):
            photo = load_photo(path, int(rng.integers(LONG_SIDES[0], LONG_SIDES[1] + 1)))
            levels, targets = scan_crops(photo, f"train:{path.name}:{seed}:{scan}", bool(rng.random() < 0.5), crop,
                                         CROPS_PER_SCAN, rng)
            inputs.append(levels)
            outputs.append(targets)
        if (index + 1) % 50 == 0:
            log.info("training pairs: %d of %d photos", index + 1, len(paths))
    return {"levels": np.concatenate(inputs), "targets": np.concatenate(outputs)}


def validation_scans(paths: list[Path]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Whole scans of the (val-split) photos at the evaluation's size: (lightness float32 (H, W), targets uint8)."""
    scans = []
    for index, path in enumerate(paths):
        scan = make_scan(f"val:{path.name}", load_photo(path, MAX_SIDE), sepia=index % 2 == 1)
        scratches = np.zeros(scan.lightness.shape, bool)
        for scratch in scan.scratches:
            scratches |= scratch.pixels
        scans.append((scan.lightness, scratches.astype(np.uint8) * SCRATCH_BIT + scan.dust.astype(np.uint8) * DUST_BIT))
    return scans


def make_loss(positive_weight: float):
    import tensorflow as tf

    def loss(targets, logits):
        """Cross-entropy of both outputs, a defect pixel weighted `positive_weight` times."""
        return tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(targets, logits, positive_weight))

    return loss


def batch_of(pairs: dict[str, np.ndarray], chosen: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lightness (B, S, S, 1) float32 in [0, 100] and targets (B, S, S, 2) float32, each crop turned a random
    quarter and perhaps mirrored (a scratch runs any way)."""
    lightness, targets = [], []
    for index in chosen:
        turns, mirror = int(rng.integers(4)), bool(rng.random() < 0.5)
        levels, target = np.rot90(pairs["levels"][index], turns), np.rot90(pairs["targets"][index], turns)
        if mirror:
            levels, target = levels[:, ::-1], target[:, ::-1]
        lightness.append(levels.astype(np.float32) / LEVELS_PER_L)
        targets.append(np.stack([(target & SCRATCH_BIT) > 0, (target & DUST_BIT) > 0], axis=-1))
    return np.stack(lightness)[..., None], np.stack(targets).astype(np.float32)


def predict(model, lightness: np.ndarray) -> np.ndarray:
    """Probabilities (H, W, 2) for a whole lightness (H, W), padded to SIZE_MULTIPLE as served."""
    height, width = lightness.shape
    padded = np.pad(lightness, ((0, -height % SIZE_MULTIPLE), (0, -width % SIZE_MULTIPLE)), mode="symmetric")
    logits = model.predict_on_batch(padded[None, :, :, None].astype(np.float32))[0, :height, :width]
    return 1.0 / (1.0 + np.exp(-logits))


def score(model, scans: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Precision, recall and F1 of the scratch and dust pixels at a probability of 0.5, over all the scans."""
    counts = np.zeros((2, 3))  # per output: true positives, predicted, actual
    for lightness, targets in scans:
        probability = predict(model, lightness)
        for index, bit in enumerate((SCRATCH_BIT, DUST_BIT)):
            predicted, actual = probability[..., index] > 0.5, (targets & bit) > 0
            counts[index] += (np.count_nonzero(predicted & actual), np.count_nonzero(predicted), np.count_nonzero(actual))
    scores = {}
    for index, name in enumerate(("scratch", "dust")):
        hits, predicted, actual = counts[index]
        precision, recall = hits / max(predicted, 1), hits / max(actual, 1)
        scores |= {f"{name}_precision": float(precision), f"{name}_recall": float(recall),
                   f"{name}_f1": float(2 * precision * recall / max(precision + recall, 1e-9))}
    return scores


def describe(record: dict) -> str:
    return ("scratch P {scratch_precision:.3f} R {scratch_recall:.3f} F1 {scratch_f1:.3f}; "
            "dust P {dust_precision:.3f} R {dust_recall:.3f} F1 {dust_f1:.3f}").format(**record)


def train(config: Settings, train_paths: list[Path], validation: dict[str, list[Path]]) -> dict:
    """Run (or resume) training; returns the chosen record (best scratch F1 on val; the foreign split in
    `validation` is never read). Writes under config.out."""
    import keras

    from .scratch_model import build_scratch_detector

    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    pairs = cached(config.out / f"pairs_{config.crop}_seed{config.seed}_scans{config.scans_per_photo}.npz",
                   lambda: training_pairs(train_paths, config.crop, config.seed, config.scans_per_photo))
    scans = validation_scans(validation["val"])
    log.info("%d training crops of %d px from %d train photos; %d val scans", len(pairs["levels"]), config.crop,
             len(train_paths), len(scans))
    records = train_with_snapshots(
        build_scratch_detector(), config, make_loss(config.positive_weight),
        lambda rng: batch_of(pairs, rng.integers(0, len(pairs["levels"]), config.batch), rng),
        lambda model: score(model, scans), describe, "detector")
    best = max(records, key=lambda item: item["scratch_f1"])
    return record_val_choice(config.out, best)


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / WEIGHTS_FILE) -> Path:
    """The chosen snapshot as the ONNX file Restore runs (probabilities, see `colorizers.scratch_detector`)."""
    from .scratch_model import build_scratch_detector, serving_function

    return export_snapshot(build_scratch_detector(), config, chosen, serving_function, destination)


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
