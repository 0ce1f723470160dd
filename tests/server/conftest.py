"""The production server, really started (`python -m dashboard.server.serve`, as `make run` and the Procfile do), for the
tests that prove what it does with slow, huge or hostile requests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120


@dataclass(frozen=True)
class LiveServer:
    url: str
    host: str
    port: int
    pid: int
    log: Path  # where its output goes (the one file it may have open)

    def rss_bytes(self) -> int:
        """The server process's resident memory now."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def open_files(self) -> list[str]:
        """Where the server's open file descriptors point (files, sockets, pipes)."""
        targets = []
        for fd in Path(f"/proc/{self.pid}/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:  # closed meanwhile
                pass
        return targets


class PeakSampler:
    """Samples a callable (e.g. the server's RSS, or its open files) in a thread until stopped."""

    def __init__(self, sample, interval: float = 0.05) -> None:
        self.samples: list = []
        self._sample, self._interval = sample, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def running_server(folder: Path, **settings: str):
    """The real server on a free port, with `settings` as extra environment variables; stopped afterwards."""
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "PYTHONUNBUFFERED": "1", **settings}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "dashboard.server.serve"], cwd=REPO_ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if requests.get(f"{url}/api/models", timeout=2).ok:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"The server did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield LiveServer(url, "127.0.0.1", port, process.pid, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    # Nothing the server did may have left a traceback in its log.
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real server with its default settings, but a short idle timeout so that tests need not wait long."""
    with running_server(tmp_path_factory.mktemp("server"), COLORIZER_CHANNEL_TIMEOUT="3") as server:
        yield server


def get_from(source: str, server: LiveServer, path: str, timeout: float = 5.0) -> tuple[int, float, bytes]:
    """GET `path` over a connection from the local address `source` (e.g. 127.0.0.2: another client than the
    tests' usual 127.0.0.1): the status (0 when no answer came), the seconds it took, and the body."""
    started = time.monotonic()
    answer = b""
    try:
        with socket.socket() as connection:
            connection.settimeout(timeout)
            connection.bind((source, 0))
            connection.connect((server.host, server.port))
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {server.host}\r\nConnection: close\r\n\r\n".encode())
            while chunk := connection.recv(65536):
                answer += chunk
    except OSError:
        pass
    seconds = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else 0
    return status, seconds, body


def upload_tokens(browser: requests.Session, url: str, files: list[tuple[str, bytes]]) -> list[str]:
    """What a page's drop zone does first (assets/uploads.js): POST the files to /uploads in `browser`'s session;
    returns the `contents` values ("upload:<token>") its callback then gets."""
    answer = browser.post(f"{url}/uploads", files=[("file", (name, data, "image/png")) for name, data in files],
                          timeout=120)
    assert answer.status_code == 200, answer.text[:300]
    return ["upload:" + file["token"] for file in answer.json()["files"]]
