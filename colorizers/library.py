"""The reference library: every training photo, small, with its source, licence and content embedding.

"Suggest for me" ranks it by content: the gray photo's embedding (`CNNColorizer.embed`: ImageNet features of the
frozen MobileNetV2, pooled) against the library's, by cosine similarity. Photos that show people
(datasets/people.txt) are marked `people`, so a portrait can be given one (`colorizers.suggestion`).
`scripts/build_reference_library.py` builds the folder (assets/library/: JPEGs, manifest.json, embeddings.npy, rows
in manifest order) from the training split only; validation and foreign photos are never in it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import settings
from .errors import ReferenceImageError

EMBEDDINGS_FILE = "embeddings.npy"


@dataclass(frozen=True)
class LibraryPhoto:
    """One reference photo of the library: `name` identifies it (also in URLs), `file` is its path; `people`: it
    shows people."""

    name: str
    title: str
    file: Path
    source_package: str
    licence: str
    people: bool = False


@dataclass(frozen=True)
class Library:
    photos: tuple[LibraryPhoto, ...]
    embeddings: np.ndarray  # float32 (N, D), rows L2-normalised, in `photos` order

    def nearest(self, embedding: np.ndarray, count: int) -> list[tuple[LibraryPhoto, float]]:
        """The `count` photos most alike `embedding` (D,) (L2-normalised), as (photo, cosine similarity), best first."""
        similarity = self.embeddings @ np.asarray(embedding, np.float32)
        order = np.argsort(-similarity, kind="stable")[:count]
        return [(self.photos[index], float(similarity[index])) for index in order]

    def get(self, name: str) -> LibraryPhoto | None:
        return next((photo for photo in self.photos if photo.name == name), None)

    def find(self, name: str) -> LibraryPhoto:
        photo = self.get(name)
        if photo is None:
            raise ReferenceImageError(f"There is no reference photo called '{name}' in the library.")
        return photo


def library(folder: Path | None = None) -> Library | None:
    """The library in `folder` (default settings.LIBRARY_DIR), or None when it has not been built there."""
    return _library(Path(folder or settings.LIBRARY_DIR))


@lru_cache(maxsize=4)
def _library(folder: Path) -> Library | None:
    manifest, embeddings = folder / "manifest.json", folder / EMBEDDINGS_FILE
    if not (manifest.exists() and embeddings.exists()):
        return None
    entries = json.loads(manifest.read_text())
    photos = tuple(
        LibraryPhoto(entry["name"], entry.get("title", entry["name"]), folder / entry["file"],
                     entry.get("source_package", ""), entry.get("licence", ""), bool(entry.get("people", False)))
        for entry in entries
    )
    vectors = np.load(embeddings).astype(np.float32)
    if len(vectors) != len(photos):
        raise ReferenceImageError(f"The reference library in {folder} is inconsistent: rebuild it.")
    return Library(photos, vectors)


@lru_cache(maxsize=32)
def load_library_photo(path: Path) -> np.ndarray:
    """A library photo as sRGB uint8 (H, W, 3), read once per process (read-only)."""
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
    except OSError:
        raise ReferenceImageError(f"The reference photo {path.name} could not be read from the library.") from None
    rgb.setflags(write=False)
    return rgb


def normalised(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); a zero row stays zero."""
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
