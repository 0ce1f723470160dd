"""Load test of the production server (`make load`): many clients at once, then a table of what they got.

What it does:

1. Starts the server itself (`python -m dashboard.server.serve`, HOST=127.0.0.1 on a free port) and waits until
   GET /api/models answers; or, with --url, uses a server that is already running.
2. Sends one warm-up request per kind of colorize request (each model; Welsh with "auto" and with a gallery
   photo), because models load on first use and that first request would otherwise swamp the timings.
   Warm-ups are not counted.
3. Runs --clients threads that each send --requests requests, drawn from a seeded mix: POST /api/colorize with
   a ~1 MP grayscale photo (1152x864, PNG or JPEG, made in memory) for each model, GET /api/models, GET of a
   page, and bad inputs (a text file named photo.png, a truncated PNG, strength "abc", an unknown model) that
   must get their 4xx.
4. Samples the server's resident memory (VmRSS in /proc/<pid>/status) every 0.1 s the whole time.
5. Prints a table per kind (count, ok, busy, errors, p50 and p95 latency of the ok answers), the totals, the
   wall time and the RSS before the load, its peak during and after (SETTLE_SECONDS after the last request);
   --json PATH writes the same numbers. Stops the server (also on Ctrl-C or an error).

Outcomes: "busy" is a 503 with a Retry-After header (the server refusing work it has no room for: expected
under load, not an error). Errors are connection failures and timeouts, any other 5xx, a bad input that did
not get its 4xx, and a good photo that did not come back as a PNG of the input's size.

Exit code 0 when there were no errors, 1 when there were, 2 when the server could not be started.

Run it:
    .venv/bin/python scripts/load.py                                # 8 clients x 25 requests, all models
    .venv/bin/python scripts/load.py --clients 2 --requests 3 --models welsh --json /tmp/load.json
    .venv/bin/python scripts/load.py --url http://127.0.0.1:8050 --pid 12345   # a running server

Timings depend on the machine and on what else runs on it: this is a measurement, not a test of speed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import requests
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
ALL_MODELS = ("welsh", "cnn", "cgan", "blend")
PAGES = ("/", "/compare", "/welsh", "/models")
PHOTO_SIZE = (1152, 864)  # width, height: about 1 MP
GALLERY_FALLBACK = "mountain-valley"
STARTUP_TIMEOUT_SECONDS = 120.0
SAMPLE_INTERVAL_SECONDS = 0.1
SETTLE_SECONDS = 3.0  # wait before the "after" RSS so that buffers of the last responses can be freed
STOP_TIMEOUT_SECONDS = 10.0

# Kinds of bad input: label -> the status they must get. They name a real model (but "unknown-model"), so
# that only the bad part decides the answer.
BAD_INPUTS = {
    "text-as-png": 400,
    "truncated-png": 400,
    "strength-abc": 400,
    "unknown-model": 404,
}
BAD_KIND = "bad input"
MODELS_KIND = "models list"
PAGE_KIND = "page"


# --- The request mix ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestSpec:
    """One request to send. `kind` groups it in the table; `photo` indexes the generated photos; `bad` names a
    BAD_INPUTS entry; `expect` is the status that counts as ok."""

    kind: str
    method: str
    path: str
    fields: tuple[tuple[str, str], ...] = ()
    photo: int | None = None
    bad: str | None = None
    expect: int = 200


def colorize_kinds(models: list[str], gallery_name: str) -> list[RequestSpec]:
    """One good colorize request template per kind: Welsh twice (auto and a gallery photo), the others once."""
    specs = []
    for model in models:
        if model == "welsh":
            specs.append(RequestSpec(
                "welsh:auto", "POST", "/api/colorize", (("model", "welsh"), ("reference", "auto"))))
            specs.append(RequestSpec(
                "welsh:gallery", "POST", "/api/colorize", (("model", "welsh"), ("reference", gallery_name))))
        else:
            specs.append(RequestSpec(model, "POST", "/api/colorize", (("model", model),)))
    return specs


def bad_request(bad: str, model: str) -> RequestSpec:
    fields = {
        "text-as-png": (("model", model),),
        "truncated-png": (("model", model),),
        "strength-abc": (("model", model), ("strength", "abc")),
        "unknown-model": (("model", "no-such-model"),),
    }[bad]
    return RequestSpec(BAD_KIND, "POST", "/api/colorize", fields, photo=0, bad=bad, expect=BAD_INPUTS[bad])


def draw_request(rng: random.Random, colorize_specs: list[RequestSpec], model: str, photo_count: int) -> RequestSpec:
    """One request from the mix: each colorize kind, the models list, a page and a bad input equally likely."""
    choice = rng.randrange(len(colorize_specs) + 3)
    if choice < len(colorize_specs):
        template = colorize_specs[choice]
        return RequestSpec(template.kind, template.method, template.path, template.fields,
                           photo=rng.randrange(photo_count))
    choice -= len(colorize_specs)
    if choice == 0:
        return RequestSpec(MODELS_KIND, "GET", "/api/models")
    if choice == 1:
        return RequestSpec(PAGE_KIND, "GET", rng.choice(PAGES))
    return bad_request(rng.choice(sorted(BAD_INPUTS)), model)


def request_plan(seed: int, clients: int, per_client: int, models: list[str], gallery_name: str,
                 photo_count: int) -> list[list[RequestSpec]]:
    """Every client's list of requests. Each client has its own generator (seeded from `seed` and its number),
    so the plan is the same for the same arguments whatever the threads do."""
    colorize_specs = colorize_kinds(models, gallery_name)
    plan = []
    for client in range(clients):
        rng = random.Random(seed * 1_000_003 + client)
        plan.append([draw_request(rng, colorize_specs, models[0], photo_count) for _ in range(per_client)])
    return plan


# --- Photos -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Photo:
    filename: str
    data: bytes
    size: tuple[int, int]  # width, height
    mimetype: str


def make_photo(seed: int, size: tuple[int, int] = PHOTO_SIZE) -> np.ndarray:
    """A photo-like 8-bit grayscale image: a tilted gradient, a few discs and bars, and grain."""
    rng = np.random.default_rng(seed)
    width, height = size
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    image = 60 + 120 * ((np.cos(angle) * columns / width + np.sin(angle) * rows / height) % 1.0)
    for _ in range(6):
        cy, cx, radius = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(40, 220)
        image[(rows - cy) ** 2 + (columns - cx) ** 2 < radius ** 2] = rng.uniform(10, 245)
    for _ in range(3):
        top, left = int(rng.uniform(0, height)), int(rng.uniform(0, width))
        image[top:top + int(rng.uniform(20, 200)), left:left + int(rng.uniform(20, 400))] = rng.uniform(10, 245)
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_photos(seed: int) -> list[Photo]:
    """Three different grayscale photos: one PNG and two JPEGs (the usual uploads)."""
    photos = []
    for index, fmt in enumerate(("PNG", "JPEG", "JPEG")):
        buffer = io.BytesIO()
        image = Image.fromarray(make_photo(seed + index), mode="L")
        image.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
        extension = "png" if fmt == "PNG" else "jpg"
        photos.append(Photo(f"photo{index}.{extension}", buffer.getvalue(), image.size, f"image/{fmt.lower()}"))
    return photos


def upload_for(spec: RequestSpec, photos: list[Photo]) -> tuple[str, bytes, str] | None:
    """The multipart `image` file of a request: the photo, or a broken one for some bad inputs."""
    if spec.photo is None:
        return None
    photo = photos[spec.photo]
    if spec.bad == "text-as-png":
        return ("photo.png", b"This is not a photo, only text with a .png name.\n" * 20, "image/png")
    if spec.bad == "truncated-png":
        png = next(p for p in photos if p.mimetype == "image/png")
        return ("photo.png", png.data[: len(png.data) // 3], "image/png")
    return (photo.filename, photo.data, photo.mimetype)


# --- Sending and judging ----------------------------------------------------------------------------------------

@dataclass
class Result:
    kind: str
    outcome: str  # "ok", "busy" or "error"
    seconds: float
    message: str = ""


def judge(spec: RequestSpec, response: requests.Response, photos: list[Photo]) -> tuple[str, str]:
    """("ok" | "busy" | "error", why) for one answer."""
    status = response.status_code
    if status == 503 and "Retry-After" in response.headers:
        return "busy", ""
    if status != spec.expect:
        return "error", f"{spec.method} {spec.path} {spec.bad or spec.fields}: status {status}, {response.text[:160]!r}"
    content_type = response.headers.get("Content-Type", "")
    if spec.kind == MODELS_KIND:
        names = [entry.get("name") for entry in response.json()]
        return ("ok", "") if names else ("error", "GET /api/models: an empty list")
    if spec.kind == PAGE_KIND:
        return ("ok", "") if content_type.startswith("text/html") else ("error", f"GET {spec.path}: {content_type}")
    if spec.bad is not None:
        return ("ok", "") if "error" in response.json() else ("error", f"{spec.bad}: no 'error' in the JSON")
    return judge_png(spec, response, photos[spec.photo])


def judge_png(spec: RequestSpec, response: requests.Response, photo: Photo) -> tuple[str, str]:
    if not response.headers.get("Content-Type", "").startswith("image/png"):
        return "error", f"{spec.kind}: Content-Type {response.headers.get('Content-Type')}"
    try:
        image = Image.open(io.BytesIO(response.content))
        image.load()  # a truncated body fails here, not at open
    except Exception as error:  # noqa: BLE001 - any decoding failure is the server's error here
        return "error", f"{spec.kind}: the answer is not a readable PNG ({error})"
    if image.format != "PNG" or image.size != photo.size:
        return "error", f"{spec.kind}: {image.format} {image.size}, expected PNG {photo.size}"
    return "ok", ""


def send(session: requests.Session, base_url: str, spec: RequestSpec, photos: list[Photo], timeout: float) -> Result:
    """Send one request and judge it; the latency covers the whole answer, body included."""
    upload = upload_for(spec, photos)
    started = time.perf_counter()
    try:
        if spec.method == "GET":
            response = session.get(base_url + spec.path, timeout=timeout)
        else:
            response = session.post(base_url + spec.path, data=dict(spec.fields),
                                    files={"image": upload} if upload else None, timeout=timeout)
        seconds = time.perf_counter() - started
        outcome, message = judge(spec, response, photos)
    # RequestException: refused, reset, timed out, or JSON that does not parse. Any other exception: an answer
    # of an unexpected shape; counted, because a client thread that died of it would lose its other requests.
    except Exception as error:  # noqa: BLE001
        message = f"{spec.kind}: {type(error).__name__}: {error}"
        return Result(spec.kind, "error", time.perf_counter() - started, message)
    return Result(spec.kind, outcome, seconds, message)


class _FromAddress(requests.adapters.HTTPAdapter):
    """Connections from one local source address: each client of the load test is its own visitor, as it would be
    on the open web (the server shares its capacity per address: dashboard.server.connections, dashboard.guards.fair_share)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_session(base_url: str, number: int) -> requests.Session:
    """A keep-alive session; against a server on this machine, from loopback address 127.0.0.(10 + number)."""
    session = requests.Session()
    if urllib.parse.urlsplit(base_url).hostname in ("127.0.0.1", "localhost"):
        session.mount("http://", _FromAddress(f"127.0.0.{10 + number % 240}"))
    return session


