"""The pix2pix cGAN: shapes, logits, losses on known tensors, two training steps, float16 weights, serving."""
import math

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from colorizers import cgan, registry, settings, train_cgan  # noqa: E402
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


def test_two_training_steps_then_serve_through_registry(tmp_path, monkeypatch):
    config = train_cgan.Settings(steps=2, batch=2, image_size=32, base_filters=8, eval_every=2, out=tmp_path / "run")
    photos = _photos(tmp_path, 3)
    chosen = train_cgan.train(config, photos[:2], photos[2:])
    assert chosen["step"] == 2 and np.isfinite(chosen["psnr"])
    destination = tmp_path / "weights" / "cgan_generator.weights.h5"
    train_cgan.export(config, chosen, destination)

    monkeypatch.setattr(settings, "WEIGHTS_DIR", destination.parent)
    monkeypatch.setattr(registry, "_loaded", {})
    photo = np.asarray(Image.open(photos[0]).convert("RGB"))[:77, :101]
    result = registry.colorize(photo, "cgan")
    assert result.rgb.shape == photo.shape
    np.testing.assert_allclose(rgb_to_lightness(result.rgb), rgb_to_lightness(photo), atol=1.5)
