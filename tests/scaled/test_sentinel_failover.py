"""Redis behind Redis Sentinel, really started with the launch code `make run-scaled` uses: a primary, its replica,
three sentinels, a web process and a Celery worker that both find the primary through the sentinels. The primary is
killed (SIGKILL, as a machine losing power): within 15 s new uploads are coloured again, every earlier result still
opens (the replica held them in memory), and meanwhile the web process answered 503, never a 500."""
from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from dashboard import settings
from dashboard.server.redis_link import StoreUnavailableError, connect_sentinel
from dashboard.server.run_scaled import (MASTER_NAME, primary_port, scaled_env, start_redis, start_sentinel, start_web,
                                  start_worker, stop, wait_until_monitored)
from dashboard.routes.uploads import UploadedFile
from tests.redis_server import free_port
from tests.scaled.test_scaled_site import gray_png, wait_until_finished

MODELS = ["cnn", "cgan"]
FAILOVER_SECONDS = 15


def site_studio(sentinels: list[tuple[str, int]]):
    """What a web process's studio is with these sentinels: kept in the primary they name, its queue the Celery
    workers reached through them."""
    from dashboard.studio import studio_in_redis

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "REDIS_MASTER", MASTER_NAME)  # as COLORIZER_REDIS_MASTER sets it in the site
        return studio_in_redis(connect_sentinel(sentinels, MASTER_NAME), settings.sentinel_broker_url(sentinels),
                               600, max_bytes=10**9)


def result_paths(studio, session_id: str) -> list[str]:
    """Once the session's rows are coloured, the URL path of each result (opened without the session's cookie)."""
    view = wait_until_finished(studio, session_id, timeout=120)
    assert all(row.status == "done" for row in view.rows), view.rows
    return [f"/results/studio/{cell.result_id}/s100.jpg" for row in view.rows for cell in row.cells]


def test_losing_the_primary_keeps_every_photo_and_the_site_colours_again_within_15_s(tmp_path):
    redis_ports, sentinel_ports = [free_port(), free_port()], [free_port() for _ in range(3)]
    primary = start_redis(tmp_path, redis_ports[0])[0]
    processes = [primary]
    web_log = tmp_path / "web.log"
    try:
        processes.append(start_redis(tmp_path, redis_ports[1], replica_of=redis_ports[0])[0])
        processes += [start_sentinel(tmp_path, port, redis_ports[0]) for port in sentinel_ports]
        wait_until_monitored(sentinel_ports, replicas=1)
        sentinels = [("127.0.0.1", port) for port in sentinel_ports]
        env = scaled_env(sentinels=sentinels)
        processes.append(start_worker("sentinel-worker", env, tmp_path / "worker.log"))
        web_port = free_port()
        processes.append(start_web(web_port, env, web_log))
        site = f"http://127.0.0.1:{web_port}"
        studio = site_studio(sentinels)

        photos = [UploadedFile(f"old-{index}.png", gray_png(120, 160, seed=index), None) for index in range(3)]
        studio.add_uploads("before-the-failover-a", photos, MODELS)
        earlier = result_paths(studio, "before-the-failover-a")
        assert len(earlier) == 3 * len(MODELS)
        for path in earlier:
            assert requests.get(site + path, timeout=10).status_code == 200, path

        os.kill(primary.pid, signal.SIGKILL)
        primary.wait()
        killed = time.monotonic()
        deadline = killed + FAILOVER_SECONDS
        answers = set()  # what the web process answered for an earlier result meanwhile
        while True:
            answers.add(requests.get(site + earlier[0], timeout=10).status_code)
            try:
                studio.add_uploads("after-the-failover-aaaa", [UploadedFile("new.png", gray_png(120, 160), None)],
                                   MODELS)
                break
            except StoreUnavailableError:  # no primary yet: what the site answers with a 503
                assert time.monotonic() < deadline, "no primary within the failover's time"
                time.sleep(0.1)
        taken = time.monotonic() - killed
        while (view := studio.view("after-the-failover-aaaa")).pending:
            answers.add(requests.get(site + earlier[0], timeout=10).status_code)
            assert time.monotonic() < deadline, view
            time.sleep(0.2)
        coloured = time.monotonic() - killed
        assert view.rows[0].status == "done", view.rows[0]
        for path in earlier:  # through the web process, from the promoted replica
            assert requests.get(site + path, timeout=10).status_code == 200, path
        assert answers <= {200, 503}, answers
        assert primary_port(sentinel_ports) == redis_ports[1]
        print(f"after the primary was killed: an upload taken in {taken:.1f} s, coloured in {coloured:.1f} s; "
              f"the web process answered {sorted(answers)}")
    finally:
        stop(*reversed(processes))
    assert "Traceback" not in web_log.read_text(), web_log.read_text()[-3000:]
    written = sorted(path.name for path in tmp_path.iterdir() if path.suffix not in (".log", ".conf"))
    assert written == [], written  # no RDB or AOF file: replication too went by socket, photos never on the disk
