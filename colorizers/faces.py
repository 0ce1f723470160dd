"""Faces that look like skin: find faces in the lightness and keep their colour within plausible skin tones.

The automatic models sometimes colour a face green (the CNN and the blend, most). After a model's chroma and before
the user's brush strokes (`registry.colorize`), each detected face's skin area is pulled toward the nearest point of
a skin-tone range of CIELAB a/b, weighted softly (full inside an ellipse over the face, feathered to nothing at its
edge). Outside faces the model's chroma is kept; a face already within the range is left as it is. The strokes come
after, as hard constraints of the touch-up solver, so the user's colour always wins.

Faces are found with OpenCV's bundled Haar cascades (nothing is downloaded): a face counts when both the default
frontal cascade and the "alt2" one find it (overlap at least MIN_AGREEMENT); alone, each calls leaves, roofs and
gears faces. Detection runs on a copy of the lightness at most DETECT_SIDE pixels long.

Conventions: lightness float32 (H, W) in [0, 100]; chroma a/b float32 (h, w, 2) at any size; boxes (x, y, w, h) in
pixels of the lightness at full size.
"""
from __future__ import annotations

import threading

import cv2  # at import, not in a thread: two threads importing it at once saw a half-made module (no cv2.data)
import numpy as np

# The skin-tone range, as a sector of the a/b plane: hue angle (degrees, 0 = +a red, 90 = +b yellow) and chroma
# (a/b units), the 5th to 95th percentiles of the pixels inside the inner ellipse (`inner_ellipse`) of the faces of
# people in the training photos (datasets/people.txt, long side 640). Measured by
# `colorizers.training.face_evaluation.measure_skin_range`, which `python -m colorizers evaluate-faces --out DIR`
# runs and writes to DIR/metrics.json ("measured_skin_range"): 7 faces in 3 photos (11,024 pixels; a portrait,
# mariachi musicians, boys playing football). Still a small base: the 5 to 95 percent span keeps lips, shadows and
# stage light in.
SKIN_HUES = (25.3, 65.8)
SKIN_CHROMA = (7.4, 40.3)
# The projection aims this far inside the range (degrees, a/b units), so a face's mean lies within it too.
HUE_MARGIN = 3.0
CHROMA_MARGIN = 1.5

# Detection: the long side of the copy searched, and the cascades' settings.
DETECT_SIDE = 640
MIN_FACE = 24  # pixels of the copy
SCALE_FACTOR = 1.2  # 1.1 also took a book cover and leaves for faces (and found one more small face), in 1.8x the time
MIN_NEIGHBOURS_DEFAULT = 5
MIN_NEIGHBOURS_ALT = 3
MIN_AGREEMENT = 0.3  # intersection over union of the two cascades' boxes

# The skin area of a face box (x, y, w, h): an ellipse centred at (x + w/2, y + SKIN_CENTER * h) with semi-axes
# SKIN_AXES * (w, h); the pull is full within FEATHER_START of its normalised radius and fades to 0 at its edge.
SKIN_CENTER = 0.55
SKIN_AXES = (0.45, 0.62)
FEATHER_START = 0.75  # the inner ellipse (`inner_ellipse`) lies within it: pulled all the way
# How much of the way to the range a face's skin is pulled (1: all the way at the centre).
PULL = 1.0

_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml")
# One pair of detectors per thread: OpenCV's CascadeClassifier must not run in two threads at once (it crashed the
# process when the Compare page's workers coloured two photos together).
_per_thread = threading.local()


def _load_detectors() -> list:
    detectors = getattr(_per_thread, "detectors", None)
    if detectors is None:
        detectors = [cv2.CascadeClassifier(cv2.data.haarcascades + name) for name in _CASCADES]
        if any(detector.empty() for detector in detectors):
            raise RuntimeError(f"OpenCV's face cascades are missing from {cv2.data.haarcascades}.")
        _per_thread.detectors = detectors
    return detectors


