"""On a phone (390 px, touch screen emulated): drop zones say "tap to choose", not "drop here", and every button and
link drawn as one is a finger's tap target (at least 44 px each way), on a Compare row with its results too."""
from __future__ import annotations

from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, upload

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
TAP_TARGET_PX = 44
# Buttons and links drawn as buttons, as a finger meets them (hidden ones, e.g. in closed modals, are left out).
SMALL_TARGETS = """
return [...document.querySelectorAll('.btn, .nav-link, .suggested-reference')]
  .filter(element => element.offsetParent !== null)
  .map(element => [element.textContent.trim() || element.getAttribute('aria-label') || element.className,
                   Math.round(element.getBoundingClientRect().width), Math.round(element.getBoundingClientRect().height)])
  .filter(([, width, height]) => width < arguments[0] || height < arguments[0]);
"""


def use_phone(dash_duo) -> None:
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    dash_duo.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})


def visible_text(dash_duo, selector: str) -> str:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].filter(element => element.offsetParent !== null)"
        "  .map(element => element.innerText).join(' | ');", selector)


def test_on_a_phone_zones_say_tap_and_targets_fit_a_finger(dash_duo, studio_app, three_models, photo_files):
    dash_duo.start_server(studio_app)
    use_phone(dash_duo)
    for path in ("/", "/compare", "/welsh", "/video"):
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(".upload-zone")
        words = visible_text(dash_duo, ".upload-zone")
        assert "tap to choose" in words and "drop here" not in words, (path, words)
        assert dash_duo.driver.execute_script(SMALL_TARGETS, TAP_TARGET_PX) == [], path

    # A Compare row with every model's result: downloads, "Edit colours", the suggested references.
    dash_duo.wait_for_page(f"{dash_duo.server_url}/compare")
    upload(dash_duo, "compare-upload", photo_files((120, 160)))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_elements(".studio-row.row-done"))
    assert dash_duo.find_elements(".studio-row a.result-download")
    assert dash_duo.driver.execute_script(SMALL_TARGETS, TAP_TARGET_PX) == []
    assert dash_duo.get_logs() == []
