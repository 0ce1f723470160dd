"""The pix2pix cGAN: shapes, logits, losses on known tensors, two training steps, float16 weights, serving."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from colorizers import cgan, registry, settings  # noqa: E402
from colorizers.color import rgb_to_lightness  # noqa: E402


def test_generator_maps_lightness_to_chroma_in_range():
    generator = cgan.build_generator(image_size=32, base_filters=8)
    assert tuple(generator.input.shape[1:]) == (32, 32, 1)
    chroma = generator(tf.random.uniform((2, 32, 32, 1), -1, 1), training=False).numpy()
    assert chroma.shape == (2, 32, 32, 2)
    assert np.abs(chroma).max() <= 110.0 + 1e-4


def test_generator_has_unet_skips_and_dropout_only_in_first_decoder_blocks():
    generator = cgan.build_generator(image_size=64, base_filters=8)
    names = [layer.name for layer in generator.layers]
    assert sum(name.startswith("skip") for name in names) == int(math.log2(64)) - 1
    dropouts = sorted(name for name in names if name.endswith("_dropout"))
    assert dropouts == ["up2_dropout", "up3_dropout", "up4_dropout"]  # the first three decoder blocks


def test_discriminator_returns_unbounded_logits_per_patch():
    discriminator = cgan.build_discriminator(image_size=64, base_filters=8)
    assert discriminator.layers[-1].get_config().get("activation") in (None, "linear")
    logits = discriminator([tf.random.normal((1, 64, 64, 1)), tf.random.normal((1, 64, 64, 2)) * 5], training=False)
    assert logits.shape == (1, 6, 6, 1)
    assert not any("sigmoid" in str(layer.get_config().get("activation", "")) for layer in discriminator.layers)


def test_losses_on_known_logits():
    zero = tf.zeros((1, 2, 2, 1))
    # At logit 0 the probability is 1/2: each cross-entropy is log 2.
    assert float(cgan.discriminator_loss(zero, zero)) == pytest.approx(2 * math.log(2), rel=1e-5)
    confident = cgan.discriminator_loss(tf.fill((1, 2, 2, 1), 20.0), tf.fill((1, 2, 2, 1), -20.0))
    assert float(confident) < 1e-6
    chroma = tf.zeros((1, 2, 2, 2))
    total, adversarial, l1 = cgan.generator_loss(zero, chroma + 11.0, chroma, l1_weight=100.0)
    assert float(l1) == pytest.approx(0.1)
    assert float(total) == pytest.approx(math.log(2) + 100 * 0.1, rel=1e-5)


def test_float16_weights_round_trip_to_float32(tmp_path):
    generator = cgan.build_generator(image_size=32, base_filters=8)
    path = tmp_path / "g.weights.h5"
    cgan.save_generator_float16(generator, path)
    loaded = cgan.load_generator(path)
    for original, restored in zip(generator.get_weights(), loaded.get_weights()):
        assert restored.dtype == np.float32
        np.testing.assert_allclose(restored, original, rtol=1e-3, atol=1e-4)


def _photos(folder, count):
    rng = np.random.default_rng(3)
    paths = []
    for index in range(count):
        rgb = np.clip(rng.random(3) * np.linspace(0.2, 1, 90)[:, None, None] + rng.normal(0, 0.05, (90, 120, 3)), 0, 1)
        paths.append(folder / f"p{index}.png")
        Image.fromarray((rgb * 255).astype(np.uint8)).save(paths[-1])
    return paths


_TRAIN_IN_JAX = """
import json, sys
from pathlib import Path
from colorizers.training import train_cgan
photos, out = [Path(path) for path in json.loads(sys.argv[1])], Path(sys.argv[2])
for steps in (2, 4):  # the second call resumes the first
    config = train_cgan.Settings(steps=steps, batch=2, image_size=32, base_filters=8, evaluations=1, workers=1, out=out)
    chosen = train_cgan.train(config, photos[:2], photos[2:])
train_cgan.export(config, chosen, out / "exported.weights.h5")
print(json.dumps(chosen))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])  # this CPU's trainer, and the GPU machines'
def test_training_steps_resume_then_serve_through_registry(backend, tmp_path, monkeypatch):
    """Each backend trains in its own process (Keras picks its backend once per process)."""
    pytest.importorskip(backend)
    photos = _photos(tmp_path, 3)
    out = tmp_path / "run"
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(settings.REPO_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", _TRAIN_IN_JAX, json.dumps([str(path) for path in photos]), str(out)],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    chosen = json.loads(completed.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in (out / "validation.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [2, 4]  # resumed at 2 (a fresh start forgets earlier records)
    assert chosen["step"] in (2, 4) and np.isfinite(chosen["psnr"])
    assert all(np.isfinite(record["g_l1"]) and np.isfinite(record["d"]) for record in records)

    destination = tmp_path / "weights" / "cgan_generator.weights.h5"
    destination.parent.mkdir()
    (out / "exported.weights.h5").replace(destination)
    monkeypatch.setattr(settings, "WEIGHTS_DIR", destination.parent)
    monkeypatch.setattr(registry, "_loaded", {})
    photo = np.asarray(Image.open(photos[0]).convert("RGB"))[:77, :101]
    result = registry.colorize(photo, "cgan")
    assert result.rgb.shape == photo.shape
    np.testing.assert_allclose(rgb_to_lightness(result.rgb), rgb_to_lightness(photo), atol=1.5)


def test_learning_rate_is_constant_then_falls_linearly_to_zero():
    from colorizers.training.train_cgan import learning_rate_at

    assert learning_rate_at(0, 100, 2e-4) == learning_rate_at(50, 100, 2e-4) == 2e-4
    assert learning_rate_at(75, 100, 2e-4) == pytest.approx(1e-4)
    assert learning_rate_at(100, 100, 2e-4) == 0.0


def test_adam_update_matches_keras_adam():
    from colorizers.training.train_cgan import adam_initial, adam_update

    start = np.array([[0.5, -1.0], [2.0, 0.0]], np.float32)
    gradients = [np.array([[0.1, -0.3], [0.0, 2.0]], np.float32), np.array([[-0.2, 0.1], [0.5, -1.0]], np.float32)]
    variable = tf.Variable(start)
    reference = tf.keras.optimizers.Adam(1e-2, beta_1=0.5)
    parameters, state = [tf.constant(start)], adam_initial([tf.constant(start)])
    for gradient in gradients:
        reference.apply_gradients([(tf.constant(gradient), variable)])
        parameters, state = adam_update(parameters, [tf.constant(gradient)], state, 1e-2)
    np.testing.assert_allclose(parameters[0].numpy(), variable.numpy(), rtol=1e-5, atol=1e-7)
    assert not np.allclose(parameters[0].numpy(), start)
