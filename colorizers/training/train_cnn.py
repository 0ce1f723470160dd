"""Train the fusion CNN on this CPU: `python -m colorizers.training.train_cnn` (`make train-cnn`).

The ImageNet encoder stays frozen (fine-tuning it on a few hundred photos made validation worse in a probe), so
its features come from the cache both trainers share (`features.py`); only the decoder trains. Every
`--eval-every` steps the decoder is scored on whole photos of the foreign split (packages never trained on) and
of the random validation split, at model size, for a few annealing temperatures, and saved; at the end the best
(checkpoint, temperature) pair on the **foreign** split is exported with the encoder as the shipped model.
Re-running resumes from the latest checkpoint.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import keras

from .. import settings
from .backbone import BACKBONE_FILE
from ..chroma_bins import gamut_bins, nearest_bin, rebalancing_weights, SOFT_NEIGHBOURS, SOFT_SIGMA
from ..cnn import INPUT_SIZE
from .cnn_model import build_colorizer_model, build_decoder, build_encoder
from .features import half_size, held_out_splits, training_features
from .loop import (command_line, make_train_step, record_choice, resumable_optimizer, score_chroma, show_progress,
                   validation_records)

log = logging.getLogger("colorizers.training.train_cnn")

TEMPERATURES = (0.2, 0.3, 0.38, 0.5, 0.7)
# How much of the rebalancing is taken back out of the prediction: logits - c * log(weights). Training with weights
# w makes the network predict (about) the true distribution times w, tilting every uncertain pixel toward colours
# that are rare in the training set; c = 1 undoes that tilt exactly (logit adjustment), c = 0 keeps it.
PRIOR_CORRECTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
SCORES = ("psnr", "cf", "dcf", "cast_a", "cast_b")


@dataclass
class Settings:
    crops: int = 8000
    steps: int = 1200
    batch: int = 32
    learning_rate: float = 1e-3
    rebalance_mix: float = 0.5
    eval_every: int = 150
    stop_at: int | None = None  # end early (validation had peaked) while keeping the schedule of `steps`
    seed: int = 0
    out: Path = settings.REPO_ROOT / "checkpoints" / "cnn"


def decoder_inputs(cache: dict[str, np.ndarray], chosen=slice(None)) -> tuple[list[np.ndarray], np.ndarray]:
    """The decoder's inputs [detail, mid, deep, global vector] (float32) and its chroma target at 1/4 size."""
    features = [cache[name][chosen].astype(np.float32) for name in ("detail", "mid", "deep")]
    features.append(cache["top"][chosen].astype(np.float32).mean(axis=(1, 2)))  # the encoder's global pooling
    return features, half_size(cache["chroma"][chosen].astype(np.float32))


def make_loss(bins: np.ndarray, weights: np.ndarray):
    """Class-rebalanced cross-entropy against soft targets (5 nearest bins, Gaussian sigma 5)."""
    bins_tensor = tf.constant(bins)
    weights_tensor = tf.constant(weights)

    def loss(chroma, logits):
        distance = tf.reduce_sum(tf.square(chroma[..., None, :] - bins_tensor), axis=-1)
        kth = -tf.math.top_k(-distance, SOFT_NEIGHBOURS).values[..., -1:]
        soft = tf.where(distance <= kth, tf.exp(-distance / (2 * SOFT_SIGMA**2)), 0.0)
        soft = soft / tf.reduce_sum(soft, axis=-1, keepdims=True)
        pixel_weight = tf.gather(weights_tensor, tf.argmin(distance, axis=-1))
        cross_entropy = -tf.reduce_sum(soft * tf.nn.log_softmax(logits, axis=-1), axis=-1)
        return tf.reduce_mean(pixel_weight * cross_entropy)

    return loss


def decodings() -> list[tuple[float, float]]:
    """Every (temperature, prior correction) pair scored at each evaluation."""
    return [(temperature, correction) for correction in PRIOR_CORRECTIONS for temperature in TEMPERATURES]


def score_validation(decoder: keras.Model, features: dict, views: list[np.ndarray], bins: np.ndarray,
                     log_weights: np.ndarray) -> list[dict]:
    """Validation scores at model size for each (temperature, prior correction) of `decodings()`."""
    logits = decoder.predict_on_batch(decoder_inputs(features)[0])
    rows = []
    for temperature, correction in decodings():
        chroma = tf.nn.softmax((logits - correction * log_weights) / temperature, axis=-1).numpy() @ bins
        rows.append({"temperature": temperature, "correction": correction, **score_chroma(views, list(chroma))})
    return rows


