"""Compare: every available model on the same photos, side by side, with a strength control, a before/after
viewer and downloads. Uploads join a per-session queue that a worker thread works through; the page polls it.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import ColorizerError, available_models
from dashboard.guards.callback_guard import friendly_errors
from dashboard.components.result_views import file_alert
from dashboard.components.studio_views import COMPARE_TOUCHUP, newest_row_id, rendered_rows, view_key, viewer_body
from dashboard.components.touchup_editor import (
    DEFAULT_BRUSH,
    DEFAULT_COLOUR,
    always_answered,
    applied_words,
    editor_figure,
    editor_modal,
    editor_target,
    queued_touch_up,
    register_editor_clientside_callbacks,
    shapes_from_strokes,
)
from dashboard.components.scrolling import register_scroll, scroll_target
from dashboard.components.upload_area import upload_area
from dashboard.page_logic.legacy import find_legacy_photo
from dashboard.guards.session import current_session_id, existing_session_id
from dashboard import settings
from dashboard.studio import DEFAULT_STRENGTH, MAX_STRENGTH, StudioError, default_studio
from dashboard.studio.model import checked_strength
from dashboard.routes.uploads import uploaded_files
from dashboard.routes.urls import studio_display_url, studio_original_url

def intro() -> list:
    """Written out on the server (`dashboard.components.document`), per visit: the models installed now."""
    return [
        html.H1("Compare models", className="h3"),
        html.P(
            ["Each photo becomes a row: the original, then one column per model installed here (",
             ", ".join(model.title for model in available_models()),
             "). Click a result to compare it with the original."],
            className="text-body-secondary",
        ),
    ]


dash.register_page(
    __name__,
    path="/compare",
    name="Compare",
    order=0,
    description="Colour photos with every model at once, side by side: colourfulness, time, strength, downloads.",
    intro=intro,
    core_parts=("async-upload", "async-slider"),  # the strength slider is there at once
)

POLL_MILLISECONDS = 350


def layout(legacy: str | None = None, **_query: str) -> html.Div:
    """The session's rows as they are at the visit (polled only while there is work). `?legacy=<name>` opens a legacy
    photo. The newest row at the visit is noted: a newer one (an upload, the legacy photo) is scrolled into view."""
    session_id = existing_session_id()
    studio = default_studio()
    view = studio.view(session_id)
    shown = rendered_rows(view, view.strength, studio)
    return html.Div(
        [
            dbc.Row(
                [
                    dbc.Col(upload_area("compare-upload", "Black-and-white photos",
                                        "One or many: drag and drop, or browse. Each becomes a row."), xs=12, lg=6),
                    dbc.Col(
                        dbc.Card(dbc.CardBody([
                            dbc.Label("Colour strength", html_for="compare-strength", class_name="fw-semibold mb-1"),
                            dcc.Slider(id="compare-strength", min=0, max=MAX_STRENGTH, step=5,
                                       value=view.strength, marks={0: "0%", 50: "50%", 100: "100%", 150: "150%"},
                                       updatemode="mouseup", className="strength-slider"),
                            html.Small("Scales every result's colour without running the models again.",
                                       className="text-body-secondary d-block mb-2"),
                            html.A("Download all results (zip)", id="compare-zip", href=shown.zip_href,
                                   className=shown.zip_class, role="button", download="colorized-photos.zip"),
                        ]), class_name="shadow-sm h-100"),
                        xs=12, lg=6,
                    ),
                ],
                class_name="g-3 mb-3",
            ),
            html.Div(id="compare-feedback"),
            html.Section([html.H2("Queue", className="h6 visually-hidden"),
                          html.Div(shown.queue, id="compare-queue", **{"aria-live": "polite"})],
                         className="compare-queue mb-3"),
            html.Div(shown.cards or html.P("Each photo will appear here as a row: the original, then one column per "
                                           "model.", className="text-body-secondary results-placeholder"),
                     id="compare-results"),
            # Polled while there is work (or a legacy photo to add): a visit to an idle page asks nothing more.
            dcc.Interval(id="compare-poll", interval=POLL_MILLISECONDS, disabled=not (view.pending or legacy)),
            dcc.Store(id="compare-rendered", data=shown.key),
            dcc.Store(id="compare-newest", data=newest_row_id(view)),
            dcc.Store(id="compare-scroll"),
            dcc.Store(id="compare-legacy-request", data=legacy),
            dbc.Modal(
                [
                    dbc.ModalHeader(dbc.ModalTitle("Before and after", id="compare-viewer-title")),
                    dbc.ModalBody([
                        viewer_body(),
                        dbc.Label("Drag to reveal: before on the left, after on the right", html_for="compare-reveal",
                                  class_name="small text-body-secondary mt-2 mb-0"),
                        dcc.Slider(id="compare-reveal", min=0, max=100, step=1, value=50, marks=None,
                                   updatemode="drag", className="reveal-slider"),
                    ]),
                ],
                id="compare-viewer", is_open=False, size="xl", centered=True, labelledby="compare-viewer-title",
            ),
            editor_modal(COMPARE_TOUCHUP),
        ]
    )


@callback(
    Output("compare-upload", "contents"),
    Output("compare-feedback", "children"),
    Output("compare-poll", "disabled", allow_duplicate=True),
    Input("compare-upload", "contents"),
    State("compare-upload", "filename"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=3, alert_index=1)
def queue_uploads(contents, filenames):
    """Every dropped file becomes a queued row at once; the worker colours them one by one."""
    session_id = current_session_id()
    if contents is None:
        raise PreventUpdate  # our own reset of the upload (so the same files can be dropped again)
    model_names = [model.name for model in available_models()]
    files = uploaded_files(contents, filenames, max_files=settings.SESSION_MAX_ROWS)
    default_studio().add_uploads(session_id, files, model_names)
    return None, None, False


@callback(
    Output("compare-queue", "children"),
    Output("compare-results", "children"),
    Output("compare-rendered", "data"),
    Output("compare-poll", "disabled"),
    Output("compare-zip", "href"),
    Output("compare-zip", "className"),
    Output("compare-newest", "data"),
    Output("compare-scroll", "data"),
    Input("compare-poll", "n_intervals"),
    Input("compare-strength", "value"),
    State("compare-legacy-request", "data"),
    State("compare-rendered", "data"),
    State("compare-newest", "data"),
    prevent_initial_call=True,  # the layout shows the rows as they are at the visit
)
@friendly_errors(output_count=8, alert_index=1)
def show_rows(_ticks, strength, legacy_name, rendered, newest_shown):
    """Redraw the queue and rows, newest first, when the session changed (or the strength did); a new row comes
    into view; stop polling when idle. A poll without a session (no cookie) makes none: it has nothing to show."""
    session_id = existing_session_id() or (current_session_id() if legacy_name else None)
    studio = default_studio()
    strength = DEFAULT_STRENGTH if strength is None else strength
    strength = studio.set_strength(session_id, strength) if session_id else checked_strength(strength)
    if legacy_name:
        _open_legacy_photo(session_id, legacy_name)
    view = studio.view(session_id)
    if view_key(view, strength) == rendered:
        return no_update, no_update, no_update, not view.pending, no_update, no_update, no_update, no_update
    shown = rendered_rows(view, strength, studio)
    newest = newest_row_id(view)
    scroll = scroll_target(f'.studio-row[data-row="{newest}"]') if newest and newest != newest_shown else no_update
    return (shown.queue, shown.cards or no_update, shown.key, not view.pending, shown.zip_href, shown.zip_class,
            newest, scroll)


register_scroll("compare-scroll")


def _open_legacy_photo(session_id: str, name: str) -> None:
    """Add the legacy photo `name` as a row, once per session."""
    photo = find_legacy_photo(name)
    studio = default_studio()
    if photo is None or studio.has_source(session_id, name):
        return
    studio.add_photo(session_id, photo.title, photo.path.read_bytes(), [model.name for model in available_models()],
                     source=name, exclude_reference=photo.gallery_name)  # titled as the Legacy page shows it


@callback(
    Output("compare-feedback", "children", allow_duplicate=True),
    Output("compare-poll", "disabled", allow_duplicate=True),
    Input({"type": "row-reference", "row": ALL}, "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=2)
def change_reference(_values):
    """A new reference in one row colours that row's reference-based models again."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict):
        raise PreventUpdate
    choice = ctx.triggered[0]["value"] if ctx.triggered else None
    studio = default_studio()
    row = next((row for row in studio.view(session_id).rows if row.row_id == trigger["row"]), None)
    if not choice or row is None or row.reference_choice == choice:
        raise PreventUpdate  # a redraw, not the user's choice
    try:
        studio.set_reference(session_id, trigger["row"], choice)
    except ColorizerError as error:
        return file_alert(row.filename, str(error)), no_update
    return None, False


