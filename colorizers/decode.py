"""Decoding and validation of uploaded images: bytes in, arrays out, a clear error for anything else."""
from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import settings
from .color import rgb_to_lightness
from .errors import ImageTooLargeError, ImageTooSmallError, InvalidImageError

log = logging.getLogger(__name__)

# We apply our own pixel limit before decoding; PIL's warning threshold would only add noise.
Image.MAX_IMAGE_PIXELS = None

# A photo counts as coloured when a visible share of its pixels has clearly different channels (JPEG noise
# on a grayscale photo stays under this spread).
_COLOR_SPREAD = 12.0 / 255.0
_COLOR_SHARE = 0.01


@dataclass(frozen=True)
class DecodedImage:
    """An upload after decoding.

    rgb: uint8 (H, W, 3), the photo as shown (transparency flattened onto white, EXIF orientation applied).
    lightness: float32 (H, W), CIELAB L in [0, 100], computed at the source's full bit depth.
    was_color: True when the upload already had colour (we colour it again from its lightness).
    """

    rgb: np.ndarray
    lightness: np.ndarray
    was_color: bool
    format: str
    mode: str

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.lightness.shape


def decode_image(
    data: bytes, max_pixels: int | None = None, max_bytes: int | None = None, min_side: int | None = None
) -> DecodedImage:
    """Decode image bytes (PNG, JPEG, WebP, GIF, TIFF, BMP, ...) of any common mode into a `DecodedImage`.

    Raises InvalidImageError (or its subclasses ImageTooLargeError / ImageTooSmallError) with a message for
    the user when the data is not a readable image or is outside the limits.
    """
    max_pixels = settings.MAX_PIXELS if max_pixels is None else max_pixels
    max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    min_side = settings.MIN_SIDE if min_side is None else min_side
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise InvalidImageError("This file is not an image we can read (PNG, JPEG, WebP, GIF, TIFF, BMP).") from None
    except Exception as error:  # PIL raises many kinds on malformed headers; their text means nothing to a user
        log.info("unreadable image header: %s", error)
        raise InvalidImageError("This file looks like an image but its header is damaged, so it cannot be read.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"The image is {width}x{height} ({width * height / 1e6:.1f} MP); the limit is {max_pixels / 1e6:.0f} MP."
        )
    if min(width, height) < min_side:
        raise ImageTooSmallError(f"The image is {width}x{height}; each side must be at least {min_side} pixels.")
    image_format = image.format or "unknown"
    try:
        image.seek(0)  # first frame of a GIF, first page of a TIFF
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            image = ImageOps.exif_transpose(image)
    except Exception:
        raise InvalidImageError("The image file is truncated or corrupt.") from None
    mode = image.mode
    rgb_float = _to_rgb_float(image)
    lightness = rgb_to_lightness(rgb_float)
    rgb = np.rint(rgb_float * 255.0).astype(np.uint8)
    return DecodedImage(rgb=rgb, lightness=lightness, was_color=has_color(rgb_float), format=image_format, mode=mode)


def _to_rgb_float(image: Image.Image) -> np.ndarray:
    """Any PIL mode to float32 (H, W, 3) sRGB in [0, 1], transparency flattened onto white."""
    if image.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        gray = _high_depth_gray(np.asarray(image))
        return np.repeat(gray[..., None], 3, axis=-1)
    has_alpha = image.mode in ("LA", "RGBA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ) or (image.mode in ("L", "RGB") and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _high_depth_gray(values: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float gray values to float32 in [0, 1].

    Integers are read as 16-bit when they fit (16-bit PNG and TIFF), else over the full 32-bit range; floats
    already in [0, 1] are kept, other floats are stretched from their minimum to their maximum.
    """
    is_float = values.dtype.kind == "f"
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    if is_float:
        if low < 0.0 or high > 1.0:
            values = (values - low) / max(high - low, 1e-12)
    else:
        values = values / (65535.0 if high <= 65535.0 else 2147483647.0)
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def has_color(rgb: np.ndarray) -> bool:
    """True when more than 1% of pixels have channels that differ clearly (float [0, 1] or uint8 input)."""
    if rgb.dtype == np.uint8:
        rgb = rgb.astype(np.float32) / 255.0
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    return bool(np.mean(spread > _COLOR_SPREAD) > _COLOR_SHARE)


def encode_png(rgb: np.ndarray) -> bytes:
    """sRGB uint8 (H, W, 3) to PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def read_image_file(path) -> DecodedImage:
    """Decode an image file from disk with the same checks as an upload."""
    with open(path, "rb") as handle:
        return decode_image(handle.read())