def rescore(config: Settings, validation: dict[str, list[Path]], backbone: Path | None = BACKBONE_FILE,
            cache_dir: Path | None = None) -> dict:
    """Score every decoder snapshot in config.out again with today's `decodings()` (say, after adding some),
    rewrite validation.jsonl and choose again. `python -m colorizers.training.train_cnn --rescore`."""
    bins = gamut_bins()
    log_weights = np.log(np.load(config.out / "rebalancing_weights.npy"))
    splits, chosen_split, grays = held_out_splits(validation, INPUT_SIZE, backbone, cache_dir)
    old = {record["snapshot"]: record["loss"] for record in map(json.loads, (config.out / "validation.jsonl").read_text().splitlines())}
    decoder, records = build_decoder(len(bins)), []
    for snapshot in sorted(config.out.glob("decoder_step*.weights.h5")):
        decoder.load_weights(snapshot)
        step = int(snapshot.name.removeprefix("decoder_step")[:5])
        records.extend(_scored(decoder, splits, chosen_split, bins, log_weights, step, old.get(snapshot.name, float("nan")), snapshot.name))
    (config.out / "validation.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    return record_choice(config.out, records, grays, chosen_split)


def train(config: Settings, train_paths: list[Path], validation: dict[str, list[Path]],
          backbone: Path | None = BACKBONE_FILE, cache_dir: Path | None = None) -> dict:
    """Run (or resume) training; returns the chosen record. Writes everything under config.out.

    `validation` maps split names to photos; the choice uses `loop.choice_split(validation)` (the foreign one)."""
    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    bins = gamut_bins()
    train_cache = training_features(train_paths, config.crops, INPUT_SIZE, config.seed, backbone, cache_dir)
    splits, chosen_split, grays = held_out_splits(validation, INPUT_SIZE, backbone, cache_dir)
    counts = np.bincount(nearest_bin(half_size(train_cache["chroma"].astype(np.float32)), bins).ravel(), minlength=len(bins))
    weights = rebalancing_weights(counts, bins, mix=config.rebalance_mix)
    np.save(config.out / "rebalancing_weights.npy", weights)  # the export folds the chosen correction into a bias

    decoder = build_decoder(len(bins))
    optimizer, step, manager = resumable_optimizer(config.out, config.learning_rate, config.steps, decoder=decoder)
    train_step = make_train_step(decoder, optimizer, make_loss(bins, weights))

    records_path, records = validation_records(config.out)
    rng = np.random.default_rng(config.seed + int(step))
    example_count = len(train_cache["chroma"])
    started, losses = time.perf_counter(), []
    while int(step) < (config.stop_at or config.steps):
        features, chroma = decoder_inputs(train_cache, np.sort(rng.integers(0, example_count, config.batch)))
        losses.append(float(train_step([tf.constant(value) for value in features], tf.constant(chroma))))
        step.assign_add(1)
        current = int(step)
        if current % 10 == 0:
            rate = 10 * config.batch / (time.perf_counter() - started)
            show_progress(current, config.steps, rate, loss=float(np.mean(losses[-10:])))
            started = time.perf_counter()
        if current % config.eval_every == 0 or current == (config.stop_at or config.steps):
            snapshot = config.out / f"decoder_step{current:05d}.weights.h5"
            decoder.save_weights(snapshot)
            manager.save()
            loss = float(np.mean(losses[-config.eval_every:]))
            records.extend(_scored(decoder, splits, chosen_split, bins, np.log(weights), current, loss, snapshot.name))
            records_path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return record_choice(config.out, records, grays, chosen_split)


def _scored(decoder, splits: dict, chosen_split: str, bins: np.ndarray, log_weights: np.ndarray, step: int,
            loss: float, snapshot: str) -> list[dict]:
    """One record per decoding: the chosen split's scores at top level, every split's under its name."""
    by_split = {name: score_validation(decoder, cache, views, bins, log_weights) for name, (views, cache) in splits.items()}
    records = []
    for index, (temperature, correction) in enumerate(decodings()):
        record = {"step": step, "temperature": temperature, "correction": correction, "loss": loss, "snapshot": snapshot}
        record.update({key: value for key, value in by_split[chosen_split][index].items() if key not in record})
        record.update({name: {key: rows[index][key] for key in SCORES} for name, rows in by_split.items()})
        records.append(record)
        log.info("step %d T=%.2f c=%.1f: %s", step, temperature, correction, "; ".join(
            f"{name} PSNR {scores['psnr']:.2f} dB CF {scores['cf']:.1f} dCF {scores['dcf']:.1f} "
            f"cast ({scores['cast_a']:+.1f}, {scores['cast_b']:+.1f})"
            for name, scores in ((name, record[name]) for name in by_split)))
    return records


def fold_prior_correction(decoder: keras.Model, shift: np.ndarray) -> None:
    """Subtract `shift` (Q,) from the logits for good, through the last layer's bias: serving needs no change."""
    layer = decoder.get_layer("chroma_logits")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias - shift.astype(bias.dtype)])


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / "cnn.weights.h5", backbone: Path | None = BACKBONE_FILE) -> None:
    """Write the whole network (ImageNet encoder + chosen decoder) and its temperature for serving."""
    bins = gamut_bins()
    decoder = build_decoder(len(bins))
    decoder.load_weights(config.out / chosen["snapshot"])
    fold_prior_correction(decoder, chosen.get("correction", 0.0) * np.log(np.load(config.out / "rebalancing_weights.npy")))
    model = build_colorizer_model(build_encoder(weights_file=backbone), decoder)
    destination.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(destination)
    sidecar = {key: chosen[key] for key in ("temperature", "step", "correction") if key in chosen}
    destination.with_suffix("").with_suffix(".json").write_text(json.dumps(sidecar, indent=2))
    log.info("exported %s (step %d, T=%.2f, prior correction %.1f)", destination, chosen["step"], chosen["temperature"], chosen.get("correction", 0.0))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--rescore" in argv:  # score the saved snapshots again instead of training
        argv.remove("--rescore")
        return command_line(Settings, lambda config, _train_paths, validation: rescore(config, validation), export, __doc__, argv)
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
