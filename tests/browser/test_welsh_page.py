"""The Reference transfer page (path /welsh) in a real browser: uploads, the method (Match by content or Welsh 2002),
the reference picker, the user's own references, results, downloads and per-file errors. The models are the real
ones (the exemplar, Welsh, and the CNN the exemplar falls back on)."""
from __future__ import annotations

import io
import json

import requests
from selenium.webdriver.support.ui import WebDriverWait
from PIL import Image

import numpy as np
from browser_steps import (RESULT_TIMEOUT, click_when_uncovered, resource_urls, top_in_view, upload, wait_for_count,
                           wait_for_images_loaded)
from colorizers import exemplar
from colorizers.library import library
from colorizers.references import gallery


def open_welsh_page(dash_duo, studio_app) -> None:
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/welsh")
    dash_duo.wait_for_element("#welsh-upload")


def test_suggested_reference_then_a_gallery_reference(dash_duo, studio_app, photo_files):
    open_welsh_page(dash_duo, studio_app)
    [photo] = photo_files((120, 160))
    upload(dash_duo, "welsh-upload", [photo])

    wait_for_count(dash_duo, ".photo-card", 1)
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: top_in_view(dash_duo, "#welsh-results"))
    assert dash_duo.driver.execute_script("return window.scrollY;") > 0  # brought into view, below the choices
    found = library()
    if found is None:  # no library here: one gallery photo alike in lightness statistics
        dash_duo.wait_for_contains_text(".photo-card", "suggested for you")
        assert dash_duo.find_element(".reference-used").text in {photo.title for photo in gallery()}
    else:  # by content: the library photos matched, as thumbnails; a click makes one the reference alone
        dash_duo.wait_for_contains_text(".photo-card", "Suggested for you")
        buttons = dash_duo.find_elements(".photo-card .suggested-reference")
        assert len(buttons) == exemplar.SUGGESTED_COUNT
        picked = found.find(json.loads(buttons[1].get_attribute("id"))["name"])
        wait_for_images_loaded(dash_duo, "#welsh-results img")
        tiles_before = tile_places(dash_duo)
        click_when_uncovered(dash_duo, buttons[1])
        dash_duo.wait_for_text_to_equal(".reference-used", picked.title, timeout=60)
        assert tile_places(dash_duo)[:len(tiles_before)] == tiles_before  # the picked one is added; none moves
        dash_duo.wait_for_contains_text(".photo-card", "(chosen)")
        assert dash_duo.find_element("#welsh-reference .reference-picker-label-checked img").get_attribute("alt") == picked.title
        assert not dash_duo.find_elements(".photo-card .suggested-reference")

    # The gallery's first tiles only, then all of them on "Show all" (the reference chosen stays chosen).
    assert len(dash_duo.find_elements("#welsh-reference .reference-tile")) < len(gallery())
    checked = checked_reference(dash_duo)
    click_when_uncovered(dash_duo, dash_duo.find_element("#welsh-gallery-more"))
    wait_for_count(dash_duo, "#welsh-reference img.reference-tile-image", len(gallery()) + (found is not None))
    assert not dash_duo.find_element("#welsh-gallery-more").is_displayed()
    assert checked_reference(dash_duo) == checked
    chosen = gallery()[-1]
    click_when_uncovered(dash_duo, dash_duo.find_element(f"#welsh-reference label[for] img[alt='{chosen.title}']"))
    dash_duo.wait_for_text_to_equal(".reference-used", chosen.title, timeout=60)
    dash_duo.wait_for_contains_text(".photo-card", "(chosen)")
    wait_for_images_loaded(dash_duo, "#welsh-results img")

    # The download is the full-resolution PNG.
    link = dash_duo.find_element(".photo-card a[download]")
    assert link.get_attribute("download") == "old-photo-1-colorized-match-by-content.png"  # Match by content: the default
    response = requests.get(link.get_attribute("href"), timeout=30)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (160, 120)
    assert "attachment" in response.headers["Content-Disposition"]
    assert dash_duo.get_logs() == []


