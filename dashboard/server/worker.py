"""`celery -A dashboard.server.worker worker`: colours the studio's queued photos when the site runs as several processes
(COLORIZER_REDIS_URL set, or COLORIZER_REDIS_SENTINELS and COLORIZER_REDIS_MASTER: Redis, found through the
sentinels, is both the Celery broker and the studio's store).

A job carries ids only (session, row, models): the worker reads the photo from the studio's store in Redis and
writes each result back there, where every web process sees it. A video job (`colorizer.colour_video`,
`dashboard.jobs.videos`) carries its job id: the clip, the job's spec, progress, preview and cancel flag are in Redis
(`dashboard.stores.video_store`), and the MP4 goes to the results store there. A video that outlasts `visibility_timeout`
and is handed out again is not coloured twice: the job's lease says a worker has it.

Pool: prefork, one task per child process at a time. The models are loaded lazily, in the child, on its first job:
this module imports no model and the parent never colours, so no fork ever copies a loaded model (a process forked
after TensorFlow or ONNX Runtime started its threads can hang). A child that dies mid-job (killed, out of memory)
is noticed by its parent, and the job goes back to the queue for another child or worker (`acks_late` with
`reject_on_worker_lost`); a whole worker that dies leaves its job unacknowledged, and Redis hands it out again after
`visibility_timeout`. Meanwhile the row's lease (`dashboard.studio.queue.CeleryQueue`) lapses and the page marks
it failed with a message instead of showing it as working for ever.

With Sentinel the broker is `sentinel://...` (settings.REDIS_URL), the primary's name in the transport options:
when the primary is lost the worker's connection breaks, and Celery reconnects to the replica the sentinels promote,
which holds the queue (and the unacknowledged jobs) as it held everything else.
"""
from __future__ import annotations

from celery import Celery

from .. import settings
from .redis_link import celery_transport_options
from ..studio.model import Task
from ..studio.queue import TASK_NAME
from ..jobs.videos import VIDEO_TASK_NAME

# How long a job taken by a worker that vanished stays unacknowledged before Redis gives it to another.
VISIBILITY_TIMEOUT_SECONDS = 300

if not settings.REDIS_URL:
    raise RuntimeError("Set COLORIZER_REDIS_URL (e.g. redis://127.0.0.1:6379/0), or COLORIZER_REDIS_SENTINELS and "
                       "COLORIZER_REDIS_MASTER: the workers read their jobs there.")

app = Celery("colorizer", broker=settings.REDIS_URL, set_as_current=True)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # results go to the studio's store, not to Celery's result backend
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a worker takes one job at a time: the others stay free for idle workers
    worker_pool="prefork",
    worker_concurrency=1,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
                              **celery_transport_options(settings.REDIS_URL)},
)


@app.task(name=VIDEO_TASK_NAME)
def colour_video(job_id: str) -> None:
    """Colour a video job (`dashboard.jobs.videos`): its spec, clip, progress, cancel flag and result are in Redis."""
    from ..jobs.videos import default_video_jobs

    default_video_jobs().run(job_id)


@app.task(name=TASK_NAME)
def colour_row(session_id: str, row_id: str, model_names: list[str]) -> None:
    from ..studio import default_studio

    studio = default_studio()
    task = Task(session_id, row_id, tuple(model_names))
    with studio.queue.working_on(task):
        studio.run_task(task)
