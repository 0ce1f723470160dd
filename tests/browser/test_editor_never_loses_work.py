"""The touch-up editor never loses work and fits any screen, in a real browser, on a desktop (1440 px, mouse) and at a
phone's size (390 px, touch events through the Chrome DevTools Protocol): paint, then Apply, Undo and Apply again
at once: the final result carries exactly the strokes on screen, and nothing says the result is "no longer here";
at 390 px the whole photo is paintable (a stroke at its right edge lands on it) and a swipe outside drawing mode
scrolls the editor and paints nothing."""
from __future__ import annotations

import time

import numpy as np
from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, click_when_uncovered, upload, wait_for_images_loaded
from dashboard.components.touchup_editor import PALETTE, strokes_from_shapes
from tests.browser.test_compare_page import cell_src, image_at, open_compare_page, wait_until_idle
from tests.browser.test_touchup_editor import ab_of, chroma_at, draw_stroke

DENIM = dict(PALETTE)["Denim"]
PHOTO_SIZE = (240, 320)  # (height, width): big enough that a touch-up takes a moment
EDITOR = "#compare-touchup"
PHONE = {"width": 390, "height": 640, "deviceScaleFactor": 2, "mobile": True}


def figure_shapes(dash_duo) -> list[dict]:
    """The strokes the editor holds (shown or hidden), as Plotly shapes, read from the drawing itself."""
    return dash_duo.driver.execute_script(
        "const plot = document.querySelector(arguments[0] + '-canvas .js-plotly-plot');"
        "return plot && plot.layout ? (plot.layout.shapes || []) : null;", EDITOR) or []


def visible_strokes(dash_duo) -> int:
    return len(dash_duo.find_elements(f"{EDITOR}-canvas .shapelayer path"))


def canvas_box(dash_duo) -> dict:
    """The drawing area's box in the window (CSS pixels)."""
    return dash_duo.driver.execute_script(
        "const box = document.querySelector(arguments[0] + '-canvas .nsewdrag').getBoundingClientRect();"
        "return {x: box.x, y: box.y, width: box.width, height: box.height};", EDITOR)


def wait_until_settled(dash_duo, quiet: float = 1.5) -> str:
    """Wait until the editor re-colours nothing and its status line has stayed the same for `quiet` seconds."""
    deadline = time.monotonic() + RESULT_TIMEOUT
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = dash_duo.driver.execute_script(
            "const status = document.querySelector(arguments[0] + '-status');"
            "const busy = document.querySelector(arguments[0] + '-busy');"
            "return [status ? status.textContent : '', !!busy && !busy.hidden];", EDITOR)
        if state != last:
            last, since = state, time.monotonic()
        elif not state[1] and state[0] and time.monotonic() - since >= quiet:
            return state[0]
        time.sleep(0.1)
    raise AssertionError(f"the editor did not settle: {last}")


def wait_for(dash_duo, condition) -> None:
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: condition())


def open_editor_on_a_photo(dash_duo, studio_app, photo_files, phone: bool = False) -> str:
    """Upload a photo on Compare (at a phone's size, with touch, if `phone`), open the fake CNN's result in the
    editor, pick denim; the model's own URL."""
    open_compare_page(dash_duo, studio_app)
    if phone:
        use_phone(dash_duo)
        dash_duo.driver.refresh()
        dash_duo.wait_for_element("#compare-upload")
    upload(dash_duo, "compare-upload", photo_files(PHOTO_SIZE))
    wait_until_idle(dash_duo, 1)
    wait_for_images_loaded(dash_duo, "#compare-results img")
    model_src = cell_src(dash_duo, "cnn")
    click_when_uncovered(dash_duo, dash_duo.find_element(".cell-cnn .touchup-open"))
    dash_duo.wait_for_element(f"{EDITOR}-canvas .nsewdrag")
    wait_for(dash_duo, lambda: dash_duo.find_elements(f"{EDITOR}-canvas image"))
    click_when_uncovered(dash_duo, dash_duo.find_element(".touchup-swatch[title='Denim']"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: (dash_duo.find_element(f"{EDITOR}-colour").get_attribute("value") or "").lower()
        == DENIM.lower())
    return model_src


def wait_for_strokes(dash_duo, count: int) -> list[dict]:
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: len(figure_shapes(dash_duo)) == count)
    return figure_shapes(dash_duo)


