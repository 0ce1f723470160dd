"""The one interface the app and the command line use: which models exist, and colour a photo with one.

Models load lazily, once per process, behind a lock (never before a fork: load them in the serving process).
A learned model is listed as available only when its exported network (ONNX) is in the weights folder; its module
(and ONNX Runtime) is imported only when it is first used. Serving never imports TensorFlow.
"""
from __future__ import annotations

import importlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from . import settings
from .color import merge_chroma, rgb_to_lightness
from .decode import DecodedImage
from .errors import ColorizerError, UnknownModelError, WeightsMissingError
from .faces import keep_faces_skin
from .touchup import Hints, NoStrokesError, hints_from_rgba, touch_up_chroma

MAX_STRENGTH = 1.5


class Colorizer(Protocol):
    def predict_chroma(self, lightness: np.ndarray, **options: Any) -> tuple[np.ndarray, dict]:
        """Chroma a/b float32 (h, w, 2) at the model's working size for lightness (H, W) in [0, 100]."""


@dataclass(frozen=True)
class ModelInfo:
    """What the app shows about a model, and how to load it (`loader` is "module:callable")."""

    name: str
    title: str
    summary: str
    uses_reference: bool
    loader: str
    weights_file: str | None = None

    @property
    def weights_path(self) -> Path | None:
        return settings.WEIGHTS_DIR / self.weights_file if self.weights_file else None

    @property
    def is_available(self) -> bool:
        return self.weights_path is None or self.weights_path.exists()


MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo(
            "welsh",
            "Welsh transfer",
            "Copies colour from a reference photo by matching lightness and texture (Welsh et al. 2002).",
            uses_reference=True,
            loader="colorizers.reference_transfer:WelshColorizer",
        ),
        ModelInfo(
            "exemplar",
            "Match by content",
            "Copies colour from one to five reference photos, matching what things are (ImageNet features), not "
            "only how light they are; where the references show nothing alike, the CNN's colour is used.",
            uses_reference=True,
            loader="colorizers.exemplar:load_colorizer",
            weights_file="exemplar_features.onnx",
        ),
        ModelInfo(
            "cnn",
            "Fusion CNN",
            "MobileNetV2 encoder fused with a global scene vector and a convolutional decoder, trained here.",
            uses_reference=False,
            loader="colorizers.cnn:load_colorizer",
            weights_file="cnn.onnx",
        ),
        ModelInfo(
            "cgan",
            "pix2pix cGAN",
            "A U-Net generator on the ImageNet encoder, trained against a PatchGAN critic, for livelier colour.",
            uses_reference=False,
            loader="colorizers.cgan:load_colorizer",
            weights_file="cgan.onnx",
        ),
        ModelInfo(
            "blend",
            "Blend",
            "The CNN's colours averaged with those of the library photos most alike in content.",
            uses_reference=False,
            loader="colorizers.blend:load_colorizer",
            weights_file="cnn.onnx",  # the CNN's; the blend has none of its own
        ),
    )
}


# Models that colour by hand, from brush strokes only (the `hints` option): run by name, never listed with the
# automatic models above (pages, evaluation and the API's model list show those).
BY_HAND: dict[str, ModelInfo] = {
    "scribble": ModelInfo(
        "scribble",
        "Scribble",
        "Starts from gray and spreads the colours of your brush strokes through regions of similar lightness.",
        uses_reference=False,
        loader="colorizers.touchup:ScribbleColorizer",
    ),
}


@dataclass
class Colorization:
    """One model's result. rgb: uint8 (H, W, 3) at `strength`; chroma: a/b at the model's working size."""

    model: str
    lightness: np.ndarray
    chroma: np.ndarray
    rgb: np.ndarray
    seconds: float
    strength: float = 1.0
    details: dict = field(default_factory=dict)

    def at_strength(self, strength: float) -> np.ndarray:
        """The result with chroma scaled by `strength` (0 to 1.5), without running the model again."""
        return merge_chroma(self.lightness, self.chroma, _checked_strength(strength))


def available_models() -> list[ModelInfo]:
    """Models that can run here (weights present), in display order."""
    return [info for info in MODELS.values() if info.is_available]


def model_info(name: str) -> ModelInfo:
    info = MODELS.get(name) or BY_HAND.get(name)
    if info is None:
        known = ", ".join([*MODELS, *BY_HAND])
        raise UnknownModelError(f"There is no model called '{name}'. Known models: {known}.")
    return info


_loaded: dict[str, Colorizer] = {}
_load_locks: dict[str, threading.Lock] = {}
_load_locks_guard = threading.Lock()


def _load_lock(name: str) -> threading.Lock:
    """The lock for loading `name`, made on first use (models can be registered after import)."""
    with _load_locks_guard:
        return _load_locks.setdefault(name, threading.Lock())


