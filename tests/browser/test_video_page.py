"""The Video page in a real browser: upload a short clip, colour it from a keyframe (pick the shot, colour its
frame with a model, touch it up with a stroke, keep it), start, watch the progress reach the end, play the result
beside the original (its duration and size are the clip's) and download it (an MP4 with the clip's frames and
size, read back with PyAV). The keyframe is coloured by the fake CNN; the exemplar engine carries it."""
from __future__ import annotations

import io
import threading

import av
import numpy as np
import requests
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_steps import RESULT_TIMEOUT, click_when_uncovered, resource_urls, upload, wait_for_images_loaded
from colorizers.color import rgb_to_lab
from dashboard.components.touchup_editor import PALETTE, canvas_size
from dashboard.server.model_slots import model_slots
from dashboard.guards.session import COOKIE_NAME
from tests.browser.test_pages import _screenshot_at_both_widths as screenshot_at_both_widths
from tests.browser.test_touchup_editor import draw_stroke
from tests.video_clips import make_clip

WIDTH, HEIGHT, FRAMES, FPS = 96, 64, 12, 12
VIDEO_TIMEOUT = 120


def open_video_page(dash_duo, studio_app) -> None:
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/video")
    dash_duo.wait_for_element("#video-upload")


def media_facts(dash_duo, selector: str) -> dict:
    """Wait until the <video> has its metadata; its duration and size as the browser reads them."""
    script = ("const video = document.querySelector(arguments[0]);"
              "if (!video || video.readyState < 1) { return null; }"
              "return {duration: video.duration, width: video.videoWidth, height: video.videoHeight,"
              "        error: video.error ? video.error.code : null};")
    return WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: driver.execute_script(script, selector))


def plays(dash_duo, selector: str) -> bool:
    """Play the <video> (muted: a page may play a muted video on its own) until its time moves on."""
    dash_duo.driver.execute_script("const video = document.querySelector(arguments[0]);"
                                   "video.muted = true; video.play();", selector)
    return WebDriverWait(dash_duo.driver, 30).until(lambda driver: driver.execute_script(
        "const video = document.querySelector(arguments[0]);"
        "return video.currentTime > 0 || video.ended;", selector))


def test_colour_a_clip_from_a_keyframe_play_it_and_download_it(dash_duo, studio_app, four_models, tmp_path,
                                                               artifacts_dir):
    clip_path = tmp_path / "old-film.mp4"
    clip_path.write_bytes(make_clip(width=WIDTH, height=HEIGHT, frames=FRAMES, fps=FPS))
    open_video_page(dash_duo, studio_app)
    assert "60 seconds" in dash_duo.find_element("#video-limits").text

    # The clip: its first frame, its facts and its strip of shots (one here).
    upload(dash_duo, "video-upload", [clip_path])
    wait_for_images_loaded(dash_duo, "#video-first-frame, .video-shot-image")
    dash_duo.wait_for_contains_text("#video-clip-facts", f"{WIDTH} × {HEIGHT} · {FPS} fps · {FRAMES} frames")
    assert any(url.endswith("/uploads?kind=video") for url in resource_urls(dash_duo))
    [shot] = dash_duo.find_elements(".video-shot")
    assert shot.get_attribute("aria-label").startswith("Shot 1: frames 0 to 11")

    # Pick the shot: its first frame is the one to colour, and the page switches to keyframes.
    click_when_uncovered(dash_duo, shot)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_element("#video-keyframe-panel").is_displayed())
    assert dash_duo.find_element("#video-frame").get_attribute("value") == "0"
    assert dash_duo.find_element("#video-model").get_attribute("value") == "cnn"
    dash_duo.wait_for_contains_text("#video-fallback-note", "No keyframe kept yet")

    # Colour it with the (fake) CNN, then touch it up with a denim stroke.
    click_when_uncovered(dash_duo, dash_duo.find_element("#video-colour-frame"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_element("#video-candidate-panel").is_displayed())
    wait_for_images_loaded(dash_duo, "#video-candidate-image")
    coloured_src = dash_duo.find_element("#video-candidate-image").get_attribute("src")
    dash_duo.wait_for_contains_text("#video-candidate-caption", "Frame 0 (shot 1) coloured with Fusion CNN")

    click_when_uncovered(dash_duo, dash_duo.find_element("#video-candidate-edit"))
    dash_duo.wait_for_element("#video-touchup-canvas .nsewdrag")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_elements("#video-touchup-canvas image"))
    click_when_uncovered(dash_duo, dash_duo.find_element("#video-touchup-modal .touchup-swatch[title='Denim']"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: (dash_duo.find_element("#video-touchup-colour").get_attribute("value") or "").lower()
        == dict(PALETTE)["Denim"].lower())
    width, height = canvas_size((HEIGHT, WIDTH))
    draw_stroke(dash_duo, (int(0.2 * width), int(0.5 * height)), (int(0.8 * width), int(0.5 * height)),
                canvas="#video-touchup-canvas")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements("#video-touchup-canvas .shapelayer path")) == 1)
    dash_duo.find_element("#video-touchup-apply").click()
    dash_duo.wait_for_text_to_equal("#video-touchup-status", "Applied 1 stroke.", timeout=RESULT_TIMEOUT)
    dash_duo.find_element("#video-touchup-modal .btn-close").click()
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_element("#video-candidate-image").get_attribute("src") != coloured_src)
    wait_for_images_loaded(dash_duo, "#video-candidate-image")

    # Keep it as the shot's keyframe: every shot has one now.
    click_when_uncovered(dash_duo, dash_duo.find_element("#video-keep"))
    dash_duo.wait_for_contains_text("#video-keyframe-feedback", "Kept frame 0 as a keyframe of shot 1.")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements(".video-keyframe")) == 1)
    wait_for_images_loaded(dash_duo, ".video-keyframe-image")
    dash_duo.wait_for_contains_text("#video-fallback-note", "Every shot has a keyframe")

    # Start: the progress bar reaches the end, the latest coloured frame is shown, then the result.
    click_when_uncovered(dash_duo, dash_duo.find_element("#video-start"))
    dash_duo.wait_for_contains_text("#video-progress-text", "Done", timeout=VIDEO_TIMEOUT)
    bar = dash_duo.find_element(".video-progress")
    assert bar.get_attribute("aria-valuenow") == "100"
    assert bar.text == f"{FRAMES} of {FRAMES} frames"
    assert dash_duo.find_element("#video-cancel").get_attribute("disabled") is not None
    wait_for_images_loaded(dash_duo, "#video-preview")

    # The result plays beside the original, at the clip's length and size.
    result = media_facts(dash_duo, "video#video-result")
    assert result["error"] is None
    assert abs(result["duration"] - FRAMES / FPS) < 0.1
    assert (result["width"], result["height"]) == (WIDTH, HEIGHT)
    original = media_facts(dash_duo, "video#video-original")
    assert abs(original["duration"] - FRAMES / FPS) < 0.1
    assert plays(dash_duo, "video#video-result")

    # The download: an MP4 with the clip's frames and size, in colour.
    link = dash_duo.find_element("#video-download")
    assert link.get_attribute("download").endswith(".mp4")
    cookie = dash_duo.driver.get_cookie(COOKIE_NAME)["value"]
    response = requests.get(link.get_attribute("href"), cookies={COOKIE_NAME: cookie}, timeout=60)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.content[4:8] == b"ftyp"
    with av.open(io.BytesIO(response.content)) as container:
        assert "mp4" in container.format.name
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", WIDTH, HEIGHT)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(frames) == FRAMES
    chroma = np.hypot(*np.moveaxis(rgb_to_lab(frames[-1])[..., 1:], -1, 0))
    assert np.median(chroma) > 5  # the keyframe's colour carried to the last frame, not gray
    assert dash_duo.get_logs() == []
    screenshot_at_both_widths(dash_duo, artifacts_dir, "video")  # test-artifacts/video-<width>.png; fits both


