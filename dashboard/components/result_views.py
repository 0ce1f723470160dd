"""How photos and results look on the pages: per-file alerts, image panels, Reference transfer result cards,
comparison rows.

Images are `<img>`s pointing at the server's routes (see `dashboard.routes.urls`); nothing large is sent as base64.
"""
from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
from dash import dcc, html

from colorizers.library import LibraryPhoto

from ..jobs.photos import KeptUpload, ModelResult, PhotoResults, method_label
from ..routes.urls import library_webp_url, result_download_url, result_thumbnail_url
from .picture import SUGGESTED_THUMB_SIZES, file_picture
from .touchup_editor import edit_button

COLOUR_UPLOAD_NOTE = (
    "This photo was already in colour: its colours were set aside and it was re-coloured from its luminance."
)


def upload_note(was_color: bool, tint: str | None) -> str | None:
    """What a photo's card says of its own colour: a tinted print (sepia...) is named as such, not a colour photo."""
    if tint:
        return f"A {tint} print: its tint was set aside and it was coloured from its lightness."
    return COLOUR_UPLOAD_NOTE if was_color else None


WELSH_TOUCHUP = "welsh-touchup"  # the id prefix of the Reference transfer page's touch-up editor (path /welsh)
# How each reference model uses the photos "Suggest for me" found (the blend's and others' words: "averaged").
SUGGESTION_WORDS = {"exemplar": "matched part by part from"}


def shown_result_ids(prefix: str, slot: str) -> dict[str, dict]:
    """Pattern ids of what a touch-up changes in a result panel: the image, the download link and a store of the id
    of the result shown. `slot` is the model's own result's id: it names the panel while each Apply makes a new id."""
    return {part: {"type": f"{prefix}-{part}", "result": slot} for part in ("image", "download", "shown")}


def file_alert(filename: str, message: str, color: str = "danger") -> dbc.Alert:
    """A friendly message about one file: its name, then what went wrong."""
    return dbc.Alert([html.Strong(filename), ": ", message], color=color, class_name="file-alert mb-2")


def page_alert(message: str, color: str = "warning") -> dbc.Alert:
    """A message about the whole request (not one file)."""
    return dbc.Alert(message, color=color, class_name="mb-3")


def image_panel(
    src: str, alt: str, heading: str | list, details: list | None = None, download: tuple[str, str] | None = None,
    ids: dict[str, dict] | None = None, extra: list | None = None,
) -> html.Figure:
    """An image with a heading above and optional detail lines, a download button and `extra` children below.

    download: (url, filename) of the full-resolution PNG. ids: the image's and the download's ids
    ({"image": id, "download": id}), for callbacks that change them.
    """
    ids = ids or {}
    caption = [html.Div(line, className="small text-body-secondary") for line in details or []]
    if download:
        url, filename = download
        link_id = {"id": ids["download"]} if "download" in ids else {}
        caption.append(
            html.A("Download PNG", href=url, download=filename, className="btn btn-sm btn-outline-primary mt-2",
                   role="button", **link_id)
        )
    caption += extra or []
    image_id = {"id": ids["image"]} if "image" in ids else {}
    return html.Figure(
        [
            html.Div(heading, className="panel-heading"),
            html.Img(src=src, alt=alt, className="result-image img-fluid rounded", **image_id),
            html.Figcaption(caption, className="mt-1"),
        ],
        className="image-panel mb-3",
    )


def original_panel(upload: KeptUpload) -> html.Figure:
    """The uploaded photo as shown to the model (no download: the user has it)."""
    return image_panel(result_thumbnail_url(upload.image_id or ""), f"Original: {upload.filename}",
                       "Original")


