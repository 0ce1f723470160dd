"""The fusion CNN: MobileNetV2 encoder, Iizuka-style fusion with a global scene vector, Zhang-style decoder.

Input: lightness resized to 224x224, shown to MobileNetV2 as the gray sRGB photo it was trained on, scaled to
[-1, 1] and repeated to three channels. A mid-level 28x28 map is fused with a vector pooled from the top of the
encoder, tiled over the map inside the graph (so gradients reach it). The decoder predicts a distribution over
quantised a/b bins at 56x56 (1/4 of the input, as Zhang did); the annealed mean turns it into a/b, and the chroma
merge brings that to the photo's full size with its original lightness.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image
import keras
from keras import layers

from .backbone import encoder_input, pyramid_features
from .chroma_bins import gamut_bins
from .color import AB_SCALE, resize_plane

log = logging.getLogger(__name__)

INPUT_SIZE = 224
OUTPUT_SIZE = 56
DEFAULT_TEMPERATURE = 0.38
# The backbone layer whose pooled features describe a photo's content (the last one still ImageNet's: see
# backbone.py), and its channels.
EMBEDDING_LAYER = "block_13_expand_relu"
EMBEDDING_CHANNELS = 576


def build_encoder(input_size: int = INPUT_SIZE, weights_file: Path | None = None) -> keras.Model:
    """Gray image (S, S, 1) in [-1, 1] -> [detail (S/4), mid (S/8), deep (S/16) maps, global vector (1280,)]."""
    gray = keras.Input((input_size, input_size, 1), name="gray")
    detail, mid, deep, top = pyramid_features(gray, weights_file)
    global_vector = layers.GlobalAveragePooling2D(name="global_pool")(top)
    return keras.Model(gray, [detail, mid, deep, global_vector], name="encoder")


@keras.saving.register_keras_serializable(package="colorizers")
class TileOverMap(layers.Layer):
    """Repeat a vector (B, C) at every position of a map (B, H, W, D) -> (B, H, W, C), inside the graph."""

    def call(self, vector, feature_map):
        shape = tf.shape(feature_map)
        return tf.tile(vector[:, None, None, :], [1, shape[1], shape[2], 1])


def _separable_block(tensor, filters: int, name: str):
    tensor = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(tensor)
    tensor = layers.BatchNormalization(name=f"{name}_bn")(tensor)
    return layers.ReLU(name=f"{name}_relu")(tensor)


def build_decoder(bin_count: int, input_size: int = INPUT_SIZE) -> keras.Model:
    """Encoder features -> logits (S/4, S/4, Q) over chroma bins."""
    detail = keras.Input((input_size // 4, input_size // 4, 24), name="detail")
    mid = keras.Input((input_size // 8, input_size // 8, 32), name="mid")
    deep = keras.Input((input_size // 16, input_size // 16, 96), name="deep")
    global_vector = keras.Input((1280,), name="global_vector")

    scene = layers.Dense(256, activation="relu", name="scene")(global_vector)
    deep_up = layers.UpSampling2D(2, interpolation="bilinear", name="deep_up")(
        layers.Conv2D(256, 1, activation="relu", name="deep_proj")(deep)
    )
    mid_proj = layers.Conv2D(96, 1, activation="relu", name="mid_proj")(mid)
    tiled_scene = TileOverMap(name="tile_scene")(scene, mid_proj)
    fused = layers.Concatenate(name="fusion_concat")([deep_up, mid_proj, tiled_scene])
    fused = layers.Conv2D(256, 1, activation="relu", name="fusion")(fused)
    tensor = _separable_block(fused, 256, "dec28_a")
    tensor = _separable_block(tensor, 256, "dec28_b")
    tensor = layers.UpSampling2D(2, interpolation="bilinear", name="up56")(tensor)
    detail_proj = layers.Conv2D(48, 1, activation="relu", name="detail_proj")(detail)
    tensor = layers.Concatenate(name="detail_concat")([tensor, detail_proj])
    tensor = _separable_block(tensor, 128, "dec56_a")
    tensor = _separable_block(tensor, 128, "dec56_b")
    logits = layers.Conv2D(bin_count, 1, name="chroma_logits")(tensor)
    return keras.Model([detail, mid, deep, global_vector], logits, name="decoder")


def build_colorizer_model(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """Gray (S, S, 1) -> chroma logits (S/4, S/4, Q): the whole network, as shipped."""
    gray = keras.Input(encoder.input.shape[1:], name="gray")
    return keras.Model(gray, decoder(encoder(gray)), name="fusion_cnn")


class CNNColorizer:
    """The trained CNN, loaded once; inference is one compiled call plus the annealed mean."""

    def __init__(self, weights_path: Path, temperature: float | None = None):
        self.bins = gamut_bins()
        self.size = INPUT_SIZE
        self.model = build_colorizer_model(build_encoder(), build_decoder(len(self.bins)))
        self.model.load_weights(weights_path)
        self.temperature = temperature or _chosen_temperature(weights_path)
        bins = tf.constant(self.bins)

        @tf.function(input_signature=[tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 1), tf.float32), tf.TensorSpec((), tf.float32)])
        def predict(gray, temperature):
            probabilities = tf.nn.softmax(self.model(gray, training=False) / temperature, axis=-1)
            return tf.clip_by_value(tf.tensordot(probabilities, bins, axes=1), -AB_SCALE, AB_SCALE)

        self._predict = predict
        self._predict(tf.zeros((1, INPUT_SIZE, INPUT_SIZE, 1)), tf.constant(self.temperature))  # warm up (traces once)
        self._embed = _embedding_function(self.model)
        log.info("CNN loaded from %s", weights_path)

    def embed(self, lightness: np.ndarray) -> np.ndarray:
        """What the photo shows, for finding references by content: float32 (EMBEDDING_CHANNELS,), unit length.

        MobileNetV2's EMBEDDING_LAYER map of the gray photo at 224x224, averaged over positions. That layer's
        weights are ImageNet's, frozen in training, so retraining the CNN never changes an embedding."""
        small = resize_plane(lightness, (INPUT_SIZE, INPUT_SIZE), resample=Image.BOX)
        vector = self._embed(tf.constant(encoder_input(small)[None])).numpy()[0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def predict_chroma(self, lightness: np.ndarray, temperature: float | None = None) -> tuple[np.ndarray, dict]:
        """Chroma (56, 56, 2) for lightness (H, W); the chroma merge brings it to (H, W)."""
        small = resize_plane(lightness, (INPUT_SIZE, INPUT_SIZE), resample=Image.BOX)
        gray = encoder_input(small)[None]
        chroma = self._predict(tf.constant(gray), tf.constant(float(temperature or self.temperature)))
        return chroma.numpy()[0], {}


def _embedding_function(model: keras.Model):
    """A compiled gray (1, S, S, 1) -> pooled EMBEDDING_LAYER features, sharing the loaded model's weights."""
    features = next(layer for layer in model.get_layer("encoder").layers
                    if isinstance(layer, keras.Model) and any(inner.name == EMBEDDING_LAYER for inner in layer.layers))
    pooled = layers.GlobalAveragePooling2D()(features.get_layer(EMBEDDING_LAYER).output)
    embedder = keras.Model(features.input, pooled)

    @tf.function(input_signature=[tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 1), tf.float32)])
    def embed(gray):
        return embedder(tf.concat([gray, gray, gray], axis=-1), training=False)

    embed(tf.zeros((1, INPUT_SIZE, INPUT_SIZE, 1)))  # warm up
    return embed


def _chosen_temperature(weights_path: Path) -> float:
    """The annealing temperature chosen on validation, stored beside the weights by the training export."""
    sidecar = Path(weights_path).with_suffix("").with_suffix(".json")
    return float(json.loads(sidecar.read_text())["temperature"]) if sidecar.exists() else DEFAULT_TEMPERATURE


def load_colorizer(weights_path: Path) -> CNNColorizer:
    return CNNColorizer(weights_path)
