"""The comparison studio without Dash: per-session photo rows, a job queue a worker thread works through, and
results re-merged at any colour strength without running a model again.

A browser session (its id from `dashboard.session`) owns rows, one per photo. Each row keeps the photo's lightness
and, per model, a cell: queued, working, done (with its `Colorization`) or error. Uploads only add rows and
tasks; worker threads (one per model slot, `dashboard.model_slots`) colour them, taking the sessions in turn
(round robin: one large batch cannot starve somebody's single photo; threads, never processes: a process forked
after a model was loaded hangs), and pages poll `view()` to show progress and each queued photo's place.

Strength: every result keeps its `Colorization` (full-resolution lightness shared by the row's models, chroma at the
model's size) and a display-size copy of it. `display_render` re-merges the display copy at a strength with
`Colorization.at_strength` (a few milliseconds) and caches the JPEG and its colourfulness per strength;
`download_png` and `zip_png` re-merge at full resolution on request.

Touch-up: `touch_up` re-colours a result from brush strokes (`colorizers.touch_up`, always from the model's own
result, with every stroke so far). The touched-up result replaces it in its cell under a new id (so no browser shows
a cached image of the old one), keeps its strokes for the next edit, and keeps the model's own result (`original`,
still served under its own id) for before/after and for "clear". Downloads and the zip use the touched-up result.

Memory: a photo is admitted only if its estimated size fits (its session's `session_max_bytes` and rows, and the
studio's `max_bytes` after evicting what may be evicted); otherwise its row says why at once. A queued or working
row is never evicted: eviction takes finished rows of idle sessions (least recently used first), and a session's
own oldest finished rows when it passes its own budget. Sessions not used for `ttl_seconds` are dropped.
Everything is per process: serve with one process (and threads) or sticky sessions.

Result and row ids are unguessable (128 bits): their URLs are capabilities for that one image, looked up without a
session (`original_jpeg`, `display_render`, `download_png`); the zip needs the session.
"""
from __future__ import annotations

import io
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from colorizers import (
    ColorizerError, Colorization, Stroke, colorize, decode_image, draw_strokes, model_info, touch_up,
)
from colorizers.color import resize_plane
from colorizers.metrics import colourfulness
from colorizers.library import LibraryPhoto
from colorizers.references import gallery, suggest_references

from . import settings
from .archive import zip_bytes
from .imaging import download_name, jpeg_bytes, png_bytes, thumbnail
from .model_slots import model_slots
from .jobs import AUTO_REFERENCE, OWN_REFERENCE, friendly_message, library_photo, reference_title, suggested_names
from .process_wide import process_wide
from .uploads import UploadedFile

logger = logging.getLogger(__name__)

QUEUED, WORKING, DONE, ERROR = "queued", "working", "done", "error"
DEFAULT_STRENGTH = 100  # percent
MAX_STRENGTH = 150
RENDERS_PER_RESULT = 6  # display renders (strengths) cached per result
EXPIRED_MESSAGE = "This photo has expired from the server; please upload it again."
# Bounds on what a decoded row keeps, to judge from the file's header whether a photo will fit: float32 lightness
# at full and display size, and per model its chroma (float32, at most 512 px on the long side: Welsh's working size)
# and its display-size RGB.
_LIGHTNESS_BYTES_PER_PIXEL = 4
_CHROMA_BYTES_PER_PIXEL = 2 * 4
_MAX_CHROMA_PIXELS = 512 * 512


class StudioError(ColorizerError):
    """A request about a row or result that the user can act on (the message is written for them)."""


@dataclass(frozen=True)
class Render:
    """A result at one strength, display size: JPEG bytes and the Hasler-Suesstrunk colourfulness of that image."""

    jpeg: bytes
    colourfulness: float


