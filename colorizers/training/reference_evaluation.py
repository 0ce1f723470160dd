"""The reference protocols: how the reference-based models colour a photo when the user brings a good reference.

Each held-out photo is reduced to its lightness and coloured from a reference made from the photo itself:
- "another-shot": the true photo mirrored left-right and cropped to its lower-right 75% (rows and columns from 25%
  on), like a second shot of the same scene: a quarter of each side is not in it, and what is, is mirrored;
- "true-photo": the true photo itself (the ceiling: the right colour is there for every part of the photo).
Scored as `evaluation` scores the automatic models (PSNR, SSIM, colourfulness gap, lightness drift, seconds), on the
foreign split by default (packages never trained on). `make evaluate` writes runs/evaluation/reference/.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..color import gray_rgb, rgb_to_lightness
from ..registry import colorize
from .evaluation import (
    DEFAULT_MANIFEST, DEFAULT_MAX_SIDE, DEFAULT_PHOTOS_DIR, FOREIGN_SPLIT, GRAY, TRUTH, METRICS, ModelScores,
    SheetRow, contact_sheet, validation_photos, _finite,
)

log = logging.getLogger(__name__)

MODELS = ("welsh", "exemplar")
SHEET_ROWS = 6


def another_shot(truth: np.ndarray) -> np.ndarray:
    """The photo (H, W, 3) mirrored left-right and cropped to its lower-right 75%: rows and columns from 25% on."""
    height, width = truth.shape[:2]
    return np.ascontiguousarray(truth[:, ::-1][height // 4:, width // 4:])


@dataclass(frozen=True)
class Protocol:
    title: str
    description: str
    reference: Callable[[np.ndarray], np.ndarray]


PROTOCOLS = {
    "another-shot": Protocol(
        "Another shot of the same scene",
        "The reference is the true photo mirrored left-right and cropped to its lower-right 75%.",
        another_shot,
    ),
    "true-photo": Protocol("The true photo itself", "The reference is the colour original.", lambda truth: truth),
}


def evaluate_protocol(photos: list[tuple[str, np.ndarray]], protocol: Protocol, models: tuple[str, ...] = MODELS,
                      sheet_rows: int = SHEET_ROWS) -> tuple[list[ModelScores], list[SheetRow]]:
    """Scores of gray and each model over `photos` (name, sRGB uint8), each coloured from protocol.reference(photo)."""
    rows = [ModelScores(name) for name in (GRAY, *models)]
    sheet = []
    for index, (photo, truth) in enumerate(photos):
        lightness = rgb_to_lightness(truth)
        reference = protocol.reference(truth)
        images = {}
        for scores in rows:
            started = time.perf_counter()
            if scores.name == GRAY:
                rgb, details = gray_rgb(lightness), {}
            else:
                result = colorize(lightness, scores.name, reference=reference)
                rgb, details = result.rgb, {key: value for key, value in result.details.items()
                                            if isinstance(value, (str, int, float, bool))}
            scores.add(rgb, truth, time.perf_counter() - started, details)
            images[scores.name] = rgb
        if index < sheet_rows:
            sheet.append(SheetRow(photo, {**images, TRUTH: truth}))
        log.info("%s %d/%d %s", protocol.title, index + 1, len(photos), photo)
    return rows, sheet


def run_reference_evaluation(out_dir: Path, models: tuple[str, ...] = MODELS, split: str = FOREIGN_SPLIT,
                             max_side: int | None = DEFAULT_MAX_SIDE, limit: int | None = None,
                             manifest_path: Path = DEFAULT_MANIFEST, photos_dir: Path = DEFAULT_PHOTOS_DIR) -> dict:
    """Every protocol on the split's photos; writes metrics.json, table.md and a contact sheet per protocol to
    `out_dir` and returns the metrics."""
    photos = validation_photos(manifest_path, photos_dir, max_side, limit, split)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {"split": split, "max_side": max_side, "photos": len(photos), "protocols": {}}
    for key, protocol in PROTOCOLS.items():
        rows, sheet = evaluate_protocol(photos, protocol, models)
        report["protocols"][key] = {
            "title": protocol.title,
            "description": protocol.description,
            "rows": {scores.name: {**{metric: _finite(scores.mean(metric)) for metric in METRICS},
                                   "photos": len(scores.psnr)} for scores in rows},
        }
        columns = [scores.name for scores in rows] + [TRUTH]
        contact_sheet(sheet, columns).save(out_dir / f"contact_sheet_{key}.png")
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "table.md").write_text(format_reference_table(report))
    return report


def format_reference_table(report: dict) -> str:
    """One Markdown table per protocol: model | PSNR dB | SSIM | dCF | dL | s/photo."""
    lines = [f"Reference protocols on the {report['split']} split: {report['photos']} photos (long side at most "
             f"{report['max_side']} px). dCF = |CF(result) - CF(truth)|; dL = mean |L*(result) - L*(photo)|.", ""]
    for protocol in report["protocols"].values():
        lines += [f"**{protocol['title']}.** {protocol['description']}", "",
                  "| model | PSNR dB | SSIM | dCF | dL | s/photo |", "|---|---:|---:|---:|---:|---:|"]
        for name, row in protocol["rows"].items():
            lines.append(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.4f} | {row['colourfulness_gap']:.1f} "
                         f"| {row['lightness_drift']:.3f} | {row['seconds']:.3f} |")
        lines.append("")
    return "\n".join(lines)
