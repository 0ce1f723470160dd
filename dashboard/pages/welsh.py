"""Reference transfer (path /welsh): colour many photos at once from reference photos: one from our gallery, up to
five of the user's own, or ones suggested by content; by one of two methods, "Match by content" (the `exemplar`
model, the default) or "Welsh 2002" (`welsh`). Touch up any result with brush strokes ("Edit colours", the editor of
`dashboard.components.touchup_editor`)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import ColorizerError
from colorizers.references import gallery
from dashboard.guards.callback_guard import friendly_errors, unchanged_outputs
from dashboard.components.reference_picker import (
    OWN_REFERENCE_REMOVE,
    method_picker,
    own_reference_options,
    own_reference_thumbnails,
    reference_picker,
)
from dashboard.components.result_views import WELSH_TOUCHUP, file_alert, page_alert, reference_result_card
from dashboard.components.touchup_editor import (
    always_answered,
    applied_words,
    editor_figure,
    kept_result_figure,
    kept_result_target,
    editor_modal,
    queued_touch_up,
    register_editor_clientside_callbacks,
    shapes_from_strokes,
)
from dashboard.components.scrolling import register_scroll, scroll_target
from dashboard.components.upload_area import upload_area
from dashboard.jobs.photos import (
    AUTO_REFERENCE,
    MAX_OWN_REFERENCES,
    OWN_REFERENCE,
    TouchUpError,
    add_own_references,
    checked_method,
    colorize_uploads,
    keep_uploads,
    library_photo,
    own_references_from_state,
    reference_methods,
    reference_request,
    remove_own_reference,
    result_touch_up_state,
    touch_up_result,
    uploads_from_state,
    waiting_words,
)
from dashboard import settings
from dashboard.server.model_slots import model_slots
from dashboard.stores.results_store import ImageTooLargeToKeepError, default_store
from dashboard.guards.session import current_session_id
from dashboard.routes.uploads import uploaded_files
from dashboard.routes.urls import result_download_url, result_thumbnail_url

def intro() -> list:
    """Written out on the server (`dashboard.components.document`)."""
    return [
        html.H1("Reference transfer", className="h3"),
        html.P("Colours are taken from reference photos: the more alike in content (a beach for a beach, the same "
               "people, the same house), the better.", className="lead text-body-secondary"),
    ]


dash.register_page(
    __name__,
    path="/welsh",  # the page's first name; links and audits keep it
    name="Reference transfer",
    order=2,
    description="Colour your photos from reference photos, matched by content: from our gallery, up to five of "
                "your own, or ones we suggest.",
    intro=intro,
)

RESULTS_TARGET = scroll_target("#welsh-results")
# Gallery tiles drawn at first; the rest on "Show all" (every tile is drawn in the page's first render, on a phone's
# main thread too).
FIRST_TILES = 8
PLACEHOLDER = html.P("Your coloured photos will appear here.", className="text-body-secondary results-placeholder")


def layout(**_query: str) -> html.Div:
    """Built per visit, so the gallery's current photos (and the models installed) are shown."""
    photos = gallery()
    return html.Div(
        [
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
                                            html.Li("Pick another method or reference at any time: your photos "
                                                    "are coloured again with it."),
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
                                    method_picker("welsh-method", reference_methods(), checked_method(None)),
                                    reference_picker("welsh-reference", photos[:FIRST_TILES]),
                                    html.Button(f"Show all {len(photos)} gallery photos", id="welsh-gallery-more",
                                                n_clicks=0, hidden=len(photos) <= FIRST_TILES,
                                                className="btn btn-link btn-sm px-0 gallery-more"),
                                    html.Div(
                                        upload_area("welsh-reference-upload", "My own references",
                                                    f"Up to {MAX_OWN_REFERENCES} colour photos to take colours "
                                                    "from (of the same people or places is best)."),
                                        className="mt-3 own-reference-upload",
                                    ),
                                    html.Div(id="welsh-own-references-list", className="mt-2"),
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
                html.Div(PLACEHOLDER, id="welsh-results", **{"aria-live": "polite"}),  # results, said when in
                type="circle",
                overlay_style={"visibility": "visible", "opacity": 0.4},
                parent_className="results-loading",
            ),
            # Small records only (file names and ids): the images themselves stay on the server.
            dcc.Store(id="welsh-uploads", data=[]),
            dcc.Store(id="welsh-own-references", data=[]),
            dcc.Store(id="welsh-scroll"),
            editor_modal(WELSH_TOUCHUP),
        ]
    )


