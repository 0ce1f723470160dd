"""Image-quality metrics for colorization results: pure numpy (and scipy's Gaussian filter), no models.

All functions take sRGB uint8 images of shape (H, W, 3), the project's convention at the edges, and compute on
0-255 values in float64. A result and its ground truth must have the same shape.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

PEAK = 255.0

# SSIM constants of Wang, Bovik, Sheikh and Simoncelli (2004): an 11x11 Gaussian window with sigma 1.5.
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5  # radius = int(3.5 * 1.5 + 0.5) = 5 pixels, so the window is 11x11 as in the paper
SSIM_K1 = 0.01
SSIM_K2 = 0.03

# Hasler and Suesstrunk (2003): weight of the mean opponent colour against its spread.
COLOURFULNESS_MEAN_WEIGHT = 0.3


def psnr(result: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of `result` against `truth`, with a peak of 255.

    result, truth: sRGB uint8 (H, W, 3) of the same shape. Returns 10 log10(255^2 / MSE) over all pixels and
    channels; `inf` when the images are identical (MSE 0). Higher is closer.
    """
    result, truth = _checked_pair(result, truth)
    mean_squared_error = float(np.mean((result - truth) ** 2))
    if mean_squared_error == 0.0:
        return float("inf")
    return float(10.0 * np.log10(PEAK * PEAK / mean_squared_error))


def ssim(result: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004) of `result` against `truth`: the mean over the R, G and B channels.

    result, truth: sRGB uint8 (H, W, 3) of the same shape. Local statistics use a Gaussian window (sigma 1.5,
    11x11), K1 = 0.01, K2 = 0.03 and a data range of 255. The SSIM map of each channel is averaged over the
    pixels at least 5 pixels from the border (the whole map for smaller images), then over the three channels.
    We use RGB rather than luma on purpose: a colorizer keeps the input's lightness, so luma SSIM would be
    close to 1 for every model and would not tell them apart. Returns a float in [-1, 1]; 1 for identical images.
    """
    result, truth = _checked_pair(result, truth)
    return float(np.mean([_ssim_channel(result[..., channel], truth[..., channel]) for channel in range(3)]))


def _ssim_channel(result: np.ndarray, truth: np.ndarray) -> float:
    c1 = (SSIM_K1 * PEAK) ** 2
    c2 = (SSIM_K2 * PEAK) ** 2

    def blur(plane: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(plane, SSIM_SIGMA, mode="reflect", truncate=SSIM_TRUNCATE)

    mean_result, mean_truth = blur(result), blur(truth)
    variance_result = blur(result * result) - mean_result * mean_result
    variance_truth = blur(truth * truth) - mean_truth * mean_truth
    covariance = blur(result * truth) - mean_result * mean_truth
    similarity = ((2.0 * mean_result * mean_truth + c1) * (2.0 * covariance + c2)) / (
        (mean_result * mean_result + mean_truth * mean_truth + c1) * (variance_result + variance_truth + c2)
    )
    border = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)
    height, width = similarity.shape
    if height > 2 * border and width > 2 * border:
        similarity = similarity[border:-border, border:-border]
    return float(np.mean(similarity))


def colourfulness(rgb: np.ndarray) -> float:
    """Colourfulness of a photo (Hasler and Suesstrunk 2003), on 0-255 values.

    rgb: sRGB uint8 (H, W, 3). With rg = R - G and yb = (R + G) / 2 - B per pixel,
    CF = sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2) (population standard deviations).
    Returns a float >= 0: 0 for a gray image; about 15 is "slightly", 33 "moderately", 59 "quite", over 82
    "extremely" colourful (in the paper's terms).
    """
    values = _checked_rgb(rgb, "rgb")
    red, green, blue = values[..., 0], values[..., 1], values[..., 2]
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = np.sqrt(np.var(red_green) + np.var(yellow_blue))
    offset = np.sqrt(np.mean(red_green) ** 2 + np.mean(yellow_blue) ** 2)
    return float(spread + COLOURFULNESS_MEAN_WEIGHT * offset)


def colourfulness_gap(result: np.ndarray, truth: np.ndarray) -> float:
    """|CF(result) - CF(truth)|: how far a result's colourfulness is from the truth's (0 is best; symmetric).

    result, truth: sRGB uint8 (H, W, 3); they may differ in size, since only their colourfulness is compared.
    """
    return abs(colourfulness(result) - colourfulness(truth))


def lightness_drift(result: np.ndarray, lightness: np.ndarray) -> float:
    """Mean |L*(result) - lightness| in CIELAB L* units: how far a result strays from the photo's own lightness,
    which every model promises to keep (only 8-bit rounding should remain: a few hundredths).

    result: sRGB uint8 (H, W, 3); lightness: float (H, W) in [0, 100], the photo's lightness it was coloured from.
    """
    from .color import rgb_to_lightness  # here: the metrics otherwise need nothing of the colour code

    values = _checked_rgb(result, "result")
    if values.shape[:2] != np.shape(lightness):
        raise ValueError(f"result {values.shape} and lightness {np.shape(lightness)} must have the same size.")
    return float(np.mean(np.abs(rgb_to_lightness(result).astype(np.float64) - lightness)))


def _checked_rgb(rgb: np.ndarray, name: str) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"{name} must be an RGB image of shape (H, W, 3), got shape {rgb.shape}.")
    if rgb.dtype != np.uint8:
        raise ValueError(f"{name} must be sRGB uint8 (0-255), got dtype {rgb.dtype}.")
    if rgb.size == 0:
        raise ValueError(f"{name} is empty.")
    return rgb.astype(np.float64)


def _checked_pair(result: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    result_values = _checked_rgb(result, "result")
    truth_values = _checked_rgb(truth, "truth")
    if result_values.shape != truth_values.shape:
        raise ValueError(f"result {result_values.shape} and truth {truth_values.shape} must have the same shape.")
    return result_values, truth_values
