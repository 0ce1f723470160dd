"""The project's one colour convention and the chroma merge every model uses.

Convention: sRGB (IEC 61966-2-1) with a D65 white, converted to CIELAB.
- RGB at the edges: uint8, shape (H, W, 3).
- Inside: lightness L float32 (H, W) in [0, 100]; chroma a/b float32 (H, W, 2), roughly [-110, 110].
Models predict chroma at their own working size; `merge_chroma` upsamples it and joins it with the original,
full-resolution lightness, so the output has the input's size and luminance.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

# Normalisation shared by the learned models (as in Zhang et al.): L centred at 50 and scaled by 100, a/b by 110.
L_CENTER = 50.0
L_SCALE = 100.0
AB_SCALE = 110.0

_D65_WHITE = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float32,
)
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ).astype(np.float32)
_EPSILON = 216.0 / 24389.0
_KAPPA = 24389.0 / 27.0


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB values (uint8 0-255, or float in [0, 1]) to linear light, float32 in [0, 1]."""
    if rgb.dtype == np.uint8:
        return _UINT8_TO_LINEAR[rgb]
    rgb = np.clip(rgb.astype(np.float32, copy=False), 0.0, 1.0)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light float to sRGB uint8 (values outside [0, 1] are clipped).

    A 65536-step table replaces the power function (twice as fast here); it differs from exact rounding by one
    level on about 0.1% of values, those within a hair of a rounding boundary.
    """
    index = (np.clip(linear, 0.0, 1.0) * (_LINEAR_STEPS - 1) + 0.5).astype(np.int32)
    return _LINEAR_TO_UINT8[index]


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded float32 in [0, 1] (exact, no rounding to 8 bits)."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1.0 / 2.4) - 0.055).astype(np.float32)


_LINEAR_STEPS = 65536
_LINEAR_GRID = np.arange(_LINEAR_STEPS, dtype=np.float64) / (_LINEAR_STEPS - 1)
_LINEAR_TO_UINT8 = np.rint(
    255.0 * np.where(_LINEAR_GRID <= 0.0031308, _LINEAR_GRID * 12.92, 1.055 * _LINEAR_GRID ** (1.0 / 2.4) - 0.055)
).astype(np.uint8)


_UINT8_TO_LINEAR = np.arange(256, dtype=np.float32) / 255.0
_UINT8_TO_LINEAR = np.where(
    _UINT8_TO_LINEAR <= 0.04045, _UINT8_TO_LINEAR / 12.92, ((_UINT8_TO_LINEAR + 0.055) / 1.055) ** 2.4
).astype(np.float32)


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPSILON, np.cbrt(t), (_KAPPA * t + 16.0) / 116.0).astype(np.float32)


def _lab_f_inverse(f: np.ndarray) -> np.ndarray:
    cube = f * f * f
    return np.where(cube > _EPSILON, cube, (116.0 * f - 16.0) / _KAPPA).astype(np.float32)


def luminance_to_lightness(luminance: np.ndarray) -> np.ndarray:
    """Relative luminance Y in [0, 1] to CIELAB L in [0, 100]."""
    return (116.0 * _lab_f(luminance) - 16.0).astype(np.float32)


def lightness_to_luminance(lightness: np.ndarray) -> np.ndarray:
    """CIELAB L in [0, 100] to relative luminance Y in [0, 1]."""
    return _lab_f_inverse((np.asarray(lightness, dtype=np.float32) + 16.0) / 116.0)


def rgb_to_lightness(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8 or float [0, 1]) (H, W, 3) to L float32 (H, W); cheaper than a full conversion.

    The weighted sum is written out (not a matrix product, whose rounding depends on the pixel's position),
    so equal colours always get exactly equal lightness: an 8-bit gray photo has at most 256 values of L.
    """
    linear = srgb_to_linear(rgb)
    red, green, blue = _RGB_TO_XYZ[1]
    luminance = linear[..., 0] * red + linear[..., 1] * green + linear[..., 2] * blue
    return luminance_to_lightness(luminance)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8 or float [0, 1]) (..., 3) to CIELAB float32 (..., 3)."""
    xyz = srgb_to_linear(rgb) @ _RGB_TO_XYZ.T / _D65_WHITE
    f = _lab_f(xyz)
    lightness = 116.0 * f[..., 1] - 16.0
    a = 500.0 * (f[..., 0] - f[..., 1])
    b = 200.0 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB float (..., 3) to sRGB uint8 (..., 3); colours outside the sRGB gamut are clipped."""
    lab = np.asarray(lab, dtype=np.float32)
    return lab_planes_to_rgb(lab[..., 0], lab[..., 1], lab[..., 2], np.empty(lab.shape, np.uint8))


# XYZ (relative to the D65 white) to linear sRGB: the white point folded into the matrix.
_RELATIVE_XYZ_TO_RGB = _XYZ_TO_RGB * _D65_WHITE[None, :]


