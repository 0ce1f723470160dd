"""The fusion CNN in Keras, for training and export: MobileNetV2 encoder, Iizuka-style fusion with a global scene
vector, Zhang-style decoder (see `colorizers.cnn` for what it does; serving runs its ONNX export).

The mid-level 28x28 map is fused with a vector pooled from the top of the encoder, tiled over the map inside the
graph (so gradients reach it). The decoder predicts a distribution over quantised a/b bins at 56x56.
"""
from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from PIL import Image

from ..chroma_bins import gamut_bins
from ..cnn import EMBEDDING_LAYER, INPUT_SIZE, chosen_temperature
from ..color import AB_SCALE, encoder_input, resize_plane
from .backbone import pyramid_features

log = logging.getLogger(__name__)


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


class KerasCNN:
    """The trained CNN in Keras: what the ONNX export is made from (`serving_function`) and checked against.
    Serving runs `colorizers.cnn.CNNColorizer` on the export, with the same inputs and outputs."""

    def __init__(self, weights_path: Path, temperature: float | None = None):
        self.bins = gamut_bins()
        self.model = build_colorizer_model(build_encoder(), build_decoder(len(self.bins)))
        self.model.load_weights(weights_path)
        self.temperature = temperature or chosen_temperature(weights_path)
        self.embedder = _embedder(self.model)
        self.serve = self.serving_function()

    def serving_function(self):
        """gray (N, 224, 224, 1) in [-1, 1] and the annealing temperature -> {"ab": annealed-mean chroma (N, 56, 56,
        2), "embedding": pooled EMBEDDING_LAYER features (N, EMBEDDING_CHANNELS)}: the network as exported."""
        bins = tf.constant(self.bins)

        @tf.function(input_signature=[tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 1), tf.float32, name="gray"),
                                      tf.TensorSpec((), tf.float32, name="temperature")])
        def serve(gray, temperature):
            probabilities = tf.nn.softmax(self.model(gray, training=False) / temperature, axis=-1)
            chroma = tf.clip_by_value(tf.tensordot(probabilities, bins, axes=1), -AB_SCALE, AB_SCALE)
            embedding = self.embedder(tf.concat([gray, gray, gray], axis=-1), training=False)
            return {"ab": chroma, "embedding": embedding}

        return serve

    def _run(self, lightness: np.ndarray, temperature: float | None = None) -> dict:
        small = resize_plane(lightness, (INPUT_SIZE, INPUT_SIZE), resample=Image.BOX)
        outputs = self.serve(tf.constant(encoder_input(small)[None]), tf.constant(float(temperature or self.temperature)))
        return {name: value.numpy()[0] for name, value in outputs.items()}

    def embed(self, lightness: np.ndarray) -> np.ndarray:
        vector = self._run(lightness)["embedding"]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def predict_chroma(self, lightness: np.ndarray, temperature: float | None = None) -> tuple[np.ndarray, dict]:
        return self._run(lightness, temperature)["ab"], {}


def _embedder(model: keras.Model) -> keras.Model:
    """Gray shown as RGB (N, S, S, 3) -> pooled EMBEDDING_LAYER features, sharing the loaded model's weights."""
    features = next(layer for layer in model.get_layer("encoder").layers
                    if isinstance(layer, keras.Model) and any(inner.name == EMBEDDING_LAYER for inner in layer.layers))
    pooled = layers.GlobalAveragePooling2D()(features.get_layer(EMBEDDING_LAYER).output)
    return keras.Model(features.input, pooled)
