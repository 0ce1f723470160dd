"""The conditional GAN (after pix2pix, Isola et al. 2017) on the ImageNet encoder, predicting chroma only.

Generator: a U-Net whose encoder half is the ImageNet MobileNetV2 shared with the CNN (`backbone.pyramid_features`)
and whose skips are the backbone's feature maps at 1/4, 1/8, 1/16 and 1/32 of the input, plus the gray input
itself at 1/2. The decoder climbs back by resize-then-convolve blocks (bilinear upsampling, then a separable
convolution: no transposed convolutions, so no checkerboard stripes in flat skies) to chroma at half the input
size, a/b only, through tanh scaled by 110. The result's lightness is always the input's. A U-Net trained from
scratch on a few hundred photos learns which colours are likely but not what things are (issue 4); the ImageNet
encoder knows what things are.
Discriminator: the 70x70 PatchGAN on (gray, a/b), returning one logit per patch (no sigmoid: the losses work on
logits, so the sigmoid is applied exactly once).

Training (`colorizers.training.cgan_model`, `train_cgan`) is Keras; serving runs the generator's ONNX export
(`weights/cgan.onnx`, made by `make export`) with ONNX Runtime: no TensorFlow here.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from .color import encoder_input, resize_plane
from .onnx_model import inference_session, run

log = logging.getLogger(__name__)


class CGANColorizer:
    """The exported generator, loaded once; one ONNX Runtime call per photo."""

    def __init__(self, onnx_path: Path):
        self.session = inference_session(onnx_path)
        self.size = int(self.session.get_inputs()[0].shape[1])
        log.info("cGAN generator loaded from %s", onnx_path)

    def predict_chroma(self, lightness: np.ndarray) -> tuple[np.ndarray, dict]:
        """Chroma (S/2, S/2, 2) for lightness (H, W); the chroma merge brings it to (H, W)."""
        small = resize_plane(lightness, (self.size, self.size), resample=Image.BOX)
        return run(self.session, gray=encoder_input(small)[None])["ab"][0], {}


def load_colorizer(weights_path: Path) -> CGANColorizer:
    return CGANColorizer(weights_path)
