"""colorizers.training.loop and .features: checkpoint choice, the cast measure, half-size targets; and the seam
between serving and training (serving never imports colorizers.training)."""
import subprocess
import sys

import numpy as np
import pytest

from colorizers import settings
from colorizers.color import lab_to_rgb
from colorizers.training.features import half_size
from colorizers.training.loop import choice_split, choose, score_chroma

GRAY = {"psnr": 21.0, "dcf": 45.0}


def _record(psnr, dcf):
    return {"psnr": psnr, "dcf": dcf}


def test_choose_prefers_a_clear_gain_then_never_worse_than_gray_then_best_psnr():
    clear = [_record(21.6, 20.0), _record(21.5, 18.0), _record(20.0, 10.0)]
    assert choose(clear, GRAY) == _record(21.5, 18.0)
    no_clear_gain = [_record(21.2, 30.0), _record(21.0, 28.0), _record(20.5, 15.0)]
    assert choose(no_clear_gain, GRAY) == _record(21.0, 28.0)  # the lively 20.5 dB one loses to doing nothing
    all_worse = [_record(20.1, 30.0), _record(20.6, 35.0)]
    assert choose(all_worse, GRAY) == _record(20.6, 35.0)


def test_choice_split_is_the_foreign_one_when_there_is_one():
    assert choice_split({"foreign": [1], "val": [2]}) == "foreign"
    assert choice_split({"foreign": [], "val": [2]}) == "val"
    with pytest.raises(ValueError):
        choice_split({})


def test_cast_is_the_mean_prediction_on_truly_neutral_pixels():
    # Left half a neutral gray wall, right half a saturated red: only the wall counts for the cast.
    lab = np.zeros((32, 32, 3), np.float32)
    lab[..., 0] = 60.0
    lab[:, 16:, 1:] = (50.0, 30.0)
    truth = (lab_to_rgb(lab) * 255).round().astype(np.uint8)
    chroma = np.zeros((16, 16, 2), np.float32)
    chroma[:, :8] = (3.0, 9.0)  # a warm cast on the wall
    chroma[:, 8:] = (50.0, 30.0)
    scores = score_chroma([truth], [chroma])
    assert scores["cast_a"] == pytest.approx(3.0, abs=0.5) and scores["cast_b"] == pytest.approx(9.0, abs=0.5)
    assert score_chroma([truth], [np.zeros_like(chroma)])["cast_a"] == pytest.approx(0.0)


def test_half_size_is_the_mean_of_each_2x2_block():
    planes = np.arange(2 * 4 * 4 * 2, dtype=np.float32).reshape(2, 4, 4, 2)
    halved = half_size(planes)
    assert halved.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(halved[1, 0, 1], planes[1, 0:2, 2:4].mean(axis=(0, 1)))


def test_serving_never_imports_training_code():
    """The site, the CLI and the models' inference load without colorizers.training (nor scripts' helpers)."""
    code = (
        "import sys, numpy as np\n"
        "import dashboard.app, colorizers.cli, colorizers.registry as registry, colorizers.cnn, colorizers.cgan\n"
        "registry.colorize(np.full((24, 32, 3), 120, np.uint8), 'welsh', reference=np.full((24, 32, 3), 90, np.uint8))\n"
        "print(sorted(name for name in sys.modules if name.startswith('colorizers.training')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=settings.REPO_ROOT,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"
