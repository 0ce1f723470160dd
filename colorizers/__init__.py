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
from .registry import Colorization, ModelInfo, available_models, colorize, get_model, model_info

__all__ = [
    "Colorization",
    "ColorizerError",
    "DecodedImage",
    "ImageTooLargeError",
    "ImageTooSmallError",
    "InvalidImageError",
    "ModelInfo",
    "ReferenceImageError",
    "UnknownModelError",
    "WeightsMissingError",
    "available_models",
    "colorize",
    "decode_image",
    "encode_png",
    "get_model",
    "model_info",
    "open_image",
]
