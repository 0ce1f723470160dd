"""The project's one colour convention and the chroma merge every model uses.

Convention: sRGB (IEC 61966-2-1) with a D65 white, converted to CIELAB.
- RGB at the edges: uint8, shape (H, W, 3).
- Inside: lightness L float32 (H, W) in [0, 100]; chroma a/b float32 (H, W, 2), roughly [-110, 110].
Models predict chroma at their own working size; `merge_chroma` upsamples it and joins it with the original,
full-resolution lightness, so the output has the input's size and luminance. Where the chroma does not fit sRGB at
a pixel's lightness, the pixel gives up chroma along its hue, never lightness (`lab_planes_to_rgb`).
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
    """CIELAB float (..., 3) to sRGB uint8 (..., 3), keeping every colour's lightness L.

    A colour outside the sRGB gamut keeps its L and its hue and gives up chroma until it fits (`lab_planes_to_rgb`),
    rather than having R, G, B clipped."""
    lab = np.asarray(lab, dtype=np.float32)
    colours = lab.reshape(-1, 3)  # (N, 3) planes, so that a single colour (3,) converts too
    rgb = lab_planes_to_rgb(colours[:, 0], colours[:, 1], colours[:, 2], np.empty(colours.shape, np.uint8))
    return rgb.reshape(lab.shape)


# XYZ (relative to the D65 white) to linear sRGB: the white point folded into the matrix.
RELATIVE_XYZ_TO_RGB = _XYZ_TO_RGB * _D65_WHITE[None, :]

# A linear-light value this far outside [0, 1] counts as out of gamut. It is a thirtieth of the smallest 8-bit step
# (1/255/12.92, near black), so float rounding on a gray or on the gamut's surface sends no pixel to the gamut
# mapping, and the clip that remains moves a pixel's lightness by under 0.01 L*.
_GAMUT_TOLERANCE = np.float32(1e-5)
# Halvings of the chroma scale s in the gamut mapping: s is short of the gamut's surface by under 2**-12, at most
# 0.05 a/b units for the most saturated colours (chroma about 180), far below what 8-bit output shows.
_GAMUT_STEPS = 12
_F_KNEE = np.float32(6.0 / 29.0)  # where the CIELAB f function turns from its cube to its linear part
_F_KNEE_SLOPE = np.float32(3.0 * (6.0 / 29.0) ** 2)  # the slope of the linear part (continuous with the cube)


def lab_planes_to_rgb(lightness: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """CIELAB as three float32 planes (...) into sRGB uint8 `out` (..., 3); returns `out`.

    Every pixel keeps its lightness L (L in [0, 100], as the photos give it). Where (L, a, b) lies outside the
    sRGB gamut, a and b are both multiplied by one factor s in [0, 1], the largest that fits (to 2**-12; see
    `_chroma_scale_in_gamut`), so the pixel keeps its L and its hue and gives up only chroma (all of it at L 0
    and 100: black and white). Clipping R, G, B instead would change the lightness.
    Plane by plane, in place where it can (the merge of every result runs this on each pixel of the photo): the
    out-of-gamut pixels are found from the linear RGB computed on the way and solved on their own."""
    fy = (lightness + np.float32(16.0)) / np.float32(116.0)
    fx = fy + a / np.float32(500.0)
    fz = fy - b / np.float32(200.0)
    x, y, z = _lab_f_inverse_fast(fx), _lab_f_inverse_fast(fy), _lab_f_inverse_fast(fz)
    outside = np.zeros(np.shape(lightness), bool)
    beyond = np.empty_like(outside)
    for channel, (from_x, from_y, from_z) in enumerate(RELATIVE_XYZ_TO_RGB):
        linear = x * from_x
        linear += y * from_y
        linear += z * from_z
        outside |= np.less(linear, -_GAMUT_TOLERANCE, out=beyond)
        outside |= np.greater(linear, np.float32(1.0) + _GAMUT_TOLERANCE, out=beyond)
        _linear_to_uint8_into(linear, out[..., channel])
    if outside.any():
        _write_gamut_mapped(lightness, a, b, outside, out)
    return out


def _write_gamut_mapped(
    lightness: np.ndarray, a: np.ndarray, b: np.ndarray, outside: np.ndarray, out: np.ndarray
) -> None:
    """Overwrite the pixels of `out` marked by `outside` with their colours brought into the gamut along their hue."""
    index = np.flatnonzero(outside)

    def picked(plane: np.ndarray) -> np.ndarray:  # by flat index where the plane allows it (several times faster)
        plane = np.asarray(plane, dtype=np.float32)
        return plane.reshape(-1).take(index) if plane.flags.c_contiguous else plane[outside]

    lightness, a, b = picked(lightness), picked(a), picked(b)
    scale = _chroma_scale_in_gamut(lightness, a, b)
    rgb = np.empty((len(index), 3), np.uint8)
    fy = (lightness + np.float32(16.0)) / np.float32(116.0)
    x = _lab_f_inverse_on_line(fy, scale, a / np.float32(500.0))
    z = _lab_f_inverse_on_line(fy, scale, b / np.float32(-200.0))
    y = _lab_f_inverse_fast(fy)
    for channel, (from_x, from_y, from_z) in enumerate(RELATIVE_XYZ_TO_RGB):
        linear = x * from_x
        linear += y * from_y
        linear += z * from_z
        _linear_to_uint8_into(linear, rgb[:, channel])
    if out.flags.c_contiguous:  # each pixel's three bytes as one item: a single scatter
        np.put(out.reshape(-1, 3).view("V3")[:, 0], index, rgb.view("V3")[:, 0])
    else:
        out[outside] = rgb


def _chroma_scale_in_gamut(lightness: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For colours (N,) float32: the largest s in [0, 1) (to 2**-_GAMUT_STEPS) with (L, s a, s b) inside sRGB.

    Bisection on all the colours at once, bit by bit: s starts at 0 (a gray, inside for L in [0, 100]) and takes
    each next power of two where the colour stays inside, so the answer is always inside (the colour keeps L
    exactly) and the next step up is not. Where a ray leaves the gamut and comes back in (next to the yellow cusp
    at L above about 93) this may be its first exit rather than its last. L is fixed, so Y and its share of R, G, B
    are computed once; each step converts X and Z only, into preallocated buffers. Inside means every linear
    channel within [0, 1] widened by `_GAMUT_TOLERANCE`, tested as |channel - 0.5| <= 0.5 + tolerance."""
    count = len(lightness)
    fy = (lightness + np.float32(16.0)) / np.float32(116.0)
    luminance = _lab_f_inverse_fast(fy.copy())
    x_slope = a / np.float32(500.0)
    z_slope = b / np.float32(-200.0)
    centred = [luminance * from_y - np.float32(0.5) for from_y in RELATIVE_XYZ_TO_RGB[:, 1]]
    limit = np.float32(0.5) + _GAMUT_TOLERANCE
    scale = np.zeros(count, np.float32)
    trial, x, z, f, knee, channel, term = (np.empty(count, np.float32) for _ in range(7))
    inside, channel_inside = np.empty(count, bool), np.empty(count, bool)
    step = np.float32(1.0)
    for _ in range(_GAMUT_STEPS):
        step *= np.float32(0.5)
        np.add(scale, step, out=trial)
        _lab_f_inverse_on_line(fy, trial, x_slope, out=x, f=f, knee=knee)
        _lab_f_inverse_on_line(fy, trial, z_slope, out=z, f=f, knee=knee)
        for index, ((from_x, _, from_z), offset) in enumerate(zip(RELATIVE_XYZ_TO_RGB, centred)):
            np.multiply(x, from_x, out=channel)
            channel += np.multiply(z, from_z, out=term)
            channel += offset
            np.abs(channel, out=channel)
            if index == 0:
                np.less_equal(channel, limit, out=inside)
            else:
                inside &= np.less_equal(channel, limit, out=channel_inside)
        np.copyto(scale, trial, where=inside)
    return scale


