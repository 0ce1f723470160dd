"""Timings for the colorizers, printed as a small table (`make bench`). Not a test: numbers depend on the machine.

Each section is a function that takes the bench images and returns rows (name, value, note); add sections
(CNN, cGAN, end to end, memory) to SECTIONS. Images: the first two photos of the reference gallery
(assets/gallery/*.jpg) resized to the chosen size, the first as an 8-bit grayscale upload and the second as the
colour reference; generated photo-like images when the gallery is not there.
"""
from __future__ import annotations

import argparse
import ast
import io
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colorizers import registry, settings, welsh  # noqa: E402
from colorizers.color import gray_rgb  # noqa: E402
from colorizers.decode import decode_image, encode_png  # noqa: E402

LOOP_CROP = 100  # the per-pixel loop runs on a LOOP_CROP x LOOP_CROP crop and is extrapolated


@dataclass
class BenchImages:
    """target: the grayscale upload, decoded; reference: sRGB uint8 (h, w, 3); source: where they came from."""

    target_lightness: np.ndarray
    reference_rgb: np.ndarray
    source: str


@dataclass
class Row:
    name: str
    value: str
    note: str = ""


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` calls, each as if on a new photo (the CNN's kept runs are dropped first)."""
    seconds = []
    for _ in range(runs):
        _forget_recent_cnn_runs()
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


def _forget_recent_cnn_runs() -> None:
    if registry.model_info("cnn").is_available:
        registry.get_model("cnn").forget_recent_runs()


def load_images(megapixels: float) -> BenchImages:
    photos = sorted(Path(settings.GALLERY_DIR).glob("*.jpg"))
    if len(photos) >= 2:
        target = Image.open(photos[0]).convert("L")
        reference = Image.open(photos[1]).convert("RGB")
        source = f"{photos[0].name} (as grayscale) + {photos[1].name}"
    else:
        target = Image.fromarray(generated_photo(seed=1)).convert("L")
        reference = Image.fromarray(generated_photo(seed=2))
        source = "generated photo-like images (no gallery photos found)"
    target, reference = resized(target, megapixels), resized(reference, megapixels)
    buffer = io.BytesIO()
    target.save(buffer, format="PNG")  # decoded like an upload, so the lightness is what the app would see
    lightness = decode_image(buffer.getvalue()).lightness
    return BenchImages(lightness, np.asarray(reference), source)


def resized(image: Image.Image, megapixels: float) -> Image.Image:
    scale = np.sqrt(megapixels * 1e6 / (image.width * image.height))
    return image.resize((max(8, round(image.width * scale)), max(8, round(image.height * scale))), Image.BILINEAR)


def generated_photo(seed: int, height: int = 768, width: int = 1024) -> np.ndarray:
    """Smooth colour regions (sky-like gradient, a few blobs) with fine texture in part: sRGB uint8."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.zeros((height, width, 3))
    for channel in range(3):
        for _ in range(4):
            frequency, phase = rng.uniform(1.0, 6.0, 2), rng.uniform(0.0, 2 * np.pi)
            image[..., channel] += np.sin(frequency[0] * rows * np.pi + frequency[1] * columns * np.pi + phase)
    image = 128 + 40 * image
    texture = rng.normal(0.0, 18.0, (height, width, 1)) * (rows[..., None] > 0.4)
    return np.clip(image + texture, 0, 255).astype(np.uint8)


def bench_welsh(images: BenchImages, runs: int) -> list[Row]:
    """Welsh on the full target and reference (decode excluded), and the per-pixel loop, extrapolated."""
    target, reference = images.target_lightness, images.reference_rgb
    welsh.colorize(target, reference)  # warm up (first-call imports, allocator)
    fast = timed(lambda: welsh.colorize(target, reference), runs)
    median = statistics.median(fast)
    megapixels = target.size / 1e6
    crop = np.ascontiguousarray(target[:LOOP_CROP, :LOOP_CROP])
    # The loop's per-pixel part is extrapolated; its fixed part (sampling the reference) is counted once.
    fixed = statistics.median(timed(lambda: welsh.reference_samples(reference, crop), 3))
    loop = statistics.median(timed(lambda: welsh.transfer_chroma_loop(crop, reference), 3))
    loop_per_megapixel = (loop - fixed) * 1e6 / crop.size + fixed
    fast_per_megapixel = median / megapixels
    size = f"{target.shape[1]}x{target.shape[0]} + {reference.shape[1]}x{reference.shape[0]}"
    return [
        Row("welsh.colorize, median", f"{median:.3f} s", f"{runs} runs, {size}"),
        Row("welsh.colorize, spread", f"{min(fast):.3f}-{max(fast):.3f} s", "min-max"),
        Row("welsh.colorize, per MP", f"{fast_per_megapixel:.3f} s", "target pixels"),
        Row("per-pixel loop, per MP", f"{loop_per_megapixel:.1f} s", f"timed on {LOOP_CROP}x{LOOP_CROP}, extrapolated"),
        Row("speed-up over the loop", f"{loop_per_megapixel / fast_per_megapixel:.0f}x", ""),
    ]


def _learned_models() -> list[str]:
    return [info.name for info in registry.available_models() if not info.uses_reference]


def bench_models(images: BenchImages, runs: int) -> list[Row]:
    """Per learned model: load time, a forward pass at model size, and a 1 MP photo end to end (no decode)."""
    rows = []
    for name in _learned_models():
        started = time.perf_counter()
        colorizer = registry.get_model(name)  # loads, compiles and warms up
        rows.append(Row(f"{name}: load + warm-up", f"{time.perf_counter() - started:.2f} s", "once per process"))
        size = getattr(colorizer, "size", None)  # the blend has no network size of its own
        if size:
            small = np.full((size, size), 50.0, np.float32)
            forward = timed(lambda: colorizer.predict_chroma(small), runs * 3)
            rows.append(Row(f"{name}: forward at {size}x{size}", f"{statistics.median(forward) * 1000:.0f} ms", f"median of {runs * 3}"))
        whole = timed(lambda: registry.colorize(images.target_lightness, name), runs)
        shape = images.target_lightness.shape
        rows.append(Row(f"{name}: {shape[1]}x{shape[0]} end to end", f"{statistics.median(whole):.3f} s", "model + chroma merge"))
    if not rows:
        rows.append(Row("no learned model installed", "-", "weights missing"))
    return rows


def bench_suggestion(images: BenchImages, runs: int) -> list[Row]:
    """The "Suggest for me" reference on the target: content retrieval (the CNN's embedding) + the averaged Welsh transfers."""
    from colorizers.library import library
    from colorizers.suggestion import SUGGESTED_COUNT, WORKING_SIDE

    if library() is None or not registry.model_info("cnn").is_available:
        return [Row("suggestion by content", "-", "no library or no CNN weights")]
    target = images.target_lightness
    cnn = registry.get_model("cnn")
    registry.colorize(target, "welsh", reference="auto")  # warm up: library photos read, caches filled
    embed = timed(lambda: cnn.embed(target), runs * 3)
    whole = timed(lambda: registry.colorize(target, "welsh", reference="auto"), runs)
    shape = f"{target.shape[1]}x{target.shape[0]}"
    return [
        Row("embedding (retrieval)", f"{statistics.median(embed) * 1000:.0f} ms", f"median of {runs * 3}"),
        Row(f"welsh auto, {shape}, median", f"{statistics.median(whole):.3f} s",
            f"retrieval + {SUGGESTED_COUNT} transfers at long side {WORKING_SIDE} + merge; median of {runs}"),
        Row("welsh auto, spread", f"{min(whole):.3f}-{max(whole):.3f} s", "min-max; target 0.5 s"),
    ]


def bench_all_models(images: BenchImages, runs: int) -> list[Row]:
    """A 1 MP upload through every available model: decode, colour, encode each result as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(gray_rgb(images.target_lightness)).save(buffer, format="PNG")
    upload = buffer.getvalue()
    available = [info.name for info in registry.available_models()]
    rows = []
    # The three models the site was built around (target: 0.45 s), then every model it has.
    for names in ([name for name in ("welsh", "cnn", "cgan") if name in available], available):
        for name in names:
            registry.get_model(name)

        def everything():
            image = decode_image(upload)
            for name in names:
                encode_png(registry.colorize(image, name).rgb)

        everything()
        seconds = timed(everything, runs)
        rows.append(Row(f"decode + {' + '.join(names)} + PNGs", f"{statistics.median(seconds):.3f} s",
                        f"median of {runs}, spread {min(seconds):.3f}-{max(seconds):.3f} s"))
    return rows


TOUCHUP_TARGET_SECONDS = 1.0


def bench_touchup(images: BenchImages, runs: int) -> list[Row]:
    """Touch-up (Levin et al. 2004) of a model's result on the 1 MP photo with five brush strokes: the solve at the
    working size and the full-resolution merge (`registry.touch_up`), median of `runs`; and from gray (scribble)."""
    from colorizers.touchup import WORKING_SIDE, Stroke, draw_strokes, working_size

    lightness = images.target_lightness
    height, width = lightness.shape
    result = registry.colorize(lightness, "welsh", reference=images.reference_rgb)
    colours = [(200, 40, 30), (40, 80, 210), (60, 150, 60), (230, 190, 60), (200, 150, 120)]
    # Five strokes of a few segments each, spread over the photo, 1% of the long side wide.
    strokes = [Stroke(tuple((width * (0.1 + 0.18 * index + 0.05 * step), height * (0.2 + 0.2 * step))
                            for step in range(4)), colour, 0.01 * max(height, width))
               for index, colour in enumerate(colours)]
    hints = draw_strokes(strokes, lightness.shape)
    registry.touch_up(result, hints)  # warm up
    touched = timed(lambda: registry.touch_up(result, hints), runs)
    scribble = registry.colorize(lightness, "scribble")
    from_gray = timed(lambda: registry.touch_up(scribble, hints), max(1, runs // 2))
    median = statistics.median(touched)
    work = working_size(lightness.shape, WORKING_SIDE)
    verdict = "meets" if median <= TOUCHUP_TARGET_SECONDS else "misses"
    return [
        Row(f"touch-up, {width}x{height}, 5 strokes, median", f"{median:.3f} s",
            f"{runs} runs; solve at {work[1]}x{work[0]} + full-size merge"),
        Row("touch-up, spread", f"{min(touched):.3f}-{max(touched):.3f} s",
            f"min-max; {verdict} the {TOUCHUP_TARGET_SECONDS:.1f} s target"),
        Row("scribble (from gray), median", f"{statistics.median(from_gray):.3f} s", f"{len(from_gray)} runs"),
    ]


def bench_memory(images: BenchImages, runs: int) -> list[Row]:
    """Resident memory of a fresh process holding every available model after one photo each."""
    probe = (
        "import numpy as np; from colorizers import registry; "
        "names = [i.name for i in registry.available_models()]; "
        "[registry.colorize(np.full((600, 800), 50.0, np.float32), n) for n in names]; "
        "status = open('/proc/self/status').read(); "
        "print(' + '.join(names)); "
        "print({line.split(':')[0]: line.split()[1] for line in status.splitlines() if line.startswith(('VmRSS', 'VmHWM'))})"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=settings.REPO_ROOT, check=True)
    names, kilobytes = output.stdout.strip().splitlines()[-2:]
    values = ast.literal_eval(kilobytes)
    rss, peak = int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024
    return [Row(f"RSS with {names}", f"{rss:.0f} MB", f"peak {peak:.0f} MB")]


BROWSER_RUNS = 3


def browser_upload_to_results(images: BenchImages, runs: int) -> list[Row]:
    """Headless Chromium on the real Compare page, served by the app's Flask server in this process: seconds from
    dropping a 1 MP grayscale photo until every available model's result is shown (images loaded), median of 3.

    Each run starts a fresh browser session (an empty page). A first, untimed run loads the models.
    """
    import logging
    import shutil
    import tempfile
    import threading

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    from werkzeug.serving import make_server

    from dashboard.app import server as flask_server
    from dashboard.studio import default_studio

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the table
    models = [info.name for info in registry.available_models()]
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "bench-photo.png"
        Image.fromarray(gray_rgb(images.target_lightness)).convert("L").save(photo)
        default_studio().ensure_worker()
        http = make_server("127.0.0.1", 0, flask_server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        options = Options()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1440,1000"):
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options,
                                  service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"))
        all_shown = (
            "const rows = document.querySelectorAll('.studio-row');"
            "const images = [...document.querySelectorAll('.studio-row img.result-image')];"
            "return rows.length === 1 && rows[0].classList.contains('row-done') && images.length === arguments[0]"
            " && images.every(image => image.complete && image.naturalWidth > 0);"
        )
        try:
            seconds = []
            for run in range(BROWSER_RUNS + 1):
                driver.get(f"http://127.0.0.1:{http.server_port}/compare")
                driver.delete_all_cookies()  # a fresh session: an empty Compare page
                driver.refresh()
                WebDriverWait(driver, 30).until(lambda d: d.find_elements("css selector", "#compare-upload input"))
                file_input = driver.find_element("css selector", "#compare-upload input[type=file]")
                started = time.perf_counter()
                file_input.send_keys(str(photo))
                WebDriverWait(driver, 300, poll_frequency=0.02).until(
                    lambda d: d.execute_script(all_shown, len(models) + 1))
                if run:  # the first run loads the models
                    seconds.append(time.perf_counter() - started)
        finally:
            driver.quit()
            http.shutdown()
    median = statistics.median(seconds)
    size = f"{images.target_lightness.shape[1]}x{images.target_lightness.shape[0]}"
    verdict = "meets" if median <= 3.0 else "misses"
    return [
        Row("upload to all results shown, median", f"{median:.2f} s",
            f"{BROWSER_RUNS} runs, {size} PNG, models: {', '.join(models)}"),
        Row("upload to all results shown, spread", f"{min(seconds):.2f}-{max(seconds):.2f} s",
            f"{verdict} the 3 s target" + ("" if len(models) == 3 else " (target is for all three models)")),
    ]


def bench_png(images: BenchImages, runs: int) -> list[Row]:
    """`encode_png` of a 1 MP result at several zlib levels: what chose `decode.PNG_COMPRESSION`."""
    from colorizers import decode

    rgb = registry.colorize(images.target_lightness, "welsh", reference=images.reference_rgb).rgb
    chosen, rows = decode.PNG_COMPRESSION, []
    try:
        for level in (0, 1, 2, 3, 6):
            decode.PNG_COMPRESSION = level
            seconds = timed(lambda: encode_png(rgb), runs)
            size = len(encode_png(rgb)) / 1e6
            rows.append(Row(f"PNG level {level}{' (used)' if level == chosen else ''}",
                            f"{statistics.median(seconds) * 1000:.0f} ms", f"{size:.2f} MB, median of {runs}"))
    finally:
        decode.PNG_COMPRESSION = chosen
    return rows


EXEMPLAR_TARGETS = {1: 0.35, 5: 0.7}  # seconds, issue 19


def bench_exemplar(images: BenchImages, runs: int) -> list[Row]:
    """Colour by content on the target from one reference, then from five (the gallery's photos at the same size),
    each run with the references' features forgotten: every reference is new to it, as an upload is."""
    if not registry.model_info("exemplar").is_available:
        return [Row("exemplar", "skipped", "weights/exemplar_features.onnx missing: run `make export`")]
    megapixels = images.target_lightness.size / 1e6
    photos = sorted(Path(settings.GALLERY_DIR).glob("*.jpg"))[1:5]
    extra = [np.asarray(resized(Image.open(photo).convert("RGB"), megapixels)) for photo in photos]
    model = registry.get_model("exemplar")

    def run(references) -> None:
        model.forget_references()
        _forget_recent_cnn_runs()
        registry.colorize(images.target_lightness, "exemplar", reference=references)

    rows = []
    for references in ([images.reference_rgb], [images.reference_rgb, *extra]):
        run(references)  # warm up
        seconds = timed(lambda: run(references), runs)
        count = len(references)
        verdict = "within" if statistics.median(seconds) <= EXEMPLAR_TARGETS.get(count, 0) else "OVER"
        rows.append(Row(f"exemplar, {megapixels:.1f} MP target, {count} reference{'s' * (count > 1)} of the same size",
                        f"{statistics.median(seconds):.3f} s",
                        f"median of {runs}, spread {min(seconds):.3f}-{max(seconds):.3f} s; {verdict} the "
                        f"{EXEMPLAR_TARGETS.get(count, 0):.2f} s target"))
    return rows


SECTIONS: dict[str, Callable[[BenchImages, int], list[Row]]] = {
    "welsh": bench_welsh,
    "exemplar": bench_exemplar,
    "models": bench_models,
    "suggestion": bench_suggestion,
    "touchup": bench_touchup,
    "all_models": bench_all_models,
    "png": bench_png,
    "memory": bench_memory,
    "browser": browser_upload_to_results,
}


def print_table(title: str, rows: list[Row]) -> None:
    width = max(len(row.name) for row in rows)
    value_width = max(len(row.value) for row in rows)
    print(f"\n{title}")
    for row in rows:
        print(f"  {row.name:<{width}}  {row.value:>{value_width}}  {row.note}".rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (default 7)")
    parser.add_argument("--megapixels", type=float, default=1.0, help="target and reference size (default 1)")
    parser.add_argument("--only", choices=sorted(SECTIONS), nargs="*", help="sections to run (default all)")
    arguments = parser.parse_args(argv)
    images = load_images(arguments.megapixels)
    print(f"images: {images.source}")
    for name in arguments.only or SECTIONS:
        print_table(name, SECTIONS[name](images, arguments.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
