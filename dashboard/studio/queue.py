"""Who colours the studio's queued photos: threads of this process (`ThreadQueue`, the default) or Celery workers
fed through Redis (`CeleryQueue`, when `COLORIZER_REDIS_URL` or `COLORIZER_REDIS_SENTINELS` is set; see
`dashboard.server.worker`).

Both take `Task`s (ids only: the photo waits in the studio's store) and say each waiting photo's place in line.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from ..server.model_slots import model_slots
from .model import Task

logger = logging.getLogger(__name__)

TASK_NAME = "colorizer.colour_row"  # the Celery task `dashboard.server.worker` runs: (session id, row id, model names)


class ThreadQueue:
    """Queued tasks per session, served in turn (round robin: one large batch cannot starve somebody's single
    photo) by `workers` threads, each holding a model slot while it works (bounded memory, shared with the pages and
    the API). Threads, never processes: a process forked after a model was loaded hangs."""

    def __init__(self, run: Callable[[Task], None], workers: int = 1, autostart: bool = True) -> None:
        self._run = run
        self._queues: OrderedDict[str, deque[Task]] = OrderedDict()  # sessions in the order they are next served
        self._lock = threading.Lock()
        self._task_ready = threading.Condition(self._lock)
        self._worker_count = workers
        self._workers: list[threading.Thread] = []
        self._autostart = autostart

    def submit(self, task: Task, first: bool = False) -> None:
        with self._lock:
            tasks = self._queues.setdefault(task.session_id, deque())
            tasks.appendleft(task) if first else tasks.append(task)
            self._task_ready.notify()
        self.keep_alive()

    def positions(self) -> dict[str, int]:
        """Row id -> how many queued tasks will be started before its own (the round-robin order)."""
        with self._lock:
            queues = [list(tasks) for tasks in self._queues.values()]
        order = [tasks[turn] for turn in range(max(map(len, queues), default=0)) for tasks in queues
                 if turn < len(tasks)]
        positions: dict[str, int] = {}
        for index, task in enumerate(order):
            positions.setdefault(task.row_id, index)
        return positions

    def lost(self, row_ids: Iterable[str]) -> set[str]:
        """Rows marked as being worked on whose worker is gone: none (a thread that stops puts its task back)."""
        return set()

    def _take(self, block: bool) -> Task | None:
        with self._lock:
            while not self._queues:
                if not block:
                    return None
                self._task_ready.wait()
            session_id, tasks = next(iter(self._queues.items()))
            task = tasks.popleft()
            if tasks:
                self._queues.move_to_end(session_id)  # the other sessions go first
            else:
                del self._queues[session_id]
            return task

    def keep_alive(self) -> None:
        """Start or replace the worker threads, unless made with autostart=False (tests then work the queue)."""
        if self._autostart:
            self.ensure_workers()

    def ensure_workers(self) -> None:
        """Start the worker threads (stopped ones are replaced)."""
        with self._lock:
            self._workers = [worker for worker in self._workers if worker.is_alive()]
            while len(self._workers) < self._worker_count:
                worker = threading.Thread(target=self._work_forever, name="studio-worker", daemon=True)
                worker.start()
                self._workers.append(worker)

    def _work_forever(self) -> None:
        while True:
            self.process_next(block=True)

    def process_next(self, block: bool = False) -> bool:
        """Do one queued task; False when there was none (with block=False). The worker threads call this."""
        task = self._take(block)
        if task is None:
            return False
        try:
            with model_slots().slot():  # bounds the memory of photos worked on at once, with the pages and API
                self._run(task)
        except Exception:  # the worker must survive anything
            logger.exception("Studio task failed")
        except BaseException:  # the thread itself is being stopped: leave the task to the next worker
            self.submit(task, first=True)
            raise
        return True


class CeleryQueue:
    """Tasks sent to Celery workers through Redis, first come first served. A sorted set of the rows still waiting
    gives their places; a worker holds a short lease on the row it works on (renewed while it works), so that a
    row whose worker died is noticed (`lost`) rather than shown as working for ever."""

    PREFIX = "colorizer:queue:"
    LEASE_SECONDS = 20
    _RENEW_SECONDS = 5

    def __init__(self, client, send: Callable[[Task], None], ttl_seconds: float) -> None:
        self._client = client
        self._send = send
        self._ttl_ms = max(1, int(ttl_seconds * 1000))

    def submit(self, task: Task, first: bool = False) -> None:
        waiting = self.PREFIX + "waiting"
        order = self._client.incr(self.PREFIX + "sent")
        pipe = self._client.pipeline(transaction=False)
        pipe.zadd(waiting, {task.row_id: -order if first else order})
        for key in (waiting, self.PREFIX + "sent"):  # both forgotten once the queue has been idle that long
            pipe.pexpire(key, self._ttl_ms)
        pipe.execute()
        self._send(task)

    def positions(self) -> dict[str, int]:
        waiting = self._client.zrange(self.PREFIX + "waiting", 0, -1)
        return {row_id.decode(): index for index, row_id in enumerate(waiting)}

    def lost(self, row_ids: Iterable[str]) -> set[str]:
        row_ids = list(row_ids)
        if not row_ids:
            return set()
        pipe = self._client.pipeline(transaction=False)
        for row_id in row_ids:
            pipe.exists(self.PREFIX + "lease:" + row_id)
        return {row_id for row_id, held in zip(row_ids, pipe.execute()) if not held}

    @contextmanager
    def working_on(self, task: Task) -> Iterator[None]:
        """Held by the worker while it does `task`: the row leaves the waiting line and its lease is renewed."""
        lease = self.PREFIX + "lease:" + task.row_id
        self._client.set(lease, "1", ex=self.LEASE_SECONDS)
        self._client.zrem(self.PREFIX + "waiting", task.row_id)
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self._RENEW_SECONDS):
                self._client.set(lease, "1", ex=self.LEASE_SECONDS)

        renewer = threading.Thread(target=renew, name="lease-renewal", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            self._client.delete(lease)

    def ensure_workers(self) -> None:
        """Nothing to start here: the workers are their own processes (`celery -A dashboard.server.worker worker`)."""

    keep_alive = ensure_workers


@functools.cache
def celery_client(broker_url: str):
    """The web process's Celery client for the workers on `broker_url`: it sends tasks by their names (the web
    processes need not import the worker), the studio's rows and the video jobs (`dashboard.jobs.videos`) alike."""
    from celery import Celery

    from ..server.redis_link import celery_transport_options

    client = Celery("colorizer-web", broker=broker_url, set_as_current=False)
    client.conf.broker_transport_options = celery_transport_options(broker_url)  # Sentinel: the primary's name
    return client


def celery_sender(broker_url: str) -> Callable[[Task], None]:
    """Sends the studio's tasks to the workers on `broker_url`."""
    sender = celery_client(broker_url)

    def send(task: Task) -> None:
        sender.send_task(TASK_NAME, args=[task.session_id, task.row_id, list(task.model_names)], serializer="json")

    return send
