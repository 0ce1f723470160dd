"""The scratch detector and filler in Keras, for training and export (see `colorizers.scratch_detector`; serving
runs their ONNX exports).

A small U-Net: lightness (H, W, 1) in [0, 100] -> logits of a scratch and of dust (H, W, 2). Three levels below
the full size (1/2, 1/4, 1/8) give it a view of about 100 px, enough to see that a thin mark runs on as a line
where a photo's own thin things (a branch, a wire, a ruled line) are part of something larger. The filler
(`build_scratch_filler`, served by `scratch_detector.filled_lightness`) is the same U-Net, given the scan, the
marks and their inpainting, and gives what was under the marks.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

from ..scratch_detector import SIZE_MULTIPLE

CHANNELS = (16, 24, 32, 32)  # full size, 1/2, 1/4, 1/8
OUTPUTS = ("scratches", "dust")
FILL_SCALE = 50.0  # the filler's correction, in L*, per unit of its last layer


def _convs(tensor, channels: int, name: str):
    for index in (1, 2):
        tensor = layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"{name}_conv{index}")(tensor)
    return tensor


def _unet(tensor, channels: tuple[int, ...]):
    """The U-Net's body: features at the input's size (N, H, W, channels[0]) from a scaled input."""
    assert 2 ** (len(channels) - 1) == SIZE_MULTIPLE
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
    return tensor


def build_scratch_detector(channels: tuple[int, ...] = CHANNELS) -> keras.Model:
    """The U-Net: L (N, H, W, 1) in [0, 100] (H, W multiples of 2 ** (len(channels) - 1)) -> logits (N, H, W, 2)."""
    lightness = keras.Input((None, None, 1), name="lightness")
    tensor = layers.Rescaling(1 / 50.0, offset=-1.0, name="scaled")(lightness)  # L 0..100 -> -1..1
    logits = layers.Conv2D(len(OUTPUTS), 1, name="logits")(_unet(tensor, channels))
    return keras.Model(lightness, logits, name="scratch_detector")


def build_scratch_filler(channels: tuple[int, ...] = CHANNELS) -> keras.Model:
    """The filler: (N, H, W, 3) of the scan's lightness, the mask to fill (0 or 1) and that lightness inpainted
    (Navier-Stokes), L in [0, 100] -> the lightness under the mask, (N, H, W, 1) in L. It adds a correction to the
    inpainted lightness; the correction's last layer starts at zero, so the untrained filler is the inpainting."""
    inputs = keras.Input((None, None, 3), name="inputs")
    scan, mask, inpainted = (inputs[..., index:index + 1] for index in range(3))
    tensor = layers.Concatenate(name="scaled")([scan / 50.0 - 1.0, mask, inpainted / 50.0 - 1.0])
    correction = layers.Conv2D(1, 1, kernel_initializer="zeros", name="correction")(_unet(tensor, channels))
    return keras.Model(inputs, inpainted + FILL_SCALE * correction, name="scratch_filler")


def serving_function(model: keras.Model):
    """The exported graph: lightness (1, H, W, 1) in [0, 100] -> {"scratches", "dust"}: probabilities (1, H, W)."""

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 1), tf.float32, name="lightness")])
    def serve(lightness):
        probability = tf.sigmoid(model(lightness, training=False))
        return {name: probability[..., index] for index, name in enumerate(OUTPUTS)}

    return serve


def filler_serving_function(model: keras.Model):
    """The filler's exported graph: "inputs" (1, H, W, 3) as `build_scratch_filler` takes them -> {"lightness":
    (1, H, W) in [0, 100]}."""

    @tf.function(input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32, name="inputs")])
    def serve(inputs):
        return {"lightness": tf.clip_by_value(model(inputs, training=False)[..., 0], 0.0, 100.0)}

    return serve
