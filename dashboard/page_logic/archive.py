"""Zip archives of results: several named PNGs in one download, with names made unique."""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import PurePath


def unique_names(names: Iterable[str]) -> list[str]:
    """`names` in order, a repeated one given a numbered suffix before its extension ("a.png", "a-2.png", ...)."""
    seen: set[str] = set()
    unique = []
    for name in names:
        candidate, number = name, 1
        path = PurePath(name)
        while candidate in seen:
            number += 1
            candidate = f"{path.stem}-{number}{path.suffix}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def zip_bytes(files: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of (file name, content) pairs, names made unique. PNGs are already compressed: stored as they are."""
    files = list(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, (_, content) in zip(unique_names(name for name, _ in files), files):
            archive.writestr(name, content)
    return buffer.getvalue()
