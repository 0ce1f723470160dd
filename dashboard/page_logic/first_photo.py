"""The home page's first path for an old photo, without Dash: which model colours it, the optional Restore step
(dust, thin scratches and grain taken out of a scan's lightness before colouring), and the words the page shows.

A photo is coloured by one recommended model (`recommended_model`); the others are a click away (the home page
sends the photo to Compare). With Restore on, the photo's lightness is cleaned by `colorizers.restore` (when that
module is installed; without it the step is not offered) and the cleaned lightness is what gets coloured, so the
result carries neither the scratches nor their colour; the page shows the scan and its restored lightness side by
side so the visitor can judge it, and a switch turns it off.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Callable, Sequence

import numpy as np

from colorizers import Colorization, colorize, model_info
from colorizers.color import gray_rgb, rgb_to_lightness

from .imaging import colorized_name, download_name
from ..jobs.photos import KeptUpload, friendly_message
from ..server.model_slots import model_slots
from ..stores.results_store import ResultsStore, TouchUpState, make_stored_image

try:  # the Restore step's own module (issue 23); the page works without it, with no Restore switch
    from colorizers.restore import looks_like_scan, restore_lightness
except ImportError:  # pragma: no cover - depends on what is installed
    looks_like_scan = None
    restore_lightness = None

# The models a first photo is coloured with, best first; the first one installed is used. From the foreign split
# (weights/evaluation/foreign/table.md: 65 photos from packages never trained on, long side 512 px):
#   model     PSNR dB  SSIM    dCF   s/photo
#   cnn       22.00    0.9085  20.2  0.010
#   blend     22.24    0.8968  22.5  0.319
#   cgan      21.48    0.8938  20.5  0.057
#   exemplar  21.67    0.8916  20.8  1.240
# The CNN is the best colouring model on two of the three quality measures (structure, SSIM; colourfulness
# closest to the true photos', dCF) and within 0.24 dB of the best PSNR (the blend's, which is duller: CF 25.0
# against the truth's 46.1), at a thirtieth of the blend's time: a first visitor waits the least for the best
# overall result. The reference models come last: they need a good reference to do well.
RECOMMENDED_ORDER = ("cnn", "blend", "cgan", "exemplar", "welsh")
PHOTO_EXPIRED = "This photo has expired from the server; please upload it again."

# Plain words for the page (no numbers): what the result is, and what Restore did.
RESULT_WORDS = ("Coloured by {title}, the model that came closest to the real colours on old photos it had never "
                "seen. Colours are a well-informed guess: skies, skin and foliage are usually right; clothes and "
                "painted objects may not be.")
RESTORE_ON_WORDS = ("Restored before colouring: dust, thin scratches and grain were taken out. Compare the scan "
                    "with the restored photo below; turn Restore off if you prefer the scan as it was.")
RESTORE_OFF_WORDS = "Coloured as scanned. Turn Restore on to take out dust, thin scratches and grain first."


def restore_available() -> bool:
    """Whether the Restore step can be offered (`colorizers.restore` is installed)."""
    return restore_lightness is not None and looks_like_scan is not None


def recommended_model(available: Sequence[str]) -> str | None:
    """The model to colour a first photo with: the first of RECOMMENDED_ORDER among `available` (model names),
    else the first available one; None when none is."""
    for name in RECOMMENDED_ORDER:
        if name in available:
            return name
    return available[0] if available else None


def other_models(available: Sequence[str], recommended: str | None) -> list[str]:
    """The models the "Compare all models" link adds (every available one but the recommended one, in order)."""
    return [name for name in available if name != recommended]


def restore_by_default(rgb: np.ndarray, lightness: np.ndarray, tint: str | None,
                       scan_check: Callable | None = None) -> bool:
    """Whether Restore starts on for this photo: for scans (`colorizers.restore.looks_like_scan`, or `scan_check`
    with the same arguments), never when the step is not installed. rgb: sRGB uint8 (H, W, 3); lightness: float32
    (H, W) in [0, 100]."""
    check = scan_check if scan_check is not None else looks_like_scan
    if check is None or (scan_check is None and not restore_available()):
        return False
    return bool(check(rgb, lightness, tint))


@dataclass(frozen=True)
class FirstResult:
    """A first photo's result, small and JSON-friendly (the page keeps it in a `dcc.Store`).

    upload: the photo as kept (its id, file name, whether it was in colour or a tinted print).
    result_id / filename: the coloured result in the store and its download's name (None with `error`).
    restore: whether it was coloured from its restored lightness; restore_offered: whether the step exists.
    restored_id: the restored lightness as a gray image in the store (the "after" of the Restore before/after).
    """

    upload: KeptUpload
    model_name: str
    model_title: str
    result_id: str | None = None
    filename: str | None = None
    restore: bool = False
    restore_offered: bool = False
    restored_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["upload"] = self.upload.to_json()
        return data

    @classmethod
    def from_json(cls, data: object) -> FirstResult | None:
        """The record a page kept, or None when it is not one (the ids still only reach this session's store)."""
        if not isinstance(data, dict) or not isinstance(data.get("upload"), dict):
            return None
        text = {key: data.get(key) if isinstance(data.get(key), str) else None
                for key in ("result_id", "filename", "restored_id", "error")}
        return cls(
            upload=KeptUpload.from_json(data["upload"]),
            model_name=str(data.get("model_name") or ""),
            model_title=str(data.get("model_title") or ""),
            restore=bool(data.get("restore")),
            restore_offered=bool(data.get("restore_offered")),
            **text,
        )

    @property
    def words(self) -> str:
        """What the page says of the result, in plain words."""
        return RESULT_WORDS.format(title=self.model_title)

    @property
    def restore_words(self) -> str | None:
        """What the page says of the Restore step (None when it is not offered)."""
        if not self.restore_offered:
            return None
        return RESTORE_ON_WORDS if self.restore else RESTORE_OFF_WORDS


def colour_first_photo(upload: KeptUpload, session_id: str, store: ResultsStore, model_name: str,
                       restore: bool | None = None) -> FirstResult:
    """Colour the kept `upload` with `model_name`, restored first when `restore` is True (None: as
    `restore_by_default` says; the step is skipped where `colorizers.restore` is missing). Failures come back as
    the record's `error` (a friendly message), never raised."""
    title = model_name
    try:
        title = model_info(model_name).title
    except Exception as error:  # an unknown model: said on the card
        return FirstResult(upload, model_name, title, error=friendly_message(error, f"finding {model_name}"))
    if upload.error or not upload.image_id:
        return FirstResult(upload, model_name, title, error=upload.error or "The file could not be read.")
    original = store.get(session_id, upload.image_id)
    if original is None:
        return FirstResult(upload, model_name, title, error=PHOTO_EXPIRED)
    offered = restore_available()
    try:
        with model_slots().slot(owner=session_id):
            lightness = rgb_to_lightness(original.rgb)
            if restore is None:
                restore = restore_by_default(original.rgb, lightness, upload.tint)
            restore = bool(restore) and offered
            restored_id = None
            if restore:
                lightness, _details = restore_lightness(lightness)
                lightness = np.asarray(lightness, np.float32)
                restored_id = store.put(session_id, make_stored_image(
                    gray_rgb(lightness), download_name(upload.filename, "restored")))
            colorization = colorize(lightness if restore else original.rgb, model_name)
        filename = colorized_name(upload.filename, title)
        result_id = store.put(session_id, make_stored_image(
            colorization.rgb, filename, touch_up_state=TouchUpState(_without_rgb(colorization))))
    except Exception as error:  # the page shows the message in the photo's place
        message = friendly_message(error, f"colouring {upload.filename!r} with {model_name}")
        return FirstResult(upload, model_name, title, restore=bool(restore), restore_offered=offered, error=message)
    return FirstResult(upload, model_name, title, result_id, filename, restore, offered, restored_id)


def _without_rgb(colorization: Colorization) -> Colorization:
    """The colorization without its pixels (the stored image holds them), as `dashboard.jobs.photos` keeps results."""
    return replace(colorization, rgb=np.empty((0, 0, 3), np.uint8))


def results_from_state(records: list | None, session_id: str, store: ResultsStore) -> list[FirstResult]:
    """The page's kept results, newest first as stored, trusting nothing: each photo once, and only photos this
    session uploaded and the server still keeps."""
    seen: set[str] = set()
    results = []
    for record in records or []:
        result = FirstResult.from_json(record)
        if result is None or not result.upload.image_id or result.upload.image_id in seen:
            continue
        if store.get(session_id, result.upload.image_id) is None:
            continue
        seen.add(result.upload.image_id)
        results.append(result)
    return results
