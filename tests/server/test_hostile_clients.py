"""Issue 11 against the real server: slow and stalled clients, bodies too large (chunked too) and never on disk,
security headers, the session cookie, and a hand-made Welsh callback that asks for the same work forty times."""
from __future__ import annotations

import io
import socket
import sys
import tempfile
import threading
import time

import numpy as np
import requests
from PIL import Image

from tests.server.conftest import REPO_ROOT, PeakSampler, get_from, upload_tokens

SLOW_CLIENTS = 16  # twice the server's 8 app threads


def png_bytes(height: int = 96, width: int = 128) -> bytes:
    rows, columns = np.mgrid[0:height, 0:width]
    gray = (40 + 150 * rows / height + 20 * np.sin(columns / 5.0)).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gray).save(buffer, format="PNG")
    return buffer.getvalue()


def post_headers(live_server, content_length: int | None, chunked: bool = False) -> bytes:
    lines = ["POST /api/colorize HTTP/1.1", f"Host: {live_server.host}:{live_server.port}",
             "Content-Type: multipart/form-data; boundary=xyz"]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_sixteen_slow_clients_do_not_delay_other_requests(live_server):
    stop = threading.Event()

    def trickle() -> None:
        with socket.create_connection((live_server.host, live_server.port)) as connection:
            connection.sendall(post_headers(live_server, 100_000))
            while not stop.wait(0.5):  # one body byte every half second: never finishes
                try:
                    connection.sendall(b"x")
                except OSError:
                    return

    clients = [threading.Thread(target=trickle, daemon=True) for _ in range(SLOW_CLIENTS)]
    for client in clients:
        client.start()
    try:
        time.sleep(2.0)  # every slow client is connected and trickling
        waits = []
        for _ in range(3):  # from another address: one address may hold 16 connections (dashboard.server.connections)
            status, seconds, _ = get_from("127.0.0.2", live_server, "/api/models", timeout=30)
            assert status == 200
            waits.append(seconds)
        assert max(waits) < 1.0, waits
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=5)


def test_a_stalled_body_is_closed_after_the_idle_timeout(live_server):
    """Content-Length 10 MB, then 1 KB and silence: the connection is closed (the test server's timeout is 3 s)."""
    with socket.create_connection((live_server.host, live_server.port)) as connection:
        connection.sendall(post_headers(live_server, 10_000_000) + b"x" * 1024)
        connection.settimeout(30)
        started = time.monotonic()
        try:
            answer = connection.recv(1024)
        except ConnectionResetError:  # closed with unread bytes in the server's buffer: a reset, not a FIN
            answer = b""
        assert answer == b""  # closed, without an answer the app would have had to make
        assert time.monotonic() - started < 15


def test_a_body_cut_short_is_never_answered_as_a_missing_field(live_server):
    """The client gives up half way: the app never sees the half body (nor says 'Say which model to use')."""
    with socket.create_connection((live_server.host, live_server.port)) as connection:
        connection.sendall(post_headers(live_server, 5000) + b"--xyz\r\nContent-Disposition: form-data; name=")
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(30)
        assert b"Say which model" not in connection.recv(65536)


def _watch_for_disk(live_server):
    """A sampler of the server's open files that could hold a photo: temporary files (deleted ones, as spooled
    bodies are, or any in the temporary folder), not its log or the code it reads (the checkout may be there)."""
    temp_dir = tempfile.gettempdir()
    ours = (str(live_server.log), str(REPO_ROOT), sys.prefix)

    def suspicious(target: str) -> bool:
        return target.endswith("(deleted)") or (target.startswith(temp_dir) and not target.startswith(ours))

    return PeakSampler(lambda: [target for target in live_server.open_files() if suspicious(target)], interval=0.01)


def test_a_100_mb_chunked_upload_is_refused_without_touching_the_disk(live_server):
    chunk = b"\0" * 1_000_000
    with _watch_for_disk(live_server) as disk, socket.create_connection((live_server.host, live_server.port)) as sock:
        sock.sendall(post_headers(live_server, None, chunked=True))
        try:
            for _ in range(100):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may refuse and close before the whole body is sent
        sock.settimeout(30)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert not any(disk.samples), [files for files in disk.samples if files][:3]


def test_a_large_accepted_upload_is_parsed_in_memory(live_server):
    """20 MB through the multipart parser (which would spool anything over 500 KB to a temporary file)."""
    junk = np.random.default_rng(0).integers(0, 256, 20_000_000, dtype=np.uint8).tobytes()
    with _watch_for_disk(live_server) as disk:
        response = requests.post(f"{live_server.url}/api/colorize", data={"model": "welsh"},
                                 files={"image": ("big.png", junk, "image/png")}, timeout=120)
    assert response.status_code == 400 and "not an image" in response.json()["error"]
    assert not any(disk.samples), [files for files in disk.samples if files][:3]


def test_security_headers_on_pages_api_results_and_assets(live_server):
    photo = requests.post(f"{live_server.url}/api/colorize", data={"model": "welsh", "reference": "auto"},
                          files={"image": ("a.png", png_bytes(), "image/png")}, timeout=120)
    assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/png"
    responses = [photo] + [requests.get(live_server.url + path, timeout=30) for path in
                           ("/", "/compare", "/api/models", "/assets/vendor/bootstrap.min.css", "/api/nothing")]
    for response in responses:
        policy = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "'unsafe-eval'" not in policy, response.url
        assert response.headers.get("X-Content-Type-Options") == "nosniff", response.url
        assert response.headers.get("Referrer-Policy") == "same-origin", response.url


