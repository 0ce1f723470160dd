"""The comparison studio without Dash: per-session photo rows, a queue of colouring tasks, and results re-merged at
any colour strength without running a model again.

A browser session (its id from `dashboard.guards.session`) owns rows, one per photo (`dashboard.studio.model`). Each row
keeps the photo's lightness and, per model, a cell: queued, working, done (with its result) or error. Uploads only
add rows and tasks; workers colour them (`dashboard.studio.queue`: threads of this process, or Celery workers),
and pages poll `view()` to show progress and each queued photo's place. Sessions live in a store
(`dashboard.studio.store`: this process's memory, or Redis shared by every process), so the same code runs in a
single process and spread over several web processes and workers.

Strength: a result keeps its chroma at the model's size; `display_render` merges it with the display-size lightness
at a strength (`dashboard.studio.rendering`), and `download_png` and `zip_png` with the full-resolution one.

Touch-up: `touch_up` re-colours a result from brush strokes (`colorizers.touch_up`, always from the model's own
result, with every stroke so far). The touched-up result replaces it in its cell under a new id (so no browser shows
a cached image of the old one), keeps its strokes for the next edit, and keeps the model's own result (`original`,
still served under its own id) for before/after and for "clear". Downloads and the zip use the touched-up result.

Memory: a photo is admitted only if its estimated size fits (its session's `session_max_bytes` and rows, and the
studio's `max_bytes` after evicting what may be evicted); otherwise its row says why at once. A queued or working
row is never evicted: eviction takes finished rows of idle sessions (least recently used first), and a session's
own oldest finished rows when it passes its own budget. Sessions not used for `ttl_seconds` are dropped.

Row and result ids are unguessable (128 bits): their URLs are capabilities for that one image, looked up without a
session (`original_jpeg`, `display_render`, `download_png`); the zip needs the session.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from colorizers import Stroke, colorize, decode_image, draw_strokes, model_info, touch_up
from colorizers.color import resize_plane
from colorizers.references import gallery, suggest_references
from colorizers.suggestion import OwnReference

from .. import settings
from ..page_logic.archive import zip_bytes
from ..page_logic.imaging import colorized_name, jpeg_bytes, thumbnail
from ..jobs.photos import AUTO_REFERENCE, OWN_REFERENCE, friendly_message, library_photo, reference_title, suggested_names
from ..server.model_slots import model_slots
from ..server.process_wide import process_wide
from ..server.redis_link import redis_client
from ..routes.uploads import UploadedFile
from .model import (
    DEFAULT_STRENGTH, DONE, ERROR, EXPIRED_MESSAGE, GONE_RESULT_MESSAGE, QUEUED, WORKING, Blob, Cell, CellView,
    KeptResult, Render, Row, RowView, Session, SessionView, StudioError, Task, checked_strength, new_token,
)
from .queue import CeleryQueue, ThreadQueue, celery_sender
from .rendering import RenderCache, expected_row_bytes, first_render, full_colorization, png_at, without_arrays
from .store import MemoryStudioStore, RedisStudioStore

logger = logging.getLogger(__name__)

LOST_MESSAGE = "The worker colouring this photo stopped before it finished; please upload it again."


class Studio:
    """Rows, results and the task queue of every browser session (thread-safe; process-safe with Redis)."""

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
        store: MemoryStudioStore | RedisStudioStore | None = None,
        queue: ThreadQueue | CeleryQueue | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self.session_max_bytes = min(session_max_bytes or max_bytes, max_bytes)
        self.session_max_rows = session_max_rows
        self.display_long_side = display_long_side or settings.DISPLAY_LONG_SIDE
        self.store = MemoryStudioStore(ttl_seconds, clock) if store is None else store
        self.queue = ThreadQueue(self.run_task, workers, autostart) if queue is None else queue
        self._renders = RenderCache()

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
                row.upload = Blob(file.data)
            row_ids.append(self._add_row(session_id, row, queue_it=file.data is not None))
        return row_ids

    def add_photo(
        self, session_id: str, filename: str, data: bytes, model_names: list[str], source: str | None = None,
        exclude_reference: str | None = None,
    ) -> str:
        """A queued row for an image file's bytes (e.g. a legacy photo); `source` names where it came from."""
        row = self._new_row(filename, model_names)
        row.upload, row.source, row.exclude_reference = Blob(data), source, exclude_reference
        return self._add_row(session_id, row)

    def has_source(self, session_id: str, source: str) -> bool:
        """True when the session already has a row opened from `source`."""
        with self.store.peek(session_id) as session:
            return session is not None and any(row.source == source for row in session.rows.values())

    def set_reference(self, session_id: str, row_id: str, choice: str) -> None:
        """Colour the row again with its reference-based models, from `choice` (AUTO_REFERENCE, a gallery name or
        OWN_REFERENCE once the row has one). StudioError for an unknown choice or a missing row."""
        names = {photo.name for photo in gallery()}
        known = choice in names or choice in (AUTO_REFERENCE, OWN_REFERENCE) or library_photo(choice) is not None
        if not known:
            raise StudioError(f"There is no reference photo called '{choice}' in the gallery.")
        with self.store.session(session_id) as session:
            row = self._row(session, row_id)
            if choice == OWN_REFERENCE and row.own_reference is None:
                raise StudioError("Upload your own reference photo for this row first.")
            row.reference_choice = choice
            task = self._requeue_reference_models(session_id, session, row)
        if task is not None:
            self.queue.submit(task)

    def set_own_reference(self, session_id: str, row_id: str, file: UploadedFile) -> None:
        """Use the user's colour photo as this row's reference and colour the row's reference models again."""
        if file.data is None:
            raise StudioError(file.error or "The reference file could not be read.")
        decoded = decode_image(file.data)
        if not decoded.has_colour:
            raise StudioError("This photo has no colour to copy; choose a colour photo as the reference.")
        reference = np.asarray(thumbnail(decoded.rgb, 1024))  # plenty for sampling colours; bounded memory
        with self.store.session(session_id) as session:
            row = self._row(session, row_id)
            row.own_reference, row.reference_choice = Blob(reference), OWN_REFERENCE
            task = self._requeue_reference_models(session_id, session, row)
        if task is not None:
            self.queue.submit(task)

    def set_strength(self, session_id: str, percent: object) -> int:
        """Remember the session's strength (what the zip uses by default); returns it as whole percent. A session
        is made for it only when it is not the default (a page polling at the default strength makes none)."""
        strength = checked_strength(percent)
        with self.store.session(session_id, create=strength != DEFAULT_STRENGTH) as session:
            if session is not None:
                session.strength = strength
        return strength

    @staticmethod
    def _requeue_reference_models(session_id: str, session: Session, row: Row) -> Task | None:
        """Queue the row's reference-based models again (the session is held); the task to submit once released."""
        if row.status == ERROR:
            raise StudioError(row.error or "This photo could not be read.")
        names = tuple(name for name in row.model_names if model_info(name).uses_reference)
        for name in names:
            row.cells[name] = Cell(name)
        if row.status == DONE and names:
            row.status = QUEUED
        session.version += 1
        return Task(session_id, row.row_id, names) if names else None

    def _new_row(self, filename: str, model_names: list[str]) -> Row:
        return Row(new_token(), filename or "photo", list(model_names),
                   cells={name: Cell(name) for name in model_names})

    def _add_row(self, session_id: str, row: Row, queue_it: bool = True) -> str:
        with self.store.session(session_id, create=True) as session:
            if queue_it:
                row.expected_bytes = expected_row_bytes(row.upload.get(), len(row.model_names),
                                                        self.display_long_side)
                refusal = self._refusal(session_id, session, row)
                if refusal is not None:
                    row.status, row.error, row.cells, row.upload, queue_it = ERROR, refusal, {}, None, False
            session.rows[row.row_id] = row
            self._drop_old_error_rows(session)
            session.version += 1
            if queue_it:
                self._make_room(session_id, session)
        if queue_it:
            self.queue.submit(Task(session_id, row.row_id, tuple(row.model_names)))
        return row.row_id

    def _refusal(self, session_id: str, session: Session, row: Row) -> str | None:
        """Why `row` cannot be taken now (None when it can), judged before any work is done (session held)."""
        photos = sum(1 for other in session.rows.values() if other.status != ERROR)
        if self.session_max_rows is not None and photos >= self.session_max_rows:
            return (f"You already have {photos} photos here, the most one visitor may keep at once. Download your "
                    "results: photos leave the server after an hour unused.")
        need = row.nbytes
        if need > self.session_max_bytes:
            return (f"This photo needs about {need / 1e6:.0f} MB of memory here, more than one visitor may use "
                    f"({self.session_max_bytes / 1e6:.0f} MB); please use a smaller photo.")
        own_pending = sum(other.nbytes for other in session.rows.values() if other.pending)
        if own_pending + need > self.session_max_bytes:
            return ("Your photos waiting in the queue already use the memory one visitor may have; add this one "
                    "when they are done.")
        others_busy = sum(other.nbytes for other in self.store.others(session_id) if not other.idle)
        if session.nbytes + others_busy + need > self.max_bytes:
            return "The server is full of other people's photos right now; please try again in a few minutes."
        return None

    def _drop_old_error_rows(self, session: Session) -> None:
        """Keep at most as many error rows as photos a session may have, the newest: refusals must not pile up."""
        limit = self.session_max_rows or len(session.rows)
        errors = [row_id for row_id, row in session.rows.items() if row.status == ERROR]
        for row_id in errors[:max(0, len(errors) - limit)]:
            del session.rows[row_id]

    # --- The work (in a worker thread or a Celery worker) -------------------------------------------------------

    def ensure_worker(self) -> None:
        """Start the worker threads now (the app does this at start; stopped workers are replaced)."""
        self.queue.ensure_workers()

    def process_next(self, block: bool = False) -> bool:
        """Do one queued task of this process's queue; False when there was none (with block=False)."""
        return self.queue.process_next(block)

    def process_pending(self) -> int:
        """Do every queued task in this thread (for tests and scripts); returns how many."""
        count = 0
        while self.process_next():
            count += 1
        return count

    def run_task(self, task: Task) -> None:
        """Decode the task's row if needed, then colour it with each of the task's models in turn, saving each
        result as soon as it is made (pages show them one by one)."""
        with self.store.session(task.session_id) as session:
            row = self._find_row(session, task.row_id)
            if row is None or row.status == ERROR:
                return  # expired, evicted or given up meanwhile
            row.status = WORKING
            session.version += 1
            upload, decoded = row.upload, row.lightness is not None
        if not decoded:
            if upload is None or not self._decode(task, row.filename, upload):
                return
        for name in task.model_names:
            with self.store.session(task.session_id) as session:
                row = self._find_row(session, task.row_id)
                if row is None:
                    return
                row.cells.setdefault(name, Cell(name)).status = WORKING
                reference = self._reference_for(row, name)
                own_references = self._own_references(session) if _is_suggestion(name, reference) else []
                session.version += 1
            outcome = self._colorize(row, name, reference, own_references)
            with self.store.session(task.session_id) as session:
                row = self._find_row(session, task.row_id)
                if row is None:
                    return
                row.cells[name] = (Cell(name, DONE, outcome) if isinstance(outcome, KeptResult)
                                   else Cell(name, ERROR, error=outcome))
                session.version += 1
        with self.store.session(task.session_id) as session:
            row = self._find_row(session, task.row_id)
            if row is None:
                return
            if all(cell.status in (DONE, ERROR) for cell in row.cells.values()):
                row.status = DONE
            session.version += 1
            self._make_room(task.session_id, session)

    def _decode(self, task: Task, filename: str, upload: Blob) -> bool:
        """Decode the row's upload into its lightness and display copies (the upload is dropped once they are
        kept); False, with the row marked, when it cannot be read."""
        error_message = None
        try:
            decoded = decode_image(upload.get())
            display_rgb = thumbnail(decoded.rgb, self.display_long_side)
            display_lightness = resize_plane(decoded.lightness, display_rgb.shape[:2])
            original_jpeg = jpeg_bytes(display_rgb)
        except Exception as error:  # per file: the others go on
            error_message = friendly_message(error, f"decoding {filename!r}")
        with self.store.session(task.session_id) as session:
            row = self._find_row(session, task.row_id)
            if row is None:
                return False
            if error_message is not None:
                row.status, row.error, row.cells = ERROR, error_message, {}
            else:
                row.lightness, row.display_lightness = Blob(decoded.lightness), Blob(display_lightness)
                row.original_jpeg, row.was_color, row.tint = Blob(original_jpeg), decoded.was_color, decoded.tint
                row.size = tuple(decoded.lightness.shape)
            row.upload = None
            session.version += 1
        return error_message is None

    @staticmethod
    def _reference_for(row: Row, model_name: str) -> str | np.ndarray:
        if not model_info(model_name).uses_reference:
            return AUTO_REFERENCE
        if row.reference_choice == OWN_REFERENCE and row.own_reference is not None:
            return row.own_reference.get()
        return row.reference_choice

    @staticmethod
    def _own_references(session: Session) -> list[OwnReference]:
        """The colour photos this visitor gave as their own references (in any row): "Suggest for me" searches
        them beside the library (an old album's colour photos of the same people and places)."""
        return [OwnReference(f"your reference for {row.filename}", row.own_reference.get())
                for row in session.rows.values() if row.own_reference is not None]

    def _colorize(self, row: Row, model_name: str, reference: str | np.ndarray,
                  own_references: list[OwnReference] = ()) -> KeptResult | str:
        """The model's result for the row, or the message to show in its cell."""
        try:
            info = model_info(model_name)
            lightness = row.lightness.get()
            suggested = _is_suggestion(model_name, reference)
            if suggested and row.exclude_reference:
                reference = self._suggestion_excluding(lightness, row.exclude_reference)
            colorization = colorize(lightness, model_name, reference=reference, own_references=own_references)
            render, render_colourfulness = first_render(row.display_lightness.get(), colorization)
        except Exception as error:  # per model: the other models and rows go on
            return friendly_message(error, f"colouring {row.filename!r} with {model_name}")
        reference_name = None
        if info.uses_reference:
            reference_name = OWN_REFERENCE if not isinstance(reference, str) else colorization.details.get("reference")
        return KeptResult(
            result_id=new_token(),
            model_name=model_name,
            colorization=without_arrays(colorization),
            chroma=Blob(colorization.chroma),
            first_render=render,
            colourfulness=render_colourfulness,
            filename=colorized_name(row.filename, info.title),
            reference_name=reference_name,
            reference_suggested=suggested,
            suggested_names=suggested_names(colorization.details) if suggested else (),
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
        earlier ones; none gives the model's own result back). Returns the result's new id. `result_id` is the cell's
        current result or the model's own one behind it: an editor names the latter, which stays the same while
        touch-ups replace each other (every touch-up starts from it), so a touch-up sent while another is still
        working is not refused. StudioError when the cell is gone or was coloured again meanwhile."""
        with self.store.peek(session_id) as session:
            row, cell = self._touched_cell(session, result_id)
        original = cell.result.original or cell.result
        if not strokes:
            updated = original
        else:
            with model_slots().slot():  # a solve and a re-merge: bounded with the models' work
                touched = touch_up(full_colorization(row, original), draw_strokes(strokes, row.size))
                render, render_colourfulness = first_render(row.display_lightness.get(), touched)
            updated = replace(original, result_id=new_token(), colorization=without_arrays(touched),
                              chroma=Blob(touched.chroma), first_render=render, colourfulness=render_colourfulness,
                              strokes=tuple(strokes), original=original)
        with self.store.session(session_id) as session:
            _, cell = self._touched_cell(session, original.result_id)  # still there, not coloured again meanwhile
            cell.result = updated
            session.version += 1
        return updated.result_id

    def touch_up_state(self, session_id: str, result_id: str) -> tuple[tuple[Stroke, ...], str, tuple[int, int]]:
        """For the editor: the result's strokes, the id of the model's own result (before any touch-up) and the
        photo's (height, width). StudioError when the result is gone."""
        with self.store.peek(session_id) as session:
            row, cell = self._own_cell(session, result_id)
            original = cell.result.original or cell.result
            return cell.result.strokes, original.result_id, row.size

    # --- Reading ------------------------------------------------------------------------------------------------

    def view(self, session_id: str | None) -> SessionView:
        """An immutable snapshot of the session's rows, for rendering (an empty view for an unknown session, or
        None: a visitor without a session)."""
        if session_id is None:
            return SessionView(0, DEFAULT_STRENGTH, ())
        with self.store.session(session_id) as session:
            if session is None:
                return SessionView(0, DEFAULT_STRENGTH, ())
            self._give_up_lost_rows(session)
            positions = self.queue.positions()
            rows = tuple(self._row_view(row, positions.get(row.row_id)) for row in session.rows.values())
            view = SessionView(session.version, session.strength, rows)
        if view.pending:
            self.queue.keep_alive()  # pages poll this: a worker thread that died is replaced
        return view

    def _give_up_lost_rows(self, session: Session) -> None:
        """Mark the rows whose worker died while colouring them (session held)."""
        working = [row.row_id for row in session.rows.values() if row.status == WORKING]
        for row_id in self.queue.lost(working):
            row = session.rows[row_id]
            row.status, row.error, row.cells = ERROR, LOST_MESSAGE, {}
            session.version += 1

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
                fallback=(result.colorization.details.get("fallback") or None) if result else None,
                error=cell.error,
            ))
        return RowView(row.row_id, row.filename, row.status, row.error, row.was_color, row.tint, row.size,
                       row.reference_choice, row.own_reference is not None, tuple(cells),
                       queue_position if row.status == QUEUED else None)

    def original_jpeg(self, row_id: str) -> bytes | None:
        """The row's photo at display size (JPEG), or None when unknown or not decoded yet. The row's id is the
        capability: no session is needed (likewise for a result's id below)."""
        found = self._find(row_id)
        if found is None or found[1] is not None or found[0].original_jpeg is None:
            return None
        return _or_none(found[0].original_jpeg.get)

    def display_render(self, result_id: str, percent: object) -> Render | None:
        """The result at `percent` strength, display size; None when unknown."""
        strength = checked_strength(percent)
        found = self._find(result_id)
        if found is None or found[1] is None:
            return None
        return _or_none(lambda: self._renders.render(found[0], found[1], strength))

    def download_png(self, result_id: str, percent: object) -> tuple[bytes, str] | None:
        """(PNG bytes at full resolution and `percent` strength, download file name); None when unknown."""
        strength = checked_strength(percent)
        found = self._find(result_id)
        if found is None or found[1] is None:
            return None
        png = _or_none(lambda: png_at(found[0], found[1], strength))
        return None if png is None else (png, found[1].filename)

    def zip_png(self, session_id: str, percent: object | None = None) -> bytes | None:
        """Every finished result of the session as full-resolution PNGs in one zip, at `percent` (default: the
        session's strength); None for an unknown session."""
        with self.store.peek(session_id) as session:
            if session is None:
                return None
            strength = session.strength if percent is None else checked_strength(percent)
            results = [(row, cell.result) for row in session.rows.values() for cell in row.cells.values()
                       if cell.result is not None]
        return zip_bytes((result.filename, png_at(row, result, strength)) for row, result in results)

    def _find(self, token: str) -> tuple[Row, KeptResult | None] | None:
        """The row with this id (and None), or the result with this id and its row, whoever's; None when unknown."""
        owner = self.store.owner_of(token)
        if owner is None:
            return None
        with self.store.peek(owner) as session:
            for row in session.rows.values() if session is not None else ():
                if row.row_id == token:
                    return row, None
                result = next((result for result in row.results() if result.result_id == token), None)
                if result is not None:
                    return row, result
        return None

    @staticmethod
    def _find_row(session: Session | None, row_id: str) -> Row | None:
        return session.rows.get(row_id) if session is not None else None

    def _row(self, session: Session | None, row_id: str) -> Row:
        row = self._find_row(session, row_id)
        if row is None:
            raise StudioError(EXPIRED_MESSAGE)
        return row

    @classmethod
    def _touched_cell(cls, session: Session | None, result_id: str) -> tuple[Row, Cell]:
        """The session's row and cell whose current result, or the model's own result behind its touch-up, has this
        id; StudioError when gone."""
        for row in session.rows.values() if session is not None else ():
            for cell in row.cells.values():
                if cell.result is not None and cell.result.original is not None \
                        and cell.result.original.result_id == result_id:
                    return row, cell
        return cls._own_cell(session, result_id)

    @staticmethod
    def _own_cell(session: Session | None, result_id: str) -> tuple[Row, Cell]:
        """The session's row and cell whose current result has this id; StudioError when gone."""
        for row in session.rows.values() if session is not None else ():
            for cell in row.cells.values():
                if cell.result is not None and cell.result.result_id == result_id:
                    return row, cell
        raise StudioError(GONE_RESULT_MESSAGE)

    # --- Memory -------------------------------------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        return sum(size.nbytes for size in self.store.others(""))

    def _make_room(self, session_id: str, session: Session) -> None:
        """Evict until within budget (`session` held): its own oldest finished rows while it is over its own
        budget, then the finished rows of idle sessions, least recently used first. Queued and working rows are
        never evicted (admission keeps them within budget)."""
        own = session.nbytes
        for row_id in [row_id for row_id, row in session.rows.items() if not row.pending]:
            if own <= self.session_max_bytes:
                break
            own -= session.rows.pop(row_id).nbytes
            session.version += 1
        others = self.store.others(session_id)
        total = own + sum(other.nbytes for other in others)
        for other in others:
            if total <= self.max_bytes:
                return
            if not other.idle:
                continue
            with self.store.session(other.session_id, wait=False, touch=False) as idle:
                if idle is None or idle.pending:
                    continue
                for row_id in list(idle.rows):
                    if total <= self.max_bytes:
                        break
                    total -= idle.rows.pop(row_id).nbytes
                    idle.version += 1
                    logger.info("Evicted an idle session's finished photo to stay under %d bytes", self.max_bytes)

    def __len__(self) -> int:
        return len(self.store)


