"""The legacy photos: sample grayscale photos in assets/legacy, with a manifest of where each came from.

Two kinds, in this order: genuinely old public-domain photographs from Debian 13's WordPress default themes
(`genuine_old_photo: true`; `scripts/fetch_data.py --legacy` writes them, with title and licence from the theme's
readme.txt; never trained on), and grayscale versions of reference-gallery photos (`genuine_old_photo: false`,
`gallery_name` set: `python -m dashboard.page_logic.legacy` (re)builds them from assets/gallery, keeping the old ones).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image

from colorizers import settings

LEGACY_DIR = settings.REPO_ROOT / "assets" / "legacy"
LONG_SIDE = 800
JPEG_QUALITY = 88
# Gallery photos that make good "old photo" subjects (buildings, people's places, landscapes).
DEFAULT_SELECTION = ("castle", "machu-picchu", "musicians", "horses", "bridge-night", "jetty-sea", "lake-boats",
                     "forest-path")


@dataclass(frozen=True)
class LegacyPhoto:
    name: str
    title: str
    file: str
    source_package: str
    source_version: str
    licence: str
    genuine_old_photo: bool
    gallery_name: str | None  # the colour original in the reference gallery, when it is a grayscaled one

    @property
    def path(self) -> Path:
        return LEGACY_DIR / self.file


def legacy_photos(folder: Path | None = None) -> list[LegacyPhoto]:
    """The legacy photos in manifest order; empty when there is no manifest."""
    return list(_legacy_photos(Path(folder or LEGACY_DIR)))


@lru_cache(maxsize=4)
def _legacy_photos(folder: Path) -> tuple[LegacyPhoto, ...]:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return ()
    return tuple(
        LegacyPhoto(
            name=entry["name"],
            title=entry.get("title", entry["name"]),
            file=entry["file"],
            source_package=entry.get("source_package", ""),
            source_version=entry.get("source_version", ""),
            licence=entry.get("licence", ""),
            genuine_old_photo=bool(entry.get("genuine_old_photo", False)),
            gallery_name=entry.get("gallery_name"),
        )
        for entry in json.loads(manifest.read_text())
    )


def find_legacy_photo(name: str) -> LegacyPhoto | None:
    return next((photo for photo in legacy_photos() if photo.name == name), None)


def build_from_gallery(names: tuple[str, ...] = DEFAULT_SELECTION, out_dir: Path = LEGACY_DIR) -> list[dict]:
    """Write grayscale JPEGs (long side LONG_SIDE) of the named gallery photos and their manifest to `out_dir`."""
    gallery_dir = Path(settings.GALLERY_DIR)
    gallery_entries = {entry["name"]: entry for entry in json.loads((gallery_dir / "manifest.json").read_text())}
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name in names:
        entry = gallery_entries[name]
        with Image.open(gallery_dir / entry["file"]) as image:
            gray = image.convert("L")
            gray.thumbnail((LONG_SIDE, LONG_SIDE), Image.LANCZOS)
        file = f"{name}-grey.jpg"
        gray.save(out_dir / file, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        manifest.append({
            "name": name,
            "title": entry.get("title", name),
            "file": file,
            "source_package": entry.get("source_package", ""),
            "source_version": entry.get("source_version", ""),
            "source_file": entry.get("source_file", ""),
            "licence": entry.get("licence", ""),
            "genuine_old_photo": False,
            "note": "A modern colour photo from the reference gallery, turned grayscale.",
            "gallery_name": name,
        })
    path = out_dir / "manifest.json"
    old = [entry for entry in json.loads(path.read_text()) if entry.get("genuine_old_photo")] if path.exists() else []
    path.write_text(json.dumps(old + manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


if __name__ == "__main__":
    build_from_gallery(tuple(sys.argv[1:]) or DEFAULT_SELECTION)
