"""The dashboard without a browser: image routes (Flask test client) and the jobs that fill the results store."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from PIL import Image

from colorizers.references import gallery

REPO_ROOT = Path(__file__).resolve().parent.parent
from dashboard.guards.session import COOKIE_NAME, cookie_value

SESSION = "test-session-aaaaaaaaa"
OTHER_SESSION = "test-session-bbbbbbbbb"


@pytest.fixture()
def store(dashboard_app):
    from dashboard.stores.results_store import default_store

    return default_store()


def png_of(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def gray_photo(height: int = 120, width: int = 160) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width]
    gray = (40 + 150 * rows / height + 20 * np.sin(columns / 5.0)).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def decoded_size(png: bytes) -> tuple[int, int]:
    """(width, height) of PNG bytes."""
    return Image.open(io.BytesIO(png)).size


# --- Routes -------------------------------------------------------------------------------------------------------

def test_result_png_is_served_at_full_resolution_as_a_download(client, store):
    from dashboard.stores.results_store import make_stored_image
    from dashboard.routes.urls import result_download_url

    rgb = np.random.default_rng(0).integers(0, 256, (900, 1300, 3), dtype=np.uint8)
    image_id = store.put(SESSION, make_stored_image(rgb, "beach-colorized-welsh.png"))
    response = client.get(result_download_url(image_id))
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "beach-colorized-welsh.png" in response.headers["Content-Disposition"]
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(response.data))), rgb)


def test_thumbnail_is_served_at_display_size(client, store):
    from dashboard import settings
    from dashboard.stores.results_store import make_stored_image
    from dashboard.routes.urls import result_thumbnail_url

    image_id = store.put(SESSION, make_stored_image(np.zeros((1000, 1600, 3), np.uint8), "wide.png"))
    response = client.get(result_thumbnail_url(image_id))
    assert response.status_code == 200
    assert "Content-Disposition" not in response.headers
    width, height = decoded_size(response.data)
    assert width == settings.DISPLAY_LONG_SIDE and height == round(1000 * settings.DISPLAY_LONG_SIDE / 1600)


@pytest.mark.parametrize(
    "path",
    [
        "/results/unknown.png",
        "/results/unknown/thumb.jpg",
        "/gallery/no-such-photo/thumb.jpg",
        "/showcase/middle.png",
    ],
)
def test_unknown_images_are_404(client, path):
    assert client.get(path).status_code == 404


def test_a_result_url_is_the_capability_for_that_image_alone(client, store):
    from dashboard.stores.results_store import make_stored_image
    from dashboard.routes.urls import result_download_url, result_thumbnail_url

    image_id = store.put(SESSION, make_stored_image(np.zeros((20, 20, 3), np.uint8), "mine.png"))
    other_id = store.put(SESSION, make_stored_image(np.ones((20, 20, 3), np.uint8), "also-mine.png"))
    assert client.get(result_download_url(image_id)).status_code == 200  # no session needed: the id grants it
    assert client.get(result_thumbnail_url(image_id)).status_code == 200
    assert len(image_id) >= 22 and image_id != other_id  # 128 random bits each
    assert store.get(OTHER_SESSION, image_id) is None  # but callbacks of another session cannot use it


def test_expired_results_are_404():
    from dashboard.stores.results_store import ResultsStore, make_stored_image
    from dashboard.routes.images import register_routes
    from dashboard.routes.urls import result_download_url

    now = [0.0]
    store = ResultsStore(max_bytes=10**6, ttl_seconds=60, clock=lambda: now[0])
    server = Flask("expiry-test")
    register_routes(server, store)
    image_id = store.put(SESSION, make_stored_image(np.zeros((20, 20, 3), np.uint8), "soon-gone.png"))
    assert server.test_client().get(result_download_url(image_id)).status_code == 200
    now[0] += 61
    assert server.test_client().get(result_download_url(image_id)).status_code == 404


def test_gallery_thumbnails_are_served_small(client, colour_gallery):
    from dashboard import settings
    from dashboard.routes.urls import gallery_thumbnail_url

    photo = gallery()[0]
    response = client.get(gallery_thumbnail_url(photo.name))
    assert response.status_code == 200
    assert max(decoded_size(response.data)) <= settings.GALLERY_THUMB_SIDE


def test_home_example_is_served(client):
    before = client.get("/showcase/before.png")
    after = client.get("/showcase/after.png")
    assert before.status_code == after.status_code == 200
    assert decoded_size(before.data) == decoded_size(after.data)


def test_pages_use_the_vendored_bootstrap_and_no_cdn(client):
    html = client.get("/welsh").get_data(as_text=True)
    assert "/assets/vendor/bootstrap.min.css" in html
    assert "/assets/style.css" in html
    assert "cdn" not in html.lower()


def test_the_dashboard_never_imports_tensorflow(colour_gallery):
    """In a fresh interpreter, since other tests in this process may load TensorFlow themselves."""
    code = "import sys, dashboard.app; sys.exit(int('tensorflow' in sys.modules or 'keras' in sys.modules))"
    environment = {**os.environ, "COLORIZER_GALLERY_DIR": str(colour_gallery)}
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=environment, capture_output=True,
                               timeout=120)
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]


# --- Jobs: uploads in, results in the store -----------------------------------------------------------------------

def uploads_of(*named_data: tuple[str, bytes]):
    from dashboard.routes.uploads import UploadedFile

    return [UploadedFile(name, data) for name, data in named_data]


def test_welsh_results_have_the_uploads_size_and_the_chosen_reference(client, store, colour_gallery):
    from dashboard.jobs.photos import colorize_uploads, keep_uploads
    from dashboard.routes.urls import result_download_url

    reference = gallery()[0]
    kept = keep_uploads(uploads_of(("old.png", png_of(gray_photo(120, 160)))), SESSION, store)
    [photo] = colorize_uploads(kept, SESSION, store, ["welsh"], reference.name)
    [result] = photo.results
    assert result.error is None
    assert (result.reference_name, result.reference_title, result.reference_suggested) == (
        reference.name, reference.title, False)
    assert result.filename == "old-colorized-welsh-transfer.png"
    response = client.get(result_download_url(result.image_id))
    assert decoded_size(response.data) == (160, 120)


def test_suggested_reference_is_reported(store):
    from colorizers.library import library
    from dashboard.jobs.photos import AUTO_REFERENCE, colorize_uploads, keep_uploads

    kept = keep_uploads(uploads_of(("old.png", png_of(gray_photo()))), SESSION, store)
    [result] = colorize_uploads(kept, SESSION, store, ["welsh"], AUTO_REFERENCE)[0].results
    assert result.reference_suggested
    found = library()
    if found is None:  # no library here: the gallery photo alike in lightness statistics
        assert result.reference_name in {photo.name for photo in gallery()} and result.suggested == ()
    else:  # by content: the library photos averaged, best first, each shown as a thumbnail
        assert [photo.name for photo in result.suggested][0] == result.reference_name
        assert len(result.suggested) == 5 and all(photo.file.exists() for photo in result.suggested)


def test_a_bad_file_gets_its_message_and_the_others_still_get_results(store):
    from dashboard.jobs.photos import colorize_uploads, keep_uploads

    files = uploads_of(("good.png", png_of(gray_photo())), ("notes.png", b"just some text"),
                       ("also-good.png", png_of(gray_photo(64, 64))))
    photos = colorize_uploads(keep_uploads(files, SESSION, store), SESSION, store, ["welsh"])
    assert [photo.error is None for photo in photos] == [True, False, True]
    assert "not an image" in photos[1].error
    assert all(photo.results[0].image_id for photo in (photos[0], photos[2]))


def test_a_colour_upload_is_flagged(store):
    from dashboard.jobs.photos import keep_uploads

    colour = np.zeros((40, 40, 3), np.uint8)
    colour[..., 0] = 200
    [kept] = keep_uploads(uploads_of(("red.png", png_of(colour))), SESSION, store)
    assert kept.was_color


def test_one_failing_model_does_not_stop_the_others(store):
    from dashboard.jobs.photos import colorize_uploads, keep_uploads

    kept = keep_uploads(uploads_of(("old.png", png_of(gray_photo()))), SESSION, store)
    [photo] = colorize_uploads(kept, SESSION, store, ["welsh", "no-such-model"])
    welsh, missing = photo.results
    assert welsh.image_id and welsh.error is None
    assert missing.image_id is None and "no model called" in missing.error


def test_unexpected_errors_are_logged_and_replaced_by_a_generic_message(store, monkeypatch, caplog):
    from dashboard.jobs import photos as jobs

    def broken_colorize(*_args, **_kwargs):
        raise RuntimeError("internal detail that must not reach the page")

    monkeypatch.setattr(jobs, "colorize", broken_colorize)
    kept = jobs.keep_uploads(uploads_of(("old.png", png_of(gray_photo()))), SESSION, store)
    with caplog.at_level(logging.ERROR, logger="dashboard.jobs.photos"):
        [result] = jobs.colorize_uploads(kept, SESSION, store, ["welsh"])[0].results
    assert result.error == jobs.GENERIC_ERROR
    assert "internal detail" in caplog.text


def test_an_expired_original_asks_for_the_photo_again(store):
    from dashboard.jobs.photos import KeptUpload, colorize_uploads

    [photo] = colorize_uploads([KeptUpload("gone.png", image_id="expired")], SESSION, store, ["welsh"])
    assert "upload it again" in photo.error


def test_own_reference_must_be_a_colour_photo(store):
    from colorizers import ColorizerError
    from dashboard.jobs.photos import OWN_REFERENCE, keep_reference, reference_request

    [gray_file] = uploads_of(("gray.png", png_of(gray_photo())))
    with pytest.raises(ColorizerError, match="no colour"):
        keep_reference(gray_file, SESSION, store)
    with pytest.raises(ColorizerError, match="Upload your own reference"):
        reference_request(OWN_REFERENCE, [], SESSION, store)


def test_own_reference_is_used(store):
    from dashboard.jobs.photos import OWN_REFERENCE, colorize_uploads, keep_reference, keep_uploads, reference_request

    colour = np.zeros((64, 64, 3), np.uint8)
    colour[..., 2] = np.linspace(60, 250, 64, dtype=np.uint8)[:, None]
    [reference_file] = uploads_of(("blue.png", png_of(colour)))
    reference_id = keep_reference(reference_file, SESSION, store)
    reference = reference_request(OWN_REFERENCE, [{"filename": "blue.png", "image_id": reference_id}], SESSION, store)
    kept = keep_uploads(uploads_of(("old.png", png_of(gray_photo()))), SESSION, store)
    [result] = colorize_uploads(kept, SESSION, store, ["welsh"], reference)[0].results
    assert result.reference_name == OWN_REFERENCE and result.reference_title == "blue.png"
    assert result.references == ("blue.png",) and not result.reference_suggested
    rgb = store.get(SESSION, result.image_id).rgb
    assert (rgb[..., 2].astype(int) - rgb[..., 0]).mean() > 5  # blue copied from the reference
    # A photo array given as the reference (no page state) is named in words.
    [result] = colorize_uploads(kept, SESSION, store, ["welsh"], colour)[0].results
    assert result.reference_name == OWN_REFERENCE and result.reference_title == "your reference photo"


# --- The comparison studio's routes -------------------------------------------------------------------------------

@pytest.fixture()
def studio_with_a_result(dashboard_app):
    """A studio (no worker thread) with one finished Welsh result, behind a Flask app with the routes."""
    from dashboard.studio import Studio
    from dashboard.routes.uploads import UploadedFile

    studio = Studio(max_bytes=10**9, ttl_seconds=600, display_long_side=100, autostart=False)
    studio.add_uploads(SESSION, [UploadedFile("old.png", png_of(gray_photo(120, 160)))], ["welsh"])
    studio.process_pending()
    row = studio.view(SESSION).rows[0]
    server = Flask("studio-routes-test")
    from dashboard.stores.results_store import ResultsStore
    from dashboard.routes.images import register_routes

    register_routes(server, ResultsStore(10**6, 60), studio)
    client = server.test_client()
    client.set_cookie(COOKIE_NAME, cookie_value(SESSION))
    return client, row, row.cells[0].result_id


def test_studio_display_images_are_jpeg_and_downloads_full_size_png(studio_with_a_result):
    from dashboard.routes.urls import studio_display_url, studio_download_url, studio_original_url, studio_zip_url

    client, row, result_id = studio_with_a_result
    original = client.get(studio_original_url(row.row_id))
    display = client.get(studio_display_url(result_id, 150))
    for response in (original, display):
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert Image.open(io.BytesIO(response.data)).size == (100, 75)
    download = client.get(studio_download_url(result_id, 40))
    assert download.mimetype == "image/png" and "attachment" in download.headers["Content-Disposition"]
    assert decoded_size(download.data) == (160, 120)
    archive = client.get(studio_zip_url(40))
    assert archive.mimetype == "application/zip" and archive.headers["Cache-Control"] == "no-store"
    assert zipfile.ZipFile(io.BytesIO(archive.data)).namelist() == ["old-colorized-welsh-transfer.png"]


@pytest.mark.parametrize("template", [
    "/results/{session}/studio/{result}/s100.jpg",
    "/results/studio/{result}/s151.jpg",
    "/results/studio/unknown/s100.png",
    "/results/rows/unknown/original.jpg",
    "/results/{session}/all.zip",
    "/results/all.zip?strength=400",
])
def test_studio_routes_answer_404_for_anything_unknown(studio_with_a_result, template):
    client, _row, result_id = studio_with_a_result
    assert client.get(template.format(session=SESSION, result=result_id)).status_code == 404


@pytest.mark.parametrize("cookie", [None, "A" * 22, "A" * 22 + ".0123456789abcdef0123456789abcdef", "garbage"])
def test_the_zip_needs_the_session_cookie_the_server_signed(studio_with_a_result, cookie):
    from dashboard.guards.session import COOKIE_NAME
    from dashboard.routes.urls import studio_zip_url

    client, _row, _result_id = studio_with_a_result
    client.delete_cookie(COOKIE_NAME)
    if cookie is not None:
        client.set_cookie(COOKIE_NAME, cookie)
    assert client.get(studio_zip_url()).status_code == 404  # a result URL, a made-up id: nothing opens it


def test_the_measured_showcase_is_read_as_made(tmp_path):
    from dashboard.page_logic.showcase import measured_showcase

    assert measured_showcase(tmp_path) is None  # nothing measured here: the gallery example is used instead
    rng = np.random.default_rng(0)
    for name in ("before.jpg", "after.jpg"):
        Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(tmp_path / name)
    (tmp_path / "showcase.json").write_text(json.dumps({
        "title": "Perched osprey", "source_package": "budgie-backgrounds", "source_version": "3.0-1",
        "licence": "CC0-1.0", "model_title": "Blend", "psnr": 24.5, "gray_psnr": 22.0}))
    example = measured_showcase(tmp_path)
    assert example.photo_title == "Perched osprey"
    assert "Blend" in example.after_caption and "+2.5 dB" in example.after_caption
    assert "CC0-1.0" in example.credit
    assert decoded_size(example.before_png) == decoded_size(example.after_png) == (40, 30)


@pytest.mark.parametrize("path", ["/", "/compare", "/api/models", "/assets/style.css", "/showcase/before.png",
                                  "/no-such-page"])
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy  # Dash's inline scripts by hash
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/_dash-component-suites/dash/..%2f..%2fsetup.py",
                                  "/_dash-component-suites/nope/bundle.js"])
def test_unknown_script_paths_are_404_without_a_traceback(client, path, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get(path)
    assert response.status_code == 404 and b"Traceback" not in response.data
    assert not [record for record in caplog.records if record.exc_info]


def test_a_hand_made_callback_for_outputs_no_callback_has_is_400_without_a_traceback(client, caplog):
    request = {"output": "..made-up.children..", "outputs": [{"id": "made-up", "property": "children"}],
               "inputs": [], "changedPropIds": [], "state": []}
    with caplog.at_level(logging.ERROR):
        response = client.post("/_dash-update-component", json=request)
    assert response.status_code == 400 and b"Traceback" not in response.data
    assert not [record for record in caplog.records if record.exc_info]


def test_a_page_state_listing_one_upload_forty_times_colours_it_once(store):
    """The Welsh page's callback colours what its state lists: a hand-made state must not multiply the work."""
    from dashboard.jobs.photos import colorize_uploads, keep_uploads, uploads_from_state

    [kept] = keep_uploads(uploads_of(("old.png", png_of(gray_photo()))), SESSION, store)
    [failed] = keep_uploads(uploads_of(("notes.png", b"not an image")), SESSION, store)
    other = keep_uploads(uploads_of(("theirs.png", png_of(gray_photo()))), "B" * 22, store)[0]
    state = [kept.to_json()] * 40 + [failed.to_json()] * 3 + [other.to_json(), {"image_id": "made-up"}, "junk"]
    uploads = uploads_from_state(state, SESSION, store)
    assert [upload.filename for upload in uploads] == ["old.png", "notes.png"]  # each once; not another session's
    photos = colorize_uploads(uploads, SESSION, store, ["welsh"], gallery()[0].name)
    assert sum(len(photo.results) for photo in photos) == 1


