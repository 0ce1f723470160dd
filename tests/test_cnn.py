"""The fusion CNN: shapes, gradient through the fusion, a two-step training run, the shipped weights."""
import json

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from colorizers import cnn, registry, settings  # noqa: E402
from colorizers.color import encoder_input  # noqa: E402
from colorizers.training import cnn_model  # noqa: E402
from colorizers.training.export_onnx import export_cnn  # noqa: E402
from colorizers.chroma_bins import gamut_bins  # noqa: E402
from colorizers.color import rgb_to_lightness  # noqa: E402
from colorizers.training import train_cnn  # noqa: E402


@pytest.fixture(scope="module")
def small_network():
    encoder = cnn_model.build_encoder(input_size=cnn.INPUT_SIZE, weights_file=None)
    decoder = cnn_model.build_decoder(len(gamut_bins()))
    return encoder, decoder, cnn_model.build_colorizer_model(encoder, decoder)


def test_network_shapes(small_network):
    encoder, decoder, model = small_network
    assert [tuple(output.shape[1:]) for output in encoder.outputs] == [(56, 56, 24), (28, 28, 32), (14, 14, 96), (1280,)]
    assert tuple(model.output.shape[1:]) == (cnn.OUTPUT_SIZE, cnn.OUTPUT_SIZE, len(gamut_bins()))


def test_global_vector_reaches_every_position_with_gradient(small_network):
    _, decoder, _ = small_network
    inputs = [tf.random.normal((1, *tensor.shape[1:])) for tensor in decoder.inputs]
    with tf.GradientTape() as tape:
        tape.watch(inputs[3])
        logits = decoder(inputs, training=False)
        corner = tf.reduce_sum(logits[:, 0, 0]) + tf.reduce_sum(logits[:, -1, -1])
    gradient = tape.gradient(corner, inputs[3])
    assert gradient is not None and float(tf.reduce_max(tf.abs(gradient))) > 0


def test_tile_over_map_repeats_the_vector():
    vector = tf.constant([[1.0, 2.0]])
    tiled = cnn_model.TileOverMap()(vector, tf.zeros((1, 3, 4, 7)))
    assert tiled.shape == (1, 3, 4, 2)
    np.testing.assert_array_equal(tiled.numpy()[0, 2, 3], [1.0, 2.0])


def test_encoder_input_is_the_gray_photo_scaled_to_unit_range():
    lightness = np.array([[0.0, 50.0, 100.0]], dtype=np.float32)
    scaled = encoder_input(lightness)[..., 0]
    np.testing.assert_allclose(scaled[0, [0, 2]], [-1.0, 1.0], atol=1e-5)
    assert abs((scaled[0, 1] + 1) / 2 * 255 - 119) < 1.5  # L 50 is sRGB gray 119


def _generated_photos(folder, count, seed):
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        gradient = np.linspace(0, 1, 300)[None, :, None] * rng.random(3) + rng.random(3) * 0.3
        rgb = np.clip(np.broadcast_to(gradient, (260, 300, 3)) + rng.normal(0, 0.05, (260, 300, 3)), 0, 1)
        path = folder / f"photo{index}.png"
        Image.fromarray((rgb * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def test_two_training_steps_then_export_and_serve(tmp_path, monkeypatch):
    config = train_cnn.Settings(crops=8, steps=2, batch=4, eval_every=2, out=tmp_path / "run")
    photos = _generated_photos(tmp_path, 4, seed=1)
    validation = {"foreign": photos[3:4], "val": photos[2:3]}
    chosen = train_cnn.train(config, photos[:2], validation, backbone=None, cache_dir=tmp_path / "cache")
    assert chosen["step"] == 2 and np.isfinite(chosen["psnr"])
    records = [json.loads(line) for line in (config.out / "validation.jsonl").read_text().splitlines()]
    assert len(records) == len(train_cnn.decodings()) == len(train_cnn.TEMPERATURES) * len(train_cnn.PRIOR_CORRECTIONS)
    # The choice is made on the foreign split; both splits are recorded.
    assert all(record["psnr"] == record["foreign"]["psnr"] and np.isfinite(record["val"]["psnr"]) for record in records)
    assert json.loads((config.out / "chosen.json").read_text())["split"] == "foreign"

    weights = tmp_path / "weights" / "cnn.weights.h5"
    train_cnn.export(config, chosen, weights, backbone=None)
    assert json.loads((weights.parent / "cnn.json").read_text())["temperature"] == chosen["temperature"]
    export_cnn(weights, weights.parent / "cnn.onnx")  # what serving runs

    monkeypatch.setattr(settings, "WEIGHTS_DIR", weights.parent)
    monkeypatch.setattr(registry, "_loaded", {})
    assert "cnn" in [info.name for info in registry.available_models()]
    photo = np.asarray(Image.open(photos[0]).convert("RGB"))[:201, :157]
    result = registry.colorize(photo, "cnn")
    assert result.rgb.shape == photo.shape
    np.testing.assert_allclose(rgb_to_lightness(result.rgb), rgb_to_lightness(photo), atol=1.5)
    assert result.chroma.shape == (cnn.OUTPUT_SIZE, cnn.OUTPUT_SIZE, 2)


def test_prior_correction_is_folded_into_the_last_bias(small_network):
    _, decoder, _ = small_network
    inputs = [tf.random.normal((1, *tensor.shape[1:])) for tensor in decoder.inputs]
    before = decoder(inputs, training=False).numpy()
    shift = np.random.default_rng(0).normal(0, 1, before.shape[-1]).astype(np.float32)
    original = [weight.copy() for weight in decoder.get_layer("chroma_logits").get_weights()]
    try:
        train_cnn.fold_prior_correction(decoder, shift)
        np.testing.assert_allclose(decoder(inputs, training=False).numpy(), before - shift, atol=1e-4)
    finally:
        decoder.get_layer("chroma_logits").set_weights(original)
