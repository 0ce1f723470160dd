"""How the comparison studio looks: the queue, one card per photo (original, then a column per model), the per-row
reference controls and the before/after viewer. Built from `dashboard.studio` snapshots; images are URLs.
"""
from __future__ import annotations

import json
from typing import NamedTuple

import dash_bootstrap_components as dbc
from dash import dcc, html

from colorizers.references import GalleryPhoto, gallery

from ..jobs.photos import AUTO_REFERENCE, OWN_REFERENCE, library_photo
from ..studio import DONE, ERROR, QUEUED, WORKING, CellView, RowView, SessionView, Studio
from ..routes.urls import studio_display_url, studio_download_url, studio_original_url, studio_zip_url
from .result_views import suggested_references, upload_note
from .touchup_editor import edit_button
from .upload_area import ACCEPTED_TYPES, upload_status

COMPARE_TOUCHUP = "compare-touchup"  # the id prefix of the Compare page's touch-up editor
STATUS_WORDS = {QUEUED: "queued", WORKING: "working", DONE: "done", ERROR: "error"}
STATUS_COLOURS = {QUEUED: "secondary", WORKING: "primary", DONE: "success", ERROR: "danger"}


def status_badge(status: str) -> dbc.Badge:
    return dbc.Badge(STATUS_WORDS.get(status, status), color=STATUS_COLOURS.get(status, "secondary"),
                     class_name=f"status-badge status-{status}")


def queue_list(rows: tuple[RowView, ...]) -> html.Div | html.Ol:
    """Every file of the session with its state and how many models have finished."""
    if not rows:
        return html.Div()
    items = []
    for row in rows:
        finished = sum(cell.status in (DONE, ERROR) for cell in row.cells)
        total = len(row.cells)
        progress = 100 if row.status in (DONE, ERROR) else int(100 * finished / max(total, 1))
        items.append(html.Li(
            [
                html.Span(row.filename, className="queue-name text-truncate"),
                status_badge(row.status),
                progress_bar(progress, row.status, f"{row.filename}: models finished"),
                # A file's error is shown whole (it says what to do); the short progress words may be cut.
                html.Small(waiting_words(row) or (f"{finished}/{total} models" if total else (row.error or "")),
                           className="queue-detail text-body-secondary "
                                     + ("queue-error text-wrap" if row.error and not total else "text-truncate")),
            ],
            className=f"queue-item queue-{row.status}",
            **{"data-row": row.row_id},
        ))
    return html.Ol(items, className="queue-list list-unstyled mb-0")


def newest_row_id(view: SessionView) -> str | None:
    """The session's newest row (shown first), None without rows."""
    return view.rows[-1].row_id if view.rows else None


class RenderedRows(NamedTuple):
    queue: html.Component
    cards: list
    key: str  # what was drawn: the page redraws only when it changes
    zip_href: str
    zip_class: str


def view_key(view: SessionView, strength: int) -> str:
    # Queue places change as other sessions' photos are worked on, without this session changing.
    return f"{view.version}:{strength}:" + ",".join(str(row.queue_position) for row in view.rows if row.queue_position)


def rendered_rows(view: SessionView, strength: int, studio: Studio) -> RenderedRows:
    """The queue and the rows (newest first) at `strength`, and the zip link (disabled until there is a result)."""
    photos = gallery()
    cards = [row_card(row, strength, studio, photos) for row in reversed(view.rows)]
    has_results = any(cell.result_id for row in view.rows for cell in row.cells)
    zip_class = "btn btn-outline-primary btn-sm" + ("" if has_results else " disabled")
    return RenderedRows(queue_list(view.rows), cards, view_key(view, strength), studio_zip_url(strength), zip_class)


def progress_bar(percent: int, status: str, name: str) -> html.Div:
    """Bootstrap's progress bar with a name for screen readers (dbc.Progress takes no aria-label)."""
    working = status == WORKING
    bar_class = f"progress-bar bg-{STATUS_COLOURS.get(status, 'secondary')}" + (
        " progress-bar-striped progress-bar-animated" if working else "")
    return html.Div(html.Div(className=bar_class, style={"width": f"{percent}%"}),
                    className="progress queue-progress", role="progressbar",
                    **{"aria-label": name, "aria-valuenow": str(percent), "aria-valuemin": "0", "aria-valuemax": "100"})


