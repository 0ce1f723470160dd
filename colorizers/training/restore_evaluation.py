"""`make evaluate-restore`: the Restore step on scanned-print copies of foreign-split photos (never trained on).

Each photo (long side 512) is made into a "scan" of an old print, deterministically (the random state is seeded
from the photo's file name):
- its lightness is the clean truth;
- SCRATCHES_PER_PHOTO thin scratches: straight or slightly curved lines (a quadratic curve whose middle is pushed
  aside by up to CURVE_SHARE of its length), SCRATCH_LENGTH px long, 1 or 3 px wide, bright (emulsion gone) or dark,
  drawn over the lightness with opacity SCRATCH_OPACITY;
- DUST_PER_PHOTO specks: small ellipses (radii DUST_RADII px), bright or dark;
- film grain: Gaussian noise of GRAIN_SIGMA L*, slightly clumped (blurred by GRAIN_BLUR px, then rescaled);
- every second scan is a sepia print (one tint growing with lightness), the others gray; both end as sRGB uint8,
  and the scan's lightness is read back from its pixels as the studio would.

Scores, lightness only (L* 0..100, PSNR with a peak of 100):
- PSNR of the scan and of the restored scan against the clean lightness, and the gain;
- scratches left: for each drawn scratch, its pixels that were visible in the scan (off the clean lightness by more
  than VISIBLE_LSTAR in the scratch's direction: brighter for a bright one) and still are after Restore; the longest
  connected run of them (8-connected; its bounding box's diagonal, px). Done when no run is longer than 20 px;
- the clean photo restored (what Restore costs a photo with nothing to repair): PSNR against itself;
- `looks_like_scan` on every scan (should be True) and on the clean photo in gray (should be False);
- seconds per megapixel of `restore_lightness`, on the 512 px scans and on one scan made at about 1 MP.
"""
from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..color import gray_rgb, lab_to_rgb, rgb_to_lightness
from ..prints import print_tint
from ..restore import looks_like_scan, restore_lightness
from .evaluation import DEFAULT_MANIFEST, DEFAULT_PHOTOS_DIR, FOREIGN_SPLIT, validation_photos

log = logging.getLogger(__name__)

MAX_SIDE = 512
SCRATCHES_PER_PHOTO = (3, 6)
SCRATCH_LENGTH = (40, 300)
SCRATCH_THICKNESS = (1, 2)  # OpenCV's line thickness: 1 and about 3 px wide
SCRATCH_OPACITY = (0.7, 1.0)
BRIGHT_SCRATCH_L = (82.0, 98.0)
DARK_SCRATCH_L = (3.0, 20.0)
CURVE_SHARE = 0.08
DUST_PER_PHOTO = (20, 50)
DUST_RADII = (1, 3)
GRAIN_SIGMA = (2.0, 5.0)
GRAIN_BLUR = 0.6
SEPIA = (6.0, 16.0)  # a/b of the tint at L* 25, growing with the square root of lightness
VISIBLE_LSTAR = 8.0
MAX_RUN_PX = 20.0
SHORT_RUN_PX = 10.0  # a finer count of what is left, for choosing among fills (docs/quality.md)
ONE_MEGAPIXEL_SIDE = 1155  # 1155 x 866 is about one megapixel (when the photo is that large)
PEAK = 100.0


@dataclass
class Scratch:
    pixels: np.ndarray  # bool (H, W): where it was drawn
    bright: bool


@dataclass
class Scan:
    name: str
    clean: np.ndarray  # L float32 (H, W), the truth
    rgb: np.ndarray  # the scan, sRGB uint8 (H, W, 3)
    lightness: np.ndarray  # the scan's L float32 (H, W), read back from rgb
    scratches: list[Scratch]
    tint: str  # "sepia" or "gray", as made
    dust: np.ndarray | None = None  # bool (H, W): where dust was drawn


