import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


# --- Dashboard tests: a reference gallery to colour from ------------------------------------------------------
import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


def _synthetic_colour_photos(height: int = 96, width: int = 128) -> dict[str, np.ndarray]:
    """Three small colour photos (sRGB uint8) with different lightness, texture and layout."""
    rng = np.random.default_rng(1)
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    grain = rng.normal(0.0, 12.0, (height, width, 1))
    landscape = np.where(rows < 0.5, [120, 170, 235] - 60 * rows, [70, 120, 45]) + grain  # sky over grass
    sunset = [250, 140, 60] - 150 * rows + grain  # warm, darkening downwards
    stone = 150 + rng.normal(0.0, 35.0, (height, width, 1)) * np.array([1.0, 0.95, 0.8])  # busy grey-brown
    photos = {"landscape": landscape, "sunset": sunset, "stone": stone}
    return {name: np.clip(photo, 0, 255).astype(np.uint8) for name, photo in photos.items()}


@pytest.fixture(scope="session")
def colour_gallery(tmp_path_factory):
    """The reference gallery folder: assets/gallery when its manifest exists, else a small temporary one that
    colorizers.settings.GALLERY_DIR points at for the session (set before the dashboard app is imported)."""
    from colorizers import settings

    if (settings.GALLERY_DIR / "manifest.json").exists():
        yield settings.GALLERY_DIR
        return
    folder = tmp_path_factory.mktemp("gallery")
    entries = []
    for name, rgb in _synthetic_colour_photos().items():
        Image.fromarray(rgb).save(folder / f"{name}.png")
        entries.append({"name": name, "title": name.title(), "file": f"{name}.png", "licence": "CC0"})
    (folder / "manifest.json").write_text(json.dumps(entries))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "GALLERY_DIR", folder)
        yield folder


# --- A real Redis server for the scaled set-up's tests -----------------------------------------------------------
@pytest.fixture(scope="module")
def dashboard_app(colour_gallery):
    """dashboard.app, imported only once the gallery is in place."""
    from dashboard import app as app_module

    return app_module


@pytest.fixture()
def client(dashboard_app):
    return dashboard_app.server.test_client()


@pytest.fixture()
def models(monkeypatch, dashboard_app):
    """Welsh, the real exemplar and the fake cnn and cgan, registered once the app is imported."""
    from tests.browser.fake_models import register_fakes

    return register_fakes(monkeypatch)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The URL of a redis-server started for this test session."""
    from tests.redis_server import running_redis

    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_client(redis_url):
    """A client of the session's Redis, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def make_studio(request):
    """Makes studios (dashboard.studio.Studio) kept in this process's memory, or in a real Redis (the scaled
    set-up's store); their queue is worked by the test (autostart off)."""
    from dashboard.studio import Studio
    from dashboard.studio.store import RedisStudioStore

    def make(**options) -> Studio:
        options = {"max_bytes": 10**9, "ttl_seconds": 600, "display_long_side": 64, "autostart": False, **options}
        if request.param == "redis":
            options.pop("clock", None)  # Redis keeps its own time
            options["store"] = RedisStudioStore(request.getfixturevalue("redis_client"), options["ttl_seconds"])
        return Studio(**options)

    return make