def suggested_references(photos: tuple[LibraryPhoto, ...], id_type: str, key: str, model_name: str = "",
                         own: tuple[str, ...] = ()) -> html.Div:
    """The library photos "Suggest for me" used, as thumbnail buttons (pattern ids {type, key, name}): a click
    colours the photo from that reference alone. `own`: the file names of the visitor's own photos among them."""
    buttons = [
        html.Button(file_picture(Path(photo.file), lambda rung, token, name=photo.name: library_webp_url(name, rung, token),
                                 photo.title, SUGGESTED_THUMB_SIZES, widths=(160,), className="suggested-thumb rounded"),
                    id={"type": id_type, "key": key, "name": photo.name}, className="suggested-reference",
                    title=f"Use only “{photo.title}” ({photo.licence})", n_clicks=0)
        for photo in photos
    ]
    count = len(photos) + len(own)
    how = SUGGESTION_WORDS.get(model_name, "averaged from")
    words = f"Suggested for you: colours {how} {count} photo{'s' if count != 1 else ''} alike in content"
    if photos:
        words += " (click one to use it alone)"
    children = [html.Div(words, className="small text-body-secondary")]
    if own:
        children.append(html.Div(["Your own among them: ", html.Strong(", ".join(own), className="own-suggested")],
                                 className="small text-body-secondary"))
    children.append(html.Div(buttons, className="suggested-references d-flex flex-wrap gap-1 mt-1"))
    return html.Div(children, className="suggested-block mt-1")


def reference_lines(result: ModelResult, id_type: str, key: str) -> list:
    """What a reference model's result says about its references: the suggested ones (as thumbnails), the ones
    chosen, and the model's words when part of the photo took another model's colour (`fallback`)."""
    lines: list = []
    if result.suggested or result.own_suggested:
        lines.append(suggested_references(result.suggested, id_type, key, result.model_name, result.own_suggested))
    elif len(result.references) > 1:
        how = "suggested for you" if result.reference_suggested else "chosen"
        lines.append(html.Span([f"References ({len(result.references)}): ",
                                html.Strong(", ".join(result.references), className="references-used"),
                                f" ({how})"]))
    elif result.reference_title:
        how = "suggested for you" if result.reference_suggested else "chosen"
        lines.append(
            html.Span(["Reference: ", html.Strong(result.reference_title, className="reference-used"), f" ({how})"])
        )
    if result.fallback:
        lines.append(html.Span(result.fallback, className="result-fallback"))
    return lines


def model_result_panel(result: ModelResult, heading: str | list | None = None, key: str = "",
                       touchup_prefix: str | None = None) -> html.Div | html.Figure:
    """One model's result with its time and, for reference models, the reference(s) used; or its error.
    `key` tells this photo's suggested-reference buttons apart from other photos'. With `touchup_prefix`, an
    "Edit colours" button opens that editor, and a touch-up replaces the image and the download in place."""
    heading = heading or result.model_title
    if result.error or not result.image_id:
        return html.Div(
            [html.Div(heading, className="panel-heading"),
             dbc.Alert(result.error or "No result.", color="danger", class_name="file-alert")],
            className="image-panel mb-3",
        )
    details = []
    if result.seconds is not None:
        details.append(f"Took {result.seconds:.2f} s")
    details += reference_lines(result, "welsh-suggested-reference", key)
    ids, extra = None, None
    if touchup_prefix:
        ids = shown_result_ids(touchup_prefix, result.image_id)
        extra = [edit_button(touchup_prefix, result.image_id), dcc.Store(id=ids["shown"], data=result.image_id)]
    return image_panel(
        result_thumbnail_url(result.image_id),
        f"{result.model_title} result",
        heading,
        details,
        download=(result_download_url(result.image_id), result.filename or "colorized.png"),
        ids=ids,
        extra=extra,
    )


def reference_result_card(photo: PhotoResults) -> dbc.Card | dbc.Alert:
    """A photo next to its result on the Reference transfer page, headed by the method that made it (or the
    photo's own error as an alert)."""
    if photo.error:
        return file_alert(photo.upload.filename, photo.error)
    panels = [dbc.Col(original_panel(photo.upload), xs=12, md=6)]
    panels += [dbc.Col(model_result_panel(result, ["Coloured: ", html.Span(method_label(result.model_name),
                                                                           className="result-method")],
                                          key=photo.upload.image_id or "", touchup_prefix=WELSH_TOUCHUP),
                       xs=12, md=6)
               for result in photo.results]
    return _photo_card(photo.upload, dbc.Row(panels, class_name="g-3"))


def _photo_card(upload: KeptUpload, body: dbc.Row) -> dbc.Card:
    children = []
    note = upload_note(upload.was_color, upload.tint)
    if note:
        children.append(dbc.Alert(note, color="info", class_name="colour-note py-2 small"))
    children.append(body)
    return dbc.Card(
        [dbc.CardHeader(upload.filename, class_name="fw-semibold text-truncate"), dbc.CardBody(children)],
        class_name="photo-card mb-4 shadow-sm",
    )