@dataclass
class KeptResult:
    """One model's result for one row. `colorization` is full resolution (its `rgb` is dropped to save memory:
    `at_strength` makes it again); `display` is the same chroma over display-size lightness."""

    result_id: str
    model_name: str
    colorization: Colorization
    display: Colorization
    filename: str
    reference_name: str | None = None
    reference_suggested: bool = False
    suggested_names: tuple[str, ...] = ()  # the library photos a suggestion averaged, best first
    renders: OrderedDict[int, Render] = field(default_factory=OrderedDict)
    strokes: tuple[Stroke, ...] = ()  # the touch-up's brush strokes (full-resolution pixels), oldest first
    original: KeptResult | None = None  # the model's own result, once touched up

    @property
    def nbytes(self) -> int:
        """Memory held by this result (and by the model's own result it keeps, once touched up)."""
        own = int(self.colorization.chroma.nbytes) + int(self.display.rgb.nbytes)
        own += sum(len(render.jpeg) for render in self.renders.values())
        return own + (self.original.nbytes if self.original is not None else 0)


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
    data: bytes | None = None  # the upload, until the worker decodes it
    lightness: np.ndarray | None = None  # float32 (H, W) in [0, 100], full resolution
    display_lightness: np.ndarray | None = None
    original_jpeg: bytes = b""
    was_color: bool = False
    source: str | None = None  # the legacy photo's name, for rows opened from the legacy gallery
    exclude_reference: str | None = None  # a gallery photo never to suggest (the legacy photo's own original)
    reference_choice: str = AUTO_REFERENCE
    own_reference: np.ndarray | None = None
    cells: dict[str, Cell] = field(default_factory=dict)
    expected_bytes: int = 0  # what the row will hold once decoded, judged from the file's header

    @property
    def pending(self) -> bool:
        return self.status in (QUEUED, WORKING)

    @property
    def nbytes(self) -> int:
        """Memory the row holds, or will hold once decoded while it waits (what admission and eviction count)."""
        return max(self._held_bytes, self.expected_bytes) if self.pending else self._held_bytes

    @property
    def _held_bytes(self) -> int:
        arrays = [self.lightness, self.display_lightness, self.own_reference]
        total = sum(int(array.nbytes) for array in arrays if array is not None)
        total += len(self.data or b"") + len(self.original_jpeg)
        for cell in self.cells.values():
            if cell.result is not None:
                total += cell.result.nbytes
        return total


@dataclass
class Session:
    rows: OrderedDict[str, Row] = field(default_factory=OrderedDict)
    version: int = 0
    strength: int = DEFAULT_STRENGTH
    last_used: float = 0.0


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
    error: str | None = None


@dataclass(frozen=True)
class RowView:
    row_id: str
    filename: str
    status: str
    error: str | None
    was_color: bool
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
    """Work for the worker: decode the row if needed, then colour it with `model_names`."""

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