def _lab_f_inverse_on_line(
    fy: np.ndarray, scale: np.ndarray, slope: np.ndarray, out: np.ndarray | None = None,
    f: np.ndarray | None = None, knee: np.ndarray | None = None,
) -> np.ndarray:
    """`_lab_f_inverse(fy + scale * slope)` (float32 (N,)), written as max(f, knee)**3 + its linear rest so that it
    needs no mask; `out`, `f` and `knee` are optional scratch buffers of the same shape."""
    f = np.multiply(scale, slope, out=f)
    f += fy
    knee = np.maximum(f, _F_KNEE, out=knee)
    out = np.multiply(knee, knee, out=out)
    out *= knee
    f -= knee  # zero above the knee; below it the linear part's distance from the knee
    f *= _F_KNEE_SLOPE
    out += f
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
    Every pixel keeps its lightness: where the chroma does not fit the sRGB gamut at that lightness, the pixel
    keeps its hue and takes the most chroma that fits (`lab_planes_to_rgb`).
    Done in bands of rows (`row_bands`): only the uint8 result is full size.
    """
    if chroma.ndim != 3 or chroma.shape[-1] != 2:
        raise ValueError(f"chroma must have shape (h, w, 2), got {chroma.shape}")
    height, width = lightness.shape
    rgb = np.empty((height, width, 3), np.uint8)
    for rows in row_bands(height, width):
        # a and b upsampled one at a time: contiguous planes, whose out-of-gamut pixels are cheap to pick out
        a, b = (resize_plane_rows(chroma[..., index], (height, width), rows) for index in range(2))
        if strength != 1.0:  # not in place: the rows may be a view of the caller's chroma
            a, b = a * np.float32(strength), b * np.float32(strength)
        lab_planes_to_rgb(lightness[rows].astype(np.float32, copy=False), a, b, rgb[rows])
    return rgb


def encoder_input(lightness: np.ndarray) -> np.ndarray:
    """Lightness (..., H, W) in [0, 100] as the gray sRGB photo the ImageNet encoder (MobileNetV2) expects:
    float32 (..., H, W, 1) in [-1, 1]."""
    return (encode_srgb(lightness_to_luminance(lightness)) * 2.0 - 1.0).astype(np.float32)[..., None]
