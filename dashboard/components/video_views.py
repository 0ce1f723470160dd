"""How the Video page looks: the clip's drop zone, its first frame and strip of shots, the kept keyframes, the
progress bar and the result beside the original. Pure functions of the page's records (`dashboard.
video_page_logic`); images are `<img>`s on the server's routes, clips `<video>`s on theirs."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from colorizers.video import LIMITS_SENTENCE

from ..settings import video_request_max_bytes
from ..routes.uploads import VIDEO_KIND, clip_url
from ..routes.urls import result_thumbnail_url
from ..page_logic.video_page_logic import (
    ACCEPTED_VIDEO_TYPES,
    ClipRecord,
    Keyframe,
    ProgressView,
    clip_facts,
    shot_label,
)
from .upload_area import UPLOAD_AREA_CLASS, upload_status, zone_words

SHOT_BUTTON = "video-shot"  # pattern id type of the strip's shots: {"type": SHOT_BUTTON, "index": i}
KEYFRAME_REMOVE = "video-keyframe-remove"  # {"type": KEYFRAME_REMOVE, "frame": n}


def clip_drop_zone(component_id: str, max_clip_bytes: int) -> html.Div:
    """The clip's drop zone: one file, sent by assets/uploads.js to POST /uploads?kind=video with the clip limits
    (the `data-*` attributes), its "Uploading… n%" and errors in the status line under it."""
    zone = dcc.Upload(
        id=component_id,
        multiple=False,
        accept=ACCEPTED_VIDEO_TYPES,
        className="upload-zone",
        className_active="upload-zone upload-zone-active",
        children=html.Div([
            html.Div("⇪", className="upload-zone-icon", **{"aria-hidden": "true"}),
            zone_words("A black-and-white clip"),
            html.Small("MP4, WebM, MOV, MPEG, AVI or animated GIF.", className="text-body-secondary"),
        ]),
    )
    return html.Div(
        [zone, upload_status(f"{component_id}-too-large")],
        className=UPLOAD_AREA_CLASS,
        **{"data-upload-kind": VIDEO_KIND, "data-max-file-bytes": str(max_clip_bytes),
           "data-max-request-bytes": str(video_request_max_bytes())},
    )


def limits_line() -> html.P:
    return html.P(LIMITS_SENTENCE, id="video-limits", className="small text-body-secondary mt-2 mb-0")


def clip_view(clip: ClipRecord) -> html.Div:
    """The clip's first frame with its facts, then its strip of shots (a button each: pick it as a keyframe)."""
    first = html.Figure(
        [html.Img(src=result_thumbnail_url(clip.first_frame_id), id="video-first-frame",
                  alt=f"The first frame of {clip.filename}", className="img-fluid rounded video-first-frame"),
         html.Figcaption([html.Strong(clip.filename), html.Br(), clip_facts(clip)],
                         className="small text-body-secondary mt-1", id="video-clip-facts")],
        className="mb-2",
    )
    return html.Div([first, shot_strip(clip)])


def shot_strip(clip: ClipRecord) -> html.Div:
    """One button per shot (its first frame): a click picks that frame to colour as the shot's keyframe."""
    shots = [
        html.Li(html.Button(
            [html.Img(src=result_thumbnail_url(image_id), alt="", className="video-shot-image"),
             html.Span(f"Shot {index + 1}", className="video-shot-caption")],
            id={"type": SHOT_BUTTON, "index": index}, n_clicks=0, type="button",
            className="video-shot btn btn-outline-secondary p-1",
            title=shot_label(clip, index), **{"aria-label": f"{shot_label(clip, index)}: colour its first frame"},
        ))
        for index, image_id in enumerate(clip.shot_image_ids)
    ]
    return html.Div([
        html.Div(f"Shots ({len(shots)}): pick one to colour its first frame as its keyframe",
                 id="video-shots-label", className="small fw-semibold mb-1"),
        html.Ul(shots, className="video-shots list-unstyled d-flex gap-2 mb-0",
                **{"aria-labelledby": "video-shots-label"}),
    ])


def keyframe_list(keyframes: list[Keyframe]) -> html.Div:
    """The kept keyframes as thumbnails (frame and shot under each), each with a remove button."""
    if not keyframes:
        return html.Div()
    items = [
        html.Li([
            html.Img(src=result_thumbnail_url(keyframe.image_id), alt=f"Keyframe: frame {keyframe.frame}",
                     className="video-keyframe-image rounded"),
            html.Span(f"Frame {keyframe.frame} · shot {keyframe.shot + 1}", className="small d-block"),
            html.Button("×", id={"type": KEYFRAME_REMOVE, "frame": keyframe.frame}, n_clicks=0, type="button",
                        className="btn btn-sm btn-outline-secondary video-keyframe-remove",
                        title=f"Remove the keyframe of frame {keyframe.frame}",
                        **{"aria-label": f"Remove the keyframe of frame {keyframe.frame}"}),
        ], className="video-keyframe")
        for keyframe in keyframes
    ]
    return html.Div([html.Div(f"Keyframes kept ({len(keyframes)})", className="small fw-semibold mb-1"),
                     html.Ul(items, className="video-keyframes list-unstyled d-flex flex-wrap gap-2 mb-1")])


def progress_bar(view: ProgressView) -> html.Div:
    """A Bootstrap progress bar of frames coloured, with its words."""
    bar = html.Div(
        html.Div(view.frames, className="progress-bar" + (" bg-danger" if view.failed else ""),
                 style={"width": f"{view.percent}%"}),
        className="progress video-progress", role="progressbar",
        **{"aria-label": "Frames coloured", "aria-valuenow": str(view.percent), "aria-valuemin": "0",
           "aria-valuemax": "100", "aria-valuetext": view.frames or "not started"},
    )
    return html.Div([bar, html.Div(view.status, id="video-progress-text", className="small mt-1",
                                   role="status", **{"aria-live": "polite"})])


def result_players(clip: ClipRecord | None, view: ProgressView, original_playable: bool = True) -> html.Div:
    """The coloured clip beside the original (or its first frame, when browsers cannot play the original or the
    server no longer keeps it: `original_playable`), and the MP4's download link; nothing until the result is
    ready."""
    if view.result is None:
        return html.Div()
    if clip is not None and clip.media_type and original_playable:
        original = html.Video(src=clip_url(clip.token), id="video-original", controls=True,
                              preload="metadata", muted=True, className="video-player",
                              **{"aria-label": f"The original clip, {clip.filename}"})
    elif clip is not None:
        original = html.Img(src=result_thumbnail_url(clip.first_frame_id), id="video-original-frame",
                            alt=f"The first frame of the original clip, {clip.filename}",
                            className="img-fluid rounded")
    else:
        original = html.Div()
    result = html.Video(src=view.result, id="video-result", controls=True, preload="metadata",
                        className="video-player", **{"aria-label": "The coloured clip"})
    download = html.A("Download MP4", href=view.download, id="video-download", download=view.download_name or "",
                      className="btn btn-primary btn-sm mt-2", role="button")
    return dbc.Row([
        dbc.Col(html.Figure([original, html.Figcaption("Original", className="small text-body-secondary")]),
                xs=12, md=6),
        dbc.Col(html.Figure([result, html.Figcaption(["Coloured", html.Br(), download],
                                                     className="small text-body-secondary")]), xs=12, md=6),
    ], class_name="g-3 video-result-row")