def test_readyz_is_503_until_every_model_has_loaded_and_run_once(client, monkeypatch):
    import threading

    from colorizers import available_models
    from dashboard.server import readiness

    monkeypatch.setattr(readiness, "_ready", threading.Event())
    monkeypatch.setattr(readiness, "_warmed", [])
    assert client.get("/healthz").status_code == 200
    waiting = client.get("/readyz")
    assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "1"
    readiness.warm_models()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["models"] == [info.name for info in available_models()]


# --- Issue 20: unknown paths, and behind a TLS proxy ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/compare", "/welsh", "/legacy", "/models", "/compare/"])
def test_every_page_answers_200(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/no-such-page", "/compare/extra", "/welsh.php", "/a/b/c"])
def test_unknown_paths_answer_404_with_the_sites_page(client, path):
    """Dash answered every unknown path with its page shell and 200; the shell (whose content says "404 - Page not
    found") now comes with status 404."""
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert client.get("/api/no-such-endpoint").status_code == 404  # the API's own JSON 404 is unchanged


def fresh_page(dashboard_app, remote_address: str, headers: dict[str, str] | None = None):
    """GET / as a new visitor (no cookie) connecting from `remote_address`."""
    return dashboard_app.server.test_client().get("/", headers=headers or {},
                                                  environ_base={"REMOTE_ADDR": remote_address})


def session_cookie_header(response) -> str:
    return next(value for value in response.headers.getlist("Set-Cookie") if value.startswith(COOKIE_NAME + "="))


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure_and_hsts_is_sent(dashboard_app, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "TRUSTED_PROXIES", ("10.0.0.5", "127.0.0.1"))
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "colour.example"}
    behind = fresh_page(dashboard_app, "127.0.0.1", https)
    assert behind.status_code == 200
    assert "; Secure" in session_cookie_header(behind)
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"
    # The same headers from an address that is not a trusted proxy change nothing.
    untrusted = fresh_page(dashboard_app, "198.51.100.9", https)
    assert "Secure" not in session_cookie_header(untrusted)
    assert "Strict-Transport-Security" not in untrusted.headers
    # Nor does the trusted proxy over plain HTTP.
    plain = fresh_page(dashboard_app, "127.0.0.1", {"X-Forwarded-Proto": "http"})
    assert "Secure" not in session_cookie_header(plain) and "Strict-Transport-Security" not in plain.headers


