"""The "Suggest for me" reference, by content: the reference library ranked by what the gray photo shows, and
the colour the nearest references agree on.

Measured on the foreign split (photos from packages the library never saw; `scripts/tune_suggestion.py`, table in
weights/MODEL_CARD.md): a single reference, even the nearest by content, is often wrong somewhere; averaging
the Welsh a/b of the SUGGESTED_COUNT nearest keeps what they agree on and hedges toward gray where they do not.
The transfers run at a working size (long side WORKING_SIDE): the average is smooth anyway, and the chroma merge
brings it back to the photo's full size and lightness. Needs the CNN's weights (its frozen ImageNet encoder
describes the photo) and the library (assets/library/); without either, `suggested_chroma` returns None.

The encoder sees a portrait as a scene, not as a person: for three of the foreign split's portraits (kphotoalbum)
its nearest were bar interiors, wine, a drum kit and a solar panel, the library's people 7th or lower. So when
the photo shows a face as large as a portrait's and none of the nearest shows people, the last place goes to the
nearest photo that does (the library's `people` mark).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from . import welsh
from .color import resize_plane, rgb_to_lightness
from .faces import detect_faces
from .library import LibraryPhoto, library, load_library_photo

SUGGESTED_COUNT = 5
WORKING_SIDE = 512
# Faces are searched on a copy this long: a portrait's face is large (still 24 px here), and it is 4x cheaper than
# the skin step's search at 640.
PORTRAIT_SIDE = 320


def working_lightness(lightness: np.ndarray, max_side: int = WORKING_SIDE) -> np.ndarray:
    """Lightness (H, W) shrunk (area average) so that its long side is at most `max_side`."""
    height, width = lightness.shape
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return lightness
    return resize_plane(lightness, (max(1, round(height * scale)), max(1, round(width * scale))), Image.BOX)


@dataclass(frozen=True)
class OwnReference:
    """A colour photo the visitor uploaded as a reference: searched by "Suggest for me" beside the library."""

    name: str
    rgb: np.ndarray

    @property
    def title(self) -> str:
        return self.name


def suggested_references(
    lightness: np.ndarray, count: int = SUGGESTED_COUNT, own_references: Sequence[OwnReference] = ()
) -> list[LibraryPhoto | OwnReference] | None:
    """The `count` photos most alike in content among the library and the visitor's own references, best first;
    None when the CNN (its encoder describes the photos) or both the library and own references are missing."""
    from .registry import get_model, model_info  # the registry imports this module's users

    found = library()
    if (found is None and not own_references) or not model_info("cnn").is_available:
        return None
    cnn = get_model("cnn")
    embedding = cnn.embed(lightness)
    ranked: list[tuple[LibraryPhoto | OwnReference, float]] = (
        found.nearest(embedding, len(found.photos)) if found else [])
    for own in own_references:  # an old album's own colour photos compete with the library on equal terms
        ranked.append((own, float(cnn.embed(rgb_to_lightness(own.rgb)) @ embedding)))
    ranked.sort(key=lambda pair: -pair[1])
    return with_people_for_portraits([photo for photo, _ in ranked], lightness, count)


def shows_people(photo: LibraryPhoto | OwnReference) -> bool:
    return bool(getattr(photo, "people", False))


def with_people_for_portraits(ranked: list, lightness: np.ndarray, count: int) -> list:
    """The first `count` of `ranked` (best first); when none shows people and `lightness` (H, W) shows a portrait's
    face, the last of them is replaced by the best-ranked photo that shows people (if any)."""
    chosen = ranked[:count]
    if not chosen or any(shows_people(photo) for photo in chosen):
        return chosen
    person = next((photo for photo in ranked[count:] if shows_people(photo)), None)
    if person is not None and detect_faces(lightness, PORTRAIT_SIDE):  # searched last: the dearest check
        chosen[-1] = person
    return chosen


def reference_rgb(photo: LibraryPhoto | OwnReference) -> np.ndarray:
    """A suggested reference as sRGB uint8 (h, w, 3)."""
    return photo.rgb if isinstance(photo, OwnReference) else load_library_photo(photo.file)


def suggested_chroma(lightness: np.ndarray, count: int = SUGGESTED_COUNT, samples: int = welsh.DEFAULT_SAMPLES,
                     seed: int = 0, own_references: Sequence[OwnReference] = ()
                     ) -> tuple[np.ndarray, list[LibraryPhoto | OwnReference]] | None:
    """Welsh a/b averaged over the `count` nearest references, at the working size, and those references;
    None when no content suggestion can be made here."""
    photos = suggested_references(lightness, count, own_references)
    if not photos:
        return None
    references = [reference_rgb(photo) for photo in photos]
    return welsh.average_transfer_chroma(working_lightness(lightness), references, samples, seed), photos
