"""The evaluation harness: colour the held-out photos with each model and score the results against the truth.

Two splits of `datasets/manifest.csv` are scored, each on its own: "foreign" (whole packages never trained on:
the one that predicts how the models do on the world, and the one checkpoints are chosen on) and "val" (random
photos held out from the training packages: siblings of the training photos, so it flatters). Each photo is
downscaled so its long side is at most
`max_side`, reduced to its lightness, and coloured through `registry.colorize`, the same path the app uses (Welsh
with reference="auto"). Two baselines are always scored: `gray` (the lightness as a gray image, chroma 0) and
`welsh-auto`. Per model we report mean PSNR, SSIM, colourfulness (CF), colourfulness gap to the truth (dCF) and
seconds per photo; `write_outputs` saves metrics.json, table.md and a contact sheet.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .. import settings
from ..color import gray_rgb, rgb_to_lightness
from ..decode import read_image_file
from ..errors import ColorizerError
from ..metrics import colourfulness, colourfulness_gap, lightness_drift, psnr, ssim
from ..reference_transfer import AUTO
from ..registry import colorize, model_info

log = logging.getLogger(__name__)

DEFAULT_MANIFEST = settings.REPO_ROOT / "datasets" / "manifest.csv"
DEFAULT_PHOTOS_DIR = settings.REPO_ROOT / "data" / "photos"
DEFAULT_MAX_SIDE = 512
DEFAULT_SHEET_ROWS = 8
VALIDATION_SPLIT = "val"
FOREIGN_SPLIT = "foreign"
SPLITS = (FOREIGN_SPLIT, VALIDATION_SPLIT)

GRAY = "gray"
WELSH_AUTO = "welsh-auto"
TRUTH = "truth"
# Row name -> registry model; "welsh" on the command line is the welsh-auto baseline, not a second Welsh row.
_ROW_MODELS = {WELSH_AUTO: "welsh"}
_ROW_NAMES = {"welsh": WELSH_AUTO}

# Contact sheet layout, in pixels.
THUMB_HEIGHT = 160
MAX_THUMB_WIDTH = 2 * THUMB_HEIGHT
GAP = 4
HEADER_HEIGHT = 20

SPLIT_TITLES = {
    FOREIGN_SPLIT: "Foreign split (whole packages never trained on; checkpoints are chosen on it)",
    VALIDATION_SPLIT: "Random validation split (held-out photos from the training packages)",
}

SPLIT_NOUNS = {FOREIGN_SPLIT: "foreign", VALIDATION_SPLIT: "validation"}

METRICS = ("psnr", "ssim", "colourfulness", "colourfulness_gap", "lightness_drift", "seconds")


@dataclass
class ModelScores:
    """Per-photo scores of one row of the table (a model or a baseline), in photo order.

    skipped: None when the model ran on every photo, else why it did not (then the score lists are empty).
    """

    name: str
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    colourfulness: list[float] = field(default_factory=list)
    colourfulness_gap: list[float] = field(default_factory=list)
    lightness_drift: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)
    skipped: str | None = None

    def mean(self, metric: str) -> float:
        """Mean of `metric` (one of METRICS) over the photos; NaN when skipped. One inf PSNR makes the mean inf."""
        values = getattr(self, metric)
        return float(np.mean(values)) if values and self.skipped is None else float("nan")

    def add(self, result: np.ndarray, truth: np.ndarray, seconds: float, details: dict | None = None) -> None:
        """Score one result, sRGB uint8 (H, W, 3), against its truth of the same shape."""
        self.psnr.append(psnr(result, truth))
        self.ssim.append(ssim(result, truth))
        self.colourfulness.append(colourfulness(result))
        self.colourfulness_gap.append(colourfulness_gap(result, truth))
        self.lightness_drift.append(lightness_drift(result, rgb_to_lightness(truth)))
        self.seconds.append(seconds)
        self.details.append(details or {})

    def skip(self, reason: str) -> None:
        """Mark the row skipped and drop partial scores, so no mean is taken over a subset of the photos."""
        self.skipped = reason
        for metric in METRICS:
            getattr(self, metric).clear()
        self.details.clear()


@dataclass
class SheetRow:
    """One contact-sheet row: the photo's name and its images (sRGB uint8 (H, W, 3)) by column name."""

    photo: str
    images: dict[str, np.ndarray]


