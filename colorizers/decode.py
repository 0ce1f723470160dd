"""Decoding and validation of uploaded images: bytes in, arrays out, a clear error for anything else."""
from __future__ import annotations

import io
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import settings
from .color import rgb_to_lightness, row_bands
from .errors import ImageTooLargeError, ImageTooSmallError, InvalidImageError
from .prints import print_tint

log = logging.getLogger(__name__)

# We apply our own pixel limit before decoding; PIL's warning threshold would only add noise.
Image.MAX_IMAGE_PIXELS = None

# A photo counts as coloured when a visible share of its pixels has clearly different channels (JPEG noise
# on a grayscale photo stays under this spread).
_COLOR_SPREAD = 12.0 / 255.0
_COLOR_SHARE = 0.01


def over_the_limit(amount: int, limit: int, unit: str, scale: float, whole_unit: str) -> str:
    """"<amount>; the limit is <limit>" in `unit` (`scale` of `whole_unit`), with as many decimals as it takes for
    the amount to read larger than the limit, or in whole units when three would not do: a photo of 40,000,001
    pixels is not "40.0 MP" against a limit of 40 MP."""
    for decimals in (1, 2, 3):
        if round(amount / scale, decimals) > limit / scale:
            return f"{amount / scale:.{decimals}f} {unit}; the limit is {limit / scale:g} {unit}"
    return f"{amount:,} {whole_unit}; the limit is {limit:,} {whole_unit} ({limit / scale:g} {unit})"


@dataclass(frozen=True)
class DecodedImage:
    """An upload after decoding.

    rgb: uint8 (H, W, 3), the photo as shown (transparency flattened onto white, EXIF orientation applied).
    lightness: float32 (H, W), CIELAB L in [0, 100], computed at the source's full bit depth.
    was_color: True when the upload already had colour (we colour it again from its lightness).
    tint: for a tinted monochrome print (a sepia or cyanotype scan: not a colour photo, was_color False), its
    name ("sepia", "cyanotype", "tinted"); else None.
    """

    rgb: np.ndarray
    lightness: np.ndarray
    was_color: bool
    format: str
    mode: str
    tint: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.lightness.shape

    @property
    def has_colour(self) -> bool:
        """Whether there is colour to copy from it (a colour photo, or a tinted print's tint): for references."""
        return self.was_color or self.tint is not None


def open_image(
    data: bytes, max_pixels: int | None = None, max_bytes: int | None = None, min_side: int | None = None
) -> Image.Image:
    """The image's header read and checked against the limits, its pixels not yet decoded (cheap: a server checks
    this before it queues the photo for the memory decoding takes). Raises as `decode_image` does."""
    max_pixels = settings.MAX_PIXELS if max_pixels is None else max_pixels
    max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    min_side = settings.MIN_SIDE if min_side is None else min_side
    if not data:
        raise InvalidImageError("The file is empty.")
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"The file is {over_the_limit(len(data), max_bytes, 'MB', 1e6, 'bytes')}.")
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
            f"The image is {width}x{height}: {over_the_limit(width * height, max_pixels, 'MP', 1e6, 'pixels')}."
        )
    if min(width, height) < min_side:
        raise ImageTooSmallError(f"The image is {width}x{height}; each side must be at least {min_side} pixels.")
    return image


def decode_image(
    data: bytes, max_pixels: int | None = None, max_bytes: int | None = None, min_side: int | None = None
) -> DecodedImage:
    """Decode image bytes (PNG, JPEG, WebP, GIF, TIFF, BMP, ...) of any common mode into a `DecodedImage`.

    Raises InvalidImageError (or its subclasses ImageTooLargeError / ImageTooSmallError) with a message for
    the user when the data is not a readable image or is outside the limits.
    """
    image = open_image(data, max_pixels, max_bytes, min_side)
    image_format = image.format or "unknown"
    try:
        image.seek(0)  # first frame of a GIF, first page of a TIFF
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.load()
            ImageOps.exif_transpose(image, in_place=True)  # in place: no second copy of the photo
    except Exception:
        raise InvalidImageError("The image file is truncated or corrupt.") from None
    mode = image.mode
    rgb, lightness, was_color = _pixels(image)
    tint = print_tint(rgb) if was_color else None
    return DecodedImage(rgb=rgb, lightness=lightness, was_color=was_color and tint is None, format=image_format,
                        mode=mode, tint=tint)


_HIGH_DEPTH_MODES = ("I", "I;16", "I;16L", "I;16B", "I;16N", "F")


def _pixels(image: Image.Image) -> tuple[np.ndarray, np.ndarray, bool]:
    """sRGB uint8 (H, W, 3), lightness float32 (H, W) and whether the photo has colour.

    Made in bands of rows (`row_bands`): PIL's converted copies and the float arrays cover one band at a time,
    so a large photo costs little more than its two results."""
    if image.mode in _HIGH_DEPTH_MODES:
        return _gray_pixels(_high_depth_gray(np.asarray(image)))
    width, height = image.size
    rgb = np.empty((height, width, 3), np.uint8)
    lightness = np.empty((height, width), np.float32)
    flatten = _has_alpha(image)
    colored = 0
    for rows in row_bands(height, width):
        band = image.crop((0, rows.start, width, rows.stop))
        if image.mode == "L" and not flatten:  # the usual gray upload: one look-up per pixel
            gray = np.asarray(band)
            rgb[rows] = gray[..., None]
            lightness[rows] = _GRAY_LIGHTNESS[gray]
            continue
        rgb[rows] = np.asarray(_flattened_rgb(band) if flatten else band.convert("RGB"))
        red, green, blue = rgb[rows, :, 0], rgb[rows, :, 1], rgb[rows, :, 2]
        if np.array_equal(red, green) and np.array_equal(green, blue):  # a gray photo stored as RGB
            lightness[rows] = _GRAY_LIGHTNESS[red]
            continue
        lightness[rows] = rgb_to_lightness(rgb[rows])  # the same values as from float [0, 1]: see the tests
        colored += _colored_count(rgb[rows])
    return rgb, lightness, colored / (width * height) > _COLOR_SHARE


