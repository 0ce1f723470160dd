"""`python -m dashboard.server.run_scaled` (`make run-scaled`): the scaled set-up on one machine, for trying it out.

Starts Redis behind Redis Sentinel with Debian's `redis-server`: a primary (REDIS_PORT, default 6380), its replica
(REDIS_PORT + 1) and three sentinels (SENTINEL_PORT, default 26380, and the next two) that monitor the primary as
"colorizer" and promote the replica when the primary is lost. No persistence, replication without files: photos
never reach the disk, and survive the loss of the primary because the replica holds them in memory. Then WORKERS
Celery workers (default 2) and the web server with WEB_PROCESSES processes (default 2) on HOST:PORT, all finding the
primary through the sentinels. It starts again any process that stops (a Redis node as a replica of the primary the
sentinels name, never as an empty primary the replica would copy: the site never stays down, nor loses its photos,
because Redis went away) and stops them all on Ctrl-C. The same functions start the scaled set-up for the tests and
the load measurement, so what they prove is what this runs.
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
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 120
# Sentinel on this machine: the primary is judged down after 2 s without an answer, by 2 of the 3 sentinels; a
# failover that has not finished within 5 s is tried again.
MASTER_NAME = "colorizer"
SENTINEL_QUORUM = 2
SENTINEL_DOWN_AFTER_MS = 2000
SENTINEL_FAILOVER_TIMEOUT_MS = 5000


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


def _redis_server() -> str:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        raise StartError("redis-server is missing: `make run-scaled` and `make test` install it (Debian package "
                         "redis-server).")
    return executable


def _answers(client, question: Callable[[], object] | None = None) -> Callable[[], bool]:
    import redis

    def answers() -> bool:
        try:
            return bool((question or client.ping)())
        except redis.RedisError:
            return False

    return answers


def start_redis(folder: Path, port: int, replica_of: int | None = None) -> tuple[subprocess.Popen, str]:
    """redis-server on 127.0.0.1:`port` without persistence, its log in `folder`; (process, URL of database 0).

    With `replica_of` (a port on 127.0.0.1), a replica of that primary, returned once it holds the primary's data.
    Replication never writes a file either (the primary streams its data over the socket; the replica loads it from
    there, keeping its old data in memory until the new has arrived)."""
    import redis

    log = folder / f"redis-{port}.log"
    command = [_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", "--repl-diskless-load", "swapdb",
               "--dir", str(folder), "--logfile", str(log)]
    if replica_of is not None:
        command += ["--replicaof", "127.0.0.1", str(replica_of)]
    process = subprocess.Popen(command)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=2)
    _wait_until(_answers(client), process, log, "redis-server")
    if replica_of is not None:
        synced = _answers(client, lambda: client.info("replication").get("master_link_status") == "up")
        _wait_until(synced, process, log, f"The replica of 127.0.0.1:{replica_of}")
    client.close()
    return process, url


def start_sentinel(folder: Path, port: int, primary_port: int, master_name: str = MASTER_NAME) -> subprocess.Popen:
    """A sentinel (`redis-server CONFIG --sentinel`) on 127.0.0.1:`port` monitoring the primary on `primary_port` as
    `master_name`, once it answers. Its config file, which the sentinel rewrites with what it learns (the current
    primary, the other sentinels and replicas; never a photo), is made in `folder` on the first start and kept for
    the next: a sentinel started again goes on from where it was."""
    import redis

    config = folder / f"sentinel-{port}.conf"
    log = folder / f"sentinel-{port}.log"
    if not config.exists():
        config.write_text(f"""port {port}