@dataclass
class EvaluationReport:
    """The result of `evaluate`: rows in table order (gray, welsh-auto, then the requested models)."""

    photos: list[str]
    truth_colourfulness: list[float]
    rows: list[ModelScores]
    sheet: list[SheetRow]
    max_side: int | None = None
    split: str = VALIDATION_SPLIT

    @property
    def truth_mean_colourfulness(self) -> float:
        return float(np.mean(self.truth_colourfulness)) if self.truth_colourfulness else float("nan")

    def row(self, name: str) -> ModelScores:
        for scores in self.rows:
            if scores.name == name:
                return scores
        raise KeyError(name)

    @property
    def sheet_columns(self) -> list[str]:
        """Contact-sheet columns: gray, each model that ran, truth."""
        return [scores.name for scores in self.rows if scores.skipped is None] + [TRUTH]

    def to_dict(self) -> dict:
        """A JSON-ready summary; non-finite numbers (an inf PSNR, a skipped model's NaN) become null."""
        return {
            "split": self.split,
            "photos": self.photos,
            "max_side": self.max_side,
            "truth": {
                "mean_colourfulness": _finite(self.truth_mean_colourfulness),
                "colourfulness": [_finite(value) for value in self.truth_colourfulness],
            },
            "models": {
                scores.name: {
                    "skipped": scores.skipped,
                    "mean": {metric: _finite(scores.mean(metric)) for metric in METRICS},
                    "per_photo": {metric: [_finite(value) for value in getattr(scores, metric)] for metric in METRICS},
                    "details": scores.details,
                }
                for scores in self.rows
            },
        }


def row_names(models: list[str]) -> list[str]:
    """Table rows for the requested registry models: the baselines gray and welsh-auto first, no duplicates.

    Raises UnknownModelError for a name the registry does not know.
    """
    names = [GRAY, WELSH_AUTO]
    for model in models:
        if model in (GRAY, WELSH_AUTO):
            continue
        model_info(model)
        name = _ROW_NAMES.get(model, model)
        if name not in names:
            names.append(name)
    return names


def validation_photos(
    manifest_path: Path = DEFAULT_MANIFEST,
    photos_dir: Path = DEFAULT_PHOTOS_DIR,
    max_side: int | None = DEFAULT_MAX_SIDE,
    limit: int | None = None,
    split: str = VALIDATION_SPLIT,
) -> list[tuple[str, np.ndarray]]:
    """The photos of a held-out split as (file name, sRGB uint8 (H, W, 3)), in manifest order.

    Reads rows with that split ("val" or "foreign") from the manifest CSV (columns file, ..., split, ...), decodes
    `photos_dir/<file>` like an upload (EXIF orientation, transparency on white), and downscales it (Lanczos) so
    its long side is at most `max_side` (None keeps the full size). `limit` keeps the first N photos.
    Raises ValueError when the manifest has no validation rows, FileNotFoundError when photos are missing.
    """
    if max_side is not None and max_side < 8:
        raise ValueError(f"max_side must be at least 8 pixels, got {max_side}.")
    with open(manifest_path, newline="") as handle:
        files = [row["file"] for row in csv.DictReader(handle) if row.get("split") == split]
    if not files:
        raise ValueError(f"{manifest_path} has no rows with split '{split}'.")
    if limit is not None:
        files = files[: max(0, limit)]
    missing = [name for name in files if not (Path(photos_dir) / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(files)} {SPLIT_NOUNS.get(split, split)} photos are missing from {photos_dir} "
            f"(first: {missing[0]}); run `make data`."
        )
    return [(name, downscale(read_image_file(Path(photos_dir) / name).rgb, max_side)) for name in files]


