"""The REST API over real HTTP (`requests`) against the app's Flask server running in a thread on a free port."""
from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
import requests
from PIL import Image
from werkzeug.serving import make_server

from tests.browser import fake_models

TIMEOUT = 60


@pytest.fixture(scope="module")
def base_url(colour_gallery):
    from dashboard.app import server as flask_server

    http = make_server("127.0.0.1", 0, flask_server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def models(monkeypatch):
    return fake_models.register_fakes(monkeypatch)


def png_of(rgb: np.ndarray, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=image_format)
    return buffer.getvalue()


def gray_photo(height: int = 90, width: int = 130) -> bytes:
    rows, columns = np.mgrid[0:height, 0:width]
    return png_of((40 + 150 * rows / height + 20 * np.sin(columns / 5.0)).astype(np.uint8))


def colour_photo() -> bytes:
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[..., 2] = np.linspace(60, 250, 64, dtype=np.uint8)[:, None]
    rgb[..., 0] = 30
    return png_of(rgb)


def red_photo() -> bytes:
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[..., 0] = np.linspace(60, 250, 64, dtype=np.uint8)[None, :]
    rgb[..., 1] = 40
    return png_of(rgb)


def with_references(*references: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart files: the gray photo as `image` and each of `references` as one more `reference` part."""
    return [("image", ("old.png", gray_photo(), "image/png")),
            *[("reference", (f"reference{index}.png", photo, "image/png")) for index, photo in enumerate(references)]]


def post(base_url: str, data: dict | list, files: dict | list | None = None) -> requests.Response:
    if files is None:
        files = {"image": ("old.png", gray_photo(), "image/png")}
    return requests.post(f"{base_url}/api/colorize", data=data, files=files, timeout=TIMEOUT)


def assert_error(response: requests.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    assert words in response.json()["error"]


def test_models_lists_every_available_model(base_url, models):
    response = requests.get(f"{base_url}/api/models", timeout=TIMEOUT)
    assert response.status_code == 200
    from colorizers.registry import model_info

    listed = response.json()
    assert [model["name"] for model in listed] == models
    assert {"welsh", "exemplar", "cnn", "cgan"} <= set(models)
    assert set(listed[0]) == {"name", "title", "summary", "uses_reference"}
    assert [model["uses_reference"] for model in listed] == [model_info(name).uses_reference for name in models]
    assert {model["name"] for model in listed if model["uses_reference"]} == {"welsh", "exemplar"}


def test_models_without_weights_are_not_listed(base_url, monkeypatch, tmp_path):
    from colorizers import settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    names = [model["name"] for model in requests.get(f"{base_url}/api/models", timeout=TIMEOUT).json()]
    assert names == ["welsh"]


@pytest.mark.parametrize("model", ["welsh", "cnn", "cgan"])
def test_colorize_returns_a_png_of_the_inputs_size(base_url, models, model):
    response = post(base_url, {"model": model})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (130, 90))
    rgb = np.asarray(image).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 2  # it has colour


def test_strength_zero_gives_gray_and_a_jpeg_input_works(base_url, models):
    jpeg = png_of(np.full((40, 50, 3), 120, np.uint8), "JPEG")
    response = post(base_url, {"model": "cnn", "strength": "0"}, {"image": ("old.jpg", jpeg, "image/jpeg")})
    assert response.status_code == 200
    rgb = np.asarray(Image.open(io.BytesIO(response.content))).astype(int)
    assert rgb.shape == (40, 50, 3) and np.abs(rgb[..., 0] - rgb[..., 2]).max() <= 1


def test_welsh_reference_gallery_name_auto_and_uploaded_file(base_url, models):
    from colorizers.library import library
    from colorizers.references import gallery

    name = gallery()[0].name
    by_name = post(base_url, {"model": "welsh", "reference": name})
    assert by_name.status_code == 200 and by_name.headers["X-Colorizer-Reference"] == name
    auto = post(base_url, {"model": "welsh", "reference": "auto"})
    found = library()
    suggestible = {photo.name for photo in gallery()} | {photo.name for photo in (found.photos if found else ())}
    assert auto.status_code == 200 and auto.headers["X-Colorizer-Reference"] in suggestible
    if found:  # suggested by content: every library photo averaged is named
        used = auto.headers["X-Colorizer-References"].split(",")
        assert used[0] == auto.headers["X-Colorizer-Reference"] and set(used) <= suggestible
    own = post(base_url, {"model": "welsh"}, {"image": ("old.png", gray_photo(), "image/png"),
                                              "reference": ("blue.png", colour_photo(), "image/png")})
    assert own.status_code == 200 and own.headers["X-Colorizer-Reference"] == "uploaded"
    rgb = np.asarray(Image.open(io.BytesIO(own.content))).astype(int)
    assert (rgb[..., 2] - rgb[..., 0]).mean() > 5  # blue copied from the reference


def test_bad_image_is_400(base_url, models):
    response = post(base_url, {"model": "welsh"}, {"image": ("notes.png", b"a shopping list", "image/png")})
    assert_error(response, 400, "not an image")


def test_missing_image_and_missing_model_are_400(base_url, models):
    assert_error(post(base_url, {"model": "cnn"}, {}), 400, "'image'")
    assert_error(post(base_url, {}), 400, "'model'")


@pytest.mark.parametrize("strength", ["1.6", "-0.1", "strong", "nan"])
def test_bad_strength_is_400(base_url, models, strength):
    assert_error(post(base_url, {"model": "cnn", "strength": strength}), 400, "strength")


def test_bad_reference_is_400(base_url, models):
    assert_error(post(base_url, {"model": "welsh", "reference": "no-such-photo"}), 400,
                 "no reference photo called 'no-such-photo'")
    gray_reference = {"image": ("old.png", gray_photo(), "image/png"),
                      "reference": ("gray.png", gray_photo(), "image/png")}
    assert_error(post(base_url, {"model": "welsh"}, gray_reference), 400, "no colour")
    broken_reference = {"image": ("old.png", gray_photo(), "image/png"),
                        "reference": ("ref.png", b"not a photo", "image/png")}
    assert_error(post(base_url, {"model": "welsh"}, broken_reference), 400, "reference photo could not be used")


def test_unknown_model_is_404(base_url, models):
    assert_error(post(base_url, {"model": "zebra"}), 404, "no model called 'zebra'")


def test_too_many_pixels_is_413(base_url, models, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_PIXELS", 1000)
    assert_error(post(base_url, {"model": "cnn"}), 413, "limit")


def test_too_many_bytes_is_413(base_url, models, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_UPLOAD_BYTES", 2000)
    noise = np.random.default_rng(0).integers(0, 256, (60, 60), dtype=np.uint8)  # a PNG of about 3.6 kB
    assert_error(post(base_url, {"model": "cnn"}, {"image": ("noise.png", png_of(noise), "image/png")}), 413, "limit")
    big = {"image": ("big.png", b"\0" * 100_000, "image/png")}  # refused from its Content-Length alone
    assert_error(post(base_url, {"model": "cnn"}, big), 413, "too large")


def test_missing_weights_is_503(base_url, monkeypatch, tmp_path):
    from colorizers import settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)  # the real cnn entry, without its weights file
    assert_error(post(base_url, {"model": "cnn"}), 503, "not installed")


def test_the_blend_through_the_api_with_the_shipped_cnn(base_url, monkeypatch):
    from colorizers import registry

    if not registry.model_info("blend").is_available:
        pytest.skip("the CNN's weights are not installed")
    monkeypatch.setattr(registry, "_loaded", {})
    assert "blend" in [model["name"] for model in requests.get(f"{base_url}/api/models", timeout=TIMEOUT).json()]
    response = post(base_url, {"model": "blend"})
    assert response.status_code == 200, response.text[:300]
    rgb = np.asarray(Image.open(io.BytesIO(response.content)))
    assert rgb.shape == (90, 130, 3) and len(response.headers["X-Colorizer-References"].split(",")) == 5


def test_wrong_method_and_unknown_endpoints_answer_json_not_the_page(base_url):
    wrong = requests.get(f"{base_url}/api/colorize", timeout=TIMEOUT)
    assert_error(wrong, 405, "Use POST")
    assert wrong.headers["Allow"] == "POST"
    for method in ("get", "post"):
        assert_error(getattr(requests, method)(f"{base_url}/api/nothing/here", timeout=TIMEOUT), 404, "no API endpoint")
    assert requests.get(f"{base_url}/api/models", timeout=TIMEOUT).status_code == 200


def test_a_large_upload_never_touches_the_disk(base_url, monkeypatch):
    """Werkzeug spools form files over 500 KB to an unnamed temporary file; ours are parsed in memory."""
    import tempfile

    from colorizers.references import gallery

    created = []
    real = tempfile.TemporaryFile

    def watched(*args, **kwargs):
        created.append(args or kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", watched)
    noise = np.random.default_rng(0).integers(0, 256, (700, 900), dtype=np.uint8)
    photo = png_of(noise)
    assert len(photo) > 500_000
    response = post(base_url, {"model": "welsh", "reference": gallery()[0].name}, {"image": ("big.png", photo, "image/png")})
    assert response.status_code == 200, response.text[:200]
    assert created == []


# --- Several references, and the exemplar model (real: weights/exemplar_features.onnx, with the real CNN) ---------
def test_exemplar_with_two_reference_files(base_url):
    response = post(base_url, {"model": "exemplar"}, with_references(colour_photo(), red_photo()))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (130, 90))
    assert response.headers["X-Colorizer-Model"] == "exemplar"
    assert response.headers["X-Colorizer-References"] == "uploaded 1,uploaded 2"
    assert response.headers["X-Colorizer-Reference"] == "uploaded 1"
    rgb = np.asarray(image).astype(int)
    assert np.ptp(rgb, axis=-1).mean() > 5  # coloured from the references


@pytest.mark.parametrize("model", ["welsh", "exemplar"])
def test_a_reference_file_and_a_gallery_name_together(base_url, model):
    from colorizers.references import gallery

    name = gallery()[0].name
    files = [("image", ("old.png", gray_photo(), "image/png")), ("reference", ("blue.png", colour_photo(), "image/png"))]
    response = post(base_url, [("model", model), ("reference", name)], files)
    assert response.status_code == 200, response.text[:300]
    assert Image.open(io.BytesIO(response.content)).size == (130, 90)
    assert response.headers["X-Colorizer-References"] == f"uploaded 1,{name}"


def test_a_library_name_is_a_reference(base_url, models):
    from colorizers.library import library
    from colorizers.references import gallery

    found = library()
    if found is None:
        pytest.skip("the reference library is not built here")
    name = next(photo.name for photo in found.photos if photo.name not in {photo.name for photo in gallery()})
    response = post(base_url, {"model": "welsh", "reference": name})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["X-Colorizer-Reference"] == name


def test_five_references_near_the_upload_limit_are_not_refused_by_size(base_url, models, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_UPLOAD_BYTES", 100_000)
    rng = np.random.default_rng(0)
    noisy = [png_of(rng.integers(0, 256, (165, 165, 3), dtype=np.uint8)) for _ in range(5)]
    assert all(80_000 < len(photo) < 100_000 for photo in noisy)  # together far over 3 files' worth
    response = post(base_url, {"model": "welsh"}, with_references(*noisy))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["X-Colorizer-References"].split(",") == [f"uploaded {index}" for index in range(1, 6)]


def test_the_request_limit_stays_within_max_request_bytes(base_url, models, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_REQUEST_BYTES", 50_000)
    big = {"image": ("big.png", b"\0" * 60_000, "image/png")}  # within one file's limit, over the request's
    assert_error(post(base_url, {"model": "cnn"}, big), 413, "too large")


def test_six_references_are_400(base_url, models):
    from colorizers.references import gallery

    names = [photo.name for photo in gallery()][:3]
    response = post(base_url, [("model", "welsh"), *[("reference", name) for name in names]],
                    with_references(colour_photo(), red_photo(), colour_photo()))
    assert_error(response, 400, "at most 5 references (got 6)")
    assert_error(post(base_url, {"model": "exemplar"}, with_references(*[colour_photo()] * 6)), 400, "at most 5")


def test_auto_with_other_references_is_400(base_url, models):
    from colorizers.references import gallery

    with_file = post(base_url, {"model": "exemplar", "reference": "auto"}, with_references(colour_photo()))
    assert_error(with_file, 400, "'auto'")
    assert "alone" in with_file.json()["error"]
    with_name = post(base_url, [("model", "welsh"), ("reference", "auto"), ("reference", gallery()[0].name)])
    assert_error(with_name, 400, "alone")


def test_an_unknown_name_among_several_is_400(base_url, models):
    from colorizers.references import gallery

    response = post(base_url, [("model", "exemplar"), ("reference", gallery()[0].name), ("reference", "no-such-photo")])
    assert_error(response, 400, "no reference photo called 'no-such-photo' in the gallery or the library")


def test_a_bad_reference_among_several_is_named(base_url, models):
    response = post(base_url, {"model": "welsh"}, with_references(colour_photo(), gray_photo()))
    assert_error(response, 400, "reference photo 2 (reference1.png) has no colour")


def test_exemplar_says_where_it_fell_back_to_the_cnn(base_url):
    noise = np.random.default_rng(0).integers(0, 256, (90, 130), dtype=np.uint8)
    flat_red = png_of(np.full((64, 64, 3), (200, 30, 30), np.uint8))
    files = {"image": ("noise.png", png_of(noise), "image/png"), "reference": ("red.png", flat_red, "image/png")}
    response = post(base_url, {"model": "exemplar"}, files)  # nothing in a flat red square looks like noise
    assert response.status_code == 200, response.text[:300]
    fallback = response.headers["X-Colorizer-Fallback"]
    assert "CNN" in fallback and fallback.isascii()
    assert int(fallback.split("%")[0]) >= 50


def test_too_many_parts_or_a_long_field_are_told_what_was_too_large(base_url, models):
    """Issue 20: 1001 parts and a 600 KB text field were told "each photo may be at most 50 MB"."""
    many_parts = [("model", "cnn"), *[("note", "x")] * 1000]
    response = post(base_url, many_parts)
    assert_error(response, 413, "more than 1,000 parts")
    assert "photo may be" not in response.json()["error"] and "MB" not in response.json()["error"]
    response = post(base_url, {"model": "cnn", "strength": "1" * 600_000})
    assert_error(response, 413, "A text field of the form is larger than 500 KB")
    assert "photo may be" not in response.json()["error"]


def test_a_request_over_the_whole_limit_says_its_size_and_that_limit(base_url, models, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_REQUEST_BYTES", 50_000)
    big = {"image": ("big.png", b"\0" * 60_000, "image/png")}
    response = post(base_url, {"model": "cnn"}, big)
    assert_error(response, 413, "The request is too large: 0.1 MB; the limit is 0.05 MB for a whole request (each "
                                "photo at most 50 MB).")


def test_a_request_that_waited_the_whole_allowance_for_a_thread_is_503_at_once(models):
    """Waitress stamps when it read a request whole (`dashboard.server.connections.RECEIVED_AT`); one that then waited past
    COLORIZER_API_MAX_WAIT_SECONDS for an app thread is told 503 with Retry-After before any work is done."""
    from dashboard.app import server as flask_server
    from dashboard.server.connections import RECEIVED_AT
    from dashboard.settings import API_MAX_WAIT_SECONDS

    client = flask_server.test_client()
    form = {"model": "cnn", "image": (io.BytesIO(gray_photo()), "photo.png", "image/png")}
    waited = client.post("/api/colorize", data=form,
                         environ_base={RECEIVED_AT: time.monotonic() - API_MAX_WAIT_SECONDS - 1})
    assert waited.status_code == 503 and int(waited.headers["Retry-After"]) >= 1
    assert "busy" in waited.get_json()["error"]
    form = {"model": "cnn", "image": (io.BytesIO(gray_photo()), "photo.png", "image/png")}
    fresh = client.post("/api/colorize", data=form, environ_base={RECEIVED_AT: time.monotonic()})
    assert fresh.status_code == 200 and fresh.mimetype == "image/png"
