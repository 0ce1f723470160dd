"""The touch-up editor on the Compare and Welsh pages in a real browser: open it on a result, pick a colour from the
palette, draw a stroke with the mouse, apply (the result's pixels under and near the stroke take its colour), undo
(the model's own result comes back)."""
from __future__ import annotations

import numpy as np
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, click_when_uncovered, upload, wait_for_count, wait_for_images_loaded
from colorizers.color import rgb_to_lab
from dashboard.components.touchup_editor import PALETTE, canvas_size, hex_to_rgb
from tests.browser.test_compare_page import attribute, cell_src, image_at, open_compare_page, wait_until_idle
from tests.browser.test_welsh_page import open_welsh_page

DENIM = dict(PALETTE)["Denim"]
PHOTO_SIZE = (120, 160)  # (height, width)


def chroma_at(image, box: tuple[slice, slice]) -> np.ndarray:
    """The median a/b over a box of an image (PIL)."""
    lab = rgb_to_lab(np.asarray(image.convert("RGB")))[box]
    return np.median(lab[..., 1:].reshape(-1, 2), axis=0)


def draw_stroke(dash_duo, start: tuple[int, int], end: tuple[int, int],
                canvas: str = "#compare-touchup-canvas") -> None:
    """Drag the mouse over the editor's drawing area from `start` to `end` (canvas pixels from its top left)."""
    drag_layer = dash_duo.find_element(f"{canvas} .nsewdrag")
    box = drag_layer.rect
    actions = ActionChains(dash_duo.driver)
    actions.move_to_element(drag_layer)  # its centre, then on to the start
    actions.move_by_offset(start[0] - box["width"] / 2, start[1] - box["height"] / 2)
    actions.click_and_hold()
    steps = 12
    for _ in range(steps):
        actions.move_by_offset((end[0] - start[0]) / steps, (end[1] - start[1]) / steps)
    actions.release()
    actions.perform()


def test_draw_a_stroke_apply_it_and_undo(dash_duo, studio_app, three_models, photo_files):
    open_compare_page(dash_duo, studio_app)
    upload(dash_duo, "compare-upload", photo_files(PHOTO_SIZE))
    wait_until_idle(dash_duo, 1)
    wait_for_images_loaded(dash_duo, "#compare-results img")
    model_src = cell_src(dash_duo, "cnn")
    model_image = image_at(f"{dash_duo.server_url}{model_src}" if model_src.startswith("/") else model_src)

    click_when_uncovered(dash_duo, dash_duo.find_element(".cell-cnn .touchup-open"))
    dash_duo.wait_for_element("#compare-touchup-canvas .nsewdrag")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_elements("#compare-touchup-canvas image"))
    click_when_uncovered(dash_duo, dash_duo.find_element(".touchup-swatch[title='Denim']"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: (dash_duo.find_element("#compare-touchup-colour").get_attribute("value") or "").lower()
        == DENIM.lower())

    # A horizontal stroke across the middle of the photo: canvas pixels -> photo pixels.
    width, height = canvas_size(PHOTO_SIZE)
    draw_stroke(dash_duo, (int(0.3 * width), int(0.5 * height)), (int(0.7 * width), int(0.5 * height)))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements("#compare-touchup-canvas .shapelayer path")) == 1)
    dash_duo.find_element("#compare-touchup-apply").click()
    dash_duo.wait_for_text_to_equal("#compare-touchup-status", "Applied 1 stroke.", timeout=RESULT_TIMEOUT)

    # The row shows the touched-up result (a new URL); under and near the stroke it is denim blue now.
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: cell_src(dash_duo, "cnn") not in ("", model_src))
    wait_for_images_loaded(dash_duo, "#compare-results img")
    touched_src = cell_src(dash_duo, "cnn")
    touched = image_at(f"{dash_duo.server_url}{touched_src}" if touched_src.startswith("/") else touched_src)
    denim = rgb_to_lab(np.array([[hex_to_rgb(DENIM)]], np.uint8))[0, 0, 1:]
    under = (slice(58, 63), slice(60, 100))
    near = (slice(52, 56), slice(60, 100))  # a few pixels above the stroke
    assert np.linalg.norm(chroma_at(model_image, under) - denim) > 30  # the fake model's warm colours
    assert np.linalg.norm(chroma_at(touched, under) - denim) < 12
    assert np.linalg.norm(chroma_at(touched, near) - denim) < 15

    # Undo takes the stroke away and brings the model's own result back, under its own URL.
    dash_duo.find_element("#compare-touchup-undo").click()
    dash_duo.wait_for_text_to_equal("#compare-touchup-status", "No strokes: the model's own colours.",
                                    timeout=RESULT_TIMEOUT)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: cell_src(dash_duo, "cnn") == model_src)
    assert not dash_duo.find_elements("#compare-touchup-canvas .shapelayer path")
    assert dash_duo.get_logs() == []


