"""The conditional GAN in Keras, for training and export (see `colorizers.cgan` for the design; serving runs its
ONNX export). Everything but `KerasCGAN` is backend-neutral Keras: `training.train_cgan` trains on TensorFlow here
or on JAX on a lent GPU machine (which has no TensorFlow), from the same weights file.
"""
from __future__ import annotations

from pathlib import Path

import h5py
import keras
import numpy as np
from keras import layers, ops
from PIL import Image

from ..color import AB_SCALE, encoder_input, resize_plane
from .backbone import pyramid_features

IMAGE_SIZE = 224  # the generator's input; chroma comes out at half that
ARCHITECTURE = "mobilenet_v2_unet"  # stored in the weights file; the plain pix2pix U-Net it replaced had none
DECODER_FILTERS = (256, 128, 64, 32)  # at 1/16, 1/8, 1/4 and 1/2 of the input
DISCRIMINATOR_FILTERS = 32
L1_WEIGHT = 100.0
# Channels of the backbone's maps (backbone.PYRAMID_LAYERS) and of the gray input at half size.
_SKIP_CHANNELS = {"detail": 24, "mid": 32, "deep": 96, "top": 1280, "gray_half": 1}
GENERATOR_INPUTS = tuple(_SKIP_CHANNELS)  # what the trainers cache per crop, in this order


def _resize_then_convolve(tensor, skip, filters: int, name: str):
    tensor = layers.UpSampling2D(2, interpolation="bilinear", name=f"{name}_up")(tensor)
    tensor = layers.Concatenate(name=f"{name}_skip")([tensor, skip])
    tensor = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(tensor)
    tensor = layers.BatchNormalization(name=f"{name}_bn")(tensor)
    return layers.ReLU(name=f"{name}_relu")(tensor)


def build_generator_decoder(image_size: int = IMAGE_SIZE) -> keras.Model:
    """Skips [detail, mid, deep, top, gray_half] (see GENERATOR_INPUTS) -> chroma a/b (S/2, S/2, 2) in [-110, 110].

    Trained alone on cached encoder features (the ImageNet encoder stays frozen); `build_generator` puts it on
    the encoder."""
    sides = {"detail": 4, "mid": 8, "deep": 16, "top": 32, "gray_half": 2}
    skips = {
        name: keras.Input((image_size // sides[name], image_size // sides[name], channels), name=name)
        for name, channels in _SKIP_CHANNELS.items()
    }
    tensor = layers.Conv2D(DECODER_FILTERS[0], 1, activation="relu", name="bottleneck")(skips["top"])
    for skip_name, filters in zip(("deep", "mid", "detail", "gray_half"), DECODER_FILTERS):
        tensor = _resize_then_convolve(tensor, skips[skip_name], filters, f"dec_{skip_name}")
    chroma = layers.Conv2D(2, 3, padding="same", activation="tanh", name="chroma")(tensor)
    chroma = layers.Rescaling(AB_SCALE, name="to_ab_range")(chroma)
    return keras.Model([skips[name] for name in GENERATOR_INPUTS], chroma, name="generator_decoder")


def build_generator(image_size: int = IMAGE_SIZE, weights_file: Path | None = None,
                    decoder: keras.Model | None = None) -> keras.Model:
    """The whole generator: gray (S, S, 1) in [-1, 1] (`encoder_input`) -> chroma (S/2, S/2, 2) in [-110, 110].

    `weights_file`: the ImageNet backbone to start from (None: random, before loading trained weights);
    `decoder`: a trained decoder to put on it (None: a fresh one)."""
    gray = keras.Input((image_size, image_size, 1), name="gray")
    features = pyramid_features(gray, weights_file)
    gray_half = layers.AveragePooling2D(2, name="gray_half")(gray)
    decoder = decoder or build_generator_decoder(image_size)
    return keras.Model(gray, decoder([*features, gray_half]), name="unet_generator")


def _down(tensor, filters: int, batch_norm: bool, name: str):
    init = keras.initializers.RandomNormal(0.0, 0.02)
    tensor = layers.Conv2D(filters, 4, strides=2, padding="same", use_bias=not batch_norm, kernel_initializer=init, name=f"{name}_conv")(tensor)
    if batch_norm:
        tensor = layers.BatchNormalization(name=f"{name}_bn")(tensor)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(tensor)


def build_discriminator(image_size: int = IMAGE_SIZE // 2, base_filters: int = DISCRIMINATOR_FILTERS) -> keras.Model:
    """70x70 PatchGAN: (gray in [-1, 1], chroma / 110), at the chroma's size -> logits (S/8 - 2, S/8 - 2, 1),
    one per patch."""
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


def save_float16(model: keras.Model, path: Path, **attributes) -> None:
    """Store a model's weights as float16 (half the size), with `attributes`; `load_float16_weights` restores them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs.update(attributes)
        for index, weight in enumerate(model.get_weights()):
            handle.create_dataset(f"w{index:04d}", data=weight.astype(np.float16), compression="gzip")


def load_float16_weights(model: keras.Model, path: Path) -> None:
    """Set a model's weights, as float32, from a file written by `save_float16` for the same architecture."""
    with h5py.File(path, "r") as handle:
        model.set_weights([handle[name][()].astype(np.float32) for name in sorted(handle.keys())])


def save_generator_float16(generator: keras.Model, path: Path) -> None:
    """The whole generator (encoder and decoder) as served."""
    save_float16(generator, path, image_size=generator.input.shape[1], architecture=ARCHITECTURE)


def load_generator(path: Path) -> keras.Model:
    """Build the generator described in a float16 weights file and load the weights as float32."""
    with h5py.File(path, "r") as handle:
        architecture, image_size = handle.attrs.get("architecture"), handle.attrs.get("image_size")
    if architecture != ARCHITECTURE:
        raise ValueError(f"{path} holds another generator architecture; re-export it with `make train-cgan`.")
    generator = build_generator(int(image_size))
    load_float16_weights(generator, path)
    return generator


class KerasCGAN:
    """The trained generator in Keras: what the ONNX export is made from (`serving_function`) and checked against."""

    def __init__(self, weights_path: Path):
        import tensorflow as tf  # export and its checks run on TensorFlow; the rest of this module is backend-neutral

        self.generator = load_generator(weights_path)
        self.size = int(self.generator.input.shape[1])

        @tf.function(input_signature=[tf.TensorSpec((None, self.size, self.size, 1), tf.float32, name="gray")])
        def serve(gray):
            return {"ab": self.generator(gray, training=False)}

        self.serve = serve

    def predict_chroma(self, lightness: np.ndarray) -> tuple[np.ndarray, dict]:
        small = resize_plane(lightness, (self.size, self.size), resample=Image.BOX)
        return self.serve(encoder_input(small)[None])["ab"].numpy()[0], {}
