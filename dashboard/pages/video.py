"""Video (path /video): colour a black-and-white clip, automatically (a model on every frame, made steady) or from
keyframes the user colours on the spot (any model and reference, then the touch-up editor), carried through their
shots. A progress bar with the time left and a cancel button while the job runs; the latest coloured frame as it
comes; the result plays beside the original and downloads as MP4.

The page is thin: what it does lives in `dashboard.page_logic.video_page_logic` (tested without a browser) and how it looks in
`dashboard.components.video_views`; the job itself in `dashboard.jobs.videos`. Stores hold small records (ids and
facts); the clip waits in the upload inbox, images in the results store.
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import ColorizerError
from colorizers.references import gallery
from colorizers.video import MAX_CLIP_BYTES
from dashboard.guards.callback_guard import friendly_errors
from dashboard.components.reference_picker import own_reference_options, reference_picker
from dashboard.components.result_views import file_alert, page_alert
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
from dashboard.components.upload_area import upload_area
from dashboard.components.video_views import (
    KEYFRAME_REMOVE,
    SHOT_BUTTON,
    clip_drop_zone,
    clip_view,
    keyframe_list,
    limits_line,
    progress_bar,
    result_players,
)
from dashboard.jobs.photos import (
    AUTO_REFERENCE,
    OWN_REFERENCE,
    TouchUpError,
    add_own_references,
    own_references_from_state,
    reference_request,
    result_touch_up_state,
    touch_up_result,
)
from dashboard.stores.results_store import ImageTooLargeToKeepError, default_store
from dashboard.guards.session import current_session_id
from dashboard.routes.uploads import clip_kept, clip_token, forget_clip, uploaded_clip, uploaded_files
from dashboard.routes.urls import result_thumbnail_url
from dashboard.page_logic import video_page_logic as logic
from dashboard.jobs.videos import cancel_video, video_status

def intro() -> list:
    """Written out on the server (`dashboard.components.document`)."""
    return [
        html.H1("Colour a film clip", className="h3"),
        html.P("Old family films and archive clips: coloured frame by frame and kept steady, or from a frame you "
               "colour yourself, whose colour is carried through its whole shot.", className="lead text-body-secondary"),
    ]


dash.register_page(
    __name__,
    path="/video",
    name="Video",
    order=2.5,  # after Reference transfer
    description="Colour black-and-white film clips: automatically, or from a frame you colour yourself, carried "
                "through the whole shot.",
    intro=intro,
)

POLL_MILLISECONDS = 500
TOUCHUP = "video-touchup"
register_editor_clientside_callbacks(TOUCHUP)


def layout(**_query: str) -> html.Div:
    """Built per visit, so the models installed and the gallery's photos are current."""
    return html.Div([
        dbc.Card(dbc.CardBody([
            html.H2("1. Add a clip", className="h5"),
            clip_drop_zone("video-upload", MAX_CLIP_BYTES),
            limits_line(),
            _busy("video-opening", "Reading the clip: checking it and finding its shots…"),
            html.Div(id="video-clip-feedback", className="mt-2"),
            dcc.Loading(html.Div(id="video-clip-view", className="mt-3"), type="circle",
                        overlay_style={"visibility": "visible", "opacity": 0.4}),
        ]), class_name="shadow-sm mb-3"),
        html.Div([_choice_card(), _colour_card()], id="video-steps", hidden=True),
        dcc.Store(id="video-clip"),
        dcc.Store(id="video-candidate"),
        dcc.Store(id="video-keyframes", data=[]),
        dcc.Store(id="video-own-references", data=[]),
        dcc.Store(id="video-job"),
        dcc.Interval(id="video-poll", interval=POLL_MILLISECONDS, disabled=True),
        editor_modal(TOUCHUP),
    ])


def _busy(component_id: str, words: str) -> html.Div:
    """A line shown while a slow callback runs (its `running` shows it)."""
    return html.Div([dbc.Spinner(size="sm", spinner_class_name="me-2"), words], id=component_id, hidden=True,
                    className="small text-body-secondary mt-2", role="status")


