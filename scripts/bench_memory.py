"""Peak memory of one photo through the whole server path, per model and size, printed as a table.

The path: `decode_image(png_bytes)` -> `colorize(decoded, model, reference=...)` -> `at_strength(1.0)` ->
`encode_png`. Each (model, size) runs in a fresh process, so peaks do not mix: it loads the model and runs the
path once on a small photo (lazy loads, traces, caches), makes the big grayscale PNG (a smooth gradient plus
noise, so neither decoding nor the models see a trivial image), then runs the path once. The peak is VmHWM
after the run minus VmRSS before it (Linux only: /proc/self/status); the PNG bytes themselves are part of the
baseline, as a server holds the request before decoding it.

    .venv/bin/python scripts/bench_memory.py --sizes 4,16,max --models welsh,welsh:gallery,cnn,cgan,blend

Models: a registry name, "welsh" meaning reference "auto", "welsh:gallery" the first gallery photo, or
"welsh:NAME" a named reference. Sizes in megapixels; "max" is the largest square under settings.MAX_PIXELS.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import colorizers  # noqa: E402
from colorizers import settings  # noqa: E402

DEFAULT_MODELS = "welsh,welsh:gallery,cnn,cgan,blend"
DEFAULT_SIZES = "4,16,max"
_BAND_ROWS = 256  # the test photo is made in bands, so making it costs little next to the run


def status_kilobytes(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS: resident now; VmHWM: the most resident since start)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} is not in /proc/self/status (Linux only)")


def side_for(size: str) -> int:
    """Side of the square test photo: sqrt(size) megapixels, or the largest square under MAX_PIXELS."""
    if size == "max":
        side = math.isqrt(settings.MAX_PIXELS)
        return side - 1 if side * side >= settings.MAX_PIXELS else side
    return math.isqrt(int(float(size) * 1e6))


def gray_png(side: int, seed: int = 0) -> bytes:
    """An 8-bit grayscale PNG, side x side: a diagonal gradient with gentle waves plus noise."""
    rng = np.random.default_rng(seed)
    gray = np.empty((side, side), np.uint8)
    columns = np.arange(side, dtype=np.float32) / side
    for top in range(0, side, _BAND_ROWS):
        rows = np.arange(top, min(top + _BAND_ROWS, side), dtype=np.float32)[:, None] / side
        band = 40.0 + 150.0 * (rows + columns) / 2.0 + 25.0 * np.sin(12.0 * rows) * np.cos(9.0 * columns)
        band += rng.normal(0.0, 6.0, band.shape).astype(np.float32)
        gray[top : top + len(rows)] = np.clip(band, 0, 255).astype(np.uint8)
    return colorizers.encode_png(np.ascontiguousarray(gray))


def model_and_reference(spec: str) -> tuple[str, str | None]:
    name, _, reference = spec.partition(":")
    if name != "welsh":
        return name, None
    if reference == "gallery":
        from colorizers.references import gallery

        photos = gallery()
        if not photos:
            raise SystemExit("welsh:gallery needs a gallery photo (assets/gallery), and there is none.")
        reference = photos[0].name
    return name, reference or "auto"


def server_path(png: bytes, model: str, reference: str | None) -> bytes:
    """What a server does with one upload: decode, colour, take the full-strength result, encode it."""
    decoded = colorizers.decode_image(png)
    options = {"reference": reference} if reference else {}
    result = colorizers.colorize(decoded, model, **options)
    return colorizers.encode_png(result.at_strength(1.0))


def measure_one(spec: str, size: str) -> dict:
    """Run in a fresh process: load and warm the model, then one measured run of the big photo."""
    model, reference = model_and_reference(spec)
    server_path(gray_png(192, seed=1), model, reference)  # loads the model, library, gallery signatures
    side = side_for(size)
    png = gray_png(side)
    gc.collect()
    baseline = status_kilobytes("VmRSS")
    high_before = status_kilobytes("VmHWM")
    started = time.perf_counter()
    server_path(png, model, reference)
    seconds = time.perf_counter() - started
    peak = status_kilobytes("VmHWM")
    return {
        "model": spec if reference in (None, "auto") else f"welsh:{reference}",
        "pixels": side * side,
        "seconds": seconds,
        "peak_bytes": (peak - baseline) * 1024,
        # The run's own peak is hidden when it stayed under the set-up's (then the number is an upper bound).
        "hidden": peak <= high_before,
    }


def run_in_fresh_process(spec: str, size: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--one", spec, "--sizes", size], capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise SystemExit(f"{spec} at {size} MP failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def print_row(row: dict) -> None:
    megapixels = row["pixels"] / 1e6
    note = "  (under set-up peak)" if row["hidden"] else ""
    print(
        f"{row['model']:<22} {megapixels:>6.2f} {row['seconds']:>8.1f} {row['peak_bytes'] / 1e6:>9.0f}"
        f" {row['peak_bytes'] / row['pixels']:>8.1f}{note}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated (default {DEFAULT_MODELS})")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"megapixels, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.sizes)))
        return
    print(f"MAX_PIXELS = {settings.MAX_PIXELS:,}; peak = VmHWM after the run - VmRSS before (MB = 10^6 bytes)")
    print(f"{'model':<22} {'MP':>6} {'seconds':>8} {'peak MB':>9} {'B/pixel':>8}")
    for spec in args.models.split(","):
        for size in args.sizes.split(","):
            print_row(run_in_fresh_process(spec, size))


if __name__ == "__main__":
    main()
