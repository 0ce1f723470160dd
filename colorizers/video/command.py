"""`python -m colorizers colorize-video ...` and `... evaluate-video ...`: the command line's video commands."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from ..decode import read_image_file
from ..errors import ColorizerError
from ..registry import MODELS

BAR_WIDTH = 30


def add_parsers(commands) -> None:
    colour = commands.add_parser(
        "colorize-video", help="colour a black-and-white clip, writing an MP4 (H.264, the clip's size, rate and sound)")
    colour.add_argument("input", type=Path, metavar="IN")
    colour.add_argument("--model", default="cnn", choices=sorted(MODELS),
                        help="the model for every frame of shots without a keyframe (default cnn)")
    colour.add_argument("--reference", action="append", metavar="REF",
                        help="for welsh and exemplar: a colour photo's path or a gallery or library name (repeatable)")
    colour.add_argument("--keyframe", action="append", default=[], metavar="N=FRAME.png",
                        help="frame N (from 0) as you coloured it; its colour is carried through its shot "
                             "(repeatable: one per shot at most is needed)")
    colour.add_argument("--strength", type=float, default=1.0, help="chroma scale, 0 to 1.5")
    colour.add_argument("--out", type=Path, required=True, metavar="OUT.mp4")
    evaluate = commands.add_parser(
        "evaluate-video", help="score every way of colouring on the city clip and clips panned over foreign photos")
    evaluate.add_argument("--out", type=Path, required=True, metavar="DIR")
    evaluate.add_argument("--model", default="cnn", choices=sorted(MODELS))
    evaluate.add_argument("--pans", type=int, default=6, help="panned clips (default 6)")


def colorize_video_command(arguments: argparse.Namespace) -> int:
    from . import colorize_video
    from ..cli import _reference_argument

    reference = _reference_argument(arguments.reference) if arguments.reference else None
    keyframes = dict(_keyframe(value) for value in arguments.keyframe)
    try:
        data = arguments.input.read_bytes()
    except OSError as error:
        raise ColorizerError(f"{arguments.input}: {error.strerror or error}") from None
    bar = ProgressBar(sys.stderr)
    mp4 = colorize_video(data, arguments.model, reference=reference, keyframes=keyframes,
                         strength=arguments.strength, progress=bar.update)
    bar.finish()
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_bytes(mp4)
    print(f"{arguments.input} -> {arguments.out} ({len(mp4) / 1e6:.1f} MB) in {bar.elapsed():.1f} s", file=sys.stderr)
    return 0


def _keyframe(value: str) -> tuple[int, object]:
    index, separator, path = value.partition("=")
    if not separator or not index.strip().isdigit():
        raise ColorizerError(f"--keyframe takes N=FRAME.png (frame N counted from 0), not '{value}'")
    try:
        return int(index), read_image_file(Path(path)).rgb
    except ColorizerError as error:
        raise ColorizerError(f"keyframe {path}: {error}") from None


class ProgressBar:
    """Frames done and the time left, redrawn in place on a terminal, a line every tenth otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.perf_counter()
        self._last_tenth = -1

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def update(self, done: int, total: int, _frame=None) -> None:
        left = self.elapsed() / done * (total - done)
        line = f"{done}/{total} frames, {left:.0f} s left"
        if self.stream.isatty():
            filled = BAR_WIDTH * done // max(1, total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {line} ")
            self.stream.flush()
        elif done * 10 // max(1, total) > self._last_tenth:
            self._last_tenth = done * 10 // max(1, total)
            print(line, file=self.stream)

    def finish(self) -> None:
        if self.stream.isatty():
            self.stream.write("\n")


def evaluate_video_command(arguments: argparse.Namespace) -> int:
    from ..cli import report_of
    from ..training import video_evaluation  # lazily, as `evaluate`

    return report_of(lambda: video_evaluation.run_video_evaluation(arguments.out, arguments.model, arguments.pans),
                     video_evaluation.format_report)


COMMANDS = {"colorize-video": colorize_video_command, "evaluate-video": evaluate_video_command}