def lab_planes_to_rgb(lightness: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """CIELAB as three float32 planes (...) into sRGB uint8 `out` (..., 3); returns `out`.

    Plane by plane, in place where it can (the merge of every result runs this on each pixel of the photo)."""
    fy = (lightness + np.float32(16.0)) / np.float32(116.0)
    fx = fy + a / np.float32(500.0)
    fz = fy - b / np.float32(200.0)
    x, y, z = _lab_f_inverse_fast(fx), _lab_f_inverse_fast(fy), _lab_f_inverse_fast(fz)
    for channel, (from_x, from_y, from_z) in enumerate(_RELATIVE_XYZ_TO_RGB):
        linear = x * from_x
        linear += y * from_y
        linear += z * from_z
        _linear_to_uint8_into(linear, out[..., channel])
    return out


def _lab_f_inverse_fast(f: np.ndarray) -> np.ndarray:
    """`_lab_f_inverse` for float32, with fewer full-size temporaries (`f` is used up)."""
    linear_part = f <= np.float32(6.0 / 29.0)  # where f cubed is at most epsilon
    low = (np.float32(116.0) * f[linear_part] - np.float32(16.0)) / np.float32(_KAPPA)
    cube = f * f
    cube *= f
    cube[linear_part] = low
    return cube


def _linear_to_uint8_into(linear: np.ndarray, out: np.ndarray) -> None:
    """`linear_to_srgb` written into `out`, using `linear` as scratch space."""
    np.clip(linear, 0.0, 1.0, out=linear)
    linear *= np.float32(_LINEAR_STEPS - 1)
    linear += np.float32(0.5)
    np.take(_LINEAR_TO_UINT8, linear.astype(np.uint16), out=out)


def gray_rgb(lightness: np.ndarray) -> np.ndarray:
    """The neutral sRGB uint8 (H, W, 3) image whose lightness is `lightness` (H, W): a grayscale photo."""
    gray = linear_to_srgb(lightness_to_luminance(lightness))
    return np.repeat(gray[..., None], 3, axis=-1)


def resize_plane(plane: np.ndarray, size: tuple[int, int], resample: int = Image.BILINEAR) -> np.ndarray:
    """Resize a float (H, W) or (H, W, C) array to size=(height, width), channel by channel."""
    height, width = size
    if plane.shape[:2] == (height, width):
        return plane.astype(np.float32, copy=False)
    if plane.ndim == 2:
        return np.asarray(Image.fromarray(plane.astype(np.float32)).resize((width, height), resample))
    channels = [resize_plane(plane[..., index], size, resample) for index in range(plane.shape[-1])]
    return np.stack(channels, axis=-1)


# Full-resolution conversions run over bands of whole rows of about this many pixels: their float temporaries
# (tens of bytes a pixel) then scale with the band, not the photo. Read at call time, so tests can shrink it.
BAND_PIXELS = 1 << 18


def row_bands(height: int, width: int, band_pixels: int | None = None) -> list[slice]:
    """Consecutive row slices covering `height` rows, each about `band_pixels` (default BAND_PIXELS) pixels."""
    rows = max(1, (band_pixels or BAND_PIXELS) // max(width, 1))
    return [slice(top, min(top + rows, height)) for top in range(0, height, rows)]


def resize_plane_rows(
    plane: np.ndarray, size: tuple[int, int], rows: slice, resample: int = Image.BILINEAR
) -> np.ndarray:
    """Rows `rows` of `resize_plane(plane, size, resample)`, without computing the others.

    PIL's resize box maps the band to its source rows; PIL still reads source pixels outside the box where the
    filter reaches them, so each row is what the whole resize gives (to float rounding of the box edges)."""
    height, width = size
    if plane.shape[:2] == (height, width):
        return plane[rows].astype(np.float32, copy=False)
    if plane.ndim == 3:
        channels = [resize_plane_rows(plane[..., index], size, rows, resample) for index in range(plane.shape[-1])]
        return np.stack(channels, axis=-1)
    source_height, source_width = plane.shape
    scale = source_height / height
    box = (0.0, rows.start * scale, float(source_width), rows.stop * scale)
    image = Image.fromarray(plane.astype(np.float32))
    return np.asarray(image.resize((width, rows.stop - rows.start), resample, box=box))


def merge_chroma(lightness: np.ndarray, chroma: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Join full-resolution lightness (H, W) with chroma a/b (h, w, 2) of any size into sRGB uint8 (H, W, 3).

    The chroma is upsampled bilinearly to (H, W) and scaled by `strength` (0 gives the grayscale photo back).
    Done in bands of rows (`row_bands`): only the uint8 result is full size.
    """
    if chroma.ndim != 3 or chroma.shape[-1] != 2:
        raise ValueError(f"chroma must have shape (h, w, 2), got {chroma.shape}")
    height, width = lightness.shape
    rgb = np.empty((height, width, 3), np.uint8)
    for rows in row_bands(height, width):
        ab = resize_plane_rows(chroma, (height, width), rows)
        if strength != 1.0:
            ab = ab * np.float32(strength)  # not in place: the rows may be a view of the caller's chroma
        lab_planes_to_rgb(lightness[rows].astype(np.float32, copy=False), ab[..., 0], ab[..., 1], rgb[rows])
    return rgb


def encoder_input(lightness: np.ndarray) -> np.ndarray:
    """Lightness (..., H, W) in [0, 100] as the gray sRGB photo the ImageNet encoder (MobileNetV2) expects:
    float32 (..., H, W, 1) in [-1, 1]."""
    return (encode_srgb(lightness_to_luminance(lightness)) * 2.0 - 1.0).astype(np.float32)[..., None]
