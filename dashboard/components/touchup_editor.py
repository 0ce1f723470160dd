"""The touch-up editor: a result shown large in a Plotly figure the user paints brush strokes on (Plotly's own
`drawopenpath` drawing, mouse or finger), a palette of common colours and a picker, a brush size, undo and clear,
before/after, and apply. The strokes are Plotly path shapes in the browser and `colorizers.Stroke`s on the server;
the pure functions here convert between the two (the figure's axes are the photo's full-resolution pixels).
"""
from __future__ import annotations

import re
from collections.abc import Callable

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html
from dash.exceptions import PreventUpdate

from colorizers import Stroke

from ..urls import result_thumbnail_url

# Colours people most often need to put right, as sRGB hex.
PALETTE = (
    ("Sky", "#7fb2e5"),
    ("Deep sky", "#2f62b0"),
    ("Foliage", "#3f7a35"),
    ("Grass", "#8cbf4a"),
    ("Fair skin", "#ecc3a5"),
    ("Tan skin", "#c98e67"),
    ("Dark skin", "#7b4c33"),
    ("Brick", "#a6432b"),
    ("Denim", "#3d5d94"),
    ("Sand", "#d9c18b"),
    ("Wood", "#8b5a2b"),
    ("Red", "#c8281e"),
    ("Yellow", "#f2c12e"),
    ("Gray", "#808080"),
)
DEFAULT_COLOUR = PALETTE[11][1]
DEFAULT_BRUSH = 10  # screen pixels
CANVAS_MAX_WIDTH = 760
CANVAS_MAX_HEIGHT = 520
_PATH_POINT = re.compile(r"(-?\d+(?:\.\d+)?(?:e-?\d+)?),(-?\d+(?:\.\d+)?(?:e-?\d+)?)")


def canvas_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) in screen pixels of the drawing area for a photo of size (height, width)."""
    height, width = size
    scale = min(CANVAS_MAX_WIDTH / width, CANVAS_MAX_HEIGHT / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def photo_pixels_per_screen_pixel(size: tuple[int, int]) -> float:
    return size[1] / canvas_size(size)[0]


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """"#rrggbb" (or "#rgb", or "rgb(r, g, b)" as Plotly may write it) to (r, g, b); ValueError otherwise."""
    colour = colour.strip()
    if colour.startswith("rgb"):
        values = [int(float(part)) for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        return tuple(max(0, min(255, value)) for value in values)  # type: ignore[return-value]
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    if len(digits) != 6:
        raise ValueError(f"not a colour: {colour!r}")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{int(channel):02x}" for channel in rgb)


def strokes_from_shapes(shapes: list[dict] | None, size: tuple[int, int]) -> list[Stroke]:
    """Plotly path shapes (in photo pixels; line width in screen pixels) to strokes; anything else is skipped."""
    scale = photo_pixels_per_screen_pixel(size)
    strokes = []
    for shape in shapes or []:
        if not isinstance(shape, dict) or shape.get("type", "path") != "path":
            continue
        points = tuple((float(x), float(y)) for x, y in _PATH_POINT.findall(str(shape.get("path", ""))))
        line = shape.get("line") or {}
        try:
            rgb = hex_to_rgb(str(line.get("color", DEFAULT_COLOUR)))
            width = float(line.get("width", DEFAULT_BRUSH)) * scale
        except (TypeError, ValueError):
            continue
        if points:
            strokes.append(Stroke(points, rgb, max(1.0, width)))
    return strokes


def shapes_from_strokes(strokes: tuple[Stroke, ...] | list[Stroke], size: tuple[int, int]) -> list[dict]:
    """Strokes as Plotly path shapes for the editor's figure (the inverse of `strokes_from_shapes`)."""
    scale = photo_pixels_per_screen_pixel(size)
    return [_path_shape("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in stroke.points), rgb_to_hex(stroke.rgb),
                        stroke.width / scale) for stroke in strokes]


def _path_shape(path: str, colour: str, width: float) -> dict:
    return {"type": "path", "path": path, "xref": "x", "yref": "y", "editable": False,
            "line": {"color": colour, "width": round(width, 2)}}