def test_the_session_is_an_httponly_cookie_the_server_made(live_server):
    page = requests.get(f"{live_server.url}/welsh", timeout=30)
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("colorizer_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session_id = cookie.split("=", 1)[1].split(".")[0]
    assert session_id not in page.text  # never in the page (nor, so, in any URL it makes)
    made_up = requests.get(f"{live_server.url}/results/all.zip", cookies={"colorizer_session": "A" * 22},
                           timeout=30)
    assert made_up.status_code == 404


def test_a_90_mb_callback_body_is_refused_at_once_and_costs_little_memory(live_server):
    """Issue 20: a callback request is capped at 2 MB before its body is read (it once cost +2.4 GB to parse)."""
    body = b"{}" + b" " * (90_000_000 - 2)
    before = live_server.rss_bytes()
    with PeakSampler(live_server.rss_bytes) as rss, \
            socket.create_connection((live_server.host, live_server.port)) as sock:
        started = time.monotonic()
        sock.sendall(("POST /_dash-update-component HTTP/1.1\r\n"
                      f"Host: {live_server.host}:{live_server.port}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode())
        sent = 0
        try:
            for start in range(0, len(body), 1_000_000):
                sock.sendall(body[start:start + 1_000_000])
                sent += 1_000_000
        except OSError:
            pass  # refused and closed before the body was sent
        sock.settimeout(30)
        answer = sock.recv(65536)
        seconds = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"callback request may be at most 2" in answer
    growth = max(rss.samples) - before
    print(f"90 MB callback body: 413 after {seconds:.2f} s, {sent / 1e6:.0f} MB sent, RSS +{growth / 1e6:.0f} MB")
    assert growth <= 200_000_000, growth
    chunked = b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    with socket.create_connection((live_server.host, live_server.port)) as sock:
        sock.sendall(chunked)
        try:
            for _ in range(90):
                sock.sendall(b"%x\r\n" % 1_000_000 + b" " * 1_000_000 + b"\r\n")
        except OSError:
            pass
        sock.settimeout(30)
        assert sock.recv(65536).startswith(b"HTTP/1.1 413")
    assert live_server.rss_bytes() - before <= 200_000_000


def _welsh_callback(inputs: list[dict], states: list[dict], changed: str) -> dict:
    """The request Dash's renderer sends for the Reference transfer page's (path /welsh) colouring callback."""
    outputs = [("welsh-results", "children"), ("welsh-uploads", "data"), ("welsh-upload", "contents"),
               ("welsh-scroll", "data")]
    return {
        "output": ".." + "...".join(f"{id_}.{prop}" for id_, prop in outputs) + "..",
        "outputs": [{"id": id_, "property": prop} for id_, prop in outputs],
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": states,
    }


def test_a_hand_made_welsh_callback_colours_each_photo_once(live_server):
    browser = requests.Session()
    browser.get(f"{live_server.url}/welsh", timeout=30)  # the session cookie
    [token] = upload_tokens(browser, live_server.url, [("a.png", png_bytes())])
    forty = _welsh_callback(
        inputs=[{"id": "welsh-upload", "property": "contents", "value": [token] * 40},
                {"id": "welsh-reference", "property": "value", "value": "auto"},
                {"id": "welsh-own-references", "property": "data", "value": None},
                {"id": "welsh-method", "property": "value", "value": "welsh"}],
        states=[{"id": "welsh-upload", "property": "filename", "value": ["a.png"] * 40},
                {"id": "welsh-uploads", "property": "data", "value": []}],
        changed="welsh-upload.contents",
    )
    answer = browser.post(f"{live_server.url}/_dash-update-component", json=forty, timeout=300)
    assert answer.status_code == 200
    kept = answer.json()["response"]["welsh-uploads"]["data"]
    assert len(kept) == 1 and answer.text.count("Download") == 1  # one photo read, one result
    repeated = _welsh_callback(
        inputs=[{"id": "welsh-upload", "property": "contents", "value": None},
                {"id": "welsh-reference", "property": "value", "value": "auto"},
                {"id": "welsh-own-references", "property": "data", "value": None},
                {"id": "welsh-method", "property": "value", "value": "welsh"}],
        states=[{"id": "welsh-upload", "property": "filename", "value": None},
                {"id": "welsh-uploads", "property": "data", "value": kept * 40}],
        changed="welsh-reference.value",
    )
    again = browser.post(f"{live_server.url}/_dash-update-component", json=repeated, timeout=300)
    assert again.status_code == 200 and again.text.count("Download") == 1
    stranger = requests.post(f"{live_server.url}/_dash-update-component", json=repeated, timeout=60)
    assert "Download" not in stranger.text  # another session cannot name this session's photos


def test_the_server_warms_every_model_and_says_when_it_is_ready(live_server):
    assert requests.get(f"{live_server.url}/healthz", timeout=10).status_code == 200
    deadline = time.monotonic() + 120
    while (ready := requests.get(f"{live_server.url}/readyz", timeout=10)).status_code == 503:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    models = [model["name"] for model in requests.get(f"{live_server.url}/api/models", timeout=10).json()]
    assert ready.status_code == 200 and ready.json()["models"] == models