def get_model(name: str) -> Colorizer:
    """The loaded model called `name`, loading it on first use (thread-safe)."""
    info = model_info(name)
    if not info.is_available:  # checked on every call: the weights may have been removed since loading
        raise WeightsMissingError(
            f"The {info.title} model is not installed: its weights file {info.weights_file} is missing "
            f"from {settings.WEIGHTS_DIR}."
        )
    if name in _loaded:
        return _loaded[name]
    with _load_lock(name):
        if name not in _loaded:
            module_name, _, attribute = info.loader.partition(":")
            factory = getattr(importlib.import_module(module_name), attribute)
            _loaded[name] = factory(info.weights_path) if info.weights_path else factory()
    return _loaded[name]


def colorize(
    image: DecodedImage | np.ndarray, model: str, strength: float = 1.0, **options: Any
) -> Colorization:
    """Colour `image` with `model`; the result has the input's size and lightness.

    image: a DecodedImage, sRGB uint8 (H, W, 3), or lightness float (H, W) in [0, 100].
    options: model-specific (for the reference-based models: reference = sRGB uint8 array, gallery or library name,
    a list of up to five of those, or "auto"; own_references = the visitor's `OwnReference`s "auto" also searches;
    for Welsh: samples, seed);
    options a model does not use are ignored, so callers can pass a reference to every model.
    hints: brush strokes for any model (an RGBA uint8 image whose opaque pixels are the strokes' colours, at any
    size, or `Hints`): the model's result is touched up with them (see `touch_up`). A by-hand model (`BY_HAND`)
    needs at least one stroke: without, NoStrokesError.
    skin_tones: for the automatic models (no reference), faces found in the photo are kept within skin tones
    (`colorizers.faces`), after the model and before the strokes, so the strokes win (default True); the boxes
    of the faces found, if any, are in details["faces"].
    """
    strength = _checked_strength(strength)
    lightness = _lightness_of(image)
    info = model_info(model)
    hints = options.pop("hints", None)
    skin_tones = bool(options.pop("skin_tones", True)) and model in MODELS and not info.uses_reference
    if model in BY_HAND:  # from gray, no stroke would give a gray photo back: ask for strokes instead
        hints = _hints_of(hints) if hints is not None else None
        if hints is None or hints.is_empty:
            raise NoStrokesError(info.title)
    options = options_for(info, options)
    colorizer = get_model(model)
    started = time.perf_counter()
    chroma, details = colorizer.predict_chroma(lightness, **options)
    if skin_tones:
        chroma, faces = keep_faces_skin(lightness, chroma)
        if faces:
            details = {**details, "faces": faces}
    if hints is not None:
        chroma = touch_up_chroma(lightness, _hints_of(hints), None if model in BY_HAND else chroma)
    rgb = merge_chroma(lightness, chroma, strength)
    seconds = time.perf_counter() - started
    return Colorization(model, lightness, chroma, rgb, seconds, strength, details)


def options_for(info: ModelInfo, options: dict[str, Any]) -> dict[str, Any]:
    """`options` without those a model takes no notice of (callers may pass a reference to every model)."""
    if info.uses_reference:
        return options
    return {key: value for key, value in options.items()
            if key not in ("reference", "samples", "seed", "own_references")}


def touch_up(result: Colorization, hints: Hints | np.ndarray) -> Colorization:
    """`result` re-coloured by brush strokes (Levin et al. 2004, `colorizers.touchup`): the strokes' colours spread
    through the regions they touch and the rest keeps the result's chroma (a by-hand model starts from gray).

    hints: an RGBA uint8 image of any size whose opaque pixels are the strokes' colours, or `Hints`. Pass the
    model's own result (not an earlier touch-up) with every stroke so far: strokes are not cumulative. The new
    result has an `rgb` only when `result` had one (kept results drop theirs to save memory).
    """
    started = time.perf_counter()
    start = None if result.model in BY_HAND else result.chroma
    chroma = touch_up_chroma(result.lightness, _hints_of(hints), start)
    rgb = merge_chroma(result.lightness, chroma, result.strength) if result.rgb.size else result.rgb
    details = {**result.details, "touchup_seconds": time.perf_counter() - started}
    return Colorization(result.model, result.lightness, chroma, rgb, result.seconds, result.strength, details)


def _hints_of(hints: Hints | np.ndarray) -> Hints:
    return hints if isinstance(hints, Hints) else hints_from_rgba(hints)


def _lightness_of(image: DecodedImage | np.ndarray) -> np.ndarray:
    if isinstance(image, DecodedImage):
        return image.lightness
    image = np.asarray(image)
    if image.ndim == 2:
        return image.astype(np.float32, copy=False)
    if image.ndim == 3 and image.shape[-1] == 3:
        return rgb_to_lightness(image)
    raise ValueError(f"Expected lightness (H, W) or RGB (H, W, 3), got shape {image.shape}.")


def _checked_strength(strength: float) -> float:
    strength = float(strength)
    if not 0.0 <= strength <= MAX_STRENGTH:
        raise ColorizerError(f"Strength must be between 0 and {MAX_STRENGTH:.0%}.")
    return strength