def _choice_card() -> dbc.Card:
    mode = html.Div([
        html.Div("How to colour it", id="video-mode-label", className="fw-semibold small mb-1"),
        html.Div(dbc.RadioItems(
            id="video-mode",
            options=[{"label": "Automatically: the model on every frame, kept steady", "value": logic.AUTOMATIC},
                     {"label": "From keyframes: colour a frame yourself; its colour is carried through its shot",
                      "value": logic.KEYFRAMES}],
            value=logic.AUTOMATIC,
        ), role="radiogroup", **{"aria-labelledby": "video-mode-label"}),
    ], className="mb-3")
    model = html.Div([
        dbc.Label("Model", html_for="video-model", class_name="fw-semibold small mb-1"),
        dbc.Select(id="video-model", options=logic.model_options(), value=logic.default_model(),
                   class_name="video-model"),
        html.Small("Colours every frame in automatic mode; with keyframes, colours the frame you pick and the "
                   "shots that have no keyframe.", className="text-body-secondary d-block"),
    ], className="mb-3")
    reference = html.Div([
        html.Div("Reference photo (for the models that copy colour from one)", className="fw-semibold small mb-1"),
        reference_picker("video-reference", gallery()),
        html.Div(upload_area("video-reference-upload", "My own reference",
                             "A colour photo of the same people or places."),
                 className="mt-2 own-reference-upload"),
        html.Div(id="video-reference-feedback", className="mt-2"),
    ], id="video-reference-panel", hidden=True, className="mb-3")
    keyframes = html.Div([
        html.H3("Keyframes", className="h6"),
        dbc.Row([
            dbc.Col([dbc.Label("Frame number", html_for="video-frame", class_name="small fw-semibold mb-1"),
                     dbc.Input(id="video-frame", type="number", min=0, step=1, value=0, size="sm")], xs=6, md=4),
            dbc.Col(dbc.Button("Colour this frame", id="video-colour-frame", n_clicks=0, color="primary", size="sm"),
                    xs=6, md=8, class_name="d-flex align-items-end"),
        ], class_name="g-2 mb-2"),
        _busy("video-colouring", "Colouring the frame…"),
        html.Div(id="video-keyframe-feedback", role="status"),
        dcc.Loading(html.Div([
            html.Figure([
                html.Img(id="video-candidate-image", alt="The frame as coloured", className="img-fluid rounded"),
                html.Figcaption(id="video-candidate-caption", className="small text-body-secondary"),
            ], className="mb-1"),
            dbc.Button("Edit colours", id="video-candidate-edit", n_clicks=0, color="secondary", outline=True,
                       size="sm", class_name="me-2 touchup-open"),
            dbc.Button("Keep as keyframe", id="video-keep", n_clicks=0, color="success", size="sm"),
        ], id="video-candidate-panel", hidden=True, className="video-candidate mb-3"), type="circle"),
        html.Div(id="video-keyframes-list"),
        html.P(id="video-fallback-note", className="small text-body-secondary mb-0", role="note"),
    ], id="video-keyframe-panel", hidden=True)
    return dbc.Card(dbc.CardBody([html.H2("2. Choose how it is coloured", className="h5"), mode, model, reference,
                                  keyframes]), class_name="shadow-sm mb-3")


def _colour_card() -> dbc.Card:
    return dbc.Card(dbc.CardBody([
        html.H2("3. Colour the clip", className="h5"),
        html.Div([dbc.Button("Start colouring", id="video-start", n_clicks=0, color="primary", class_name="me-2"),
                  dbc.Button("Cancel", id="video-cancel", n_clicks=0, color="secondary", outline=True,
                             disabled=True)], className="mb-2"),
        _busy("video-starting", "Sending the clip to be coloured…"),
        html.Div(id="video-start-feedback", role="status"),
        html.Div([
            html.Div(id="video-progress-area"),
            html.Figure([html.Img(id="video-preview", alt="The latest coloured frame",
                                  className="img-fluid rounded video-preview"),
                         html.Figcaption("The latest coloured frame", className="small text-body-secondary")],
                        id="video-preview-panel", hidden=True, className="mt-2"),
        ], id="video-progress-panel", hidden=True),
        html.Div(id="video-result-area", className="mt-3"),
    ]), class_name="shadow-sm mb-3")


