"""A real Redis server (Debian's `redis-server`, installed by `make test`) started for the tests that prove the
scaled set-up: no persistence, on a free local port."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_redis(folder: Path, port: int | None = None):
    """Start redis-server in `folder`; yields its URL (database 0) and stops it afterwards."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is missing: `make test` installs it (apt-get install redis-server).")
    port = port or free_port()
    log = folder / f"redis-{port}.log"
    process = subprocess.Popen(
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder), "--logfile", str(log)],
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {log.read_text() if log.exists() else ''}")
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
