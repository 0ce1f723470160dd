"""The Restore step: dust and thin scratches filled, grain smoothed, a clean photo left as it is."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from colorizers.color import gray_rgb, lab_to_rgb, rgb_to_lightness
from colorizers.prints import print_tint
from colorizers.restore import looks_like_scan, restore_lightness

VISIBLE = 8.0  # L*: a scratch pixel is still there when it is this much off the truth, in the scratch's direction


def clean_photo(height: int = 240, width: int = 320) -> np.ndarray:
    """L float32: a diagonal gradient with a dark disc and a light bar (real edges that must be kept)."""
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    lightness = 25.0 + 50.0 * (rows / height * 0.4 + columns / width * 0.6)
    cv2.circle(lightness, (width // 3, height // 2), 40, 18.0, -1)
    cv2.rectangle(lightness, (2 * width // 3, 30), (2 * width // 3 + 30, height - 30), 85.0, -1)
    return cv2.GaussianBlur(lightness, (0, 0), 1.0)


def scratched(lightness: np.ndarray, grain: float = 0.0, seed: int = 0) -> tuple[np.ndarray, list]:
    """The photo with bright and dark thin scratches (1 and 3 px wide, 60-150 px long), dust, and grain."""
    damaged = lightness.copy()
    scratches = []
    for start, end, thickness, value in [((20, 20), (150, 60), 1, 97.0), ((300, 15), (250, 200), 2, 5.0),
                                         ((40, 220), (200, 170), 2, 95.0), ((120, 100), (170, 230), 1, 8.0)]:
        pixels = np.zeros(lightness.shape, np.uint8)
        cv2.line(pixels, start, end, 1, thickness)
        pixels = pixels.astype(bool)
        damaged[pixels] = value
        scratches.append((pixels, value > 50))
    rng = np.random.default_rng(seed)
    for _ in range(25):
        centre = (int(rng.integers(5, lightness.shape[1] - 5)), int(rng.integers(5, lightness.shape[0] - 5)))
        cv2.circle(damaged, centre, int(rng.integers(1, 3)), 98.0 if rng.random() < 0.5 else 4.0, -1)
    damaged += rng.normal(0.0, grain, lightness.shape).astype(np.float32)
    return np.clip(damaged, 0.0, 100.0).astype(np.float32), scratches


def psnr(result: np.ndarray, truth: np.ndarray) -> float:
    return float(10 * np.log10(100.0 ** 2 / np.mean((result.astype(np.float64) - truth) ** 2)))


def longest_left(pixels: np.ndarray, bright: bool, result: np.ndarray, truth: np.ndarray) -> float:
    sign = 1.0 if bright else -1.0
    left = (pixels & (sign * (result - truth) > VISIBLE)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(left, connectivity=8)
    return float(np.hypot(stats[1:, 2], stats[1:, 3]).max()) if count > 1 else 0.0


@pytest.mark.parametrize("grain", [0.0, 3.0])
def test_scratches_and_dust_are_filled_from_their_surroundings(grain):
    truth = clean_photo()
    scan, scratches = scratched(truth, grain)
    restored, details = restore_lightness(scan)
    assert restored.shape == truth.shape and restored.dtype == np.float32
    assert details["scratches"] >= 4 and details["dust"] >= 10
    for pixels, bright in scratches:
        assert longest_left(pixels, bright, scan, truth) > 40  # the scratch was there
        assert longest_left(pixels, bright, restored, truth) <= 20
        assert np.median(np.abs(restored - truth)[pixels]) < 4.0
    assert psnr(restored, truth) >= psnr(scan, truth) + 3.0


def test_a_clean_photo_is_barely_changed():
    truth = clean_photo()
    restored, details = restore_lightness(truth)
    assert psnr(restored, truth) > 40.0
    assert details["scratches"] == 0 and not details["denoised"]


def test_grain_is_reduced():
    truth = clean_photo()
    noisy = np.clip(truth + np.random.default_rng(1).normal(0, 4.0, truth.shape), 0, 100).astype(np.float32)
    restored, details = restore_lightness(noisy)
    assert details["denoised"]
    assert psnr(restored, truth) >= psnr(noisy, truth) + 3.0


def sepia(lightness: np.ndarray) -> np.ndarray:
    strength = 2.0 * np.sqrt(lightness / 100.0)
    return lab_to_rgb(np.stack([lightness, 6.0 * strength, 16.0 * strength], axis=-1))


def test_a_scratched_grainy_print_looks_like_a_scan_and_a_clean_photo_does_not():
    truth = clean_photo()
    scan, _ = scratched(truth, grain=3.0)
    sepia_scan = sepia(scan)
    assert print_tint(sepia_scan) == "sepia"
    assert looks_like_scan(sepia_scan, rgb_to_lightness(sepia_scan), "sepia")
    gray_scan = gray_rgb(scan)
    assert looks_like_scan(gray_scan, rgb_to_lightness(gray_scan), None)  # grain and scratches alone say so
    clean = gray_rgb(truth)
    assert not looks_like_scan(clean, rgb_to_lightness(clean), None)
    colour = np.stack([clean[..., 0], clean[..., 1] // 2, 255 - clean[..., 2]], axis=-1)
    assert not looks_like_scan(colour, rgb_to_lightness(colour), None)


def test_the_photo_size_is_kept_for_odd_and_small_sizes():
    for shape in [(1, 1), (7, 3), (101, 57)]:
        lightness = np.full(shape, 50.0, np.float64)
        restored, _ = restore_lightness(lightness)
        assert restored.shape == shape and restored.dtype == np.float32
        assert np.allclose(restored, 50.0, atol=0.5)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3)), np.zeros((0, 5)), np.array(["a"])])
def test_anything_but_a_lightness_plane_is_refused(bad):
    with pytest.raises(ValueError):
        restore_lightness(bad)


def textured_photo(height: int = 256, width: int = 320, seed: int = 3) -> np.ndarray:
    """L float32: a busy, blotchy texture (foliage, gravel) around mid-gray, where a scratch is seen in pieces."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), 2.0)
    return np.clip(50.0 + texture / texture.std() * 9.0, 0.0, 100.0).astype(np.float32)


