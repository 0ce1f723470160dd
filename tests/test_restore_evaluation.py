"""The Restore evaluation's measure of what is left of a scratch, and its scores over scans."""
from __future__ import annotations

import numpy as np

from colorizers.color import gray_rgb
from colorizers.training.restore_evaluation import Scan, Scratch, evaluate_scans, longest_run, runs_left


def test_what_is_left_of_a_scratch_is_its_visible_pixels_still_off_counted_and_cut_into_runs():
    clean = np.full((40, 60), 50.0, np.float32)
    pixels = np.zeros(clean.shape, bool)
    pixels[20, 5:55] = True  # a bright scratch 50 px long
    scanned = clean.copy()
    scanned[pixels] = 90.0
    scanned[20, 50:55] = 55.0  # its last 5 px hardly show: not visible, so never counted as left
    scan = Scan("test", clean, gray_rgb(scanned), scanned, [Scratch(pixels, True)], "gray", np.zeros(clean.shape, bool))

    runs, left = runs_left(scan.scratches[0], scanned, scan)
    assert left == 45 and np.allclose(sorted(runs), [np.hypot(45, 1)])

    restored = scanned.copy()
    restored[20, 15:30] = 50.0  # 15 px repaired in the middle
    restored[20, 40:45] = 40.0  # overshot to the dark side: not left (the scratch is bright)
    runs, left = runs_left(scan.scratches[0], restored, scan)
    assert left == 45 - 15 - 5
    assert np.allclose(sorted(runs), sorted(np.hypot([10, 10, 5], 1)))
    assert longest_run(scan.scratches[0], restored, scan) == np.hypot(10, 1)
    assert longest_run(scan.scratches[0], clean, scan) == 0.0


def test_the_scores_over_scans_add_up():
    rng = np.random.default_rng(0)
    photos = [(f"photo{index}", np.clip(rng.normal(128, 30, (96, 128, 3)), 0, 255).astype(np.uint8))
              for index in range(2)]
    summary, rows, example, restored = evaluate_scans(photos)
    assert summary["photos"] == 2 and len(rows) == 2 and restored.shape == example.clean.shape
    assert 0 <= summary["scratch_pixels_left"] <= summary["scratch_pixels_showing"]
    assert summary["scratch_pixels_showing"] > 0
    assert summary["scratches_left_over_20px"] <= summary["scratches_left_over_10px"] <= summary["scratches"]
    assert summary["scratch_pixels_left"] == sum(row["scratch_pixels_left"] for row in rows)