def editor_figure(image_src: str, size: tuple[int, int], shapes: list[dict], colour: str = DEFAULT_COLOUR,
                  brush: float = DEFAULT_BRUSH) -> dict:
    """The drawing figure: the result as the background image over axes in photo pixels (y down), drawing mode."""
    height, width = size
    canvas_width, canvas_height = canvas_size(size)
    axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    return {
        "data": [],
        "layout": {
            "width": canvas_width,
            "height": canvas_height,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {**axis, "range": [0, width]},
            "yaxis": {**axis, "range": [height, 0]},
            "images": [{"source": image_src, "xref": "x", "yref": "y", "x": 0, "y": 0, "sizex": width,
                        "sizey": height, "sizing": "stretch", "layer": "below", "xanchor": "left",
                        "yanchor": "top"}],
            "shapes": shapes,
            "dragmode": "drawopenpath",
            "newshape": {"line": {"color": colour, "width": brush}, "opacity": 1},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "showlegend": False,
        },
    }


def editor_modal(prefix: str) -> dbc.Modal:
    """The editor's modal for one page; ids start with `prefix` (e.g. "compare-touchup")."""
    swatches = [
        html.Button(id={"type": f"{prefix}-swatch", "colour": colour}, className="touchup-swatch",
                    title=name, n_clicks=0, style={"backgroundColor": colour}, **{"aria-label": name})
        for name, colour in PALETTE
    ]
    tools = html.Div(
        [
            html.Div([dbc.Label("Colour", class_name="small fw-semibold mb-1 d-block"),
                      html.Div(swatches, className="touchup-palette d-flex flex-wrap gap-1"),
                      dbc.Input(id=f"{prefix}-colour", type="color", value=DEFAULT_COLOUR,
                                class_name="touchup-colour form-control-color mt-2")],
                     className="mb-3"),
            dbc.Label("Brush size", html_for=f"{prefix}-brush", class_name="small fw-semibold mb-1"),
            dcc.Slider(id=f"{prefix}-brush", min=3, max=40, step=1, value=DEFAULT_BRUSH, marks=None,
                       className="touchup-brush"),
            dbc.Switch(id=f"{prefix}-before", label="Show before (the model's own colours)", value=False,
                       class_name="small mt-2"),
            html.Div(
                [dbc.Button("Undo", id=f"{prefix}-undo", color="secondary", outline=True, size="sm", n_clicks=0),
                 dbc.Button("Clear", id=f"{prefix}-clear", color="secondary", outline=True, size="sm", n_clicks=0),
                 dbc.Button("Apply", id=f"{prefix}-apply", color="primary", size="sm", n_clicks=0)],
                className="d-flex gap-2 mt-3",
            ),
            html.Div(id=f"{prefix}-status", className="small text-body-secondary mt-2", role="status"),
            html.Small("Paint a few strokes of the right colour inside the regions that are wrong; Apply spreads "
                       "each colour through its region and stops at edges. A gray stroke holds a region gray.",
                       className="text-body-secondary d-block mt-3"),
        ],
        className="touchup-tools",
    )
    from ..callback_guard import expect_value  # here: the guard imports the components

    expect_value(f"{prefix}-target", "data", "an object", lambda value: value is None or isinstance(value, dict))
    expect_value(f"{prefix}-shapes", "data", "a list", lambda value: value is None or isinstance(value, list))
    canvas = dcc.Graph(id=f"{prefix}-canvas", figure=editor_figure("", (3, 4), []), className="touchup-canvas",
                       config={"displayModeBar": False, "scrollZoom": False, "doubleClick": False,
                               "showAxisDragHandles": False, "responsive": False})
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Edit colours", id=f"{prefix}-title")),
            dbc.ModalBody(dbc.Row([dbc.Col(canvas, xs=12, lg=9, class_name="touchup-canvas-column"),
                                   dbc.Col(tools, xs=12, lg=3)], class_name="g-3")),
            # What the editor works on, set by the page: {"result": id, "original": id, "size": [h, w], ...}.
            dcc.Store(id=f"{prefix}-target"),
            dcc.Store(id=f"{prefix}-shapes", data=[]),  # the strokes drawn so far, as Plotly shapes
        ],
        id=f"{prefix}-modal", is_open=False, size="xl", centered=True, class_name="touchup-modal",
    )


def edit_button(prefix: str, result_id: str) -> dbc.Button:
    """The "Edit colours" button under a result."""
    return dbc.Button("Edit colours", id={"type": f"{prefix}-open", "result": result_id}, n_clicks=0,
                      color="secondary", outline=True, size="sm", class_name="mt-2 ms-1 touchup-open")