def test_gallery_reference_picked_before_upload(dash_duo, studio_app, photo_files):
    open_welsh_page(dash_duo, studio_app)
    chosen = gallery()[0]
    dash_duo.find_element(f"#welsh-reference img[alt='{chosen.title}']").click()
    upload(dash_duo, "welsh-upload", photo_files((96, 128)))
    wait_for_count(dash_duo, ".photo-card", 1)
    dash_duo.wait_for_text_to_equal(".reference-used", chosen.title, timeout=60)
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert len(dash_duo.find_elements("#welsh-results img.result-image")) == 2  # original and result
    assert dash_duo.get_logs() == []


def test_two_files_at_once_both_get_results(dash_duo, studio_app, photo_files):
    open_welsh_page(dash_duo, studio_app)
    upload(dash_duo, "welsh-upload", photo_files((100, 140), (140, 100)))
    cards = wait_for_count(dash_duo, ".photo-card", 2)
    assert [card.find_element("css selector", ".card-header").text for card in cards] == [
        "old-photo-1.png", "old-photo-2.png"]
    assert len(dash_duo.find_elements(".photo-card a[download]")) == 2
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert dash_duo.get_logs() == []


def test_files_go_to_the_upload_route_not_into_the_callback_and_too_large_ones_are_told(
    dash_duo, studio_app, photo_files
):
    """Issue 20: assets/uploads.js posts the files to /uploads and the callback gets tokens; a file over the limit
    is told about in the zone's status line before anything is sent."""
    open_welsh_page(dash_duo, studio_app)
    upload(dash_duo, "welsh-upload", photo_files((100, 140)))
    wait_for_count(dash_duo, ".photo-card", 1)
    assert any(url.endswith("/uploads") for url in resource_urls(dash_duo))
    assert dash_duo.find_element("#welsh-upload-too-large").text == ""  # "Uploading…" is gone
    dash_duo.driver.execute_script(
        "document.querySelector('meta[name=colorizer-max-file-bytes]').setAttribute('content', '10');")
    upload(dash_duo, "welsh-upload", photo_files((90, 120)))
    dash_duo.wait_for_contains_text("#welsh-upload-too-large", "larger than the limit")
    assert len(dash_duo.find_elements(".photo-card")) == 1
    assert dash_duo.get_logs() == []


def test_a_bad_file_shows_an_alert_and_the_good_one_still_gets_its_result(
    dash_duo, studio_app, photo_files, text_file_named_png
):
    open_welsh_page(dash_duo, studio_app)
    [photo] = photo_files((100, 140))
    upload(dash_duo, "welsh-upload", [text_file_named_png, photo])
    [alert] = wait_for_count(dash_duo, ".file-alert", 1)
    assert alert.text.startswith("notes.png:")
    assert "not an image" in alert.text
    assert "Traceback" not in dash_duo.find_element("#welsh-results").text
    wait_for_count(dash_duo, ".photo-card", 1)
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert dash_duo.get_logs() == []


def test_own_reference_upload(dash_duo, studio_app, photo_files, colour_reference_file):
    open_welsh_page(dash_duo, studio_app)
    upload(dash_duo, "welsh-reference-upload", [colour_reference_file])
    dash_duo.wait_for_contains_text("#welsh-reference-feedback", "my-reference.png", timeout=30)
    wait_for_images_loaded(dash_duo, "#welsh-reference img[alt='Your reference photos']")
    upload(dash_duo, "welsh-upload", photo_files((90, 120)))
    wait_for_count(dash_duo, ".photo-card", 1)
    dash_duo.wait_for_text_to_equal(".reference-used", "my-reference.png", timeout=60)

    # Another reference picked: what was said of the own references ("... coloured from all of them") goes.
    chosen = gallery()[0]
    click_when_uncovered(dash_duo, dash_duo.find_element(f"#welsh-reference label[for] img[alt='{chosen.title}']"))
    dash_duo.wait_for_text_to_equal(".reference-used", chosen.title, timeout=60)
    WebDriverWait(dash_duo.driver, 10).until(
        lambda driver: not dash_duo.find_element("#welsh-reference-feedback").text.strip())
    assert dash_duo.get_logs() == []


def test_a_colour_upload_gets_the_luminance_note(dash_duo, studio_app, colour_reference_file):
    open_welsh_page(dash_duo, studio_app)
    upload(dash_duo, "welsh-upload", [colour_reference_file])
    wait_for_count(dash_duo, ".photo-card", 1)
    dash_duo.wait_for_contains_text(".colour-note", "re-coloured from its luminance")
    assert dash_duo.get_logs() == []