# --- The clip -------------------------------------------------------------------------------------------------------

@callback(
    Output("video-clip", "data"),
    Output("video-clip-feedback", "children"),
    Output("video-upload", "contents"),
    Output("video-keyframes", "data"),
    Output("video-candidate", "data"),
    Output("video-job", "data"),
    Output("video-frame", "value"),
    Input("video-upload", "contents"),
    State("video-upload", "filename"),
    State("video-clip", "data"),
    State("video-candidate", "data"),
    State("video-keyframes", "data"),
    State("video-job", "data"),
    running=[(Output("video-opening", "hidden"), False, True)],
    prevent_initial_call=True,
)
@friendly_errors(output_count=7, alert_index=1)
def open_clip(contents, filename, old_clip, old_candidate, old_keyframes, old_job):
    """A new clip is checked and its shots found; it replaces the page's clip, its keyframes and its job."""
    file = uploaded_clip(contents, filename)
    if file is None:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    session_id, store = current_session_id(), default_store()
    token = clip_token(contents[0] if isinstance(contents, list) else contents)
    try:
        clip = logic.open_clip(file, token or "", session_id, store)
    except ColorizerError as error:
        if token:
            forget_clip(token)  # a clip we cannot colour is not kept
        return no_update, file_alert(file.filename, str(error)), None, no_update, no_update, no_update, no_update
    previous = logic.ClipRecord.from_json(old_clip)
    keyframes = logic.keyframes_from_state(old_keyframes, previous, session_id, store)
    logic.drop_candidate(logic.Candidate.from_json(old_candidate), [], session_id, store)
    for keyframe in keyframes:
        store.discard(session_id, keyframe.image_id)
    if previous is not None and previous.token != clip.token:
        forget_clip(previous.token)
    job = logic.checked_job(old_job)
    if job is not None:
        cancel_video(session_id, job)
    return clip.to_json(), None, None, [], None, None, 0


@callback(
    Output("video-clip-view", "children"),
    Output("video-steps", "hidden"),
    Output("video-frame", "max"),
    Input("video-clip", "data"),
)
def show_clip(clip_data):
    clip = logic.ClipRecord.from_json(clip_data)
    if clip is None:
        return None, True, None
    return clip_view(clip), False, clip.frame_count - 1


@callback(
    Output("video-frame", "value", allow_duplicate=True),
    Output("video-mode", "value"),
    Input({"type": SHOT_BUTTON, "index": ALL}, "n_clicks"),
    State("video-clip", "data"),
    prevent_initial_call=True,
)
def pick_shot(clicks, clip_data):
    """A shot in the strip picks its first frame to colour (and switches to keyframes)."""
    trigger = ctx.triggered_id
    clip = logic.ClipRecord.from_json(clip_data)
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value") or clip is None:
        raise PreventUpdate  # the strip was drawn, not clicked
    index = trigger.get("index")
    if not isinstance(index, int) or not 0 <= index < len(clip.shots):
        raise PreventUpdate
    return clip.shots[index][0], logic.KEYFRAMES


@callback(
    Output("video-keyframe-panel", "hidden"),
    Output("video-reference-panel", "hidden"),
    Input("video-mode", "value"),
    Input("video-model", "value"),
)
def show_choices(mode, model):
    return logic.checked_mode(mode) != logic.KEYFRAMES, not logic.uses_reference(model)


# --- The reference ----------------------------------------------------------------------------------------------

