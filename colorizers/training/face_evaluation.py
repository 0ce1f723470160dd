"""Faces that look like skin: measure the skin-tone range on the training photos, and check the models' faces.

`measure_skin_range` is where `colorizers.faces.SKIN_HUES` and `SKIN_CHROMA` come from: the faces of the people in
the train split (datasets/people.txt: boxes checked by eye, since `faces.detect_faces` finds only one of them), the
a/b of the pixels of each face's inner ellipse, and the 5th to 95th percentiles of their hue angle and chroma.

`run_face_evaluation` detects faces in every photo of the foreign split (packages never trained on) and, for each
automatic model, colours the photos with faces without and with the skin step (`colorize(..., skin_tones=False)` and
the default): per face, the mean a/b of the result's inner ellipse (is it within the skin-tone range?) and the mean
a/b distance to the truth there, against gray's (chroma 0). `python -m colorizers evaluate-faces --out DIR` writes
DIR/metrics.json, table.md and faces.jpg (truth, gray, each model before and after, per face).
"""
from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .. import settings
from ..color import gray_rgb, rgb_to_lab, rgb_to_lightness
from ..decode import read_image_file
from ..faces import SKIN_CHROMA, SKIN_HUES, detect_faces, inner_ellipse, within_skin_range
from ..registry import colorize
from .dataset import read_people_list
from .evaluation import (
    DEFAULT_MANIFEST, DEFAULT_PHOTOS_DIR, FOREIGN_SPLIT, GRAY, TRUTH, downscale, validation_photos,
)

log = logging.getLogger(__name__)

MODELS = ("cnn", "cgan", "blend")
MAX_SIDE = 640
TRAIN_SPLIT = "train"
PEOPLE_LIST = settings.REPO_ROOT / "datasets" / "people.txt"
PERCENTILES = (5.0, 95.0)
TILE = 96
STRONG = 1.5  # the strength slider's top, where green faces were greenest
STAGES = ("before", "after", "before 150%", "after 150%")


def measure_skin_range(manifest_path: Path = DEFAULT_MANIFEST, photos_dir: Path = DEFAULT_PHOTOS_DIR,
                       people_path: Path = PEOPLE_LIST) -> dict:
    """The skin-tone range from the faces of the training photos in `people_path` (datasets/people.txt): {"hues":
    (low, high) degrees, "chroma": (low, high) a/b units, "faces", "pixels", "photos"}, the PERCENTILES of the
    inner-ellipse pixels' hue angle and chroma, each photo at long side MAX_SIDE. Raises ValueError when a listed
    photo is not a training photo or no face is listed."""
    with open(manifest_path, newline="") as handle:
        train = {row["file"] for row in csv.DictReader(handle) if row.get("split") == TRAIN_SPLIT}
    samples, faces, photos = [], 0, []
    for name, boxes in read_people_list(people_path).items():
        if name not in train:
            raise ValueError(f"{name} is not a photo of the {TRAIN_SPLIT} split in {manifest_path}.")
        if not boxes:
            continue
        full = read_image_file(Path(photos_dir) / name).rgb
        rgb = downscale(full, MAX_SIDE)
        scale = rgb.shape[0] / full.shape[0]  # the boxes are in the photo's own pixels
        scaled = [tuple(round(value * scale) for value in box) for box in boxes]
        samples.append(rgb_to_lab(rgb)[inner_ellipse(scaled, rgb.shape[:2])][:, 1:])
        faces += len(boxes)
        photos.append(name)
    if not samples:
        raise ValueError(f"No face is listed in {people_path}.")
    ab = np.concatenate(samples)
    hue = np.degrees(np.arctan2(ab[:, 1], ab[:, 0]))
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    return {"hues": [round(float(value), 1) for value in np.percentile(hue, PERCENTILES)],
            "chroma": [round(float(value), 1) for value in np.percentile(chroma, PERCENTILES)],
            "faces": faces, "pixels": int(len(ab)), "photos": photos}


def face_scores(result: np.ndarray, truth_ab: np.ndarray, box) -> dict:
    """One face's scores: mean a/b of `result` (sRGB uint8) in the box's inner ellipse, whether it is within the
    skin-tone range, and the mean a/b distance to `truth_ab` (H, W, 2) there."""
    mask = inner_ellipse([box], result.shape[:2])
    ab = rgb_to_lab(result)[mask][:, 1:]
    mean = ab.mean(axis=0)
    return {"mean_ab": [round(float(value), 2) for value in mean], "in_range": within_skin_range(mean),
            "ab_error": round(float(np.linalg.norm(ab - truth_ab[mask], axis=-1).mean()), 3)}


