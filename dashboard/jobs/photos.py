"""What the pages do with uploads, without Dash: decode and keep them, colour them with one or more models.

Every function turns a failure for one file (or one model) into a message on that file's record, so that one bad
file never stops the others: `ColorizerError`s keep their user-facing message, anything unexpected is logged with
its traceback and replaced by `GENERIC_ERROR`.

Results are kept with the model's own `Colorization` (`TouchUpState`), so that `touch_up_result` can re-colour them
from brush strokes (Levin et al. 2004) without running the model again.

The Reference transfer page's choices live here too: its methods (`REFERENCE_METHODS`), the visitor's own reference
photos (up to MAX_OWN_REFERENCES, `add_own_references`) and what the reference models are given for the picker's
choice (`reference_request`).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from colorizers import ColorizerError, Colorization, Stroke, colorize, decode_image, draw_strokes, model_info, touch_up
from colorizers.library import LibraryPhoto, library
from colorizers.prints import PRINT_TINTS
from colorizers.reference_transfer import MAX_REFERENCES
from colorizers.references import gallery
from colorizers.registry import MODELS
from colorizers.suggestion import OwnReference

from ..page_logic.imaging import colorized_name, download_name, thumbnail
from ..server.model_slots import model_slots
from ..stores.results_store import ImageTooLargeToKeepError, ResultsStore, StoredImage, TouchUpState, make_stored_image
from ..routes.uploads import UploadedFile

logger = logging.getLogger(__name__)

AUTO_REFERENCE = "auto"
OWN_REFERENCE = "uploaded"
GENERIC_ERROR = "Something went wrong while working on this photo. The error was logged; please try again."
RESULT_EXPIRED = "This result has expired from the server; please colour the photo again."
_FRIENDLY_ERRORS = (ColorizerError, ImageTooLargeToKeepError)

# The Reference transfer page's methods: registry model name -> the label the page shows, the default first.
REFERENCE_METHODS = {"exemplar": "Match by content", "welsh": "Welsh 2002"}
MAX_OWN_REFERENCES = MAX_REFERENCES  # the most reference photos a model takes at once
OWN_REFERENCE_SIDE = 1024  # own references are kept at most this long side: plenty to take colour from
NO_OWN_REFERENCE = "Upload your own reference photo first, or pick one from the gallery."
NOT_A_COLOUR_REFERENCE = "This photo has no colour to copy; choose a colour photo as the reference."
TOO_MANY_REFERENCES = (f"You can keep at most {MAX_OWN_REFERENCES} reference photos: remove one (its × button) "
                       "before adding another.")
_OWN_NAME_PREFIX = "own:"  # how "Suggest for me" names a visitor's own photo in a result's details


class TouchUpError(ColorizerError):
    """A touch-up asked of a result that is gone or cannot be touched up (the message is written for the user)."""


@dataclass(frozen=True)
class KeptUpload:
    """An uploaded photo after decoding: its id in the results store, or the error to show instead.

    Small and JSON-friendly (`to_json` / `from_json`), so a page can remember its uploads in a `dcc.Store`.
    """

    filename: str
    image_id: str | None = None
    was_color: bool = False
    error: str | None = None
    tint: str | None = None  # a tinted print's tint ("sepia"...): not a colour photo

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> KeptUpload:
        return cls(
            filename=str(data.get("filename", "")),
            image_id=data.get("image_id"),
            was_color=bool(data.get("was_color", False)),
            error=data.get("error"),
            tint=data.get("tint") if data.get("tint") in PRINT_TINTS else None,
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

    reference_name: for reference-based models, the (first) reference's name as the model gave it: a gallery or
    library name, or OWN_REFERENCE for the user's photo.
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
    suggested: tuple[LibraryPhoto, ...] = ()  # the library photos "Suggest for me" used, best first
    references: tuple[str, ...] = ()  # the titles of every reference used, in the model's order
    own_suggested: tuple[str, ...] = ()  # the visitor's own photos (file names) among the suggested ones
    fallback: str | None = None  # the model's words when part of the photo took another model's colour
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
        with model_slots().slot(owner=session_id):  # a large photo's decoding costs memory like its colouring
            decoded = decode_image(file.data)
        image_id = store.put(session_id, make_stored_image(decoded.rgb, download_name(file.filename, "")))
    except Exception as error:  # per file: the others go on
        return KeptUpload(file.filename, error=friendly_message(error, f"decoding {file.filename!r}"))
    return KeptUpload(file.filename, image_id=image_id, was_color=decoded.was_color, tint=decoded.tint)


def keep_reference(file: UploadedFile, session_id: str, store: ResultsStore) -> str:
    """Keep the user's own colour reference photo (at most OWN_REFERENCE_SIDE on its long side); returns its id.
    Raises ColorizerError with a message."""
    if file.data is None:
        raise ColorizerError(file.error or "The reference file could not be read.")
    with model_slots().slot(owner=session_id):  # a large photo's decoding costs memory like its colouring
        decoded = decode_image(file.data)
    if not decoded.has_colour:
        raise ColorizerError(NOT_A_COLOUR_REFERENCE)
    rgb = np.asarray(thumbnail(decoded.rgb, OWN_REFERENCE_SIDE))
    return store.put(session_id, make_stored_image(rgb, download_name(file.filename, "reference")))


# --- The Reference transfer page: its method, the visitor's own references, what the models are given -----------

@dataclass(frozen=True)
class ReferenceMethod:
    """One of the page's methods: the registry model that runs it and its label."""

    model_name: str
    label: str
    available: bool


