"""The Compare page in a real browser, with three models (Welsh and two fakes): the queue, per-row errors, the
strength control, the before/after viewer, a row's reference, and the downloads (fetched with requests)."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import requests
from PIL import Image
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_steps import RESULT_TIMEOUT, top_in_view, upload, wait_for_images_loaded
from colorizers.references import gallery
from tests.browser.fake_models import call_count

MODEL_TITLES = ["Welsh transfer", "Fusion CNN", "pix2pix cGAN"]
SCREEN_NAMES = ("welsh-transfer", "fusion-cnn", "pix2pix-cgan")  # in download names


def open_compare_page(dash_duo, studio_app) -> None:
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/compare")
    dash_duo.wait_for_element("#compare-upload")


def wait_until_idle(dash_duo, rows: int) -> list:
    """Wait until `rows` rows are shown and none is queued or working; returns the rows."""
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements(".studio-row")) == rows
        and not dash_duo.find_elements(".studio-row.row-queued, .studio-row.row-working")
    )
    return dash_duo.find_elements(".studio-row")


def fetch(url: str) -> requests.Response:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, url
    return response


def image_at(url: str) -> Image.Image:
    return Image.open(io.BytesIO(fetch(url).content))


def cell_image(dash_duo, model: str):
    return dash_duo.find_element(f".cell-{model} img.result-image")


def attribute(dash_duo, selector: str, name: str) -> str | None:
    """An element's attribute read in one step (rows are redrawn while the page polls, so a found element can go
    stale before it is read)."""
    return dash_duo.driver.execute_script(
        "const element = document.querySelector(arguments[0]);"
        "return element ? element.getAttribute(arguments[1]) : null;", selector, name)


def cell_src(dash_duo, model: str) -> str:
    return attribute(dash_duo, f".cell-{model} img.result-image", "src") or ""


def test_many_files_with_a_bad_one_then_single_and_zip_downloads(
    dash_duo, studio_app, three_models, photo_files, text_file_named_png
):
    open_compare_page(dash_duo, studio_app)
    first, second = photo_files((120, 160), (90, 60))
    upload(dash_duo, "compare-upload", [first, text_file_named_png, second])

    rows = wait_until_idle(dash_duo, 3)
    queue = dash_duo.find_elements(".queue-item")
    # In name order: the browser hands the files over in the order it finished reading them.
    assert [item.find_element("css selector", ".queue-name").text for item in queue] == [
        "notes.png", "old-photo-1.png", "old-photo-2.png"]
    assert [item.find_element("css selector", ".status-badge").text.lower() for item in queue] == [
        "error", "done", "done"]
    assert "3/3 models" in queue[1].text

    # Rows newest first (the queue keeps its order of work). The bad file has its own error in its row; the others
    # have every model's result, figures and downloads.
    assert [row.find_element("css selector", ".card-header span").text for row in rows] == [
        "old-photo-2.png", "old-photo-1.png", "notes.png"]
    error = rows[2].find_element("css selector", ".row-error")
    assert error.text.startswith("notes.png:") and "not an image" in error.text
    assert "Traceback" not in dash_duo.find_element("#compare-results").text
    for row in (rows[0], rows[1]):
        titles = [title.text for title in row.find_elements("css selector", ".panel-title")]
        assert titles == ["Original", *MODEL_TITLES]
        assert len(row.find_elements("css selector", ".result-colourfulness")) == 3
        assert len(row.find_elements("css selector", ".result-seconds")) == 3
    wait_for_images_loaded(dash_duo, "#compare-results img")

    # One download: full resolution PNG at the input's size.
    links = rows[1].find_elements("css selector", "a.result-download")
    assert [link.get_attribute("download") for link in links] == [
        f"old-photo-1-colorized-{model}.png" for model in SCREEN_NAMES]
    for link in links:
        image = image_at(link.get_attribute("href"))
        assert (image.format, image.size) == ("PNG", (160, 120))

    # Everything at once: the zip of the session, which needs the session's cookie; a result URL alone (fetched
    # above without any cookie) opens that image only.
    zip_url = dash_duo.find_element("#compare-zip").get_attribute("href")
    assert "/all.zip" in zip_url
    assert requests.get(zip_url, timeout=60).status_code == 404
    cookie = dash_duo.driver.get_cookie("colorizer_session")
    assert cookie["httpOnly"] and cookie["value"].split(".")[0] not in dash_duo.driver.page_source
    response = requests.get(zip_url, cookies={"colorizer_session": cookie["value"]}, timeout=60)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    sizes = {name: Image.open(io.BytesIO(archive.read(name))).size for name in archive.namelist()}
    assert len(sizes) == 6
    assert {sizes[f"old-photo-1-colorized-{model}.png"] for model in SCREEN_NAMES} == {(160, 120)}
    assert {sizes[f"old-photo-2-colorized-{model}.png"] for model in SCREEN_NAMES} == {(60, 90)}
    assert dash_duo.get_logs() == []


def test_on_a_phone_a_new_row_comes_first_and_into_view(dash_duo, studio_app, three_models, photo_files):
    dash_duo.driver.set_window_size(390, 844)
    open_compare_page(dash_duo, studio_app)
    first, second = photo_files((120, 160), (90, 60))
    upload(dash_duo, "compare-upload", [first])
    wait_until_idle(dash_duo, 1)
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: top_in_view(dash_duo, ".studio-row"))
    dash_duo.driver.execute_script("window.scrollTo(0, 0);")  # the user goes back up to add another

    upload(dash_duo, "compare-upload", [second])
    rows = wait_until_idle(dash_duo, 2)
    assert [row.find_element("css selector", ".card-header span").text for row in rows] == [second.name, first.name]
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: top_in_view(dash_duo, ".studio-row"))
    assert dash_duo.driver.execute_script("return window.scrollY;") > 0  # it was brought into view
    assert dash_duo.get_logs() == []


def test_strength_changes_the_shown_results_without_running_a_model_and_the_viewer_reveals(
    dash_duo, studio_app, three_models, photo_files
):
    open_compare_page(dash_duo, studio_app)
    upload(dash_duo, "compare-upload", photo_files((120, 160)))
    wait_until_idle(dash_duo, 1)
    wait_for_images_loaded(dash_duo, "#compare-results img")
    calls = {model: call_count(model) for model in ("cnn", "cgan")}
    before_src = cell_src(dash_duo, "cnn")
    assert before_src.endswith("/s100.jpg")
    before_colourfulness = float(dash_duo.find_element(".cell-cnn .result-colourfulness").text.split()[-1])
    assert before_colourfulness > 5

    # Strength 0 (the slider's Home key): every shown result turns gray; no model runs again.
    thumb = dash_duo.find_element("#compare-strength [role=slider]")
    thumb.send_keys(Keys.HOME)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda driver: cell_src(dash_duo, "cnn").endswith("/s0.jpg"))
    wait_for_images_loaded(dash_duo, "#compare-results img")
    gray = np.asarray(image_at(dash_duo.server_url + cell_src(dash_duo, "cnn")).convert("RGB")).astype(int)
    assert np.abs(gray[..., 0] - gray[..., 2]).max() <= 3
    assert float(dash_duo.find_element(".cell-cnn .result-colourfulness").text.split()[-1]) < 1.0
    assert attribute(dash_duo, ".cell-cnn a.result-download", "href").endswith("/s0.png")
    assert attribute(dash_duo, "#compare-zip", "href").endswith("strength=0")
    assert {model: call_count(model) for model in ("cnn", "cgan")} == calls

    # Back up a little with the arrow key: colour again, still no model run.
    thumb.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda driver: cell_src(dash_duo, "cnn").endswith("/s5.jpg"))
    assert {model: call_count(model) for model in ("cnn", "cgan")} == calls

    # A strength typed in the slider's number box is taken on Enter, the box keeping the focus.
    box = dash_duo.find_element("#compare-strength input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("60", Keys.ENTER)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda driver: cell_src(dash_duo, "cnn").endswith("/s60.jpg"))
    assert dash_duo.driver.switch_to.active_element == box
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("5", Keys.ENTER)
    WebDriverWait(dash_duo.driver, 30).until(
        lambda driver: cell_src(dash_duo, "cnn").endswith("/s5.jpg"))
    assert {model: call_count(model) for model in ("cnn", "cgan")} == calls

    # The before/after viewer: opens on a click, and the reveal follows its slider.
    cell_image(dash_duo, "cgan").click()
    dash_duo.wait_for_element("#compare-viewer .reveal")
    assert "/s5.jpg" in attribute(dash_duo, "#compare-reveal-after", "src")
    assert "inset(0px 0px 0px 50%)" in attribute(dash_duo, "#compare-reveal-after", "style")
    wait_for_images_loaded(dash_duo, "#compare-viewer img")
    reveal_thumb = dash_duo.find_element("#compare-reveal [role=slider]")
    for _ in range(10):
        reveal_thumb.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(dash_duo.driver, 10).until(
        lambda driver: "inset(0px 0px 0px 60%)" in attribute(dash_duo, "#compare-reveal-after", "style"))
    assert "left: 60%" in attribute(dash_duo, "#compare-reveal-handle", "style")
    assert dash_duo.get_logs() == []


def test_changing_a_rows_reference_recolours_its_welsh_result_only(
    dash_duo, studio_app, three_models, photo_files, colour_reference_file
):
    open_compare_page(dash_duo, studio_app)
    upload(dash_duo, "compare-upload", photo_files((96, 128)))
    wait_until_idle(dash_duo, 1)
    dash_duo.wait_for_contains_text(".cell-welsh", "Suggested for you")
    suggested = {image.get_attribute("alt") for image in dash_duo.find_elements(".cell-welsh .suggested-reference img")}
    welsh_src = cell_src(dash_duo, "welsh")
    cnn_src = cell_src(dash_duo, "cnn")
    calls = call_count("cnn")

    chosen = next(photo for photo in reversed(gallery()) if photo.title not in suggested)
    Select(dash_duo.find_element(".row-reference")).select_by_value(chosen.name)
    dash_duo.wait_for_text_to_equal(".cell-welsh .reference-used", chosen.title, timeout=RESULT_TIMEOUT)
    dash_duo.wait_for_contains_text(".cell-welsh", "(chosen)")
    wait_until_idle(dash_duo, 1)
    assert cell_src(dash_duo, "welsh") != welsh_src
    assert cell_src(dash_duo, "cnn") == cnn_src
    assert call_count("cnn") == calls
    assert Select(dash_duo.find_element(".row-reference")).first_selected_option.get_attribute("value") == chosen.name
    wait_for_images_loaded(dash_duo, "#compare-results img")

    # The user's own colour photo as this row's reference.
    dash_duo.find_element(".reference-controls input[type=file]").send_keys(str(colour_reference_file))
    dash_duo.wait_for_text_to_equal(".cell-welsh .reference-used", "your reference photo", timeout=RESULT_TIMEOUT)
    wait_until_idle(dash_duo, 1)
    assert Select(dash_duo.find_element(".row-reference")).first_selected_option.get_attribute("value") == "uploaded"
    assert call_count("cnn") == calls
    assert dash_duo.get_logs() == []


def test_suggest_for_me_shows_its_references_and_one_click_uses_that_one_alone(
    dash_duo, studio_app, three_models, photo_files
):
    from colorizers import registry
    from colorizers.color import rgb_to_lightness
    from colorizers.library import library

    if library() is None:
        pytest.skip("no reference library built here")
    open_compare_page(dash_duo, studio_app)
    [photo] = photo_files((120, 160))
    upload(dash_duo, "compare-upload", [photo])
    wait_until_idle(dash_duo, 1)
    buttons = dash_duo.find_elements(".cell-welsh .suggested-reference")
    assert len(buttons) == 5 and "averaged from 5 photos" in dash_duo.find_element(".cell-welsh .suggested-block").text
    wait_for_images_loaded(dash_duo, ".cell-welsh .suggested-reference img")
    before = cell_src(dash_duo, "welsh")

    picked = library().find(json.loads(buttons[2].get_attribute("id"))["name"])
    buttons[2].click()
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: cell_src(dash_duo, "welsh") not in ("", before)
        and dash_duo.driver.execute_script("return document.querySelector('.row-reference').value") == picked.name)
    wait_until_idle(dash_duo, 1)
    assert dash_duo.find_element(".cell-welsh .reference-used").text == picked.title
    assert not dash_duo.find_elements(".cell-welsh .suggested-reference")  # one reference now: nothing averaged

    # The result is exactly the Welsh transfer from that one library photo.
    result = np.asarray(image_at(dash_duo.find_element(".cell-welsh a.result-download").get_attribute("href")).convert("RGB"))
    gray = np.asarray(Image.open(photo).convert("RGB"))
    np.testing.assert_array_equal(result, registry.colorize(rgb_to_lightness(gray), "welsh", reference=picked.name).rgb)
    assert dash_duo.get_logs() == []


def test_the_exemplar_is_a_column_and_the_rows_reference_reaches_it(dash_duo, studio_app, four_models, photo_files):
    """Two reference models in a row share its one reference choice: a gallery photo colours both again."""
    open_compare_page(dash_duo, studio_app)
    upload(dash_duo, "compare-upload", photo_files((96, 128)))
    [row] = wait_until_idle(dash_duo, 1)
    titles = [title.text for title in row.find_elements("css selector", ".panel-title")]
    assert titles == ["Original", "Welsh transfer", "Match by content", "Fusion CNN", "pix2pix cGAN"]
    assert len(dash_duo.find_elements(".row-reference")) == 1
    assert "Welsh transfer and Match by content" in dash_duo.find_element(".reference-controls label").text
    before = {model: cell_src(dash_duo, model) for model in ("welsh", "exemplar", "cnn")}

    chosen = gallery()[-1]
    Select(dash_duo.find_element(".row-reference")).select_by_value(chosen.name)
    for model in ("welsh", "exemplar"):
        dash_duo.wait_for_text_to_equal(f".cell-{model} .reference-used", chosen.title, timeout=RESULT_TIMEOUT)
    wait_until_idle(dash_duo, 1)
    assert cell_src(dash_duo, "welsh") != before["welsh"] and cell_src(dash_duo, "exemplar") != before["exemplar"]
    assert cell_src(dash_duo, "cnn") == before["cnn"]
    wait_for_images_loaded(dash_duo, "#compare-results img")
    assert dash_duo.get_logs() == []
