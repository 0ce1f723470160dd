"""Building blocks of the training-data pipeline: cutting WebP files out of Qt resource bundles,
reading Debian copyright files, the deterministic train/val split, the manifest, and contact sheets.

Pure functions over bytes, strings and small records; no network, no TensorFlow, no Dash.
`scripts/fetch_data.py` is the command-line tool that drives them.
"""
from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import struct
from dataclasses import astuple, dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageOps

VAL_FRACTION = 0.15
SPLIT_SEED = "colorizer-split-v1"
TRAIN, VAL, FOREIGN, REJECTED = "train", "val", "foreign", "rejected"

# --------------------------------------------------------------------------------------------
# Qt .rcc bundles
# --------------------------------------------------------------------------------------------

_RIFF_MAGIC = b"RIFF"
_WEBP_MAGIC = b"WEBP"
_RIFF_HEADER_BYTES = 8  # "RIFF" + 4-byte little-endian length (which counts from byte 8 on)


def find_webp_blobs(bundle: bytes) -> list[tuple[int, bytes]]:
    """Find every WebP file stored raw inside `bundle` (for example a Qt `.rcc` resource file).

    A WebP file starts with `RIFF`, a 4-byte little-endian length L, then `WEBP`; the whole file is
    L + 8 bytes. Signatures whose length runs past the end of `bundle` are skipped.

    Returns (offset, webp_bytes) pairs in the order they appear.
    """
    blobs: list[tuple[int, bytes]] = []
    position = bundle.find(_RIFF_MAGIC)
    while position != -1:
        header_end = position + 12
        if header_end <= len(bundle) and bundle[position + 8 : header_end] == _WEBP_MAGIC:
            (riff_length,) = struct.unpack_from("<I", bundle, position + 4)
            blob_end = position + riff_length + _RIFF_HEADER_BYTES
            if blob_end <= len(bundle):
                blobs.append((position, bundle[position:blob_end]))
                position = bundle.find(_RIFF_MAGIC, blob_end)
                continue
        position = bundle.find(_RIFF_MAGIC, position + 1)
    return blobs


_JPEG_START = b"\xff\xd8\xff"


def largest_embedded_jpeg(container: bytes) -> bytes | None:
    """The largest JPEG (by pixels) stored as plain data inside `container` (e.g. an Eet `.edj` archive).

    Every `FF D8 FF` start marker is tried. The chosen start is cut at the first later start (or the end)
    where the cut still decodes whole: an embedded thumbnail's start inside it would truncate it, and bytes
    after a JPEG's end marker are ignored by decoders. None when nothing decodes.
    """
    starts = []
    position = container.find(_JPEG_START)
    while position != -1:
        pixels = _decoded_pixels(container[position:])
        if pixels:
            starts.append((position, pixels))
        position = container.find(_JPEG_START, position + 1)
    if not starts:
        return None
    index = max(range(len(starts)), key=lambda i: starts[i][1])
    begin = starts[index][0]
    for end in [start for start, _ in starts[index + 1 :]] + [len(container)]:
        if _decoded_pixels(container[begin:end]) == starts[index][1]:
            return container[begin:end]
    return container[begin:]