def downscale(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """sRGB uint8 (H, W, 3) shrunk (Lanczos) so that max(H, W) <= max_side; smaller images are kept as they are."""
    height, width = rgb.shape[:2]
    if max_side is None or max(height, width) <= max_side:
        return rgb
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))


def evaluate(
    photos: list[tuple[str, np.ndarray]],
    models: list[str],
    sheet_rows: int = DEFAULT_SHEET_ROWS,
    max_side: int | None = None,
    split: str = VALIDATION_SPLIT,
) -> EvaluationReport:
    """Colour each photo's lightness with the baselines and `models`, and score each result against the photo.

    photos: (name, sRGB uint8 (H, W, 3)) pairs, already at the size to evaluate (see `validation_photos`).
    models: registry names ("welsh", "cnn", "cgan"); "welsh" is the welsh-auto baseline, always included.
    A model whose weights are missing, or that fails with a ColorizerError on any photo, is reported as skipped.
    The first `sheet_rows` photos keep their images for the contact sheet. `max_side` and `split` are only recorded.
    """
    rows = [ModelScores(name) for name in row_names(models)]
    truth_colourfulness: list[float] = []
    sheet: list[SheetRow] = []
    for index, (photo, truth) in enumerate(photos):
        started = time.perf_counter()
        lightness = rgb_to_lightness(truth)
        truth_colourfulness.append(colourfulness(truth))
        images = {}
        for scores in rows:
            if scores.skipped is not None:
                continue
            result = _run_row(scores, photo, lightness)
            if result is None:
                continue
            rgb, seconds, details = result
            scores.add(rgb, truth, seconds, details)
            images[scores.name] = rgb
        if index < sheet_rows:
            images[TRUTH] = truth
            sheet.append(SheetRow(photo, images))
        log.info("%d/%d %s (%dx%d) in %.1f s", index + 1, len(photos), photo, truth.shape[1], truth.shape[0],
                 time.perf_counter() - started)
    return EvaluationReport([name for name, _ in photos], truth_colourfulness, rows, sheet, max_side, split)


def _run_row(scores: ModelScores, photo: str, lightness: np.ndarray) -> tuple[np.ndarray, float, dict] | None:
    """One row's result for one photo: (sRGB uint8, seconds, details), or None after marking the row skipped."""
    if scores.name == GRAY:
        started = time.perf_counter()
        rgb = gray_rgb(lightness)
        return rgb, time.perf_counter() - started, {}
    model = _ROW_MODELS.get(scores.name, scores.name)
    info = model_info(model)
    if not info.is_available:
        scores.skip(f"weights file {info.weights_file} is missing from {settings.WEIGHTS_DIR}")
        log.warning("%s skipped: %s", scores.name, scores.skipped)
        return None
    try:
        result = colorize(lightness, model, reference=AUTO)
    except ColorizerError as error:
        scores.skip(f"failed on {photo}: {error}")
        log.warning("%s skipped: %s", scores.name, scores.skipped)
        return None
    details = {key: value for key, value in result.details.items() if isinstance(value, (str, int, float, bool))}
    return result.rgb, result.seconds, details


