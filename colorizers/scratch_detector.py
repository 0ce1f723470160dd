"""The learned scratch detector, a tiny U-Net that marks thin scratches and dust on a scanned print's lightness,
and the learned filler, the same U-Net, that gives the lightness under those marks.

It was trained on synthetic defects (the evaluation's own generator) drawn over train-split photos
(`colorizers/training/train_scratches.py`, `make train-scratches`) and is served as `weights/scratch_detector.onnx`
with ONNX Runtime (no TensorFlow here). Restore (`colorizers/restore.py`) combines its mask with the hand-made
finder's; when the file is missing, Restore works with the hand-made finder alone.

The graph takes lightness (1, H, W, 1) float32 in [0, 100] (H and W multiples of SIZE_MULTIPLE; it scales the
input itself) and gives "scratches" and "dust", probabilities (1, H, W) float32 in [0, 1].

The filler (weights/scratch_filler.onnx, `colorizers/training/train_scratch_filler.py`, `make train-scratch-filler`)
takes "inputs" (1, H, W, 3): the lightness, the mask to fill (0 or 1) and the lightness inpainted there, and gives
"lightness" (1, H, W) in [0, 100].

Conventions: L float32 (H, W) in [0, 100] in; probabilities float32 (H, W) in [0, 1] out.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from . import settings

log = logging.getLogger(__name__)

WEIGHTS_FILE = "scratch_detector.onnx"
FILLER_FILE = "scratch_filler.onnx"
# The network halves the photo three times: its sides must be multiples of this (the photo is padded to them).
SIZE_MULTIPLE = 8
# The photo is shown to the network in these views (quarter turns, mirrored) and the probabilities averaged. On
# val scans (Restore's figures): one view 9 of 227 scratches left, gain 4.88 dB, clean photos 35.85 dB median; the
# photo and its quarter turn 9, 5.18, 37.52; all four turns 9, 5.24, 38.78 at twice the time again (1.9 s/MP
# against 0.56 for one view, this machine): two it is. Mirrored views added nothing.
VIEWS = ((0, False), (1, False))
# The photo is mirrored this far (px) past its edges before the network sees it, so that a scratch along an edge is
# seen with something on both sides (the network's own zero padding hid them: on val scans, 9 scratches left > 20 px
# without, 8 with 16 px; 8 px did not reach them).
MARGIN = 16

_lock = threading.Lock()
_sessions: dict[Path, object] = {}


def weights_path() -> Path:
    return settings.WEIGHTS_DIR / WEIGHTS_FILE


def filler_path() -> Path:
    return settings.WEIGHTS_DIR / FILLER_FILE


def is_available() -> bool:
    """Whether the exported detector is in the weights folder."""
    return weights_path().exists()


def padded(plane: np.ndarray) -> np.ndarray:
    """(H, W, ...) mirrored MARGIN px past its edges, and on to sides that are multiples of SIZE_MULTIPLE."""
    height, width = plane.shape[:2]
    pad = ((MARGIN, MARGIN + -(height + 2 * MARGIN) % SIZE_MULTIPLE),
           (MARGIN, MARGIN + -(width + 2 * MARGIN) % SIZE_MULTIPLE))
    return np.pad(plane, pad + ((0, 0),) * (plane.ndim - 2), mode="symmetric")


def _session(path: Path):
    """The ONNX Runtime session for `path`, loaded once per process (behind a lock; ONNX Runtime's `run` is
    thread-safe, so one session serves every thread)."""
    with _lock:
        session = _sessions.get(path)
        if session is None:
            from .onnx_model import inference_session

            session = _sessions[path] = inference_session(path)
            log.info("%s loaded", path.name)
        return session


def defect_probabilities(lightness: np.ndarray, path: Path | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-pixel probabilities of a scratch and of dust, float32 (H, W) each in [0, 1]; None when the detector's
    file is missing. lightness: L float32 (H, W) in [0, 100] (the scan as it is: grain included)."""
    path = Path(path) if path is not None else weights_path()
    if not path.exists():
        return None
    from .onnx_model import run

    session = _session(path)
    lightness = np.asarray(lightness, np.float32)
    scratches, dust = np.zeros(lightness.shape, np.float32), np.zeros(lightness.shape, np.float32)
    for turns, mirrored in VIEWS:
        view = np.rot90(lightness[:, ::-1] if mirrored else lightness, turns)
        height, width = view.shape
        outputs = run(session, lightness=np.ascontiguousarray(padded(view)[None, :, :, None]))
        for total, name in ((scratches, "scratches"), (dust, "dust")):
            back = np.rot90(outputs[name][0, MARGIN:MARGIN + height, MARGIN:MARGIN + width], -turns)
            total += back[:, ::-1] if mirrored else back
    return scratches / len(VIEWS), dust / len(VIEWS)


def filled_lightness(lightness: np.ndarray, mask: np.ndarray, inpainted: np.ndarray,
                     path: Path | None = None) -> np.ndarray | None:
    """The lightness under the marks as the learned filler sees it: float32 (H, W) in [0, 100] (meant for the
    pixels of `mask`); None when the filler's file is missing.

    lightness: L float32 (H, W) in [0, 100] as restored so far (grain smoothed, marks still there); mask: (H, W),
    non-zero where a mark is; inpainted: L (H, W) with the marks inpainted from their surroundings."""
    path = Path(path) if path is not None else filler_path()
    if not path.exists():
        return None
    from .onnx_model import run

    inputs = np.stack([np.asarray(lightness, np.float32), (np.asarray(mask) > 0).astype(np.float32),
                       np.asarray(inpainted, np.float32)], axis=-1)
    height, width = inputs.shape[:2]
    output = run(_session(path), inputs=np.ascontiguousarray(padded(inputs)[None]))["lightness"]
    return output[0, MARGIN:MARGIN + height, MARGIN:MARGIN + width]
