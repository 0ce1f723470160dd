"""Train the pix2pix cGAN with Keras on JAX: `python -m colorizers.train_cgan` (`make train-cgan`).

Keras on JAX (not TensorFlow) so that one trainer runs both on this CPU and on the GPU machines sometimes lent
here, which have JAX but no TensorFlow; the weights file it writes is the same for either backend, and serving
loads it in TensorFlow.

Random multi-scale flipped crops from the training photos, made by a pool of worker processes; one step = one
generator and one discriminator update (Adam 2e-4, beta1 0.5, as in pix2pix); the learning rate is constant for
the first half and falls linearly to zero over the second. `--warmup F` trains the generator on L1 alone for the
first F of the steps. `--evaluations` times the generator is scored on whole validation photos at model size
and saved (float16), with a resume point; at the end `training_loop.choose` picks the snapshot to export.
Re-running resumes from the resume point; `--minutes` stops early (and still chooses) when time runs out.
"""
from __future__ import annotations

import collections
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")  # before Keras is imported

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from . import settings  # noqa: E402
from .cgan import (  # noqa: E402
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
from .color import AB_SCALE, rgb_to_lightness  # noqa: E402
from .training_data import PHOTOS_DIR, load_worker_photos, worker_batch  # noqa: E402
from .training_loop import choose, command_line, gray_baseline, score_chroma, show_progress, validation_views  # noqa: E402

log = logging.getLogger("colorizers.train_cgan")

STATE_GROUPS = ("g_trainable", "g_other", "g_optimizer", "d_trainable", "d_other", "d_optimizer")


@dataclass
class Settings:
    steps: int = 2400
    batch: int = 32
    image_size: int = IMAGE_SIZE
    base_filters: int = BASE_FILTERS
    learning_rate: float = 2e-4
    l1_weight: float = L1_WEIGHT
    warmup: float = 0.0
    evaluations: int = 20
    photo_side: int = 512
    workers: int = max(1, (os.cpu_count() or 2) - 1)
    minutes: float | None = None
    seed: int = 0
    photos: Path = PHOTOS_DIR
    out: Path = settings.REPO_ROOT / "checkpoints" / "cgan"


def learning_rate_at(step: int, total_steps: int, initial: float) -> float:
    """pix2pix's schedule: `initial` for the first half, then linearly down to zero."""
    half = total_steps / 2
    return initial * (1.0 - min(1.0, max(0.0, (step - half) / half)))


def _learning_rate_index(optimizer: keras.optimizers.Optimizer) -> int:
    """Position of the (float) learning rate among the optimiser's variables: each step sets it from the schedule."""
    return next(index for index, variable in enumerate(optimizer.variables) if variable.path.endswith("learning_rate"))


def _with_learning_rate(optimizer_values: list, index: int, learning_rate) -> list:
    return [learning_rate if position == index else value for position, value in enumerate(optimizer_values)]


class Trainer:
    """Compiled, stateless training steps; the state is a tuple of six lists of arrays (see STATE_GROUPS)."""

    def __init__(self, config: Settings):
        keras.utils.set_random_seed(config.seed)
        self.generator = build_generator(config.image_size, config.base_filters)
        self.discriminator = build_discriminator(config.image_size)
        self.generator_optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=0.5)
        self.discriminator_optimizer = keras.optimizers.Adam(config.learning_rate, beta_1=0.5)
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)
        self.l1_weight = config.l1_weight
        self.step = jax.jit(self._step, donate_argnums=0)
        self.predict = jax.jit(self._predict)

    def _variable_groups(self) -> tuple[list, ...]:
        generator, discriminator = self.generator, self.discriminator
        return (
            generator.trainable_variables, generator.non_trainable_variables, self.generator_optimizer.variables,
            discriminator.trainable_variables, discriminator.non_trainable_variables, self.discriminator_optimizer.variables,
        )

    def initial_state(self) -> tuple:
        return tuple([variable.value for variable in group] for group in self._variable_groups())

    def _step(self, state, lightness, true_chroma, learning_rate, adversarial_weight):
        g_trainable, g_other, g_optimizer, d_trainable, d_other, d_optimizer = state
        generator, discriminator = self.generator, self.discriminator

        def generator_objective(g_trainable):
            fake_chroma, g_other_after = generator.stateless_call(g_trainable, g_other, lightness, training=True)
            fake_logits, _ = discriminator.stateless_call(d_trainable, d_other, [lightness, fake_chroma / AB_SCALE], training=True)
            _, adversarial, l1 = generator_loss(fake_logits, fake_chroma, true_chroma, self.l1_weight)
            return adversarial_weight * adversarial + self.l1_weight * l1, (fake_chroma, g_other_after, adversarial, l1)

        def discriminator_objective(d_trainable, fake_chroma):
            real_logits, after_real = discriminator.stateless_call(d_trainable, d_other, [lightness, true_chroma / AB_SCALE], training=True)
            fake_logits, after_fake = discriminator.stateless_call(d_trainable, after_real, [lightness, fake_chroma / AB_SCALE], training=True)
            return discriminator_loss(real_logits, fake_logits), after_fake

        (_, (fake_chroma, g_other, adversarial, l1)), g_gradients = jax.value_and_grad(generator_objective, has_aux=True)(g_trainable)
        (critic, d_other), d_gradients = jax.value_and_grad(discriminator_objective, has_aux=True)(
            d_trainable, jax.lax.stop_gradient(fake_chroma)
        )
        g_optimizer = _with_learning_rate(g_optimizer, _learning_rate_index(self.generator_optimizer), learning_rate)
        d_optimizer = _with_learning_rate(d_optimizer, _learning_rate_index(self.discriminator_optimizer), learning_rate)
        g_trainable, g_optimizer = self.generator_optimizer.stateless_apply(g_optimizer, g_gradients, g_trainable)
        d_trainable, d_optimizer = self.discriminator_optimizer.stateless_apply(d_optimizer, d_gradients, d_trainable)
        return (g_trainable, g_other, g_optimizer, d_trainable, d_other, d_optimizer), (adversarial, l1, critic)

    def _predict(self, g_trainable, g_other, lightness):
        return self.generator.stateless_call(g_trainable, g_other, lightness, training=False)[0]

    def score(self, state, views: list[np.ndarray]) -> dict:
        inputs = np.stack([generator_input(rgb_to_lightness(view)) for view in views])
        return score_chroma(views, list(np.asarray(self.predict(state[0], state[1], inputs))))

    def save_generator(self, state, path: Path) -> None:
        """The generator in `state` as a float16 weights file (the format served)."""
        for variable, value in zip(self.generator.trainable_variables + self.generator.non_trainable_variables, state[0] + state[1]):
            variable.assign(value)
        save_generator_float16(self.generator, path)

    def save_state(self, state, path: Path) -> None:
        arrays = {f"{group}_{index:04d}": np.asarray(value) for group, values in zip(STATE_GROUPS, state) for index, value in enumerate(values)}
        np.savez(path.with_suffix(".tmp.npz"), **arrays)
        path.with_suffix(".tmp.npz").replace(path)  # never leave a half-written resume point

    def load_state(self, path: Path) -> tuple:
        with np.load(path) as arrays:
            return tuple(
                [jax.numpy.asarray(arrays[f"{group}_{index:04d}"]) for index in range(len(variables))]
                for group, variables in zip(STATE_GROUPS, self._variable_groups())
            )


