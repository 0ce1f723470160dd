"""The exemplar engine (colorizers/exemplar.py): colour matched by content, the CNN where nothing is alike,
edge-aware upsampling, and the `exemplar` model as the registry runs it (real exported features)."""
from __future__ import annotations

import numpy as np
import pytest

from colorizers import exemplar
from colorizers.color import lab_to_rgb, resize_plane, rgb_to_lab, rgb_to_lightness
from colorizers.errors import ReferenceImageError
from colorizers.metrics import lightness_drift
from colorizers.registry import colorize, model_info
from colorizers.suggestion import OwnReference

pytestmark = pytest.mark.skipif(not model_info("exemplar").is_available, reason="weights/exemplar_features.onnx missing")

RED = (55.0, 40.0)
BLUE = (5.0, -55.0)


def _stripes(height: int, width: int, vertical: bool, period: int = 8) -> np.ndarray:
    """Lightness 40/60 in stripes: horizontal and vertical stripes have the same lightness values and the same
    local spread, so only what they look like tells them apart."""
    index = np.arange(width if vertical else height) // (period // 2) % 2
    line = np.where(index == 0, 40.0, 60.0).astype(np.float32)
    return np.broadcast_to(line[None, :] if vertical else line[:, None], (height, width)).copy()


def _scene(left_vertical: bool, left_colour=None, right_colour=None) -> np.ndarray:
    """A 128x256 photo: stripes of one orientation on the left half, the other on the right; sRGB uint8, with
    the given a/b on each half (gray where None)."""
    left, right = _stripes(128, 128, left_vertical), _stripes(128, 128, not left_vertical)
    lightness = np.concatenate([left, right], axis=1)
    chroma = np.zeros((128, 256, 2), np.float32)
    if left_colour is not None:
        chroma[:, :128], chroma[:, 128:] = left_colour, right_colour
    return lab_to_rgb(np.concatenate([lightness[..., None], chroma], axis=-1))


def _mean_ab(rgb: np.ndarray, columns: slice) -> np.ndarray:
    return rgb_to_lab(rgb[:, columns])[..., 1:].reshape(-1, 2).mean(axis=0)


def _closer(ab: np.ndarray, wanted, other) -> bool:
    return np.linalg.norm(ab - np.array(wanted)) < np.linalg.norm(ab - np.array(other))


def test_each_object_keeps_its_own_colour_where_welsh_cannot_tell_them_apart():
    # Reference: vertical stripes red on the left, horizontal stripes blue on the right. Target: the same two
    # objects in swapped places, gray. Same lightness values, same texture statistics.
    reference = _scene(left_vertical=True, left_colour=RED, right_colour=BLUE)
    target = rgb_to_lightness(_scene(left_vertical=False))
    left, right = slice(16, 112), slice(144, 240)  # away from the seam

    by_content = colorize(target, "exemplar", reference=reference).rgb
    assert _closer(_mean_ab(by_content, left), BLUE, RED)
    assert _closer(_mean_ab(by_content, right), RED, BLUE)
    assert np.linalg.norm(_mean_ab(by_content, left) - np.array(BLUE)) < 25.0
    assert np.linalg.norm(_mean_ab(by_content, right) - np.array(RED)) < 25.0

    by_lightness = colorize(target, "welsh", reference=reference).rgb
    welsh_right_way = (_closer(_mean_ab(by_lightness, left), BLUE, RED)
                       and _closer(_mean_ab(by_lightness, right), RED, BLUE))
    assert not welsh_right_way
    assert np.linalg.norm(_mean_ab(by_lightness, left) - _mean_ab(by_lightness, right)) < 10.0


