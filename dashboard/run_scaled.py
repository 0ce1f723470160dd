"""`python -m dashboard.run_scaled` (`make run-scaled`): the scaled set-up on one machine, for trying it out.

Starts Debian's `redis-server` (on REDIS_PORT, default 6380; no persistence: photos never reach the disk), WORKERS
Celery workers (default 2) and the web server with WEB_PROCESSES processes (default 2) on HOST:PORT, all pointed at
that Redis; starts again any that stops (Redis too: the site never stays down because Redis went away) and stops
them all on Ctrl-C. The same functions start the scaled set-up for the tests and the load measurement, so what
they prove is what this runs.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


def scaled_env(redis_url: str) -> dict[str, str]:
    """The settings every process of the set-up gets: the Redis URL and, unless the environment names one, one
    cookie-signing key made now, so that every web process signs with it whatever restarts (Redis included)."""
    env = {"COLORIZER_REDIS_URL": redis_url}
    if not os.environ.get("COLORIZER_SECRET_KEY"):
        env["COLORIZER_SECRET_KEY"] = secrets.token_urlsafe(32)
    return env


def _interrupt(_signum: int, _frame) -> None:
    raise KeyboardInterrupt


def keep_running(services: dict[str, tuple[Callable[[], subprocess.Popen], subprocess.Popen]],
                 interval: float = 1.0, rounds: int | None = None) -> None:
    """Start again any of `services` (name -> (how to start it, its process)) that stopped, Redis included, until
    interrupted (or for `rounds` checks): a process going away, Redis above all, never takes the site down; one that
    cannot start is tried again on the next check."""
    done = 0
    while rounds is None or done < rounds:
        time.sleep(interval)
        done += 1
        for name, (start, process) in list(services.items()):
            if process.poll() is None:
                continue
            print(f"{name} stopped (status {process.returncode}); starting it again.", file=sys.stderr, flush=True)
            try:
                services[name] = (start, start())
            except StartError as error:
                print(f"{name} could not start again; retrying: {error}", file=sys.stderr, flush=True)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, where SIGINT is ignored
    signal.signal(signal.SIGTERM, _interrupt)
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8050"))
    redis_port = int(os.environ.get("REDIS_PORT", "6380"))
    workers = int(os.environ.get("WORKERS", "2"))
    web_processes = int(os.environ.get("WEB_PROCESSES", "2"))
    folder = Path(tempfile.mkdtemp(prefix="colorizer-scaled-"))
    services: dict[str, tuple[Callable[[], subprocess.Popen], subprocess.Popen]] = {}

    def add(name: str, start: Callable[[], subprocess.Popen]) -> None:
        services[name] = (start, start())

    try:
        add("redis-server", lambda: start_redis(folder, redis_port)[0])
        url = f"redis://127.0.0.1:{redis_port}/0"
        env = scaled_env(url)
        for index in range(workers):
            name = f"worker{index + 1}"
            add(f"Celery {name}", lambda name=name: start_worker(name, env, folder / f"{name}.log"))
        add("The web server", lambda: start_web(port, env, folder / "web.log", web_processes, host))
        print(f"Serving on http://{host}:{port} with {web_processes} web processes, "
              f"{workers} Celery workers and Redis at {url}; logs in {folder}. Ctrl-C stops everything.", flush=True)
        keep_running(services)
    except KeyboardInterrupt:
        pass
    finally:
        stop(*reversed([process for _start, process in services.values()]))


if __name__ == "__main__":
    main()