def test_a_file_that_is_not_a_video_is_told_on_the_page(dash_duo, studio_app, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("This is a shopping list, not a film.")
    open_video_page(dash_duo, studio_app)
    upload(dash_duo, "video-upload", [notes])
    dash_duo.wait_for_contains_text("#video-clip-feedback", "notes.mp4", timeout=RESULT_TIMEOUT)
    text = dash_duo.find_element("#video-clip-feedback").text
    assert "not a video" in text and "Traceback" not in text
    assert not dash_duo.find_element("#video-steps").is_displayed()
    assert dash_duo.get_logs() == []


def test_automatic_colouring_shows_its_progress_and_can_be_cancelled(dash_duo, studio_app, three_models, tmp_path):
    """Every model slot is held by other people's photos, so the job waits at its first frame: the page says it is
    colouring, Cancel stops it before its next frame, and no result is shown."""
    clip_path = tmp_path / "old-film.mp4"
    clip_path.write_bytes(make_clip(width=WIDTH, height=HEIGHT, frames=24, fps=FPS))
    open_video_page(dash_duo, studio_app)
    upload(dash_duo, "video-upload", [clip_path])
    dash_duo.wait_for_contains_text("#video-clip-facts", "24 frames", timeout=RESULT_TIMEOUT)

    # Automatic is the default; the reference picker shows for the models that take a reference only.
    assert not dash_duo.find_element("#video-keyframe-panel").is_displayed()
    Select(dash_duo.find_element("#video-model")).select_by_value("welsh")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_element("#video-reference-panel").is_displayed())
    Select(dash_duo.find_element("#video-model")).select_by_value("cgan")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: not dash_duo.find_element("#video-reference-panel").is_displayed())

    slots = model_slots()
    release, held = threading.Event(), threading.Barrier(slots.count + 1)

    def someone_else_colouring() -> None:
        with slots.slot(owner="another-session"):
            held.wait()
            release.wait()

    others = [threading.Thread(target=someone_else_colouring) for _ in range(slots.count)]
    for other in others:
        other.start()
    held.wait()
    try:
        click_when_uncovered(dash_duo, dash_duo.find_element("#video-start"))
        dash_duo.wait_for_contains_text("#video-progress-text", "Colouring: 0 of 24 frames", timeout=RESULT_TIMEOUT)
        assert dash_duo.find_element(".video-progress").get_attribute("aria-valuenow") == "0"
        cancel = dash_duo.find_element("#video-cancel")
        WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: cancel.is_enabled())
        cancel.click()
        dash_duo.wait_for_contains_text("#video-start-feedback", "Cancelling", timeout=RESULT_TIMEOUT)
    finally:
        release.set()
        for other in others:
            other.join()
    dash_duo.wait_for_contains_text("#video-progress-text", "Cancelled after", timeout=VIDEO_TIMEOUT)
    assert not dash_duo.find_elements("video#video-result")
    assert dash_duo.find_element("#video-cancel").get_attribute("disabled") is not None
    assert dash_duo.get_logs() == []