def reference_methods() -> list[ReferenceMethod]:
    """The page's methods in REFERENCE_METHODS order (a model without its weights here is not available)."""
    return [ReferenceMethod(name, label, name in MODELS and MODELS[name].is_available)
            for name, label in REFERENCE_METHODS.items()]


def checked_method(value: object) -> str:
    """The model to run for the method the browser sent: `value` when it is one of the page's available methods,
    else the first available one (the default; Welsh needs no weights, so there always is one)."""
    methods = [method for method in reference_methods() if method.available]
    if any(method.model_name == value for method in methods):
        return str(value)
    return methods[0].model_name if methods else "welsh"


def method_label(model_name: str) -> str:
    """The page's label for a method's model ("Match by content"), the model's title for any other."""
    if model_name in REFERENCE_METHODS:
        return REFERENCE_METHODS[model_name]
    info = MODELS.get(model_name)
    return info.title if info else model_name


@dataclass(frozen=True)
class OwnReferenceRecord:
    """One of the visitor's own reference photos: its file name and its id in the results store (JSON-friendly,
    so the page can remember them in a `dcc.Store`)."""

    filename: str
    image_id: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> OwnReferenceRecord | None:
        if not isinstance(data, dict) or not isinstance(data.get("image_id"), str):
            return None
        return cls(filename=str(data.get("filename") or "reference"), image_id=data["image_id"])


def own_references_from_state(records: list | None, session_id: str, store: ResultsStore
                              ) -> list[OwnReferenceRecord]:
    """The own references a page's state lists, trusting nothing in it: each photo once, only this session's
    photos the server still keeps, at most MAX_OWN_REFERENCES."""
    kept: list[OwnReferenceRecord] = []
    for record in map(OwnReferenceRecord.from_json, records or []):
        if record is None or any(other.image_id == record.image_id for other in kept):
            continue
        if store.get(session_id, record.image_id) is None:
            continue
        kept.append(record)
    return kept[:MAX_OWN_REFERENCES]


def add_own_references(files: list[UploadedFile], kept: list[OwnReferenceRecord], session_id: str,
                       store: ResultsStore) -> tuple[list[OwnReferenceRecord], list[tuple[str, str]]]:
    """Keep each colour photo of `files` after the `kept` ones, up to MAX_OWN_REFERENCES in all. Returns every
    reference now kept and, for each file refused, (file name, message): not a colour photo, unreadable, or one
    too many."""
    records = list(kept)
    refused = []
    for file in files:
        if len(records) >= MAX_OWN_REFERENCES:
            refused.append((file.filename, TOO_MANY_REFERENCES))
            continue
        try:
            image_id = keep_reference(file, session_id, store)
        except Exception as error:  # per file: the others go on
            refused.append((file.filename, friendly_message(error, f"keeping the reference {file.filename!r}")))
            continue
        records.append(OwnReferenceRecord(file.filename, image_id))
    return records, refused


def remove_own_reference(kept: list[OwnReferenceRecord], image_id: str, session_id: str,
                         store: ResultsStore) -> list[OwnReferenceRecord]:
    """`kept` without the reference `image_id`, which the server forgets (an id not in `kept` changes nothing)."""
    if any(record.image_id == image_id for record in kept):
        store.discard(session_id, image_id)
    return [record for record in kept if record.image_id != image_id]


