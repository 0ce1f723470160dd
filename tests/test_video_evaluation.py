"""The video protocol: panned clips with known truth, added flicker, and the ways scored on them."""
from __future__ import annotations

import numpy as np

from colorizers.training.video_evaluation import (
    GRAY, Clip, added_flicker, evaluate_clips, format_report, panned_clip, score_way, ways,
)
from video_clips import pattern_frames


def photo() -> np.ndarray:
    return pattern_frames(400, 240, 1, colour=True, seed=5)[0]


def test_a_panned_clip_moves_slowly_over_the_photo():
    clip = panned_clip("pan", photo(), seconds=1, fps=10, size=(128, 72))
    assert len(clip.frames) == 10 and clip.frames[0].shape == (72, 128, 3)
    steps = [np.abs(after.astype(int) - before).mean() for before, after in zip(clip.frames, clip.frames[1:])]
    assert 0 < max(steps) < 12  # every frame moves, a little


def test_added_flicker_is_zero_for_the_truths_own_change_and_the_change_itself_for_a_still():
    rng = np.random.default_rng(0)
    truth = [rng.normal(0, 5, (8, 8, 2)) for _ in range(2)]
    assert added_flicker((truth[0], truth[0]), (truth[1], truth[1])) == 0
    still = np.zeros((8, 8, 2))
    assert np.isclose(added_flicker((still, truth[0]), (still, truth[1])), np.abs(truth[1] - truth[0]).mean())


def test_a_carried_keyframe_beats_the_model_alone_on_a_pan(tmp_path):
    clip = panned_clip("pan-1", photo(), seconds=1, fps=8, size=(128, 72))
    scores = {way.name: score_way(clip, way, set())[0].summary() for way in ways("cnn")}
    assert scores["keyframe-steady"]["psnr"] > scores["cnn-alone"]["psnr"] + 4
    assert scores[GRAY]["colourfulness_gap"] > scores["keyframe-steady"]["colourfulness_gap"]
    report = evaluate_clips([clip], "cnn", tmp_path)
    assert (tmp_path / "strip-pan-1.jpg").exists() and "pans (mean)" in report["clips"]
    assert "carried and made steady" in format_report(report)


def test_clip_info_finds_the_cut():
    frames = pattern_frames(64, 48, 8, colour=True, seed=1) + [255 - frame for frame in pattern_frames(64, 48, 8)]
    assert [(shot.start, shot.stop) for shot in Clip("cut", frames, 8.0).info().shots] == [(0, 8), (8, 16)]