class Studio:
    """Rows, results and the job queue of every browser session in this process (thread-safe)."""

    def __init__(
        self,
        max_bytes: int,
        ttl_seconds: float,
        display_long_side: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        autostart: bool = True,
        session_max_bytes: int | None = None,
        session_max_rows: int | None = None,
        workers: int = 1,
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.session_max_bytes = min(session_max_bytes or max_bytes, max_bytes)
        self.session_max_rows = session_max_rows
        self.display_long_side = display_long_side or settings.DISPLAY_LONG_SIDE
        self._clock = clock
        self._autostart = autostart
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._lock = threading.RLock()
        # Queued tasks per session, sessions in the order they are next served (round robin).
        self._queues: OrderedDict[str, deque[Task]] = OrderedDict()
        self._task_ready = threading.Condition(self._lock)
        self._worker_count = workers
        self._workers: list[threading.Thread] = []

    # --- Adding work --------------------------------------------------------------------------------------------

    def add_uploads(self, session_id: str, files: list[UploadedFile], model_names: list[str]) -> list[str]:
        """A queued row per file (a file that could not be read gets an error row at once); returns the row ids."""
        row_ids = []
        for file in files:
            row = self._new_row(file.filename, model_names)
            if file.data is None:
                row.status, row.error = ERROR, file.error or "The file could not be read."
                row.cells = {}
            else:
                row.data = file.data
            row_ids.append(self._add_row(session_id, row, queue_it=file.data is not None))
        return row_ids

    def _refusal(self, session: Session, row: Row) -> str | None:
        """Why `row` cannot be taken now (None when it can), judged before any work is done (lock held)."""
        photos = sum(1 for other in session.rows.values() if other.status != ERROR)
        if self.session_max_rows is not None and photos >= self.session_max_rows:
            return (f"You already have {photos} photos here, the most one visitor may keep at once. Download your "
                    "results: photos leave the server after an hour unused.")
        need = row.nbytes
        if need > self.session_max_bytes:
            return (f"This photo needs about {need / 1e6:.0f} MB of memory here, more than one visitor may use "
                    f"({self.session_max_bytes / 1e6:.0f} MB); please use a smaller photo.")
        own = sum(other.nbytes for other in session.rows.values())
        own_freeable = sum(other.nbytes for other in session.rows.values() if other.status in (DONE, ERROR))
        if own - own_freeable + need > self.session_max_bytes:
            return ("Your photos waiting in the queue already use the memory one visitor may have; add this one "
                    "when they are done.")
        if self._bytes_after_eviction(keep=session) + need > self.max_bytes:
            return "The server is full of other people's photos right now; please try again in a few minutes."
        return None

    def add_photo(
        self, session_id: str, filename: str, data: bytes, model_names: list[str], source: str | None = None,
        exclude_reference: str | None = None,
    ) -> str:
        """A queued row for an image file's bytes (e.g. a legacy photo); `source` names where it came from."""
        row = self._new_row(filename, model_names)
        row.data, row.source, row.exclude_reference = data, source, exclude_reference
        return self._add_row(session_id, row)

    def has_source(self, session_id: str, source: str) -> bool:
        """True when the session already has a row opened from `source`."""
        with self._lock:
            session = self._session(session_id, create=False)
            return session is not None and any(row.source == source for row in session.rows.values())

    def set_reference(self, session_id: str, row_id: str, choice: str) -> None:
        """Colour the row again with its reference-based models, from `choice` (AUTO_REFERENCE, a gallery name or
        OWN_REFERENCE once the row has one). StudioError for an unknown choice or a missing row."""
        names = {photo.name for photo in gallery()}
        known = choice in names or choice in (AUTO_REFERENCE, OWN_REFERENCE) or library_photo(choice) is not None
        if not known:
            raise StudioError(f"There is no reference photo called '{choice}' in the gallery.")
        with self._lock:
            row = self._row(session_id, row_id)
            if choice == OWN_REFERENCE and row.own_reference is None:
                raise StudioError("Upload your own reference photo for this row first.")
            row.reference_choice = choice
        self._requeue_reference_models(session_id, row_id)

    def set_own_reference(self, session_id: str, row_id: str, file: UploadedFile) -> None:
        """Use the user's colour photo as this row's reference and colour the row's reference models again."""
        if file.data is None:
            raise StudioError(file.error or "The reference file could not be read.")
        decoded = decode_image(file.data)
        if not decoded.was_color:
            raise StudioError("This photo has no colour to copy; choose a colour photo as the reference.")
        reference = np.asarray(thumbnail(decoded.rgb, 1024))  # plenty for sampling colours; bounded memory
        with self._lock:
            row = self._row(session_id, row_id)
            row.own_reference, row.reference_choice = reference, OWN_REFERENCE
        self._requeue_reference_models(session_id, row_id)

    def set_strength(self, session_id: str, percent: object) -> int:
        """Remember the session's strength (what the zip uses by default); returns it as whole percent."""
        strength = checked_strength(percent)
        with self._lock:
            self._session(session_id).strength = strength
        return strength

    def _requeue_reference_models(self, session_id: str, row_id: str) -> None:
        with self._lock:
            row = self._row(session_id, row_id)
            if row.status == ERROR:
                raise StudioError(row.error or "This photo could not be read.")
            names = tuple(name for name in row.model_names if model_info(name).uses_reference)
            for name in names:
                row.cells[name] = Cell(name)
            if row.status == DONE and names:
                row.status = WORKING
            self._touch(session_id)
        if names:
            self._submit(Task(session_id, row_id, names))

    def _new_row(self, filename: str, model_names: list[str]) -> Row:
        return Row(secrets.token_urlsafe(16), filename or "photo", list(model_names),
                   cells={name: Cell(name) for name in model_names})

    def _add_row(self, session_id: str, row: Row, queue_it: bool = True) -> str:
        with self._lock:
            session = self._session(session_id)
            if queue_it:
                row.expected_bytes = _expected_row_bytes(row.data or b"", len(row.model_names),
                                                         self.display_long_side)
                refusal = self._refusal(session, row)
                if refusal is not None:
                    row.status, row.error, row.cells, row.data, queue_it = ERROR, refusal, {}, None, False
            session.rows[row.row_id] = row
            self._drop_old_error_rows(session)
            self._touch(session_id)
            if queue_it:
                self._make_room(keep=session_id)
        if queue_it:
            self._submit(Task(session_id, row.row_id, tuple(row.model_names)))
        return row.row_id

    def _drop_old_error_rows(self, session: Session) -> None:
        """Keep at most as many error rows as photos a session may have, the newest: refusals must not pile up."""
        limit = self.session_max_rows or len(session.rows)
        errors = [row_id for row_id, row in session.rows.items() if row.status == ERROR]
        for row_id in errors[:max(0, len(errors) - limit)]:
            del session.rows[row_id]

    # --- The worker ---------------------------------------------------------------------------------------------

    def _submit(self, task: Task, first: bool = False) -> None:
        with self._lock:
            tasks = self._queues.setdefault(task.session_id, deque())
            tasks.appendleft(task) if first else tasks.append(task)
            self._task_ready.notify()
        if self._autostart:
            self._ensure_worker()

    def _take(self, block: bool) -> Task | None:
        """The next task, taking the sessions in turn (round robin); None when there is none and not `block`."""
        with self._lock:
            while not self._queues:
                if not block:
                    return None
                self._task_ready.wait()
            session_id, tasks = next(iter(self._queues.items()))
            task = tasks.popleft()
            if tasks:
                self._queues.move_to_end(session_id)  # the other sessions go first
            else:
                del self._queues[session_id]
            return task

    def ensure_worker(self) -> None:
        """Start the worker threads now (the app does this at start; stopped workers are replaced)."""
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        with self._lock:
            self._workers = [worker for worker in self._workers if worker.is_alive()]
            while len(self._workers) < self._worker_count:
                worker = threading.Thread(target=self._work_forever, name="studio-worker", daemon=True)
                worker.start()
                self._workers.append(worker)

    def _work_forever(self) -> None:
        while True:
            self.process_next(block=True)

    def process_next(self, block: bool = False) -> bool:
        """Do one queued task; False when there was none (with block=False). The worker threads call this."""
        task = self._take(block)
        if task is None:
            return False
        try:
            with model_slots().slot():  # bounds the memory of photos worked on at once, with the pages and API
                self._run(task)
        except Exception:  # the worker must survive anything
            logger.exception("Studio task failed")
        except BaseException:  # the thread itself is being stopped: leave the task to the next worker
            self._submit(task, first=True)
            raise
        return True

    def process_pending(self) -> int:
        """Do every queued task in this thread (for tests and scripts); returns how many."""
        count = 0
        while self.process_next():
            count += 1
        return count

    def _run(self, task: Task) -> None:
        with self._lock:
            row = self._find_row(task.session_id, task.row_id)
            if row is None:
                return  # expired or evicted meanwhile
            row.status = WORKING
            data, row.data = row.data, None
            self._touch(task.session_id)
        if data is not None and not self._decode(task.session_id, row, data):
            return
        if row.lightness is None:  # a worker stopped while decoding it: the upload is gone
            with self._lock:
                row.status, row.error, row.cells = ERROR, "This photo was lost; please upload it again.", {}
                self._touch(task.session_id)
            return
        for name in task.model_names:
            with self._lock:
                if self._find_row(task.session_id, task.row_id) is None:
                    return
                cell = row.cells.setdefault(name, Cell(name))
                cell.status = WORKING
                reference = self._reference_for(row, name)
                self._touch(task.session_id)
            outcome = self._colorize(row, name, reference)
            with self._lock:
                if isinstance(outcome, KeptResult):
                    row.cells[name] = Cell(name, DONE, outcome)
                else:
                    row.cells[name] = Cell(name, ERROR, error=outcome)
                self._touch(task.session_id)
        with self._lock:
            if all(cell.status in (DONE, ERROR) for cell in row.cells.values()):
                row.status = DONE
            self._touch(task.session_id)
            self._make_room(keep=task.session_id)

    def _decode(self, session_id: str, row: Row, data: bytes) -> bool:
        try:
            decoded = decode_image(data)
            display_rgb = thumbnail(decoded.rgb, self.display_long_side)
            display_lightness = resize_plane(decoded.lightness, display_rgb.shape[:2])
            original_jpeg = jpeg_bytes(display_rgb)
        except Exception as error:  # per file: the others go on
            message = friendly_message(error, f"decoding {row.filename!r}")
            with self._lock:
                row.status, row.error, row.cells = ERROR, message, {}
                self._touch(session_id)
            return False
        with self._lock:
            row.lightness, row.display_lightness = decoded.lightness, display_lightness
            row.original_jpeg, row.was_color = original_jpeg, decoded.was_color
            self._touch(session_id)
        return True

    def _reference_for(self, row: Row, model_name: str) -> str | np.ndarray:
        if not model_info(model_name).uses_reference:
            return AUTO_REFERENCE
        if row.reference_choice == OWN_REFERENCE and row.own_reference is not None:
            return row.own_reference
        return row.reference_choice

    def _colorize(self, row: Row, model_name: str, reference: str | np.ndarray) -> KeptResult | str:
        """The model's result for the row, or the message to show in its cell."""
        try:
            info = model_info(model_name)
            suggested = info.uses_reference and isinstance(reference, str) and reference == AUTO_REFERENCE
            if suggested and row.exclude_reference:
                reference = self._suggestion_excluding(row.lightness, row.exclude_reference)
            colorization = colorize(row.lightness, model_name, reference=reference)
            display = replace(colorization, lightness=row.display_lightness, rgb=np.empty((0, 0, 3), np.uint8))
            display = replace(display, rgb=display.at_strength(1.0))
            first_render = Render(jpeg_bytes(display.rgb), colourfulness(display.rgb))  # made here, in the worker
        except Exception as error:  # per model: the other models and rows go on
            return friendly_message(error, f"colouring {row.filename!r} with {model_name}")
        reference_name = None
        if info.uses_reference:
            reference_name = OWN_REFERENCE if not isinstance(reference, str) else colorization.details.get("reference")
        return KeptResult(
            result_id=secrets.token_urlsafe(9),
            model_name=model_name,
            # The full-resolution rgb is made again on request: keep only lightness (shared) and chroma.
            colorization=replace(colorization, rgb=np.empty((0, 0, 3), np.uint8)),
            display=display,
            filename=download_name(row.filename, f"colorized-{model_name}"),
            reference_name=reference_name,
            reference_suggested=suggested,
            suggested_names=suggested_names(colorization.details) if suggested else (),
            renders=OrderedDict([(DEFAULT_STRENGTH, first_render)]),
        )

    @staticmethod
    def _suggestion_excluding(lightness: np.ndarray, excluded: str) -> str:
        """The best suggested gallery reference other than `excluded` (a photo's own colour original would
        flatter the method)."""
        ranked = [name for name, _ in suggest_references(lightness, count=len(gallery()))]
        others = [name for name in ranked if name != excluded]
        return others[0] if others else AUTO_REFERENCE

    # --- Touch-up -----------------------------------------------------------------------------------------------

    def touch_up(self, session_id: str, result_id: str, strokes: list[Stroke] | tuple[Stroke, ...]) -> str:
        """Re-colour the session's result `result_id` with `strokes` (all of them, oldest first: they replace any
        earlier ones; none gives the model's own result back). Returns the result's new id. StudioError when the
        result is gone."""
        with self._lock:
            result = self._own_cell(session_id, result_id).result
        original = result.original or result
        if not strokes:
            updated = original
        else:
            with model_slots().slot():  # a solve and a re-merge: bounded with the models' work
                lightness = original.colorization.lightness
                touched = touch_up(original.colorization, draw_strokes(strokes, lightness.shape))
                display = replace(original.display, chroma=touched.chroma)
                display = replace(display, rgb=display.at_strength(1.0))
                first_render = Render(jpeg_bytes(display.rgb), colourfulness(display.rgb))
            updated = replace(original, result_id=secrets.token_urlsafe(9), colorization=touched, display=display,
                              renders=OrderedDict([(DEFAULT_STRENGTH, first_render)]), strokes=tuple(strokes),
                              original=original)
        with self._lock:
            cell = self._own_cell(session_id, result_id)  # still there, and not coloured again meanwhile
            cell.result = updated
            self._touch(session_id)
        return updated.result_id

    def touch_up_state(self, session_id: str, result_id: str) -> tuple[tuple[Stroke, ...], str, tuple[int, int]]:
        """For the editor: the result's strokes, the id of the model's own result (before any touch-up) and the
        photo's (height, width). StudioError when the result is gone."""
        with self._lock:
            result = self._own_cell(session_id, result_id).result
            original = result.original or result
            return result.strokes, original.result_id, tuple(original.colorization.lightness.shape)

    # --- Reading ------------------------------------------------------------------------------------------------

    def view(self, session_id: str) -> SessionView:
        """An immutable snapshot of the session's rows, for rendering (an empty view for an unknown session)."""
        with self._lock:
            session = self._session(session_id, create=False)
            if session is None:
                return SessionView(0, DEFAULT_STRENGTH, ())
            session.last_used = self._clock()
            positions = self._queue_positions()
            rows = tuple(self._row_view(row, positions.get(row.row_id)) for row in session.rows.values())
            view = SessionView(session.version, session.strength, rows)
        if view.pending and self._autostart:
            self._ensure_worker()  # pages poll this: a worker that died is replaced
        return view

    def _queue_positions(self) -> dict[str, int]:
        """Row id -> how many queued tasks will be started before its own (the round-robin order; lock held)."""
        queues = [list(tasks) for tasks in self._queues.values()]
        order = [tasks[turn] for turn in range(max(map(len, queues), default=0)) for tasks in queues
                 if turn < len(tasks)]
        positions: dict[str, int] = {}
        for index, task in enumerate(order):
            positions.setdefault(task.row_id, index)
        return positions

    @staticmethod
    def _row_view(row: Row, queue_position: int | None = None) -> RowView:
        cells = []
        for name in row.model_names if row.status != ERROR else []:
            cell = row.cells.get(name, Cell(name))
            info = model_info(name)
            result = cell.result
            cells.append(CellView(
                model_name=name,
                model_title=info.title,
                uses_reference=info.uses_reference,
                status=cell.status,
                result_id=result.result_id if result else None,
                seconds=result.colorization.seconds if result else None,
                filename=result.filename if result else None,
                reference_name=result.reference_name if result else None,
                reference_title=reference_title(result.reference_name) if result and result.reference_name else None,
                reference_suggested=result.reference_suggested if result else False,
                suggested=tuple(filter(None, map(library_photo, result.suggested_names))) if result else (),
                error=cell.error,
            ))
        size = tuple(row.lightness.shape) if row.lightness is not None else None
        return RowView(row.row_id, row.filename, row.status, row.error, row.was_color, size,  # type: ignore[arg-type]
                       row.reference_choice, row.own_reference is not None, tuple(cells),
                       queue_position if row.status == QUEUED else None)

    def original_jpeg(self, row_id: str) -> bytes | None:
        """The row's photo at display size (JPEG), or None when unknown or not decoded yet. The row's id is the
        capability: no session is needed (likewise for a result's id below)."""
        with self._lock:
            self._drop_expired(self._clock())
            row = next((session.rows[row_id] for session in self._sessions.values() if row_id in session.rows), None)
            return row.original_jpeg if row is not None and row.original_jpeg else None

    def display_render(self, result_id: str, percent: object) -> Render | None:
        """The result at `percent` strength, display size (cached per strength); None when unknown."""
        strength = checked_strength(percent)
        with self._lock:
            result = self._find_result(result_id)
            if result is None:
                return None
            cached = result.renders.get(strength)
            if cached is not None:
                result.renders.move_to_end(strength)
                return cached
        rgb = result.display.at_strength(strength / 100.0)
        render = Render(jpeg_bytes(rgb), colourfulness(rgb))
        with self._lock:
            result.renders[strength] = render
            while len(result.renders) > RENDERS_PER_RESULT:
                result.renders.popitem(last=False)
        return render

    def download_png(self, result_id: str, percent: object) -> tuple[bytes, str] | None:
        """(PNG bytes at full resolution and `percent` strength, download file name); None when unknown."""
        strength = checked_strength(percent)
        with self._lock:
            result = self._find_result(result_id)
        if result is None:
            return None
        return png_bytes(result.colorization.at_strength(strength / 100.0)), result.filename

    def zip_png(self, session_id: str, percent: object | None = None) -> bytes | None:
        """Every finished result of the session as full-resolution PNGs in one zip, at `percent` (default: the
        session's strength); None for an unknown session."""
        with self._lock:
            session = self._session(session_id, create=False)
            if session is None:
                return None
            strength = session.strength if percent is None else checked_strength(percent)
            results = [cell.result for row in session.rows.values() for cell in row.cells.values()
                       if cell.result is not None]
        return zip_bytes((result.filename, png_bytes(result.colorization.at_strength(strength / 100.0)))
                         for result in results)

    # --- Bookkeeping (callers hold the lock) ---------------------------------------------------------------------

    def _session(self, session_id: str, create: bool = True) -> Session | None:
        now = self._clock()
        self._drop_expired(now)
        session = self._sessions.get(session_id)
        if session is None and create:
            session = self._sessions[session_id] = Session(last_used=now)
        if session is not None:
            session.last_used = now
            self._sessions.move_to_end(session_id)
        return session

    def _touch(self, session_id: str) -> None:
        session = self._sessions.get(session_id)
        if session is not None:
            session.version += 1
            session.last_used = self._clock()
            self._sessions.move_to_end(session_id)

    def _find_row(self, session_id: str, row_id: str) -> Row | None:
        session = self._session(session_id, create=False)
        return session.rows.get(row_id) if session is not None else None

    def _row(self, session_id: str, row_id: str) -> Row:
        row = self._find_row(session_id, row_id)
        if row is None:
            raise StudioError(EXPIRED_MESSAGE)
        return row

    def _find_result(self, result_id: str) -> KeptResult | None:
        """The result with this id, whoever's (a touched-up result's original included)."""
        self._drop_expired(self._clock())
        for session in self._sessions.values():
            for row in session.rows.values():
                for cell in row.cells.values():
                    result = cell.result
                    if result is not None and result.result_id == result_id:
                        return result
                    if result is not None and result.original is not None and result.original.result_id == result_id:
                        return result.original
        return None

    def _own_cell(self, session_id: str, result_id: str) -> Cell:
        """The session's cell whose current result has this id; StudioError when gone (lock held)."""
        session = self._session(session_id, create=False)
        for row in session.rows.values() if session is not None else ():
            for cell in row.cells.values():
                if cell.result is not None and cell.result.result_id == result_id:
                    return cell
        raise StudioError("This result is no longer here (it was coloured again, or has expired); reload the page.")

    def _drop_expired(self, now: float) -> None:
        expired = [key for key, session in self._sessions.items() if now - session.last_used >= self.ttl_seconds]
        for key in expired:
            del self._sessions[key]

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(row.nbytes for session in self._sessions.values() for row in session.rows.values())

    def _idle_sessions(self, keep: Session | None) -> list[Session]:
        """Sessions with nothing queued or working, least recently used first, other than `keep`."""
        return [session for session in self._sessions.values()
                if session is not keep and not any(row.pending for row in session.rows.values())]

    def _bytes_after_eviction(self, keep: Session) -> int:
        """What all rows would hold once the idle sessions' finished rows were evicted (lock held)."""
        freeable = sum(row.nbytes for session in self._idle_sessions(keep) for row in session.rows.values())
        return self.total_bytes - freeable

    def _make_room(self, keep: str) -> None:
        """Evict until within budget (lock held): `keep`'s own oldest finished rows while it is over its own
        budget, then the finished rows of idle sessions, least recently used first. Queued and working rows are
        never evicted (admission keeps them within budget)."""
        session = self._sessions.get(keep)
        if session is not None:
            own = sum(row.nbytes for row in session.rows.values())
            for row_id in [row_id for row_id, row in session.rows.items() if not row.pending]:
                if own <= self.session_max_bytes:
                    break
                own -= session.rows.pop(row_id).nbytes
                session.version += 1
        total = self.total_bytes
        for idle in self._idle_sessions(session):
            for row_id in list(idle.rows):
                if total <= self.max_bytes:
                    return
                total -= idle.rows.pop(row_id).nbytes
                idle.version += 1
                logger.info("Evicted an idle session's finished photo to stay under %d bytes", self.max_bytes)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


def _expected_row_bytes(data: bytes, model_count: int, display_long_side: int) -> int:
    """At least what a row for this image file will hold once decoded, judged from its header (the file's size if
    unreadable: decoding will then say what is wrong)."""
    try:
        width, height = Image.open(io.BytesIO(data)).size
    except Exception:
        return len(data)
    display_pixels = width * height * min(1.0, display_long_side / max(width, height)) ** 2
    per_model = display_pixels * 3 + min(width * height, _MAX_CHROMA_PIXELS) * _CHROMA_BYTES_PER_PIXEL
    return int(len(data) + _LIGHTNESS_BYTES_PER_PIXEL * (width * height + display_pixels) + model_count * per_model)


@process_wide
def default_studio() -> Studio:
    """The process's studio, sized like the results store (COLORIZER_RESULTS_MAX_BYTES, ..._TTL_SECONDS,
    COLORIZER_SESSION_MAX_BYTES, ..._ROWS), with a worker per model slot."""
    return Studio(settings.RESULTS_MAX_BYTES, settings.RESULTS_TTL_SECONDS,
                  session_max_bytes=settings.SESSION_MAX_BYTES, session_max_rows=settings.SESSION_MAX_ROWS,
                  workers=settings.MODEL_SLOTS)