def test_a_photo_waiting_for_the_server_shows_its_place_in_line(dash_duo, studio_app, photo_files):
    """Every model slot is taken by other people's photos: the page says this photo is next, then colours it."""
    import threading

    from dashboard.server.model_slots import model_slots

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
        open_welsh_page(dash_duo, studio_app)
        [photo] = photo_files((120, 160))
        upload(dash_duo, "welsh-upload", [photo])
        dash_duo.wait_for_text_to_equal("#welsh-wait", "The server is busy: your photo is next.", timeout=30)
        assert dash_duo.find_element("#welsh-wait").is_displayed()
    finally:
        release.set()
        for other in others:
            other.join()
    wait_for_count(dash_duo, ".photo-card", 1)
    dash_duo.wait_for_element("#welsh-results img.result-image")
    WebDriverWait(dash_duo.driver, 30).until(lambda _: not dash_duo.find_element("#welsh-wait").is_displayed())
    assert dash_duo.get_logs() == []


# --- Several own references and the two methods -------------------------------------------------------------------

def colour_file(tmp_path, name: str, top: tuple[int, int, int], bottom: tuple[int, int, int]):
    """A colour photo (a vertical ramp from `top` to `bottom`) saved as `name`."""
    rows = np.linspace(0.0, 1.0, 90)[:, None, None]
    rgb = (np.array(top) * (1 - rows) + np.array(bottom) * rows) * np.ones((90, 120, 1))
    path = tmp_path / name
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def choose_method(dash_duo, label: str) -> None:
    """Click the method's button (its radio input is hidden behind the label)."""
    [button] = [element for element in dash_duo.find_elements("#welsh-method label") if element.text == label]
    click_when_uncovered(dash_duo, button)


def checked_method(dash_duo) -> str:
    return dash_duo.find_element("#welsh-method label.active").text


def checked_reference(dash_duo) -> str:
    """The caption of the reference tile chosen."""
    return dash_duo.driver.execute_script(  # the tile's caption: its text after the picture
        "return document.querySelector('#welsh-reference .reference-picker-label-checked .reference-tile')"
        "  .lastChild.textContent;")


def tile_places(dash_duo) -> list:
    """Each reference tile's caption and place in the picker (relative to the picker, whatever the scroll)."""
    return dash_duo.driver.execute_script(
        "const picker = document.querySelector('#welsh-reference').getBoundingClientRect();"
        "return [...document.querySelectorAll('#welsh-reference .reference-tile')].map(tile => {"
        "  const box = tile.getBoundingClientRect();"
        "  return [tile.textContent, Math.round(box.left - picker.left), Math.round(box.top - picker.top)]; });")