def shapes_after_button(prefix: str, button: str, shapes: list[dict] | None) -> list[dict]:
    """The strokes to colour from once `button` (an id) was pressed: Apply keeps them all, Undo drops the last
    (PreventUpdate when there is none), Clear drops them all."""
    shapes = list(shapes or [])
    if button == f"{prefix}-undo":
        if not shapes:
            raise PreventUpdate
        return shapes[:-1]
    return [] if button == f"{prefix}-clear" else shapes


def applied_words(strokes: list[Stroke]) -> str:
    """The editor's status line after a re-colouring."""
    if not strokes:
        return "No strokes: the model's own colours."
    return f"Applied {len(strokes)} stroke{'s' if len(strokes) != 1 else ''}."


# A page's figure for its editor: (target, shapes, colour, brush, before) -> figure; see `register_before_after`.
EditorFigure = Callable[[dict, list, "str | None", "float | None", bool], dict]


def kept_result_figure(target: dict, shapes: list, colour: str | None, brush: float | None,
                       before: bool = False) -> dict:
    """The editor's figure for a result kept in the results store (`target`: its "result" and "original" ids and
    "size"): the model's own result before, the touched-up one after."""
    shown = target["original"] if before else target["result"]
    return editor_figure(result_thumbnail_url(shown), tuple(target["size"]), shapes, colour or DEFAULT_COLOUR,
                         brush or DEFAULT_BRUSH)


def register_before_after(prefix: str, figure: EditorFigure) -> None:
    """The before/after switch: before, the model's own colours (strokes hidden); after, the touched-up result
    with its strokes. `figure` draws the page's editor from its target (the page knows its image URLs)."""

    @callback(
        Output(f"{prefix}-canvas", "figure", allow_duplicate=True),
        Input(f"{prefix}-before", "value"),
        State(f"{prefix}-target", "data"),
        State(f"{prefix}-shapes", "data"),
        State(f"{prefix}-colour", "value"),
        State(f"{prefix}-brush", "value"),
        prevent_initial_call=True,
    )
    def show_before_or_after(before, target, shapes, colour, brush):
        if not target:
            raise PreventUpdate
        return figure(target, [] if before else list(shapes or []), colour, brush, bool(before))


def register_editor_clientside_callbacks(prefix: str) -> None:
    """The editor's in-browser behaviour for the modal with ids starting with `prefix`: keep the drawn strokes,
    pick a palette colour, and give the next stroke the chosen colour and brush size. Call once per prefix, at
    import of the page that shows the editor (the server-side callbacks, which know the page's results, stay there).
    """
    # Plotly reports a drawn stroke as the figure's whole new list of shapes.
    clientside_callback(
        """
        function (relayout) {
            if (relayout && Array.isArray(relayout.shapes)) { return relayout.shapes; }
            return window.dash_clientside.no_update;
        }
        """,
        Output(f"{prefix}-shapes", "data", allow_duplicate=True),
        Input(f"{prefix}-canvas", "relayoutData"),
        prevent_initial_call=True,
    )
    clientside_callback(
        """
        function (clicks) {
            const trigger = window.dash_clientside.callback_context.triggered_id;
            if (!trigger || !trigger.colour || !clicks.some(Boolean)) { return window.dash_clientside.no_update; }
            return trigger.colour;
        }
        """,
        Output(f"{prefix}-colour", "value"),
        Input({"type": f"{prefix}-swatch", "colour": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    # A new colour or brush size applies to the next stroke (the strokes drawn so far stay as they are).
    clientside_callback(
        """
        function (colour, brush, figure, shapes) {
            if (!figure || !figure.layout) { return window.dash_clientside.no_update; }
            const layout = Object.assign({}, figure.layout, {
                shapes: shapes || [], newshape: {line: {color: colour, width: Number(brush)}, opacity: 1}});
            return Object.assign({}, figure, {layout: layout});
        }
        """,
        Output(f"{prefix}-canvas", "figure", allow_duplicate=True),
        Input(f"{prefix}-colour", "value"),
        Input(f"{prefix}-brush", "value"),
        State(f"{prefix}-canvas", "figure"),
        State(f"{prefix}-shapes", "data"),
        prevent_initial_call=True,
    )
