"""What the pages do with uploads, without Dash: decode and keep them, colour them with one or more models.

Every function turns a failure for one file (or one model) into a message on that file's record, so that one bad
file never stops the others: `ColorizerError`s keep their user-facing message, anything unexpected is logged with
its traceback and replaced by `GENERIC_ERROR`.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from colorizers import ColorizerError, colorize, decode_image, model_info
from colorizers.library import LibraryPhoto, library
from colorizers.references import gallery

from .imaging import download_name
from .model_slots import model_slots
from .results_store import ImageTooLargeToKeepError, ResultsStore, make_stored_image
from .uploads import UploadedFile

logger = logging.getLogger(__name__)

AUTO_REFERENCE = "auto"
OWN_REFERENCE = "uploaded"
GENERIC_ERROR = "Something went wrong while working on this photo. The error was logged; please try again."
_FRIENDLY_ERRORS = (ColorizerError, ImageTooLargeToKeepError)


@dataclass(frozen=True)
class KeptUpload:
    """An uploaded photo after decoding: its id in the results store, or the error to show instead.

    Small and JSON-friendly (`to_json` / `from_json`), so a page can remember its uploads in a `dcc.Store`.
    """

    filename: str
    image_id: str | None = None
    was_color: bool = False
    error: str | None = None

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> KeptUpload:
        return cls(
            filename=str(data.get("filename", "")),
            image_id=data.get("image_id"),
            was_color=bool(data.get("was_color", False)),
            error=data.get("error"),
        )


def uploads_from_state(records: list[dict] | None, session_id: str, store: ResultsStore) -> list[KeptUpload]:
    """The uploads a page's state lists, trusting nothing in it: each photo once (by id, first entry kept), and
    only photos this session really uploaded and the server still keeps (a hand-made request listing one upload
    forty times must not colour it forty times, nor name another session's photos). Files that failed to
    upload keep their message (once each); they colour nothing."""
    seen: set = set()
    uploads = []
    for record in records or []:
        upload = KeptUpload.from_json(record) if isinstance(record, dict) else None
        if upload is None:
            continue
        key = upload.image_id if upload.image_id is not None else (upload.filename, upload.error)
        if key in seen or (upload.image_id is None and not upload.error):
            continue
        if upload.image_id is not None and store.get(session_id, str(upload.image_id)) is None:
            continue
        seen.add(key)
        uploads.append(upload)
    return uploads


@dataclass(frozen=True)
class ModelResult:
    """One model's result for one photo (`image_id` in the store), or the error to show in its place.

    reference_name: for reference-based models, the gallery name used, or OWN_REFERENCE for the user's photo.
    reference_suggested: True when the reference was chosen automatically.
    """

    model_name: str
    model_title: str
    image_id: str | None = None
    filename: str | None = None
    seconds: float | None = None
    reference_name: str | None = None
    reference_title: str | None = None
    reference_suggested: bool = False
    suggested: tuple[LibraryPhoto, ...] = ()  # the library photos "Suggest for me" averaged, best first
    error: str | None = None


@dataclass(frozen=True)
class PhotoResults:
    """A photo and its results, one per model asked for (empty when the photo itself failed)."""

    upload: KeptUpload
    results: list[ModelResult] = field(default_factory=list)
    error: str | None = None


def friendly_message(error: Exception, context: str) -> str:
    """The message to show for `error`: its own for the errors written for users, else a generic one (logged)."""
    if isinstance(error, _FRIENDLY_ERRORS):
        return str(error)
    logger.error("Unexpected error while %s", context, exc_info=error)
    return GENERIC_ERROR


def keep_uploads(files: list[UploadedFile], session_id: str, store: ResultsStore) -> list[KeptUpload]:
    """Decode every file and keep the readable ones in `store`; one record per file, in order."""
    return [_keep_upload(file, session_id, store) for file in files]


def _keep_upload(file: UploadedFile, session_id: str, store: ResultsStore) -> KeptUpload:
    if file.data is None:
        return KeptUpload(file.filename, error=file.error or "The file could not be read.")
    try:
        with model_slots().slot():  # a large photo's decoding costs memory like its colouring
            decoded = decode_image(file.data)
        image_id = store.put(session_id, make_stored_image(decoded.rgb, download_name(file.filename, "")))
    except Exception as error:  # per file: the others go on
        return KeptUpload(file.filename, error=friendly_message(error, f"decoding {file.filename!r}"))
    return KeptUpload(file.filename, image_id=image_id, was_color=decoded.was_color)


def keep_reference(file: UploadedFile, session_id: str, store: ResultsStore) -> str:
    """Keep the user's own colour reference photo; returns its id. Raises ColorizerError with a message."""
    if file.data is None:
        raise ColorizerError(file.error or "The reference file could not be read.")
    decoded = decode_image(file.data)
    if not decoded.was_color:
        raise ColorizerError("This photo has no colour to copy; choose a colour photo as the reference.")
    return store.put(session_id, make_stored_image(decoded.rgb, download_name(file.filename, "reference")))


def resolve_reference(
    choice: str | None, own_reference_id: str | None, session_id: str, store: ResultsStore
) -> str | np.ndarray:
    """What to pass as `reference` to `colorize` for the picker's `choice` (AUTO_REFERENCE, OWN_REFERENCE or a
    gallery name). Raises ColorizerError when the user's own reference is missing or has expired."""
    if not choice or choice == AUTO_REFERENCE:
        return AUTO_REFERENCE
    if choice == OWN_REFERENCE:
        own = store.get(session_id, own_reference_id) if own_reference_id else None
        if own is None:
            raise ColorizerError("Upload your own reference photo first, or pick one from the gallery.")
        return own.rgb
    return choice


def colorize_uploads(
    uploads: list[KeptUpload],
    session_id: str,
    store: ResultsStore,
    model_names: list[str],
    reference: str | np.ndarray = AUTO_REFERENCE,
) -> list[PhotoResults]:
    """Colour every kept upload with every model in `model_names` (models without a reference ignore it)."""
    photos = []
    for upload in uploads:
        if upload.error or not upload.image_id:
            photos.append(PhotoResults(upload, error=upload.error or "The file could not be read."))
            continue
        original = store.get(session_id, upload.image_id)
        if original is None:
            photos.append(PhotoResults(upload, error="This photo has expired from the server; please upload it again."))
            continue
        results = [_colorize_one(upload, original.rgb, session_id, store, name, reference) for name in model_names]
        photos.append(PhotoResults(upload, results))
    return photos


def _colorize_one(
    upload: KeptUpload,
    rgb: np.ndarray,
    session_id: str,
    store: ResultsStore,
    model_name: str,
    reference: str | np.ndarray,
) -> ModelResult:
    title = model_name
    try:
        info = model_info(model_name)
        title = info.title
        with model_slots().slot():
            colorization = colorize(rgb, model_name, reference=reference)
        filename = download_name(upload.filename, f"colorized-{model_name}")
        image_id = store.put(session_id, make_stored_image(colorization.rgb, filename))
    except Exception as error:  # per model: the other models and photos go on
        message = friendly_message(error, f"colouring {upload.filename!r} with {model_name}")
        return ModelResult(model_name, title, error=message)
    reference_name = colorization.details.get("reference") if info.uses_reference else None
    suggested = info.uses_reference and isinstance(reference, str) and reference == AUTO_REFERENCE
    return ModelResult(
        model_name,
        title,
        image_id=image_id,
        filename=filename,
        seconds=colorization.seconds,
        reference_name=reference_name,
        reference_title=reference_title(reference_name) if reference_name else None,
        reference_suggested=suggested,
        suggested=tuple(filter(None, map(library_photo, suggested_names(colorization.details)))) if suggested else (),
    )


def reference_title(name: str) -> str:
    """The title to show for a reference: the gallery or library photo's title, or words for the user's own."""
    if name == OWN_REFERENCE:
        return "your reference photo"
    for photo in gallery():
        if photo.name == name:
            return photo.title
    photo = library_photo(name)
    return photo.title if photo else name


def library_photo(name: str) -> LibraryPhoto | None:
    """The reference-library photo called `name`, None when there is none (or no library)."""
    found = library()
    return found.get(name) if found else None


def suggested_names(details: dict) -> tuple[str, ...]:
    """The library references a suggestion used (model details "references"), best first."""
    return tuple(name for name in str(details.get("references", "")).split(",") if name)