def apply_undo_apply_at_once(dash_duo) -> None:
    """Press Apply, Undo and Apply one right after the other, as an impatient user does (no wait in between)."""
    dash_duo.driver.execute_script(
        "for (const name of ['apply', 'undo', 'apply']) {"
        "  document.querySelector(arguments[0] + '-' + name).click(); }", EDITOR)


def check_result_carries_the_strokes_on_screen(dash_duo, model_src: str) -> None:
    """After the burst: no error; one stroke on screen (the second was undone); the row's result is denim under the
    first stroke and keeps the model's colours under the second; opened again, the editor shows that one stroke."""
    status = wait_until_settled(dash_duo)
    assert "no longer here" not in status
    assert status == "Applied 1 stroke."
    on_screen = figure_shapes(dash_duo)
    assert len(on_screen) == 1
    # Applied, the stroke is hidden over the result; "Show strokes" shows it.
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: visible_strokes(dash_duo) == 0)
    click_when_uncovered(dash_duo, dash_duo.find_element(f"{EDITOR}-strokes"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: visible_strokes(dash_duo) == 1)
    click_when_uncovered(dash_duo, dash_duo.find_element(f"{EDITOR}-strokes"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: visible_strokes(dash_duo) == 0)
    wait_for(dash_duo, lambda: cell_src(dash_duo, "cnn") not in ("", model_src))
    wait_for_images_loaded(dash_duo, "#compare-results img")
    src = cell_src(dash_duo, "cnn")
    touched = image_at(f"{dash_duo.server_url}{src}" if src.startswith("/") else src)
    model = image_at(f"{dash_duo.server_url}{model_src}" if model_src.startswith("/") else model_src)
    height, width = PHOTO_SIZE
    first = (slice(int(0.3 * height) - 2, int(0.3 * height) + 3), slice(int(0.35 * width), int(0.65 * width)))
    second = (slice(int(0.8 * height) - 2, int(0.8 * height) + 3), slice(int(0.35 * width), int(0.65 * width)))
    denim = ab_of(DENIM)
    assert np.linalg.norm(chroma_at(touched, first) - denim) < 12
    assert np.linalg.norm(chroma_at(model, second) - denim) > 30
    assert np.linalg.norm(chroma_at(touched, second) - denim) > 25  # the undone stroke left no trace

    # The result keeps exactly that stroke: the editor opens on it again with it.
    dash_duo.driver.execute_script("document.querySelector('.touchup-modal .btn-close').click();")
    wait_for(dash_duo, lambda: not dash_duo.find_elements(".touchup-modal.show"))
    click_when_uncovered(dash_duo, dash_duo.find_element(".cell-cnn .touchup-open"))
    kept = wait_for_strokes(dash_duo, 1)
    assert [(s.rgb, len(s.points)) for s in strokes_from_shapes(kept, PHOTO_SIZE)] == \
        [(s.rgb, len(s.points)) for s in strokes_from_shapes(on_screen, PHOTO_SIZE)]


def test_desktop_apply_undo_apply_at_once_keeps_the_strokes_on_screen(dash_duo, studio_app, three_models,
                                                                    photo_files, artifacts_dir):
    model_src = open_editor_on_a_photo(dash_duo, studio_app, photo_files)
    box = canvas_box(dash_duo)
    for row in (0.3, 0.8):
        draw_stroke(dash_duo, (int(0.35 * box["width"]), int(row * box["height"])),
                    (int(0.65 * box["width"]), int(row * box["height"])), canvas=f"{EDITOR}-canvas")
    wait_for_strokes(dash_duo, 2)
    dash_duo.driver.save_screenshot(str(artifacts_dir / "touchup-editor-desktop.png"))
    apply_undo_apply_at_once(dash_duo)
    check_result_carries_the_strokes_on_screen(dash_duo, model_src)
    assert dash_duo.get_logs() == []


# --- Phone size, touch events ------------------------------------------------------------------------------------

def use_phone(dash_duo) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    dash_duo.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})


def touch_drag(dash_duo, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    """One finger from `start` to `end` (window CSS pixels), as touch events."""
    send = dash_duo.driver.execute_cdp_cmd
    send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for step in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * step / steps
        y = start[1] + (end[1] - start[1]) * step / steps
        send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        time.sleep(0.02)
    send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def set_draw_mode(dash_duo, on: bool) -> None:
    switch = dash_duo.find_element(f"{EDITOR}-draw")
    if switch.is_selected() != on:
        click_when_uncovered(dash_duo, switch)
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: dash_duo.driver.execute_script(
        "const canvas = document.querySelector(arguments[0] + '-canvas');"
        "return canvas.classList.contains('touchup-drawing') === arguments[1];", EDITOR, on))


