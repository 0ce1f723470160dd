"""Tinted monochrome prints (sepia, cyanotype) are recognised, and never called colour photos."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from colorizers import decode_image
from colorizers.color import lab_to_rgb, rgb_to_lightness
from colorizers.prints import print_tint
from dashboard.components.result_views import COLOUR_UPLOAD_NOTE, upload_note
from dashboard.jobs.photos import KeptUpload
from video_clips import pattern_frames

SEPIA, CYANOTYPE, GREENISH = (6.0, 16.0), (-4.0, -14.0), (-8.0, 4.0)


def colour_photo(seed: int = 0) -> np.ndarray:
    return pattern_frames(320, 240, 1, colour=True, seed=seed)[0]


def tinted(rgb: np.ndarray, tint: tuple[float, float], grain: float = 0.0, seed: int = 0) -> np.ndarray:
    """The photo as a toned print: its lightness, one tint growing with lightness, grain on every channel."""
    lightness = rgb_to_lightness(rgb)
    strength = 2 * np.sqrt(lightness / 100)
    lab = np.stack([lightness, tint[0] * strength, tint[1] * strength], axis=-1)
    noisy = lab_to_rgb(lab) + np.random.default_rng(seed).normal(0, grain, rgb.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("tint, name", [(SEPIA, "sepia"), (CYANOTYPE, "cyanotype"), (GREENISH, "tinted")])
@pytest.mark.parametrize("grain", [0.0, 6.0])
def test_a_toned_print_is_named_by_its_tint(tint, name, grain):
    for seed in range(3):
        assert print_tint(tinted(colour_photo(seed), tint, grain, seed)) == name


@pytest.mark.parametrize("seed", range(4))
def test_colour_and_gray_photos_are_not_prints(seed):
    photo = colour_photo(seed)
    assert print_tint(photo) is None
    assert print_tint(np.repeat(rgb_to_lightness(photo)[..., None].astype(np.uint8), 3, axis=2)) is None


def test_a_sepia_scan_is_decoded_as_a_sepia_print_not_a_colour_photo():
    buffer = io.BytesIO()
    Image.fromarray(tinted(colour_photo(), SEPIA, grain=3.0)).save(buffer, "JPEG", quality=85)
    decoded = decode_image(buffer.getvalue())
    assert decoded.tint == "sepia" and not decoded.was_color
    buffer = io.BytesIO()
    Image.fromarray(colour_photo()).save(buffer, "JPEG", quality=85)
    decoded = decode_image(buffer.getvalue())
    assert decoded.was_color and decoded.tint is None


def test_the_page_says_sepia_print_and_remembers_it():
    assert "sepia print" in upload_note(False, "sepia") and "colour" not in upload_note(False, "sepia").split(":")[0]
    assert upload_note(True, None) == COLOUR_UPLOAD_NOTE and upload_note(False, None) is None
    kept = KeptUpload("scan.jpg", image_id="x", tint="sepia")
    assert KeptUpload.from_json(kept.to_json()) == kept
    assert KeptUpload.from_json({**kept.to_json(), "tint": "<script>"}).tint is None


def test_a_vivid_single_colour_is_a_colour_photo_not_a_print():
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 200
    assert print_tint(red) is None
