"""The ONNX exports the site serves (`make export`) against the Keras models they were made from: the same a/b (and
content embedding) on random inputs and on real photos; and the serving path never imports TensorFlow."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorizers import settings
from colorizers.color import encoder_input, resize_plane, rgb_to_lightness
from colorizers.library import library

pytestmark = pytest.mark.skipif(not (settings.WEIGHTS_DIR / "cnn.onnx").exists(), reason="no exports here")

# Largest differences seen (float32 throughout; the bound leaves room for other CPUs' kernels).
MAX_AB_DIFFERENCE = 0.01  # a/b units (of +-110)
MAX_EMBEDDING_DIFFERENCE = 1e-4


def real_inputs(count: int = 5) -> list[np.ndarray]:
    """Gray photos from the reference library (training photos, small JPEGs in the repository), at 224 x 224."""
    photos = list(library().photos)[:count]
    return [encoder_input(resize_plane(rgb_to_lightness(np.asarray(Image.open(photo.file).convert("RGB"))
                                                        .astype(np.float32) / 255.0), (224, 224)))
            for photo in photos]


def random_inputs(count: int = 10) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.uniform(-1.0, 1.0, (224, 224, 1)).astype(np.float32) for _ in range(count)]


@pytest.fixture(scope="module")
def keras_cnn():
    from colorizers.training.cnn_model import KerasCNN

    return KerasCNN(settings.WEIGHTS_DIR / "cnn.weights.h5")


@pytest.fixture(scope="module")
def keras_cgan():
    from colorizers.training.cgan_model import KerasCGAN

    return KerasCGAN(settings.WEIGHTS_DIR / "cgan_generator.weights.h5")


@pytest.mark.parametrize("kind", ["random", "real"])
def test_the_cnn_export_matches_keras(keras_cnn, kind):
    from colorizers.cnn import CNNColorizer
    from colorizers.onnx_model import run

    exported = CNNColorizer(settings.WEIGHTS_DIR / "cnn.onnx")
    assert exported.temperature == keras_cnn.temperature
    grays = np.stack(random_inputs() if kind == "random" else real_inputs())
    expected = {name: value.numpy() for name, value in keras_cnn.serve(grays, np.array(exported.temperature, np.float32)).items()}
    got = run(exported.session, gray=grays, temperature=np.array(exported.temperature, np.float32))
    assert got["ab"].shape == (len(grays), 56, 56, 2) and got["embedding"].shape == (len(grays), 576)
    assert np.abs(got["ab"] - expected["ab"]).max() < MAX_AB_DIFFERENCE
    assert np.abs(got["embedding"] - expected["embedding"]).max() < MAX_EMBEDDING_DIFFERENCE
    assert np.abs(expected["ab"]).max() > 1.0  # a real colouring, not zeros matched to zeros


@pytest.mark.parametrize("kind", ["random", "real"])
def test_the_cgan_export_matches_keras(keras_cgan, kind):
    from colorizers.cgan import CGANColorizer
    from colorizers.onnx_model import run

    exported = CGANColorizer(settings.WEIGHTS_DIR / "cgan.onnx")
    grays = np.stack(random_inputs() if kind == "random" else real_inputs())
    expected = keras_cgan.serve(grays)["ab"].numpy()
    got = run(exported.session, gray=grays)["ab"]
    assert got.shape == (len(grays), 112, 112, 2)
    assert np.abs(got - expected).max() < MAX_AB_DIFFERENCE
    assert np.abs(expected).max() > 1.0


@pytest.mark.parametrize("size", [(64, 96), (224, 160)])
def test_the_exemplar_features_export_matches_the_imagenet_layers_of_the_cnn(keras_cnn, size):
    from colorizers import exemplar
    from colorizers.onnx_model import inference_session, run
    from colorizers.training.backbone import imagenet_layers

    layers = (exemplar.FINE_LAYER, exemplar.MID_LAYER, exemplar.COARSE_LAYER)
    keras_features = imagenet_layers(keras_cnn.model, layers)
    gray = np.random.default_rng(3).uniform(-1.0, 1.0, (1, *size, 1)).astype(np.float32)
    expected = keras_features(np.concatenate([gray] * 3, axis=-1), training=False)
    got = run(inference_session(settings.WEIGHTS_DIR / "exemplar_features.onnx"), gray=gray)
    for name, want, stride in zip(layers, expected, (4, 8, 16)):
        want = np.asarray(want)
        assert got[name].shape == (1, size[0] // stride, size[1] // stride, want.shape[-1])
        assert np.abs(got[name] - want).max() < 1e-3 * max(1.0, float(np.abs(want).max()))
    # The same layer, pooled at 224 x 224, is the CNN's content embedding: the exemplar's features are ImageNet's.
    square = np.random.default_rng(4).uniform(-1.0, 1.0, (1, 224, 224, 1)).astype(np.float32)
    pooled = run(inference_session(settings.WEIGHTS_DIR / "exemplar_features.onnx"), gray=square)[
        exemplar.COARSE_LAYER].mean(axis=(1, 2))
    embedding = keras_cnn.serve(square, np.array(keras_cnn.temperature, np.float32))["embedding"].numpy()
    assert np.abs(pooled - embedding).max() < MAX_EMBEDDING_DIFFERENCE * 10


def test_serving_every_model_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "import dashboard.app\n"
        "from colorizers import colorize, available_models\n"
        "gray = np.tile(np.linspace(10, 90, 64, dtype=np.float32), (48, 1))\n"
        "for info in available_models():\n"
        "    colorize(gray, info.name)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('tensorflow', 'keras', 'jax')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=settings.REPO_ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_one_cnn_run_serves_the_suggestion_the_cnn_and_the_blend_of_a_photo(monkeypatch):
    from colorizers import cnn

    colorizer = cnn.CNNColorizer(settings.WEIGHTS_DIR / "cnn.onnx")
    runs = []
    real_run = cnn.run
    monkeypatch.setattr(cnn, "run", lambda session, **inputs: runs.append(1) or real_run(session, **inputs))
    lightness = np.tile(np.linspace(10, 90, 300, dtype=np.float32), (200, 1))
    first, _ = colorizer.predict_chroma(lightness)
    first += 50.0  # a caller changing its result must not change anyone else's
    second, _ = colorizer.predict_chroma(lightness)
    colorizer.embed(lightness)
    assert len(runs) == 1
    assert np.abs(second - (first - 50.0)).max() < 1e-4
    colorizer.predict_chroma(lightness[:, ::-1].copy())  # another photo: its own run
    assert len(runs) == 2