def _photo_like(seed: int, height: int = 96, width: int = 144) -> np.ndarray:
    """A colourful made-up photo: smooth coloured blobs with texture."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 9, 3)).astype(np.float32)
    smooth = np.stack([resize_plane(small[..., channel], (height, width)) for channel in range(3)], axis=-1)
    noise = rng.normal(0, 12, (height, width, 1))
    return np.clip(smooth + noise, 0, 255).astype(np.uint8)


def test_the_true_photo_as_reference_gives_its_colour_back_at_full_size_and_lightness():
    truth = _photo_like(1)
    lightness = rgb_to_lightness(truth)
    result = colorize(lightness, "exemplar", reference=truth)
    assert result.rgb.shape == truth.shape
    assert lightness_drift(result.rgb, lightness) < 0.2
    error = np.abs(rgb_to_lab(result.rgb)[..., 1:] - rgb_to_lab(truth)[..., 1:]).mean()
    gray_error = np.abs(rgb_to_lab(truth)[..., 1:]).mean()
    assert error < 0.35 * gray_error
    assert result.details["reference"] == "uploaded"
    assert result.details["cnn_share"] < 0.05


def test_colour_stops_at_a_lightness_edge():
    # A dark red left part and a light blue right part, the edge inside a cell of the 1/4 grid the colour is
    # matched on: that cell's colour and lightness are both mixtures.
    lightness = np.full((64, 256), 30.0, np.float32)
    lightness[:, 130:] = 70.0
    chroma = np.zeros((64, 256, 2), np.float32)
    chroma[:, :130], chroma[:, 130:] = RED, BLUE
    small_lightness, small_chroma = exemplar._pool(lightness, 4), exemplar._pool(chroma, 4)
    guided = exemplar.guided_upsample(small_lightness, small_chroma, lightness)
    plain = resize_plane(small_chroma, lightness.shape)
    near_edge = np.r_[122:138]  # 8 pixels each side of the edge
    guided_error = np.abs(guided[:, near_edge] - chroma[:, near_edge]).mean()
    plain_error = np.abs(plain[:, near_edge] - chroma[:, near_edge]).mean()
    assert guided_error < 0.25 * plain_error
    assert guided_error < 3.0


def test_where_the_reference_shows_nothing_alike_the_cnn_colours_and_the_details_say_so():
    if not model_info("cnn").is_available:
        pytest.skip("the CNN's weights are missing")
    target = rgb_to_lightness(_photo_like(2))
    flat = np.full((64, 64, 3), (200, 40, 40), np.uint8)  # one flat colour: no structure to match
    result = colorize(target, "exemplar", reference=flat)
    assert result.details["cnn_share"] > 0.25
    assert "CNN" in result.details["fallback"]
    alike = colorize(target, "exemplar", reference=_photo_like(2))
    assert alike.details["cnn_share"] < 0.2 * result.details["cnn_share"]


def test_up_to_five_references_pooled_and_named():
    target = rgb_to_lightness(_photo_like(3))
    references = [_photo_like(seed) for seed in (3, 4)]
    result = colorize(target, "exemplar", reference=references)
    assert result.details["references"] == "uploaded 1,uploaded 2"
    with pytest.raises(ReferenceImageError, match="between 1 and 5"):
        colorize(target, "exemplar", reference=[_photo_like(seed) for seed in range(6)])
    with pytest.raises(ReferenceImageError, match="auto"):
        colorize(target, "exemplar", reference=["auto", references[0]])


def test_suggest_for_me_searches_the_visitors_own_references():
    if not model_info("cnn").is_available:
        pytest.skip("the CNN's weights are missing")
    truth = _photo_like(5)
    own = OwnReference("grandma's garden", truth)
    result = colorize(rgb_to_lightness(truth), "exemplar", reference="auto", own_references=[own])
    assert result.details["reference"] == "grandma's garden"
    welsh = colorize(rgb_to_lightness(truth), "welsh", reference="auto", own_references=[own])
    assert "grandma's garden" in welsh.details["references"].split(",")


def test_a_large_photo_gets_chroma_of_bounded_size(monkeypatch):
    monkeypatch.setattr(exemplar, "MAX_OUTPUT_PIXELS", 20_000)
    truth = _photo_like(6, 300, 400)
    result = colorize(rgb_to_lightness(truth), "exemplar", reference=truth)
    assert result.rgb.shape == truth.shape
    assert result.chroma.shape[0] * result.chroma.shape[1] <= 20_000


def test_working_size_keeps_the_aspect_ratio_in_multiples_of_16():
    assert exemplar.working_size((600, 800)) == (336, 448)
    assert exemplar.working_size((4000, 100)) == (448, 16)
    height, width = exemplar.working_size((1080, 1920))
    assert height % 16 == 0 and width == exemplar.WORKING_SIDE
