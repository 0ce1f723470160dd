"""Welsh transfer: colour many photos at once from a gallery reference, the user's own, or a suggested one; touch
up any result with brush strokes ("Edit colours", the editor of `dashboard.components.touchup_editor`)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import ColorizerError
from colorizers.references import gallery
from dashboard.callback_guard import friendly_errors
from dashboard.components.reference_picker import reference_options, reference_picker
from dashboard.components.result_views import WELSH_TOUCHUP, file_alert, page_alert, welsh_result_card
from dashboard.components.touchup_editor import (
    DEFAULT_BRUSH,
    DEFAULT_COLOUR,
    applied_words,
    editor_figure,
    editor_modal,
    register_before_after,
    register_editor_clientside_callbacks,
    shapes_after_button,
    shapes_from_strokes,
    strokes_from_shapes,
)
from dashboard.components.upload_area import too_large_note, upload_area
from dashboard.jobs import (
    OWN_REFERENCE,
    TouchUpError,
    colorize_uploads,
    keep_reference,
    keep_uploads,
    library_photo,
    resolve_reference,
    result_touch_up_state,
    touch_up_result,
    uploads_from_state,
    waiting_words,
)
from dashboard import settings
from dashboard.model_slots import model_slots
from dashboard.results_store import ImageTooLargeToKeepError, default_store
from dashboard.session import current_session_id
from dashboard.uploads import uploaded_files
from dashboard.urls import result_download_url, result_thumbnail_url

dash.register_page(
    __name__,
    path="/welsh",
    name="Welsh transfer",
    order=2,
    description="Colour your photos from a reference photo: one from our gallery, your own, or one we suggest.",
)

WELSH_MODEL = "welsh"
PLACEHOLDER = html.P("Your coloured photos will appear here.", className="text-body-secondary results-placeholder")


def layout(**_query: str) -> html.Div:
    """Built per visit, so the gallery's current photos are shown."""
    photos = gallery()
    return html.Div(
        [
            html.H1("Welsh colour transfer", className="h3"),
            html.P(
                "Colours are copied from a reference photo to the parts of your photo with similar brightness and "
                "texture. A reference with similar content (a beach for a beach) works best.",
                className="text-body-secondary",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.H2("1. Add photos", className="h5"),
                                    upload_area("welsh-upload", "Black-and-white photos",
                                                "PNG, JPEG, WebP, TIFF… several at once is fine."),
                                    html.Ul(
                                        [
                                            html.Li("Pick another reference at any time: your photos are "
                                                    "coloured again with it."),
                                            html.Li("Colour photos work too: they are re-coloured from their "
                                                    "luminance."),
                                            html.Li("Downloads are full-resolution PNGs."),
                                        ],
                                        className="small text-body-secondary mt-3 mb-0 ps-3",
                                    ),
                                ]
                            ),
                            class_name="shadow-sm",
                        ),
                        xs=12, lg=5,
                    ),
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.H2("2. Choose where the colours come from", className="h5"),
                                    reference_picker("welsh-reference", photos),
                                    html.Div(
                                        upload_area("welsh-reference-upload", "My own reference",
                                                    "A colour photo to copy colours from.", multiple=False),
                                        className="mt-3 own-reference-upload",
                                    ),
                                    html.Div(id="welsh-reference-feedback", className="mt-2"),
                                ]
                            ),
                            class_name="shadow-sm",
                        ),
                        xs=12, lg=7,
                    ),
                ],
                class_name="g-3 mb-4",
            ),
            # While a colouring waits for the server, its place in line (polled only then: see `colour_photos`).
            html.Div(id="welsh-wait", className="alert alert-info py-2 small", role="status", hidden=True),
            dcc.Interval(id="welsh-wait-poll", interval=700, disabled=True),
            dcc.Loading(
                html.Div(PLACEHOLDER, id="welsh-results"),
                type="circle",
                overlay_style={"visibility": "visible", "opacity": 0.4},
                parent_className="results-loading",
            ),
            # Small records only (file names and ids): the images themselves stay on the server.
            dcc.Store(id="welsh-uploads", data=[]),
            dcc.Store(id="welsh-own-reference"),
            editor_modal(WELSH_TOUCHUP),
        ]
    )


