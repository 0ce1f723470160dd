"""The scaled set-up under a batch (`make load-scaled`): the same photos through the Compare flow with 1, then 2
Celery workers, and Redis's memory before, at the peak and after the results expired.

For each worker count it starts its own redis-server and that many workers (`dashboard.server.run_scaled`, as `make
run-scaled` does), warms them (each loads its models on its first job), then one visitor's studio session uploads
--photos grey ~1 MP photos of the gallery at once, to be coloured by every model, exactly as the Compare page's
upload does (`Studio.add_uploads` with the Celery queue). It polls like the page until every row is done, then
stops polling and waits for the results to expire (--ttl seconds, given to the workers too).

Printed per worker count: the batch's wall time, photos per minute, Redis `used_memory` before the batch, at its peak
and after expiry, and the keys the studio left (none expected). Timings depend on the machine and on what else runs.

    .venv/bin/python scripts/load_scaled.py                 # 8 photos, 1 then 2 workers
    .venv/bin/python scripts/load_scaled.py --photos 4 --workers 2 --ttl 3
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.server.run_scaled import start_redis, start_worker, stop  # noqa: E402

MODELS = ["welsh", "cnn", "cgan", "blend"]
PHOTO_SIZE = (1152, 864)  # about 1 MP
SESSION = "load-scaled-session-aaaa"


def grey_photos(count: int) -> list[tuple[str, bytes]]:
    """The gallery's first `count` photos (repeated if needed), grey, 1152x864 PNG."""
    from colorizers.references import gallery

    photos = []
    for index in range(count):
        photo = gallery()[index % len(gallery())]
        with Image.open(photo.file) as image:
            grey = image.convert("L").resize(PHOTO_SIZE)
        buffer = io.BytesIO()
        grey.save(buffer, format="PNG")
        photos.append((f"{photo.name}-{index}.png", buffer.getvalue()))
    return photos


def colour_batch(studio, session_id: str, photos: list[tuple[str, bytes]]) -> float:
    """Upload `photos` as one visitor and poll until all are done; returns the seconds it took."""
    from dashboard.routes.uploads import UploadedFile

    started = time.perf_counter()
    studio.add_uploads(session_id, [UploadedFile(name, data, None) for name, data in photos], MODELS)
    while (view := studio.view(session_id)).pending:
        time.sleep(0.2)
    failed = [row.filename for row in view.rows if row.status != "done"]
    if failed:
        raise RuntimeError(f"Not coloured: {failed}")
    return time.perf_counter() - started


def measure(workers: int, photos: list[tuple[str, bytes]], ttl: float) -> dict:
    import redis

    from dashboard.studio import studio_in_redis
    from tests.redis_server import free_port

    folder = Path(tempfile.mkdtemp(prefix="load-scaled-"))
    redis_process, url = start_redis(folder, free_port())
    started = [redis_process]
    try:
        env = {"COLORIZER_REDIS_URL": url, "COLORIZER_RESULTS_TTL_SECONDS": str(ttl),
               "COLORIZER_SESSION_MAX_BYTES": str(10**10), "COLORIZER_RESULTS_MAX_BYTES": str(10**11)}
        for index in range(workers):
            started.append(start_worker(f"load{index + 1}", env, folder / f"worker{index + 1}.log"))
        client = redis.Redis.from_url(url)
        studio = studio_in_redis(client, url, ttl, max_bytes=10**11, session_max_bytes=10**10)
        colour_batch(studio, "warm-up-session-aaaaaaa", photos[:2 * workers])  # each worker loads its models
        time.sleep(ttl + 1)  # the warm-up expires
        baseline = client.info("memory")["used_memory"]
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak.append(client.info("memory")["used_memory"])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        seconds = colour_batch(studio, SESSION, photos)
        done.set()
        sampler.join()
        time.sleep(ttl + 1)
        after = client.info("memory")["used_memory"]
        left = [key.decode() for key in client.scan_iter("colorizer:*")]
        return {"workers": workers, "photos": len(photos), "seconds": seconds, "baseline": baseline,
                "peak": max(peak), "after": after, "left": left}
    finally:
        stop(*reversed(started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--ttl", type=float, default=5.0, help="seconds unused before results expire")
    args = parser.parse_args()
    photos = grey_photos(args.photos)
    print(f"{args.photos} photos of {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}, models {', '.join(MODELS)}")
    print("workers | batch s | photos/min | Redis MB before | peak | after expiry | studio keys left")
    for workers in args.workers:
        result = measure(workers, photos, args.ttl)
        print(f"{workers:7d} | {result['seconds']:7.1f} | {60 * result['photos'] / result['seconds']:10.1f} | "
              f"{result['baseline'] / 1e6:15.2f} | {result['peak'] / 1e6:4.1f} | {result['after'] / 1e6:12.2f} | "
              f"{len(result['left'])} {result['left'][:5]}", flush=True)


if __name__ == "__main__":
    main()
