"""The scaled set-up (Redis, Celery workers, several web processes) against real processes: a browser session
moves between web processes and their restarts, a worker dies mid-job, the byte cap holds in Redis, the API answers
from every web process."""
from __future__ import annotations

import io
import os
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from colorizers import available_models
from tests.scaled.conftest import SESSION_MAX_BYTES, cpu_ticks

MODELS = [info.name for info in available_models()]  # the Compare page's columns: every model installed here
TIMEOUT = 180


def gray_png(height: int, width: int, seed: int = 0) -> bytes:
    rows, columns = np.mgrid[0:height, 0:width]
    gray = 40 + 150 * rows / height + 25 * np.sin(columns / 7.0 + seed) + 10 * np.cos(rows / 11.0)
    buffer = io.BytesIO()
    Image.fromarray(gray.clip(0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site_studio(scaled_site):
    """A studio on the site's Redis whose queue is the site's Celery workers: what a web process's studio is."""
    from dashboard.studio import studio_in_redis

    return studio_in_redis(scaled_site.redis(), scaled_site.redis_url, 600, max_bytes=10**10,
                           session_max_bytes=SESSION_MAX_BYTES)


def wait_until_finished(studio, session_id: str, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while (view := studio.view(session_id)).pending:
        assert time.monotonic() < deadline, view
        time.sleep(0.2)
    return view


def upload(studio, session_id: str, *photos: tuple[str, bytes]) -> list[str]:
    from dashboard.routes.uploads import UploadedFile

    return studio.add_uploads(session_id, [UploadedFile(name, data, None) for name, data in photos], MODELS)


# --- A browser session across web processes --------------------------------------------------------------------

def open_compare(browser, url: str) -> None:
    browser.get(f"{url}/compare")
    WebDriverWait(browser, TIMEOUT).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#compare-upload input"))


def finished_rows(browser, count: int) -> list:
    WebDriverWait(browser, TIMEOUT).until(
        lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".studio-row.row-done")) == count
        and not driver.find_elements(By.CSS_SELECTOR, ".studio-row.row-queued, .studio-row.row-working"))
    return browser.find_elements(By.CSS_SELECTOR, ".studio-row")


def every_image_loads(browser) -> int:
    """Wait until every image in the rows has loaded from the page's own server; returns how many of them are
    the photos and results the server keeps (not gallery thumbnails)."""
    script = ("const images = [...document.querySelectorAll('.studio-row img')];"
              "const kept = images.filter(image => new URL(image.src).pathname.startsWith('/results/'));"
              "return images.every(image => image.complete && image.naturalWidth > 0) ? kept.length : 0;")
    return WebDriverWait(browser, TIMEOUT).until(lambda driver: driver.execute_script(script))


def test_a_browser_uploads_through_one_web_process_and_reads_every_result_through_another_and_after_restarts(
        scaled_site, browser, tmp_path: Path):
    paths = []
    for index in range(3):
        paths.append(tmp_path / f"old-photo-{index}.png")
        paths[-1].write_bytes(gray_png(240 + 40 * index, 320, seed=index))
    first, second = scaled_site.url(0), scaled_site.url(1)
    open_compare(browser, first)
    browser.find_element(By.CSS_SELECTOR, "#compare-upload input[type=file]").send_keys(
        "\n".join(str(path) for path in paths))
    rows = finished_rows(browser, 3)  # polled through the first web process, coloured by the workers
    row_ids = [row.get_attribute("data-row") for row in rows]
    shown_by_first = every_image_loads(browser)
    assert shown_by_first == 3 * (1 + len(MODELS))  # each row: the original and one result per model

    open_compare(browser, second)  # the same browser (its cookie) on the other web process
    assert [row.get_attribute("data-row") for row in finished_rows(browser, 3)] == row_ids
    assert every_image_loads(browser) == shown_by_first
    cookie = {item["name"]: item["value"] for item in browser.get_cookies()}
    archive = requests.get(f"{second}/results/all.zip", cookies=cookie, timeout=60)
    assert archive.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == 3 * len(MODELS)

    scaled_site.restart_webs()  # a deploy: every web process stops and starts again
    for url in (second, first):
        open_compare(browser, url)
        assert [row.get_attribute("data-row") for row in finished_rows(browser, 3)] == row_ids
        assert every_image_loads(browser) == shown_by_first


def test_the_welsh_pages_photos_and_results_made_by_one_web_process_open_from_another(
        scaled_site, browser, tmp_path: Path):
    paths = []
    for index in range(2):
        paths.append(tmp_path / f"welsh-{index}.png")
        paths[-1].write_bytes(gray_png(200, 260 + 40 * index, seed=index))
    first, second = scaled_site.url(0), scaled_site.url(1)
    browser.get(f"{first}/welsh")
    WebDriverWait(browser, TIMEOUT).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#welsh-upload input"))
    browser.find_element(By.CSS_SELECTOR, "#welsh-upload input[type=file]").send_keys(
        "\n".join(str(path) for path in paths))
    WebDriverWait(browser, TIMEOUT).until(
        lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".photo-card a[download]")) == 2)
    links = [link.get_attribute("href") for link in browser.find_elements(By.CSS_SELECTOR, ".photo-card a[download]")]
    images = [image.get_attribute("src") for image in browser.find_elements(By.CSS_SELECTOR, "#welsh-results img")
              if "/results/" in image.get_attribute("src")]
    assert len(images) >= 4  # each photo and its result
    for url in links + images:
        assert url.startswith(first)
        answer = requests.get(second + url[len(first):], timeout=60)  # the same capability, the other process
        assert answer.status_code == 200, url
        Image.open(io.BytesIO(answer.content)).verify()
    sizes = sorted(Image.open(io.BytesIO(requests.get(second + link[len(first):], timeout=60).content)).size
                   for link in links)
    assert sizes == [(260, 200), (300, 200)]


