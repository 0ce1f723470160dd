"""The learned scratch detector: a tiny U-Net that marks thin scratches and dust on a scanned print's lightness.

It was trained on synthetic defects (the evaluation's own generator) drawn over train-split photos
(`colorizers/training/train_scratches.py`, `make train-scratches`) and is served as `weights/scratch_detector.onnx`
with ONNX Runtime (no TensorFlow here). Restore (`colorizers/restore.py`) combines its mask with the hand-made
finder's; when the file is missing, Restore works with the hand-made finder alone.

The graph takes lightness (1, H, W, 1) float32 in [0, 100] (H and W multiples of SIZE_MULTIPLE; it scales the
input itself) and gives "scratches" and "dust", probabilities (1, H, W) float32 in [0, 1].

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


def is_available() -> bool:
    """Whether the exported detector is in the weights folder."""
    return weights_path().exists()


def _session(path: Path):
    """The ONNX Runtime session for `path`, loaded once per process (behind a lock; ONNX Runtime's `run` is
    thread-safe, so one session serves every thread)."""
    with _lock:
        session = _sessions.get(path)
        if session is None:
            from .onnx_model import inference_session

            session = _sessions[path] = inference_session(path)
            log.info("scratch detector loaded from %s", path)
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
        padded = np.pad(view, ((MARGIN, MARGIN + -(height + 2 * MARGIN) % SIZE_MULTIPLE),
                               (MARGIN, MARGIN + -(width + 2 * MARGIN) % SIZE_MULTIPLE)), mode="symmetric")
        outputs = run(session, lightness=np.ascontiguousarray(padded[None, :, :, None]))
        for total, name in ((scratches, "scratches"), (dust, "dust")):
            back = np.rot90(outputs[name][0, MARGIN:MARGIN + height, MARGIN:MARGIN + width], -turns)
            total += back[:, ::-1] if mirrored else back
    return scratches / len(VIEWS), dust / len(VIEWS)
