"""The studio's session model: a browser session's photo rows, their cells (one per model) and results, the
immutable snapshots pages render, and the tasks workers do.

Large values (the upload, lightness planes, chroma, JPEGs) are `Blob`s: the session itself stays small, so that a
store can keep it apart from them (`dashboard.studio.store`: in this process, or in Redis where every web process
and worker reads it).
"""
from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from colorizers import ColorizerError, Colorization, Stroke
from colorizers.library import LibraryPhoto

from ..jobs.photos import AUTO_REFERENCE

QUEUED, WORKING, DONE, ERROR = "queued", "working", "done", "error"
DEFAULT_STRENGTH = 100  # percent
MAX_STRENGTH = 150
EXPIRED_MESSAGE = "This photo has expired from the server; please upload it again."
GONE_RESULT_MESSAGE = "This result is no longer here (it was coloured again, or has expired); reload the page."


class StudioError(ColorizerError):
    """A request about a row or result that the user can act on (the message is written for them)."""


def new_token() -> str:
    """An unguessable id (128 bits, URL-safe): row and result URLs carry these as capabilities."""
    return secrets.token_urlsafe(16)


class Blob:
    """One large value (a numpy array or bytes) of a row or result. It is held here until a store writes it
    elsewhere; a session read back from such a store holds only keys, and `get` fetches the value on first use."""

    __slots__ = ("key", "nbytes", "stored", "_value", "_fetch")

    def __init__(self, value: np.ndarray | bytes) -> None:
        self.key = new_token()
        self.nbytes = int(value.nbytes) if isinstance(value, np.ndarray) else len(value)
        self.stored = False  # written to the store that keeps blobs apart
        self._value: np.ndarray | bytes | None = value
        self._fetch: Callable[[str], object] | None = None

    def get(self):
        if self._value is None:
            value = self._fetch(self.key) if self._fetch is not None else None
            if value is None:  # expired from the store meanwhile
                raise StudioError(EXPIRED_MESSAGE)
            self._value = value
        return self._value

    def attach(self, fetch: Callable[[str], object]) -> None:
        """Where `get` fetches the value from (a store reading a session back)."""
        self._fetch = fetch

    def __getstate__(self) -> dict:
        return {"key": self.key, "nbytes": self.nbytes}  # the value travels apart, once

    def __setstate__(self, state: dict) -> None:
        self.key, self.nbytes = state["key"], state["nbytes"]
        self.stored, self._value, self._fetch = True, None, None


@dataclass(frozen=True)
class Render:
    """A result at one strength, display size: JPEG bytes and the Hasler-Suesstrunk colourfulness of that image."""

    jpeg: bytes
    colourfulness: float


@dataclass
class KeptResult:
    """One model's result for one row: its chroma at the model's size (merged with the row's lightness on request)
    and its display-size JPEG at DEFAULT_STRENGTH, made by the worker. `colorization` keeps the rest (model,
    seconds, details) with empty arrays."""

    result_id: str
    model_name: str
    colorization: Colorization
    chroma: Blob
    first_render: Blob
    colourfulness: float
    filename: str
    reference_name: str | None = None
    reference_suggested: bool = False
    suggested_names: tuple[str, ...] = ()  # the library photos a suggestion averaged, best first
    strokes: tuple[Stroke, ...] = ()  # the touch-up's brush strokes (full-resolution pixels), oldest first
    original: KeptResult | None = None  # the model's own result, once touched up

    def blobs(self) -> Iterator[Blob]:
        yield self.chroma
        yield self.first_render
        if self.original is not None:
            yield from self.original.blobs()

    def ids(self) -> Iterator[str]:
        """This result's id and its model's own result's (both are URLs)."""
        yield self.result_id
        if self.original is not None:
            yield self.original.result_id

    @property
    def nbytes(self) -> int:
        """Memory held by this result (and by the model's own result it keeps, once touched up)."""
        return sum(blob.nbytes for blob in self.blobs())


@dataclass
class Cell:
    model_name: str
    status: str = QUEUED
    result: KeptResult | None = None
    error: str | None = None


