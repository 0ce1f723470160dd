"""Pieces both trainings share: validation scoring on whole photos, checkpoint choice, progress, caching, logs."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from ..color import merge_chroma, resize_plane, rgb_to_lab, rgb_to_lightness
from ..metrics import colourfulness, psnr
from .data import load_photo

# The shipped checkpoint must beat doing nothing by this much PSNR on the choice split; among those, the lowest
# colourfulness gap wins.
MIN_PSNR_GAIN = 0.5
# When none does, the next tier only asks not to lose to doing nothing (issue 9: on photos from elsewhere the
# models had been worse than gray); the earlier fallback allowed a 1 dB loss.
FALLBACK_PSNR_GAIN = 0.0
# Pixels whose true a/b lie within this distance of gray count as neutral surfaces (roads, walls, rock) for the cast.
NEUTRAL_CHROMA = 6.0


def validation_views(paths: list[Path], size: int) -> list[np.ndarray]:
    """Whole validation photos squashed to size x size sRGB uint8, as a served model sees them."""
    return [np.asarray(Image.fromarray(load_photo(path, 1024)).resize((size, size), Image.BOX)) for path in paths]


def score_chroma(views: list[np.ndarray], chromas: list[np.ndarray]) -> dict:
    """Mean PSNR, colourfulness and colourfulness gap of views re-coloured with predicted chroma (any size), and
    the cast: the mean predicted a and b where the truth is neutral (chroma under NEUTRAL_CHROMA), which is 0 for a
    model without a colour bias (a warm cast shows as positive a and b)."""
    psnrs, gaps, cfs, neutral_chroma = [], [], [], []
    for view, chroma in zip(views, chromas):
        result = merge_chroma(rgb_to_lightness(view), chroma)
        psnrs.append(psnr(result, view))
        cfs.append(colourfulness(result))
        gaps.append(abs(cfs[-1] - colourfulness(view)))
        truth = resize_plane(rgb_to_lab(view)[..., 1:], chroma.shape[:2], Image.BOX)
        neutral_chroma.append(chroma[np.hypot(truth[..., 0], truth[..., 1]) < NEUTRAL_CHROMA])
    cast = np.concatenate(neutral_chroma).mean(axis=0) if sum(map(len, neutral_chroma)) else np.zeros(2)
    return {"psnr": float(np.mean(psnrs)), "cf": float(np.mean(cfs)), "dcf": float(np.mean(gaps)),
            "cast_a": float(cast[0]), "cast_b": float(cast[1])}


def gray_baseline(views: list[np.ndarray]) -> dict:
    """The same scores for doing nothing (chroma 0)."""
    return score_chroma(views, [np.zeros((1, 1, 2), np.float32)] * len(views))


def choose(records: list[dict], gray: dict) -> dict:
    """The checkpoint to ship: the lowest dCF among records at least MIN_PSNR_GAIN above gray.

    If none reaches that, the lowest dCF among those at least FALLBACK_PSNR_GAIN above gray (never worse than
    doing nothing), and failing that the best PSNR.
    """
    for floor in (gray["psnr"] + MIN_PSNR_GAIN, gray["psnr"] + FALLBACK_PSNR_GAIN):
        eligible = [record for record in records if record["psnr"] >= floor]
        if eligible:
            return min(eligible, key=lambda record: record["dcf"])
    return max(records, key=lambda record: record["psnr"])


def record_choice(out: Path, records: list[dict], grays: dict[str, dict], split: str) -> dict:
    """`choose` on `split`, logged and written to OUT/chosen.json with every split's gray baseline."""
    best = choose(records, grays[split])
    logging.getLogger(__name__).info("chosen on the %s split: %s", split, best)
    (out / "chosen.json").write_text(json.dumps({"chosen": best, "split": split, "gray": grays}, indent=2))
    return best


def choice_split(validation: dict) -> str:
    """The split checkpoints are chosen on: the foreign one (packages never trained on) when present."""
    for name in ("foreign", "val"):
        if validation.get(name):
            return name
    raise ValueError("no validation photos: run `make data`")


