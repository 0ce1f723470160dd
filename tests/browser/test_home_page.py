"""A new visitor's path from the home page, in a real browser at desktop and phone widths: upload a gray photo, see
it coloured without scrolling, download it; a file that is not a photo is told where it was dropped."""
from __future__ import annotations

import io

import numpy as np
import pytest
import requests
from PIL import Image
from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, upload, wait_for_images_loaded
from dashboard.guards.session import COOKIE_NAME

IMAGE = ".first-photo img.first-photo-image"


def open_home_page(dash_duo, studio_app) -> None:
    """Start the site and wait until Dash has drawn the upload (the heading above it is written on the server, so
    it is there before any script has run)."""
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_contains_text("h1", "colour")
    dash_duo.wait_for_element("#home-upload input[type=file]")


def _inside_viewport(dash_duo, selector: str) -> bool:
    """Whether the element's whole box lies inside the window (seen without scrolling)."""
    return dash_duo.driver.execute_script(
        "const box = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0"
        " && box.bottom <= window.innerHeight && box.right <= document.documentElement.clientWidth;", selector)


def _fetch(dash_duo, href: str) -> requests.Response:
    """Fetch a link as this browser would (its session cookie)."""
    cookie = dash_duo.driver.get_cookie(COOKIE_NAME)
    response = requests.get(href, cookies={COOKIE_NAME: cookie["value"]} if cookie else {}, timeout=30)
    response.raise_for_status()
    return response


@pytest.mark.parametrize("width, height", [(1440, 1000), (390, 844)])
def test_home_upload_shows_a_coloured_result_in_view_and_downloads_it(
    dash_duo, studio_app, three_models, photo_files, artifacts_dir, width, height
):
    """Saves test-artifacts/home-first-photo-<width>.png: what the visitor sees once the result is in."""
    dash_duo.driver.set_window_size(width, height)
    open_home_page(dash_duo, studio_app)
    [path] = photo_files((300, 400))
    upload(dash_duo, "home-upload", [path])
    dash_duo.wait_for_element(IMAGE, timeout=RESULT_TIMEOUT)
    wait_for_images_loaded(dash_duo, IMAGE)
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: _inside_viewport(dash_duo, IMAGE))
    assert dash_duo.driver.execute_script("return window.scrollY;") > 0  # it was brought into view
    assert dash_duo.find_element(".first-photo h2").text == path.name  # the result's title: the photo's name
    dash_duo.driver.save_screenshot(str(artifacts_dir / f"home-first-photo-{width}.png"))

    # The result is in colour (the fake CNN's warm chroma), at the photo's full size.
    link = dash_duo.find_element(".first-photo-download")
    assert link.get_attribute("download") == "old-photo-1-colorized-fusion-cnn.png"
    response = _fetch(dash_duo, link.get_attribute("href"))
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    coloured = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(int)
    assert coloured.shape == (300, 400, 3)
    assert np.abs(coloured[..., 0] - coloured[..., 2]).mean() > 5  # not gray
    # A link, at least 44 px tall (a finger's tap target), to every model.
    assert link.size["height"] >= 44
    assert dash_duo.find_element(".home-compare-all").size["height"] >= 44

    # A second photo comes first, and into view.
    [second] = photo_files((200, 300), prefix="second")
    upload(dash_duo, "home-upload", [second])
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements(".first-photo")) == 2)
    assert [element.text for element in dash_duo.find_elements(".first-photo h2")] == [second.name, path.name]
    wait_for_images_loaded(dash_duo, IMAGE)
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: _inside_viewport(dash_duo, IMAGE))
    assert dash_duo.get_logs() == []