def _decoded_pixels(data: bytes) -> int:
    """Pixel count of the image `data` decodes to whole, 0 when it does not."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.width * image.height
    except (OSError, ValueError, SyntaxError):
        return 0


@dataclass(frozen=True)
class _RccLayout:
    version: int
    tree_offset: int
    data_offset: int
    names_offset: int

    @property
    def node_size(self) -> int:
        """Bytes per tree node: 14, plus an 8-byte modification time from format version 2 on."""
        return 14 if self.version < 2 else 22


_RCC_DIRECTORY_FLAG = 0x02


def _read_rcc_name(bundle: bytes, layout: _RccLayout, name_offset: int) -> str:
    start = layout.names_offset + name_offset
    (length,) = struct.unpack_from(">H", bundle, start)
    raw = bundle[start + 6 : start + 6 + 2 * length]  # 2-byte length, 4-byte hash, UTF-16BE
    return raw.decode("utf-16-be")


def rcc_file_offsets(bundle: bytes) -> dict[int, str]:
    """Map the byte offset of each stored file's payload in a Qt `.rcc` bundle to its resource path.

    Best effort: returns an empty dict when `bundle` is not a readable rcc (the WebP cutter does
    not need it; it only gives the cut-out files their original names). Paths look like
    `gcompris/src/activities/categorization/resource/images/fishes/fish1.webp`.
    """
    if len(bundle) < 20 or bundle[:4] != b"qres":
        return {}
    version, tree_offset, data_offset, names_offset = struct.unpack_from(">IIII", bundle, 4)
    layout = _RccLayout(version, tree_offset, data_offset, names_offset)
    offsets: dict[int, str] = {}
    try:
        _walk_rcc_node(bundle, layout, 0, PurePosixPath(""), offsets, depth=0)
    except (struct.error, UnicodeDecodeError, RecursionError):
        return {}
    return offsets


def _walk_rcc_node(
    bundle: bytes, layout: _RccLayout, index: int, parent: PurePosixPath, offsets: dict[int, str], depth: int
) -> None:
    if depth > 64:
        raise RecursionError("rcc tree too deep")
    node = layout.tree_offset + index * layout.node_size
    name_offset, flags = struct.unpack_from(">IH", bundle, node)
    path = parent / _read_rcc_name(bundle, layout, name_offset) if index else parent
    if flags & _RCC_DIRECTORY_FLAG:
        child_count, first_child = struct.unpack_from(">II", bundle, node + 6)
        for child in range(first_child, first_child + child_count):
            _walk_rcc_node(bundle, layout, child, path, offsets, depth + 1)
    else:
        (payload_offset,) = struct.unpack_from(">I", bundle, node + 10)
        # Each payload is a 4-byte big-endian size followed by the bytes.
        offsets[layout.data_offset + payload_offset + 4] = str(path)


# --------------------------------------------------------------------------------------------
# Debian machine-readable copyright files (DEP-5)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopyrightStanza:
    """One `Files:` paragraph of a DEP-5 copyright file."""

    patterns: tuple[str, ...]
    licence: str


def parse_debian_copyright(text: str) -> list[CopyrightStanza]:
    """Read the `Files:` paragraphs of a DEP-5 `debian/copyright` text, in file order."""
    stanzas: list[CopyrightStanza] = []
    for paragraph in text.split("\n\n"):
        fields_by_name = _paragraph_fields(paragraph)
        if "files" in fields_by_name and "license" in fields_by_name:
            licence = fields_by_name["license"].splitlines()[0].strip()
            stanzas.append(CopyrightStanza(tuple(fields_by_name["files"].split()), licence))
    return stanzas


def _paragraph_fields(paragraph: str) -> dict[str, str]:
    result: dict[str, str] = {}
    current: str | None = None
    for line in paragraph.splitlines():
        if line[:1] in (" ", "\t") and current is not None:
            result[current] += "\n" + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            current = name.strip().lower()
            result[current] = value.strip()
    return result


def licence_for_path(
    stanzas: Sequence[CopyrightStanza], path: str, default: str = "", anchored: bool = False
) -> str:
    """Pick the licence of `path` (a path inside the installed package or the upstream tree).

    Copyright files name upstream paths, installed files live elsewhere, and converted images
    change extension, so patterns are matched against the end of the path, extensions ignored.
    A pattern naming the file exactly beats a glob; among equals the last stanza wins (DEP-5).
    `anchored=True` says `path` is relative to the upstream source root (as the copyright file's
    patterns are), so globs must match from the start rather than at any folder.
    """
    best_score, best_licence = 0, default
    for stanza in stanzas:
        for pattern in stanza.patterns:
            score = _pattern_score(pattern, path, anchored)
            if score and score >= best_score:
                best_score, best_licence = score, stanza.licence
    return best_licence


def _pattern_score(pattern: str, path: str, anchored: bool = False) -> int:
    """0: no match; 1: `*`; 2: same file name only; 3: a glob matching the path's end; 4: same path end.

    Extensions are ignored throughout (gcompris ships `fish1.jpg` of the copyright file as `fish1.webp`).
    """
    if pattern == "*":
        return 1
    path_no_ext, pattern_no_ext = _strip_extension(path), _strip_extension(pattern)
    if "*" not in pattern and "?" not in pattern:
        if path_no_ext == pattern_no_ext or path_no_ext.endswith("/" + pattern_no_ext):
            return 4
        if PurePosixPath(path_no_ext).name == PurePosixPath(pattern_no_ext).name:
            return 2
        return 0
    for candidate, glob in ((path, pattern), (path_no_ext, pattern_no_ext)):
        if fnmatch.fnmatchcase(candidate, glob) or (not anchored and fnmatch.fnmatchcase(candidate, "*/" + glob)):
            return 3
    return 0


def _strip_extension(path: str) -> str:
    suffix = PurePosixPath(path).suffix
    return path[: -len(suffix)] if suffix else path


# --------------------------------------------------------------------------------------------
# Split and manifest
# --------------------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def assign_split(sha256: str, val_fraction: float = VAL_FRACTION, seed: str = SPLIT_SEED) -> str:
    """Return `"val"` for about `val_fraction` of images and `"train"` for the rest.

    Decided by a hash of `seed` and the image's SHA-256 alone, so the answer does not depend on
    the order in which images are listed, on the machine, or on which other images exist.
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must be in [0, 1], got {val_fraction}")
    digest = hashlib.sha256(f"{seed}:{sha256.lower()}".encode()).digest()
    uniform = int.from_bytes(digest[:8], "big") / 2**64
    return VAL if uniform < val_fraction else TRAIN