def detect_faces(lightness: np.ndarray, detect_side: int = DETECT_SIDE) -> list[tuple[int, int, int, int]]:
    """Faces in lightness float (H, W) in [0, 100] as boxes (x, y, w, h) in its pixels, largest first.

    Searched on a copy at most `detect_side` pixels long (histogram equalised); a face counts when both cascades
    find it (`MIN_AGREEMENT`)."""
    lightness = np.asarray(lightness, dtype=np.float32)
    if lightness.ndim != 2:
        raise ValueError(f"lightness must have shape (H, W), got {lightness.shape}")
    height, width = lightness.shape
    scale = min(1.0, detect_side / max(height, width))
    if scale < 1.0:  # area averaging, on the float plane: 4x faster than PIL's on a 8 MP photo, and no aliasing
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        lightness = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA)
    if min(lightness.shape) < MIN_FACE:
        return []
    gray = cv2.equalizeHist(np.clip(lightness * 2.55 + 0.5, 0, 255).astype(np.uint8))
    default, alternative = _load_detectors()
    found = default.detectMultiScale(gray, SCALE_FACTOR, MIN_NEIGHBOURS_DEFAULT, minSize=(MIN_FACE, MIN_FACE))
    if len(found) == 0:
        return []
    confirming = alternative.detectMultiScale(gray, SCALE_FACTOR, MIN_NEIGHBOURS_ALT, minSize=(MIN_FACE, MIN_FACE))
    faces = [tuple(int(round(value / scale)) for value in box) for box in found
             if any(_overlap(box, other) >= MIN_AGREEMENT for other in confirming)]
    return sorted(faces, key=lambda box: -box[2] * box[3])


def _overlap(first, second) -> float:
    """Intersection over union of two boxes (x, y, w, h)."""
    x1, y1, w1, h1 = (float(value) for value in first)
    x2, y2, w2, h2 = (float(value) for value in second)
    across = max(0.0, min(x1 + w1, x2 + w2) - max(x1, x2))
    down = max(0.0, min(y1 + h1, y2 + h2) - max(y1, y2))
    shared = across * down
    return shared / (w1 * h1 + w2 * h2 - shared)


