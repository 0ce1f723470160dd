"""Build the reference library (assets/library/) from the training photos: `make library`.

    .venv/bin/python scripts/build_reference_library.py [--side 384] [--quality 82]

Every photo of the manifest's **train** split (never val or foreign) is shrunk so its long side is at most
--side and saved as a JPEG, listed in manifest.json with its source package, version and licence, and described
by its content embedding (`CNNColorizer.embed`, from the shipped CNN's frozen ImageNet layers) in embeddings.npy
(float16, one row per manifest entry, in order). A photo's title is its gallery title (datasets/gallery.txt) or one
made from its file name (`title_of`); photos listed in datasets/people.txt are marked `"people": true`. Needs
`make data` (the photos) and weights/cnn.onnx.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers import settings  # noqa: E402
from colorizers.cnn import CNNColorizer  # noqa: E402
from colorizers.color import rgb_to_lightness  # noqa: E402
from colorizers.library import EMBEDDINGS_FILE  # noqa: E402
from colorizers.training.data import load_photo  # noqa: E402
from colorizers.training.dataset import TRAIN, read_gallery_list, read_manifest, read_people_list  # noqa: E402

LOG = logging.getLogger("build_reference_library")
MANIFEST_PATH = REPO_ROOT / "datasets" / "manifest.csv"
PHOTOS_DIR = REPO_ROOT / "data" / "photos"
GALLERY_LIST_PATH = REPO_ROOT / "datasets" / "gallery.txt"
PEOPLE_LIST_PATH = REPO_ROOT / "datasets" / "people.txt"
# Leading words that say where a photo sat in its package (gcompris activities and their categories), not what it
# shows; each becomes what it means in a title.
PLACE_PREFIXES = (
    (r"categorization \w+ |erase |clickgame |explore (farm|world) animals |explore monuments \w+ ", ""),
    (r"explore world music ", "world music: "),
)
# Words that describe the file, not the photo: Wikimedia's thumbnail width, a colour-space tag.
FILE_WORDS = r"\b(\d+px|srgb\d*)\b"


def library_name(photo_file: str) -> str:
    """A URL-safe name from a manifest file name: `gcompris-qt-data__erase_calf.webp` -> `gcompris-qt-data__erase_calf`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(photo_file).stem).strip("-")


def title_of(photo_file: str) -> str:
    """A readable title from a manifest file name: `gcompris-qt-data__explore_world_music_music_america.webp` ->
    `World music: america`, `plasma-workspace-wallpapers__EveningGlow.jpg` -> `Evening glow`.

    The stem after the package, words split at separators and case changes (and before a glued "of" or "de"), a word
    repeating the one before it dropped, then the package's place (PLACE_PREFIXES), file words (FILE_WORDS), an
    author's credit ("by ...": it is in the licence) and numbers glued to a word (`fish10`: numbered copies)."""
    stem = Path(photo_file).stem.split("__", 1)[-1]
    stem = re.sub(r"(?<=[a-z]{3})(of|de|des|du)(?=[A-Z])", r" \1", stem)  # gcompris glues these: chateaudeChambord
    words = re.sub(r"[_\s-]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)).lower().split()
    text = " ".join(word for index, word in enumerate(words) if index == 0 or word != words[index - 1])
    for pattern, meaning in PLACE_PREFIXES:
        text = re.sub(f"^({pattern})", meaning, text)
    text = re.sub(r" by .*$", "", re.sub(FILE_WORDS, "", text))
    text = " ".join(re.sub(r"(?<=[a-z])\d+$", "", word) for word in text.split()).strip() or " ".join(words)
    return text[:1].upper() + text[1:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=384)
    parser.add_argument("--quality", type=int, default=82)
    parser.add_argument("--out", type=Path, default=settings.LIBRARY_DIR)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    rows = [row for row in read_manifest(MANIFEST_PATH) if row.split == TRAIN]
    titles = {photo: title for _, photo, title in read_gallery_list(GALLERY_LIST_PATH)}
    people = read_people_list(PEOPLE_LIST_PATH)
    embedder = CNNColorizer(settings.WEIGHTS_DIR / "cnn.onnx")
    arguments.out.mkdir(parents=True, exist_ok=True)
    for stale in arguments.out.glob("*.jpg"):
        stale.unlink()
    entries, embeddings = [], []
    for row in rows:
        name = library_name(row.file)
        target = arguments.out / f"{name}.jpg"
        Image.fromarray(load_photo(PHOTOS_DIR / row.file, arguments.side)).save(
            target, quality=arguments.quality, optimize=True)
        with Image.open(target) as image:  # embed what is served, after JPEG
            embeddings.append(embedder.embed(rgb_to_lightness(np.asarray(image.convert("RGB")))))
        entries.append({"name": name, "title": titles.get(row.file) or title_of(row.file), "file": target.name,
                        "source_package": row.source_package, "source_version": row.source_version,
                        "source_photo": row.file, "licence": row.licence, "people": row.file in people})
    (arguments.out / "manifest.json").write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    np.save(arguments.out / EMBEDDINGS_FILE, np.stack(embeddings).astype(np.float16))
    total = sum(path.stat().st_size for path in arguments.out.iterdir())
    LOG.info("library: %d photos, %.1f MB in %s", len(entries), total / 1e6, arguments.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