bind 127.0.0.1
dir {folder}
logfile {log}
sentinel monitor {master_name} 127.0.0.1 {primary_port} {SENTINEL_QUORUM}
sentinel down-after-milliseconds {master_name} {SENTINEL_DOWN_AFTER_MS}
sentinel failover-timeout {master_name} {SENTINEL_FAILOVER_TIMEOUT_MS}
sentinel parallel-syncs {master_name} 1
""")
    process = subprocess.Popen([_redis_server(), str(config), "--sentinel"])
    client = redis.Redis(port=port, socket_timeout=2)
    _wait_until(_answers(client, lambda: client.sentinel_get_master_addr_by_name(master_name)), process, log,
                f"The sentinel on port {port}")
    client.close()
    return process


def wait_until_monitored(sentinel_ports: Sequence[int], replicas: int, master_name: str = MASTER_NAME,
                         seconds: float = 30) -> None:
    """Return once every sentinel knows the others and `replicas` replicas of the primary: from then on losing the
    primary leads to a failover (sentinels find each other through the primary within a few seconds)."""
    import redis

    clients = [redis.Redis(port=port, socket_timeout=2) for port in sentinel_ports]
    deadline = time.monotonic() + seconds

    def ready(client) -> bool:
        try:
            state = client.sentinel_master(master_name)
        except redis.RedisError:
            return False
        return (int(state["num-other-sentinels"]) == len(sentinel_ports) - 1
                and int(state["num-slaves"]) >= replicas)

    while not all(ready(client) for client in clients):
        if time.monotonic() > deadline:
            raise StartError(f"The sentinels on {list(sentinel_ports)} did not find each other and the replicas.")
        time.sleep(0.2)
    for client in clients:
        client.close()


def primary_port(sentinel_ports: Sequence[int], master_name: str = MASTER_NAME) -> int | None:
    """The port of the primary the first sentinel that answers names now; None while none answers."""
    import redis

    for port in sentinel_ports:
        client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)
        try:
            address = client.sentinel_get_master_addr_by_name(master_name)
        except redis.RedisError:
            continue
        finally:
            client.close()
        if address:
            return int(address[1])
    return None


def _pings(port: int) -> bool:
    import redis

    client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=2)
    try:
        return _answers(client)()
    finally:
        client.close()


def start_redis_again(folder: Path, port: int, other_ports: Sequence[int], sentinel_ports: Sequence[int],
                      master_name: str = MASTER_NAME) -> subprocess.Popen:
    """Start a Redis node of the Sentinel set-up (the others on `other_ports`) again after it stopped: as a replica
    of the primary the sentinels name now. Not as the primary: without persistence it comes back empty, and its
    replica would copy that (every photo lost). So while the sentinels still name this node and another node is up
    to be promoted, or while the primary they name does not answer, StartError: `keep_running` tries again on its
    next check. Only when no node is left (the photos went with them) does it come back, empty, as the primary."""
    primary = primary_port(sentinel_ports, master_name)
    if primary is None:
        raise StartError(f"Redis on port {port} waits for a sentinel to answer.")
    if primary == port:
        if any(_pings(other) for other in other_ports):
            raise StartError(f"Redis on port {port} waits for the sentinels to promote its replica.")
        return start_redis(folder, port)[0]
    if not _pings(primary):
        raise StartError(f"Redis on port {port} waits for the primary on port {primary}.")
    return start_redis(folder, port, replica_of=primary)[0]


def start_worker(name: str, env: dict[str, str], log: Path, concurrency: int = 1) -> subprocess.Popen:
    """A Celery worker (`celery -A dashboard.server.worker worker`) named `name`, once it is ready for jobs."""
    command = [sys.executable, "-m", "celery", "-A", "dashboard.server.worker", "worker", "--hostname", f"{name}@%h",
               "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=output,
                                   stderr=subprocess.STDOUT)
    _wait_until(lambda: b" ready." in log.read_bytes(), process, log, f"Celery worker {name}")
    return process


def start_web(port: int, env: dict[str, str], log: Path, processes: int = 1,
              host: str = "127.0.0.1") -> subprocess.Popen:
    """`python -m dashboard.server.serve` on `host`:`port` with `processes` processes, once it answers /readyz."""
    import requests

    settings = {"HOST": host, "PORT": str(port), "COLORIZER_WEB_PROCESSES": str(processes),
                "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "dashboard.server.serve"], cwd=REPO_ROOT,
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


def scaled_env(redis_url: str = "", sentinels: Sequence[tuple[str, int]] = (),
               master_name: str = MASTER_NAME) -> dict[str, str]:
    """The settings every process of the set-up gets: the Redis URL, or the sentinels ((host, port), ...) and the
    name they know the primary by; and, unless the environment names one, one cookie-signing key made now, so that
    every web process signs with it whatever restarts (Redis included)."""
    if sentinels:
        env = {"COLORIZER_REDIS_URL": "", "COLORIZER_REDIS_MASTER": master_name,
               "COLORIZER_REDIS_SENTINELS": ",".join(f"{host}:{port}" for host, port in sentinels)}
    else:
        env = {"COLORIZER_REDIS_URL": redis_url, "COLORIZER_REDIS_SENTINELS": ""}
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
    sentinel_port = int(os.environ.get("SENTINEL_PORT", "26380"))
    redis_ports, sentinel_ports = [redis_port, redis_port + 1], [sentinel_port + index for index in range(3)]
    workers = int(os.environ.get("WORKERS", "2"))
    web_processes = int(os.environ.get("WEB_PROCESSES", "2"))
    folder = Path(tempfile.mkdtemp(prefix="colorizer-scaled-"))
    services: dict[str, tuple[Callable[[], subprocess.Popen], subprocess.Popen]] = {}

    def add(name: str, start: Callable[[], subprocess.Popen], first: subprocess.Popen | None = None) -> None:
        services[name] = (start, first or start())

    try:
        for index, node_port in enumerate(redis_ports):
            first = start_redis(folder, node_port, replica_of=redis_ports[0] if index else None)[0]
            others = [other for other in redis_ports if other != node_port]
            add(f"redis-server on port {node_port}",
                lambda node_port=node_port, others=others: start_redis_again(folder, node_port, others,
                                                                             sentinel_ports), first)
        for node_port in sentinel_ports:
            add(f"The sentinel on port {node_port}",
                lambda node_port=node_port: start_sentinel(folder, node_port, redis_ports[0]))
        wait_until_monitored(sentinel_ports, replicas=1)
        env = scaled_env(sentinels=[("127.0.0.1", node_port) for node_port in sentinel_ports])
        for index in range(workers):
            name = f"worker{index + 1}"
            add(f"Celery {name}", lambda name=name: start_worker(name, env, folder / f"{name}.log"))
        add("The web server", lambda: start_web(port, env, folder / "web.log", web_processes, host))
        print(f"Serving on http://{host}:{port} with {web_processes} web processes, {workers} Celery workers and "
              f"Redis on ports {redis_ports} (primary and replica) behind the sentinels on {sentinel_ports} "
              f"(primary \"{MASTER_NAME}\"); logs in {folder}. Ctrl-C stops everything.", flush=True)
        keep_running(services)
    except KeyboardInterrupt:
        pass
    finally:
        stop(*reversed([process for _start, process in services.values()]))


if __name__ == "__main__":
    main()