def make_scan(name: str, photo: np.ndarray, sepia: bool) -> Scan:
    """The photo (sRGB uint8 (H, W, 3)) as a scanned old print, with the same defects every run (seeded by name).

    Also the generator of the learned scratch detector's training pairs (`train_scratches`, on train-split photos
    under other names): the scan's lightness in, its scratches' and dust's pixels as the target."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    clean = rgb_to_lightness(photo)
    height, width = clean.shape
    damaged = clean.copy()
    scratches = []
    for _ in range(rng.integers(SCRATCHES_PER_PHOTO[0], SCRATCHES_PER_PHOTO[1] + 1)):
        pixels = _scratch_pixels(rng, height, width)
        bright = bool(rng.random() < 0.6)
        value = rng.uniform(*(BRIGHT_SCRATCH_L if bright else DARK_SCRATCH_L))
        opacity = rng.uniform(*SCRATCH_OPACITY)
        damaged[pixels] = damaged[pixels] * (1 - opacity) + value * opacity
        scratches.append(Scratch(pixels, bright))
    dust = np.zeros((height, width), np.uint8)
    specks = np.zeros((height, width), bool)
    for _ in range(rng.integers(DUST_PER_PHOTO[0], DUST_PER_PHOTO[1] + 1)):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(DUST_RADII[0], DUST_RADII[1] + 1)), int(rng.integers(DUST_RADII[0], DUST_RADII[1] + 1)))
        dust[:] = 0
        cv2.ellipse(dust, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        speck = dust.astype(bool)
        value = rng.uniform(*(BRIGHT_SCRATCH_L if rng.random() < 0.6 else DARK_SCRATCH_L))
        damaged[speck] = value
        specks |= speck
    grain = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), GRAIN_BLUR)
    damaged += grain / grain.std() * rng.uniform(*GRAIN_SIGMA)
    damaged = np.clip(damaged, 0.0, 100.0).astype(np.float32)
    if sepia:
        strength = 2.0 * np.sqrt(damaged / 100.0)
        rgb = lab_to_rgb(np.stack([damaged, SEPIA[0] * strength, SEPIA[1] * strength], axis=-1))
    else:
        rgb = gray_rgb(damaged)
    return Scan(name, clean, rgb, rgb_to_lightness(rgb), scratches, "sepia" if sepia else "gray", specks)


def _scratch_pixels(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    length = rng.uniform(*SCRATCH_LENGTH)
    angle = rng.uniform(0, np.pi)
    direction = np.array([np.cos(angle), np.sin(angle)])
    start = np.array([rng.uniform(0, width), rng.uniform(0, height)])
    end = start + direction * length
    middle = (start + end) / 2 + np.array([-direction[1], direction[0]]) * rng.uniform(-1, 1) * CURVE_SHARE * length
    steps = np.linspace(0.0, 1.0, max(8, int(length / 4)))[:, None]
    curve = (1 - steps) ** 2 * start + 2 * (1 - steps) * steps * middle + steps ** 2 * end
    canvas = np.zeros((height, width), np.uint8)
    cv2.polylines(canvas, [np.round(curve).astype(np.int32).reshape(-1, 1, 2)], False, 1,
                  thickness=int(rng.choice(SCRATCH_THICKNESS)), lineType=cv2.LINE_8)
    return canvas.astype(bool)


def lightness_psnr(result: np.ndarray, truth: np.ndarray) -> float:
    """PSNR (dB) of two L planes (H, W) in [0, 100], with a peak of 100."""
    error = float(np.mean((result.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return float("inf") if error == 0 else float(10 * np.log10(PEAK * PEAK / error))


def runs_left(scratch: Scratch, result: np.ndarray, scan: Scan) -> tuple[np.ndarray, int]:
    """The scratch's pixels that were visible in the scan and still are in `result` (off the clean lightness by more
    than VISIBLE_LSTAR in the scratch's direction): the lengths of their connected runs (px, bounding box diagonal)
    and their number."""
    sign = 1.0 if scratch.bright else -1.0
    visible = scratch.pixels & (sign * (scan.lightness - scan.clean) > VISIBLE_LSTAR)
    left = (visible & (sign * (result - scan.clean) > VISIBLE_LSTAR)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(left, connectivity=8)
    return np.hypot(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]), int(np.count_nonzero(left))


def longest_run(scratch: Scratch, result: np.ndarray, scan: Scan) -> float:
    """Longest run (px) of the scratch left in `result` (see `runs_left`), 0 when none is."""
    return float(runs_left(scratch, result, scan)[0].max(initial=0.0))


def evaluate_scans(photos: list[tuple[str, np.ndarray]]) -> tuple[dict, list[dict], Scan | None, np.ndarray | None]:
    """Scores of Restore over the photos' scans: the summary, one row per photo, and the first scan with its
    restored lightness (for the before/after picture)."""
    rows = []
    example = example_restored = None
    for index, (name, photo) in enumerate(photos):
        scan = make_scan(name, photo, sepia=index % 2 == 1)
        started = time.perf_counter()
        restored, details = restore_lightness(scan.lightness)
        seconds = time.perf_counter() - started
        clean_restored, clean_details = restore_lightness(scan.clean)
        showing = [runs_left(scratch, scan.lightness, scan) for scratch in scan.scratches]
        left = [runs_left(scratch, restored, scan) for scratch in scan.scratches]
        runs_before = [float(runs.max(initial=0.0)) for runs, _ in showing]
        runs_after = [float(runs.max(initial=0.0)) for runs, _ in left]
        rows.append({
            "photo": name, "print": scan.tint,
            "psnr_scan": lightness_psnr(scan.lightness, scan.clean),
            "psnr_restored": lightness_psnr(restored, scan.clean),
            "psnr_clean_restored": lightness_psnr(clean_restored, scan.clean),
            "longest_run_scan_px": max(runs_before, default=0.0),
            "longest_run_restored_px": max(runs_after, default=0.0),
            "scratches_drawn": len(scan.scratches),
            "scratches_left_over_20px": sum(run > MAX_RUN_PX for run in runs_after),
            "scratches_left_over_10px": sum(run > SHORT_RUN_PX for run in runs_after),
            "scratch_pixels_showing": sum(pixels for _, pixels in showing),
            "scratch_pixels_left": sum(pixels for _, pixels in left),
            "seconds_per_mp": seconds / (scan.clean.size / 1e6),
            "scan_called_scan": looks_like_scan(scan.rgb, scan.lightness, print_tint(scan.rgb)),
            "clean_called_scan": looks_like_scan(gray_rgb(scan.clean), scan.clean, None),
            "scan_called_colour": scan.tint == "sepia" and print_tint(scan.rgb) is None,
            "details": details, "clean_details": clean_details,
        })
        rows[-1]["psnr_gain"] = rows[-1]["psnr_restored"] - rows[-1]["psnr_scan"]
        if example is None or index == 1:  # the first sepia scan
            example, example_restored = scan, restored
        log.info("%d/%d %s: %.2f -> %.2f dB, longest scratch left %.1f px, %.2f s", index + 1, len(photos), name,
                 rows[-1]["psnr_scan"], rows[-1]["psnr_restored"], rows[-1]["longest_run_restored_px"], seconds)
    gains = np.array([row["psnr_gain"] for row in rows])
    summary = {
        "photos": len(rows),
        "scratches": int(sum(row["scratches_drawn"] for row in rows)),
        "mean_psnr_scan": float(np.mean([row["psnr_scan"] for row in rows])),
        "mean_psnr_restored": float(np.mean([row["psnr_restored"] for row in rows])),
        "mean_psnr_gain": float(gains.mean()),
        "median_psnr_gain": float(np.median(gains)),
        "min_psnr_gain": float(gains.min()),
        "longest_run_scan_px": float(max(row["longest_run_scan_px"] for row in rows)),
        "longest_run_restored_px": float(max(row["longest_run_restored_px"] for row in rows)),
        "scratches_left_over_20px": int(sum(row["scratches_left_over_20px"] for row in rows)),
        "scratches_left_over_10px": int(sum(row["scratches_left_over_10px"] for row in rows)),
        "scratch_pixels_showing": int(sum(row["scratch_pixels_showing"] for row in rows)),
        "scratch_pixels_left": int(sum(row["scratch_pixels_left"] for row in rows)),
        "median_psnr_clean_restored": float(np.median([row["psnr_clean_restored"] for row in rows])),
        "clean_unchanged": int(sum(row["psnr_clean_restored"] == float("inf") for row in rows)),
        "min_psnr_clean_restored": float(np.min([row["psnr_clean_restored"] for row in rows])),
        "scans_called_scan": int(sum(row["scan_called_scan"] for row in rows)),
        "clean_called_scan": int(sum(row["clean_called_scan"] for row in rows)),
        "sepia_scans_called_colour": int(sum(row["scan_called_colour"] for row in rows)),
        "mean_seconds_per_mp": float(np.mean([row["seconds_per_mp"] for row in rows])),
    }
    return summary, rows, example, example_restored


def time_one_megapixel(name: str, photo: np.ndarray, repeats: int = 3) -> tuple[float, float]:
    """Seconds per megapixel (the best of `repeats`) of restore_lightness on the photo's scan, made at its size
    (about 1 MP: the photo read with a long side of ONE_MEGAPIXEL_SIDE), and the megapixels."""
    scan = make_scan(name, photo, sepia=True)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        restore_lightness(scan.lightness)
        best = min(best, time.perf_counter() - started)
    megapixels = scan.lightness.size / 1e6
    return best / megapixels, megapixels


def before_after(scan: Scan, restored: np.ndarray, crop: int = 256) -> Image.Image:
    """The scan (as scanned), the restored lightness and the clean lightness side by side, a crop of `crop` px."""
    height, width = scan.clean.shape
    top, left = max(0, (height - crop) // 2), max(0, (width - crop) // 2)
    window = (slice(top, top + crop), slice(left, left + crop))
    panels = [scan.rgb[window], gray_rgb(restored[window]), gray_rgb(scan.clean[window])]
    gap = np.full((panels[0].shape[0], 6, 3), 255, np.uint8)
    return Image.fromarray(np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1))


def run_restore_evaluation(out_dir: Path, limit: int | None = None, manifest_path: Path = DEFAULT_MANIFEST,
                           photos_dir: Path = DEFAULT_PHOTOS_DIR, split: str = FOREIGN_SPLIT) -> dict:
    """Scans of the split's photos (the foreign one, or val, where Restore's settings are chosen) restored and
    scored; writes metrics.json, table.md and before_after.png to `out_dir` and returns the metrics."""
    photos = validation_photos(manifest_path, photos_dir, MAX_SIDE, limit, split)
    summary, rows, example, restored = evaluate_scans(photos)
    name, large = validation_photos(manifest_path, photos_dir, ONE_MEGAPIXEL_SIDE, 2, split)[1]
    summary["seconds_per_mp_at_1mp"], summary["megapixels_timed"] = time_one_megapixel(name, large)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"split": split, "max_side": MAX_SIDE, "visible_lstar": VISIBLE_LSTAR, "summary": summary,
              "rows": [{key: _finite(value) for key, value in row.items()} for row in rows], "example": example.name}
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2, default=_plain) + "\n")
    (out_dir / "table.md").write_text(format_restore_table(report))
    before_after(example, restored).save(out_dir / "before_after.png", optimize=True)
    return report


def format_restore_table(report: dict) -> str:
    """The summary as Markdown."""
    summary = report["summary"]
    lines = [
        f"Restore on scanned-print copies of the {report['split']} split: {summary['photos']} photos (long side "
        f"{report['max_side']} px; half gray, half sepia; grain, {summary['scratches']} thin scratches, dust). "
        f"Lightness PSNR with a peak of 100 L*. A scratch is left where its pixels, visible in the scan, still differ "
        f"from the clean lightness by more than {report['visible_lstar']:g} L* in its direction; its run is the "
        f"longest connected piece (bounding box diagonal).",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| PSNR, scan vs clean (mean) | {summary['mean_psnr_scan']:.2f} dB |",
        f"| PSNR, restored vs clean (mean) | {summary['mean_psnr_restored']:.2f} dB |",
        f"| PSNR gain: mean / median / min | {summary['mean_psnr_gain']:.2f} / {summary['median_psnr_gain']:.2f} / "
        f"{summary['min_psnr_gain']:.2f} dB |",
        f"| longest scratch run, scan | {summary['longest_run_scan_px']:.1f} px |",
        f"| longest scratch run left after Restore | {summary['longest_run_restored_px']:.1f} px |",
        f"| scratches left longer than 20 px | {summary['scratches_left_over_20px']} of {summary['scratches']} |",
        f"| scratches left longer than 10 px | {summary['scratches_left_over_10px']} of {summary['scratches']} |",
        f"| scratch pixels left (of those visible in the scans) | {summary['scratch_pixels_left']} of "
        f"{summary['scratch_pixels_showing']} |",
        f"| clean photo restored vs itself: median / min PSNR | {summary['median_psnr_clean_restored']:.2f} / "
        f"{summary['min_psnr_clean_restored']:.2f} dB ({summary['clean_unchanged']} left exactly as they were) |",
        f"| scans that look like scans | {summary['scans_called_scan']} of {summary['photos']} |",
        f"| clean gray photos that look like scans | {summary['clean_called_scan']} of {summary['photos']} |",
        f"| sepia scans called colour photos | {summary['sepia_scans_called_colour']} |",
        f"| seconds per MP (512 px scans, mean) | {summary['mean_seconds_per_mp']:.3f} |",
        f"| seconds per MP (one sepia scan made at {summary['megapixels_timed']:.2f} MP, best of 3) | "
        f"{summary['seconds_per_mp_at_1mp']:.3f} |",
        "",
    ]
    return "\n".join(lines)


def _finite(value):
    """JSON has no infinity: an unchanged photo's PSNR is written as null."""
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _plain(value):
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON: {type(value)}")