def run_client(base_url: str, specs: list[RequestSpec], photos: list[Photo], timeout: float,
               results: list[Result], stop: threading.Event, number: int = 0) -> None:
    """One client: its requests one after another on one keep-alive session, from its own address."""
    with client_session(base_url, number) as session:
        for spec in specs:
            if stop.is_set():
                return
            results.append(send(session, base_url, spec, photos, timeout))  # list.append is thread-safe


def run_load(base_url: str, plan: list[list[RequestSpec]], photos: list[Photo], timeout: float) -> list[Result]:
    """All clients at once. Daemon threads and a polling join, so that Ctrl-C reaches the main thread at once."""
    results: list[Result] = []
    stop = threading.Event()
    threads = [threading.Thread(target=run_client, args=(base_url, specs, photos, timeout, results, stop, number),
                                name=f"client-{number}", daemon=True) for number, specs in enumerate(plan)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        stop.set()
    return results


def warm_up(base_url: str, models: list[str], gallery_name: str, photos: list[Photo], timeout: float) -> None:
    """One request per colorize kind, so that loading the models (on first use) is not in the timings."""
    with requests.Session() as session:
        for template in colorize_kinds(models, gallery_name):
            spec = RequestSpec(template.kind, template.method, template.path, template.fields, photo=0)
            result = send(session, base_url, spec, photos, timeout)
            note = f" ({result.message})" if result.outcome != "ok" else ""
            print(f"  warm-up {spec.kind:<14} {result.outcome:<5} {result.seconds:7.1f} s{note}", flush=True)


# --- Statistics and the report ----------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between the closest ranks (as numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(results: list[Result]) -> dict:
    """count, ok, busy, errors, p50 and p95 (seconds, ok answers only) of some results."""
    ok_seconds = [r.seconds for r in results if r.outcome == "ok"]
    p50, p95 = percentile(ok_seconds, 50), percentile(ok_seconds, 95)
    return {
        "count": len(results),
        "ok": sum(r.outcome == "ok" for r in results),
        "busy": sum(r.outcome == "busy" for r in results),
        "errors": sum(r.outcome == "error" for r in results),
        "p50_seconds": None if p50 is None else round(p50, 3),
        "p95_seconds": None if p95 is None else round(p95, 3),
    }


def kind_order(models: list[str]) -> list[str]:
    return [spec.kind for spec in colorize_kinds(models, "")] + [MODELS_KIND, PAGE_KIND, BAD_KIND]


def build_report(results: list[Result], models: list[str], wall_seconds: float, rss: dict, config: dict) -> dict:
    kinds = {kind: summarize([r for r in results if r.kind == kind]) for kind in kind_order(models)}
    return {
        "config": config,
        "kinds": {kind: row for kind, row in kinds.items() if row["count"]},
        "total": summarize(results),
        "wall_seconds": round(wall_seconds, 2),
        "requests_per_second": round(len(results) / wall_seconds, 3) if wall_seconds > 0 else None,
        "rss_mb": rss,
        "error_messages": [r.message for r in results if r.outcome == "error"][:20],
    }


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def format_report(report: dict) -> str:
    header = f"{'kind':<15}{'count':>7}{'ok':>6}{'busy':>6}{'errors':>8}{'p50 s':>9}{'p95 s':>9}"
    lines = [header, "-" * len(header)]
    rows = list(report["kinds"].items()) + [("total", report["total"])]
    for index, (kind, row) in enumerate(rows):
        if index == len(rows) - 1:
            lines.append("-" * len(header))
        lines.append(f"{kind:<15}{row['count']:>7}{row['ok']:>6}{row['busy']:>6}{row['errors']:>8}"
                     f"{_seconds(row['p50_seconds']):>9}{_seconds(row['p95_seconds']):>9}")
    lines.append("(latencies: ok answers only; busy = 503 with Retry-After)")
    rate = report["requests_per_second"]
    lines.append(f"wall time: {report['wall_seconds']:.1f} s ({rate if rate is not None else '-'} requests/s)")
    rss = report["rss_mb"]
    lines.append(f"server RSS: before {_mb(rss['before'])}, peak during {_mb(rss['peak'])}, "
                 f"after {_mb(rss['after'])}")
    for message in report["error_messages"]:
        lines.append(f"error: {message}")
    return "\n".join(lines)


# --- Server memory ----------------------------------------------------------------------------------------------

def read_rss_mb(pid: int) -> float | None:
    """VmRSS of a process in MB (10^6 bytes), or None when it cannot be read (gone, or not Linux)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024 / 1e6  # the kernel writes kB (KiB)
    except (OSError, ValueError, IndexError):
        return None
    return None


class RssSampler:
    """Reads a process's RSS every SAMPLE_INTERVAL_SECONDS in a thread and keeps the peak since `reset_peak`."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.peak: float | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        if self.pid is not None:
            self._thread.start()

    def now(self) -> float | None:
        return None if self.pid is None else read_rss_mb(self.pid)

    def reset_peak(self, value: float | None) -> None:
        with self._lock:
            self.peak = value

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_SECONDS):
            value = read_rss_mb(self.pid)
            if value is not None:
                with self._lock:
                    self.peak = value if self.peak is None else max(self.peak, value)


