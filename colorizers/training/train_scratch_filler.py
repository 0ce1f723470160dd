"""Train the scratch filler on this CPU: `python -m colorizers.training.train_scratch_filler`
(`make train-scratch-filler`).

Restore fills the marks the detector finds. Inpainting fills them from their surroundings only, so where a scratch
lies on a dark line or edge it may take the tone beside it. Under most scratches something of the photo still
shows, and the filler learns to read it: from the lightness (grain smoothed, marks still there), the mask and the
Navier-Stokes inpainting, it gives what was under the marks (`scratch_model.build_scratch_filler`, a correction to the
inpainting that starts at zero).

Training pairs come from Restore's own steps on synthetic scans (`restore_evaluation.make_scan`) of **train-split**
photos under other names than the evaluation's and the detector's training: the grain smoothed and the marks found
by the shipped detector (`restore.found_marks`, so the masks are the ones the filler will be given, misses and all),
the inpainting, and the clean photo's lightness as the target, scored on the mask's pixels (mean absolute error,
a pixel where a mark shows weighing DEFECT_WEIGHT more). Every `--eval-every` steps the filler is scored the same
way on whole scans of the **val** split against the inpainting alone and saved; the snapshot with the lowest error
there is exported to weights/scratch_filler.onnx. The foreign split is never read. Re-running resumes from the
latest checkpoint; logs go to checkpoints/scratch-filler/train.log. How Restore uses the filler: `restore._beyond`.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .. import settings
from ..restore import LEARNED_INPAINT_RADIUS, LEVELS_PER_L, found_marks
from ..scratch_detector import FILLER_FILE, MARGIN, padded
from .data import load_photo
from .loop import (cached, command_line, export_snapshot, record_val_choice, train_with_snapshots,
                   validation_records)
from .restore_evaluation import MAX_SIDE, VISIBLE_LSTAR, make_scan
from .train_scratches import LONG_SIDES, square_crops

log = logging.getLogger("colorizers.training.train_scratch_filler")

CROPS_PER_SCAN = 6
NEAR_MARK_SHARE = 0.9  # of the crops, centred on a pixel of the mask (the loss only counts those)
PLANES = ("working", "mask", "inpainted", "clean")  # 8-bit levels (the mask 0/1), in this order
# A pixel of the mask where a mark shows weighs this much more in the loss than one where none does (a real thin
# line taken for a scratch): with the plain mean error, the filler hedged and left more scratches than inpainting.
DEFECT_WEIGHT = 4.0


@dataclass
class Settings:
    crop: int = 128
    scans_per_photo: int = 3
    steps: int = 2400
    batch: int = 16
    learning_rate: float = 1e-3
    eval_every: int = 400
    seed: int = 0
    out: Path = settings.REPO_ROOT / "checkpoints" / "scratch-filler"


def fill_planes(photo: np.ndarray, name: str, sepia: bool) -> np.ndarray:
    """The photo (sRGB uint8) scanned under `name` and taken through Restore up to the fill: uint8 (H, W, 4) of
    PLANES."""
    scan = make_scan(name, photo, sepia)
    marks = found_marks(scan.lightness)
    inpainted = cv2.inpaint(marks.working, marks.mask, LEARNED_INPAINT_RADIUS, cv2.INPAINT_NS)
    clean = np.clip(scan.clean * LEVELS_PER_L + 0.5, 0, 255).astype(np.uint8)
    return np.stack([marks.working, (marks.mask > 0).astype(np.uint8), inpainted, clean], axis=-1)


def training_pairs(paths: list[Path], crop: int, seed: int, scans_per_photo: int) -> dict[str, np.ndarray]:
    """{"planes": uint8 (N, crop, crop, 4)}: crops of the (train-split) photos' scans through Restore."""
    rng = np.random.default_rng(seed)
    crops = []
    for index, path in enumerate(paths):
        for scan in range(scans_per_photo):
            photo = load_photo(path, int(rng.integers(LONG_SIDES[0], LONG_SIDES[1] + 1)))
            planes = fill_planes(photo, f"filler:{path.name}:{seed}:{scan}", bool(rng.random() < 0.5))
            crops.append(square_crops(planes, planes[..., 1] > 0, crop, CROPS_PER_SCAN, NEAR_MARK_SHARE, rng))
        if (index + 1) % 50 == 0:
            log.info("training pairs: %d of %d photos", index + 1, len(paths))
    return {"planes": np.concatenate(crops)}