def dom_id(component_id: str | dict) -> str:
    """The HTML id Dash gives a component (a pattern-matching id is its JSON, keys sorted), for a label's `for`."""
    if isinstance(component_id, str):
        return component_id
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def waiting_words(row: RowView) -> str | None:
    """A queued photo's place in the queue, in words (None when it is not waiting)."""
    if row.status != QUEUED or row.queue_position is None:
        return None
    if row.queue_position == 0:
        return "next in the queue"
    return f"waiting: {row.queue_position} photo{'s' if row.queue_position > 1 else ''} ahead"


def row_card(row: RowView, strength: int, studio: Studio, photos: list[GalleryPhoto]) -> html.Div:
    """A photo's card: a header with its state, then the original and one column per model (stacked on phones)."""
    header = dbc.CardHeader(
        [html.Span(row.filename, className="fw-semibold text-truncate"), status_badge(row.status)],
        class_name="d-flex justify-content-between align-items-center gap-2",
    )
    if row.status == ERROR:
        body = [dbc.Alert([html.Strong(row.filename), ": ", row.error or "The file could not be read."],
                          color="danger", class_name="file-alert row-error mb-0")]
    else:
        columns = [dbc.Col(_original_panel(row), xs=12, sm=6, lg=True)]
        columns += [dbc.Col(_cell_panel(row, cell, strength, studio, photos), xs=12, sm=6, lg=True)
                    for cell in row.cells]
        body = []
        note = upload_note(row.was_color, row.tint)
        if note:
            body.append(dbc.Alert(note, color="info", class_name="colour-note py-2 small"))
        body.append(dbc.Row(columns, class_name="g-3 compare-row"))
        reference_models = [cell.model_title for cell in row.cells if cell.uses_reference]
        if reference_models:  # one choice for the row, whichever models take a reference
            body.append(reference_controls(row, photos, reference_models))
    return html.Div(
        dbc.Card([header, dbc.CardBody(body)], class_name="photo-card mb-4 shadow-sm"),
        className=f"studio-row row-{row.status}", **{"data-row": row.row_id},
    )


def _original_panel(row: RowView) -> html.Figure:
    caption = []
    if row.size:
        caption.append(html.Div(f"{row.size[1]} × {row.size[0]} px", className="small text-body-secondary"))
    picture = (html.Img(src=studio_original_url(row.row_id), alt=f"Original: {row.filename}",
                        className="result-image img-fluid rounded")
               if row.size else _placeholder(row.status, waiting_words(row)))
    heading = html.Div(html.Span("Original", className="panel-title"), className="panel-heading")
    return html.Figure([heading, picture, html.Figcaption(caption)], className="image-panel studio-cell mb-2")


def _placeholder(status: str, waiting: str | None = None) -> html.Div:
    words = (waiting[0].upper() + waiting[1:] + "…" if waiting else "Waiting in the queue…") if status == QUEUED \
        else "Working…"
    return html.Div([dbc.Spinner(size="sm", color="secondary") if status == WORKING else None, html.Span(words)],
                    className="result-placeholder rounded")


