"""Restore an old print's lightness before colouring: dust, thin scratches and grain removed (classical methods).

1. Grain: its level is measured on the whole photo (Immerkaer's operator, whose response to flat noise of standard
   deviation s has a spread of 6 s; the median of its magnitude is taken so that edges count little). A grainy
   photo is smoothed with OpenCV's non-local means (`cv2.fastNlMeansDenoising`), whose strength follows the level;
   a clean one is left as it is.
2. Defects, bright and dark alike (a top-hat finds what is brighter than its surroundings and narrower than the
   structuring element, a black-hat what is darker; a step edge gives neither, as an opening keeps a step):
   - a scratch: on the top-hat narrower than LINE_SIZE, the pixels that hold a straight segment of LINE_SEGMENT px
     in one of LINE_ORIENTATIONS directions (an opening with that segment, a pixel's slack allowed) with contrast
     LINE_CONTRAST, LINE_ISOLATION times their neighbourhood's mean (not busy texture) and EDGE_RATIO times the step
     of the background across them (not a lit rim along an edge); pieces at least LINE_LONG long (or LINE_MIN_LENGTH
     and stark) and at most LINE_MAX_WIDTH wide, then followed along their fainter stretches (LINE_GROWTH px);
   - dust: on the top-hat narrower than DEFECT_SIZE, specks of at most DUST_MAX_AREA px with contrast DUST_CONTRAST,
     DUST_ISOLATION times their neighbourhood's mean, and few other marks near them (texture is many marks).
   Every contrast rises by NOISE_FACTOR times the grain left after smoothing.
3. The marks, grown by a pixel, are filled from their surroundings (`cv2.inpaint`, Telea's method).

Everything runs on 8-bit lightness (L* x 2.55) at the photo's full size; the changes are added to the float input,
so pixels that are neither smoothed nor filled keep their exact value.

Conventions: L float32 (H, W) in [0, 100] in and out; sRGB uint8 (H, W, 3) where a colour photo is asked about.
"""
from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)

LEVELS_PER_L = 2.55  # 8-bit working copy: L* 0..100 -> 0..255

# Grain (standard deviation, L*) above which the photo is smoothed, and the non-local means strength per unit of
# grain (OpenCV's h, in 8-bit levels); the windows are smaller than OpenCV's defaults (7, 21) to stay fast.
GRAIN_MIN = 1.0
DENOISE_STRENGTH = 2.2
DENOISE_TEMPLATE = 5
DENOISE_SEARCH = 11
# Grain (L*, as measured) from which a gray photo looks like a scan of a print: on the foreign split at 512 px,
# 90% of the clean photos measure under 1.0 and every grainy scan of the evaluation set 1.16 or more.
SCAN_GRAIN = 1.1

# Marks narrower than this (pixels) are found by the top-hat / black-hat (scratches are 1-3 px, dust up to ~6 px).
DEFECT_SIZE = 9
# Scratches are found narrower than this (px): 1-3 px wide lines, not the thin objects of a photo.
LINE_SIZE = 5
# Contrast (L*) of a scratch (along a straight segment of it), of dust, and of the soft sides a mark grows into;
# all rise by NOISE_FACTOR times the grain left after smoothing.
LINE_CONTRAST = 10.0
DUST_CONTRAST = 14.0
GROW_CONTRAST = 3.0
NOISE_FACTOR = 3.0
# A scratch holds a straight segment this long (px) in one of LINE_ORIENTATIONS directions, and is at least
# LINE_MIN_LENGTH long in all (bounding box diagonal, px) and at most LINE_MAX_WIDTH wide (px; the widening by a
# pixel's slack included).
LINE_SEGMENT = 17
LINE_ORIENTATIONS = 12
LINE_MIN_LENGTH = 18.0
# Lines shorter than LINE_LONG (px) are kept only when clear (SHORT_LINE_CONTRAST, L*): a photo has short thin lines
# of its own (window frames, halos along edges), old prints' scratches are long or stark.
LINE_LONG = 40.0
SHORT_LINE_CONTRAST = 35.0
LINE_MAX_WIDTH = 5.0
# Its contrast is LINE_ISOLATION times the mean contrast of its neighbourhood (a ridge of busy texture is not).
LINE_ISOLATION = 2.5
# ... and at least EDGE_RATIO times the step of the background across it (not a line along an edge).
EDGE_RATIO = 1.5
# How far (px) a scratch is followed along its fainter stretches (GROW_CONTRAST, as isolated).
LINE_GROWTH = 30
# Dust: at most this many pixels, with at most DUST_NEIGHBOURS other clear marks within the NEIGHBOURHOOD (px).
DUST_MAX_AREA = 60
DUST_NEIGHBOURS = 2
DUST_ISOLATION = 6.0
NEIGHBOURHOOD = 31
# Inpainting radius (px) and how far (px) the marks are grown first (a scratch's soft border).
INPAINT_RADIUS = 3
MASK_GROWTH = 1


