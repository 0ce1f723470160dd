"""Known answers for colorizers.metrics."""
import math

import numpy as np
import pytest

from colorizers.metrics import colourfulness, colourfulness_gap, psnr, ssim


def _textured(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient plus a little texture, sRGB uint8 (height, width, 3)."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width]
    base = np.stack([rows * 200 / height, columns * 200 / width, (rows + columns) * 100 / (height + width)], -1)
    return np.clip(base + 20 + rng.integers(0, 30, (height, width, 3)), 0, 255).astype(np.uint8)


def _noisy(rgb: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, sigma, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def test_psnr_of_identical_images_is_inf():
    image = _textured()
    assert psnr(image, image.copy()) == math.inf


def test_psnr_of_a_known_offset_follows_the_formula():
    truth = np.full((8, 8, 3), 100, np.uint8)
    result = np.full((8, 8, 3), 110, np.uint8)  # MSE = 10^2 = 100
    assert psnr(result, truth) == pytest.approx(10 * math.log10(255**2 / 100))  # 28.13 dB
    assert psnr(truth, result) == pytest.approx(28.1308, abs=1e-4)


def test_psnr_offset_on_one_channel_only():
    truth = np.zeros((4, 4, 3), np.uint8)
    result = truth.copy()
    result[..., 0] = 30  # MSE = 900 / 3 = 300
    assert psnr(result, truth) == pytest.approx(10 * math.log10(255**2 / 300))


def test_metrics_reject_mismatched_or_non_uint8_input():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        ssim(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        colourfulness(np.zeros((4, 4), np.uint8))


def test_ssim_of_identical_images_is_one():
    image = _textured()
    assert ssim(image, image.copy()) == pytest.approx(1.0, abs=1e-9)


def test_ssim_drops_with_noise():
    image = _textured()
    slight, strong = ssim(_noisy(image, 5.0), image), ssim(_noisy(image, 40.0), image)
    assert 1.0 > slight > strong
    assert strong < 0.8


def test_ssim_of_two_flat_images_is_the_luminance_term():
    # No variance anywhere: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) with C1 = (0.01 * 255)^2.
    first, second = np.full((20, 20, 3), 100, np.uint8), np.full((20, 20, 3), 120, np.uint8)
    c1 = (0.01 * 255) ** 2
    assert ssim(first, second) == pytest.approx((2 * 100 * 120 + c1) / (100**2 + 120**2 + c1), rel=1e-6)


def test_ssim_is_symmetric():
    image = _textured()
    noisy = _noisy(image, 20.0)
    assert ssim(image, noisy) == pytest.approx(ssim(noisy, image))


def test_gray_image_has_zero_colourfulness():
    gray = np.repeat(np.linspace(0, 255, 64).astype(np.uint8)[None, :, None], 3, axis=-1).repeat(8, axis=0)
    assert colourfulness(gray) == 0.0


def test_one_colour_image_has_only_the_mean_term():
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 255  # rg = 255, yb = 127.5 everywhere, no spread
    assert colourfulness(red) == pytest.approx(0.3 * math.hypot(255.0, 127.5))


def test_two_colour_image_has_the_hand_computed_colourfulness():
    # Half pure red (rg 255, yb 127.5), half pure blue (rg 0, yb -255).
    image = np.zeros((4, 4, 3), np.uint8)
    image[:, :2, 0] = 255
    image[:, 2:, 2] = 255
    # mean rg 127.5, std rg 127.5; mean yb -63.75, std yb (127.5 + 255) / 2 = 191.25.
    expected = math.sqrt(127.5**2 + 191.25**2) + 0.3 * math.sqrt(127.5**2 + 63.75**2)
    assert expected == pytest.approx(272.62, abs=0.01)
    assert colourfulness(image) == pytest.approx(expected)


def test_colourfulness_gap_is_symmetric_and_absolute():
    colourful, gray = _textured(), np.full((48, 64, 3), 128, np.uint8)
    assert colourfulness_gap(colourful, gray) == pytest.approx(colourfulness(colourful))
    assert colourfulness_gap(gray, colourful) == colourfulness_gap(colourful, gray)
    other = _textured(seed=3)[::2]  # sizes may differ
    assert colourfulness_gap(colourful, other) == pytest.approx(abs(colourfulness(colourful) - colourfulness(other)))
    assert colourfulness_gap(colourful, colourful) == 0.0
