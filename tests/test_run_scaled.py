"""dashboard.server.run_scaled (`make run-scaled`): one signing key for every process it starts, and nothing that stops
(Redis included) takes the site down or loses its photos."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import redis

from dashboard.server.run_scaled import (keep_running, primary_port, scaled_env, start_redis, start_redis_again,
                                  start_sentinel, stop, wait_until_monitored)
from tests.redis_server import free_port


def test_the_scaled_launcher_hands_every_process_one_key(monkeypatch):
    monkeypatch.delenv("COLORIZER_SECRET_KEY", raising=False)
    env = scaled_env("redis://127.0.0.1:6380/0")
    assert len(env["COLORIZER_SECRET_KEY"]) >= 32 and env["COLORIZER_REDIS_URL"] == "redis://127.0.0.1:6380/0"
    monkeypatch.setenv("COLORIZER_SECRET_KEY", "the operator's")
    assert "COLORIZER_SECRET_KEY" not in scaled_env("redis://127.0.0.1:6380/0")  # their own reaches every process


def test_with_sentinels_every_process_finds_the_primary_through_them():
    env = scaled_env(sentinels=[("127.0.0.1", 26380), ("127.0.0.1", 26381)], master_name="colorizer")
    assert env["COLORIZER_REDIS_SENTINELS"] == "127.0.0.1:26380,127.0.0.1:26381"
    assert env["COLORIZER_REDIS_MASTER"] == "colorizer" and env["COLORIZER_REDIS_URL"] == ""


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


def test_a_lost_primary_comes_back_as_a_replica_of_the_promoted_one_never_empty_as_the_primary(tmp_path):
    """Started again at once, an empty primary would be copied by its replica (every photo lost): the launcher waits
    for the sentinels' failover and starts it as a replica of the new primary, holding the photos again."""
    ports, sentinel_ports = [free_port(), free_port()], [free_port() for _ in range(3)]
    primary = start_redis(tmp_path, ports[0])[0]
    processes = [primary]
    try:
        processes.append(start_redis(tmp_path, ports[1], replica_of=ports[0])[0])
        processes += [start_sentinel(tmp_path, port, ports[0]) for port in sentinel_ports]
        wait_until_monitored(sentinel_ports, replicas=1)
        redis.Redis(port=ports[0]).set("photo", b"pixels")
        services = {"primary": (lambda: start_redis_again(tmp_path, ports[0], ports[1:], sentinel_ports), primary)}
        os.kill(primary.pid, signal.SIGKILL)
        primary.wait()
        keep_running(services, interval=0.1, rounds=1)
        assert services["primary"][1] is primary  # the sentinels still name it: not started again yet
        deadline = time.monotonic() + 20
        while primary_port(sentinel_ports) != ports[1]:
            assert time.monotonic() < deadline, "no failover"
            time.sleep(0.2)
        keep_running(services, interval=0.1, rounds=1)
        processes.append(services["primary"][1])
        again = redis.Redis(port=ports[0])
        assert again.info("replication")["role"] == "slave" and again.get("photo") == b"pixels"
    finally:
        stop(*reversed(processes))


def test_a_node_comes_back_as_the_primary_only_when_no_node_is_left(tmp_path):
    """Primary and replica both gone (their photos with them): the first node started again is the primary, empty,
    so that the site comes back (its pages then say the photos expired) instead of waiting for ever."""
    ports, sentinel_ports = [free_port(), free_port()], [free_port()]
    processes = [start_redis(tmp_path, ports[0])[0]]
    try:
        processes.append(start_sentinel(tmp_path, sentinel_ports[0], ports[0]))
        stop(processes[0])
        processes.append(start_redis_again(tmp_path, ports[0], ports[1:], sentinel_ports))
        assert redis.Redis(port=ports[0]).info("replication")["role"] == "master"
    finally:
        stop(*reversed(processes))