@callback(
    Output("welsh-results", "children"),
    Output("welsh-uploads", "data"),
    Output("welsh-upload", "contents"),
    Output("welsh-scroll", "data"),
    Input("welsh-upload", "contents"),
    Input("welsh-reference", "value"),
    Input("welsh-own-references", "data"),
    Input("welsh-method", "value"),
    State("welsh-upload", "filename"),
    State("welsh-uploads", "data"),
    running=[(Output("welsh-wait-poll", "disabled"), False, True), (Output("welsh-wait", "hidden"), False, True)],
    prevent_initial_call=True,
)
@friendly_errors(output_count=4)
def colour_photos(contents, reference_choice, own_references, method, filenames, kept):
    """New uploads are kept and coloured, and their results brought into view; a new method or reference re-colours
    the photos already uploaded (the results shown are always the current method's: each card is headed by the
    method that made it)."""
    session_id = current_session_id()
    triggers = {item["prop_id"].split(".")[0] for item in ctx.triggered}
    new_upload = "welsh-upload" in triggers
    if new_upload and contents is None:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    if triggers == {"welsh-own-references"} and reference_choice not in (OWN_REFERENCE, AUTO_REFERENCE, None):
        raise PreventUpdate  # own references changed, but a gallery photo is the reference: nothing changes
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
    scroll = RESULTS_TARGET if new_upload else no_update
    try:
        reference = reference_request(reference_choice, own_references, session_id, store)
    except ColorizerError as error:
        return page_alert(str(error)), records, reset, scroll
    photos = colorize_uploads(uploads, session_id, store, [checked_method(method)], reference)
    return [reference_result_card(photo) for photo in photos], records, reset, scroll


register_scroll("welsh-scroll")


@callback(Output("welsh-reference-feedback", "children", allow_duplicate=True), Input("welsh-reference", "value"),
          prevent_initial_call=True)
def forget_own_reference_words(choice):
    """What was said of the user's own references ("Added ... the photos are coloured from all of them") is stale
    once another reference is picked."""
    if choice == OWN_REFERENCE:
        raise PreventUpdate
    return None


def _picker_options(session_id: str, own_references: list | None, choice: str | None = None,
                    whole_gallery: bool = False) -> list[dict]:
    """The picker's options for this session's own references, keeping a library photo picked from the
    suggestions (`choice`) as a tile of its own unless its gallery tile is shown; the first FIRST_TILES gallery
    photos or, once "Show all" was used (`whole_gallery`), every one."""
    own = own_references_from_state(own_references, session_id, default_store())
    photos = gallery() if whole_gallery else gallery()[:FIRST_TILES]
    picked = library_photo(choice) if choice and choice not in (AUTO_REFERENCE, OWN_REFERENCE) else None
    if picked is not None and choice in {photo.name for photo in photos}:
        picked = None
    return own_reference_options(photos, own, picked)


@callback(
    Output("welsh-reference", "options", allow_duplicate=True),
    Output("welsh-gallery-more", "hidden"),
    Input("welsh-gallery-more", "n_clicks"),
    State("welsh-own-references", "data"),
    State("welsh-reference", "value"),
    prevent_initial_call=True,
)
def show_whole_gallery(clicks, own_references, choice):
    """"Show all": every gallery photo as a tile (the one chosen stays chosen)."""
    if not clicks:
        raise PreventUpdate
    return _picker_options(current_session_id(), own_references, choice, whole_gallery=True), True


@callback(
    Output("welsh-reference", "options", allow_duplicate=True),
    Output("welsh-reference", "value", allow_duplicate=True),
    Input({"type": "welsh-suggested-reference", "key": ALL, "name": ALL}, "n_clicks"),
    State("welsh-own-references", "data"),
    State("welsh-gallery-more", "hidden"),
    prevent_initial_call=True,
)
def use_suggested_reference(clicks, own_references, whole_gallery):
    """A click on one of the suggested references makes it the reference: the photos are coloured from it alone."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the thumbnails were drawn, not clicked
    picked = library_photo(trigger["name"])
    if picked is None:
        raise PreventUpdate
    return _picker_options(current_session_id(), own_references, picked.name, bool(whole_gallery)), picked.name


@callback(
    Output("welsh-own-references", "data"),
    Output("welsh-reference", "options"),
    Output("welsh-reference", "value"),
    Output("welsh-reference-feedback", "children"),
    Output("welsh-reference-upload", "contents"),
    Input("welsh-reference-upload", "contents"),
    State("welsh-reference-upload", "filename"),
    State("welsh-own-references", "data"),
    State("welsh-reference", "value"),
    State("welsh-gallery-more", "hidden"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=5, alert_index=3)
def add_references(contents, filenames, own_references, choice, whole_gallery):
    """Keep the user's colour photos (up to MAX_OWN_REFERENCES in all), show them and select "my own"."""
    session_id = current_session_id()
    files = uploaded_files(contents, filenames)  # bounded by the request's size; at most five are decoded
    if not files:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    kept = own_references_from_state(own_references, session_id, default_store())
    records, refused = add_own_references(files, kept, session_id, default_store())
    added = records[len(kept):]
    feedback = [file_alert(filename, message) for filename, message in refused]
    if added:
        names = [html.Strong(record.filename) for record in added]
        feedback.insert(0, html.Small(["Added ", *_joined(names), f" to your references ({len(records)} of "
                                       f"{MAX_OWN_REFERENCES}); the photos are coloured from all of them."],
                                      className="text-success d-block mb-2"))
        data = [record.to_json() for record in records]
        return data, _picker_options(session_id, data, choice, bool(whole_gallery)), OWN_REFERENCE, feedback, None
    return no_update, no_update, no_update, feedback, None