def test_without_trusted_proxies_forwarded_headers_are_not_believed(dashboard_app, monkeypatch):
    from dashboard.guards.security import TrustedProxyHeaders

    from colorizers import settings

    monkeypatch.setattr(settings, "TRUSTED_PROXIES", ())
    response = fresh_page(dashboard_app, "127.0.0.1", {"X-Forwarded-Proto": "https"})
    assert "Secure" not in session_cookie_header(response) and "Strict-Transport-Security" not in response.headers
    # What the app sees: from an untrusted peer the headers are gone; from a trusted one they set the request's
    # scheme, client address and host.
    seen = {}

    def app(environ, start_response):
        seen.update({key: environ.get(key) for key in ("wsgi.url_scheme", "REMOTE_ADDR", "HTTP_HOST",
                                                       "HTTP_X_FORWARDED_PROTO")})
        return []

    forwarded = {"REMOTE_ADDR": "198.51.100.9", "wsgi.url_scheme": "http", "HTTP_HOST": "site",
                 "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.7",
                 "HTTP_X_FORWARDED_HOST": "colour.example"}
    TrustedProxyHeaders(app)(dict(forwarded), None)
    assert seen == {"wsgi.url_scheme": "http", "REMOTE_ADDR": "198.51.100.9", "HTTP_HOST": "site",
                    "HTTP_X_FORWARDED_PROTO": None}
    monkeypatch.setattr(settings, "TRUSTED_PROXIES", ("198.51.100.9",))
    TrustedProxyHeaders(app)(dict(forwarded), None)
    assert seen == {"wsgi.url_scheme": "https", "REMOTE_ADDR": "203.0.113.7", "HTTP_HOST": "colour.example",
                    "HTTP_X_FORWARDED_PROTO": "https"}


def test_https_itself_gets_hsts(client):
    response = client.get("/api/models", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/api/models").headers


@pytest.mark.parametrize("path", ["/", "/welsh", "/compare", "/no-such-page"])
def test_a_forged_host_header_never_appears_in_a_page(client, path):
    """Issue 20: Dash's page meta tags wrote `twitter:url` from the Host header; they are relative now."""
    response = client.get(path, headers={"Host": "evil.example"})
    body = response.get_data(as_text=True)
    assert "evil.example" not in body
    assert f'<meta property="twitter:url" content="{path}">' in body
    assert '<meta name="description"' in body and '<meta property="og:title"' in body  # the page's tags are kept