def batches(pool, config: Settings, start: int):
    """(generator input, true chroma) batches from index `start` on, each from its own seed (so a resumed run
    sees the same batches), at most two per worker made ahead."""
    pending: collections.deque = collections.deque()
    index = start
    while True:
        while len(pending) < 2 * config.workers:
            pending.append(pool.apply_async(worker_batch, ((config.seed * 1_000_003 + index, config.image_size, config.batch),)))
            index += 1
        lightness, chroma = pending.popleft().get()
        yield generator_input(lightness), chroma


def train(config: Settings, train_paths: list[Path], val_paths: list[Path]) -> dict:
    """Run (or resume) training; returns the chosen record. Writes everything under config.out."""
    config.out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + 60 * config.minutes if config.minutes else float("inf")
    log.info("JAX devices: %s", jax.devices())
    views = validation_views(val_paths, config.image_size)
    gray = gray_baseline(views)
    log.info("gray baseline at model size: PSNR %.2f dB, dCF %.1f", gray["psnr"], gray["dcf"])
    trainer = Trainer(config)
    resume_path, records_path = config.out / "resume.npz", config.out / "validation.jsonl"
    records = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
    if resume_path.exists() and records:
        state, step = trainer.load_state(resume_path), records[-1]["step"]
        log.info("resumed from %s at step %d", resume_path, step)
    else:
        state, step, records = trainer.initial_state(), 0, []
    eval_every = max(1, config.steps // config.evaluations)
    history, started = [], time.monotonic()
    context = multiprocessing.get_context("spawn")  # never fork a process that holds an accelerator
    with context.Pool(config.workers, initializer=load_worker_photos, initargs=(train_paths, config.photo_side)) as pool:
        stream = batches(pool, config, step)
        while step < config.steps and time.monotonic() < deadline:
            lightness, chroma = next(stream)
            learning_rate = learning_rate_at(step, config.steps, config.learning_rate)
            adversarial_weight = 0.0 if step < config.warmup * config.steps else 1.0
            state, losses = trainer.step(state, lightness, chroma, learning_rate, adversarial_weight)
            history.append(losses)
            step += 1
            if step % 10 == 0:
                recent = np.asarray(jax.device_get(history[-10:])).mean(axis=0)
                show_progress(step, config.steps, 10 * config.batch / (time.monotonic() - started), g_adv=recent[0], g_l1=recent[1], d=recent[2])
                started = time.monotonic()
            if step % eval_every == 0 or step == config.steps or time.monotonic() >= deadline:
                snapshot = config.out / f"generator_step{step:05d}.weights.h5"
                trainer.save_generator(state, snapshot)
                adversarial, l1, critic = np.asarray(jax.device_get(history[-eval_every:])).mean(axis=0)
                row = {"step": step, "snapshot": snapshot.name, "g_adv": float(adversarial), "g_l1": float(l1), "d": float(critic)}
                row.update(trainer.score(state, views))
                records.append(row)
                trainer.save_state(state, resume_path)
                records_path.write_text("".join(json.dumps(record) + "\n" for record in records))
                log.info("step %d: PSNR %.2f dB (gray %.2f), CF %.1f, dCF %.1f, G adv %.3f L1 %.4f D %.3f", step, row["psnr"], gray["psnr"], row["cf"], row["dcf"], adversarial, l1, critic)
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
    if keras.backend.backend() != "jax":
        sys.exit("train_cgan needs Keras on JAX: run it with KERAS_BACKEND=jax")
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
