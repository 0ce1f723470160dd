"""Train the pix2pix cGAN: `python -m colorizers.training.train_cgan` (`make train-cgan`).

One trainer for two Keras backends: TensorFlow on this CPU (about 7x faster here than JAX's CPU backend) and JAX
on the GPU machines sometimes lent here, which have JAX but no TensorFlow (`KERAS_BACKEND=jax`). The step is
written with Keras' stateless calls; only taking gradients and compiling differ by backend. The weights file is
the same for both, and serving loads it in TensorFlow.

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

import keras
import numpy as np
from keras import ops

from .. import settings
from ..cgan import (
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
from ..color import AB_SCALE, rgb_to_lightness
from .data import PHOTOS_DIR, load_worker_photos, worker_batch
from .loop import choose, command_line, gray_baseline, score_chroma, show_progress, validation_views

log = logging.getLogger("colorizers.training.train_cgan")

STATE_GROUPS = ("g_trainable", "g_other", "g_adam", "d_trainable", "d_other", "d_adam")


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


def value_and_gradient(objective):
    """`objective(parameters, *rest) -> (loss, aux)` to `(parameters, *rest) -> ((loss, aux), gradients)`."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.value_and_grad(objective, has_aux=True)
    import tensorflow as tf

    def with_gradients(parameters, *rest):
        with tf.GradientTape() as tape:
            tape.watch(parameters)
            loss, aux = objective(parameters, *rest)
        return (loss, aux), tape.gradient(loss, parameters)

    return with_gradients


def compiled(function, donate_first: bool = False):
    """`function` compiled for the backend; on JAX the first argument's buffers may be reused for the result."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function, donate_argnums=(0,) if donate_first else ())
    import tensorflow as tf

    return tf.function(function)


def adam_initial(parameters: list) -> list:
    """Adam's state for `parameters`, flat: [step, first moments..., second moments...]."""
    zeros = [ops.zeros_like(parameter) for parameter in parameters]
    return [ops.convert_to_tensor(0.0, "float32")] + zeros + [ops.copy(zero) for zero in zeros]


def adam_update(parameters: list, gradients: list, state: list, learning_rate, beta_1: float = 0.5,
                beta_2: float = 0.999, epsilon: float = 1e-7) -> tuple[list, list]:
    """One Adam step as a pure function, as Keras' Adam computes it (whose stateless form is JAX-only)."""
    count = len(parameters)
    step, first, second = state[0] + 1.0, state[1 : 1 + count], state[1 + count :]
    first = [beta_1 * moment + (1 - beta_1) * gradient for moment, gradient in zip(first, gradients)]
    second = [beta_2 * moment + (1 - beta_2) * ops.square(gradient) for moment, gradient in zip(second, gradients)]
    rate = learning_rate * ops.sqrt(1 - ops.power(beta_2, step)) / (1 - ops.power(beta_1, step))
    parameters = [parameter - rate * m / (ops.sqrt(v) + epsilon) for parameter, m, v in zip(parameters, first, second)]
    return parameters, [step] + first + second


class Trainer:
    """Compiled, stateless training steps; the state is a tuple of six lists of arrays (see STATE_GROUPS)."""

    def __init__(self, config: Settings):
        keras.utils.set_random_seed(config.seed)
        self.generator = build_generator(config.image_size, config.base_filters)
        self.discriminator = build_discriminator(config.image_size)
        self.l1_weight = config.l1_weight
        self.step = compiled(self._step, donate_first=True)
        self.predict = compiled(self._predict)

    def initial_state(self) -> tuple:
        values = lambda variables: [ops.copy(variable.value) for variable in variables]  # noqa: E731
        g_trainable, d_trainable = values(self.generator.trainable_variables), values(self.discriminator.trainable_variables)
        return (
            g_trainable, values(self.generator.non_trainable_variables), adam_initial(g_trainable),
            d_trainable, values(self.discriminator.non_trainable_variables), adam_initial(d_trainable),
        )

    def _step(self, state, lightness, true_chroma, learning_rate, adversarial_weight):
        g_trainable, g_other, g_adam, d_trainable, d_other, d_adam = state
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

        (_, (fake_chroma, g_other, adversarial, l1)), g_gradients = value_and_gradient(generator_objective)(g_trainable)
        (critic, d_other), d_gradients = value_and_gradient(discriminator_objective)(d_trainable, ops.stop_gradient(fake_chroma))
        g_trainable, g_adam = adam_update(g_trainable, g_gradients, g_adam, learning_rate)
        d_trainable, d_adam = adam_update(d_trainable, d_gradients, d_adam, learning_rate)
        return (g_trainable, g_other, g_adam, d_trainable, d_other, d_adam), (adversarial, l1, critic)

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

    @staticmethod
    def save_state(state, path: Path) -> None:
        arrays = {f"{group}_{index:04d}": np.asarray(value) for group, values in zip(STATE_GROUPS, state) for index, value in enumerate(values)}
        np.savez(path.with_suffix(".tmp.npz"), **arrays)
        path.with_suffix(".tmp.npz").replace(path)  # never leave a half-written resume point

    @staticmethod
    def load_state(path: Path) -> tuple:
        with np.load(path) as arrays:
            return tuple(
                [ops.convert_to_tensor(arrays[name]) for name in sorted(arrays.files) if name.startswith(f"{group}_")]
                for group in STATE_GROUPS
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
    log.info("Keras backend: %s", keras.backend.backend())
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
            # Scalars as tensors: a changing Python float would make TensorFlow trace the step again.
            scalars = [ops.convert_to_tensor(value, "float32") for value in (learning_rate, adversarial_weight)]
            state, losses = trainer.step(state, lightness, chroma, *scalars)
            history.append(losses)
            step += 1
            if step % 10 == 0:
                recent = _mean_losses(history[-10:])
                show_progress(step, config.steps, 10 * config.batch / (time.monotonic() - started), g_adv=recent[0], g_l1=recent[1], d=recent[2])
                started = time.monotonic()
            if step % eval_every == 0 or step == config.steps or time.monotonic() >= deadline:
                snapshot = config.out / f"generator_step{step:05d}.weights.h5"
                trainer.save_generator(state, snapshot)
                adversarial, l1, critic = _mean_losses(history[-eval_every:])
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


def _mean_losses(history: list) -> np.ndarray:
    return np.mean([[float(value) for value in losses] for losses in history], axis=0)


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / "cgan_generator.weights.h5") -> None:
    """Ship the chosen generator snapshot (float16; loading restores float32)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config.out / chosen["snapshot"], destination)
    log.info("exported %s (step %d)", destination, chosen["step"])


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
