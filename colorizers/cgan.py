"""The pix2pix conditional GAN (Isola et al. 2017), predicting chroma only.

Generator: a U-Net of 4x4 stride-2 convolutions (LeakyReLU, batch norm) down to 1x1 and transposed convolutions
back up, each level concatenated with its mirror (skip connections), dropout in the first three decoder blocks
while training. Input: lightness (S, S, 1) scaled to [-1, 1]; output: a/b through tanh, scaled by 110. The
result's lightness is always the input's (the seed also predicted L and showed it; we never do).
Discriminator: the 70x70 PatchGAN on (L, a/b), returning one logit per patch (no sigmoid: the losses work on
logits, so the sigmoid is applied exactly once).

Everything but `CGANColorizer` is backend-neutral Keras: `train_cgan` trains on TensorFlow here or on JAX on a
lent GPU machine (which has no TensorFlow), and serving runs on TensorFlow, from the same weights file.
"""
from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np
from PIL import Image
import keras
from keras import layers, ops

from .color import AB_SCALE, L_CENTER, L_SCALE, resize_plane

log = logging.getLogger(__name__)

IMAGE_SIZE = 128
BASE_FILTERS = 32
MAX_FILTERS_MULTIPLE = 8
L1_WEIGHT = 100.0


def _down(tensor, filters: int, batch_norm: bool, name: str):
    init = keras.initializers.RandomNormal(0.0, 0.02)
    tensor = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=not batch_norm, kernel_initializer=init, name=f"{name}_conv")(tensor)
    if batch_norm:
        tensor = layers.BatchNormalization(name=f"{name}_bn")(tensor)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(tensor)


def _up(tensor, filters: int, dropout: bool, name: str):
    init = keras.initializers.RandomNormal(0.0, 0.02)
    tensor = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=init, name=f"{name}_deconv")(tensor)
    tensor = layers.BatchNormalization(name=f"{name}_bn")(tensor)
    if dropout:
        tensor = layers.Dropout(0.5, name=f"{name}_dropout")(tensor)
    return layers.ReLU(name=f"{name}_relu")(tensor)


def build_generator(image_size: int = IMAGE_SIZE, base_filters: int = BASE_FILTERS) -> keras.Model:
    """U-Net: lightness (S, S, 1) in [-1, 1] -> chroma a/b (S, S, 2) in [-110, 110]. S a power of two >= 16."""
    levels = int(np.log2(image_size))
    filters = [base_filters * min(2**level, MAX_FILTERS_MULTIPLE) for level in range(levels)]
    lightness = keras.Input((image_size, image_size, 1), name="lightness")
    tensor, skips = lightness, []
    for level, count in enumerate(filters):
        tensor = _down(tensor, count, batch_norm=level not in (0, levels - 1), name=f"down{level}")
        skips.append(tensor)
    for level, count in reversed(list(enumerate(filters[:-1]))):
        tensor = _up(tensor, count, dropout=level >= levels - 4, name=f"up{level}")
        tensor = layers.Concatenate(name=f"skip{level}")([tensor, skips[level]])
    init = keras.initializers.RandomNormal(0.0, 0.02)
    chroma = layers.Conv2DTranspose(2, 4, strides=2, padding="same", activation="tanh", kernel_initializer=init, name="chroma")(tensor)
    chroma = layers.Rescaling(AB_SCALE, name="to_ab_range")(chroma)
    return keras.Model(lightness, chroma, name="unet_generator")


