"""The scratch detector in Keras, for training and export (see `colorizers.scratch_detector`; serving runs its
ONNX export).

A small U-Net: lightness (H, W, 1) in [0, 100] -> logits of a scratch and of dust (H, W, 2). Three levels below
the full size (1/2, 1/4, 1/8) give it a view of about 100 px, enough to see that a thin mark runs on as a line
where a photo's own thin things (a branch, a wire, a ruled line) are part of something larger.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from ..scratch_detector import SIZE_MULTIPLE

CHANNELS = (16, 24, 32, 32)  # full size, 1/2, 1/4, 1/8
OUTPUTS = ("scratches", "dust")


def _convs(tensor, channels: int, name: str):
    for index in (1, 2):
        tensor = layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"{name}_conv{index}")(tensor)
    return tensor


def build_scratch_detector(channels: tuple[int, ...] = CHANNELS) -> keras.Model:
    """The U-Net: L (N, H, W, 1) in [0, 100] (H, W multiples of 2 ** (len(channels) - 1)) -> logits (N, H, W, 2)."""
    assert 2 ** (len(channels) - 1) == SIZE_MULTIPLE
    lightness = keras.Input((None, None, 1), name="lightness")
    tensor = layers.Rescaling(1 / 50.0, offset=-1.0, name="scaled")(lightness)  # L 0..100 -> -1..1
    skips = []
    for level, width in enumerate(channels):
        if level:
            tensor = layers.MaxPooling2D(2, name=f"down{level}")(tensor)
        tensor = _convs(tensor, width, f"enc{level}")
        skips.append(tensor)
    for level in range(len(channels) - 2, -1, -1):
        tensor = layers.Conv2DTranspose(channels[level], 2, strides=2, name=f"up{level}")(tensor)
        tensor = layers.Concatenate(name=f"skip{level}")([tensor, skips[level]])
        tensor = _convs(tensor, channels[level], f"dec{level}")
    logits = layers.Conv2D(len(OUTPUTS), 1, name="logits")(tensor)
    return keras.Model(lightness, logits, name="scratch_detector")


def serving_function(model: keras.Model):
    """The exported graph: lightness (1, H, W, 1) in [0, 100] -> {"scratches", "dust"}: probabilities (1, H, W)."""

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 1), tf.float32, name="lightness")])
    def serve(lightness):
        probability = tf.sigmoid(model(lightness, training=False))
        return {name: probability[..., index] for index, name in enumerate(OUTPUTS)}

    return serve