@callback(
    Output("welsh-results", "children"),
    Output("welsh-uploads", "data"),
    Output("welsh-upload", "contents"),
    Input("welsh-upload", "contents"),
    Input("welsh-reference", "value"),
    Input("welsh-own-reference", "data"),
    State("welsh-upload", "filename"),
    State("welsh-uploads", "data"),
    running=[(Output("welsh-wait-poll", "disabled"), False, True), (Output("welsh-wait", "hidden"), False, True)],
    prevent_initial_call=True,
)
@friendly_errors(output_count=3)
def colour_photos(contents, reference_choice, own_reference_id, filenames, kept):
    """New uploads are kept and coloured; a new reference re-colours the photos already uploaded."""
    session_id = current_session_id()
    new_upload = ctx.triggered_id == "welsh-upload"
    if new_upload and contents is None:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    store = default_store()
    if new_upload:
        files = uploaded_files(contents, filenames, max_files=settings.SESSION_MAX_ROWS)
        uploads = keep_uploads(files, session_id, store)
    else:
        uploads = uploads_from_state(kept, session_id, store)
        if not uploads:
            raise PreventUpdate  # a reference was picked before any photo: nothing to colour yet
    records = [upload.to_json() for upload in uploads]
    reset = None if new_upload else no_update
    try:
        reference = resolve_reference(reference_choice, own_reference_id, session_id, store)
    except ColorizerError as error:
        return page_alert(str(error)), records, reset
    photos = colorize_uploads(uploads, session_id, store, [WELSH_MODEL], reference)
    return [welsh_result_card(photo) for photo in photos], records, reset


@callback(
    Output("welsh-reference", "options", allow_duplicate=True),
    Output("welsh-reference", "value", allow_duplicate=True),
    Input({"type": "welsh-suggested-reference", "key": ALL, "name": ALL}, "n_clicks"),
    State("welsh-own-reference", "data"),
    prevent_initial_call=True,
)
def use_suggested_reference(clicks, own_reference_id):
    """A click on one of the suggested references makes it the reference: the photos are coloured from it alone."""
    session_id = current_session_id()
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the thumbnails were drawn, not clicked
    picked = library_photo(trigger["name"])
    if picked is None:
        raise PreventUpdate
    own_src = _own_reference_thumbnail(session_id, own_reference_id) if own_reference_id else None
    return reference_options(gallery(), own_src, picked), picked.name


