"""Fake learned models for the dashboard tests: 'cnn' and 'cgan' stand-ins that need no weights and no TensorFlow.

`register_fakes(monkeypatch)` replaces the registry's cnn and cgan entries (same names and titles) for one test and
leaves out the blend: Welsh, the real exemplar (whose CNN fallback and suggestions then use the fake CNN) and the two
fakes. `register_fakes(monkeypatch, exemplar=False)` leaves out the exemplar too: the three columns most page tests
use. `calls` counts predictions per model, so a test can show that changing the strength runs no model.
"""
from __future__ import annotations

import threading
from collections import Counter

import numpy as np

MODULE = "tests.browser.fake_models"
calls: Counter[str] = Counter()
_lock = threading.Lock()


class FakeColorizer:
    """Predicts a smooth chroma ramp (at 1/4 size, like the CNN) in the given a/b direction."""

    def __init__(self, name: str, direction: tuple[float, float]) -> None:
        self.name = name
        self.direction = np.array(direction, np.float32)

    def predict_chroma(self, lightness: np.ndarray, **options) -> tuple[np.ndarray, dict]:
        with _lock:
            calls[self.name] += 1
        height, width = max(1, lightness.shape[0] // 4), max(1, lightness.shape[1] // 4)
        ramp = np.linspace(0.4, 1.0, width, dtype=np.float32)[None, :, None] * np.ones((height, 1, 1), np.float32)
        return ramp * self.direction, {"options": sorted(options)}

    def embed(self, lightness: np.ndarray) -> np.ndarray:
        """A stand-in content embedding (the CNN's is 576 ImageNet features): a lightness histogram, unit length."""
        histogram = np.histogram(lightness, bins=576, range=(0.0, 100.0))[0].astype(np.float32) + 1e-3
        return histogram / np.linalg.norm(histogram)


def load_cnn() -> FakeColorizer:
    return FakeColorizer("cnn", (25.0, 35.0))  # warm


def load_cgan() -> FakeColorizer:
    return FakeColorizer("cgan", (-20.0, -30.0))  # cool


def register_fakes(monkeypatch, exemplar: bool = True) -> list[str]:
    """Make cnn and cgan available as fakes for one test (monkeypatch undoes it), beside the real exemplar unless
    `exemplar` is False; returns the model names."""
    from colorizers import registry

    # A private cache of loaded models for the test, so the fakes never outlive it.
    monkeypatch.setattr(registry, "_loaded", {key: value for key, value in registry._loaded.items()
                                              if key not in ("cnn", "cgan")})
    fakes = {}
    for name, loader in (("cnn", "load_cnn"), ("cgan", "load_cgan")):
        real = registry.MODELS[name]
        fakes[name] = registry.ModelInfo(name, real.title, real.summary, uses_reference=False,
                                         loader=f"{MODULE}:{loader}", weights_file=None)
    left_out = {"blend"} if exemplar else {"blend", "exemplar"}  # without the exemplar: the three model columns
    wanted = [(name, fakes.get(name, info)) for name, info in registry.MODELS.items() if name not in left_out]
    # Emptied last key first and filled again in order, so that monkeypatch's undo (last change first) gives the
    # registry back in its own order: the models' order is the pages' column order.
    for name in reversed(list(registry.MODELS)):
        monkeypatch.delitem(registry.MODELS, name)
    for name, info in wanted:
        monkeypatch.setitem(registry.MODELS, name, info)
    return [info.name for info in registry.available_models()]


def call_count(name: str) -> int:
    with _lock:
        return calls[name]
