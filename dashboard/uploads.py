"""Turning what `dcc.Upload` sends (base64 data URLs and file names) into bytes, with a clear error per file."""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from colorizers import ColorizerError, settings
from colorizers.decode import over_the_limit


class UploadError(ColorizerError):
    """The browser sent something that is not a usable file; the message is written for the user."""


@dataclass(frozen=True)
class UploadedFile:
    """One file of an upload: its name as the browser gave it, and its content (None when unusable)."""

    filename: str
    data: bytes | None
    error: str | None = None


def parse_data_url(contents: str, max_bytes: int | None = None) -> bytes:
    """The bytes of a `data:[<type>][;base64],<payload>` URL as produced by the browser's FileReader.

    Raises UploadError for a value that is not such a URL, an empty file, a payload over `max_bytes`
    (default: colorizers.settings.MAX_UPLOAD_BYTES; checked before decoding), or broken base64.
    """
    max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if not isinstance(contents, str) or not contents.startswith("data:"):
        raise UploadError("The browser did not send this file's content.")
    header, separator, payload = contents.partition(",")
    if not separator or not payload:
        raise UploadError("The file is empty.")
    if not header.endswith(";base64"):
        raise UploadError("The browser sent this file in an unexpected encoding.")
    # Four base64 characters carry three bytes: refuse oversized files before spending memory on them.
    if (len(payload) // 4) * 3 > max_bytes + 2:
        raise UploadError(f"The file is larger than the limit of {max_bytes / 1e6:.0f} MB.")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("The file's content arrived damaged; please upload it again.") from None
    if not data:
        raise UploadError("The file is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is {over_the_limit(len(data), max_bytes, 'MB', 1e6, 'bytes')}.")
    return data


def uploaded_files(
    contents: str | list[str] | None, filenames: str | list[str] | None, max_bytes: int | None = None,
    max_files: int | None = None,
) -> list[UploadedFile]:
    """Every file of a `dcc.Upload` event, whether it was sent with `multiple=True` (lists) or not, sorted by name.

    The same file sent twice (same name and content, as a hand-made request may do) counts once, and files past
    `max_files` get an error instead of being read: one request cannot ask for unlimited work.

    dcc.Upload lists files in the order the browser finished reading them, which is not the order they were
    chosen in and varies from one drop to the next; sorting by name (photo-2 before photo-10) makes it stable.
    A file whose content cannot be read gets `data=None` and an `error`; the others are unaffected.
    """
    if contents is None:
        return []
    contents_list = contents if isinstance(contents, list) else [contents]
    if filenames is None:
        names_list: list[str | None] = []
    else:
        names_list = list(filenames) if isinstance(filenames, list) else [filenames]
    files = []
    seen: set[tuple[str, str]] = set()
    for index, file_contents in enumerate(contents_list):
        name = names_list[index] if index < len(names_list) and names_list[index] else f"file {index + 1}"
        key = (name, file_contents if isinstance(file_contents, str) else "")
        if key in seen:
            continue
        seen.add(key)
        if max_files is not None and len(files) >= max_files:
            files.append(UploadedFile(name, None, f"Only {max_files} photos can be added at a time; add this one "
                                                  "again later."))
            continue
        try:
            files.append(UploadedFile(name, parse_data_url(file_contents, max_bytes)))
        except UploadError as error:
            files.append(UploadedFile(name, None, str(error)))
    return sorted(files, key=lambda file: _natural_key(file.filename))


def _natural_key(name: str) -> list:
    """`name` split into text and numbers, so that numbers sort by value."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]
