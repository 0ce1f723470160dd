"""The command line, `python -m colorizers`, run as a user would run it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizers.color import gray_rgb, lab_to_rgb, rgb_to_lightness

REPO_ROOT = Path(__file__).resolve().parent.parent


def colour_photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lab = np.zeros((height, width, 3), np.float32)
    lab[..., 0] = np.linspace(20.0, 85.0, width)[None, :] + rng.normal(0.0, 3.0, (height, width))
    lab[..., 1] = np.linspace(-20.0, 30.0, width)[None, :]
    lab[..., 2] = np.linspace(25.0, -25.0, height)[:, None]
    return lab_to_rgb(lab)


def gray_photo(height: int, width: int) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width]
    lightness = (25.0 + 60.0 * columns / width + 5.0 * np.sin(rows / 3.0)).astype(np.float32)
    return gray_rgb(lightness)[..., 0]


def run_cli(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "colorizers", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    paths = {"a": tmp_path / "a.png", "b": tmp_path / "b.png", "reference": tmp_path / "reference.png"}
    Image.fromarray(gray_photo(30, 44)).save(paths["a"])
    Image.fromarray(gray_photo(41, 27)).save(paths["b"])
    Image.fromarray(colour_photo()).save(paths["reference"])
    return paths


@pytest.fixture()
def no_weights(tmp_path: Path) -> dict[str, str]:
    weights = tmp_path / "weights"
    weights.mkdir()
    return {"COLORIZER_WEIGHTS_DIR": str(weights)}


def test_models_lists_welsh(no_weights):
    completed = run_cli("models", env=no_weights)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    welsh = [line for line in lines if line.startswith("welsh")]
    assert welsh and "available" in welsh[0]
    cnn = [line for line in lines if line.startswith("cnn")]
    assert cnn and "missing weights" in cnn[0]


def test_colorize_writes_one_file_per_input(tmp_path, inputs, no_weights):
    out = tmp_path / "out"
    completed = run_cli(
        "colorize", "--model", "welsh", "--reference", str(inputs["reference"]), "--out", str(out),
        str(inputs["a"]), str(inputs["b"]), env=no_weights,
    )
    assert completed.returncode == 0, completed.stderr
    assert "error" not in completed.stderr
    for name, size in (("a", (44, 30)), ("b", (27, 41))):
        written = Image.open(out / f"{name}_welsh.png")
        assert written.size == size and written.mode == "RGB"
        rgb = np.asarray(written)
        source = np.asarray(Image.open(inputs[name]).convert("RGB"))
        assert np.abs(rgb_to_lightness(rgb) - rgb_to_lightness(source)).mean() < 0.5
        assert np.ptp(rgb.astype(int), axis=-1).max() > 10  # it has colour now


def test_a_bad_input_fails_alone(tmp_path, inputs, no_weights):
    bad = tmp_path / "bad.png"
    bad.write_text("this is not a picture\n")
    out = tmp_path / "out"
    completed = run_cli(
        "colorize", "--reference", str(inputs["reference"]), "--out", str(out), str(bad), str(inputs["a"]),
        env=no_weights,
    )
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bad.png" in errors[0]
    assert "Traceback" not in completed.stderr
    assert (out / "a_welsh.png").exists()
    assert not (out / "bad_welsh.png").exists()


def test_a_missing_input_fails_alone(tmp_path, inputs, no_weights):
    out = tmp_path / "out"
    completed = run_cli(
        "colorize", "--reference", str(inputs["reference"]), "--out", str(out), str(tmp_path / "nowhere.png"),
        str(inputs["b"]), env=no_weights,
    )
    assert completed.returncode != 0
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nowhere.png" in errors[0]
    assert (out / "b_welsh.png").exists()


def test_reference_auto_uses_the_gallery(tmp_path, inputs, no_weights):
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    entries = []
    for index in range(3):
        Image.fromarray(colour_photo(seed=index)[:, :: index + 1]).save(gallery / f"photo{index}.png")
        entries.append({"name": f"photo{index}", "file": f"photo{index}.png"})
    (gallery / "manifest.json").write_text(json.dumps(entries))
    out = tmp_path / "out"
    completed = run_cli(
        "colorize", "--reference", "auto", "--out", str(out), str(inputs["a"]),
        env={**no_weights, "COLORIZER_GALLERY_DIR": str(gallery)},
    )
    assert completed.returncode == 0, completed.stderr
    assert "reference: photo" in completed.stderr  # the log line names the suggested photo
    assert Image.open(out / "a_welsh.png").size == (44, 30)


def test_reference_auto_without_gallery_is_an_error_message(tmp_path, inputs, no_weights):
    completed = run_cli(
        "colorize", "--out", str(tmp_path / "out"), str(inputs["a"]),
        env={**no_weights, "COLORIZER_GALLERY_DIR": str(tmp_path / "empty")},
    )
    assert completed.returncode != 0
    assert completed.stderr.startswith("error:") and len(completed.stderr.strip().splitlines()) == 1
    assert "gallery" in completed.stderr


def test_a_learned_model_without_weights_is_an_error_message(tmp_path, inputs, no_weights):
    completed = run_cli("colorize", "--model", "cnn", "--out", str(tmp_path / "out"), str(inputs["a"]), env=no_weights)
    assert completed.returncode != 0
    assert "error:" in completed.stderr and "weights" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_exemplar_with_two_references(tmp_path, inputs):
    second = tmp_path / "second.png"
    Image.fromarray(colour_photo(seed=1)[::-1, ::-1]).save(second)
    out = tmp_path / "out"
    completed = run_cli(
        "colorize", "--model", "exemplar", "--reference", str(inputs["reference"]), "--reference", str(second),
        "--out", str(out), str(inputs["a"]),
    )
    assert completed.returncode == 0, completed.stderr
    written = Image.open(out / "a_exemplar.png")
    assert written.size == (44, 30) and written.mode == "RGB"
    assert np.ptp(np.asarray(written).astype(int), axis=-1).max() > 10  # it has colour now
    assert "uploaded 1,uploaded 2" in completed.stderr  # the log line names both references


def test_six_references_are_an_error_message(tmp_path, inputs, no_weights):
    references = [argument for _ in range(6) for argument in ("--reference", str(inputs["reference"]))]
    out = tmp_path / "out"
    completed = run_cli("colorize", *references, "--out", str(out), str(inputs["a"]), env=no_weights)
    assert completed.returncode == 2
    assert completed.stderr.startswith("error:") and "at most 5 references" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (out / "a_welsh.png").exists()


def test_auto_with_another_reference_is_an_error_message(tmp_path, inputs, no_weights):
    completed = run_cli(
        "colorize", "--reference", "auto", "--reference", str(inputs["reference"]), "--out", str(tmp_path / "out"),
        str(inputs["a"]), env=no_weights,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("error:") and "alone" in completed.stderr