def skin_weight(boxes, full_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """float32 (h, w) in [0, 1] at `size` (h, w): how much each pixel is pulled to skin tones, the most over the
    faces' feathered skin ellipses. boxes: (x, y, w, h) in pixels of a photo of `full_size` (H, W)."""
    height, width = size
    weight = np.zeros(size, np.float32)
    if not len(boxes):
        return weight
    scale_y, scale_x = height / full_size[0], width / full_size[1]
    rows = (np.arange(height, dtype=np.float32) + 0.5) / scale_y
    columns = (np.arange(width, dtype=np.float32) + 0.5) / scale_x
    for x, y, box_width, box_height in boxes:
        centre_x, centre_y = x + box_width / 2, y + SKIN_CENTER * box_height
        radius = np.sqrt(((columns[None, :] - centre_x) / (SKIN_AXES[0] * box_width)) ** 2
                         + ((rows[:, None] - centre_y) / (SKIN_AXES[1] * box_height)) ** 2)
        fade = np.clip((1.0 - radius) / (1.0 - FEATHER_START), 0.0, 1.0)
        np.maximum(weight, fade * fade * (3.0 - 2.0 * fade), out=weight)  # smoothstep: no visible rim
    return weight


def nearest_skin_tone(chroma: np.ndarray, hues: tuple[float, float] = SKIN_HUES,
                      chromas: tuple[float, float] = SKIN_CHROMA) -> np.ndarray:
    """The nearest a/b (float32, same shape (..., 2)) within the sector hue in `hues` (degrees), chroma in `chromas`.

    A hue inside the range keeps its hue and has its chroma clamped; outside, the point goes to the nearer of the
    sector's two straight edges (the sector is under 180 degrees wide)."""
    chroma = np.asarray(chroma, dtype=np.float32)
    a, b = chroma[..., 0], chroma[..., 1]
    hue = np.degrees(np.arctan2(b, a))
    radius = np.hypot(a, b)
    low, high = np.radians(hues[0]), np.radians(hues[1])
    clamped = np.clip(radius, chromas[0], chromas[1])
    inside_hue = (hue >= hues[0]) & (hue <= hues[1])
    best = np.stack([clamped * np.cos(np.radians(hue)), clamped * np.sin(np.radians(hue))], axis=-1)
    best_distance = np.where(inside_hue, np.abs(radius - clamped), np.inf)
    for edge in (low, high):
        direction = np.array([np.cos(edge), np.sin(edge)], np.float32)
        along = np.clip(chroma @ direction, chromas[0], chromas[1])
        point = along[..., None] * direction
        distance = np.linalg.norm(chroma - point, axis=-1)
        closer = ~inside_hue & (distance < best_distance)
        best = np.where(closer[..., None], point, best)
        best_distance = np.where(closer, distance, best_distance)
    return best.astype(np.float32)


def pull_to_skin(chroma: np.ndarray, boxes, full_size: tuple[int, int], pull: float = PULL) -> np.ndarray:
    """`chroma` a/b float32 (h, w, 2) with the skin of the faces in `boxes` pulled toward skin tones.

    boxes: (x, y, w, h) in pixels of the photo at `full_size` (H, W), as `detect_faces` gives them. Each pixel moves
    toward the nearest skin tone (just inside the range, `HUE_MARGIN`, `CHROMA_MARGIN`) by `pull` times its skin
    weight (`skin_weight`); pixels outside faces, and skin already within the range, keep their chroma."""
    chroma = np.asarray(chroma, dtype=np.float32)
    if chroma.ndim != 3 or chroma.shape[-1] != 2:
        raise ValueError(f"chroma must have shape (h, w, 2), got {chroma.shape}")
    if not len(boxes):
        return chroma
    weight = skin_weight(boxes, full_size, chroma.shape[:2]) * np.float32(pull)
    touched = weight > 0
    result = chroma.copy()
    target = nearest_skin_tone(chroma[touched], (SKIN_HUES[0] + HUE_MARGIN, SKIN_HUES[1] - HUE_MARGIN),
                               (SKIN_CHROMA[0] + CHROMA_MARGIN, SKIN_CHROMA[1] - CHROMA_MARGIN))
    outside = ~_in_range(chroma[touched])
    step = np.where(outside, weight[touched], 0.0)[:, None]
    result[touched] = chroma[touched] + step * (target - chroma[touched])
    return result


def keep_faces_skin(lightness: np.ndarray, chroma: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """(chroma with the faces found in `lightness` pulled toward skin tones, the face boxes): `detect_faces` then
    `pull_to_skin`. lightness float (H, W) in [0, 100]; chroma a/b float32 (h, w, 2) at any size."""
    boxes = detect_faces(lightness)
    return pull_to_skin(chroma, boxes, np.shape(lightness)), boxes


def inner_ellipse(boxes, size: tuple[int, int]) -> np.ndarray:
    """bool (h, w) at `size`: the inner face region of each box (x, y, w, h, in pixels at that size), an ellipse
    over cheeks, nose and forehead (centred at SKIN_CENTER of the height, semi-axes 0.32 w and 0.38 h), where the
    skin tones were measured and are checked."""
    height, width = size
    rows, columns = np.mgrid[:height, :width]
    mask = np.zeros(size, bool)
    for x, y, box_width, box_height in boxes:
        mask |= (((columns + 0.5 - (x + box_width / 2)) / (0.32 * box_width)) ** 2
                 + ((rows + 0.5 - (y + SKIN_CENTER * box_height)) / (0.38 * box_height)) ** 2) <= 1.0
    return mask


def within_skin_range(ab: np.ndarray) -> bool:
    """Whether a/b (2,) lies within the skin-tone range (SKIN_HUES, SKIN_CHROMA)."""
    return bool(_in_range(np.asarray(ab, dtype=np.float32)))


def _in_range(ab: np.ndarray) -> np.ndarray:
    """bool (...): which a/b (..., 2) lie within the skin-tone range."""
    hue = np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))
    radius = np.hypot(ab[..., 0], ab[..., 1])
    return (hue >= SKIN_HUES[0]) & (hue <= SKIN_HUES[1]) & (radius >= SKIN_CHROMA[0]) & (radius <= SKIN_CHROMA[1])