def _joined(parts: list) -> list:
    """[a, ", ", b, " and ", c] for [a, b, c]."""
    joined: list = []
    for index, part in enumerate(parts):
        if index:
            joined.append(" and " if index == len(parts) - 1 else ", ")
        joined.append(part)
    return joined


@callback(
    Output("welsh-own-references", "data", allow_duplicate=True),
    Output("welsh-reference", "options", allow_duplicate=True),
    Output("welsh-reference", "value", allow_duplicate=True),
    Output("welsh-reference-feedback", "children", allow_duplicate=True),
    Input({"type": OWN_REFERENCE_REMOVE, "image": ALL}, "n_clicks"),
    State("welsh-own-references", "data"),
    State("welsh-reference", "value"),
    State("welsh-gallery-more", "hidden"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=4, alert_index=3)
def remove_reference(clicks, own_references, choice, whole_gallery):
    """The × under one of the user's references forgets it; with none left, "Suggest for me" is chosen instead."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the buttons were drawn, not clicked
    session_id = current_session_id()
    kept = own_references_from_state(own_references, session_id, default_store())
    records = remove_own_reference(kept, str(trigger["image"]), session_id, default_store())
    if len(records) == len(kept):
        raise PreventUpdate
    data = [record.to_json() for record in records]
    value = AUTO_REFERENCE if not records and choice == OWN_REFERENCE else no_update
    return data, _picker_options(session_id, data, choice, bool(whole_gallery)), value, None


@callback(Output("welsh-own-references-list", "children"), Input("welsh-own-references", "data"),
          prevent_initial_call=True)  # none at first
def show_own_references(own_references):
    """The user's own references as thumbnails, each with its remove button."""
    return own_reference_thumbnails(own_references_from_state(own_references, current_session_id(), default_store()))


# --- Touch-up: the "Edit colours" editor on each result ------------------------------------------------------------
# A result panel is named by its model's own result id (its "slot"); each Apply shows a new result id in that panel.
TOUCHUP = WELSH_TOUCHUP
register_editor_clientside_callbacks(TOUCHUP)


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
    shapes = shapes_from_strokes(strokes, size)
    target = kept_result_target({"slot": slot, "result": shown_id, "original": original_id, "size": list(size)}, shapes)
    shown = store.get(current_session_id(), shown_id)
    title = f"Edit colours: {shown.filename}" if shown is not None else "Edit colours"
    return True, kept_result_figure(target, shapes, colour, brush), target, shapes, title, False, None


@callback(
    Output(f"{TOUCHUP}-target", "data", allow_duplicate=True),
    Output(f"{TOUCHUP}-applied", "data"),
    Output(f"{TOUCHUP}-before", "value", allow_duplicate=True),
    Output(f"{TOUCHUP}-status", "children", allow_duplicate=True),
    Output({"type": f"{TOUCHUP}-image", "result": ALL}, "src"),
    Output({"type": f"{TOUCHUP}-download", "result": ALL}, "href"),
    Output({"type": f"{TOUCHUP}-shown", "result": ALL}, "data"),
    Input(f"{TOUCHUP}-request", "data"),
    prevent_initial_call=True,
)
@always_answered(applied_index=1)
@friendly_errors(output_count=7, alert_index=3)
def apply_strokes(request):
    """Re-colour the result from the strokes on screen (Apply; Undo and Clear drop strokes first and re-colour at
    once; no stroke left: the model's own result), one re-colouring at a time (the editor queues them). The result's
    panel shows the new result."""
    target, shapes, strokes, applied = queued_touch_up(request)
    session_id = current_session_id()
    try:
        new_id = touch_up_result(str(target["result"]), strokes, session_id, default_store(),
                                 original_id=str(target["original"]))
        _, original_id, size = result_touch_up_state(new_id, session_id, default_store())
    except (ColorizerError, ImageTooLargeToKeepError) as error:  # e.g. the result expired: the editor says so
        outputs = unchanged_outputs(7)  # the result panels (pattern outputs) as they were
        outputs[1], outputs[3] = applied, str(error)
        return outputs
    target = kept_result_target({**target, "result": new_id, "original": original_id}, shapes)
    in_panel = [_only_in_slot(target["slot"], value, ctx.outputs_list[index]) for index, value in
                ((4, result_thumbnail_url(new_id)), (5, result_download_url(new_id)), (6, new_id))]
    return (target, applied, False, applied_words(strokes), *in_panel)


def _only_in_slot(slot: str, value: object, outputs: list[dict]) -> list:
    """`value` for the result panel `slot`, every other panel left as it is (`outputs`: one ALL output's list)."""
    return [value if output["id"]["result"] == slot else no_update for output in outputs]


@callback(Output("welsh-wait", "children"), Input("welsh-wait-poll", "n_intervals"), prevent_initial_call=True)
def show_place_in_line(_ticks):
    """While the photos are being coloured: how many others wait for the server before them."""
    return waiting_words(model_slots().position(current_session_id()))
