"""The drag-and-drop zone used for photos and references.

What is dropped or chosen there is sent to POST /uploads by `assets/uploads.js` (never read by dcc.Upload itself,
which would send the files as base64 inside a callback): the script checks the files' sizes first, shows
"Uploading…" and any error in the zone's status line (`.upload-status`, the element after the zone), then sets
the dcc.Upload's `contents` to the files' tokens and `filename` to their names.
"""
from __future__ import annotations

from dash import dcc, html

ACCEPTED_TYPES = "image/*,.png,.jpg,.jpeg,.webp,.gif,.tif,.tiff,.bmp"
# The drop zone's room is kept before dcc.Upload renders (assets/document.css).
UPLOAD_AREA_CLASS = "upload-area"


def zone_words(title: str) -> html.Div:
    """A drop zone's title, then "drop here or browse" where a mouse can drop and "tap to choose" on touch screens
    (which of the two shows is up to assets/home.css)."""
    return html.Div([html.Strong(title), " — ",
                     html.Span(["drop here or ", html.Span("browse", className="link-primary")],
                               className="upload-words-pointer"),
                     html.Span(html.Span("tap to choose", className="link-primary"), className="upload-words-touch")])


def upload_area(component_id: str, title: str, hint: str, multiple: bool = True) -> html.Div:
    """A `dcc.Upload` drop zone; with `multiple` every dropped file arrives (as lists) in one callback."""
    return html.Div([_drop_zone(component_id, title, hint, multiple), upload_status(f"{component_id}-too-large")],
                    className=UPLOAD_AREA_CLASS)


def upload_status(status_id: str | dict | None = None) -> html.Div:
    """The line under a drop zone where assets/uploads.js says "Uploading…" or what went wrong."""
    extra = {} if status_id is None else {"id": status_id}
    return html.Div(className="upload-status text-danger small mt-1", role="alert", **extra)


def _drop_zone(component_id: str, title: str, hint: str, multiple: bool) -> dcc.Upload:
    return dcc.Upload(
        id=component_id,
        multiple=multiple,
        accept=ACCEPTED_TYPES,
        className="upload-zone",
        className_active="upload-zone upload-zone-active",
        children=html.Div(
            [
                html.Div("⇪", className="upload-zone-icon", **{"aria-hidden": "true"}),
                zone_words(title),
                html.Small(hint, className="text-body-secondary"),
            ]
        ),
    )
