"""A fake model for tests/test_registry.py: counts how often the registry loads it."""
from __future__ import annotations

import threading
import time

import numpy as np

load_count = 0
_count_lock = threading.Lock()


class FakeColorizer:
    """Predicts a constant warm chroma at quarter size."""

    def predict_chroma(self, lightness: np.ndarray, **options) -> tuple[np.ndarray, dict]:
        height, width = lightness.shape
        chroma = np.full((max(1, height // 4), max(1, width // 4), 2), [15.0, 10.0], np.float32)
        return chroma, {"options": sorted(options)}


def load_colorizer() -> FakeColorizer:
    """Slow on purpose, so that threads asking at the same time overlap."""
    global load_count
    with _count_lock:
        load_count += 1
    time.sleep(0.2)
    return FakeColorizer()