@dataclass
class Row:
    row_id: str
    filename: str
    model_names: list[str]
    status: str = QUEUED
    error: str | None = None
    upload: Blob | None = None  # the file's bytes, until the worker decodes it
    lightness: Blob | None = None  # float32 (H, W) in [0, 100], full resolution
    display_lightness: Blob | None = None
    original_jpeg: Blob | None = None
    own_reference: Blob | None = None  # the user's colour photo for this row (uint8 RGB, at most 1024 px)
    size: tuple[int, int] | None = None  # (height, width), once decoded
    was_color: bool = False
    tint: str | None = None  # a tinted print's tint ("sepia"...), once decoded: not a colour photo
    source: str | None = None  # the legacy photo's name, for rows opened from the legacy gallery
    exclude_reference: str | None = None  # a gallery photo never to suggest (the legacy photo's own original)
    reference_choice: str = AUTO_REFERENCE
    cells: dict[str, Cell] = field(default_factory=dict)
    expected_bytes: int = 0  # what the row will hold once decoded, judged from the file's header

    @property
    def pending(self) -> bool:
        return self.status in (QUEUED, WORKING)

    def blobs(self) -> Iterator[Blob]:
        for blob in (self.upload, self.lightness, self.display_lightness, self.original_jpeg, self.own_reference):
            if blob is not None:
                yield blob
        for cell in self.cells.values():
            if cell.result is not None:
                yield from cell.result.blobs()

    def results(self) -> Iterator[KeptResult]:
        """Every result the row keeps (a touched-up result's model result included)."""
        for cell in self.cells.values():
            result = cell.result
            while result is not None:
                yield result
                result = result.original

    @property
    def nbytes(self) -> int:
        """Memory the row holds, or will hold once decoded while it waits (what admission and eviction count)."""
        held = sum(blob.nbytes for blob in self.blobs())
        return max(held, self.expected_bytes) if self.pending else held


@dataclass
class Session:
    rows: OrderedDict[str, Row] = field(default_factory=OrderedDict)
    version: int = 0
    strength: int = DEFAULT_STRENGTH
    last_used: float = 0.0
    refreshed_at: float = 0.0  # when a store last pushed back the expiry of its blobs and ids

    @property
    def nbytes(self) -> int:
        return sum(row.nbytes for row in self.rows.values())

    @property
    def pending(self) -> bool:
        return any(row.pending for row in self.rows.values())

    def blobs(self) -> Iterator[Blob]:
        for row in self.rows.values():
            yield from row.blobs()

    def tokens(self) -> Iterator[str]:
        """The ids its URLs carry: rows and results."""
        for row in self.rows.values():
            yield row.row_id
            for result in row.results():
                yield result.result_id


# --- What pages see: immutable snapshots ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CellView:
    model_name: str
    model_title: str
    uses_reference: bool
    status: str
    result_id: str | None = None
    seconds: float | None = None
    filename: str | None = None
    reference_name: str | None = None
    reference_title: str | None = None
    reference_suggested: bool = False
    suggested: tuple[LibraryPhoto, ...] = ()  # the library photos "Suggest for me" used, best first
    fallback: str | None = None  # the model's words when part of the photo took another model's colour
    error: str | None = None


@dataclass(frozen=True)
class RowView:
    row_id: str
    filename: str
    status: str
    error: str | None
    was_color: bool
    tint: str | None
    size: tuple[int, int] | None  # (height, width)
    reference_choice: str
    has_own_reference: bool
    cells: tuple[CellView, ...]
    queue_position: int | None = None  # for a queued photo: how many photos will be started before it


@dataclass(frozen=True)
class SessionView:
    version: int
    strength: int
    rows: tuple[RowView, ...]

    @property
    def pending(self) -> bool:
        """True while any row or cell is queued or being worked on."""
        return any(row.status in (QUEUED, WORKING) or any(cell.status in (QUEUED, WORKING) for cell in row.cells)
                   for row in self.rows)


@dataclass(frozen=True)
class Task:
    """Work for a worker: decode the row if needed, then colour it with `model_names`."""

    session_id: str
    row_id: str
    model_names: tuple[str, ...]


def checked_strength(percent: object) -> int:
    """A strength in whole percent, 0 to MAX_STRENGTH; StudioError otherwise."""
    try:
        value = float(percent)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StudioError("The strength must be a number of percent.") from None
    if not 0 <= value <= MAX_STRENGTH:
        raise StudioError(f"The strength must be between 0 and {MAX_STRENGTH}%.")
    return int(round(value))