@dataclass(frozen=True)
class ReferenceRequest:
    """What the reference-based models are given, and how to name what they report.

    reference: AUTO_REFERENCE, a gallery or library name, or the visitor's own photos (sRGB uint8 (h, w, 3)
    arrays, one to MAX_OWN_REFERENCES), all used at once.
    own_references: the visitor's own photos that "Suggest for me" searches beside the library.
    own_titles: the names the models give the visitor's photos in a result's details ("uploaded", "uploaded 2",
    "own:<id>") -> the file names to show.
    """

    reference: str | np.ndarray | tuple[np.ndarray, ...] = AUTO_REFERENCE
    own_references: tuple[OwnReference, ...] = ()
    own_titles: dict[str, str] = field(default_factory=dict)

    def options(self) -> dict:
        """The keyword arguments for `colorize` (models without a reference ignore them)."""
        reference = list(self.reference) if isinstance(self.reference, tuple) else self.reference
        return {"reference": reference, "own_references": self.own_references}

    def title(self, name: str) -> str:
        """The title to show for a reference the model named `name`."""
        return self.own_titles.get(name) or reference_title(name)


def reference_request(choice: str | None, own_records: list | None, session_id: str,
                      store: ResultsStore) -> ReferenceRequest:
    """What to give the reference models for the picker's `choice`: AUTO_REFERENCE ("Suggest for me": the library
    and the visitor's own photos searched together), OWN_REFERENCE (all the visitor's own photos at once) or a
    gallery or library name. `own_records`: the page's state of own references (checked here). Raises
    ColorizerError when OWN_REFERENCE is chosen and no own photo is kept."""
    own = [(record, store.get(session_id, record.image_id))
           for record in own_references_from_state(own_records, session_id, store)]
    own = [(record, image) for record, image in own if image is not None]
    if choice == OWN_REFERENCE:
        if not own:
            raise ColorizerError(NO_OWN_REFERENCE)
        # colorizers.reference_transfer names one uploaded photo "uploaded", several "uploaded 1", "uploaded 2"...
        names = [OWN_REFERENCE] if len(own) == 1 else [f"{OWN_REFERENCE} {index}" for index in range(1, len(own) + 1)]
        return ReferenceRequest(tuple(image.rgb for _, image in own), (),
                                {name: record.filename for name, (record, _) in zip(names, own)})
    if not choice or choice == AUTO_REFERENCE:
        searched = tuple(OwnReference(f"{_OWN_NAME_PREFIX}{record.image_id}", image.rgb) for record, image in own)
        titles = {photo.name: record.filename for photo, (record, _) in zip(searched, own)}
        return ReferenceRequest(AUTO_REFERENCE, searched, titles)
    return ReferenceRequest(choice)


def colorize_uploads(
    uploads: list[KeptUpload],
    session_id: str,
    store: ResultsStore,
    model_names: list[str],
    reference: str | np.ndarray | ReferenceRequest = AUTO_REFERENCE,
) -> list[PhotoResults]:
    """Colour every kept upload with every model in `model_names` (models without a reference ignore it).
    reference: AUTO_REFERENCE, a gallery or library name, a colour photo (sRGB uint8), or a `ReferenceRequest`."""
    request = reference if isinstance(reference, ReferenceRequest) else ReferenceRequest(reference)
    photos = []
    for upload in uploads:
        if upload.error or not upload.image_id:
            photos.append(PhotoResults(upload, error=upload.error or "The file could not be read."))
            continue
        original = store.get(session_id, upload.image_id)
        if original is None:
            photos.append(PhotoResults(upload, error="This photo has expired from the server; please upload it again."))
            continue
        results = [_colorize_one(upload, original.rgb, session_id, store, name, request) for name in model_names]
        photos.append(PhotoResults(upload, results))
    return photos