def cached(path: Path, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Arrays from an .npz file, made and saved on first use."""
    if path.exists():
        with np.load(path) as data:
            return {name: data[name] for name in data.files}
    values = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **values)
    return values


def show_progress(step: int, total: int, images_per_second: float, **losses: float) -> None:
    """One-line progress bar on stderr with the losses and throughput."""
    filled = int(30 * step / total)
    scalars = " ".join(f"{name} {value:.3f}" for name, value in losses.items())
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {step}/{total} {scalars} {images_per_second:.1f} img/s")
    sys.stderr.flush()


def log_to(out: Path) -> None:
    """Log to OUT/train.log and the console."""
    out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(out / "train.log"), logging.StreamHandler()],
    )


_ARGUMENT_TYPES = {"int": int, "float": float, "Path": Path, "int | None": int, "float | None": float}


def command_line(
    settings_class: type, train: Callable[..., dict], export: Callable[[Any, dict], None], description: str,
    argv: list[str] | None = None,
) -> int:
    """`python -m colorizers.train_*`: one option per settings field, train (or resume), then export the choice."""
    from .data import PHOTOS_DIR, split_files

    parser = argparse.ArgumentParser(description=description)
    for field in dataclasses.fields(settings_class):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=_ARGUMENT_TYPES[field.type], default=field.default)
    parser.add_argument("--no-export", action="store_true", help="train and choose, but leave weights/ alone")
    arguments = vars(parser.parse_args(argv))
    export_chosen = not arguments.pop("no_export")
    config = settings_class(**arguments)
    log_to(config.out)
    photos_dir = getattr(config, "photos", PHOTOS_DIR)  # a trainer's settings may name another photo folder
    validation = {name: split_files(name, photos_dir=photos_dir) for name in ("foreign", "val")}
    chosen = train(config, split_files("train", photos_dir=photos_dir), validation)
    if export_chosen:
        export(config, chosen)
    return 0


def make_train_step(model, optimizer, loss_fn):
    """One compiled step of gradient descent on `loss_fn(targets, model(inputs))`; returns the loss."""
    import tensorflow as tf  # training only: serving never imports this module's callers

    @tf.function
    def train_step(inputs, targets):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, model(inputs, training=True))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    return train_step



def resumable_optimizer(out: Path, learning_rate: float, steps: int, **trackables):
    """Adam with cosine decay to 5% over `steps`, a step counter, and their checkpoint manager in out/resume (with
    `trackables`, e.g. the model, under those names), restored from the latest checkpoint when there is one.
    Returns (optimizer, step, manager)."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05))
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(optimizer=optimizer, step=step, **trackables)
    manager = tf.train.CheckpointManager(checkpoint, out / "resume", max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        logging.getLogger(__name__).info("resumed from %s at step %d", manager.latest_checkpoint, int(step))
    return optimizer, step, manager


def validation_records(out: Path) -> tuple[Path, list[dict]]:
    """The path of out/validation.jsonl (one JSON record per scored snapshot) and the records already in it."""
    path = out / "validation.jsonl"
    return path, [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def train_with_snapshots(model, config, loss_fn, next_batch: Callable, score: Callable[[Any], dict],
                         describe: Callable[[dict], str], prefix: str) -> list[dict]:
    """Run (or resume, from config.out/resume) config.steps steps of Adam on `loss_fn` over batches
    `next_batch(rng)` -> (inputs, targets). Every config.eval_every steps and at the end the model is saved as
    config.out/PREFIX_stepNNNNN.weights.h5 and scored (`score(model)`, a dict) into config.out/validation.jsonl,
    logged as `describe(record)`. Returns every record in that file. config: steps, eval_every, batch,
    learning_rate, seed, out."""
    import tensorflow as tf

    optimizer, step, manager = resumable_optimizer(config.out, config.learning_rate, config.steps, model=model)
    train_step = make_train_step(model, optimizer, loss_fn)
    records_path, records = validation_records(config.out)
    rng = np.random.default_rng(config.seed + int(step))
    started, losses = time.perf_counter(), []
    while int(step) < config.steps:
        inputs, targets = next_batch(rng)
        losses.append(float(train_step(tf.constant(inputs), tf.constant(targets))))
        step.assign_add(1)
        current = int(step)
        if current % 10 == 0:
            show_progress(current, config.steps, 10 * config.batch / (time.perf_counter() - started),
                          loss=float(np.mean(losses[-10:])))
            started = time.perf_counter()
        if current % config.eval_every == 0 or current == config.steps:
            snapshot = config.out / f"{prefix}_step{current:05d}.weights.h5"
            model.save_weights(snapshot)
            manager.save()
            record = {"step": current, "loss": float(np.mean(losses[-config.eval_every:])), "snapshot": snapshot.name,
                      **score(model)}
            records.append(record)
            records_path.write_text("".join(json.dumps(item) + "\n" for item in records))
            logging.getLogger(__name__).info("step %d loss %.4f val: %s", current, record["loss"], describe(record))
    return records


def record_val_choice(out: Path, best: dict) -> dict:
    """The record chosen on the val split, written to out/chosen.json and logged."""
    (out / "chosen.json").write_text(json.dumps({"chosen": best, "split": "val"}, indent=2))
    logging.getLogger(__name__).info("chosen on the val split: %s", best)
    return best


def export_snapshot(model, config, chosen: dict, serving_function: Callable, destination: Path) -> Path:
    """The chosen snapshot (config.out / chosen["snapshot"]) loaded into `model` and written as ONNX to
    `destination` through `serving_function(model)`."""
    from .export_onnx import export_function

    model.load_weights(config.out / chosen["snapshot"])
    destination.parent.mkdir(parents=True, exist_ok=True)
    export_function(serving_function(model), destination)
    logging.getLogger(__name__).info("exported %s (step %d, %.0f kB)", destination, chosen["step"],
                                     destination.stat().st_size / 1e3)
    return destination
