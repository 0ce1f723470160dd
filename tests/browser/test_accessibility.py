"""Accessibility in a real browser: axe-core (default rules, every impact) finds nothing on any page, empty and in
the states that matter (results, the before/after viewer, the touch-up editor, a clip); and the Compare page's tasks
are done with the keyboard alone (upload, the strength slider, the viewer and its slider, the editor's Apply and
Undo, a row's reference), with the status changes in live regions."""
from __future__ import annotations

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from axe import assert_no_axe_violations
from browser_steps import RESULT_TIMEOUT, upload, wait_for_count, wait_for_images_loaded
from tests.browser.test_compare_page import attribute, wait_until_idle
from dashboard.components.touchup_editor import canvas_size
from tests.browser.test_touchup_editor import draw_stroke
from tests.video_clips import make_clip

PAGES = [("/", "#home-upload"), ("/compare", "#compare-upload"), ("/welsh", "#welsh-upload"),
         ("/video", "#video-upload"), ("/legacy", ".legacy-card"), ("/models", "#contact-sheet")]
MAX_TABS = 120
PHOTO_SIZE = (120, 160)  # (height, width)


def open_page(dash_duo, path: str, ready: str) -> None:
    dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
    dash_duo.wait_for_element(ready)


def press(dash_duo, *keys: str) -> None:
    """Keys pressed as a user does, wherever the focus is."""
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def focused_matches(dash_duo, selector: str) -> bool:
    return dash_duo.driver.execute_script(
        "return document.activeElement !== null && document.activeElement.matches(arguments[0]);", selector)


