"""Train the cGAN generator on the ImageNet encoder: `python -m colorizers.training.train_cgan` (`make train-cgan`).

The encoder half is the frozen ImageNet MobileNetV2 the CNN uses, so the generator's decoder trains from the
encoder features both trainers cache once per crop (`features.py`). Two phases, as the best-known GAN colorizer
(DeOldify's "NoGAN") trained:
1. the decoder alone on a per-pixel L1 loss, scored on the foreign split every `--eval-every` steps, until the
   foreign PSNR has not improved for `--patience` evaluations (or `--pretrain-steps`);
2. a short adversarial phase (`--adversarial-steps`) against the 70x70 PatchGAN (Adam 2e-4 falling linearly to
   zero, beta1 0.5, as in pix2pix), starting from phase 1's best snapshot.
The generator's weights are averaged over the steps (an exponential moving average, as GAN generators usually
are); every evaluation scores and saves the average as a float16 snapshot, with a resume point; at the end `loop.choose` picks the snapshot on the
**foreign** split, and the export puts that decoder on the encoder as the served generator.

One trainer for two Keras backends: TensorFlow on this CPU and JAX on the GPU machines sometimes lent here, which
have JAX but no TensorFlow (`KERAS_BACKEND=jax`). The step is written with Keras' stateless calls; only taking
gradients and compiling differ by backend. Re-running resumes; `--minutes` stops early and still chooses.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from .. import settings
from .backbone import BACKBONE_FILE
from .cgan_model import (
    GENERATOR_INPUTS,
    IMAGE_SIZE,
    L1_WEIGHT,
    build_discriminator,
    build_generator,
    build_generator_decoder,
    discriminator_loss,
    generator_loss,
    load_float16_weights,
    save_float16,
    save_generator_float16,
)
from ..color import AB_SCALE
from .data import PHOTOS_DIR
from .features import held_out_splits, training_features
from .loop import command_line, record_choice, score_chroma, show_progress

log = logging.getLogger("colorizers.training.train_cgan")

STATE_GROUPS = ("g_trainable", "g_other", "g_adam", "d_trainable", "d_other", "d_adam", "g_average")
PRETRAIN, ADVERSARIAL = "pretrain", "adversarial"


@dataclass
class Settings:
    crops: int = 8000
    batch: int = 16
    pretrain_steps: int = 3000
    patience: int = 3
    adversarial_steps: int = 600
    image_size: int = IMAGE_SIZE
    learning_rate: float = 2e-4
    adversarial_learning_rate: float = 2e-4
    average_decay: float = 0.995
    l1_weight: float = L1_WEIGHT
    eval_every: int = 150
    minutes: float | None = None
    seed: int = 0
    photos: Path = PHOTOS_DIR  # a GPU machine gets the photos packed small (scripts/pack_photos.py)
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
    """Compiled, stateless training steps; the state is a tuple of seven lists of arrays (see STATE_GROUPS).

    `g_average` is an exponential moving average of the generator's trainable weights (decay `average_decay`):
    what is scored, saved and shipped. Single snapshots swing by half a dB on the foreign split from one
    evaluation to the next; the average does not."""

    def __init__(self, config: Settings):
        keras.utils.set_random_seed(config.seed)
        self.generator = build_generator_decoder(config.image_size)
        self.discriminator = build_discriminator(config.image_size // 2)
        self.l1_weight = config.l1_weight
        self.average_decay = config.average_decay
        self.step = compiled(self._step, donate_first=True)
        self.pretrain_step = compiled(self._pretrain_step, donate_first=True)
        self.predict = compiled(self._predict)

    def initial_state(self) -> tuple:
        values = lambda variables: [ops.copy(variable.value) for variable in variables]  # noqa: E731
        g_trainable, d_trainable = values(self.generator.trainable_variables), values(self.discriminator.trainable_variables)
        return (
            g_trainable, values(self.generator.non_trainable_variables), adam_initial(g_trainable),
            d_trainable, values(self.discriminator.non_trainable_variables), adam_initial(d_trainable),
            [ops.copy(value) for value in g_trainable],
        )

    def _averaged(self, average: list, parameters: list) -> list:
        decay = self.average_decay
        return [decay * mean + (1.0 - decay) * parameter for mean, parameter in zip(average, parameters)]

    def _pretrain_step(self, state, inputs, true_chroma, learning_rate):
        """Phase 1: the generator alone, per-pixel L1 (the critic is untouched)."""
        g_trainable, g_other, g_adam, d_trainable, d_other, d_adam, g_average = state

        def objective(g_trainable):
            fake_chroma, g_other_after = self.generator.stateless_call(g_trainable, g_other, inputs, training=True)
            l1 = ops.mean(ops.abs(fake_chroma - true_chroma)) / AB_SCALE
            return l1, g_other_after

        (l1, g_other), gradients = value_and_gradient(objective)(g_trainable)
        g_trainable, g_adam = adam_update(g_trainable, gradients, g_adam, learning_rate, beta_1=0.9)
        g_average = self._averaged(g_average, g_trainable)
        return (g_trainable, g_other, g_adam, d_trainable, d_other, d_adam, g_average), l1

    def _step(self, state, inputs, true_chroma, learning_rate):
        """Phase 2: one generator and one critic update; the critic sees (gray at half size, chroma / 110)."""
        g_trainable, g_other, g_adam, d_trainable, d_other, d_adam, g_average = state
        generator, discriminator = self.generator, self.discriminator
        gray = inputs[GENERATOR_INPUTS.index("gray_half")]

        def generator_objective(g_trainable):
            fake_chroma, g_other_after = generator.stateless_call(g_trainable, g_other, inputs, training=True)
            fake_logits, _ = discriminator.stateless_call(d_trainable, d_other, [gray, fake_chroma / AB_SCALE], training=True)
            total, adversarial, l1 = generator_loss(fake_logits, fake_chroma, true_chroma, self.l1_weight)
            return total, (fake_chroma, g_other_after, adversarial, l1)

        def discriminator_objective(d_trainable, fake_chroma):
            real_logits, after_real = discriminator.stateless_call(d_trainable, d_other, [gray, true_chroma / AB_SCALE], training=True)
            fake_logits, after_fake = discriminator.stateless_call(d_trainable, after_real, [gray, fake_chroma / AB_SCALE], training=True)
            return discriminator_loss(real_logits, fake_logits), after_fake

        (_, (fake_chroma, g_other, adversarial, l1)), g_gradients = value_and_gradient(generator_objective)(g_trainable)
        (critic, d_other), d_gradients = value_and_gradient(discriminator_objective)(d_trainable, ops.stop_gradient(fake_chroma))
        g_trainable, g_adam = adam_update(g_trainable, g_gradients, g_adam, learning_rate)
        d_trainable, d_adam = adam_update(d_trainable, d_gradients, d_adam, learning_rate)
        g_average = self._averaged(g_average, g_trainable)
        return (g_trainable, g_other, g_adam, d_trainable, d_other, d_adam, g_average), (adversarial, l1, critic)

    def _predict(self, g_trainable, g_other, lightness):
        return self.generator.stateless_call(g_trainable, g_other, lightness, training=False)[0]

    def score(self, state, views: list[np.ndarray], cache: dict[str, np.ndarray]) -> dict:
        inputs = [cache[name].astype(np.float32) for name in GENERATOR_INPUTS]
        return score_chroma(views, list(np.asarray(self.predict(state[6], state[1], inputs))))

    def save_snapshot(self, state, path: Path) -> None:
        """The generator's averaged decoder in `state` as a float16 weights file (`export` puts it on the encoder)."""
        for variable, value in zip(self.generator.trainable_variables + self.generator.non_trainable_variables, state[6] + state[1]):
            variable.assign(value)
        save_float16(self.generator, path)

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