def _gray_pixels(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The same three for gray float32 (H, W) in [0, 1]; lightness at the gray's full precision."""
    height, width = gray.shape
    rgb = np.empty((height, width, 3), np.uint8)
    lightness = np.empty((height, width), np.float32)
    for rows in row_bands(height, width):
        rgb_float = np.repeat(gray[rows, :, None], 3, axis=-1)
        lightness[rows] = rgb_to_lightness(rgb_float)
        rgb[rows] = np.rint(rgb_float * 255.0).astype(np.uint8)
    return rgb, lightness, False  # equal channels: no colour


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("LA", "RGBA", "PA", "La", "RGBa") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )


def _flattened_rgb(image: Image.Image) -> Image.Image:
    """An image with transparency as RGB, flattened onto white."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _high_depth_gray(values: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit integer or float gray values to float32 in [0, 1].

    Integers are read as 16-bit when they fit (16-bit PNG and TIFF), else over the full 32-bit range; floats
    already in [0, 1] are kept, other floats are stretched from their minimum to their maximum. The float64
    arithmetic runs band by band (the minimum and maximum first, over all bands)."""
    is_float = values.dtype.kind == "f"
    bands = row_bands(*values.shape)

    def finite(rows: slice) -> np.ndarray:
        return np.nan_to_num(values[rows].astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)

    extremes = [(float(band.min()), float(band.max())) for band in map(finite, bands)]
    low, high = min(low for low, _ in extremes), max(high for _, high in extremes)
    gray = np.empty(values.shape, np.float32)
    for rows in bands:
        band = finite(rows)
        if is_float:
            if low < 0.0 or high > 1.0:
                band = (band - low) / max(high - low, 1e-12)
        else:
            band = band / (65535.0 if high <= 65535.0 else 2147483647.0)
        gray[rows] = np.clip(band, 0.0, 1.0)
    return gray


def _colored_count(rgb: np.ndarray) -> int:
    """Pixels whose channels differ clearly (float [0, 1] or uint8 (..., 3) input)."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    if rgb.dtype == np.uint8:  # whole levels: "more than _COLOR_SPREAD of the range" without floats
        return int(np.count_nonzero(spread > round(_COLOR_SPREAD * 255.0)))
    return int(np.count_nonzero(spread > _COLOR_SPREAD))


def has_color(rgb: np.ndarray) -> bool:
    """True when more than 1% of pixels have channels that differ clearly (float [0, 1] or uint8 input)."""
    return _colored_count(rgb) / max(rgb.size // 3, 1) > _COLOR_SHARE


# zlib level of the PNGs we write, chosen by measurement (`scripts/bench.py --only png`): on a 1 MP result level 1
# took 27 ms for 0.89 MB, level 6 (PIL's default) 164 ms for 0.72 MB, level 0 5 ms but 3.0 MB.
PNG_COMPRESSION = 1


def encode_png(rgb: np.ndarray) -> bytes:
    """sRGB uint8 (H, W, 3) (or gray (H, W), RGBA (H, W, 4)) to PNG bytes, zlib level 1.

    Written band by band (`row_bands`): PIL would first copy the whole photo into its own 4-byte pixels. Every
    row uses PNG's "up" filter (the difference from the row above): on photos its files are within a few
    percent of PIL's per-row choice among four filters, for a fraction of the time."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim not in (2, 3) or (rgb.ndim == 3 and rgb.shape[-1] not in (3, 4)):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()
    height, width = rgb.shape[:2]
    channels = rgb.shape[2] if rgb.ndim == 3 else 1
    rows = rgb.reshape(height, width * channels)
    buffer = io.BytesIO()
    buffer.write(b"\x89PNG\r\n\x1a\n")
    colour_type = {1: 0, 3: 2, 4: 6}[channels]
    _write_chunk(buffer, b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    compressor = zlib.compressobj(PNG_COMPRESSION)
    for band in row_bands(height, width):
        lines = np.empty((band.stop - band.start, width * channels + 1), np.uint8)
        lines[:, 0] = 2  # filter type "up": each byte minus the one above it, modulo 256 (the first row as is)
        lines[:, 1:] = rows[band]
        lines[1:, 1:] -= rows[band.start : band.stop - 1]
        if band.start:
            lines[0, 1:] -= rows[band.start - 1]
        _write_chunk(buffer, b"IDAT", compressor.compress(lines.tobytes()))
    _write_chunk(buffer, b"IDAT", compressor.flush())
    _write_chunk(buffer, b"IEND", b"")
    return buffer.getvalue()


def _write_chunk(buffer: io.BytesIO, kind: bytes, data: bytes) -> None:
    buffer.write(struct.pack(">I", len(data)) + kind)
    buffer.write(data)
    buffer.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


# Lightness of each 8-bit gray value, as `rgb_to_lightness` gives it for that gray in all three channels.
_GRAY_LIGHTNESS = rgb_to_lightness(np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=-1))


def read_image_file(path) -> DecodedImage:
    """Decode an image file from disk with the same checks as an upload."""
    with open(path, "rb") as handle:
        return decode_image(handle.read())
