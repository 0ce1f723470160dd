"""The drag-and-drop zone used for photos and references, with a check in the browser of what one drop sends."""
from __future__ import annotations

from dash import Input, Output, clientside_callback, dcc, html

from colorizers import settings

ACCEPTED_TYPES = "image/*,.png,.jpg,.jpeg,.webp,.gif,.tif,.tiff,.bmp"


def upload_area(component_id: str, title: str, hint: str, multiple: bool = True) -> html.Div:
    """A `dcc.Upload` drop zone; with `multiple` every dropped file arrives (as lists) in one callback.
    Pages call `too_large_note(component_id)` once at import for the note under it."""
    return html.Div([_drop_zone(component_id, title, hint, multiple),
                     html.Div(id=f"{component_id}-too-large", className="text-danger small mt-1", role="alert")])


def too_large_note(component_id: str) -> None:
    """Say in the browser when one drop is more than the server takes in one request (it refuses such a request
    before the app sees it, so the page would otherwise hear nothing back)."""
    clientside_callback(
        f"""
        function (contents) {{
            const files = Array.isArray(contents) ? contents : (contents ? [contents] : []);
            const total = files.reduce((sum, file) => sum + (file ? file.length : 0), 0);
            if (total <= {_DROP_LIMIT_CHARACTERS}) {{ return ""; }}
            const megabytes = Math.round(total * 3 / 4 / 1e6);
            return `These files add up to about ${{megabytes}} MB, more than the {_DROP_LIMIT_MB} MB this site takes in `
                + "one go. Please add them a few at a time.";
        }}
        """,
        Output(f"{component_id}-too-large", "children"),
        Input(component_id, "contents"),
        prevent_initial_call=True,
    )


# The browser sends files as base64 (4 characters per 3 bytes) inside JSON; leave room for the rest of the request.
_DROP_LIMIT_CHARACTERS = settings.MAX_REQUEST_BYTES - 256 * 1024
_DROP_LIMIT_MB = int(_DROP_LIMIT_CHARACTERS * 3 / 4 / 1e6)


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
                html.Div([html.Strong(title), " — drop here or ", html.Span("browse", className="link-primary")]),
                html.Small(hint, className="text-body-secondary"),
            ]
        ),
    )