# --- The server -------------------------------------------------------------------------------------------------

class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    """A port nothing listens on now (the OS picks it); the server binds it a moment later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log_file) -> subprocess.Popen:
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port))
    return subprocess.Popen([sys.executable, "-m", "dashboard.server.serve"], cwd=REPO_ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def wait_until_ready(base_url: str, process: subprocess.Popen | None, timeout: float) -> list[dict]:
    """The model list once GET /api/models answers 200; ServerStartError if the server dies or is too slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerStartError(f"the server exited with code {process.returncode}")
        try:
            response = requests.get(base_url + "/api/models", timeout=5)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.5)
    raise ServerStartError(f"GET /api/models did not answer within {timeout:.0f} s")


def stop_server(process: subprocess.Popen) -> None:
    """Terminate, and kill when it does not stop in STOP_TIMEOUT_SECONDS."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(path: str, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- Main -------------------------------------------------------------------------------------------------------

def gallery_name() -> str:
    """The first reference photo of the gallery's manifest (the Welsh gallery requests name it)."""
    try:
        manifest = json.loads((REPO_ROOT / "assets" / "gallery" / "manifest.json").read_text())
        return manifest[0]["name"]
    except (OSError, ValueError, KeyError, IndexError):
        return GALLERY_FALLBACK


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads); default 8")
    parser.add_argument("--requests", type=int, default=25, help="requests per client; default 25")
    parser.add_argument("--models", default=",".join(ALL_MODELS),
                        help=f"comma-separated models to colorize with; default {','.join(ALL_MODELS)}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the request mix and the photos")
    parser.add_argument("--url", help="use this running server (e.g. http://127.0.0.1:8050) instead of starting one")
    parser.add_argument("--pid", type=int, help="with --url: the server's process id, to read its memory")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per request; default 300")
    parser.add_argument("--json", type=Path, help="also write the report to this JSON file")
    args = parser.parse_args(argv)
    args.models = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = sorted(set(args.models) - set(ALL_MODELS))
    if unknown or not args.models:
        parser.error(f"--models: choose from {', '.join(ALL_MODELS)} (got {args.models})")
    if args.clients < 1 or args.requests < 1:
        parser.error("--clients and --requests must be at least 1")
    if args.pid is not None and not args.url:
        parser.error("--pid goes with --url (a server started here is measured anyway)")
    return args