# --- Workers dying -------------------------------------------------------------------------------------------------

def busy_pool_process(scaled_site) -> tuple[int, int]:
    """(worker index, pid) of the pool process that is using the CPU now."""
    pools = [(index, pid) for index in range(2) for pid in scaled_site.pool_processes(index)]
    before = {pid: cpu_ticks(pid) for _, pid in pools}
    time.sleep(0.3)
    return max(pools, key=lambda pool: cpu_ticks(pool[1]) - before[pool[1]])


def wait_for_working(studio, session_id: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while studio.view(session_id).rows[0].status != "working":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_pool_process_killed_mid_job_leaves_the_row_completed_by_another_or_failed_with_a_message(
        scaled_site, site_studio):
    from dashboard.studio import DONE

    session_id = "killed-pool-process-aaaa"
    upload(site_studio, session_id, ("large.png", gray_png(1800, 2400)))
    wait_for_working(site_studio, session_id)
    _, pid = busy_pool_process(scaled_site)
    os.kill(pid, signal.SIGKILL)
    row = wait_until_finished(site_studio, session_id).rows[0]
    if row.status == DONE:  # the job went back to the queue and a worker did it again
        assert [cell.status for cell in row.cells] == [DONE] * len(MODELS)
        assert all(site_studio.download_png(cell.result_id, 100) for cell in row.cells)
    else:
        assert row.error
    print("after the kill:", row.status, row.error)


def test_a_whole_worker_killed_mid_job_marks_the_row_failed_with_a_message(scaled_site, site_studio):
    from dashboard.studio import ERROR
    from dashboard.studio.studio import LOST_MESSAGE

    session_id = "killed-whole-worker-aaaa"
    upload(site_studio, session_id, ("large.png", gray_png(1800, 2400)))
    wait_for_working(site_studio, session_id)
    index, _ = busy_pool_process(scaled_site)
    scaled_site.kill_worker(index)
    try:
        row = wait_until_finished(site_studio, session_id, timeout=60).rows[0]  # the lease lapses in 20 s
        assert row.status == ERROR and row.error == LOST_MESSAGE
        upload(site_studio, session_id, ("again.png", gray_png(300, 400)))  # the other worker goes on
        assert wait_until_finished(site_studio, session_id).rows[-1].status == "done"
    finally:
        scaled_site.start_worker(index)


# --- Memory --------------------------------------------------------------------------------------------------------

def test_a_sessions_byte_cap_holds_in_redis(scaled_site, site_studio):
    """A dozen 1 MP photos, one after another, in one session whose cap is SESSION_MAX_BYTES: the oldest rows go,
    and what Redis holds for the session (its record and every blob, measured by Redis) stays within the cap."""
    session_id = "byte-cap-session-aaaaaa"
    client = scaled_site.redis()
    for index in range(12):
        upload(site_studio, session_id, (f"photo-{index}.png", gray_png(864, 1152, seed=index)))
        view = wait_until_finished(site_studio, session_id)
        assert view.rows[-1].status == "done", view.rows[-1]
    assert len(view.rows) < 12  # older rows were evicted to stay within the cap
    with site_studio.store.peek(session_id) as session:
        keys = [f"colorizer:studio:blob:{blob.key}" for blob in session.blobs()]
        counted = session.nbytes
    held = sum(client.memory_usage(key) for key in keys) + client.memory_usage(
        f"colorizer:studio:session:{session_id}")
    assert counted <= SESSION_MAX_BYTES
    assert held <= SESSION_MAX_BYTES * 1.02, (held, counted)
    assert all(client.exists(key) for key in keys)


# --- The API on several web processes ------------------------------------------------------------------------------

def test_the_api_answers_from_every_web_process_and_from_a_server_of_several_even_when_one_dies(scaled_site, tmp_path):
    from dashboard.server.run_scaled import start_web, stop
    from tests.redis_server import free_port

    port = free_port()
    several = start_web(port, scaled_site.env, tmp_path / "several.log", processes=2)
    try:
        photo = gray_png(300, 400)
        urls = [scaled_site.url(0), scaled_site.url(1), f"http://127.0.0.1:{port}"]
        for round_ in range(2):
            if round_ == 1:  # one of the several processes dies: the others answer, and it is replaced
                children = Path(f"/proc/{several.pid}/task/{several.pid}/children").read_text().split()
                assert len(children) == 2
                os.kill(int(children[0]), signal.SIGKILL)
            for url in urls:
                for model in MODELS:
                    answer = requests.post(f"{url}/api/colorize", files={"image": ("old.png", photo)},
                                           data={"model": model}, timeout=120)
                    assert answer.status_code == 200, (url, model, answer.text[:300])
                    assert Image.open(io.BytesIO(answer.content)).size == (400, 300)
        deadline = time.monotonic() + 60
        while len(Path(f"/proc/{several.pid}/task/{several.pid}/children").read_text().split()) < 2:
            assert time.monotonic() < deadline, "the dead web process was not replaced"
            time.sleep(0.2)
    finally:
        stop(several)
    assert "Traceback" not in (tmp_path / "several.log").read_text()