def format_table(report: EvaluationReport) -> str:
    """The report as a Markdown table (model | PSNR dB | SSIM | CF | dCF | s/photo) with the truth's mean CF."""
    size = f"long side at most {report.max_side} px" if report.max_side else "full size"
    lines = [
        f"{SPLIT_TITLES.get(report.split, report.split)}: {len(report.photos)} photos ({size}). PSNR and SSIM (mean over R, G, B) against the colour "
        "original; CF = colourfulness (Hasler and Suesstrunk 2003); dCF = |CF(result) - CF(truth)|; dL = mean "
        "|L*(result) - L*(photo)|, the lightness drift.",
        "",
        "| model | PSNR dB | SSIM | CF | dCF | dL | s/photo |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scores in report.rows:
        if scores.skipped is not None:
            lines.append(f"| {scores.name} | skipped | – | – | – | – | – |")
            continue
        lines.append(
            f"| {scores.name} | {scores.mean('psnr'):.2f} | {scores.mean('ssim'):.4f} "
            f"| {scores.mean('colourfulness'):.1f} | {scores.mean('colourfulness_gap'):.1f} "
            f"| {scores.mean('lightness_drift'):.3f} | {scores.mean('seconds'):.3f} |"
        )
    lines += ["", f"Truth mean CF: {report.truth_mean_colourfulness:.1f}"]
    lines += [f"Skipped {scores.name}: {scores.skipped}." for scores in report.rows if scores.skipped is not None]
    return "\n".join(lines) + "\n"


def contact_sheet(rows: list[SheetRow], columns: list[str], thumb_height: int = THUMB_HEIGHT) -> Image.Image:
    """A grid image: a header row of column names, then one row per photo with its images in `columns` order.

    Every thumbnail is `thumb_height` pixels high (narrower when its width would pass twice that) and centred in
    a cell as wide as the widest thumbnail; a missing image leaves its cell blank. Returns an RGB PIL image.
    """
    thumbs = [[_thumbnail(row.images.get(column), thumb_height) for column in columns] for row in rows]
    cell_width = max([thumb.width for row in thumbs for thumb in row if thumb is not None] + [thumb_height])
    width = len(columns) * (cell_width + GAP) + GAP
    height = HEADER_HEIGHT + len(rows) * (thumb_height + GAP) + GAP
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for column_index, column in enumerate(columns):
        draw.text((GAP + column_index * (cell_width + GAP) + 2, 4), column, fill="black")
    for row_index, row in enumerate(thumbs):
        top = HEADER_HEIGHT + GAP + row_index * (thumb_height + GAP)
        for column_index, thumb in enumerate(row):
            if thumb is not None:
                left = GAP + column_index * (cell_width + GAP) + (cell_width - thumb.width) // 2
                sheet.paste(thumb, (left, top + (thumb_height - thumb.height) // 2))
    return sheet


def _thumbnail(rgb: np.ndarray | None, thumb_height: int) -> Image.Image | None:
    if rgb is None:
        return None
    height, width = rgb.shape[:2]
    scale = min(thumb_height / height, 2 * thumb_height / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return Image.fromarray(rgb).resize(size, Image.LANCZOS)


def write_outputs(report: EvaluationReport, out_dir: Path) -> dict[str, Path]:
    """Write metrics.json, table.md and contact_sheet.png to `out_dir` (created); returns their paths by kind."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": out_dir / "metrics.json",
        "table": out_dir / "table.md",
        "contact_sheet": out_dir / "contact_sheet.png",
    }
    paths["metrics"].write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    paths["table"].write_text(format_table(report))
    contact_sheet(report.sheet, report.sheet_columns).save(paths["contact_sheet"])
    return paths


def run_evaluation(
    models: list[str],
    out_dir: Path,
    manifest_path: Path = DEFAULT_MANIFEST,
    photos_dir: Path = DEFAULT_PHOTOS_DIR,
    max_side: int | None = DEFAULT_MAX_SIDE,
    limit: int | None = None,
    sheet_rows: int = DEFAULT_SHEET_ROWS,
    splits: tuple[str, ...] = SPLITS,
) -> dict[str, EvaluationReport]:
    """Evaluate `models` on each split's photos and write each split's outputs to `out_dir/<split>/`."""
    reports = {}
    for split in splits:
        photos = validation_photos(manifest_path, photos_dir, max_side, limit, split)
        log.info("Evaluating %s on %d %s photos (long side at most %s px)",
                 ", ".join(row_names(models)), len(photos), split, max_side)
        reports[split] = evaluate(photos, models, sheet_rows=sheet_rows, max_side=max_side, split=split)
        write_outputs(reports[split], Path(out_dir) / split)
    return reports


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