def measure(args: argparse.Namespace, base_url: str, pid: int | None) -> dict:
    """Warm-up, the load itself, and the memory around it; returns the report."""
    photos = make_photos(args.seed)
    gallery = gallery_name()
    plan = request_plan(args.seed, args.clients, args.requests, args.models, gallery, len(photos))
    sampler = RssSampler(pid)
    sampler.start()
    try:
        print(f"warming up ({', '.join(args.models)})...", flush=True)
        warm_up(base_url, args.models, gallery, photos, args.timeout)
        before = sampler.now()
        sampler.reset_peak(before)  # the peak during the load, not during the model loads
        print(f"load: {args.clients} clients x {args.requests} requests...", flush=True)
        started = time.perf_counter()
        results = run_load(base_url, plan, photos, args.timeout)
        wall = time.perf_counter() - started
        peak = sampler.peak
        time.sleep(SETTLE_SECONDS if pid is not None else 0)
        after = sampler.now()
    finally:
        sampler.stop()
    rss = {key: None if value is None else round(value, 1)
           for key, value in (("before", before), ("peak", peak), ("after", after))}
    config = {"clients": args.clients, "requests_per_client": args.requests, "models": args.models,
              "seed": args.seed, "url": base_url, "photo_size": list(PHOTO_SIZE), "cpus": os.cpu_count()}
    return build_report(results, args.models, wall, rss, config)


def _raise_keyboard_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt  # so that `finally` stops the server when this script is terminated too


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    process = None
    log = None
    try:
        if args.url:
            base_url, pid = args.url.rstrip("/"), args.pid
        else:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            log = tempfile.NamedTemporaryFile("w+b", prefix="load-server-", suffix=".log", delete=False)
            print(f"starting the server on {base_url} (its log: {log.name})...", flush=True)
            process = start_server(port, log)
            pid = process.pid
        started = time.perf_counter()
        try:
            wait_until_ready(base_url, process, STARTUP_TIMEOUT_SECONDS)
        except ServerStartError as error:
            print(f"the server is not answering: {error}\n{_log_tail(log.name) if log else ''}", file=sys.stderr)
            return 2
        print(f"server ready after {time.perf_counter() - started:.1f} s (pid {pid or 'unknown'})", flush=True)
        report = measure(args, base_url, pid)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if process is not None:
            stop_server(process)
        if log is not None:
            log.close()
    if log is not None and not report["total"]["errors"]:
        os.unlink(log.name)  # nothing to look into; kept (and named above) when something went wrong
    print()
    print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["total"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