def restore_lightness(lightness: np.ndarray) -> tuple[np.ndarray, dict]:
    """Dust and thin scratches filled in and grain smoothed: the restored L float32 (H, W) in [0, 100] and details.

    lightness: L (H, W) in [0, 100], any real dtype. details: {"scratches": n, "dust": n, "grain": L* standard
    deviation measured, "denoised": bool, "filled_share": share of pixels filled}.
    Raises ValueError for anything but a non-empty 2-D array.
    """
    lightness = _checked_lightness(lightness)
    levels = _to_levels(lightness)
    grain = grain_level(levels)
    working = levels
    denoised = grain >= GRAIN_MIN
    if denoised:
        strength = float(DENOISE_STRENGTH * grain * LEVELS_PER_L)
        working = cv2.fastNlMeansDenoising(levels, None, h=strength, templateWindowSize=DENOISE_TEMPLATE,
                                           searchWindowSize=DENOISE_SEARCH)
    mask, scratches, dust = defect_mask(working, residual_grain=grain / 3.0 if denoised else grain)
    filled = int(np.count_nonzero(mask))
    if filled:
        working = cv2.inpaint(working, mask, INPAINT_RADIUS, cv2.INPAINT_TELEA)
    details = {"scratches": scratches, "dust": dust, "grain": round(grain, 2), "denoised": bool(denoised),
               "filled_share": round(filled / mask.size, 5)}
    if working is levels:
        return lightness.copy(), details
    change = (working.astype(np.float32) - levels.astype(np.float32)) / LEVELS_PER_L
    return np.clip(lightness + change, 0.0, 100.0).astype(np.float32), details


def looks_like_scan(rgb: np.ndarray, lightness: np.ndarray, tint: str | None) -> bool:
    """Whether the Restore step should be on by default: True for a scan of an old print.

    rgb: the upload, sRGB uint8 (H, W, 3); lightness: its L float32 (H, W) in [0, 100]; tint: the print's tint
    ("sepia", "cyanotype", "tinted", from `prints.print_tint`) or None. A tinted print is a scan; a colour photo
    (colours that are not one tint) is not; a gray one is when it is grainy (SCAN_GRAIN). Counts of found scratches
    and dust are not used: on the foreign split they were as high on clean photos (thin lines, highlights of their
    own) as on scans, while grain told them apart (`make evaluate-restore` reports how often).
    """
    lightness = _checked_lightness(lightness)
    rgb = np.asarray(rgb)
    if rgb.shape[:2] != lightness.shape:
        raise ValueError(f"The photo ({rgb.shape[:2]}) and its lightness ({lightness.shape}) differ in size.")
    if tint is not None:
        return True
    if rgb.ndim == 3 and rgb.shape[2] >= 3 and _has_colour(rgb):
        return False
    return grain_level(_to_levels(lightness)) >= SCAN_GRAIN


def grain_level(levels: np.ndarray) -> float:
    """Standard deviation (L*) of the fine grain of an 8-bit lightness (H, W): Immerkaer's operator, median-based."""
    if min(levels.shape) < 3:
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    response = cv2.filter2D(levels.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)[1:-1, 1:-1]
    step = max(1, int(np.sqrt(response.size / 250_000)))  # a quarter of a million samples are plenty
    median = float(np.median(np.abs(response[::step, ::step])))
    return median / (0.6745 * 6.0) / LEVELS_PER_L


