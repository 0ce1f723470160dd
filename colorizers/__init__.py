"""Grayscale-photo colorization: decoding, colour conversion, the models and their registry (no Dash here)."""
from .decode import DecodedImage, decode_image, encode_png, open_image
from .errors import (
    ColorizerError,
    ImageTooLargeError,
    ImageTooSmallError,
    InvalidImageError,
    ReferenceImageError,
    UnknownModelError,
    WeightsMissingError,
)
from .registry import Colorization, ModelInfo, available_models, colorize, get_model, model_info, touch_up
from .touchup import Hints, HintsError, Stroke, draw_strokes, hints_from_rgba

__all__ = [
    "Colorization",
    "ColorizerError",
    "DecodedImage",
    "Hints",
    "HintsError",
    "ImageTooLargeError",
    "ImageTooSmallError",
    "InvalidImageError",
    "ModelInfo",
    "ReferenceImageError",
    "Stroke",
    "UnknownModelError",
    "WeightsMissingError",
    "available_models",
    "colorize",
    "decode_image",
    "draw_strokes",
    "encode_png",
    "get_model",
    "hints_from_rgba",
    "model_info",
    "open_image",
    "touch_up",
]