def _or_none(make: Callable[[], object]):
    """`make()`, or None when what it reads has expired from the store meanwhile."""
    try:
        return make()
    except StudioError:
        return None


def studio_in_redis(client, broker_url: str, ttl_seconds: float, **options) -> Studio:
    """A studio kept in Redis (`client`) whose queue is the Celery workers on `broker_url`: what every web process
    runs with COLORIZER_REDIS_URL (and what the scaled set-up's tests and load measurement drive)."""
    return Studio(ttl_seconds=ttl_seconds, store=RedisStudioStore(client, ttl_seconds),
                  queue=CeleryQueue(client, celery_sender(broker_url), ttl_seconds), **options)


@process_wide
def default_studio() -> Studio:
    """The process's studio, sized like the results store (COLORIZER_RESULTS_MAX_BYTES, ..._TTL_SECONDS,
    COLORIZER_SESSION_MAX_BYTES, ..._ROWS): in this process with a worker thread per model slot, or, with
    COLORIZER_REDIS_URL, in Redis with Celery workers (`dashboard.server.worker`)."""
    limits = {"max_bytes": settings.RESULTS_MAX_BYTES, "session_max_bytes": settings.SESSION_MAX_BYTES,
              "session_max_rows": settings.SESSION_MAX_ROWS}
    client = redis_client()
    if client is not None:
        return studio_in_redis(client, settings.REDIS_URL, settings.RESULTS_TTL_SECONDS, **limits)
    return Studio(ttl_seconds=settings.RESULTS_TTL_SECONDS, workers=settings.MODEL_SLOTS, **limits)


def _is_suggestion(model_name: str, reference: str | np.ndarray) -> bool:
    """Whether the model chooses its own references ("Suggest for me")."""
    return model_info(model_name).uses_reference and isinstance(reference, str) and reference == AUTO_REFERENCE
