"""colorizers.color: the sRGB <-> CIELAB convention and the chroma merge every model uses."""
from __future__ import annotations

import numpy as np
import pytest

from colorizers.color import (
    gray_rgb,
    lab_to_rgb,
    lightness_to_luminance,
    luminance_to_lightness,
    merge_chroma,
    resize_plane,
    rgb_to_lab,
    rgb_to_lightness,
    srgb_to_linear,
)


def random_rgb(count: int = 4096, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 3), dtype=np.uint8)


def test_lab_round_trip_on_every_gray():
    grays = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=-1)
    lab = rgb_to_lab(grays)
    assert lab.dtype == np.float32
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=1e-2)
    assert np.all(np.diff(lab[:, 0]) > 0)
    back = lab_to_rgb(lab)
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - grays.astype(int)).max() <= 1


def test_lab_round_trip_on_random_colours():
    rgb = random_rgb()
    back = lab_to_rgb(rgb_to_lab(rgb))
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 1


def test_uint8_and_float_inputs_agree():
    rgb = random_rgb(512, seed=1)
    np.testing.assert_allclose(rgb_to_lab(rgb), rgb_to_lab(rgb.astype(np.float32) / 255.0), atol=1e-3)
    np.testing.assert_allclose(srgb_to_linear(rgb), srgb_to_linear(rgb / 255.0), atol=1e-6)


@pytest.mark.parametrize(
    "rgb, expected",
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((0, 255, 0), (87.73, -86.18, 83.18)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
    ],
)
def test_known_values(rgb, expected):
    lab = rgb_to_lab(np.array([rgb], dtype=np.uint8))[0]
    np.testing.assert_allclose(lab, expected, atol=0.02)


def test_rgb_to_lightness_equals_lab_lightness():
    rgb = random_rgb(4096, seed=2).reshape(64, 64, 3)
    lightness = rgb_to_lightness(rgb)
    assert lightness.shape == (64, 64) and lightness.dtype == np.float32
    np.testing.assert_allclose(lightness, rgb_to_lab(rgb)[..., 0], atol=1e-4)
    np.testing.assert_allclose(rgb_to_lightness(rgb / 255.0), lightness, atol=1e-3)


def test_equal_colours_get_exactly_equal_lightness():
    grays = np.random.default_rng(3).integers(0, 256, (300, 401), dtype=np.uint8)
    for rgb in (np.repeat(grays[..., None], 3, axis=-1), np.repeat(grays[..., None], 3, axis=-1) / np.float32(255)):
        lightness = rgb_to_lightness(rgb)
        assert len(np.unique(lightness)) == len(np.unique(grays))


def test_luminance_and_lightness_are_inverse():
    lightness = np.linspace(0.0, 100.0, 1001, dtype=np.float32)
    np.testing.assert_allclose(luminance_to_lightness(lightness_to_luminance(lightness)), lightness, atol=1e-3)
    assert lightness_to_luminance(np.float32(50.0)) == pytest.approx(0.18419, abs=1e-4)


def test_gray_rgb_has_the_lightness_and_no_colour():
    lightness = np.linspace(0.0, 100.0, 40 * 30, dtype=np.float32).reshape(40, 30)
    gray = gray_rgb(lightness)
    assert gray.shape == (40, 30, 3) and gray.dtype == np.uint8
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert np.abs(rgb_to_lightness(gray) - lightness).max() < 0.5


def test_resize_plane_sizes():
    plane = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert resize_plane(plane, (3, 4)) is not None
    assert resize_plane(plane, (7, 9)).shape == (7, 9)
    assert resize_plane(np.zeros((3, 4, 2), np.float32), (5, 11)).shape == (5, 11, 2)


def modest_chroma(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Coarse chroma within +-12 (upsampled by merge_chroma): inside the sRGB gamut for mid lightness."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-12.0, 12.0, (max(2, height // 8), max(2, width // 8), 2)).astype(np.float32)
    return coarse


@pytest.mark.parametrize("shape", [(37, 53), (64, 64), (21, 100), (99, 33)])
def test_merge_chroma_keeps_size_and_lightness(shape):
    height, width = shape
    rows, columns = np.mgrid[0:height, 0:width]
    lightness = (42.0 + 25.0 * (rows / height) + 8.0 * np.sin(columns / 5.0)).astype(np.float32)
    for chroma in (
        modest_chroma(height, width),  # smaller than the image, any aspect
        np.full((max(1, height // 4), max(1, width // 4), 2), [12.0, -15.0], np.float32),  # quarter size
        np.full((height, width, 2), [-10.0, 18.0], np.float32),  # full size
    ):
        rgb = merge_chroma(lightness, chroma)
        assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8
        clipped = ((rgb == 0) | (rgb == 255)).any(axis=-1)  # out of gamut: lightness may move there
        assert clipped.mean() < 0.01
        assert np.abs(rgb_to_lightness(rgb) - lightness)[~clipped].max() < 0.5


def test_merge_chroma_applies_the_chroma():
    lightness = np.full((16, 24), 55.0, np.float32)
    rgb = merge_chroma(lightness, np.full((4, 6, 2), [30.0, 20.0], np.float32))
    lab = rgb_to_lab(rgb)
    np.testing.assert_allclose(lab[..., 1], 30.0, atol=1.0)
    np.testing.assert_allclose(lab[..., 2], 20.0, atol=1.0)


def test_merge_chroma_strength():
    lightness = np.linspace(10.0, 90.0, 20 * 30, dtype=np.float32).reshape(20, 30)
    chroma = np.full((5, 5, 2), [20.0, -20.0], np.float32)
    gray = merge_chroma(lightness, chroma, strength=0.0)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    assert np.array_equal(gray, gray_rgb(lightness))
    half = rgb_to_lab(merge_chroma(np.full((8, 8), 60.0, np.float32), chroma, strength=0.5))
    np.testing.assert_allclose(half[..., 1], 10.0, atol=1.0)


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 3), (8, 8, 1), (2,)])
def test_merge_chroma_refuses_bad_chroma_shapes(shape):
    with pytest.raises(ValueError, match="chroma"):
        merge_chroma(np.zeros((8, 8), np.float32), np.zeros(shape, np.float32))
