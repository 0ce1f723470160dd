"""The video targets (part of `make bench`): the city clip (720x405, 25 fps, 190 frames, two shots; `make data`)
coloured by `python -m colorizers colorize-video`, from the call to the written MP4, in a fresh process each time:

- automatic: `--model cnn`;
- keyframe: `--model exemplar --keyframe 0=FIRST.png`, the clip's true first frame as the coloured keyframe.

Peak memory is the process's maximum resident set (the whole job: Python, the models, the clip, the MP4). Runs
REPEATS times each and prints every run, the median and the spread. Not a test: numbers depend on the machine.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers.decode import encode_png  # noqa: E402
from colorizers.training.video_evaluation import CITY_CLIP  # noqa: E402
from colorizers.video import frame_at  # noqa: E402
from scripts.bench_serving import serving_python  # noqa: E402

TARGET_SECONDS = {"automatic": 40.0, "keyframe": 60.0}
TARGET_PEAK_BYTES = 1.5e9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clip", type=Path, default=CITY_CLIP)
    arguments = parser.parse_args(argv)
    if not arguments.clip.exists():
        print(f"{arguments.clip} is missing: run `make data` first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        keyframe = Path(folder) / "first.png"
        keyframe.write_bytes(encode_png(frame_at(arguments.clip.read_bytes(), 0)))
        out = str(Path(folder) / "out.mp4")
        modes = {
            "automatic": ["--model", "cnn", "--out", out, str(arguments.clip)],
            "keyframe": ["--model", "exemplar", "--keyframe", f"0={keyframe}", "--out", out, str(arguments.clip)],
        }
        failed = False
        for mode, command in modes.items():
            seconds, peaks = zip(*(timed_run(command) for _ in range(arguments.repeats)))
            median = statistics.median(seconds)
            ok = median <= TARGET_SECONDS[mode] and max(peaks) <= TARGET_PEAK_BYTES
            failed |= not ok
            print(f"{mode:9s} runs {', '.join(f'{value:.1f}' for value in seconds)} s; median {median:.1f} s "
                  f"(spread {max(seconds) - min(seconds):.1f} s; target {TARGET_SECONDS[mode]:.0f} s); "
                  f"peak RSS {max(peaks) / 1e9:.2f} GB (target {TARGET_PEAK_BYTES / 1e9:.1f}) "
                  f"{'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


def timed_run(command: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS bytes) of one fresh `colorize-video` process; the peak is its VmHWM, read while it runs."""
    started = time.perf_counter()
    process = subprocess.Popen([str(serving_python()), "-m", "colorizers", "colorize-video", *command],
                               cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status, peak = Path(f"/proc/{process.pid}/status"), 0
    while process.poll() is None:
        try:
            peak = max([peak] + [int(line.split()[1]) * 1024 for line in status.read_text().splitlines()
                                 if line.startswith("VmHWM:")])
        except OSError:  # the process ended between poll and read
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"colorize-video failed ({process.returncode})")
    return seconds, float(peak)


if __name__ == "__main__":
    raise SystemExit(main())