def test_a_long_scratch_across_a_busy_texture_is_repaired_along_its_whole_length():
    truth = textured_photo()
    scan = truth.copy()
    pixels = np.zeros(truth.shape, np.uint8)
    cv2.line(pixels, (15, 40), (300, 200), 1, 1)  # 327 px long, 1 px wide
    pixels = pixels.astype(bool)
    scan[pixels] = scan[pixels] * 0.2 + 18.0 * 0.8  # dark, over whatever lies beneath
    scan = np.clip(scan + np.random.default_rng(4).normal(0.0, 2.5, truth.shape), 0, 100).astype(np.float32)
    assert longest_left(pixels, False, scan, truth) > 200
    restored, details = restore_lightness(scan)
    assert longest_left(pixels, False, restored, truth) <= 20
    assert details["scratches"] >= 1


def test_real_thin_lines_and_straight_edges_are_kept():
    """Ruled lines (parallel, as text, a fence or a grid) and a straight edge with a lit rim are the photo's own."""
    height, width = 240, 320
    truth = np.full((height, width), 60.0, np.float32)
    for row in range(30, 120, 9):  # ruled lines, 1 px, dark
        cv2.line(truth, (20, row), (300, row), 25.0, 1)
    truth[150:, :] = 30.0  # a straight horizon with a bright rim on its lit side
    cv2.line(truth, (0, 149), (width - 1, 149), 85.0, 1)
    truth = cv2.GaussianBlur(truth, (0, 0), 0.6)
    restored, details = restore_lightness(truth)
    assert details["scratches"] == 0
    assert np.abs(restored - truth).max() < 2.0