def batch_arrays(cache: dict[str, np.ndarray], chosen: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The generator's inputs (GENERATOR_INPUTS order) and true chroma of the cached crops `chosen`, float32."""
    return [cache[name][chosen].astype(np.float32) for name in GENERATOR_INPUTS], cache["chroma"][chosen].astype(np.float32)


def train(config: Settings, train_paths: list[Path], validation: dict[str, list[Path]],
          backbone: Path | None = BACKBONE_FILE, cache_dir: Path | None = None) -> dict:
    """Run (or resume) both phases; returns the chosen record. Writes everything under config.out."""
    config.out.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + 60 * config.minutes if config.minutes else float("inf")
    log.info("Keras backend: %s", keras.backend.backend())
    train_cache = training_features(train_paths, config.crops, config.image_size, config.seed, backbone, cache_dir)
    splits, chosen_split, grays = held_out_splits(validation, config.image_size, backbone, cache_dir)
    trainer = Trainer(config)
    resume_path, records_path = config.out / "resume.npz", config.out / "validation.jsonl"
    records = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
    if resume_path.exists() and records:
        state, step = trainer.load_state(resume_path), records[-1]["step"]
        log.info("resumed from %s at step %d", resume_path, step)
    else:
        state, step, records = trainer.initial_state(), 0, []
    rng = np.random.default_rng(config.seed + step)
    history, started = [], time.monotonic()

    def evaluate(phase: str) -> None:
        snapshot = config.out / f"decoder_step{step:05d}.weights.h5"
        trainer.save_snapshot(state, snapshot)
        losses = _mean_losses(history[-config.eval_every:])
        row = {"step": step, "phase": phase, "snapshot": snapshot.name, "losses": [float(value) for value in losses]}
        row.update({name: trainer.score(state, views, cache) for name, (views, cache) in splits.items()})
        row.update({key: row[chosen_split][key] for key in ("psnr", "cf", "dcf")})
        records.append(row)
        trainer.save_state(state, resume_path)
        records_path.write_text("".join(json.dumps(record) + "\n" for record in records))
        log.info("step %d (%s): %s", step, phase, "; ".join(
            f"{name} PSNR {row[name]['psnr']:.2f} dB (gray {grays[name]['psnr']:.2f}) CF {row[name]['cf']:.1f} dCF {row[name]['dcf']:.1f}"
            for name in splits))

    while _phase(records, config) == PRETRAIN and time.monotonic() < deadline:
        inputs, chroma = batch_arrays(train_cache, np.sort(rng.integers(0, len(train_cache["chroma"]), config.batch)))
        state, l1 = trainer.pretrain_step(state, inputs, chroma, ops.convert_to_tensor(config.learning_rate, "float32"))
        history.append((0.0, l1, 0.0))
        step += 1
        started = _progress(step, config, history, started)
        if step % config.eval_every == 0:
            evaluate(PRETRAIN)
    if _phase(records, config) == ADVERSARIAL and not any(record["phase"] == ADVERSARIAL for record in records):
        best = max((record for record in records if record["phase"] == PRETRAIN), key=lambda record: record["psnr"])
        log.info("phase 1 ends; the adversarial phase starts from step %d (foreign PSNR %.2f dB)", best["step"], best["psnr"])
        state = _with_generator(trainer, state, config.out / best["snapshot"])
    end = _phase_one_end(records) + config.adversarial_steps
    while _phase(records, config) == ADVERSARIAL and step < end and time.monotonic() < deadline:
        inputs, chroma = batch_arrays(train_cache, np.sort(rng.integers(0, len(train_cache["chroma"]), config.batch)))
        rate = learning_rate_at(step - _phase_one_end(records), config.adversarial_steps, config.adversarial_learning_rate)
        state, losses = trainer.step(state, inputs, chroma, ops.convert_to_tensor(rate, "float32"))
        history.append(losses)
        step += 1
        started = _progress(step, config, history, started)
        if step % config.eval_every == 0 or step == end:
            evaluate(ADVERSARIAL)
    return record_choice(config.out, records, grays, chosen_split)


def _phase(records: list[dict], config: Settings) -> str:
    """PRETRAIN until the chosen split's PSNR has not improved for `patience` evaluations (or the step budget)."""
    pretrain = [record for record in records if record["phase"] == PRETRAIN]
    if any(record["phase"] == ADVERSARIAL for record in records) or not pretrain:
        return ADVERSARIAL if pretrain else PRETRAIN
    best_index = max(range(len(pretrain)), key=lambda index: pretrain[index]["psnr"])
    stalled = len(pretrain) - 1 - best_index >= config.patience
    return ADVERSARIAL if stalled or pretrain[-1]["step"] >= config.pretrain_steps else PRETRAIN


def _phase_one_end(records: list[dict]) -> int:
    return max(record["step"] for record in records if record["phase"] == PRETRAIN)


def _with_generator(trainer: Trainer, state: tuple, snapshot: Path) -> tuple:
    """`state` with the generator's weights from a snapshot (and a fresh Adam for it)."""
    load_float16_weights(trainer.generator, snapshot)
    g_trainable = [ops.copy(variable.value) for variable in trainer.generator.trainable_variables]
    g_other = [ops.copy(variable.value) for variable in trainer.generator.non_trainable_variables]
    return (g_trainable, g_other, adam_initial(g_trainable), *state[3:6], [ops.copy(value) for value in g_trainable])


def _progress(step: int, config: Settings, history: list, started: float) -> float:
    if step % 10:
        return started
    recent = _mean_losses(history[-10:])
    total = config.pretrain_steps + config.adversarial_steps
    show_progress(step, total, 10 * config.batch / (time.monotonic() - started), g_adv=recent[0], g_l1=recent[1], d=recent[2])
    return time.monotonic()


def _mean_losses(history: list) -> np.ndarray:
    return np.mean([[float(value) for value in losses] for losses in history], axis=0)


def export(config: Settings, chosen: dict, destination: Path = settings.WEIGHTS_DIR / "cgan_generator.weights.h5",
           backbone: Path | None = BACKBONE_FILE) -> None:
    """Put the chosen decoder snapshot on the ImageNet encoder and ship the whole generator (float16)."""
    decoder = build_generator_decoder(config.image_size)
    load_float16_weights(decoder, config.out / chosen["snapshot"])
    save_generator_float16(build_generator(config.image_size, backbone, decoder), destination)
    log.info("exported %s (step %d)", destination, chosen["step"])


def main(argv: list[str] | None = None) -> int:
    return command_line(Settings, train, export, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