def batch_of(planes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`as_inputs_and_targets` of crops (B, S, S, 4) uint8, each turned a random quarter and perhaps mirrored."""
    turned = []
    for crop in planes:
        crop = np.rot90(crop, int(rng.integers(4)))
        turned.append(crop[:, ::-1] if rng.random() < 0.5 else crop)
    return as_inputs_and_targets(np.stack(turned))


def as_inputs_and_targets(planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (..., 3) float32 (L, mask, L) and targets (..., 2) float32 (clean L, the pixel's weight) from PLANES
    (..., 4). A pixel of the mask weighs 1, and 1 + DEFECT_WEIGHT where the smoothed scan is more than VISIBLE_LSTAR
    off the clean photo (a mark that shows); pixels outside the mask weigh 0."""
    values = planes.astype(np.float32)
    values[..., [0, 2, 3]] /= LEVELS_PER_L
    showing = np.abs(values[..., 0] - values[..., 3]) > VISIBLE_LSTAR
    weight = values[..., 1] * (1.0 + DEFECT_WEIGHT * showing)
    return values[..., :3], np.stack([values[..., 3], weight], axis=-1).astype(np.float32)


def weighted_l1(targets, predicted):
    """Weighted mean absolute error (L*): targets (B, H, W, 2) of clean L and each pixel's weight."""
    import tensorflow as tf

    weight = targets[..., 1:2]
    return tf.reduce_sum(tf.abs(predicted - targets[..., 0:1]) * weight) / tf.maximum(tf.reduce_sum(weight), 1.0)


def predict(model, inputs: np.ndarray) -> np.ndarray:
    """The filler's lightness (H, W) for whole inputs (H, W, 3), padded as served."""
    height, width = inputs.shape[:2]
    output = model.predict_on_batch(padded(inputs)[None].astype(np.float32))[0, ..., 0]
    return np.clip(output[MARGIN:MARGIN + height, MARGIN:MARGIN + width], 0.0, 100.0)


def score(model, examples: list[np.ndarray]) -> dict:
    """Over the mask's pixels of whole scans (uint8 (H, W, 4) each), for the filler and for the inpainting alone:
    the weighted mean absolute error (L*, as trained), and of the marks that show, the share still more than
    VISIBLE_LSTAR off on the mark's side (left)."""
    totals = {name: np.zeros(4) for name in ("filler", "inpainting")}  # weighted error, weight, left, showing
    for planes in examples:
        inputs, targets = as_inputs_and_targets(planes)
        scan, truth, weight = inputs[..., 0], targets[..., 0], targets[..., 1]
        showing = (inputs[..., 1] > 0) & (np.abs(scan - truth) > VISIBLE_LSTAR)
        for name, result in (("filler", predict(model, inputs)), ("inpainting", inputs[..., 2])):
            left = showing & (np.sign(scan - truth) * (result - truth) > VISIBLE_LSTAR)
            totals[name] += (np.sum(np.abs(result - truth) * weight), weight.sum(), left.sum(), showing.sum())
    return {key: float(value) for name, (error, weight, left, showing) in totals.items()
            for key, value in ((f"{name}_mae", error / max(weight, 1.0)), (f"{name}_left", left / max(showing, 1)))}


def describe(record: dict) -> str:
    return ("filler MAE {filler_mae:.2f} ({filler_left:.3f} left), inpainting {inpainting_mae:.2f} "
            "({inpainting_left:.3f})").format(**record)


def train(config: Settings, train_paths: list[Path], validation: dict[str, list[Path]]) -> dict:
    """Run (or resume) training; returns the chosen record (lowest error on val). Writes under config.out."""
    import keras

    from .scratch_model import build_scratch_filler

    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    pairs = cached(config.out / f"pairs_{config.crop}_seed{config.seed}_scans{config.scans_per_photo}.npz",
                   lambda: training_pairs(train_paths, config.crop, config.seed, config.scans_per_photo))["planes"]
    examples = [fill_planes(load_photo(path, MAX_SIDE), f"val:{path.name}", sepia=index % 2 == 1)
                for index, path in enumerate(validation["val"])]  # the evaluation's val scans; never foreign
    log.info("%d training crops of %d px from %d train photos; %d val scans", len(pairs), config.crop,
             len(train_paths), len(examples))
    model = build_scratch_filler()
    records_path, records = validation_records(config.out)
    if not records:  # the untrained filler is the inpainting alone: the mark to beat
        records_path.write_text(json.dumps({"step": 0, "snapshot": None, **score(model, examples)}) + "\n")
    records = train_with_snapshots(
        model, config, weighted_l1, lambda rng: batch_of(pairs[rng.integers(0, len(pairs), config.batch)], rng),
        lambda model: score(model, examples), describe, "filler")
    best = min(records, key=lambda item: item["filler_mae"])
    return record_val_choice(config.out, best)


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / FILLER_FILE) -> Path | None:
    """The chosen snapshot as the ONNX file Restore runs (`scratch_detector.filled_lightness`); nothing when the
    inpainting alone measured best."""
    from .scratch_model import build_scratch_filler, filler_serving_function

    if chosen["snapshot"] is None:
        log.info("the inpainting alone measured best on val: nothing exported")
        return None
    return export_snapshot(build_scratch_filler(), config, chosen, filler_serving_function, destination)


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__.split("\n\n")[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