def run_face_evaluation(out_dir: Path, models: tuple[str, ...] = MODELS, split: str = FOREIGN_SPLIT,
                        manifest_path: Path = DEFAULT_MANIFEST, photos_dir: Path = DEFAULT_PHOTOS_DIR) -> dict:
    """Detect faces in every photo of `split`, score each model's faces before and after the skin step, and write
    metrics.json, table.md and faces.jpg to `out_dir`. Returns the report (see metrics.json)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    photos = validation_photos(manifest_path, photos_dir, MAX_SIDE, split=split)
    detection_seconds, found = [], []
    for name, truth in photos:
        lightness = rgb_to_lightness(truth)
        started = time.perf_counter()
        boxes = detect_faces(lightness)
        detection_seconds.append(time.perf_counter() - started)
        if boxes:
            found.append((name, truth, lightness, boxes))
    rows = {GRAY: [], **{f"{model} {stage}": [] for model in models for stage in STAGES}}
    tiles: list[dict[str, np.ndarray]] = []
    for name, truth, lightness, boxes in found:
        truth_ab = rgb_to_lab(truth)[..., 1:]
        results = {GRAY: gray_rgb(lightness), TRUTH: truth}
        for model in models:
            before, after = colorize(lightness, model, skin_tones=False), colorize(lightness, model)
            results.update({f"{model} before": before.rgb, f"{model} after": after.rgb,
                            f"{model} before 150%": before.at_strength(STRONG),
                            f"{model} after 150%": after.at_strength(STRONG)})
        for box in boxes:
            for row, scores in rows.items():
                scores.append({"photo": name, "box": list(box), **face_scores(results[row], truth_ab, box)})
            tiles.append({column: _crop(image, box) for column, image in results.items()})
    report = {
        "split": split, "photos": len(photos), "photos_with_faces": len(found),
        "faces": sum(len(boxes) for *_, boxes in found),
        "detection_seconds_per_photo": round(float(np.mean(detection_seconds)), 4),
        "skin_range": {"hues": list(SKIN_HUES), "chroma": list(SKIN_CHROMA)},
        "measured_skin_range": measure_skin_range(manifest_path, photos_dir),
        "rows": {row: _summary(scores) for row, scores in rows.items()},
        "per_face": rows,
    }
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "table.md").write_text(format_face_table(report))
    if tiles:
        _sheet(tiles, [TRUTH, GRAY, *(f"{model} {stage}" for model in models for stage in ("before", "after"))]
               ).save(out_dir / "faces.jpg", quality=85)
    log.info("Wrote metrics.json, table.md and faces.jpg to %s", out_dir)
    return report


def _summary(scores: list[dict]) -> dict:
    if not scores:
        return {"faces_in_range": 0, "mean_ab": None, "in_range": None, "ab_error": None}
    mean = np.mean([score["mean_ab"] for score in scores], axis=0)
    return {"faces_in_range": sum(score["in_range"] for score in scores),
            "mean_ab": [round(float(value), 2) for value in mean], "in_range": within_skin_range(mean),
            "ab_error": round(float(np.mean([score["ab_error"] for score in scores])), 3)}


def format_face_table(report: dict) -> str:
    """The report as a Markdown table: per row (gray, each model before and after the skin step), the faces whose
    mean a/b is within the skin-tone range, the mean of the faces' mean a/b, and the mean a/b error to the truth."""
    faces = report["faces"]
    lines = [
        f"Faces on the {report['split']} split: {faces} faces in {report['photos_with_faces']} of "
        f"{report['photos']} photos (long side {MAX_SIDE} px); detection {report['detection_seconds_per_photo']:.3f} "
        f"s per photo. Skin-tone range: hue {report['skin_range']['hues'][0]}-{report['skin_range']['hues'][1]} deg, "
        f"chroma {report['skin_range']['chroma'][0]}-{report['skin_range']['chroma'][1]} (CIELAB a/b).", "",
        "| Row | Faces in range | Mean a/b of faces | Mean in range | a/b error to truth |",
        "|---|---|---|---|---|",
    ]
    for row, summary in report["rows"].items():
        if summary["mean_ab"] is None:
            continue
        lines.append(f"| {row} | {summary['faces_in_range']}/{faces} | ({summary['mean_ab'][0]:.1f}, "
                     f"{summary['mean_ab'][1]:.1f}) | {'yes' if summary['in_range'] else 'no'} | "
                     f"{summary['ab_error']:.2f} |")
    return "\n".join(lines) + "\n"


def _crop(image: np.ndarray, box) -> np.ndarray:
    x, y, width, height = box
    margin = width // 4
    crop = Image.fromarray(image).crop((x - margin, y - margin, x + width + margin, y + height + margin))
    return np.asarray(crop.resize((TILE, TILE), Image.LANCZOS))


def _sheet(tiles: list[dict[str, np.ndarray]], columns: list[str]) -> Image.Image:
    header = 16
    sheet = Image.new("RGB", (TILE * len(columns), header + TILE * len(tiles)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, column in enumerate(columns):
        draw.text((index * TILE + 2, 2), column, fill="black")
    for row, tile in enumerate(tiles):
        for index, column in enumerate(columns):
            sheet.paste(Image.fromarray(tile[column]), (index * TILE, header + row * TILE))
    return sheet
