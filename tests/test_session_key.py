"""dashboard.guards.session's signing key: one key for every process at every moment. Real processes on a real Redis sign
and check cookies while Redis loses the key (as a restart without persistence does) and new processes start."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# A stand-in for a web process: reads commands from stdin ("sign" makes a session's cookie, "check VALUE" says
# whether a cookie is this server's) and answers one line each.
_PROCESS = """
import sys
from dashboard.guards.session import cookie_value, new_session_id, session_id_from_cookie
for line in sys.stdin:
    command, _, value = line.strip().partition(" ")
    answer = cookie_value(new_session_id()) if command == "sign" else str(session_id_from_cookie(value) is not None)
    print(answer, flush=True)
"""


class WebProcess:
    def __init__(self, env: dict[str, str]) -> None:
        self._process = subprocess.Popen([sys.executable, "-c", _PROCESS], cwd=REPO_ROOT, env=env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _ask(self, line: str) -> str:
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()
        return self._process.stdout.readline().strip()

    def sign(self) -> str:
        return self._ask("sign")

    def accepts(self, cookie: str) -> bool:
        return self._ask(f"check {cookie}") == "True"

    def close(self) -> None:
        self._process.stdin.close()
        self._process.wait(timeout=10)


@pytest.fixture
def start_process(redis_url, redis_client):
    started: list[WebProcess] = []
    base = {key: value for key, value in os.environ.items() if key != "COLORIZER_SECRET_KEY"}

    def start(**env: str) -> WebProcess:
        started.append(WebProcess({**base, "COLORIZER_REDIS_URL": redis_url, **env}))
        return started[-1]

    yield start
    for process in started:
        process.close()


def test_after_redis_loses_the_key_every_process_signs_with_the_same_one(start_process, redis_client):
    """Without COLORIZER_SECRET_KEY the key lives in Redis. Redis restarted empty: the process started afterwards
    and the ones already running agree again (before, each kept the key it first read: cookies made by one were
    refused by the other, so requests flipped between sessions)."""
    first = start_process()
    old_cookie = first.sign()
    assert start_process().accepts(old_cookie)
    redis_client.flushall()  # what a restart of a Redis without persistence leaves
    late = start_process()
    for maker, checker in ((late, first), (first, late), (late, late), (first, first)):
        cookie = maker.sign()
        assert checker.accepts(cookie)


def test_with_a_configured_key_cookies_outlive_redis(start_process, redis_client):
    """With COLORIZER_SECRET_KEY (what `make run-scaled` hands its processes), Redis losing everything splits
    nothing: a cookie from before is still every process's."""
    first = start_process(COLORIZER_SECRET_KEY="one key for all")
    cookie = first.sign()
    redis_client.flushall()
    assert start_process(COLORIZER_SECRET_KEY="one key for all").accepts(cookie) and first.accepts(cookie)
    assert not start_process(COLORIZER_SECRET_KEY="another key").accepts(cookie)