def test_a_pdf_dropped_on_the_home_page_is_told_whole(dash_duo, studio_app, three_models):
    open_home_page(dash_duo, studio_app)
    # A drop as the browser makes it (a DataTransfer holding a PDF file), on the zone's inner text.
    dash_duo.driver.execute_script(
        "const transfer = new DataTransfer();"
        "transfer.items.add(new File(['%PDF-1.4 family tree'], 'family-tree.pdf', {type: 'application/pdf'}));"
        "const target = document.querySelector('#home-upload .upload-zone-icon');"
        "target.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: transfer}));")
    dash_duo.wait_for_contains_text("#home-upload-too-large", "family-tree.pdf is a PDF document")
    message = dash_duo.find_element("#home-upload-too-large").text
    assert message.endswith("(PNG, JPEG, WebP, TIFF, GIF or BMP).")  # whole
    assert dash_duo.find_elements(".first-photo") == []

    # A PDF chosen with the dialog's "All files" is told the same way.
    dash_duo.driver.execute_script(
        "const input = document.querySelector('#home-upload input[type=file]');"
        "const transfer = new DataTransfer();"
        "transfer.items.add(new File(['%PDF-1.4 letters'], 'letters.pdf', {type: 'application/pdf'}));"
        "input.files = transfer.files;"
        "input.dispatchEvent(new Event('change', {bubbles: true}));")
    dash_duo.wait_for_contains_text("#home-upload-too-large", "letters.pdf is a PDF document")
    assert dash_duo.get_logs() == []


def test_a_one_pixel_png_gets_its_whole_message_beside_the_upload(dash_duo, studio_app, three_models, tmp_path):
    path = tmp_path / "dot.png"
    Image.new("L", (1, 1)).save(path)
    open_home_page(dash_duo, studio_app)
    upload(dash_duo, "home-upload", [path])
    dash_duo.wait_for_contains_text("#home-feedback .file-alert", "dot.png")
    text = dash_duo.find_element("#home-feedback .file-alert").text
    assert "The image is 1x1; each side must be at least 8 pixels." in text
    alert = dash_duo.find_element("#home-feedback .file-alert")
    assert dash_duo.driver.execute_script(
        "return arguments[0].scrollWidth <= arguments[0].clientWidth;", alert)  # nothing cut off
    assert dash_duo.get_logs() == []


def test_restore_is_on_for_a_grainy_scan_with_a_before_after_and_can_be_turned_off(
    dash_duo, studio_app, three_models, tmp_path
):
    pytest.importorskip("colorizers.restore")
    rng = np.random.default_rng(3)
    rows = np.linspace(60, 200, 240)[:, None] * np.ones((1, 320))
    scan = np.clip(rows + rng.normal(0, 9, rows.shape), 0, 255).astype(np.uint8)  # a grainy gray print
    path = tmp_path / "grainy-scan.png"
    Image.fromarray(scan, mode="L").save(path)
    open_home_page(dash_duo, studio_app)
    upload(dash_duo, "home-upload", [path])
    dash_duo.wait_for_element(".restore-before-after", timeout=RESULT_TIMEOUT)
    wait_for_images_loaded(dash_duo, ".first-photo img")
    switch = dash_duo.find_element(".home-restore-switch input")
    assert switch.is_selected()
    assert [element.text for element in dash_duo.find_elements(".restore-before-after .panel-heading")] == [
        "As scanned", "Restored"]
    before = dash_duo.find_element(IMAGE).get_attribute("src")
    dash_duo.driver.execute_script("arguments[0].click();", switch)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: not dash_duo.find_elements(".restore-before-after"))
    assert "Coloured as scanned" in dash_duo.find_element(".restore-words").text
    assert not dash_duo.find_element(".home-restore-switch input").is_selected()
    assert dash_duo.find_element(IMAGE).get_attribute("src") != before  # coloured again, from the scan
    wait_for_images_loaded(dash_duo, IMAGE)
    assert dash_duo.get_logs() == []


def test_compare_all_models_opens_the_photo_on_compare(dash_duo, studio_app, three_models, photo_files):
    open_home_page(dash_duo, studio_app)
    [path] = photo_files((120, 160))
    upload(dash_duo, "home-upload", [path])
    dash_duo.wait_for_element(IMAGE, timeout=RESULT_TIMEOUT)
    dash_duo.find_element(".home-compare-all").click()
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: driver.current_url.endswith("/compare"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements(".studio-row.row-done")) == 1)
    row = dash_duo.find_element(".studio-row")
    assert path.name in row.text
    assert len(row.find_elements("css selector", "a.result-download")) == len(three_models)
    assert dash_duo.get_logs() == []
