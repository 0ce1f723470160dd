"""Train the pix2pix cGAN on this CPU: `python -m colorizers.train_cgan` (`make train-cgan`).

Random multi-scale flipped crops from the training photos; one step = one discriminator and one generator
update (Adam 2e-4, beta1 0.5, as in pix2pix); the learning rate is constant for the first half and falls
linearly to zero over the second. Every `--eval-every` steps the generator is scored on whole validation photos
and saved (float16); at the end the best snapshot is exported. Re-running resumes from the latest checkpoint.
"""
from __future__ import annotations

import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
import keras

from . import settings
from .cgan import (
    BASE_FILTERS,
    IMAGE_SIZE,
    L1_WEIGHT,
    build_discriminator,
    build_generator,
    discriminator_loss,
    generator_input,
    generator_loss,
    save_generator_float16,
)
from .color import rgb_to_lightness
from .training_data import lightness_and_chroma, load_photo, random_crop, split_files
from .training_loop import choose, command_line, gray_baseline, score_chroma, show_progress, validation_views

log = logging.getLogger("colorizers.train_cgan")


@dataclass
class Settings:
    steps: int = 2800
    batch: int = 16
    image_size: int = IMAGE_SIZE
    base_filters: int = BASE_FILTERS
    learning_rate: float = 2e-4
    l1_weight: float = L1_WEIGHT
    eval_every: int = 200
    seed: int = 0
    out: Path = settings.REPO_ROOT / "checkpoints" / "cgan"


class HalfConstantThenLinear(keras.optimizers.schedules.LearningRateSchedule):
    """pix2pix's schedule: the initial rate for the first half of training, then linearly down to zero."""

    def __init__(self, initial: float, total_steps: int):
        self.initial = initial
        self.total_steps = total_steps

    def __call__(self, step):
        half = self.total_steps / 2
        fraction = tf.clip_by_value((tf.cast(step, tf.float32) - half) / half, 0.0, 1.0)
        return self.initial * (1.0 - fraction)

    def get_config(self):
        return {"initial": self.initial, "total_steps": self.total_steps}


def sample_batch(photos: list[np.ndarray], size: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Generator inputs (B, S, S, 1) in [-1, 1] and true chroma (B, S, S, 2) from random crops."""
    inputs, targets = [], []
    for index in rng.integers(0, len(photos), count):
        lightness, chroma = lightness_and_chroma(random_crop(photos[index], size, rng, max_zoom_out=8.0), size)
        inputs.append(generator_input(lightness))
        targets.append(chroma)
    return np.stack(inputs), np.stack(targets)


def make_train_step(generator, discriminator, generator_optimizer, discriminator_optimizer, l1_weight: float):
    @tf.function
    def train_step(lightness, true_chroma):
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_chroma = generator(lightness, training=True)
            real_logits = discriminator([lightness, true_chroma / 110.0], training=True)
            fake_logits = discriminator([lightness, fake_chroma / 110.0], training=True)
            total, adversarial, l1 = generator_loss(fake_logits, fake_chroma, true_chroma, l1_weight)
            critic = discriminator_loss(real_logits, fake_logits)
        generator_optimizer.apply_gradients(
            zip(generator_tape.gradient(total, generator.trainable_variables), generator.trainable_variables)
        )
        discriminator_optimizer.apply_gradients(
            zip(discriminator_tape.gradient(critic, discriminator.trainable_variables), discriminator.trainable_variables)
        )
        return adversarial, l1, critic

    return train_step


def score_generator(generator: keras.Model, views: list[np.ndarray]) -> dict:
    inputs = np.stack([generator_input(rgb_to_lightness(view)) for view in views])
    return score_chroma(views, list(generator.predict_on_batch(inputs)))


def train(config: Settings, train_paths: list[Path], val_paths: list[Path]) -> dict:
    """Run (or resume) training; returns the chosen record. Writes everything under config.out."""
    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    photos = [load_photo(path, 1024) for path in train_paths]
    views = validation_views(val_paths, config.image_size)
    generator = build_generator(config.image_size, config.base_filters)
    discriminator = build_discriminator(config.image_size)
    generator_optimizer = keras.optimizers.Adam(HalfConstantThenLinear(config.learning_rate, config.steps), beta_1=0.5)
    discriminator_optimizer = keras.optimizers.Adam(HalfConstantThenLinear(config.learning_rate, config.steps), beta_1=0.5)
    step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(
        generator=generator,
        discriminator=discriminator,
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
        step=step,
    )
    manager = tf.train.CheckpointManager(checkpoint, config.out / "resume", max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step))
    train_step = make_train_step(generator, discriminator, generator_optimizer, discriminator_optimizer, config.l1_weight)

    records_path = config.out / "validation.jsonl"
    records = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
    gray = gray_baseline(views)
    log.info("gray baseline at model size: PSNR %.2f dB, dCF %.1f", gray["psnr"], gray["dcf"])
    rng = np.random.default_rng(config.seed + int(step))
    started, history = time.perf_counter(), []
    while int(step) < config.steps:
        lightness, chroma = sample_batch(photos, config.image_size, config.batch, rng)
        history.append([float(value) for value in train_step(tf.constant(lightness), tf.constant(chroma))])
        step.assign_add(1)
        current = int(step)
        if current % 5 == 0:
            adversarial, l1, critic = np.mean(history[-5:], axis=0)
            rate = 5 * config.batch / (time.perf_counter() - started)
            show_progress(current, config.steps, rate, g_adv=adversarial, g_l1=l1, d=critic)
            started = time.perf_counter()
        if current % config.eval_every == 0 or current == config.steps:
            snapshot = config.out / f"generator_step{current:05d}.weights.h5"
            save_generator_float16(generator, snapshot)
            manager.save()
            adversarial, l1, critic = np.mean(history[-config.eval_every:], axis=0)
            row = {"step": current, "snapshot": snapshot.name, "g_adv": adversarial, "g_l1": l1, "d": critic}
            row.update(score_generator(generator, views))
            records.append(row)
            log.info("step %d: PSNR %.2f dB (gray %.2f), CF %.1f, dCF %.1f, G adv %.3f L1 %.4f D %.3f", current, row["psnr"], gray["psnr"], row["cf"], row["dcf"], adversarial, l1, critic)
            records_path.write_text("".join(json.dumps(record) + "\n" for record in records))
    best = choose(records, gray)
    log.info("chosen: %s", best)
    (config.out / "chosen.json").write_text(json.dumps({"chosen": best, "gray": gray}, indent=2))
    return best


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / "cgan_generator.weights.h5") -> None:
    """Ship the chosen generator snapshot (float16; loading restores float32)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config.out / chosen["snapshot"], destination)
    log.info("exported %s (step %d)", destination, chosen["step"])


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
