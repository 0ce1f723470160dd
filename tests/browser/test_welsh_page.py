"""The Welsh page in a real browser: uploads, the reference picker, results, downloads and per-file errors."""
from __future__ import annotations

import io
import json

import requests
from selenium.webdriver.support.ui import WebDriverWait
from PIL import Image

from browser_steps import click_when_uncovered, upload, wait_for_count, wait_for_images_loaded
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
    found = library()
    if found is None:  # no library here: one gallery photo alike in lightness statistics
        dash_duo.wait_for_contains_text(".photo-card", "suggested for you")
        assert dash_duo.find_element(".reference-used").text in {photo.title for photo in gallery()}
    else:  # by content: the library photos averaged, as thumbnails; a click makes one the reference alone
        dash_duo.wait_for_contains_text(".photo-card", "Suggested for you")
        buttons = dash_duo.find_elements(".photo-card .suggested-reference")
        assert len(buttons) == 5
        picked = found.find(json.loads(buttons[1].get_attribute("id"))["name"])
        wait_for_images_loaded(dash_duo, "#welsh-results img")
        click_when_uncovered(dash_duo, buttons[1])
        dash_duo.wait_for_text_to_equal(".reference-used", picked.title, timeout=60)
        dash_duo.wait_for_contains_text(".photo-card", "(chosen)")
        assert dash_duo.find_element("#welsh-reference .reference-picker-label-checked img").get_attribute("alt") == picked.title
        assert not dash_duo.find_elements(".photo-card .suggested-reference")

    chosen = gallery()[-1]
    dash_duo.find_element(f"#welsh-reference label[for] img[alt='{chosen.title}']").click()
    dash_duo.wait_for_text_to_equal(".reference-used", chosen.title, timeout=60)
    dash_duo.wait_for_contains_text(".photo-card", "(chosen)")
    wait_for_images_loaded(dash_duo, "#welsh-results img")

    # The download is the full-resolution PNG.
    link = dash_duo.find_element(".photo-card a[download]")
    assert link.get_attribute("download") == "old-photo-1-colorized-welsh.png"
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
    wait_for_images_loaded(dash_duo, "#welsh-reference img[alt='Your reference photo']")
    upload(dash_duo, "welsh-upload", photo_files((90, 120)))
    wait_for_count(dash_duo, ".photo-card", 1)
    dash_duo.wait_for_text_to_equal(".reference-used", "your reference photo", timeout=60)
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

    from dashboard.model_slots import model_slots

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
