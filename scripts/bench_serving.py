"""What deploying costs (part of `make bench`): start-up, memory after real traffic, the size of the serving
environment, and the Welsh command line from start to finish. Not a test: numbers depend on the machine.

Each measurement runs the serving environment's Python (`.venv-serve`, what `make run` installs; this Python when
there is none) in fresh processes:

- start to first results: from starting `python -m dashboard.server.serve` until the API has answered one 1 MP photo with
  each of Welsh, CNN and cGAN (asked one after another, each retried until the server answers);
- RSS after 50 mixed API requests (every model, 1 MP photos), read from /proc;
- the environment's size on disk, and whether TensorFlow can be imported in it (it must not);
- `python -m colorizers colorize --model welsh` on a 1 MP photo with a 1 MP reference, start to finish.
"""
from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVE_PYTHON = REPO_ROOT / ".venv-serve" / "bin" / "python"
FIRST_MODELS = ("welsh", "cnn", "cgan")
MIXED_REQUESTS = 50


def serving_python() -> Path:
    return SERVE_PYTHON if SERVE_PYTHON.exists() else Path(sys.executable)


def bench_photos() -> tuple[bytes, bytes]:
    """A 1 MP grayscale photo and a 1 MP colour reference, as PNG bytes (the gallery's first two photos)."""
    sys.path.insert(0, str(REPO_ROOT))
    from colorizers.references import gallery

    photos = [np.asarray(Image.open(photo.file).convert("RGB")) for photo in gallery()[:2]]
    encoded = []
    for index, rgb in enumerate(photos):
        image = Image.fromarray(rgb)
        scale = (1_000_000 / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
        buffer = io.BytesIO()
        (image.convert("L") if index == 0 else image).save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    return encoded[0], encoded[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(url: str, photo: bytes, model: str, timeout: float = 120) -> requests.Response:
    return requests.post(f"{url}/api/colorize", data={"model": model}, files={"image": ("photo.png", photo)},
                         timeout=timeout)


def start_to_first_results_and_rss(photo: bytes) -> list[tuple[str, str, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
    started = time.perf_counter()
    server = subprocess.Popen([str(serving_python()), "-m", "dashboard.server.serve"], cwd=REPO_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answered = {}
        for model in FIRST_MODELS:
            while True:
                try:
                    if post(url, photo, model).status_code == 200:
                        answered[model] = time.perf_counter() - started
                        break
                except requests.ConnectionError:
                    pass  # not listening yet
                if time.perf_counter() - started > 120:
                    raise RuntimeError("the server did not answer within 120 s")
                time.sleep(0.05)
        first = time.perf_counter() - started
        models = [model["name"] for model in requests.get(f"{url}/api/models", timeout=30).json()]
        for index in range(MIXED_REQUESTS):
            assert post(url, photo, models[index % len(models)]).status_code == 200
        rss = rss_megabytes(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    steps = ", ".join(f"{model} at {seconds:.2f} s" for model, seconds in answered.items())
    return [
        ("start to first results (welsh, cnn, cgan)", f"{first:.2f} s", steps),
        (f"RSS after {MIXED_REQUESTS} mixed requests", f"{rss:.0f} MB", ", ".join(models)),
    ]


def environment_size() -> list[tuple[str, str, str]]:
    python = serving_python()
    if python == Path(sys.executable):
        return [("serving environment", "-", "no .venv-serve here: run `make install-serve`")]
    size = subprocess.run(["du", "-sm", str(python.parent.parent)], capture_output=True, text=True, check=True)
    tensorflow = subprocess.run([str(python), "-c", "import tensorflow"], capture_output=True)
    return [(".venv-serve on disk", f"{size.stdout.split()[0]} MB",
             "import tensorflow " + ("fails, as it must" if tensorflow.returncode else "WORKS: it should not"))]


def command_line(photo: bytes, reference: bytes, runs: int, model: str) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        photo_path, reference_path = Path(folder) / "photo.png", Path(folder) / "reference.png"
        photo_path.write_bytes(photo)
        reference_path.write_bytes(reference)
        command = [str(serving_python()), "-m", "colorizers", "colorize", "--model", model, "--reference",
                   str(reference_path), "--out", str(Path(folder) / "out"), str(photo_path)]
        seconds = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
            seconds.append(time.perf_counter() - started)
    return [(f"{model} CLI, 1 MP photo + 1 MP reference", f"{statistics.median(seconds):.2f} s",
             f"start to finish, median of {runs}, spread {min(seconds):.2f}-{max(seconds):.2f} s")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args(argv)
    photo, reference = bench_photos()
    rows = [*environment_size(), *command_line(photo, reference, arguments.runs, "welsh"),
            *command_line(photo, reference, arguments.runs, "exemplar"),
            *start_to_first_results_and_rss(photo)]
    print(f"\nserving (python: {serving_python()})")
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>8}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
