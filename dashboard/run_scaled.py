"""`python -m dashboard.run_scaled` (`make run-scaled`): the scaled set-up on one machine, for trying it out.

Starts Debian's `redis-server` (on REDIS_PORT, default 6380; no persistence: photos never reach the disk), WORKERS
Celery workers (default 2) and the web server with WEB_PROCESSES processes (default 2) on HOST:PORT, all pointed at
that Redis; stops them all on Ctrl-C or when one of them stops. The same functions start the scaled set-up for the
tests and the load measurement, so what they prove is what this runs.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 120


class StartError(RuntimeError):
    """A process of the set-up did not start; the message includes the end of its log."""


def _wait_until(ready, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise StartError(f"{what} did not start:\n{tail}")
        time.sleep(0.1)


def start_redis(folder: Path, port: int) -> tuple[subprocess.Popen, str]:
    """redis-server on 127.0.0.1:`port` without persistence, its log in `folder`; (process, URL of database 0)."""
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        raise StartError("redis-server is missing: `make run-scaled` and `make test` install it (Debian package "
                         "redis-server).")
    log = folder / f"redis-{port}.log"
    process = subprocess.Popen([executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder), "--logfile", str(log)])
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    client = redis.Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    _wait_until(answers, process, log, "redis-server")
    client.close()
    return process, url


def start_worker(name: str, env: dict[str, str], log: Path, concurrency: int = 1) -> subprocess.Popen:
    """A Celery worker (`celery -A dashboard.worker worker`) named `name`, once it is ready for jobs."""
    command = [sys.executable, "-m", "celery", "-A", "dashboard.worker", "worker", "--hostname", f"{name}@%h",
               "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=output,
                                   stderr=subprocess.STDOUT)
    _wait_until(lambda: b" ready." in log.read_bytes(), process, log, f"Celery worker {name}")
    return process


def start_web(port: int, env: dict[str, str], log: Path, processes: int = 1,
              host: str = "127.0.0.1") -> subprocess.Popen:
    """`python -m dashboard.serve` on `host`:`port` with `processes` processes, once it answers /readyz."""
    import requests

    settings = {"HOST": host, "PORT": str(port), "COLORIZER_WEB_PROCESSES": str(processes),
                "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "dashboard.serve"], cwd=REPO_ROOT,
                                   env={**os.environ, **env, **settings}, stdout=output, stderr=subprocess.STDOUT)

    def ready() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).ok
        except requests.RequestException:
            return False

    _wait_until(ready, process, log, "The web server")
    return process


def stop(*processes: subprocess.Popen) -> None:
    """SIGTERM each, then SIGKILL what has not stopped 20 s later."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _interrupt(_signum: int, _frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGTERM, _interrupt)
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8050"))
    redis_port = int(os.environ.get("REDIS_PORT", "6380"))
    workers = int(os.environ.get("WORKERS", "2"))
    web_processes = int(os.environ.get("WEB_PROCESSES", "2"))
    folder = Path(tempfile.mkdtemp(prefix="colorizer-scaled-"))
    started: list[subprocess.Popen] = []
    try:
        redis_process, url = start_redis(folder, redis_port)
        started.append(redis_process)
        env = {"COLORIZER_REDIS_URL": url}
        for index in range(workers):
            started.append(start_worker(f"worker{index + 1}", env, folder / f"worker{index + 1}.log"))
        started.append(start_web(port, env, folder / "web.log", web_processes, host))
        print(f"Serving on http://{host}:{port} with {web_processes} web processes, "
              f"{workers} Celery workers and Redis at {url}; logs in {folder}. Ctrl-C stops everything.", flush=True)
        while all(process.poll() is None for process in started):
            time.sleep(1)
        print("A process stopped; stopping the others. Logs in", folder, file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop(*reversed(started))


if __name__ == "__main__":
    main()
