"""Small steps the browser tests share: uploading through dcc.Upload and waiting for images to load."""
from __future__ import annotations

from pathlib import Path

from selenium.webdriver.support.ui import WebDriverWait

RESULT_TIMEOUT = 60


def upload(dash_duo, upload_id: str, paths: list[Path]) -> None:
    """Send files to the hidden <input type=file> inside a dcc.Upload (several paths: one multi-file upload); the
    site's assets/uploads.js takes them from there to POST /uploads, as it does a user's.
    The input is emptied first (without an event), as a browser's file dialog does: chromedriver would add the new
    files to those of an earlier upload to the same input."""
    file_input = dash_duo.wait_for_element(f"#{upload_id} input[type=file]")  # Dash draws it after the page
    dash_duo.driver.execute_script("arguments[0].value = '';", file_input)
    file_input.send_keys("\n".join(str(path) for path in paths))


def wait_for_count(dash_duo, selector: str, count: int, timeout: float = RESULT_TIMEOUT) -> list:
    """Wait until exactly `count` elements match `selector`; returns them."""
    WebDriverWait(dash_duo.driver, timeout).until(lambda driver: len(dash_duo.find_elements(selector)) == count)
    return dash_duo.find_elements(selector)


def wait_for_images_loaded(dash_duo, selector: str = "img", timeout: float = RESULT_TIMEOUT) -> None:
    """Wait until every image matching `selector` has loaded with a real size (a 404 would never load); those
    loaded lazily are asked for now, wherever they are on the page."""
    script = (
        "const images = [...document.querySelectorAll(arguments[0])];"
        "images.filter(image => image.loading === 'lazy').forEach(image => { image.loading = 'eager'; });"
        "return images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0);"
    )
    WebDriverWait(dash_duo.driver, timeout).until(lambda driver: driver.execute_script(script, selector))


def resource_urls(dash_duo) -> list[str]:
    """Every URL the page has loaded so far (documents, scripts, styles, images, callbacks)."""
    return dash_duo.driver.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map(entry => entry.name)];"
    )


def click_when_uncovered(dash_duo, element, timeout: float = RESULT_TIMEOUT) -> None:
    """Scroll `element` to the middle of the window and click it once nothing lies over it (the results' loading
    overlay fades out after a redraw; a click meanwhile lands on the overlay)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    WebDriverWait(dash_duo.driver, timeout).until(lambda driver: driver.execute_script(
        "const box = arguments[0].getBoundingClientRect();"
        "const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);"
        "return top !== null && arguments[0].contains(top);", element))
    element.click()


def top_in_view(dash_duo, selector: str) -> bool:
    """Whether the first element matching `selector` starts inside the window's upper half (seen, not below)."""
    return dash_duo.driver.execute_script(
        "const element = document.querySelector(arguments[0]);"
        "if (!element) { return false; }"
        "const box = element.getBoundingClientRect();"
        "return box.height > 0 && box.top >= -1 && box.top < window.innerHeight / 2;", selector)  # -1: sub-pixel