def ab_of(colour: str) -> np.ndarray:
    return rgb_to_lab(np.array([[hex_to_rgb(colour)]], np.uint8))[0, 0, 1:]


def welsh_download_href(dash_duo) -> str:
    return attribute(dash_duo, ".photo-card a[download]", "href") or ""


def welsh_image_at(dash_duo, href: str):
    return image_at(f"{dash_duo.server_url}{href}" if href.startswith("/") else href)


def test_welsh_result_draw_a_stroke_apply_it_and_undo(dash_duo, studio_app, photo_files):
    open_welsh_page(dash_duo, studio_app)
    upload(dash_duo, "welsh-upload", photo_files(PHOTO_SIZE))
    wait_for_count(dash_duo, ".photo-card", 1)
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    model_href = welsh_download_href(dash_duo)
    model_image = welsh_image_at(dash_duo, model_href)
    under = (slice(58, 63), slice(60, 100))
    near = (slice(52, 56), slice(60, 100))  # a few pixels above the stroke
    # The palette colour least like the reference's colours there, so that the touch-up shows whatever they are.
    name, colour = max(PALETTE, key=lambda entry: np.linalg.norm(chroma_at(model_image, under) - ab_of(entry[1])))

    click_when_uncovered(dash_duo, dash_duo.find_element(".photo-card .touchup-open"))
    dash_duo.wait_for_element("#welsh-touchup-canvas .nsewdrag")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_elements("#welsh-touchup-canvas image"))
    click_when_uncovered(dash_duo, dash_duo.find_element(f"#welsh-touchup-modal .touchup-swatch[title='{name}']"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: (dash_duo.find_element("#welsh-touchup-colour").get_attribute("value") or "").lower()
        == colour.lower())

    width, height = canvas_size(PHOTO_SIZE)
    draw_stroke(dash_duo, (int(0.3 * width), int(0.5 * height)), (int(0.7 * width), int(0.5 * height)),
                canvas="#welsh-touchup-canvas")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements("#welsh-touchup-canvas .shapelayer path")) == 1)
    dash_duo.find_element("#welsh-touchup-apply").click()
    dash_duo.wait_for_text_to_equal("#welsh-touchup-status", "Applied 1 stroke.", timeout=RESULT_TIMEOUT)

    # The card shows and downloads the touched-up result (a new URL); under and near the stroke it takes its colour.
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: welsh_download_href(dash_duo) not in ("", model_href))
    touched = welsh_image_at(dash_duo, welsh_download_href(dash_duo))
    assert touched.size == model_image.size == (PHOTO_SIZE[1], PHOTO_SIZE[0])
    assert np.linalg.norm(chroma_at(model_image, under) - ab_of(colour)) > 30
    assert np.linalg.norm(chroma_at(touched, under) - ab_of(colour)) < 12
    assert np.linalg.norm(chroma_at(touched, near) - ab_of(colour)) < 15
    thumbnail = attribute(dash_duo, ".photo-card img.result-image[alt$='result']", "src") or ""
    assert thumbnail.split("/results/")[1].split("/")[0] == welsh_download_href(dash_duo).split("/results/")[1][:-4]

    # Undo takes the stroke away and brings the model's own result back, under its own URL.
    dash_duo.find_element("#welsh-touchup-undo").click()
    dash_duo.wait_for_text_to_equal("#welsh-touchup-status", "No strokes: the model's own colours.",
                                    timeout=RESULT_TIMEOUT)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: welsh_download_href(dash_duo) == model_href)
    assert not dash_duo.find_elements("#welsh-touchup-canvas .shapelayer path")
    assert dash_duo.get_logs() == []
