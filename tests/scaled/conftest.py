"""The scaled set-up, really started: Debian's redis-server, two Celery workers (`celery -A dashboard.server.worker
worker`) and two web servers (`python -m dashboard.server.serve`), all on one Redis, with the functions
`make run-scaled` uses. No fakes: the models are the real ones, the queue is Celery's, the store is Redis."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from dashboard.server.run_scaled import start_redis, start_web, start_worker, stop
from tests.redis_server import free_port

SESSION_MAX_BYTES = 80_000_000  # small enough for the byte-cap test to pass it with a dozen 1 MP photos


@dataclass
class ScaledSite:
    folder: Path
    redis_url: str
    env: dict[str, str]
    ports: list[int]
    webs: list[subprocess.Popen] = field(default_factory=list)
    workers: list[subprocess.Popen] = field(default_factory=list)

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)

    def start_web(self, index: int) -> None:
        self.webs[index] = start_web(self.ports[index], self.env, self.folder / f"web{index + 1}.log")

    def restart_webs(self) -> None:
        stop(*self.webs)
        for index in range(len(self.webs)):
            self.start_web(index)

    def start_worker(self, index: int) -> None:
        log = self.folder / f"worker{index + 1}-{time.monotonic_ns()}.log"
        self.workers[index] = start_worker(f"worker{index + 1}", self.env, log)

    def pool_processes(self, index: int) -> list[int]:
        """The pids of worker `index`'s pool (the processes that run the jobs)."""
        pid = self.workers[index].pid
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def kill_worker(self, index: int) -> None:
        """SIGKILL the whole worker: its main process and its pool, as a machine losing power would."""
        for pid in [*self.pool_processes(index), self.workers[index].pid]:
            os.kill(pid, signal.SIGKILL)
        self.workers[index].wait()


def cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.fixture(scope="module")
def scaled_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaled")
    redis_process, url = start_redis(folder, free_port())
    env = {"COLORIZER_REDIS_URL": url, "COLORIZER_SESSION_MAX_BYTES": str(SESSION_MAX_BYTES)}
    site = ScaledSite(folder, url, env, [free_port(), free_port()], webs=[None, None], workers=[None, None])
    try:
        for index in range(2):
            site.start_worker(index)
            site.start_web(index)
        yield site
    finally:
        stop(*site.webs, *site.workers, redis_process)
    for log in folder.glob("web*.log"):  # nothing a web process did may have left a traceback in its log
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through its chromedriver (installed by `make test`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1440,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()
