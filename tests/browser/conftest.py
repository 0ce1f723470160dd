"""Browser tests: Debian's headless Chromium for dash_duo, the app (imported once the gallery exists), test photos."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.chrome.options import Options

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"


def pytest_setup_options() -> Options:
    """Chromium options for dash_duo (the dash testing hook): headless, no sandbox, no background traffic."""
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--no-sandbox",
        "--disable-gpu",
        "--headless",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1000",
    ):
        options.add_argument(argument)
    return options


@pytest.fixture(scope="session")
def studio_app(colour_gallery):
    """The dashboard's Dash app, imported after the gallery fixture has put a gallery in place."""
    from dashboard.app import app
    from dashboard.studio import default_studio

    from dashboard.jobs.videos import default_video_jobs

    # dash_duo stops its server by killing every thread started after it: start the workers before.
    default_studio().ensure_worker()
    if default_video_jobs().thread is not None:
        default_video_jobs().thread.ensure_worker()
    return app


@pytest.fixture()
def photo_files(tmp_path: Path):
    """A function that writes grayscale PNGs of the given sizes ((height, width), ...) and returns their paths."""

    def make(*sizes: tuple[int, int], prefix: str = "old-photo") -> list[Path]:
        paths = []
        for index, (height, width) in enumerate(sizes):
            rows, columns = np.mgrid[0:height, 0:width]
            gray = (30 + 170 * rows / height + 25 * np.sin(columns / 4.0 + index)).clip(0, 255).astype(np.uint8)
            path = tmp_path / f"{prefix}-{index + 1}.png"
            Image.fromarray(gray, mode="L").save(path)
            paths.append(path)
        return paths

    return make


@pytest.fixture()
def colour_reference_file(tmp_path: Path) -> Path:
    """A blue-to-orange colour photo to use as one's own reference."""
    rows = np.linspace(0.0, 1.0, 90)[:, None, None]
    rgb = (np.array([40, 90, 220]) * (1 - rows) + np.array([240, 150, 40]) * rows) * np.ones((90, 120, 1))
    path = tmp_path / "my-reference.png"
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


@pytest.fixture()
def text_file_named_png(tmp_path: Path) -> Path:
    path = tmp_path / "notes.png"
    path.write_text("This is a shopping list, not a photo.")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture()
def grayscale_gallery_photo(tmp_path: Path, colour_gallery) -> Path:
    """A real-looking upload for the screenshots: the gallery's second photo in grey, long side 900 px."""
    from colorizers.references import gallery

    photo = gallery()[min(1, len(gallery()) - 1)]
    with Image.open(photo.file) as image:
        gray = image.convert("L")
        gray.thumbnail((900, 900))
    path = tmp_path / f"grey-{photo.name}.png"
    gray.save(path)
    return path


@pytest.fixture()
def three_models(monkeypatch):
    """cnn and cgan as fast fakes next to the real Welsh transfer: the pages show three model columns."""
    from tests.browser.fake_models import register_fakes

    return register_fakes(monkeypatch, exemplar=False)


@pytest.fixture()
def four_models(monkeypatch):
    """The three columns of `three_models` and the real exemplar (its CNN fallback uses the fake CNN)."""
    from tests.browser.fake_models import register_fakes

    return register_fakes(monkeypatch)
