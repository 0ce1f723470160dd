"""The scratch filler's training: it starts from the inpainting, learns, and exports what Restore runs."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizers import scratch_detector

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(not scratch_detector.is_available(),
                                reason="the filler trains on the detector's marks (weights/scratch_detector.onnx)")


def photo_files(folder: Path, count: int = 3) -> list[Path]:
    """Photo-like PNGs: smooth shapes and edges under a little texture."""
    rng = np.random.default_rng(1)
    paths = []
    for index in range(count):
        rows, columns = np.mgrid[0:200, 0:260]
        lightness = 40 + 30 * np.sin(rows / (15 + 5 * index)) * np.cos(columns / 23) + rng.normal(0, 4, rows.shape)
        lightness[:, 130 + 10 * index:] -= 30
        rgb = np.repeat(np.clip(lightness * 2.55, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)
        paths.append(folder / f"photo{index}.png")
        Image.fromarray(rgb).save(paths[-1])
    return paths


def test_the_untrained_filler_is_the_inpainting_and_training_it_exports_what_restore_runs(tmp_path):
    from colorizers.training import train_scratch_filler as trainer
    from colorizers.training.scratch_model import build_scratch_filler

    planes = trainer.fill_planes(np.asarray(Image.open(photo_files(tmp_path)[0])), "test:photo", sepia=True)
    assert planes.shape[2] == 4 and planes[..., 1].any()  # the detector marked the scan's scratches
    inputs, _ = trainer.as_inputs_and_targets(planes)
    np.testing.assert_allclose(trainer.predict(build_scratch_filler(), inputs), inputs[..., 2], atol=1e-4)

    config = trainer.Settings(steps=4, eval_every=2, batch=4, scans_per_photo=1, crop=64, out=tmp_path / "run")
    paths = photo_files(tmp_path)
    chosen = trainer.train(config, paths[:2], {"val": paths[2:], "foreign": [tmp_path / "never-read.png"]})
    records = (config.out / "validation.jsonl").read_text().splitlines()
    assert len(records) == 3  # the inpainting alone, then steps 2 and 4
    first = json.loads(records[0])
    assert first["step"] == 0 and first["filler_mae"] == pytest.approx(first["inpainting_mae"], abs=1e-3)

    chosen = {**chosen, "snapshot": "filler_step00004.weights.h5", "step": 4}
    exported = trainer.export(config, chosen, tmp_path / scratch_detector.FILLER_FILE)
    model = build_scratch_filler()
    model.load_weights(config.out / chosen["snapshot"])
    served = scratch_detector.filled_lightness(inputs[..., 0], inputs[..., 1], inputs[..., 2], exported)
    inside = inputs[..., 1] > 0
    np.testing.assert_allclose(served[inside], trainer.predict(model, inputs)[inside], atol=0.05)