@callback(
    Output("welsh-own-reference", "data"),
    Output("welsh-reference", "options"),
    Output("welsh-reference", "value"),
    Output("welsh-reference-feedback", "children"),
    Input("welsh-reference-upload", "contents"),
    State("welsh-reference-upload", "filename"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=4, alert_index=3)
def use_own_reference(contents, filename):
    """Keep the user's reference photo, show it in the picker and select it."""
    session_id = current_session_id()
    files = uploaded_files(contents, filename)
    if not files:
        raise PreventUpdate
    try:
        image_id = keep_reference(files[0], session_id, default_store())
    except ColorizerError as error:
        return no_update, no_update, no_update, file_alert(files[0].filename, str(error))
    options = reference_options(gallery(), result_thumbnail_url(image_id))
    note = html.Small(["Using ", html.Strong(files[0].filename), " as the reference."], className="text-success")
    return image_id, options, OWN_REFERENCE, note


def _own_reference_thumbnail(session_id: str, image_id: str) -> str | None:
    """The thumbnail URL of the session's own reference photo (None when the id is not this session's)."""
    return result_thumbnail_url(image_id) if default_store().get(session_id, image_id) is not None else None


too_large_note("welsh-upload")
too_large_note("welsh-reference-upload")


# --- Touch-up: the "Edit colours" editor on each result ------------------------------------------------------------
# A result panel is named by its model's own result id (its "slot"); each Apply shows a new result id in that panel.
TOUCHUP = WELSH_TOUCHUP
register_editor_clientside_callbacks(TOUCHUP)


def _editor_figure(target: dict, shapes: list, colour: str | None, brush: float | None, before: bool = False) -> dict:
    shown = target["original"] if before else target["result"]
    return editor_figure(result_thumbnail_url(shown), tuple(target["size"]), shapes, colour or DEFAULT_COLOUR,
                         brush or DEFAULT_BRUSH)


@callback(
    Output(f"{TOUCHUP}-modal", "is_open"),
    Output(f"{TOUCHUP}-canvas", "figure"),
    Output(f"{TOUCHUP}-target", "data"),
    Output(f"{TOUCHUP}-shapes", "data"),
    Output(f"{TOUCHUP}-title", "children"),
    Output(f"{TOUCHUP}-before", "value"),
    Output(f"{TOUCHUP}-status", "children"),
    Input({"type": f"{TOUCHUP}-open", "result": ALL}, "n_clicks"),
    State({"type": f"{TOUCHUP}-shown", "result": ALL}, "data"),
    State(f"{TOUCHUP}-colour", "value"),
    State(f"{TOUCHUP}-brush", "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=7, alert_index=6)
def open_editor(_clicks, _shown, colour, brush):
    """"Edit colours" opens the result shown in that panel large, with the strokes it was touched up with."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate  # new buttons appearing, not a click
    slot = trigger["result"]
    shown_id = next((item.get("value") for item in ctx.states_list[0] if item["id"]["result"] == slot), None) or slot
    store = default_store()
    try:  # the ids came from the browser: the store answers for this session's results only
        strokes, original_id, size = result_touch_up_state(str(shown_id), current_session_id(), store)
    except TouchUpError as error:
        return True, editor_figure("", (3, 4), []), None, [], "Edit colours", False, str(error)
    target = {"slot": slot, "result": shown_id, "original": original_id, "size": list(size)}
    shapes = shapes_from_strokes(strokes, size)
    shown = store.get(current_session_id(), shown_id)
    title = f"Edit colours: {shown.filename}" if shown is not None else "Edit colours"
    return True, _editor_figure(target, shapes, colour, brush), target, shapes, title, False, None


@callback(
    Output(f"{TOUCHUP}-canvas", "figure", allow_duplicate=True),
    Output(f"{TOUCHUP}-shapes", "data", allow_duplicate=True),
    Output(f"{TOUCHUP}-target", "data", allow_duplicate=True),
    Output(f"{TOUCHUP}-before", "value", allow_duplicate=True),
    Output(f"{TOUCHUP}-status", "children", allow_duplicate=True),
    Output({"type": f"{TOUCHUP}-image", "result": ALL}, "src"),
    Output({"type": f"{TOUCHUP}-download", "result": ALL}, "href"),
    Output({"type": f"{TOUCHUP}-shown", "result": ALL}, "data"),
    Input(f"{TOUCHUP}-apply", "n_clicks"),
    Input(f"{TOUCHUP}-undo", "n_clicks"),
    Input(f"{TOUCHUP}-clear", "n_clicks"),
    State(f"{TOUCHUP}-shapes", "data"),
    State(f"{TOUCHUP}-target", "data"),
    State(f"{TOUCHUP}-colour", "value"),
    State(f"{TOUCHUP}-brush", "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=8, alert_index=4)
def apply_strokes(_apply, _undo, _clear, shapes, target, colour, brush):
    """Apply re-colours the result from every stroke; Undo drops the last stroke and Clear all of them, and
    re-colour at once (no stroke left: the model's own result). The result's panel shows the new result."""
    if not target or not ctx.triggered_id:
        raise PreventUpdate
    shapes = shapes_after_button(TOUCHUP, ctx.triggered_id, shapes)
    size = tuple(target["size"])
    strokes = strokes_from_shapes(shapes, size)
    session_id = current_session_id()
    try:
        new_id = touch_up_result(str(target["result"]), strokes, session_id, default_store())
        _, original_id, size = result_touch_up_state(new_id, session_id, default_store())
    except (ColorizerError, ImageTooLargeToKeepError) as error:
        return no_update, no_update, no_update, no_update, str(error), no_update, no_update, no_update
    target = {**target, "result": new_id, "original": original_id}
    shapes = shapes_from_strokes(strokes, size)
    in_panel = [_only_in_slot(target["slot"], value, ctx.outputs_list[index]) for index, value in
                ((5, result_thumbnail_url(new_id)), (6, result_download_url(new_id)), (7, new_id))]
    return (_editor_figure(target, shapes, colour, brush), shapes, target, False, applied_words(strokes), *in_panel)


def _only_in_slot(slot: str, value: object, outputs: list[dict]) -> list:
    """`value` for the result panel `slot`, every other panel left as it is (`outputs`: one ALL output's list)."""
    return [value if output["id"]["result"] == slot else no_update for output in outputs]


register_before_after(TOUCHUP, _editor_figure)


@callback(Output("welsh-wait", "children"), Input("welsh-wait-poll", "n_intervals"), prevent_initial_call=True)
def show_place_in_line(_ticks):
    """While the photos are being coloured: how many others wait for the server before them."""
    return waiting_words(model_slots().position(current_session_id()))
