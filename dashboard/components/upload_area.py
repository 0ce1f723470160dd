"""The drag-and-drop zone used for photos and references."""
from __future__ import annotations

from dash import dcc, html

ACCEPTED_TYPES = "image/*,.png,.jpg,.jpeg,.webp,.gif,.tif,.tiff,.bmp"


def upload_area(component_id: str, title: str, hint: str, multiple: bool = True) -> dcc.Upload:
    """A `dcc.Upload` drop zone; with `multiple` every dropped file arrives (as lists) in one callback."""
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
