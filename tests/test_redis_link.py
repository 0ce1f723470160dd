"""dashboard.server.redis_link and its settings: Redis behind Sentinel is chosen by COLORIZER_REDIS_SENTINELS and
COLORIZER_REDIS_MASTER, for the site and for Celery, and a primary that cannot be found is an outage (503), never
an error of the site (500)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard import settings
from dashboard.server.redis_link import StoreUnavailableError, celery_transport_options, connect_sentinel
from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]


def settings_in_a_process(**env: str) -> subprocess.CompletedProcess:
    """What dashboard.settings makes of `env` (REDIS_URL, REDIS_SENTINELS and REDIS_MASTER, one a line)."""
    script = ("from dashboard import settings as s; "
              "print(s.REDIS_URL); print(s.REDIS_SENTINELS); print(s.REDIS_MASTER)")
    base = {key: value for key, value in os.environ.items() if not key.startswith("COLORIZER_REDIS")}
    return subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env={**base, **env}, capture_output=True,
                          text=True, timeout=60)


def test_the_sentinels_and_the_primarys_name_make_celerys_broker_url():
    run = settings_in_a_process(COLORIZER_REDIS_SENTINELS="10.0.0.5:26379, 10.0.0.6:26379,redis-c:26380",
                                COLORIZER_REDIS_MASTER="colorizer")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "sentinel://10.0.0.5:26379;sentinel://10.0.0.6:26379;sentinel://redis-c:26380/0",
        "(('10.0.0.5', 26379), ('10.0.0.6', 26379), ('redis-c', 26380))", "colorizer"]


def test_without_sentinels_the_redis_url_is_used_as_it_is():
    run = settings_in_a_process(COLORIZER_REDIS_URL="redis://127.0.0.1:6380/0")
    assert run.stdout.splitlines() == ["redis://127.0.0.1:6380/0", "()", ""]


@pytest.mark.parametrize("env, message", [
    ({"COLORIZER_REDIS_SENTINELS": "10.0.0.5:26379"}, "needs COLORIZER_REDIS_MASTER"),
    ({"COLORIZER_REDIS_SENTINELS": "10.0.0.5", "COLORIZER_REDIS_MASTER": "m"}, "'10.0.0.5' is not host:port"),
    ({"COLORIZER_REDIS_SENTINELS": "10.0.0.5:26379", "COLORIZER_REDIS_MASTER": "m",
      "COLORIZER_REDIS_URL": "redis://127.0.0.1:6380/0"}, "not both"),
])
def test_settings_that_cannot_work_are_refused_with_the_reason(env, message):
    run = settings_in_a_process(**env)
    assert run.returncode != 0 and message in run.stderr


def test_celery_gets_the_primarys_name_only_with_sentinel(monkeypatch):
    monkeypatch.setattr(settings, "REDIS_MASTER", "colorizer")
    options = celery_transport_options("sentinel://127.0.0.1:26380;sentinel://127.0.0.1:26381/0")
    assert options["master_name"] == "colorizer"
    assert options["sentinel_kwargs"]["socket_timeout"] <= 2  # a sentinel that hangs is not waited for long
    assert celery_transport_options("redis://127.0.0.1:6380/0") == {}


def test_a_primary_the_sentinels_cannot_name_is_an_outage():
    client = connect_sentinel([("127.0.0.1", free_port()), ("127.0.0.1", free_port())], "colorizer")
    with pytest.raises(StoreUnavailableError):  # answered 503 with Retry-After by the site (dashboard.guards.outage)
        client.get("anything")
