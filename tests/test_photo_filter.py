"""Tests for colorizers.training.photo_filter on small generated images."""
import numpy as np
import pytest

from colorizers.training.photo_filter import colourfulness, is_natural_photo, measure


def synthetic_drawing(height: int = 300, width: int = 400) -> np.ndarray:
    """A few flat colour shapes on a white background, uint8 HxWx3."""
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    image[40:160, 50:200] = (220, 30, 30)
    image[150:280, 220:380] = (30, 90, 200)
    rows, cols = np.ogrid[:height, :width]
    image[(rows - 200) ** 2 + (cols - 100) ** 2 < 60**2] = (250, 210, 40)
    return image


def synthetic_photo(height: int = 300, width: int = 400, seed: int = 0) -> np.ndarray:
    """Smooth colour gradients plus texture and sensor-like noise, uint8 HxWx3."""
    generator = np.random.default_rng(seed)
    rows, cols = np.mgrid[:height, :width].astype(np.float64)
    red = 60 + 120 * cols / width + 20 * np.sin(rows / 17.0)
    green = 90 + 80 * rows / height + 25 * np.cos(cols / 23.0)
    blue = 150 - 100 * (rows + cols) / (height + width) + 15 * np.sin((rows + cols) / 11.0)
    image = np.stack([red, green, blue], axis=-1) + generator.normal(0, 8, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def test_drawing_is_rejected():
    keep, reason = is_natural_photo(synthetic_drawing())
    assert not keep
    assert reason


def test_photo_is_kept():
    keep, reason = is_natural_photo(synthetic_photo())
    assert keep, reason
    assert reason.startswith("photo")


def test_small_image_is_rejected():
    keep, reason = is_natural_photo(synthetic_photo(height=150, width=400))
    assert not keep
    assert "small" in reason


def test_transparent_image_is_rejected():
    rgba = np.dstack([synthetic_photo(), np.zeros((300, 400), dtype=np.uint8)])
    rgba[:50, :, 3] = 255
    keep, reason = is_natural_photo(rgba)
    assert not keep
    assert "transparent" in reason


def test_opaque_rgba_photo_is_kept():
    rgba = np.dstack([synthetic_photo(), np.full((300, 400), 255, dtype=np.uint8)])
    assert is_natural_photo(rgba)[0]


def test_grayscale_photo_is_rejected():
    gray = synthetic_photo().mean(axis=2, keepdims=True).astype(np.uint8).repeat(3, axis=2)
    keep, reason = is_natural_photo(gray)
    assert not keep
    assert "grayscale" in reason


def test_colourfulness_of_gray_is_zero():
    assert colourfulness(np.full((10, 10, 3), 128, dtype=np.uint8)) == pytest.approx(0.0)


def test_statistics_separate_drawing_and_photo():
    drawing, photo = measure(synthetic_drawing()), measure(synthetic_photo())
    assert drawing.flat_fraction > photo.flat_fraction
    assert drawing.distinct_colours < photo.distinct_colours
    assert drawing.top_colours_fraction > photo.top_colours_fraction


@pytest.mark.parametrize("bad", [np.zeros((300, 400), np.uint8), np.zeros((300, 400, 3), np.float32)])
def test_bad_input_raises(bad):
    with pytest.raises(ValueError):
        is_natural_photo(bad)
