"""The blend: the CNN's learned prior and the exemplars "Suggest for me" retrieves, combined.

a/b = CNN_WEIGHT x the CNN's a/b + (1 - CNN_WEIGHT) x the Welsh a/b averaged over the references nearest in
content (`suggestion.suggested_chroma`), at the suggestion's working size. Retrieval knows this kind of photo's
colours from real examples; the CNN knows what things are; each hedges the other's mistakes. The weight was
chosen on the foreign split (`scripts/tune_suggestion.py`; weights/MODEL_CARD.md). Uses the CNN's weights and
the reference library; holds no weights of its own.
"""
from __future__ import annotations

import numpy as np

from .color import resize_plane
from .errors import WeightsMissingError
from .suggestion import suggested_chroma

CNN_WEIGHT = 0.7


class BlendColorizer:
    def predict_chroma(self, lightness: np.ndarray) -> tuple[np.ndarray, dict]:
        """Chroma at the working size (long side at most suggestion.WORKING_SIDE) for lightness (H, W)."""
        from .registry import get_model

        suggested = suggested_chroma(lightness)
        if suggested is None:
            raise WeightsMissingError("The blend needs the reference library (assets/library), which is missing.")
        exemplar_chroma, photos = suggested
        cnn_chroma = resize_plane(get_model("cnn").predict_chroma(lightness)[0], exemplar_chroma.shape[:2])
        chroma = CNN_WEIGHT * cnn_chroma + (1.0 - CNN_WEIGHT) * exemplar_chroma
        return chroma, {"references": ",".join(photo.name for photo in photos)}


def load_colorizer(_weights_path=None) -> BlendColorizer:
    return BlendColorizer()