@callback(
    Output("video-own-references", "data"),
    Output("video-reference", "options"),
    Output("video-reference", "value"),
    Output("video-reference-feedback", "children"),
    Output("video-reference-upload", "contents"),
    Input("video-reference-upload", "contents"),
    State("video-reference-upload", "filename"),
    State("video-own-references", "data"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=5, alert_index=3)
def add_reference(contents, filenames, own_references):
    """The user's own colour photo becomes the reference (it replaces one added before)."""
    session_id, store = current_session_id(), default_store()
    files = uploaded_files(contents, filenames, max_files=1)
    if not files:
        raise PreventUpdate  # our own reset of the upload
    records, refused = add_own_references(files, [], session_id, store)
    feedback = [file_alert(filename, message) for filename, message in refused]
    if not records:
        return no_update, no_update, no_update, feedback, None
    for old in own_references_from_state(own_references, session_id, store):
        store.discard(session_id, old.image_id)
    data = [record.to_json() for record in records]
    feedback.insert(0, html.Small(f"{records[0].filename} is the reference now.", className="text-success"))
    return data, own_reference_options(gallery(), records), OWN_REFERENCE, feedback, None


def _reference(choice, own_references, session_id):
    return reference_request(choice if isinstance(choice, str) else AUTO_REFERENCE, own_references, session_id,
                             default_store())


# --- Keyframes: colour a frame, touch it up, keep it ------------------------------------------------------------

@callback(
    Output("video-candidate", "data", allow_duplicate=True),
    Output("video-keyframe-feedback", "children"),
    Input("video-colour-frame", "n_clicks"),
    State("video-frame", "value"),
    State("video-clip", "data"),
    State("video-model", "value"),
    State("video-reference", "value"),
    State("video-own-references", "data"),
    State("video-candidate", "data"),
    State("video-keyframes", "data"),
    running=[(Output("video-colour-frame", "disabled"), True, False),
             (Output("video-colouring", "hidden"), False, True)],
    prevent_initial_call=True,
)
@friendly_errors(output_count=2, alert_index=1)
def colour_frame(clicks, frame_value, clip_data, model, choice, own_references, old_candidate, keyframe_data):
    """The frame picked is coloured now with the model (and reference) chosen, ready to touch up and keep."""
    if not clicks:
        raise PreventUpdate
    session_id, store = current_session_id(), default_store()
    clip = logic.ClipRecord.from_json(clip_data)
    try:
        frame = logic.checked_frame(frame_value, clip)
        model = logic.checked_model(model)
        request = _reference(choice, own_references, session_id)
        keyframes = logic.keyframes_from_state(keyframe_data, clip, session_id, store)
        logic.drop_candidate(logic.Candidate.from_json(old_candidate), keyframes, session_id, store)
        candidate = logic.colour_frame(clip, frame, model, request, session_id, store)
    except (ColorizerError, ImageTooLargeToKeepError) as error:
        return None, page_alert(str(error))
    return candidate.to_json(), None


@callback(
    Output("video-candidate-panel", "hidden"),
    Output("video-candidate-image", "src"),
    Output("video-candidate-caption", "children"),
    Input("video-candidate", "data"),
    State("video-clip", "data"),
)
def show_candidate(candidate_data, clip_data):
    candidate = logic.Candidate.from_json(candidate_data)
    clip = logic.ClipRecord.from_json(clip_data)
    if candidate is None or clip is None:
        return True, None, None
    return (False, result_thumbnail_url(candidate.result_id),
            f"Frame {candidate.frame} (shot {candidate.shot + 1}) coloured with {logic.model_title(candidate.model)}. "
            "Edit its colours if need be, then keep it as the shot's keyframe.")


@callback(
    Output("video-keyframes", "data", allow_duplicate=True),
    Output("video-candidate", "data", allow_duplicate=True),
    Output("video-keyframe-feedback", "children", allow_duplicate=True),
    Input("video-keep", "n_clicks"),
    State("video-candidate", "data"),
    State("video-keyframes", "data"),
    State("video-clip", "data"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=3, alert_index=2)
def keep_keyframe(clicks, candidate_data, keyframe_data, clip_data):
    """The coloured frame (as touched up) becomes a keyframe of its shot."""
    candidate = logic.Candidate.from_json(candidate_data)
    clip = logic.ClipRecord.from_json(clip_data)
    if not clicks or candidate is None or clip is None:
        raise PreventUpdate
    session_id, store = current_session_id(), default_store()
    keyframes = logic.keyframes_from_state(keyframe_data, clip, session_id, store)
    try:
        kept, words = logic.keep_keyframe(keyframes, candidate, clip, session_id, store)
    except ColorizerError as error:
        return no_update, no_update, page_alert(str(error))
    replaced = {keyframe.image_id for keyframe in keyframes} - {keyframe.image_id for keyframe in kept}
    for image_id in replaced:
        store.discard(session_id, image_id)
    return ([keyframe.to_json() for keyframe in kept], None,
            html.Small(words, className="text-success d-block mb-2 video-kept"))


@callback(
    Output("video-keyframes", "data", allow_duplicate=True),
    Input({"type": KEYFRAME_REMOVE, "frame": ALL}, "n_clicks"),
    State("video-keyframes", "data"),
    State("video-clip", "data"),
    prevent_initial_call=True,
)
def remove_keyframe(clicks, keyframe_data, clip_data):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the buttons were drawn, not clicked
    session_id, store = current_session_id(), default_store()
    keyframes = logic.keyframes_from_state(keyframe_data, logic.ClipRecord.from_json(clip_data), session_id, store)
    left = logic.without_keyframe(keyframes, trigger.get("frame"))
    if len(left) == len(keyframes):
        raise PreventUpdate
    for keyframe in keyframes:
        if keyframe not in left:
            store.discard(session_id, keyframe.image_id)
    return [keyframe.to_json() for keyframe in left]


@callback(
    Output("video-keyframes-list", "children"),
    Output("video-fallback-note", "children"),
    Input("video-keyframes", "data"),
    Input("video-model", "value"),
    Input("video-clip", "data"),
)
def show_keyframes(keyframe_data, model, clip_data):
    clip = logic.ClipRecord.from_json(clip_data)
    if clip is None:
        return None, None
    keyframes = logic.keyframes_from_state(keyframe_data, clip, current_session_id(), default_store())
    return keyframe_list(keyframes), logic.fallback_note(keyframes, clip, str(model))


# --- Touch-up of the coloured frame (the site's editor) -----------------------------------------------------------

@callback(
    Output(f"{TOUCHUP}-modal", "is_open"),
    Output(f"{TOUCHUP}-canvas", "figure"),
    Output(f"{TOUCHUP}-target", "data"),
    Output(f"{TOUCHUP}-shapes", "data"),
    Output(f"{TOUCHUP}-title", "children"),
    Output(f"{TOUCHUP}-before", "value"),
    Output(f"{TOUCHUP}-status", "children"),
    Input("video-candidate-edit", "n_clicks"),
    State("video-candidate", "data"),
    State(f"{TOUCHUP}-colour", "value"),
    State(f"{TOUCHUP}-brush", "value"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=7, alert_index=6)
def open_editor(clicks, candidate_data, colour, brush):
    """"Edit colours" opens the coloured frame large, with the strokes it was touched up with."""
    candidate = logic.Candidate.from_json(candidate_data)
    if not clicks or candidate is None:
        raise PreventUpdate
    try:  # the ids came from the browser: the store answers for this session's results only
        strokes, original_id, size = result_touch_up_state(candidate.result_id, current_session_id(),
                                                           default_store())
    except TouchUpError as error:
        return True, editor_figure("", (3, 4), []), None, [], "Edit colours", False, str(error)
    shapes = shapes_from_strokes(strokes, size)
    target = kept_result_target({"slot": "candidate", "result": candidate.result_id, "original": original_id,
                                 "size": list(size)}, shapes)
    return (True, kept_result_figure(target, shapes, colour, brush), target, shapes,
            f"Edit colours: frame {candidate.frame}", False, None)


@callback(
    Output(f"{TOUCHUP}-target", "data", allow_duplicate=True),
    Output(f"{TOUCHUP}-applied", "data"),
    Output(f"{TOUCHUP}-before", "value", allow_duplicate=True),
    Output(f"{TOUCHUP}-status", "children", allow_duplicate=True),
    Output("video-candidate", "data", allow_duplicate=True),
    Input(f"{TOUCHUP}-request", "data"),
    State("video-candidate", "data"),
    prevent_initial_call=True,
)
@always_answered(applied_index=1)
@friendly_errors(output_count=5, alert_index=3)
def apply_strokes(request, candidate_data):
    """Re-colour the frame from the strokes on screen (Apply; Undo and Clear drop strokes first and re-colour at
    once), one re-colouring at a time (the editor queues them). The coloured frame shown (and kept, if kept later)
    is the touched-up one."""
    target, shapes, strokes, applied = queued_touch_up(request)
    candidate = logic.Candidate.from_json(candidate_data)
    if candidate is None:
        return no_update, applied, no_update, no_update, no_update
    session_id = current_session_id()
    try:
        new_id = touch_up_result(candidate.result_id, strokes, session_id, default_store(),
                                 original_id=str(target["original"]))
        _, original_id, size = result_touch_up_state(new_id, session_id, default_store())
    except (ColorizerError, ImageTooLargeToKeepError) as error:
        return no_update, applied, no_update, str(error), no_update
    target = kept_result_target({**target, "result": new_id, "original": original_id}, shapes)
    moved = logic.Candidate(candidate.frame, candidate.shot, new_id, original_id, candidate.model, candidate.size)
    return target, applied, False, applied_words(strokes), moved.to_json()


# --- The job: start, progress, cancel, result ---------------------------------------------------------------------

@callback(
    Output("video-job", "data", allow_duplicate=True),
    Output("video-start-feedback", "children"),
    Input("video-start", "n_clicks"),
    State("video-clip", "data"),
    State("video-mode", "value"),
    State("video-model", "value"),
    State("video-reference", "value"),
    State("video-own-references", "data"),
    State("video-keyframes", "data"),
    running=[(Output("video-start", "disabled"), True, False), (Output("video-starting", "hidden"), False, True)],
    prevent_initial_call=True,
)
@friendly_errors(output_count=2, alert_index=1)
def start(clicks, clip_data, mode, model, choice, own_references, keyframe_data):
    """The clip goes to the video jobs, with the keyframes' pixels in keyframe mode."""
    if not clicks:
        raise PreventUpdate
    session_id, store = current_session_id(), default_store()
    clip = logic.ClipRecord.from_json(clip_data)
    mode = logic.checked_mode(mode)
    try:
        model = logic.checked_model(model)
        reference = logic.video_reference(model, mode, choice, _reference(choice, own_references, session_id))
        keyframes = logic.keyframes_from_state(keyframe_data, clip, session_id, store)
        job = logic.start_colouring(clip, mode, model, reference, keyframes, session_id, store)
    except ColorizerError as error:  # a bad choice, an expired clip, or a video of this visitor still running
        return no_update, page_alert(str(error))
    return job, None


@callback(
    Output("video-progress-area", "children"),
    Output("video-progress-panel", "hidden"),
    Output("video-preview", "src"),
    Output("video-preview-panel", "hidden"),
    Output("video-result-area", "children"),
    Output("video-poll", "disabled"),
    Output("video-cancel", "disabled"),
    Input("video-poll", "n_intervals"),
    Input("video-job", "data"),
    State("video-clip", "data"),
    State("video-preview", "src"),
)
def show_progress(_ticks, job_data, clip_data, shown_preview):
    """Polled while a job runs: the bar, frames done and time left, the latest frame; the result once done."""
    job = logic.checked_job(job_data)
    if job is None:
        return None, True, None, True, None, True, True
    view = logic.progress_view(job, video_status(current_session_id(), job))
    preview = view.preview if view.preview != shown_preview else no_update
    if not view.polling:
        clip = logic.ClipRecord.from_json(clip_data)
        playable = clip is not None and clip_kept(clip.token)  # a large clip may have made room for the job's
        result = result_players(clip, view, original_playable=playable)
    else:  # a new job clears the last one's result; ticks leave the area alone
        result = None if ctx.triggered_id == "video-job" else no_update
    return (progress_bar(view), False, preview, view.preview is None, result, not view.polling,
            not view.cancellable)


@callback(
    Output("video-start-feedback", "children", allow_duplicate=True),
    Input("video-cancel", "n_clicks"),
    State("video-job", "data"),
    prevent_initial_call=True,
)
def cancel(clicks, job_data):
    job = logic.checked_job(job_data)
    if not clicks or job is None:
        raise PreventUpdate
    cancel_video(current_session_id(), job)
    return html.Small("Cancelling…", className="text-body-secondary")