def download_name(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const link = document.querySelector('.photo-card a[download]'); return link ? link.download : '';")


def test_two_own_references_colour_by_content_then_welsh_and_back(
    dash_duo, studio_app, photo_files, colour_reference_file, tmp_path, artifacts_dir
):
    open_welsh_page(dash_duo, studio_app)
    assert dash_duo.find_element("h1").text == "Reference transfer"
    assert "Reference transfer" in [link.text for link in dash_duo.find_elements(".site-navbar .nav-link")]
    assert checked_method(dash_duo) == "Match by content"  # the default

    second = colour_file(tmp_path, "my-second-reference.png", (30, 160, 60), (250, 240, 200))
    upload(dash_duo, "welsh-reference-upload", [colour_reference_file, second])
    wait_for_count(dash_duo, "#welsh-own-references-list .own-reference", 2, timeout=30)
    wait_for_images_loaded(dash_duo, "#welsh-own-references-list img, #welsh-reference img")
    dash_duo.wait_for_contains_text("#welsh-reference-feedback", "my-second-reference.png", timeout=30)
    assert checked_reference(dash_duo) == "My own photos (2)"

    upload(dash_duo, "welsh-upload", photo_files((120, 160)))
    wait_for_count(dash_duo, ".photo-card", 1)
    both = "my-reference.png, my-second-reference.png"
    dash_duo.wait_for_text_to_equal(".result-method", "Match by content", timeout=RESULT_TIMEOUT)
    dash_duo.wait_for_text_to_equal(".references-used", both, timeout=RESULT_TIMEOUT)
    assert download_name(dash_duo) == "old-photo-1-colorized-match-by-content.png"
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    by_content = dash_duo.find_element(".photo-card a[download]").get_attribute("href")
    dash_duo.driver.set_window_size(1440, 1800)
    dash_duo.driver.save_screenshot(str(artifacts_dir / "reference-transfer-own-references-1440.png"))

    # The other method colours the same photo from the same references; the card says which method made it.
    choose_method(dash_duo, "Welsh 2002")
    dash_duo.wait_for_text_to_equal(".result-method", "Welsh 2002", timeout=RESULT_TIMEOUT)
    assert checked_method(dash_duo) == "Welsh 2002"
    dash_duo.wait_for_text_to_equal(".references-used", both, timeout=RESULT_TIMEOUT)
    assert download_name(dash_duo) == "old-photo-1-colorized-welsh-transfer.png"
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    response = requests.get(dash_duo.find_element(".photo-card a[download]").get_attribute("href"), timeout=30)
    assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (160, 120)

    choose_method(dash_duo, "Match by content")
    dash_duo.wait_for_text_to_equal(".result-method", "Match by content", timeout=RESULT_TIMEOUT)
    dash_duo.wait_for_text_to_equal(".references-used", both, timeout=RESULT_TIMEOUT)
    assert download_name(dash_duo) == "old-photo-1-colorized-match-by-content.png"
    assert dash_duo.find_element(".photo-card a[download]").get_attribute("href") != by_content  # coloured again
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert dash_duo.get_logs() == []


def test_own_references_up_to_five_each_removable(dash_duo, studio_app, photo_files, colour_reference_file, tmp_path):
    open_welsh_page(dash_duo, studio_app)
    colours = [((200, 40, 40), (250, 220, 120)), ((30, 160, 60), (250, 240, 200)), ((90, 40, 160), (240, 200, 230)),
               ((20, 120, 200), (200, 240, 250)), ((160, 100, 30), (250, 250, 210))]
    files = [colour_file(tmp_path, f"ref-{index}.png", *pair) for index, pair in enumerate(colours, 1)]
    [gray] = photo_files((60, 80), prefix="gray-reference")
    upload(dash_duo, "welsh-reference-upload", [*files[:4], gray])
    wait_for_count(dash_duo, "#welsh-own-references-list .own-reference", 4, timeout=30)
    [alert] = wait_for_count(dash_duo, "#welsh-reference-feedback .file-alert", 1)
    assert alert.text.startswith("gray-reference-1.png:") and "no colour to copy" in alert.text

    # A sixth is refused with the reason; the five kept stay.
    upload(dash_duo, "welsh-reference-upload", [files[4], colour_reference_file])
    wait_for_count(dash_duo, "#welsh-own-references-list .own-reference", 5, timeout=30)
    [alert] = wait_for_count(dash_duo, "#welsh-reference-feedback .file-alert", 1)
    assert alert.text.startswith("ref-5.png:") and "at most 5 reference photos" in alert.text
    dash_duo.wait_for_contains_text(".own-references-note", "remove one to add another")

    upload(dash_duo, "welsh-upload", photo_files((90, 120)))
    dash_duo.wait_for_text_to_equal(".references-used", "ref-1.png, ref-2.png, ref-3.png, ref-4.png, "
                                    "my-reference.png", timeout=RESULT_TIMEOUT)  # in the order they were added

    # Removing all but one: the photo is coloured again from the one left.
    for name in ("my-reference.png", "ref-1.png", "ref-2.png", "ref-3.png"):
        count = len(dash_duo.find_elements("#welsh-own-references-list .own-reference"))
        click_when_uncovered(dash_duo, dash_duo.find_element(f".own-reference-remove[title='Remove {name}']"))
        wait_for_count(dash_duo, "#welsh-own-references-list .own-reference", count - 1, timeout=30)
    dash_duo.wait_for_text_to_equal(".reference-used", "ref-4.png", timeout=RESULT_TIMEOUT)
    assert checked_reference(dash_duo) == "My own photo"

    # The last one removed: "Suggest for me" colours it instead.
    click_when_uncovered(dash_duo, dash_duo.find_element(".own-reference-remove[title='Remove ref-4.png']"))
    wait_for_count(dash_duo, "#welsh-own-references-list .own-reference", 0, timeout=30)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: "suggested for you" in dash_duo.find_element(".photo-card").text.lower())
    assert checked_reference(dash_duo) == "Suggest for me"
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert dash_duo.get_logs() == []
