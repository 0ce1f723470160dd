"""dashboard.run_scaled (`make run-scaled`): one signing key for every process it starts, and nothing that stops
(Redis included) takes the site down."""
from __future__ import annotations

import subprocess

from dashboard.run_scaled import keep_running, scaled_env, start_redis, stop
from tests.redis_server import free_port


def test_the_scaled_launcher_hands_every_process_one_key(monkeypatch):
    monkeypatch.delenv("COLORIZER_SECRET_KEY", raising=False)
    env = scaled_env("redis://127.0.0.1:6380/0")
    assert len(env["COLORIZER_SECRET_KEY"]) >= 32 and env["COLORIZER_REDIS_URL"] == "redis://127.0.0.1:6380/0"
    monkeypatch.setenv("COLORIZER_SECRET_KEY", "the operator's")
    assert "COLORIZER_SECRET_KEY" not in scaled_env("redis://127.0.0.1:6380/0")  # their own reaches every process


def test_the_scaled_launcher_starts_again_whatever_stopped_redis_included(tmp_path):
    """`make run-scaled` never stops the site because Redis (or any process) went away: it starts it again."""
    port = free_port()
    redis_process = start_redis(tmp_path, port)[0]
    services = {"redis-server": (lambda: start_redis(tmp_path, port)[0], redis_process)}
    stop(redis_process)
    keep_running(services, interval=0.1, rounds=1)
    again = services["redis-server"][1]
    try:
        assert again is not redis_process and again.poll() is None
        assert subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() \
            == "PONG"
    finally:
        stop(again)
