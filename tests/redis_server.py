"""A real Redis server (Debian's `redis-server`, installed by `make test`) started for the tests that prove the
scaled set-up: no persistence, on a free local port (the same function `make run-scaled` starts it with)."""
from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path

from dashboard.server.run_scaled import start_redis, stop


def free_port() -> int:
    """A local TCP port nobody listens on now (for the servers the tests start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_redis(folder: Path, port: int | None = None):
    """Start redis-server in `folder`; yields its URL (database 0) and stops it afterwards."""
    process, url = start_redis(folder, port or free_port())
    try:
        yield url
    finally:
        stop(process)