def _colorize_one(
    upload: KeptUpload,
    rgb: np.ndarray,
    session_id: str,
    store: ResultsStore,
    model_name: str,
    request: ReferenceRequest,
) -> ModelResult:
    title = model_name
    try:
        info = model_info(model_name)
        title = info.title
        with model_slots().slot(owner=session_id):
            colorization = colorize(rgb, model_name, **request.options())
        filename = colorized_name(upload.filename, title)
        image_id = store.put(session_id, make_stored_image(colorization.rgb, filename,
                                                           touch_up_state=TouchUpState(_without_rgb(colorization))))
    except Exception as error:  # per model: the other models and photos go on
        message = friendly_message(error, f"colouring {upload.filename!r} with {model_name}")
        return ModelResult(model_name, title, error=message)
    details = colorization.details if info.uses_reference else {}
    reference_name = details.get("reference")
    suggested = info.uses_reference and isinstance(request.reference, str) and request.reference == AUTO_REFERENCE
    used = suggested_names(details) or ((reference_name,) if reference_name else ())
    return ModelResult(
        model_name,
        title,
        image_id=image_id,
        filename=filename,
        seconds=colorization.seconds,
        reference_name=reference_name,
        reference_title=request.title(reference_name) if reference_name else None,
        reference_suggested=suggested,
        suggested=tuple(filter(None, map(library_photo, used))) if suggested else (),
        references=tuple(request.title(name) for name in used),
        own_suggested=tuple(request.own_titles[name] for name in used if suggested and name in request.own_titles),
        fallback=details.get("fallback") or None,
    )


def _without_rgb(colorization: Colorization) -> Colorization:
    """The colorization without its pixels: the stored image holds them already, `at_strength` makes them again."""
    return replace(colorization, rgb=np.empty((0, 0, 3), np.uint8))


def touch_up_result(result_id: str, strokes: list[Stroke] | tuple[Stroke, ...], session_id: str,
                    store: ResultsStore, original_id: str | None = None) -> str:
    """Re-colour the session's result `result_id` from brush `strokes` (full-resolution pixels, all of them, oldest
    first: they replace any earlier ones, and none gives the model's own result back). Returns the id of the
    result to show instead: a new stored image (a new id, so no browser shows a cached copy) that keeps the strokes
    and the id of the model's own result, or that result's own id. The touch-up it replaces is dropped.
    `original_id`, the model's own result behind `result_id` (the editor knows it), is touched up instead when
    `result_id` is gone: a touch-up sent while another was still working names the result that one replaced.
    Raises TouchUpError when the result is gone (or is not a result)."""
    result = store.get(session_id, result_id)
    if result is None and original_id is not None:
        result_id, result = original_id, store.get(session_id, original_id)
    state = result.touch_up_state if result is not None else None
    if state is None:
        raise TouchUpError(RESULT_EXPIRED)
    original_id = _model_result_id(result, result_id, session_id, store)
    if strokes:
        with model_slots().slot(owner=session_id):  # a solve and a re-merge at full size, with the models' work
            touched = touch_up(state.colorization, draw_strokes(strokes, result.size))
            rgb = touched.at_strength(touched.strength)
        kept = TouchUpState(state.colorization, tuple(strokes), original_id)
        shown_id = store.put(session_id, make_stored_image(rgb, result.filename, touch_up_state=kept))
    else:
        shown_id = original_id
    if result_id != original_id:
        store.discard(session_id, result_id)  # the touch-up this one replaces: nothing shows it any more
    return shown_id


def _model_result_id(result: StoredImage, result_id: str, session_id: str, store: ResultsStore) -> str:
    """The id of the model's own result behind `result`; kept again from its `Colorization` if it was evicted."""
    state = result.touch_up_state
    if state.original_id is None:
        return result_id
    if store.get(session_id, state.original_id) is not None:
        return state.original_id
    colorization = state.colorization
    rgb = colorization.at_strength(colorization.strength)
    return store.put(session_id, make_stored_image(rgb, result.filename, touch_up_state=TouchUpState(colorization)))


def result_touch_up_state(result_id: str, session_id: str,
                          store: ResultsStore) -> tuple[tuple[Stroke, ...], str, tuple[int, int]]:
    """For the editor: the result's strokes, the id of the model's own result (for "before") and the photo's
    (height, width). Raises TouchUpError when the result is gone (or is not a result)."""
    result = store.get(session_id, result_id)
    state = result.touch_up_state if result is not None else None
    if state is None:
        raise TouchUpError(RESULT_EXPIRED)
    return state.strokes, state.original_id or result_id, result.size


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


def waiting_words(position: int | None) -> str:
    """What a page says while its photo waits for a model slot (nothing once it is being worked on)."""
    if position is None:
        return ""
    if position == 0:
        return "The server is busy: your photo is next."
    return f"The server is busy: {position} photo{'s' if position > 1 else ''} ahead of yours."