def test_the_learned_detector_finds_a_scratch_drawn_at_test_time():
    from colorizers import scratch_detector

    if not scratch_detector.is_available():
        pytest.skip("weights/scratch_detector.onnx is not there (make train-scratches)")
    rng = np.random.default_rng(7)
    truth = textured_photo(seed=int(rng.integers(1000)))
    start = (int(rng.integers(10, 60)), int(rng.integers(10, 240)))
    end = (int(rng.integers(260, 310)), int(rng.integers(10, 240)))
    pixels = np.zeros(truth.shape, np.uint8)
    cv2.line(pixels, start, end, 1, 1)
    pixels = pixels.astype(bool)
    scan = truth.copy()
    scan[pixels] = scan[pixels] * 0.15 + 95.0 * 0.85  # bright: the emulsion gone
    scan = np.clip(scan + rng.normal(0.0, 3.0, truth.shape), 0, 100).astype(np.float32)
    probabilities = scratch_detector.defect_probabilities(scan)
    assert probabilities is not None
    scratch, dust = probabilities
    assert scratch.shape == dust.shape == truth.shape and scratch.dtype == np.float32
    assert np.mean(scratch[pixels] > 0.5) > 0.8  # found along most of its length
    far = cv2.dilate(pixels.astype(np.uint8), np.ones((7, 7), np.uint8)) == 0
    assert np.mean(scratch[far] > 0.5) < 0.005  # and little else
    restored, details = restore_lightness(scan)
    assert details["scratches"] >= 1
    assert longest_left(pixels, True, restored, truth) <= 20


def test_restore_works_without_the_learned_detector(monkeypatch, tmp_path):
    from colorizers import restore, scratch_detector, settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)  # an empty weights folder
    assert not scratch_detector.is_available() and restore.learned_masks(clean_photo()) is None
    truth = clean_photo()
    scan, scratches = scratched(truth, grain=3.0)
    restored, details = restore_lightness(scan)
    assert details["scratches"] >= 4
    for pixels, bright in scratches:
        assert longest_left(pixels, bright, restored, truth) <= 20
    assert psnr(restored, truth) >= psnr(scan, truth) + 3.0


def dark_line_under_a_scratch(seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, scan, scratch pixels): a thin dark line across a bright wall (a crack, a wire, the dark rim of an
    object), and a bright scratch (85% opaque, 1 px) lying on it for its whole length, with grain. Filled from its
    surroundings alone, the scratch takes the wall's tone and the line is gone."""
    rng = np.random.default_rng(seed)
    truth = textured_photo(seed=seed) * 0.2 + 56.0
    rows, columns = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    line = np.abs(columns - (150 + 0.05 * rows)) < 1.0
    truth = cv2.GaussianBlur(np.where(line, truth - 45.0, truth).astype(np.float32), (0, 0), 0.8)
    pixels = np.zeros(truth.shape, np.uint8)
    cv2.line(pixels, (150, 0), (162, 255), 1, 1)
    pixels = pixels.astype(bool)
    scan = truth.copy()
    scan[pixels] = scan[pixels] * 0.15 + 95.0 * 0.85
    scan = np.clip(scan + rng.normal(0.0, 2.5, truth.shape), 0, 100).astype(np.float32)
    return truth, scan, pixels


def test_a_thin_dark_line_a_scratch_lies_on_is_kept(monkeypatch, tmp_path):
    from colorizers import restore, scratch_detector, settings

    if not scratch_detector.is_available():
        pytest.skip("weights/scratch_detector.onnx is not there (make train-scratches)")
    truth, scan, pixels = dark_line_under_a_scratch()
    restored, details = restore_lightness(scan)
    assert details["scratches"] >= 1
    assert longest_left(pixels, True, restored, truth) <= 20
    filled_error = float(np.abs(restored - truth)[pixels].mean())

    # Navier-Stokes alone (no Fourier inpainting, no learned filler), the fill before: the wall's tone over the line.
    (tmp_path / scratch_detector.WEIGHTS_FILE).symlink_to(scratch_detector.weights_path())
    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(restore, "FOURIER_MAX_PIXELS", 0)
    inpainted, details = restore_lightness(scan)
    assert details["scratches"] >= 1
    assert longest_left(pixels, True, inpainted, truth) > 20
    assert float(np.abs(inpainted - truth)[pixels].mean()) > 1.5 * filled_error


def test_the_learned_filler_only_takes_a_mark_further_from_its_own_tone():
    from colorizers.restore import _beyond

    marked = np.array([[90.0, 90.0, 10.0, 10.0]], np.float32)  # two pixels of a bright mark, two of a dark one
    inpainted = np.array([[60.0, 60.0, 40.0, 40.0]], np.float32)
    filler = np.array([[30.0, 75.0, 55.0, 20.0]], np.float32)
    np.testing.assert_array_equal(_beyond(filler, inpainted, marked), [[30.0, 60.0, 55.0, 40.0]])
