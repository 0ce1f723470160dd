"""Train the fusion CNN on this CPU: `python -m colorizers.training.train_cnn` (`make train-cnn`).

The ImageNet encoder stays frozen (fine-tuning it on a few hundred photos made validation worse in a probe), so
its features are computed once for a fixed set of random crops and cached; only the decoder trains, from the
cache. Every `--eval-every` steps the decoder is scored on whole validation photos (PSNR and colourfulness gap at
model size for a few annealing temperatures) and saved; at the end the best (checkpoint, temperature) pair is
exported with the encoder as the shipped model. Re-running resumes from the latest checkpoint.
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
from ..backbone import BACKBONE_FILE
from ..chroma_bins import gamut_bins, nearest_bin, rebalancing_weights, SOFT_NEIGHBOURS, SOFT_SIGMA
from ..cnn import INPUT_SIZE, OUTPUT_SIZE, build_colorizer_model, build_decoder, build_encoder, encoder_input
from .data import crops_per_photo, lightness_and_chroma, load_photo, random_crop, split_files
from .loop import cached, choose, command_line, gray_baseline, score_chroma, show_progress, validation_views

log = logging.getLogger("colorizers.training.train_cnn")

TEMPERATURES = (0.2, 0.3, 0.38, 0.5, 0.7)
FEATURE_NAMES = ("detail", "mid", "deep", "global_vector")


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


def encode_crops(encoder: keras.Model, crops: list[np.ndarray], batch: int = 32) -> dict[str, np.ndarray]:
    """Encoder features (float16) and chroma targets for crops of sRGB uint8 (S, S, 3)."""
    run = tf.function(lambda gray: encoder(gray, training=False))
    features: dict[str, list[np.ndarray]] = {name: [] for name in FEATURE_NAMES}
    chroma = []
    for start in range(0, len(crops), batch):
        pairs = [lightness_and_chroma(crop, OUTPUT_SIZE) for crop in crops[start : start + batch]]
        gray = np.stack([encoder_input(lightness) for lightness, _ in pairs])
        for name, values in zip(FEATURE_NAMES, run(tf.constant(gray))):
            features[name].append(values.numpy().astype(np.float16))
        chroma.extend(target for _, target in pairs)
        if start // batch % 20 == 0:
            log.info("encoded %d / %d crops", start + len(pairs), len(crops))
    cache = {name: np.concatenate(values) for name, values in features.items()}
    cache["chroma"] = np.stack(chroma).astype(np.float16)
    return cache


def training_crops(paths: list[Path], total: int, seed: int) -> list[np.ndarray]:
    """Random multi-scale flipped crops (INPUT_SIZE square) from the training photos."""
    rng = np.random.default_rng(seed)
    photos = [load_photo(path) for path in paths]
    crops = []
    for photo, count in zip(photos, crops_per_photo(photos, total)):
        crops.extend(random_crop(photo, INPUT_SIZE, rng) for _ in range(count))
    return crops


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


def make_train_step(decoder: keras.Model, optimizer: keras.optimizers.Optimizer, loss_fn):
    @tf.function
    def train_step(features, chroma):
        with tf.GradientTape() as tape:
            loss = loss_fn(chroma, decoder(features, training=True))
        gradients = tape.gradient(loss, decoder.trainable_variables)
        optimizer.apply_gradients(zip(gradients, decoder.trainable_variables))
        return loss

    return train_step


def score_validation(decoder: keras.Model, features: dict, views: list[np.ndarray], bins: np.ndarray) -> list[dict]:
    """Validation scores at model size for each annealing temperature."""
    logits = decoder.predict_on_batch([features[name] for name in FEATURE_NAMES])
    rows = []
    for temperature in TEMPERATURES:
        chroma = tf.nn.softmax(logits / temperature, axis=-1).numpy() @ bins
        rows.append({"temperature": temperature, **score_chroma(views, list(chroma))})
    return rows


def train(config: Settings, train_paths: list[Path], val_paths: list[Path], backbone: Path | None = BACKBONE_FILE) -> dict:
    """Run (or resume) training; returns the chosen record. Writes everything under config.out."""
    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    bins = gamut_bins()
    encoder = build_encoder(weights_file=backbone)
    train_cache = cached(config.out / "train_features.npz", lambda: encode_crops(encoder, training_crops(train_paths, config.crops, config.seed)))
    views = validation_views(val_paths, INPUT_SIZE)
    val_cache = cached(config.out / "val_features.npz", lambda: encode_crops(encoder, views))
    counts = np.bincount(nearest_bin(train_cache["chroma"].astype(np.float32), bins).ravel(), minlength=len(bins))
    weights = rebalancing_weights(counts, bins, mix=config.rebalance_mix)

    decoder = build_decoder(len(bins))
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, config.steps, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(decoder=decoder, optimizer=optimizer, step=step)
    manager = tf.train.CheckpointManager(checkpoint, config.out / "resume", max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step))
    train_step = make_train_step(decoder, optimizer, make_loss(bins, weights))

    records_path = config.out / "validation.jsonl"
    records = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
    gray = gray_baseline(views)
    log.info("gray baseline at model size: PSNR %.2f dB, dCF %.1f", gray["psnr"], gray["dcf"])
    rng = np.random.default_rng(config.seed + int(step))
    example_count = len(train_cache["chroma"])
    started, losses = time.perf_counter(), []
    while int(step) < (config.stop_at or config.steps):
        chosen = rng.integers(0, example_count, config.batch)
        batch = [tf.constant(train_cache[name][chosen].astype(np.float32)) for name in FEATURE_NAMES]
        losses.append(float(train_step(batch, tf.constant(train_cache["chroma"][chosen].astype(np.float32)))))
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
            for row in score_validation(decoder, val_cache, views, bins):
                row.update(step=current, loss=float(np.mean(losses[-config.eval_every:])), snapshot=snapshot.name)
                records.append(row)
                log.info("step %d T=%.2f: PSNR %.2f dB (gray %.2f), CF %.1f, dCF %.1f", current, row["temperature"], row["psnr"], gray["psnr"], row["cf"], row["dcf"])
            records_path.write_text("".join(json.dumps(record) + "\n" for record in records))
    best = choose(records, gray)
    log.info("chosen: %s", best)
    (config.out / "chosen.json").write_text(json.dumps({"chosen": best, "gray": gray}, indent=2))
    return best


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / "cnn.weights.h5", backbone: Path | None = BACKBONE_FILE) -> None:
    """Write the whole network (ImageNet encoder + chosen decoder) and its temperature for serving."""
    bins = gamut_bins()
    decoder = build_decoder(len(bins))
    decoder.load_weights(config.out / chosen["snapshot"])
    model = build_colorizer_model(build_encoder(weights_file=backbone), decoder)
    destination.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(destination)
    destination.with_suffix("").with_suffix(".json").write_text(json.dumps({"temperature": chosen["temperature"], "step": chosen["step"]}, indent=2))
    log.info("exported %s (step %d, T=%.2f)", destination, chosen["step"], chosen["temperature"])


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
