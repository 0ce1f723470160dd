"""The cGAN: a U-Net on the ImageNet encoder, PatchGAN logits, losses on known tensors, both training phases on both
backends, float16 weights, serving."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from colorizers import registry, settings  # noqa: E402
from colorizers.training import cgan_model as cgan  # noqa: E402
from colorizers.training.export_onnx import export_cgan  # noqa: E402
from colorizers.color import rgb_to_lightness  # noqa: E402


def test_generator_maps_gray_to_half_size_chroma_in_range():
    generator = cgan.build_generator(image_size=64)
    assert tuple(generator.input.shape[1:]) == (64, 64, 1)
    chroma = generator(tf.random.uniform((2, 64, 64, 1), -1, 1), training=False).numpy()
    assert chroma.shape == (2, 32, 32, 2)
    assert np.abs(chroma).max() <= 110.0 + 1e-4


def test_generator_is_a_unet_on_the_imagenet_encoder_with_resize_then_convolve_blocks():
    generator = cgan.build_generator(image_size=64)
    encoders = [layer for layer in generator.layers
                if isinstance(layer, tf.keras.Model) and any(inner.name == "block_12_add" for inner in layer.layers)]
    assert len(encoders) == 1  # MobileNetV2's feature maps are the skips
    decoder = generator.get_layer("generator_decoder")
    assert [tensor.name.split(":")[0] for tensor in decoder.inputs] == list(cgan.GENERATOR_INPUTS)
    kinds = [type(layer).__name__ for layer in decoder.layers]
    assert "Conv2DTranspose" not in kinds  # no checkerboard-prone transposed convolutions
    assert kinds.count("UpSampling2D") == 4  # 1/32 -> 1/16 -> 1/8 -> 1/4 -> 1/2
    assert decoder.get_layer("chroma").get_config()["activation"] == "tanh"
    # Every skip reaches the output: the chroma depends on each input.
    inputs = [tf.random.normal((1, *tensor.shape[1:])) for tensor in decoder.inputs]
    with tf.GradientTape() as tape:
        for tensor in inputs:
            tape.watch(tensor)
        chroma = decoder(inputs, training=False)
    assert all(float(tf.reduce_max(tf.abs(gradient))) > 0 for gradient in tape.gradient(chroma, inputs))


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
    generator = cgan.build_generator(image_size=64)
    path = tmp_path / "g.weights.h5"
    cgan.save_generator_float16(generator, path)
    loaded = cgan.load_generator(path)
    for original, restored in zip(generator.get_weights(), loaded.get_weights()):
        assert restored.dtype == np.float32
        np.testing.assert_allclose(restored, original, rtol=1e-3, atol=1e-4)


def test_an_old_pix2pix_weights_file_is_refused_with_a_message(tmp_path):
    import h5py

    path = tmp_path / "old.weights.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["image_size"] = 128
        handle.attrs["base_filters"] = 32
    with pytest.raises(ValueError, match="another generator architecture"):
        cgan.load_generator(path)


def _photos(folder, count):
    rng = np.random.default_rng(3)
    paths = []
    for index in range(count):
        rgb = np.clip(rng.random(3) * np.linspace(0.2, 1, 90)[:, None, None] + rng.normal(0, 0.05, (90, 120, 3)), 0, 1)
        paths.append(folder / f"p{index}.png")
        Image.fromarray((rgb * 255).astype(np.uint8)).save(paths[-1])
    return paths


_TRAIN_IN_BACKEND = """
import json, sys
from pathlib import Path
from colorizers.training import train_cgan
photos, out = [Path(path) for path in json.loads(sys.argv[1])], Path(sys.argv[2])
validation = {"foreign": photos[2:3], "val": photos[3:]}
for adversarial_steps in (2, 4):  # the second call resumes the first
    config = train_cgan.Settings(crops=6, batch=2, pretrain_steps=4, patience=5, adversarial_steps=adversarial_steps,
                                 image_size=64, eval_every=2, out=out)
    chosen = train_cgan.train(config, photos[:2], validation, backbone=None, cache_dir=out / "cache")
train_cgan.export(config, chosen, out / "exported.weights.h5", backbone=None)
print(json.dumps(chosen))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])  # this CPU's trainer, and the GPU machines'
def test_both_phases_resume_then_serve_through_registry(backend, tmp_path, monkeypatch):
    """Each backend trains in its own process (Keras picks its backend once per process)."""
    pytest.importorskip(backend)
    photos = _photos(tmp_path, 4)
    out = tmp_path / "run"
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(settings.REPO_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-c", _TRAIN_IN_BACKEND, json.dumps([str(path) for path in photos]), str(out)],
        capture_output=True, text=True, env=environment, timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    chosen = json.loads(completed.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in (out / "validation.jsonl").read_text().splitlines()]
    # Phase 1 to its step budget (4), then the adversarial phase to 6, resumed to 8.
    assert [(record["step"], record["phase"]) for record in records] == [
        (2, "pretrain"), (4, "pretrain"), (6, "adversarial"), (8, "adversarial")]
    assert all(record["psnr"] == record["foreign"]["psnr"] and np.isfinite(record["val"]["psnr"]) for record in records)
    assert chosen["step"] in (2, 4, 6, 8) and np.isfinite(chosen["psnr"])
    assert all(np.isfinite(record["losses"]).all() for record in records)

    destination = tmp_path / "weights" / "cgan_generator.weights.h5"
    destination.parent.mkdir()
    (out / "exported.weights.h5").replace(destination)
    export_cgan(destination, destination.parent / "cgan.onnx")  # what serving runs (TensorFlow exports either)
    monkeypatch.setattr(settings, "WEIGHTS_DIR", destination.parent)
    monkeypatch.setattr(registry, "_loaded", {})
    photo = np.asarray(Image.open(photos[0]).convert("RGB"))[:77, :101]
    result = registry.colorize(photo, "cgan")
    assert result.rgb.shape == photo.shape and result.chroma.shape == (32, 32, 2)
    np.testing.assert_allclose(rgb_to_lightness(result.rgb), rgb_to_lightness(photo), atol=1.5)


def test_phase_one_ends_when_the_foreign_score_stalls_or_the_budget_is_spent():
    from colorizers.training.train_cgan import ADVERSARIAL, PRETRAIN, Settings, _phase

    config = Settings(pretrain_steps=1000, patience=2)
    record = lambda step, psnr, phase=PRETRAIN: {"step": step, "psnr": psnr, "phase": phase}  # noqa: E731
    assert _phase([], config) == PRETRAIN
    assert _phase([record(100, 20.0), record(200, 21.0), record(300, 20.9)], config) == PRETRAIN
    assert _phase([record(100, 20.0), record(200, 21.0), record(300, 20.9), record(400, 20.8)], config) == ADVERSARIAL
    assert _phase([record(500, 20.0), record(1000, 21.0)], config) == ADVERSARIAL
    assert _phase([record(100, 20.0), record(200, 19.0, ADVERSARIAL)], config) == ADVERSARIAL


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