@dataclass(frozen=True)
class ManifestRow:
    """One image in `datasets/manifest.csv`; `split` is train, val or rejected."""

    file: str
    sha256: str
    source_package: str
    source_version: str
    licence: str
    width: int
    height: int
    split: str
    reason: str


MANIFEST_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(ManifestRow))


def write_manifest(rows: Iterable[ManifestRow], path: Path) -> None:
    """Write rows sorted by `file`, header first, `\\n` line endings, UTF-8: byte-for-byte reproducible."""
    ordered = sorted(rows, key=lambda row: (row.file, row.sha256))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for row in ordered:
            writer.writerow(astuple(row))


def read_manifest(path: Path) -> list[ManifestRow]:
    """Read `datasets/manifest.csv` back into rows (width and height as ints)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [
            ManifestRow(**{**record, "width": int(record["width"]), "height": int(record["height"])})
            for record in reader
        ]


def _list_lines(path: Path) -> list[list[str]]:
    """The "|"-separated fields of each line of a datasets/*.txt list; `#` comments and blanks skipped."""
    if not path.exists():
        return []
    return [[field.strip() for field in line.split("|")] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def read_gallery_list(path: Path) -> list[tuple[str, str, str]]:
    """(short name, photo name, title) per line of datasets/gallery.txt."""
    return [(name, photo, title) for name, photo, title in _list_lines(path)]


Box = tuple[int, int, int, int]


def read_people_list(path: Path) -> dict[str, tuple[Box, ...]]:
    """datasets/people.txt: photo name -> its faces as boxes (x, y, w, h) in the photo's own pixels (maybe none)."""
    people = {}
    for photo, faces in _list_lines(path):
        boxes = [face for face in faces.split(";") if face.strip()]
        people[photo] = tuple(tuple(int(value) for value in face.split(",")) for face in boxes)
        if any(len(box) != 4 for box in people[photo]):
            raise ValueError(f"{path}: the faces of {photo} must be x,y,w,h boxes separated by ';'")
    return people


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------


def load_rgb_or_rgba(data: bytes) -> np.ndarray:
    """Decode image bytes to uint8 HxWx3 (RGB) or HxWx4 (RGBA when the image has transparency)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        converted = ImageOps.exif_transpose(image).convert("RGBA" if has_alpha else "RGB")
        return np.asarray(converted, dtype=np.uint8)


def contact_sheet(
    images: Sequence[np.ndarray], labels: Sequence[str], thumb: int = 160, columns: int = 12
) -> Image.Image:
    """Tile thumbnails (each fitted into `thumb` x `thumb`) with a short label under each.

    `images` are uint8 HxWx3 or HxWx4 arrays; returns an RGB PIL image (a blank tile if empty).
    """
    from PIL import ImageDraw

    label_height = 12
    rows = max(1, -(-len(images) // columns))
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + label_height)), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    for index, (pixels, label) in enumerate(zip(images, labels)):
        tile = Image.fromarray(pixels[..., :3])
        tile.thumbnail((thumb, thumb))
        x = (index % columns) * thumb
        y = (index // columns) * (thumb + label_height)
        sheet.paste(tile, (x + (thumb - tile.width) // 2, y + (thumb - tile.height) // 2))
        draw.text((x + 2, y + thumb), label[:26], fill=(230, 230, 230))
    return sheet


def downsize_to_jpeg(data: bytes, max_side: int = 1024, quality: int = 90) -> bytes:
    """Re-encode image bytes as an RGB JPEG whose long side is at most `max_side` pixels."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()