def tab_to(dash_duo, selector: str, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until the focused element matches `selector`, as a keyboard user gets there."""
    for _ in range(MAX_TABS):
        if focused_matches(dash_duo, selector):
            return
        if backwards:
            ActionChains(dash_duo.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            press(dash_duo, Keys.TAB)
    raise AssertionError(f"Tab never reached {selector}; the focus is on "
                         + dash_duo.driver.execute_script("return document.activeElement.outerHTML.slice(0, 200);"))


MODAL_STATE = """
const modal = document.querySelector(arguments[0]);
const dialog = modal && modal.closest('.modal');
return dialog === null ? null : {shown: dialog.classList.contains('show'), opacity: getComputedStyle(dialog).opacity,
        backdrops: [...document.querySelectorAll('.modal-backdrop')].map(b => getComputedStyle(b).opacity),
        focus: document.activeElement && document.activeElement.outerHTML.slice(0, 120)};
"""


def wait_for_modal(dash_duo, modal: str) -> None:
    """Wait until the modal is shown and its fade-in is over (axe judges contrast on what is painted)."""
    def shown(driver) -> bool:
        state = driver.execute_script(MODAL_STATE, modal)
        return bool(state and state["shown"] and state["opacity"] == "1"
                    and all(opacity == "0.5" for opacity in state["backdrops"]))

    try:
        WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(shown)
    except TimeoutException:
        raise AssertionError(f"{modal} never opened: {dash_duo.driver.execute_script(MODAL_STATE, modal)}") from None


def wait_for_modal_closed(dash_duo, modal: str) -> None:
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: not dash_duo.find_elements(f"{modal}.show") and not dash_duo.find_elements(".modal-backdrop"))


def test_every_page_without_results_has_no_axe_violations(dash_duo, studio_app):
    dash_duo.start_server(studio_app)
    for path, ready in PAGES:
        open_page(dash_duo, path, ready)
        assert_no_axe_violations(dash_duo.driver, f"{path} (empty)")
    assert dash_duo.get_logs() == []


def test_home_welsh_and_video_with_results_have_no_axe_violations(dash_duo, studio_app, three_models, photo_files,
                                                                   tmp_path):
    dash_duo.start_server(studio_app)
    open_page(dash_duo, "/", "#home-upload")
    assert attribute(dash_duo, "#home-results", "aria-live") == "polite"  # a new result, or what went wrong
    upload(dash_duo, "home-upload", photo_files((120, 160), prefix="home"))
    dash_duo.wait_for_element(".first-photo img.first-photo-image", timeout=RESULT_TIMEOUT)
    wait_for_images_loaded(dash_duo, ".first-photo img")
    assert_no_axe_violations(dash_duo.driver, "/ with a result")

    open_page(dash_duo, "/welsh", "#welsh-upload")
    assert attribute(dash_duo, "#welsh-wait", "role") == "status"  # the place in line
    assert attribute(dash_duo, "#welsh-results", "aria-live") == "polite"
    upload(dash_duo, "welsh-upload", photo_files((120, 160), prefix="welsh"))
    wait_for_count(dash_duo, ".photo-card", 1)
    wait_for_images_loaded(dash_duo, "#welsh-results img")
    assert_no_axe_violations(dash_duo.driver, "/welsh with results")

    clip = tmp_path / "old-film.mp4"
    clip.write_bytes(make_clip(width=96, height=64, frames=12, fps=12))
    open_page(dash_duo, "/video", "#video-upload")
    upload(dash_duo, "video-upload", [clip])
    wait_for_images_loaded(dash_duo, "#video-first-frame, .video-shot-image")
    assert_no_axe_violations(dash_duo.driver, "/video with a clip")
    assert dash_duo.get_logs() == []


def test_compare_with_the_keyboard_alone_and_axe_in_every_state(dash_duo, studio_app, three_models, photo_files):
    driver = dash_duo.driver
    dash_duo.start_server(studio_app)
    open_page(dash_duo, "/compare", "#compare-upload")

    # The drop zone: Tab reaches its file input (named; the zone shows the focus), Enter and Space open the chooser.
    file_input = "#compare-upload input[type=file]"
    tab_to(dash_duo, file_input)
    assert attribute(dash_duo, file_input, "aria-label") == "Black-and-white photos: choose files"
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('#compare-upload .upload-zone')).outlineStyle;") == "solid"
    driver.execute_script(  # count the clicks that would open the file chooser, and open none
        "window.chooserOpened = 0; document.querySelector(arguments[0]).addEventListener('click', event => {"
        " window.chooserOpened += 1; event.preventDefault(); });", file_input)
    press(dash_duo, Keys.ENTER)
    press(dash_duo, Keys.SPACE)
    assert driver.execute_script("return window.chooserOpened;") == 2
    assert attribute(dash_duo, "#compare-upload-too-large", "role") == "alert"  # upload errors
    assert attribute(dash_duo, "#compare-queue", "aria-live") == "polite"  # queued, place in line, done, error

    upload(dash_duo, "compare-upload", photo_files(PHOTO_SIZE))
    wait_until_idle(dash_duo, 1)
    wait_for_images_loaded(dash_duo, "#compare-results img")

    # The strength slider: its thumb has the label's name, and the arrow keys change the shown strength.
    thumb = ".strength-slider [role=slider]"
    tab_to(dash_duo, thumb, backwards=True)
    label_id = attribute(dash_duo, thumb, "aria-labelledby")
    assert dash_duo.find_element(f"#{label_id}").text == "Colour strength"
    press(dash_duo, Keys.ARROW_LEFT)
    WebDriverWait(driver, RESULT_TIMEOUT).until(
        lambda _: (attribute(dash_duo, "#compare-zip", "href") or "").endswith("strength=95"))
    assert attribute(dash_duo, thumb, "aria-valuenow") == "95"
    wait_until_idle(dash_duo, 1)
    wait_for_images_loaded(dash_duo, "#compare-results img")
    assert_no_axe_violations(driver, "/compare with results")

    # The download and the before/after viewer are reached with Tab; Enter opens the viewer, its slider moves with
    # the arrow keys, Escape closes it.
    tab_to(dash_duo, ".cell-cnn .result-open")
    tab_to(dash_duo, ".cell-cnn .result-download")
    assert attribute(dash_duo, ".cell-cnn .result-download", "download")
    tab_to(dash_duo, ".cell-cnn .result-open", backwards=True)
    press(dash_duo, Keys.ENTER)
    wait_for_modal(dash_duo, "#compare-viewer")
    wait_for_images_loaded(dash_duo, "#compare-viewer img")
    assert_no_axe_violations(driver, "/compare with the before/after viewer open")
    tab_to(dash_duo, ".reveal-slider [role=slider]")
    press(dash_duo, Keys.ARROW_RIGHT)
    WebDriverWait(driver, RESULT_TIMEOUT).until(
        lambda _: "51%" in (attribute(dash_duo, "#compare-reveal-after", "style") or ""))
    press(dash_duo, Keys.ESCAPE)
    wait_for_modal_closed(dash_duo, "#compare-viewer")

    # The touch-up editor: Enter on "Edit colours" opens it; a stroke (drawn with the mouse: painting needs a
    # pointer), then Apply and Undo with the keyboard, each said in the editor's status line.
    tab_to(dash_duo, ".cell-cnn .touchup-open")
    press(dash_duo, Keys.ENTER)
    wait_for_modal(dash_duo, "#compare-touchup-modal")
    WebDriverWait(driver, RESULT_TIMEOUT).until(lambda _: dash_duo.find_elements("#compare-touchup-canvas image"))
    assert_no_axe_violations(driver, "/compare with the touch-up editor open")
    assert attribute(dash_duo, "#compare-touchup-status", "role") == "status"
    width, height = canvas_size(PHOTO_SIZE)
    draw_stroke(dash_duo, (int(0.3 * width), int(0.5 * height)), (int(0.7 * width), int(0.5 * height)))
    WebDriverWait(driver, RESULT_TIMEOUT).until(
        lambda _: len(dash_duo.find_elements("#compare-touchup-canvas .shapelayer path")) == 1)
    tab_to(dash_duo, "#compare-touchup-apply")
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#compare-touchup-status", "Applied 1 stroke.", timeout=RESULT_TIMEOUT)
    tab_to(dash_duo, "#compare-touchup-undo", backwards=True)
    press(dash_duo, Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#compare-touchup-status", "No strokes: the model's own colours.",
                                    timeout=RESULT_TIMEOUT)
    assert not dash_duo.find_elements("#compare-touchup-canvas .shapelayer path")
    press(dash_duo, Keys.ESCAPE)
    wait_for_modal_closed(dash_duo, "#compare-touchup-modal")

    # A row's reference: a labelled select, changed with the arrow keys.
    tab_to(dash_duo, ".row-reference")
    press(dash_duo, Keys.ARROW_DOWN)
    dash_duo.wait_for_contains_text(".cell-welsh", "(chosen)", timeout=RESULT_TIMEOUT)
    assert dash_duo.get_logs() == []