def modal_scroll(dash_duo) -> float:
    return dash_duo.driver.execute_script("return document.querySelector('.touchup-modal').scrollTop;")


def test_phone_whole_photo_paintable_swipe_scrolls_and_burst_keeps_the_strokes(dash_duo, studio_app, three_models,
                                                                               photo_files, artifacts_dir):
    model_src = open_editor_on_a_photo(dash_duo, studio_app, photo_files, phone=True)

    # The drawing fits the screen: the whole photo within the window's width, the photo's shape kept.
    dash_duo.driver.execute_script("document.querySelector('.touchup-modal').scrollTop = 0;")
    window_width = dash_duo.driver.execute_script("return document.documentElement.clientWidth;")
    assert window_width == 390
    box = canvas_box(dash_duo)
    assert box["x"] >= 0 and box["x"] + box["width"] <= window_width
    assert abs(box["width"] / box["height"] - PHOTO_SIZE[1] / PHOTO_SIZE[0]) < 0.02
    # Apply can be reached without scrolling over the photo: it sits above it.
    apply_box = dash_duo.driver.execute_script(
        "return document.querySelector(arguments[0] + '-apply').getBoundingClientRect().bottom;", EDITOR)
    assert apply_box <= box["y"]
    # ... and stays in view while the editor scrolls.
    dash_duo.driver.execute_script("const modal = document.querySelector('.touchup-modal');"
                                   "modal.scrollTop = modal.scrollHeight;")
    assert dash_duo.driver.execute_script(
        "const box = document.querySelector(arguments[0] + '-apply').getBoundingClientRect();"
        "return box.top >= 0 && box.bottom <= window.innerHeight;", EDITOR)

    # Outside drawing mode a swipe over the photo scrolls the editor and paints nothing.
    set_draw_mode(dash_duo, False)
    dash_duo.driver.execute_script("document.querySelector('.touchup-modal').scrollTop = 0;")
    box = canvas_box(dash_duo)
    before = modal_scroll(dash_duo)
    touch_drag(dash_duo, (box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9),
               (box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.1))
    time.sleep(1.0)
    assert modal_scroll(dash_duo) > before + 20
    assert figure_shapes(dash_duo) == []

    # In drawing mode one finger paints: a stroke up to the photo's right edge lands on the photo.
    set_draw_mode(dash_duo, True)
    dash_duo.driver.execute_script("document.querySelector('.touchup-modal').scrollTop = 0;")
    box = canvas_box(dash_duo)
    y = box["y"] + box["height"] * 0.3
    touch_drag(dash_duo, (box["x"] + box["width"] * 0.35, y), (box["x"] + box["width"] * 0.99, y))
    shapes = wait_for_strokes(dash_duo, 1)
    xs = [x for stroke in strokes_from_shapes(shapes, PHOTO_SIZE) for x, _ in stroke.points]
    assert max(xs) > 0.97 * PHOTO_SIZE[1] and max(xs) <= PHOTO_SIZE[1]
    y = box["y"] + box["height"] * 0.8
    touch_drag(dash_duo, (box["x"] + box["width"] * 0.35, y), (box["x"] + box["width"] * 0.65, y))
    wait_for_strokes(dash_duo, 2)
    dash_duo.driver.execute_script("document.querySelector('.touchup-modal').scrollTop = 0;")
    dash_duo.driver.save_screenshot(str(artifacts_dir / "touchup-editor-phone.png"))

    # Apply, Undo and Apply at once, by taps.
    for name in ("apply", "undo", "apply"):
        element = dash_duo.find_element(f"{EDITOR}-{name}")
        rect = dash_duo.driver.execute_script(
            "const box = arguments[0].getBoundingClientRect(); return [box.x + box.width / 2, box.y + box.height / 2];",
            element)
        dash_duo.driver.execute_cdp_cmd("Input.dispatchTouchEvent",
                                        {"type": "touchStart", "touchPoints": [{"x": rect[0], "y": rect[1]}]})
        dash_duo.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    check_result_carries_the_strokes_on_screen(dash_duo, model_src)
    assert dash_duo.get_logs() == []
