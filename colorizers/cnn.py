"""The fusion CNN: MobileNetV2 encoder, Iizuka-style fusion with a global scene vector, Zhang-style decoder.

Input: lightness resized to 224x224, shown to MobileNetV2 as the gray sRGB photo it was trained on, scaled to
[-1, 1]. A mid-level 28x28 map is fused with a vector pooled from the top of the encoder, tiled over the map inside
the graph. The decoder predicts a distribution over quantised a/b bins at 56x56 (1/4 of the input, as Zhang did);
the annealed mean (inside the exported graph) turns it into a/b, and the chroma merge brings that to the photo's
full size with its original lightness.

Serving runs the ONNX export (`weights/cnn.onnx`, made by `make export` from the Keras model in
`colorizers.training.cnn_model`) with ONNX Runtime: no TensorFlow here.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image

from .color import encoder_input, resize_plane
from .onnx_model import inference_session, run

log = logging.getLogger(__name__)

INPUT_SIZE = 224
OUTPUT_SIZE = 56
DEFAULT_TEMPERATURE = 0.38
# The backbone layer whose pooled features describe a photo's content (the last one still ImageNet's: see
# training/backbone.py), and its channels.
EMBEDDING_LAYER = "block_13_expand_relu"
EMBEDDING_CHANNELS = 576
_RECENT_RUNS = 8


class CNNColorizer:
    """The exported CNN, loaded once: one ONNX Runtime call gives the chroma and the content embedding."""

    def __init__(self, onnx_path: Path, temperature: float | None = None):
        self.session = inference_session(onnx_path)
        self.temperature = temperature or chosen_temperature(onnx_path)
        # The last few runs, by input: a photo's suggestion (embedding), CNN and blend results share one run.
        self._recent: OrderedDict[bytes, dict[str, np.ndarray]] = OrderedDict()
        self._recent_lock = threading.Lock()
        log.info("CNN loaded from %s", onnx_path)

    def _run(self, lightness: np.ndarray, temperature: float | None = None) -> dict[str, np.ndarray]:
        small = resize_plane(lightness, (INPUT_SIZE, INPUT_SIZE), resample=Image.BOX)
        gray = encoder_input(small)[None]
        # A 0-d array: ONNX Runtime takes arrays only.
        temperature = np.array(temperature or self.temperature, dtype=np.float32)
        key = hashlib.sha1(gray.tobytes() + temperature.tobytes()).digest()
        with self._recent_lock:
            if key in self._recent:
                return self._recent[key]
        outputs = run(self.session, gray=gray, temperature=temperature)
        with self._recent_lock:
            self._recent[key] = outputs
            while len(self._recent) > _RECENT_RUNS:
                self._recent.popitem(last=False)
        return outputs

    def forget_recent_runs(self) -> None:
        """Drop the kept runs (benchmarks time every run as a new photo's)."""
        with self._recent_lock:
            self._recent.clear()

    def embed(self, lightness: np.ndarray) -> np.ndarray:
        """What the photo shows, for finding references by content: float32 (EMBEDDING_CHANNELS,), unit length.

        MobileNetV2's EMBEDDING_LAYER map of the gray photo at 224x224, averaged over positions. That layer's
        weights are ImageNet's, frozen in training, so retraining the CNN never changes an embedding."""
        vector = self._run(lightness)["embedding"][0]
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def predict_chroma(self, lightness: np.ndarray, temperature: float | None = None) -> tuple[np.ndarray, dict]:
        """Chroma (56, 56, 2) for lightness (H, W); the chroma merge brings it to (H, W)."""
        return self._run(lightness, temperature)["ab"][0].copy(), {}  # a copy: the run is shared


def chosen_temperature(weights_path: Path) -> float:
    """The annealing temperature chosen on validation, stored beside the weights by the training export
    (`cnn.json` for `cnn.weights.h5` and `cnn.onnx` alike)."""
    sidecar = Path(weights_path).with_suffix("").with_suffix(".json")
    return float(json.loads(sidecar.read_text())["temperature"]) if sidecar.exists() else DEFAULT_TEMPERATURE


def load_colorizer(weights_path: Path) -> CNNColorizer:
    return CNNColorizer(weights_path)
