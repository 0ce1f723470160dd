"""scripts/load.py: its pure helpers, and one short real run against a server it starts itself."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "load.py"


@pytest.fixture(scope="module")
def load():
    """The script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("load_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_percentile_and_request_mix(load):
    values = [0.3, 0.1, 0.9, 0.5, 0.7, 0.2, 0.4]
    for q in (0, 50, 95, 100):
        assert load.percentile(values, q) == pytest.approx(np.percentile(values, q))
    assert load.percentile([], 50) is None
    assert load.percentile([2.0], 95) == 2.0

    def plan(seed):
        return load.request_plan(seed, clients=4, per_client=30, models=list(load.ALL_MODELS),
                                 gallery_name="beach", photo_count=3)

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)
    assert [len(specs) for specs in plan(7)] == [30] * 4
    kinds = {spec.kind for specs in plan(7) for spec in specs}
    assert {"welsh:auto", "welsh:gallery", "cnn", "cgan", "blend", "models list", "page", "bad input"} <= kinds
    bad = [spec for specs in plan(7) for spec in specs if spec.bad]
    assert all(spec.expect == load.BAD_INPUTS[spec.bad] for spec in bad)


def _response(status, body=b"", **headers):
    import requests

    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers)
    return response


def test_judging_answers(load):
    import io

    from PIL import Image

    photos = load.make_photos(0)
    good = load.RequestSpec("cnn", "POST", "/api/colorize", (("model", "cnn"),), photo=1)
    bad = load.bad_request("strength-abc", "welsh")

    def png(size):
        buffer = io.BytesIO()
        Image.new("RGB", size).save(buffer, format="PNG")
        return buffer.getvalue()

    assert load.judge(good, _response(200, png(load.PHOTO_SIZE), **{"Content-Type": "image/png"}), photos)[0] == "ok"
    assert load.judge(good, _response(200, png((64, 48)), **{"Content-Type": "image/png"}), photos)[0] == "error"
    assert load.judge(good, _response(503, b"{}", **{"Retry-After": "5"}), photos)[0] == "busy"
    assert load.judge(good, _response(503, b'{"error": "no weights"}'), photos)[0] == "error"
    assert load.judge(good, _response(500, b'{"error": "oops"}'), photos)[0] == "error"
    assert load.judge(bad, _response(400, b'{"error": "strength"}'), photos)[0] == "ok"
    assert load.judge(bad, _response(200, png(load.PHOTO_SIZE), **{"Content-Type": "image/png"}), photos)[0] == "error"


def test_photos_are_grayscale_and_about_one_megapixel(load):
    from PIL import Image
    import io

    photos = load.make_photos(0)
    assert len({photo.data for photo in photos}) == len(photos)
    for photo in photos:
        image = Image.open(io.BytesIO(photo.data))
        assert image.mode == "L" and image.size == photo.size == load.PHOTO_SIZE


def test_short_run_against_its_own_server(tmp_path):
    report_path = tmp_path / "load.json"
    finished = subprocess.run(
        [sys.executable, str(SCRIPT), "--clients", "2", "--requests", "3", "--models", "welsh",
         "--json", str(report_path)],
        capture_output=True, text=True, timeout=180,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads(report_path.read_text())
    assert report["total"]["count"] == 6
    assert report["total"]["errors"] == 0
    assert report["total"]["ok"] + report["total"]["busy"] == 6
    assert all(report["rss_mb"][key] > 0 for key in ("before", "peak", "after"))
    assert report["rss_mb"]["peak"] >= report["rss_mb"]["before"]
    assert "server RSS: before" in finished.stdout and "total" in finished.stdout