def defect_mask(levels: np.ndarray, residual_grain: float = 0.0) -> tuple[np.ndarray, int, int]:
    """The pixels to fill (uint8 0/255 (H, W), grown by MASK_GROWTH), the number of scratches and of dust specks.

    levels: 8-bit lightness (H, W) (L* x 2.55); residual_grain: the grain (L*) still in it, which raises the
    contrasts a mark needs.
    """
    lines, specks, scratches, dust = defect_masks(levels, residual_grain)
    mask = lines | specks
    if MASK_GROWTH and scratches + dust:
        size = 2 * MASK_GROWTH + 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask, scratches, dust


def defect_masks(levels: np.ndarray, residual_grain: float = 0.0) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The scratches' and the dust's pixels (uint8 0/255 (H, W) each, not grown) and their numbers."""
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (DEFECT_SIZE, DEFECT_SIZE))
    thin_element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (LINE_SIZE, LINE_SIZE))
    noise = NOISE_FACTOR * residual_grain
    all_lines = np.zeros(levels.shape, np.uint8)
    all_specks = np.zeros(levels.shape, np.uint8)
    scratches = dust = 0
    for operation in (cv2.MORPH_TOPHAT, cv2.MORPH_BLACKHAT):
        thin = cv2.morphologyEx(levels, operation, thin_element)
        # What is left without the thin marks, and how steeply it changes: a line along a step edge (a roof's lit
        # rim, a halo) sits on a steep background, a scratch crosses one that is about level on both sides.
        background = cv2.subtract(levels, thin) if operation == cv2.MORPH_TOPHAT else cv2.add(levels, thin)
        step = cv2.morphologyEx(background, cv2.MORPH_GRADIENT, thin_element)
        lines, line_count = _scratches(thin, noise, step)
        specks, speck_count = _dust(cv2.morphologyEx(levels, operation, element), noise, lines)
        all_lines |= lines
        all_specks |= specks
        scratches += line_count
        dust += speck_count
    return all_lines, all_specks, scratches, dust


def _line_elements() -> list[np.ndarray]:
    """Straight segments LINE_SEGMENT px long at LINE_ORIENTATIONS angles, as structuring elements."""
    radius = LINE_SEGMENT // 2
    elements = []
    for angle in np.arange(LINE_ORIENTATIONS) * np.pi / LINE_ORIENTATIONS:
        element = np.zeros((2 * radius + 1, 2 * radius + 1), np.uint8)
        dx, dy = radius * np.cos(angle), radius * np.sin(angle)
        cv2.line(element, (round(radius - dx), round(radius - dy)), (round(radius + dx), round(radius + dy)), 1)
        elements.append(element)
    return elements


def _scratches(contrast: np.ndarray, noise: float, step: np.ndarray) -> tuple[np.ndarray, int]:
    """Scratches of one polarity: uint8 0/255 (H, W) and their number (see the module's notes).

    contrast: the thin top-hat or black-hat, uint8 (H, W); noise: L* added to every contrast; step: the
    morphological gradient of the background without the thin marks, uint8 (H, W)."""
    along = np.zeros_like(contrast)
    widened = cv2.dilate(contrast, np.ones((3, 3), np.uint8))  # a pixel's slack for how a line is drawn
    for element in _LINE_ELEMENTS:
        np.maximum(along, cv2.morphologyEx(widened, cv2.MORPH_OPEN, element), out=along)
    np.minimum(along, contrast, out=along)
    core = along > (LINE_CONTRAST + noise) * LEVELS_PER_L
    # How busy the neighbourhood is: the mean contrast around (a lone line adds a tenth of its own; lines close
    # together, as a city's windows, add more).
    busy = cv2.blur(contrast.astype(np.float32), (NEIGHBOURHOOD, NEIGHBOURHOOD))
    strong = (core & (along >= LINE_ISOLATION * busy) & (along >= EDGE_RATIO * step)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(strong, connectivity=8)
    if count <= 1:
        return np.zeros_like(contrast), 0
    length = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    inscribed = np.zeros(count, np.float32)  # the largest inscribed disc's radius: half the width, plus a half
    np.maximum.at(inscribed, labels.ravel(), cv2.distanceTransform(strong, cv2.DIST_L2, 3).ravel())
    peak = np.zeros(count, np.float32)
    np.maximum.at(peak, labels.ravel(), along.ravel().astype(np.float32))
    clear = peak >= (SHORT_LINE_CONTRAST + noise) * LEVELS_PER_L
    keep = (((length >= LINE_LONG) | (length >= LINE_MIN_LENGTH) & clear)
            & (2.0 * inscribed - 1.0 <= LINE_MAX_WIDTH))
    keep[0] = False
    if not keep.any():
        return np.zeros_like(contrast), 0
    lines = keep[labels].astype(np.uint8)
    # The line's fainter stretches (GROW_CONTRAST along it), followed for up to LINE_GROWTH px from the clear ones.
    faint = ((along > (GROW_CONTRAST + noise) * LEVELS_PER_L) & (along >= LINE_ISOLATION * busy)).astype(np.uint8)
    neighbours = np.ones((3, 3), np.uint8)
    for _ in range(LINE_GROWTH):
        lines = cv2.dilate(lines, neighbours) & faint | lines
    return lines * 255, int(np.count_nonzero(keep))


def _dust(contrast: np.ndarray, noise: float, lines: np.ndarray) -> tuple[np.ndarray, int]:
    """Small specks of one polarity standing alone: at most DUST_MAX_AREA px, at least DUST_CONTRAST, with at most
    DUST_NEIGHBOURS other marks within NEIGHBOURHOOD px (texture is many marks close together; dust is sparse)."""
    grown = ((contrast > (GROW_CONTRAST + noise) * LEVELS_PER_L) & (lines == 0)).astype(np.uint8)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(grown, connectivity=8)
    if count <= 1:
        return np.zeros_like(contrast), 0
    peak = np.zeros(count, np.float32)
    np.maximum.at(peak, labels.ravel(), contrast.ravel().astype(np.float32))
    marked = peak > (DUST_CONTRAST + noise) * LEVELS_PER_L
    marked[0] = False
    area = stats[:, cv2.CC_STAT_AREA]
    small = marked & (area <= DUST_MAX_AREA)
    # Marks of any size near each candidate: their centres counted in a window around it.
    centres = np.zeros(contrast.shape, np.float32)
    rows = np.clip(np.round(centroids[1:, 1]).astype(int), 0, contrast.shape[0] - 1)
    columns = np.clip(np.round(centroids[1:, 0]).astype(int), 0, contrast.shape[1] - 1)
    weight = (peak[1:] > (GROW_CONTRAST + noise) * 2 * LEVELS_PER_L).astype(np.float32)
    np.add.at(centres, (rows, columns), weight)
    crowd = cv2.boxFilter(centres, -1, (NEIGHBOURHOOD, NEIGHBOURHOOD), normalize=False)
    neighbours = np.zeros(count, np.float32)
    neighbours[1:] = crowd[rows, columns] - weight
    area = np.maximum(area.astype(np.float64), 1)
    busy = cv2.blur(contrast.astype(np.float32), (NEIGHBOURHOOD, NEIGHBOURHOOD)).ravel()
    around = np.bincount(labels.ravel(), busy, minlength=count) / area
    keep = small & (neighbours <= DUST_NEIGHBOURS) & (peak >= DUST_ISOLATION * around)
    return keep[labels].astype(np.uint8) * 255, int(np.count_nonzero(keep))


_LINE_ELEMENTS = _line_elements()


def _to_levels(lightness: np.ndarray) -> np.ndarray:
    return np.clip(lightness * LEVELS_PER_L + 0.5, 0, 255).astype(np.uint8)


def _has_colour(rgb: np.ndarray) -> bool:
    from .decode import has_color  # the upload's own test of colour

    return has_color(rgb[..., :3])


def _checked_lightness(lightness: np.ndarray) -> np.ndarray:
    lightness = np.asarray(lightness)
    if lightness.ndim != 2 or lightness.size == 0:
        raise ValueError(f"Lightness must be a non-empty 2-D array (H, W); got shape {lightness.shape}.")
    if not np.issubdtype(lightness.dtype, np.number) or np.iscomplexobj(lightness):
        raise ValueError(f"Lightness must be real numbers in [0, 100]; got {lightness.dtype}.")
    return np.ascontiguousarray(lightness, dtype=np.float32)
