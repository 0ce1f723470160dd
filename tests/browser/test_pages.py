"""Every page in a real browser: the navbar, no request leaving the server, and screenshots of every page at two
widths (saved under test-artifacts/)."""
from __future__ import annotations

from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, resource_urls, upload, wait_for_count, wait_for_images_loaded
from dashboard.guards.session import COOKIE_NAME

PHONE_WIDTH, DESKTOP_WIDTH = 390, 1440


def test_home_page_renders_with_its_example_and_links(dash_duo, studio_app):
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_contains_text("h1", "colour")
    wait_for_images_loaded(dash_duo, ".showcase img")
    dash_duo.wait_for_element(".upload-zone")  # drawn by Dash, between the introduction and the outro
    nav_links = [link.get_attribute("href") for link in dash_duo.find_elements(".site-navbar .nav-link")]
    assert [link.removeprefix(dash_duo.server_url) for link in nav_links] == [
        "/compare", "/legacy", "/welsh", "/video", "/models", "/"]
    brand = dash_duo.find_element(".site-navbar .navbar-brand").get_attribute("href")
    assert brand.removeprefix(dash_duo.server_url) == "/compare"  # the studio's main page
    assert dash_duo.find_elements(".models-list li")
    assert dash_duo.get_logs() == []


# The layout shifts recorded since the page began to load (PerformanceObserver's buffer), as a list of
# [value, names of the elements that moved].
LAYOUT_SHIFTS = """
const done = arguments[arguments.length - 1];
new PerformanceObserver((list, observer) => {
    observer.disconnect();
    done(list.getEntries().filter(entry => !entry.hadRecentInput).map(entry => [
        entry.value, entry.sources.map(source => source.node ? source.node.className || source.node.id : "")]));
}).observe({type: "layout-shift", buffered: true});
setTimeout(() => done([]), 1000);  // none recorded: the observer is never called
"""


def test_home_page_outro_stays_put_while_dash_renders(dash_duo, studio_app):
    """The ways to the other pages are written on the server below Dash's part: the room kept for Dash's first
    render (assets/home.css) is exactly what it takes, at both widths, so they do not move (no layout shift)."""
    dash_duo.start_server(studio_app)
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        dash_duo.driver.set_window_size(width, 900)
        dash_duo.wait_for_page(f"{dash_duo.server_url}/")
        dash_duo.wait_for_element(".upload-zone")
        dash_duo.driver.execute_script("return new Promise(resolve => setTimeout(resolve, 500));")
        shifts = dash_duo.driver.execute_async_script(LAYOUT_SHIFTS)
        moved = [names for value, names in shifts if any("page-outro" in name or "card" in name for name in names)]
        assert moved == [], width
        assert sum(value for value, _ in shifts) < 0.005, (width, shifts)
        kept, drawn = dash_duo.driver.execute_script(
            "const entry = document.getElementById('react-entry-point');"
            "const kept = entry.getBoundingClientRect().height; entry.style.minHeight = '0';"
            "return [kept, entry.getBoundingClientRect().height];")
        assert abs(kept - drawn) <= 1, (width, kept, drawn)
        cards = [link.get_attribute("href").removeprefix(dash_duo.server_url)
                 for link in dash_duo.find_elements("main .page-outro .card a.btn")]
        assert cards == ["/compare", "/legacy", "/welsh", "/video", "/models"], cards
    assert dash_duo.get_logs() == []


def test_no_request_leaves_the_server(dash_duo, studio_app):
    """Bootstrap and everything else is served locally, so the site works offline."""
    dash_duo.start_server(studio_app)
    session_ids = set()
    for path in ("/", "/welsh", "/compare", "/legacy", "/video", "/models"):
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(".site-navbar")
        session_ids.add((dash_duo.driver.get_cookie(COOKIE_NAME) or {}).get("value"))
        assert COOKIE_NAME not in dash_duo.driver.execute_script("return document.cookie;")  # HttpOnly
        if path == "/welsh":
            wait_for_images_loaded(dash_duo, "#welsh-reference img")
        if path == "/legacy":
            wait_for_images_loaded(dash_duo, ".legacy-card img")
        outside = [url for url in resource_urls(dash_duo) if not url.startswith(dash_duo.server_url)]
        assert outside == [], path
    styles = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('link[rel=stylesheet]')].map(link => link.href);")
    assert any("/assets/vendor/bootstrap.min.css" in url for url in styles)
    # The browser keeps one session across full page loads, so its results stay reachable.
    assert len(session_ids) == 1 and None not in session_ids
    assert dash_duo.get_logs() == []


def test_a_first_visit_asks_no_callback_of_the_server(dash_duo, studio_app):
    """The pages' layouts come drawn as they are (Compare's rows, its idle poll off): nothing is asked at load,
    which keeps a phone's main thread free as the page starts."""
    dash_duo.start_server(studio_app)
    for path in ("/", "/compare", "/welsh"):
        dash_duo.wait_for_page(f"{dash_duo.server_url}{path}")
        dash_duo.wait_for_element(".upload-zone")
        dash_duo.driver.execute_script("return new Promise(resolve => setTimeout(resolve, 1500));")  # polls, if any
        callbacks = [url for url in resource_urls(dash_duo) if "_dash-update-component" in url]
        assert callbacks == [], path
    assert dash_duo.get_logs() == []


def _fits_width(dash_duo) -> bool:
    """No horizontal scrolling: the layout fits the window."""
    return dash_duo.driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;")


def _screenshot_at_both_widths(dash_duo, directory, name: str, full_page: bool = True) -> None:
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        dash_duo.driver.set_window_size(width, 1000)
        if full_page:  # grow the window to the page's height
            height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight;")
            dash_duo.driver.set_window_size(width, min(max(height, 800), 6000))
        assert _fits_width(dash_duo), f"{name} overflows at {width} px"
        dash_duo.driver.save_screenshot(str(directory / f"{name}-{width}.png"))


def test_pages_fit_phone_and_desktop_widths(
    dash_duo, studio_app, four_models, photo_files, grayscale_gallery_photo, artifacts_dir
):
    """Saves test-artifacts/<page>-<width>.png to look at, and checks nothing overflows sideways."""
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_contains_text("h1", "colour")
    wait_for_images_loaded(dash_duo, ".showcase img")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "home")

    dash_duo.wait_for_page(f"{dash_duo.server_url}/welsh")
    upload(dash_duo, "welsh-upload", [grayscale_gallery_photo, *photo_files((400, 300))])
    wait_for_count(dash_duo, ".photo-card", 2)
    wait_for_images_loaded(dash_duo, "#welsh-results img, #welsh-reference img")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "welsh")

    dash_duo.wait_for_page(f"{dash_duo.server_url}/compare")
    upload(dash_duo, "compare-upload", [grayscale_gallery_photo, *photo_files((300, 400))])
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: len(dash_duo.find_elements(".studio-row.row-done")) == 2)
    wait_for_images_loaded(dash_duo, "#compare-results img")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "compare")
    dash_duo.find_element(".cell-cnn img.result-image").click()
    dash_duo.wait_for_element("#compare-viewer .reveal")
    wait_for_images_loaded(dash_duo, "#compare-viewer img")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "compare-viewer", full_page=False)

    dash_duo.wait_for_page(f"{dash_duo.server_url}/legacy")
    wait_for_images_loaded(dash_duo, ".legacy-card img")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "legacy")

    dash_duo.wait_for_page(f"{dash_duo.server_url}/models")
    dash_duo.wait_for_element(".model-section")
    _screenshot_at_both_widths(dash_duo, artifacts_dir, "models")
    assert dash_duo.get_logs() == []
