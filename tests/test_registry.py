"""colorizers.registry: which models exist, lazy loading once per process, and the colorize interface."""
from __future__ import annotations

import importlib
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from colorizers import registry, settings
from colorizers.color import gray_rgb, lab_to_rgb, rgb_to_lightness
from colorizers.decode import decode_image, encode_png
from colorizers.errors import ColorizerError, UnknownModelError, WeightsMissingError

REPO_ROOT = Path(__file__).resolve().parent.parent
FAKE_MODULE = "tests.fake_colorizer"


def colour_reference(height: int = 48, width: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    lab = np.zeros((height, width, 3), np.float32)
    lab[..., 0] = np.linspace(20.0, 85.0, width)[None, :] + rng.normal(0.0, 3.0, (height, width))
    lab[..., 1] = np.linspace(-20.0, 30.0, width)[None, :]
    lab[..., 2] = np.linspace(25.0, -25.0, height)[:, None]
    return lab_to_rgb(lab)


def gray_target(height: int = 40, width: int = 56) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width]
    return gray_rgb((25.0 + 60.0 * columns / width + 5.0 * np.sin(rows / 3.0)).astype(np.float32))


@pytest.fixture()
def empty_weights(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    return tmp_path


@pytest.fixture()
def fake_model(monkeypatch):
    """Register 'fake' (loaded by tests/fake_colorizer.py) for one test; forget it afterwards."""
    module = importlib.import_module(FAKE_MODULE)
    monkeypatch.setattr(module, "load_count", 0)
    info = registry.ModelInfo("fake", "Fake", "A test model.", uses_reference=False, loader=f"{FAKE_MODULE}:load_colorizer")
    monkeypatch.setitem(registry.MODELS, "fake", info)
    yield module
    registry._loaded.pop("fake", None)


def test_available_models_without_weights(empty_weights):
    names = [info.name for info in registry.available_models()]
    assert "welsh" in names
    assert "cnn" not in names and "cgan" not in names


def test_available_models_with_weights(empty_weights):
    (empty_weights / registry.MODELS["cnn"].weights_file).write_bytes(b"")
    names = [info.name for info in registry.available_models()]
    assert names == ["welsh", "cnn", "blend"]  # the blend runs on the CNN's weights


def test_unknown_model_is_refused():
    with pytest.raises(UnknownModelError, match="no model called 'zebra'"):
        registry.colorize(gray_target(), "zebra")
    with pytest.raises(UnknownModelError):
        registry.get_model("zebra")


@pytest.mark.parametrize("model", ["cnn", "cgan"])
def test_missing_weights_are_a_clear_error(empty_weights, model):
    with pytest.raises(WeightsMissingError, match="weights file"):
        registry.colorize(gray_target(), model)
    assert isinstance(WeightsMissingError("x"), ColorizerError)


def test_a_model_loads_once_when_eight_threads_ask_together(fake_model):
    barrier = threading.Barrier(8)
    results, errors = [], []

    def ask():
        try:
            barrier.wait()
            results.append(registry.get_model("fake"))
        except Exception as error:  # collected and reported below
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors, errors
    assert fake_model.load_count == 1
    assert len(results) == 8 and all(result is results[0] for result in results)
    registry.get_model("fake")
    assert fake_model.load_count == 1


def test_learned_models_ignore_reference_options(fake_model):
    result = registry.colorize(gray_target(), "fake", reference="auto", samples=10, seed=3)
    assert result.details == {"options": []}


@pytest.mark.parametrize("given", ["rgb", "lightness", "decoded"])
def test_result_keeps_size_and_lightness(given):
    target = gray_target(37, 53)
    lightness = rgb_to_lightness(target)
    image = {"rgb": target, "lightness": lightness, "decoded": decode_image(encode_png(target))}[given]
    result = registry.colorize(image, "welsh", reference=colour_reference())
    assert result.model == "welsh" and result.details == {"reference": "uploaded"}
    assert result.rgb.shape == (37, 53, 3) and result.rgb.dtype == np.uint8
    assert result.seconds > 0
    clipped = ((result.rgb == 0) | (result.rgb == 255)).any(axis=-1)
    assert clipped.mean() < 0.05
    assert np.abs(rgb_to_lightness(result.rgb) - lightness)[~clipped].max() < 0.5
    assert result.chroma.ndim == 3 and result.chroma.shape[-1] == 2
    assert np.abs(result.chroma).max() > 5.0  # it did add colour


def test_result_of_a_learned_model_keeps_size(fake_model):
    target = gray_target(37, 53)
    result = registry.colorize(target, "fake")
    assert result.chroma.shape == (9, 13, 2)
    assert result.rgb.shape == (37, 53, 3)


@pytest.mark.parametrize("strength", [-0.1, 1.51, float("nan")])
def test_strength_out_of_range_is_refused(strength):
    with pytest.raises(ColorizerError, match="Strength"):
        registry.colorize(gray_target(), "welsh", strength=strength, reference=colour_reference())


def test_strength_and_at_strength(fake_model):
    target = gray_target()
    result = registry.colorize(target, "fake", strength=1.5)
    assert result.strength == 1.5
    gray = result.at_strength(0.0)
    assert np.array_equal(gray, gray_rgb(rgb_to_lightness(target)))
    assert np.array_equal(result.at_strength(1.5), result.rgb)
    assert not np.array_equal(result.at_strength(1.0), result.rgb)
    with pytest.raises(ColorizerError):
        result.at_strength(2.0)


def test_bad_image_shape_is_refused():
    with pytest.raises(ValueError, match="Expected"):
        registry.colorize(np.zeros((4, 4, 4), np.uint8), "welsh")


def test_welsh_does_not_import_tensorflow():
    script = (
        "import sys, numpy as np\n"
        "import colorizers\n"
        "from colorizers.color import lab_to_rgb\n"
        "rng = np.random.default_rng(0)\n"
        "reference = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)\n"
        "result = colorizers.colorize(rng.uniform(0, 100, (24, 24)).astype(np.float32), 'welsh', reference=reference)\n"
        "assert result.rgb.shape == (24, 24, 3)\n"
        "colorizers.available_models()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


@pytest.mark.parametrize("name", [info.name for info in registry.available_models()])
@pytest.mark.parametrize("strength", [1.0, 1.5])
def test_every_model_keeps_the_photos_lightness(name, strength):
    """Issue 19: mean |L*(result) - L*(photo)| at most 0.2 for every model, vivid results at 150% included (a colour
    that cannot be shown at a pixel's lightness gives up chroma, not lightness)."""
    rows, columns = np.mgrid[0:96, 0:128]
    lightness = (8.0 + 84.0 * (0.5 + 0.5 * np.sin(rows / 9.0) * np.cos(columns / 13.0))).astype(np.float32)
    photo = lab_to_rgb(np.stack([lightness, 60.0 * np.cos(columns / 20.0), 60.0 * np.sin(rows / 15.0)], axis=-1))
    reference = photo[:, ::-1].copy()
    lightness = rgb_to_lightness(photo)
    result = registry.colorize(lightness, name, strength=strength, reference=reference)
    drift = float(np.abs(rgb_to_lightness(result.rgb) - lightness).mean())
    assert drift <= 0.2, f"{name} at {strength:.0%}: lightness drift {drift:.3f} L*"