def build_discriminator(image_size: int = IMAGE_SIZE, base_filters: int = 64) -> keras.Model:
    """70x70 PatchGAN: (lightness in [-1, 1], chroma / 110) -> logits (S/8 - 2, S/8 - 2, 1), one per patch."""
    lightness = keras.Input((image_size, image_size, 1), name="lightness")
    chroma = keras.Input((image_size, image_size, 2), name="chroma")
    tensor = layers.Concatenate(name="pair")([lightness, chroma])
    tensor = _down(tensor, base_filters, batch_norm=False, name="patch0")
    tensor = _down(tensor, base_filters * 2, batch_norm=True, name="patch1")
    tensor = _down(tensor, base_filters * 4, batch_norm=True, name="patch2")
    init = keras.initializers.RandomNormal(0.0, 0.02)
    tensor = layers.ZeroPadding2D(name="pad3")(tensor)
    tensor = layers.Conv2D(base_filters * 8, 4, use_bias=False, kernel_initializer=init, name="patch3_conv")(tensor)
    tensor = layers.LeakyReLU(0.2, name="patch3_lrelu")(layers.BatchNormalization(name="patch3_bn")(tensor))
    tensor = layers.ZeroPadding2D(name="pad4")(tensor)
    logits = layers.Conv2D(1, 4, kernel_initializer=init, name="patch_logits")(tensor)
    return keras.Model([lightness, chroma], logits, name="patchgan")


_bce = keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy from logits: real pairs towards 1, generated pairs towards 0."""
    return _bce(ops.ones_like(real_logits), real_logits) + _bce(ops.zeros_like(fake_logits), fake_logits)


def generator_loss(fake_logits, generated_chroma, true_chroma, l1_weight: float = L1_WEIGHT):
    """Adversarial loss (fool the critic, from logits) + l1_weight x mean |a/b error| in units of 110.

    Returns (total, adversarial, l1)."""
    adversarial = _bce(ops.ones_like(fake_logits), fake_logits)
    l1 = ops.mean(ops.abs(generated_chroma - true_chroma)) / AB_SCALE
    return adversarial + l1_weight * l1, adversarial, l1


def generator_input(lightness: np.ndarray) -> np.ndarray:
    """Lightness (..., H, W) in [0, 100] -> float32 (..., H, W, 1) in [-1, 1]."""
    return ((lightness - L_CENTER) / (L_SCALE / 2)).astype(np.float32)[..., None]


def save_generator_float16(generator: keras.Model, path: Path) -> None:
    """Store the generator's weights as float16 (half the size); `load_generator_weights` restores float32."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs["image_size"] = generator.input.shape[1]
        handle.attrs["base_filters"] = generator.get_layer("down0_conv").filters
        for index, weight in enumerate(generator.get_weights()):
            handle.create_dataset(f"w{index:04d}", data=weight.astype(np.float16), compression="gzip")


def load_generator(path: Path) -> keras.Model:
    """Build the generator described in a float16 weights file and load the weights as float32."""
    with h5py.File(path, "r") as handle:
        generator = build_generator(int(handle.attrs["image_size"]), int(handle.attrs["base_filters"]))
        weights = [handle[name][()].astype(np.float32) for name in sorted(handle.keys())]
    generator.set_weights(weights)
    return generator


class CGANColorizer:
    """The trained generator, loaded once; one compiled call per photo."""

    def __init__(self, weights_path: Path):
        import tensorflow as tf  # serving runs on TensorFlow; the module itself stays backend-neutral

        self.generator = load_generator(weights_path)
        self.size = int(self.generator.input.shape[1])

        @tf.function(input_signature=[tf.TensorSpec((None, self.size, self.size, 1), tf.float32)])
        def predict(lightness):
            return self.generator(lightness, training=False)

        self._predict = predict
        self._predict(tf.zeros((1, self.size, self.size, 1)))  # warm up (traces once)
        log.info("cGAN generator loaded from %s", weights_path)

    def predict_chroma(self, lightness: np.ndarray) -> tuple[np.ndarray, dict]:
        """Chroma (S, S, 2) for lightness (H, W); the chroma merge brings it to (H, W)."""
        small = resize_plane(lightness, (self.size, self.size), resample=Image.BOX)
        chroma = self._predict(generator_input(small)[None])
        return chroma.numpy()[0], {}


def load_colorizer(weights_path: Path) -> CGANColorizer:
    return CGANColorizer(weights_path)