def _cell_panel(row: RowView, cell: CellView, strength: int, studio: Studio,
                photos: list[GalleryPhoto]) -> html.Div:
    heading = html.Div([html.Span(cell.model_title, className="panel-title"), " ", status_badge(cell.status)],
                       className="panel-heading")
    children: list = [heading]
    if cell.status == ERROR:
        children.append(dbc.Alert(cell.error or "No result.", color="danger", class_name="file-alert cell-error"))
    elif cell.status == DONE and cell.result_id:
        render = studio.display_render(cell.result_id, strength)
        children.append(html.Button(
            html.Img(src=studio_display_url(cell.result_id, strength),
                     alt=f"{cell.model_title} result for {row.filename}", className="result-image img-fluid rounded"),
            id={"type": "result-open", "row": row.row_id, "result": cell.result_id},
            className="result-open", title="Compare before and after", n_clicks=0,
        ))
        details = [html.Span(f"Took {cell.seconds:.2f} s", className="result-seconds")]
        if render is not None:
            details.append(html.Span(f"Colourfulness {render.colourfulness:.1f}", className="result-colourfulness",
                                     title="Hasler and Suesstrunk (2003): 0 is gray, about 33 moderately, "
                                           "59 quite colourful"))
        children.append(html.Div(details, className="result-figures small text-body-secondary"))
        if cell.suggested:
            children.append(suggested_references(cell.suggested, "row-suggested-reference", row.row_id,
                                                 cell.model_name))
        elif cell.reference_title:
            how = "suggested for you" if cell.reference_suggested else "chosen"
            children.append(html.Div(["Reference: ", html.Strong(cell.reference_title, className="reference-used"),
                                      f" ({how})"], className="small text-body-secondary"))
        if cell.fallback:
            children.append(html.Div(cell.fallback, className="small text-body-secondary result-fallback"))
        children.append(html.Div([
            html.A("Download PNG", href=studio_download_url(cell.result_id, strength), download=cell.filename,
                   className="btn btn-sm btn-outline-primary mt-2 result-download", role="button"),
            edit_button(COMPARE_TOUCHUP, cell.result_id),
        ], className="result-actions"))
    else:
        children.append(_placeholder(cell.status))
    return html.Div(children, className=f"image-panel studio-cell cell-{cell.model_name} mb-2")


def reference_controls(row: RowView, photos: list[GalleryPhoto], model_titles: list[str]) -> html.Div:
    """This row's reference, for every reference-based model of the row (`model_titles`): suggested, a gallery
    photo, a library photo picked from a suggestion, or the user's own (uploaded here)."""
    options = [{"label": "Suggest for me", "value": AUTO_REFERENCE}]
    options += [{"label": photo.title, "value": photo.name} for photo in photos]
    picked = library_photo(row.reference_choice)
    if picked is not None and row.reference_choice not in {photo.name for photo in photos}:
        options.append({"label": f"{picked.title} (from the suggestions)", "value": picked.name})
    options.append({"label": "My own photo" if row.has_own_reference else "My own (upload below)",
                    "value": OWN_REFERENCE, "disabled": not row.has_own_reference})
    return html.Div(
        [
            dbc.Label(f"Reference for {' and '.join(model_titles)}",
                      html_for=dom_id({"type": "row-reference", "row": row.row_id}), class_name="small mb-1"),
            dbc.Select(id={"type": "row-reference", "row": row.row_id}, options=options, value=row.reference_choice,
                       size="sm", class_name="row-reference"),
            dcc.Upload(
                id={"type": "row-own-reference", "row": row.row_id},
                accept=ACCEPTED_TYPES,
                multiple=False,
                className="upload-zone upload-zone-small mt-2",
                className_active="upload-zone upload-zone-small upload-zone-active",
                children=html.Small(["Use my own reference: drop or ", html.Span("browse", className="link-primary")]),
            ),
            upload_status(),
        ],
        className="reference-controls row-reference-strip mt-2",
    )


def viewer_body() -> html.Div:
    """The before/after view: the result over the original, clipped at the reveal slider's position (the images'
    sources are set when a result is opened)."""
    frame = html.Div(
        [
            html.Img(id="compare-reveal-before", alt="Before: the original", className="reveal-before"),
            html.Img(id="compare-reveal-after", alt="After: the result", className="reveal-after",
                     style={"clipPath": "inset(0 0 0 50%)"}),
            html.Div(id="compare-reveal-handle", className="reveal-handle", style={"left": "50%"}),
            html.Span("Before", className="reveal-label reveal-label-before"),
            html.Span("After", className="reveal-label reveal-label-after"),
        ],
        className="reveal-frame",
    )
    return html.Div(frame, className="reveal")