@callback(
    Output("compare-feedback", "children", allow_duplicate=True),
    Output("compare-poll", "disabled", allow_duplicate=True),
    Input({"type": "row-suggested-reference", "key": ALL, "name": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=2)
def use_suggested_reference(clicks):
    """A click on one of the suggested references colours that row from it alone."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the thumbnails were drawn, not clicked
    studio = default_studio()
    row = next((row for row in studio.view(session_id).rows if row.row_id == trigger["key"]), None)
    if row is None:
        raise PreventUpdate
    try:
        studio.set_reference(session_id, row.row_id, trigger["name"])
    except ColorizerError as error:
        return file_alert(row.filename, str(error)), no_update
    return None, False


@callback(
    Output("compare-feedback", "children", allow_duplicate=True),
    Output("compare-poll", "disabled", allow_duplicate=True),
    Input({"type": "row-own-reference", "row": ALL}, "contents"),
    State({"type": "row-own-reference", "row": ALL}, "filename"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=2)
def use_own_reference(_contents, _filenames):
    """The user's colour photo becomes this row's reference."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict):
        raise PreventUpdate
    index = next((i for i, item in enumerate(ctx.inputs_list[0]) if item["id"] == trigger), None)
    contents = ctx.inputs_list[0][index].get("value") if index is not None else None
    if not contents:
        raise PreventUpdate
    filename = ctx.states_list[0][index].get("value") or "reference"
    files = uploaded_files(contents, filename)
    try:
        default_studio().set_own_reference(session_id, trigger["row"], files[0])
    except ColorizerError as error:
        return file_alert(files[0].filename, str(error)), no_update
    return None, False


@callback(
    Output("compare-viewer", "is_open"),
    Output("compare-viewer-title", "children"),
    Output("compare-reveal-before", "src"),
    Output("compare-reveal-after", "src"),
    Output("compare-reveal", "value"),
    Input({"type": "result-open", "row": ALL, "result": ALL}, "n_clicks"),
    State("compare-strength", "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=5, alert_index=1)
def open_viewer(_clicks, strength):
    """Clicking a result opens it over its original, half revealed."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # new buttons appearing, not a click
    view = default_studio().view(session_id)
    row = next((row for row in view.rows if row.row_id == trigger["row"]), None)
    cell = next((cell for cell in row.cells if cell.result_id == trigger["result"]), None) if row else None
    if cell is None:
        raise PreventUpdate
    strength = DEFAULT_STRENGTH if strength is None else int(strength)
    return (True, f"{row.filename}: {cell.model_title}", studio_original_url(row.row_id),
            studio_display_url(cell.result_id, strength), 50)


clientside_callback(
    """
    function (position) {
        const value = Math.max(0, Math.min(100, Number(position ?? 50)));
        return [{clipPath: `inset(0 0 0 ${value}%)`}, {left: `${value}%`}];
    }
    """,
    Output("compare-reveal-after", "style"),
    Output("compare-reveal-handle", "style"),
    Input("compare-reveal", "value"),
    prevent_initial_call=True,  # `viewer_body` starts at 50%
)


# --- Touch-up: the "Edit colours" editor (dashboard.components.touchup_editor) ----------------------------------------
TOUCHUP = COMPARE_TOUCHUP


def _editor_target(target: dict, shapes: list) -> dict:
    return editor_target(target, shapes, lambda result_id: studio_display_url(result_id, target["strength"]))


@callback(
    Output(f"{TOUCHUP}-modal", "is_open"),
    Output(f"{TOUCHUP}-canvas", "figure"),
    Output(f"{TOUCHUP}-target", "data"),
    Output(f"{TOUCHUP}-shapes", "data"),
    Output(f"{TOUCHUP}-title", "children"),
    Output(f"{TOUCHUP}-before", "value"),
    Output(f"{TOUCHUP}-status", "children"),
    Input({"type": f"{TOUCHUP}-open", "result": ALL}, "n_clicks"),
    State("compare-strength", "value"),
    State(f"{TOUCHUP}-colour", "value"),
    State(f"{TOUCHUP}-brush", "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=7, alert_index=6)
def open_editor(_clicks, strength, colour, brush):
    """"Edit colours" opens the result large, with the strokes it was touched up with (to edit them again)."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # new buttons appearing, not a click
    studio = default_studio()
    try:
        strokes, original_id, size = studio.touch_up_state(session_id, trigger["result"])
    except StudioError:
        raise PreventUpdate from None  # a stale button: the rows are being redrawn
    # What the editor works on: the current result, the model's own (for "before"), the photo's size.
    shapes = shapes_from_strokes(strokes, size)
    target = _editor_target({"result": trigger["result"], "original": original_id, "size": list(size),
                             "strength": DEFAULT_STRENGTH if strength is None else int(strength)}, shapes)
    row = next((row for row in studio.view(session_id).rows
                for cell in row.cells if cell.result_id == trigger["result"]), None)
    title = next((f"Edit colours: {row.filename}, {cell.model_title}" for cell in row.cells
                  if cell.result_id == trigger["result"]), "Edit colours") if row else "Edit colours"
    figure = editor_figure(target["image"], size, shapes, colour or DEFAULT_COLOUR, brush or DEFAULT_BRUSH)
    return True, figure, target, shapes, title, False, None


register_editor_clientside_callbacks(TOUCHUP)


@callback(
    Output(f"{TOUCHUP}-target", "data", allow_duplicate=True),
    Output(f"{TOUCHUP}-applied", "data"),
    Output(f"{TOUCHUP}-before", "value", allow_duplicate=True),
    Output(f"{TOUCHUP}-status", "children", allow_duplicate=True),
    Output("compare-poll", "disabled", allow_duplicate=True),
    Input(f"{TOUCHUP}-request", "data"),
    prevent_initial_call=True,
)
@always_answered(applied_index=1)
@friendly_errors(output_count=5, alert_index=3)
def apply_strokes(request):
    """Re-colour the result from the strokes on screen (Apply; Undo and Clear drop strokes first and re-colour at
    once; no stroke left: the model's own result), one re-colouring at a time (the editor queues them). The row
    below shows the new result. It names the model's own result, which stays the same while touch-ups replace each
    other, so a touch-up is never refused because an earlier one replaced the result."""
    target, shapes, strokes, applied = queued_touch_up(request)
    try:
        new_id = default_studio().touch_up(current_session_id(), str(target["original"]), strokes)
    except StudioError as error:
        return no_update, applied, no_update, str(error), no_update
    target = _editor_target({**target, "result": new_id}, shapes)
    return target, applied, False, applied_words(strokes), False
