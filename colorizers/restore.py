"""Restore an old print's lightness before colouring: dust, thin scratches and grain removed (classical methods,
and a tiny learned scratch detector where its weights are there).

1. Grain: its level is measured on the whole photo (Immerkaer's operator, whose response to flat noise of standard
   deviation s has a spread of 6 s; the median of its magnitude is taken so that edges count little). A grainy
   photo is smoothed with OpenCV's non-local means (`cv2.fastNlMeansDenoising`), whose strength follows the level;
   a clean one is left as it is.
2. Defects, bright and dark alike (a top-hat finds what is brighter than its surroundings and narrower than the
   structuring element, a black-hat what is darker; a step edge gives neither, as an opening keeps a step):
   - a scratch: a global line model. On the top-hat narrower than LINE_SIZE, the pixels that hold a straight
     segment of LINE_SEGMENT px in one of LINE_ORIENTATIONS directions (an opening with that segment, a pixel's slack
     allowed) give candidate straight segments two ways: probabilistic Hough lines through the faint ones
     (FAINT_LINE_CONTRAST, LINE_ISOLATION times their neighbourhood's mean), which joins a scratch seen in pieces,
     and the principal axis of each clear piece (LINE_CONTRAST, EDGE_RATIO times the step of the background) at
     least LINE_MIN_LENGTH long and LINE_MAX_WIDTH wide. Every segment is then judged by its profile across it
     (`_is_scratch`): supported along most of its length, narrow, with no steady step of the background across it
     (a lit rim along an edge), no flank as strong beside it and no parallel line near it (text, a fence, a grid).
     A kept segment is followed past both ends (TRACE_REACH px, a pixel's sideways drift a step, for a gently
     curved scratch) and drawn LINE_MASK_WIDTH px wide;
   - dust: on the top-hat narrower than DEFECT_SIZE, specks of at most DUST_MAX_AREA px with contrast DUST_CONTRAST,
     DUST_ISOLATION times their neighbourhood's mean, and few other marks near them (texture is many marks).
   Every contrast rises by NOISE_FACTOR times the grain left after smoothing.
   When the learned detector (`colorizers.scratch_detector`, weights/scratch_detector.onnx: a tiny U-Net trained
   on synthetic scratches and dust over train-split photos) is there, its masks replace the hand-made finder's
   (`learned_masks`; see the LEARNED_* constants): on the scans of the evaluation it leaves far fewer scratches and
   marks far less of a clean photo. Without the file the hand-made finder above is used.
3. The marks are filled. The hand-made finder's, grown by a pixel, from their surroundings (`cv2.inpaint`, Telea's
   method). The learned detector's (`_learned_fill`) by Navier-Stokes inpainting, then the scratches by Fourier
   inpainting (OpenCV contrib's `xphoto`), which carries a line or an edge on across a scratch, and last by the
   learned filler (weights/scratch_filler.onnx, `scratch_detector.filled_lightness`), which also reads what still
   shows through a mark, where it takes the mark further from its own tone (`_beyond`).

Everything runs on 8-bit lightness (L* x 2.55) at the photo's full size; the changes are added to the float input,
so pixels that are neither smoothed nor filled keep their exact value.

Conventions: L float32 (H, W) in [0, 100] in and out; sRGB uint8 (H, W, 3) where a colour photo is asked about.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from . import scratch_detector

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
# Contrast (L*) of a clear piece of a scratch (along a straight segment of it), of dust, and of the soft sides a
# speck grows into; all rise by NOISE_FACTOR times the grain left after smoothing.
LINE_CONTRAST = 10.0
DUST_CONTRAST = 14.0
GROW_CONTRAST = 3.0
NOISE_FACTOR = 3.0
# A scratch holds a straight segment this long (px) in one of LINE_ORIENTATIONS directions; a clear piece of one is
# at least LINE_MIN_LENGTH long (bounding box diagonal, px) and at most LINE_MAX_WIDTH wide (px; the widening by a
# pixel's slack included).
LINE_SEGMENT = 17
LINE_ORIENTATIONS = 12
LINE_MIN_LENGTH = 18.0
LINE_MAX_WIDTH = 5.0
# Its contrast is LINE_ISOLATION times the mean contrast of its neighbourhood (a ridge of busy texture is not).
LINE_ISOLATION = 2.5
# ... and, for a clear piece, at least EDGE_RATIO times the step of the background around it.
EDGE_RATIO = 1.5
# The line model: Hough segments through the pixels above FAINT_LINE_CONTRAST (L*), at least LINE_VOTES of them on a
# line, LINE_PIECE px long with gaps of up to LINE_GAP px (a scratch crossing a busy patch is seen in pieces).
FAINT_LINE_CONTRAST = 6.0
LINE_VOTES = 20
LINE_PIECE = 25
LINE_GAP = 6
# A segment is a scratch when (medians along it, L*, against its ridge: the contrast within a pixel of it):
# - its ridge is above FAINT_LINE_CONTRAST on LINE_SUPPORT of its length;
# - at most RIDGE_MAX_WIDTH of the offsets -4..4 px across it hold half the ridge (1-3 px scratches; not a stem);
# - the background SIDE_OFFSET px either side differs by at most EDGE_SHARE of the ridge (a lit rim along an edge
#   has a steady step across it; a scratch crossing a photo has none on the whole);
# - the contrast FLANK_OFFSET px beside it is at most FLANK_SHARE of the ridge (not part of a wider mark);
# - no parallel line: the mean contrast at any offset of PARALLEL_OFFSETS px is at most PARALLEL_SHARE of the ridge's
#   (text lines, fences, window grids are many parallel thin lines; a scratch is alone).
LINE_SUPPORT = 0.7
RIDGE_MAX_WIDTH = 4
SIDE_OFFSET = 4
EDGE_SHARE = 0.5
FLANK_OFFSET = 3
FLANK_SHARE = 0.3
PARALLEL_OFFSETS = (5, 20)
PARALLEL_SHARE = 0.3
# A kept segment is followed past its ends for up to TRACE_REACH px while its ridge stays above TRACE_CONTRAST (L*),
# over gaps of up to TRACE_GAP px; the scratch is masked LINE_MASK_WIDTH px wide (grown by MASK_GROWTH later).
TRACE_REACH = 100
TRACE_CONTRAST = 10.0
TRACE_GAP = 4
LINE_MASK_WIDTH = 3
# Dust: at most this many pixels, with at most DUST_NEIGHBOURS other clear marks within the NEIGHBOURHOOD (px).
DUST_MAX_AREA = 60
DUST_NEIGHBOURS = 2
DUST_ISOLATION = 6.0
NEIGHBOURHOOD = 31
# The hand-made finder's marks: the inpainting radius (px, Telea) and how far (px) they are grown first (a
# scratch's soft border).
INPAINT_RADIUS = 3
MASK_GROWTH = 1
# The learned detector (`colorizers.scratch_detector`), when its file is there, replaces the hand-made finder: a
# scratch is a connected piece of pixels whose probability is above LEARNED_SCRATCH_LOW, holding at least one above
# LEARNED_SCRATCH (hysteresis: a faint stretch is kept where it continues a clear one) and at least
# LEARNED_MIN_LENGTH px long (bounding box diagonal); dust is where its probability is above LEARNED_DUST. Its marks
# are not grown (MASK_GROWTH is the hand-made finder's) and are filled by Navier-Stokes inpainting with a radius of
# LEARNED_INPAINT_RADIUS px, then the scratches by Fourier inpainting and the learned filler (`_learned_fill`: on val
# scans 2,537 of the scratches' showing pixels left against 3,965 with Navier-Stokes alone, 31.47 against 31.35 dB;
# docs/quality.md has every fill tried). Chosen on scans of the val split (docs/quality.md): with the detector
# trained for 3,600 steps, growing its marks by 1 px left as many scratches (2 of 227) and cost 0.5 dB (30.64
# against 31.16 dB); a low threshold of 0.3 gave 31.30 dB, 0.2 31.16 and 0.4 31.39 with a longer scratch left
# (42 px); Telea with a radius of 3 px left 2 scratches, Navier-Stokes with a radius of 1 px 1 (31.35 dB). Adding
# the hand-made lines or dust measured worse.
LEARNED_SCRATCH = 0.5
LEARNED_SCRATCH_LOW = 0.3
LEARNED_MIN_LENGTH = 0.0
LEARNED_DUST = 0.5
LEARNED_INPAINT_RADIUS = 1
# Fourier inpainting of the scratches costs about 0.5 ms per pixel on this machine (a 0.9 MP scan's scratches, some
# 4,000 px, about 2 s); past this many scratch pixels (about 10 s), Navier-Stokes alone fills them.
FOURIER_MAX_PIXELS = 20_000


def restore_lightness(lightness: np.ndarray) -> tuple[np.ndarray, dict]:
    """Dust and thin scratches filled in and grain smoothed: the restored L float32 (H, W) in [0, 100] and details.

    lightness: L (H, W) in [0, 100], any real dtype. details: {"scratches": n, "dust": n, "grain": L* standard
    deviation measured, "denoised": bool, "filled_share": share of pixels filled}.
    Raises ValueError for anything but a non-empty 2-D array.
    """
    lightness = _checked_lightness(lightness)
    levels = _to_levels(lightness)
    marks = found_marks(lightness)
    working, mask = marks.working.astype(np.float32), marks.mask
    filled = int(np.count_nonzero(mask))
    if filled:
        if marks.learned:
            working = _learned_fill(marks)
        else:
            working = cv2.inpaint(marks.working, mask, INPAINT_RADIUS, cv2.INPAINT_TELEA).astype(np.float32)
    details = {"scratches": marks.scratches, "dust": marks.dust, "grain": round(marks.grain, 2),
               "denoised": marks.denoised, "filled_share": round(filled / mask.size, 5)}
    if not (filled or marks.denoised):
        return lightness.copy(), details
    change = (working - levels.astype(np.float32)) / LEVELS_PER_L
    return np.clip(lightness + change, 0.0, 100.0).astype(np.float32), details


def _learned_fill(marks: Marks) -> np.ndarray:
    """The learned detector's marks filled in `marks.working`: float32 8-bit levels (H, W).

    Everything is inpainted (Navier-Stokes); then the scratches again with Fourier inpainting (`cv2.xphoto`, FSR,
    fast), which carries an edge or a line on across a scratch, when they hold at most FOURIER_MAX_PIXELS; then the
    learned filler's values where they lie further from the mark's tone (see `_beyond`; the filler reads the
    Navier-Stokes inpainting it was trained with)."""
    working, mask = marks.working, marks.mask
    inpainted = cv2.inpaint(working, mask, LEARNED_INPAINT_RADIUS, cv2.INPAINT_NS)
    filled = inpainted.astype(np.float32)
    lines = marks.lines > 0
    if 0 < np.count_nonzero(lines) <= FOURIER_MAX_PIXELS:
        fourier = np.zeros_like(inpainted)
        cv2.xphoto.inpaint(inpainted, np.where(lines, 0, 255).astype(np.uint8), fourier, cv2.xphoto.INPAINT_FSR_FAST)
        filled = np.where(lines, fourier, filled).astype(np.float32)
    under = scratch_detector.filled_lightness(working / LEVELS_PER_L, mask, inpainted / LEVELS_PER_L)
    if under is None:
        return filled
    return _beyond(np.where(mask > 0, under * LEVELS_PER_L, filled), filled, working.astype(np.float32))


def _beyond(filled: np.ndarray, inpainted: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """The learned filler's values where they lie further from the mark's own tone than the inpainting's (darker
    under a bright mark: the dark line it lies on), the inpainting's elsewhere. Arrays (H, W) alike: the filler's
    (the inpainting's outside the marks), the inpainting's, and the photo with its marks.

    Chosen on val scans (docs/quality.md): the filler alone left 3 scratches over 20 px where inpainting left 1 (it
    kept part of a scratch the detector found only in part, as if it were a real line); kept to this side, 1, and
    of the scratches' pixels that showed, 2,796 left against inpainting's 3,965."""
    brighter = marked > inpainted
    return np.where(brighter, np.minimum(filled, inpainted), np.maximum(filled, inpainted))


@dataclass
class Marks:
    """What Restore found on a scan before filling: `working` (8-bit lightness (H, W), grain smoothed when
    `denoised`), `mask` (uint8 0/255 (H, W), the pixels to fill) and `lines` (the scratches' part of it), the
    counts of scratches and dust, the grain (L*) and whether the learned detector found them (or the hand-made
    finder)."""
    working: np.ndarray
    mask: np.ndarray
    lines: np.ndarray
    scratches: int
    dust: int
    grain: float
    denoised: bool
    learned: bool


def found_marks(lightness: np.ndarray) -> Marks:
    """Grain measured and smoothed, dust and scratches found (steps 1 and 2 of the module's notes) on L float32
    (H, W) in [0, 100]. The learned filler's training (`train_scratch_filler`) starts from these too."""
    levels = _to_levels(lightness)
    grain = grain_level(levels)
    working = levels
    denoised = grain >= GRAIN_MIN
    if denoised:
        strength = float(DENOISE_STRENGTH * grain * LEVELS_PER_L)
        working = cv2.fastNlMeansDenoising(levels, None, h=strength, templateWindowSize=DENOISE_TEMPLATE,
                                           searchWindowSize=DENOISE_SEARCH)
    learned = learned_masks(lightness)
    mask, scratches, dust = defect_mask(working, residual_grain=grain / 3.0 if denoised else grain, learned=learned)
    lines = learned[0] if learned is not None else mask  # the hand-made finder's mask is not split
    return Marks(working, mask, lines, scratches, dust, grain, bool(denoised), learned is not None)


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


def defect_mask(levels: np.ndarray, residual_grain: float = 0.0,
                learned: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, int, int]:
    """The pixels to fill (uint8 0/255 (H, W); the hand-made finder's grown by MASK_GROWTH), the number of scratches
    and of dust specks.

    levels: 8-bit lightness (H, W) (L* x 2.55); residual_grain: the grain (L*) still in it, which raises the
    contrasts a mark needs; learned: the learned detector's scratch and dust masks (`learned_masks`), used
    instead of the hand-made finder's, or None for the hand-made finder.
    """
    if learned is None:
        lines, specks, scratches, dust = defect_masks(levels, residual_grain)
    else:
        lines, specks = learned
        scratches = _scratch_count(lines)
        dust = cv2.connectedComponents(((specks > 0) & (lines == 0)).astype(np.uint8), connectivity=8)[0] - 1
    mask = lines | specks
    if learned is None and MASK_GROWTH and scratches + dust:
        size = 2 * MASK_GROWTH + 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return mask, scratches, dust


def learned_masks(lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The learned detector's scratches and dust (uint8 0/255 (H, W) each), or None when its file is missing.
    lightness: L float32 (H, W) in [0, 100], as scanned (grain included)."""
    probabilities = scratch_detector.defect_probabilities(lightness)
    if probabilities is None:
        return None
    scratch, dust = probabilities
    lines = (scratch > LEARNED_SCRATCH_LOW).astype(np.uint8)
    if lines.any():
        count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        peak = np.zeros(count, np.float32)
        np.maximum.at(peak, labels.ravel(), scratch.ravel())
        keep = (peak > LEARNED_SCRATCH) & (np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
                                           >= LEARNED_MIN_LENGTH)
        keep[0] = False
        lines = keep[labels].astype(np.uint8)
    return lines * np.uint8(255), (dust > LEARNED_DUST).astype(np.uint8) * np.uint8(255)


def _scratch_count(lines: np.ndarray) -> int:
    """How many scratches a mask (uint8 (H, W), non-zero on them) holds: each connected piece counts half its
    skeleton's ends, at least one (two scratches that cross are one piece with four ends)."""
    count, labels = cv2.connectedComponents((lines > 0).astype(np.uint8), connectivity=8)
    if count <= 1:
        return 0
    skeleton = _thinned(lines > 0)
    neighbours = cv2.filter2D(skeleton.astype(np.float32), -1, np.ones((3, 3), np.float32),
                              borderType=cv2.BORDER_CONSTANT) - skeleton
    ends = np.bincount(labels[(skeleton > 0) & (neighbours == 1)], minlength=count)[1:]
    return int(np.sum(np.maximum(1, np.ceil(ends / 2))))


def _thinned(mask: np.ndarray) -> np.ndarray:
    """The one-pixel skeleton (uint8 0/1 (H, W)) of a boolean mask: Zhang and Suen's thinning (1984)."""
    image = np.pad(mask.astype(np.uint8), 1)
    shifts = [(1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1)]  # P2..P9, clockwise from north
    changed = True
    while changed:
        changed = False
        for first in (True, False):
            p2, p3, p4, p5, p6, p7, p8, p9 = (np.roll(image, shift, axis=(0, 1)) for shift in shifts)
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            filled = sum(value.astype(np.int32) for value in ring[:8])
            transitions = sum(((ring[index] == 0) & (ring[index + 1] == 1)).astype(np.int32) for index in range(8))
            if first:
                side = ((p2 & p4 & p6) == 0) & ((p4 & p6 & p8) == 0)
            else:
                side = ((p2 & p4 & p8) == 0) & ((p2 & p6 & p8) == 0)
            remove = (image == 1) & (filled >= 2) & (filled <= 6) & (transitions == 1) & side
            if remove.any():
                image[remove] = 0
                changed = True
    return image[1:-1, 1:-1]


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
        lines, line_count = _scratches(thin, noise, step, background)
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


def _scratches(contrast: np.ndarray, noise: float, step: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, int]:
    """Scratches of one polarity: uint8 0/255 (H, W) and their number (see the module's notes).

    contrast: the thin top-hat or black-hat, uint8 (H, W); noise: L* added to every contrast; step: the
    morphological gradient of the background without the thin marks, uint8 (H, W); background: that background."""
    along = np.zeros_like(contrast)
    widened = cv2.dilate(contrast, np.ones((3, 3), np.uint8))  # a pixel's slack for how a line is drawn
    for element in _LINE_ELEMENTS:
        np.maximum(along, cv2.morphologyEx(widened, cv2.MORPH_OPEN, element), out=along)
    np.minimum(along, contrast, out=along)
    # How busy the neighbourhood is: the mean contrast around (a lone line adds a tenth of its own; lines close
    # together, as a city's windows, add more).
    busy = cv2.blur(contrast.astype(np.float32), (NEIGHBOURHOOD, NEIGHBOURHOOD))
    isolated = along >= LINE_ISOLATION * busy
    faint = ((along > (FAINT_LINE_CONTRAST + noise) * LEVELS_PER_L) & isolated).astype(np.uint8)
    hough = cv2.HoughLinesP(faint, 1, np.pi / 180, LINE_VOTES, minLineLength=LINE_PIECE, maxLineGap=LINE_GAP)
    clear = (along > (LINE_CONTRAST + noise) * LEVELS_PER_L) & isolated & (along >= EDGE_RATIO * step)
    segments = np.concatenate([np.zeros((0, 4), np.float32) if hough is None else hough[:, 0].astype(np.float32),
                               _piece_segments(clear.astype(np.uint8))])
    kept = np.array([segment for segment in segments if _is_scratch(segment, contrast, background, noise)],
                    np.float32).reshape(-1, 4)
    lines = np.zeros_like(contrast)
    if not len(kept):
        return lines, 0
    first, last = kept[:, :2], kept[:, 2:]
    before = _traced_end(first, first - last, contrast, (TRACE_CONTRAST + noise) * LEVELS_PER_L)
    after = _traced_end(last, last - first, contrast, (TRACE_CONTRAST + noise) * LEVELS_PER_L)
    for path in np.stack([before, first, last, after], axis=1):
        cv2.polylines(lines, [np.round(path).astype(np.int32).reshape(-1, 1, 2)], False, 255, LINE_MASK_WIDTH)
    return lines, cv2.connectedComponents((lines > 0).astype(np.uint8), connectivity=8)[0] - 1


def _piece_segments(clear: np.ndarray) -> np.ndarray:
    """Each clear piece of a line (uint8 0/1 (H, W), 8-connected) at least LINE_MIN_LENGTH long and at most
    LINE_MAX_WIDTH wide, as the straight segment along its principal axis: float32 (N, 4) of x0, y0, x1, y1."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(clear, connectivity=8)
    length = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    inscribed = np.zeros(count, np.float32)  # the largest inscribed disc's radius: half the width, plus a half
    np.maximum.at(inscribed, labels.ravel(), cv2.distanceTransform(clear, cv2.DIST_L2, 3).ravel())
    pieces = (length >= LINE_MIN_LENGTH) & (2.0 * inscribed - 1.0 <= LINE_MAX_WIDTH)
    pieces[0] = False
    rows, columns = np.nonzero(pieces[labels])
    if not len(rows):
        return np.zeros((0, 4), np.float32)
    ids = labels[rows, columns]
    area = np.maximum(np.bincount(ids, minlength=count), 1)
    mean_x, mean_y = np.bincount(ids, columns, count) / area, np.bincount(ids, rows, count) / area
    dx, dy = columns - mean_x[ids], rows - mean_y[ids]
    angle = 0.5 * np.arctan2(2 * np.bincount(ids, dx * dy, count),
                             np.bincount(ids, dx * dx, count) - np.bincount(ids, dy * dy, count))
    along = dx * np.cos(angle)[ids] + dy * np.sin(angle)[ids]
    low, high = np.full(count, np.inf), np.full(count, -np.inf)
    np.minimum.at(low, ids, along)
    np.maximum.at(high, ids, along)
    chosen = np.nonzero(pieces)[0]
    ux, uy, x, y = np.cos(angle[chosen]), np.sin(angle[chosen]), mean_x[chosen], mean_y[chosen]
    return np.stack([x + low[chosen] * ux, y + low[chosen] * uy, x + high[chosen] * ux, y + high[chosen] * uy],
                    axis=1).astype(np.float32)


def _is_scratch(segment: np.ndarray, contrast: np.ndarray, background: np.ndarray, noise: float) -> bool:
    """Whether a straight segment (x0, y0, x1, y1) is a scratch, by its profile across (see the constants)."""
    x0, y0, x1, y1 = (float(value) for value in segment)
    length = float(np.hypot(x1 - x0, y1 - y0))
    if length < 1.0:
        return False
    steps = np.linspace(0.0, 1.0, int(length) + 1)
    normal = np.array([y0 - y1, x1 - x0]) / length
    offsets = np.arange(-PARALLEL_OFFSETS[1], PARALLEL_OFFSETS[1] + 1)
    centre = PARALLEL_OFFSETS[1]  # the row of offset 0
    columns = np.rint(x0 + (x1 - x0) * steps[None, :] + normal[0] * offsets[:, None]).astype(int)
    rows = np.rint(y0 + (y1 - y0) * steps[None, :] + normal[1] * offsets[:, None]).astype(int)
    columns = np.clip(columns, 0, contrast.shape[1] - 1)
    rows = np.clip(rows, 0, contrast.shape[0] - 1)
    across = contrast[rows, columns].astype(np.float32)  # (offsets, samples along)
    ridge = across[centre - 1:centre + 2].max(axis=0)
    middle = float(np.median(ridge))
    if np.mean(ridge > (FAINT_LINE_CONTRAST + noise) * LEVELS_PER_L) < LINE_SUPPORT or middle <= 0:
        return False
    width = np.median(np.sum(across[centre - 4:centre + 5] > 0.5 * ridge, axis=0))
    side = background[rows[centre + SIDE_OFFSET], columns[centre + SIDE_OFFSET]].astype(np.float32)
    other_side = background[rows[centre - SIDE_OFFSET], columns[centre - SIDE_OFFSET]].astype(np.float32)
    edge = abs(float(np.median(side - other_side)))
    flank = float(np.median(np.maximum(across[centre + FLANK_OFFSET], across[centre - FLANK_OFFSET])))
    far = np.abs(offsets) >= PARALLEL_OFFSETS[0]
    parallel = float(across[far].mean(axis=1).max()) / max(1.0, float(ridge.mean()))
    return (width <= RIDGE_MAX_WIDTH and edge <= EDGE_SHARE * middle and flank <= FLANK_SHARE * middle
            and parallel <= PARALLEL_SHARE)


def _traced_end(ends: np.ndarray, outward: np.ndarray, contrast: np.ndarray, threshold: float) -> np.ndarray:
    """Where each line (its end (N, 2) as x, y and the outward direction (N, 2)) stops: followed a pixel a step,
    moving a pixel sideways onto its ridge where that is stronger, while the contrast stays above `threshold`
    with gaps of at most TRACE_GAP px, for up to TRACE_REACH px. float (N, 2)."""
    height, width = contrast.shape
    direction = outward / np.maximum(np.linalg.norm(outward, axis=1, keepdims=True), 1e-6)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    sideways = np.array([-1.0, 0.0, 1.0])
    position, reached = ends.astype(np.float64), ends.astype(np.float64)
    gap = np.zeros(len(ends), int)
    going = np.ones(len(ends), bool)
    for _ in range(TRACE_REACH):
        position = position + direction
        probes = position[:, None, :] + sideways[None, :, None] * normal[:, None, :]  # (N, 3, 2)
        columns, rows = np.rint(probes[..., 0]).astype(int), np.rint(probes[..., 1]).astype(int)
        inside = (columns >= 0) & (columns < width) & (rows >= 0) & (rows < height)
        values = np.where(inside, contrast[rows.clip(0, height - 1), columns.clip(0, width - 1)], 0)
        best = values.argmax(axis=1)
        on = going & (values[np.arange(len(best)), best] > threshold)
        position = np.where(on[:, None], position + sideways[best][:, None] * normal, position)
        reached = np.where(on[:, None], position, reached)
        gap = np.where(on, 0, gap + 1)
        going &= (gap <= TRACE_GAP) & inside.any(axis=1)
        if not going.any():
            break
    return reached


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
