"""colorizers.color: the sRGB <-> CIELAB convention and the chroma merge every model uses."""
from __future__ import annotations

import numpy as np
import pytest

from colorizers import color
from colorizers.color import (
    RELATIVE_XYZ_TO_RGB,
    gray_rgb,
    lab_planes_to_rgb,
    lab_to_rgb,
    lightness_to_luminance,
    luminance_to_lightness,
    merge_chroma,
    linear_to_srgb,
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
        assert np.abs(rgb_to_lightness(rgb) - lightness).max() < 0.5  # everywhere, in the gamut or not


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


# --- Colours outside the sRGB gamut: lightness and hue kept, chroma given up ------------------------------------------


def random_lab(count: int, seed: int = 0) -> np.ndarray:
    """Any lightness in [0, 100] with any a/b in [-128, 128] (most such colours are outside sRGB), float32 (N, 3)."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [rng.uniform(0.0, 100.0, count), rng.uniform(-128.0, 128.0, count), rng.uniform(-128.0, 128.0, count)], axis=-1
    ).astype(np.float32)


def linear_rgb_of(lab: np.ndarray) -> np.ndarray:
    """Linear RGB (N, 3) float32 of CIELAB (N, 3), not clipped: outside [0, 1] where the colour is outside sRGB."""
    fy = (lab[:, 0] + np.float32(16.0)) / np.float32(116.0)
    fx, fz = fy + lab[:, 1] / np.float32(500.0), fy - lab[:, 2] / np.float32(200.0)
    x, y, z = (color._lab_f_inverse(f) for f in (fx, fy, fz))
    channels = []
    for from_x, from_y, from_z in RELATIVE_XYZ_TO_RGB:  # summed in the order the conversion sums them
        linear = x * from_x
        linear += y * from_y
        linear += z * from_z
        channels.append(linear)
    return np.stack(channels, axis=-1)


def clipped_lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """The conversion as it was before gamut mapping, with R, G, B clipped: the yardstick for colours inside."""
    return linear_to_srgb(linear_rgb_of(lab))


def lightness_bracket(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lightness of `rgb` (N, 3) uint8 with every channel one 8-bit level lower, and one level higher.

    L grows with each of R, G, B; rounding to 8 bits moves a channel by at most half a level (the 65536-step table
    of `linear_to_srgb` by at most one). So a colour whose exact R, G, B have lightness L rounds to an `rgb` with L
    inside this bracket: the bound that 8-bit output allows, no looser."""
    levels = rgb.astype(np.int16)
    lower = rgb_to_lightness(np.clip(levels - 1, 0, 255).astype(np.uint8))
    upper = rgb_to_lightness(np.clip(levels + 1, 0, 255).astype(np.uint8))
    return lower, upper


def test_lab_to_rgb_keeps_the_lightness_of_every_colour():
    lab = random_lab(50_000)
    rgb = lab_to_rgb(lab)
    lightness = lab[:, 0]
    error = np.abs(rgb_to_lightness(rgb) - lightness)
    # Only 8-bit rounding is left: about 0.07 L* on average, 0.24 at most over 200,000 such colours (near black,
    # where one level is a larger step of L, it is no worse: 0.18). Clipping R, G, B left 6.4 L* on average.
    assert error.mean() < 0.1
    assert error.max() < 0.3
    lower, upper = lightness_bracket(rgb)
    assert np.all(lower <= lightness + 0.01) and np.all(lightness <= upper + 0.01)


def test_lab_to_rgb_keeps_the_hue_and_gives_up_only_chroma():
    lab = random_lab(50_000, seed=1)
    shown = rgb_to_lab(lab_to_rgb(lab))[:, 1:]
    asked = lab[:, 1:]
    asked_chroma = np.linalg.norm(asked, axis=-1)
    shown_chroma = np.linalg.norm(shown, axis=-1)
    # The shown a/b lies on the asked a/b's own ray from gray: off it by no more than 8-bit rounding (0.84 a/b
    # units at most measured), never on the opposite side, and never with more chroma than asked.
    off_the_ray = np.abs(asked[:, 0] * shown[:, 1] - asked[:, 1] * shown[:, 0]) / asked_chroma
    assert off_the_ray.max() < 1.0
    assert np.all(np.sum(asked * shown, axis=-1) >= 0.0)
    assert np.all(shown_chroma <= asked_chroma + 1.0)
    # The hue angle, where chroma stays above a few units (below, rounding alone turns the hue by degrees).
    vivid = shown_chroma > 20.0
    turn = np.angle(np.exp(1j * (np.arctan2(shown[:, 1], shown[:, 0]) - np.arctan2(asked[:, 1], asked[:, 0]))))
    assert vivid.mean() > 0.5 and np.degrees(np.abs(turn[vivid])).max() < 3.0


def test_colours_outside_the_gamut_keep_as_much_chroma_as_fits():
    lab = random_lab(50_000, seed=2)
    linear = linear_rgb_of(lab)
    outside = ((linear < -1e-3) | (linear > 1.0 + 1e-3)).any(axis=-1)
    rgb = lab_to_rgb(lab)
    assert outside.mean() > 0.5
    # On the gamut's surface: a channel at (or, near black, within a few levels of) 0 or 255. The chroma scale is
    # found to 2**-12; in a saturated colour the darkest channel can then sit 2 levels above 0.
    on_surface = (rgb.min(axis=-1) <= 3) | (rgb.max(axis=-1) >= 252)
    assert on_surface[outside].all()


def test_colours_inside_the_gamut_convert_as_before():
    lab = random_lab(50_000, seed=3)
    linear = linear_rgb_of(lab)
    well_inside = ((linear > 0.002) & (linear < 0.998)).all(axis=-1)
    assert well_inside.sum() > 3000
    assert np.array_equal(lab_to_rgb(lab)[well_inside], clipped_lab_to_rgb(lab)[well_inside])
    # And the sRGB colours themselves, the gamut's surface included, come back as they were (to one level).
    rgb = random_rgb(20_000, seed=4)
    assert np.abs(lab_to_rgb(rgb_to_lab(rgb)).astype(int) - rgb).max() <= 1


def test_black_and_white_take_no_chroma():
    lab = np.array([[0.0, 60.0, -40.0], [100.0, -50.0, 70.0], [0.0, 0.0, 0.0], [100.0, 0.0, 0.0]], np.float32)
    assert lab_to_rgb(lab).tolist() == [[0, 0, 0], [255, 255, 255], [0, 0, 0], [255, 255, 255]]
    assert lab_to_rgb(lab[1]).tolist() == [255, 255, 255]  # a single colour (3,)


def test_merge_chroma_at_strength_1_5_keeps_lightness_and_hue_of_vivid_chroma():
    height, width = 64, 96
    rows, columns = np.mgrid[0:height, 0:width]
    lightness = (5.0 + 90.0 * columns / (width - 1) + 0.5 * np.sin(rows / 4.0)).astype(np.float32)
    chroma = np.random.default_rng(9).uniform(-90.0, 90.0, (8, 12, 2)).astype(np.float32)
    rgb = merge_chroma(lightness, chroma, strength=1.5)
    error = np.abs(rgb_to_lightness(rgb) - lightness)
    assert error.mean() < 0.1 and error.max() < 0.3  # clipping left 3.4 L* on average here
    asked = resize_plane(chroma, (height, width)).reshape(-1, 2) * 1.5
    shown = rgb_to_lab(rgb)[..., 1:].reshape(-1, 2)
    off_the_ray = np.abs(asked[:, 0] * shown[:, 1] - asked[:, 1] * shown[:, 0]) / np.linalg.norm(asked, axis=-1)
    assert off_the_ray.max() < 1.0 and np.all(np.sum(asked * shown, axis=-1) >= 0.0)


def test_merge_chroma_in_small_bands_equals_lab_to_rgb_of_the_whole(monkeypatch):
    """The out-of-gamut pixels of each band are solved and written back in place: the same bytes as converting the
    whole photo at once, with bands of a few rows, chroma at the photo's size (strided planes) and a strided `out`."""
    monkeypatch.setattr(color, "BAND_PIXELS", 1000)
    height, width = 60, 97
    lightness = np.random.default_rng(10).uniform(0.0, 100.0, (height, width)).astype(np.float32)
    chroma = np.random.default_rng(11).uniform(-110.0, 110.0, (height, width, 2)).astype(np.float32)
    whole = lab_to_rgb(np.concatenate([lightness[..., None], chroma], axis=-1))
    assert np.array_equal(merge_chroma(lightness, chroma), whole)
    strided_out = np.zeros((height, 2 * width, 3), np.uint8)[:, ::2]
    lab_planes_to_rgb(lightness, chroma[..., 0], chroma[..., 1], strided_out)
    assert np.array_equal(strided_out, whole)
