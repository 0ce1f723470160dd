"""The touch-up editor: a result shown large in a Plotly figure the user paints brush strokes on (Plotly's own
`drawopenpath` drawing, mouse or finger), a palette of common colours and a picker, a brush size, undo and clear,
before/after, and apply. The strokes are Plotly path shapes in the browser and `colorizers.Stroke`s on the server;
the pure functions here convert between the two (the figure's axes are the photo's full-resolution pixels).

It never loses work: Apply, Undo and Clear change the strokes on screen at once and queue a re-colouring of
exactly those strokes; one goes to the server at a time and the latest queued one follows it (assets/
touchup_editor.js), so the last result carries the strokes on screen. A sign shows while it works. After a
re-colouring the strokes it carries are hidden ("Show strokes" shows them). The drawing is as wide as the screen
allows (the photo's shape kept); on a touch screen one finger paints only with "Draw with a finger" on and
scrolls otherwise; the buttons sit above the photo and stay in view while the editor scrolls.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import Stroke

from ..routes.urls import result_thumbnail_url

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
    """(width, height) in screen pixels of the drawing area for a photo of size (height, width) on a wide screen
    (a narrower one shrinks it to its width, the photo's shape kept)."""
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
    """The drawing figure: the result as the background image over axes in photo pixels (y down), drawing mode; it
    fills its box (the editor sizes the box to the screen, see assets/touchup_editor.js)."""
    height, width = size
    axis = {"visible": False, "fixedrange": True, "showgrid": False, "zeroline": False}
    return {
        "data": [],
        "layout": {
            "autosize": True,
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
    # Above the photo, and in view while the editor scrolls: what to do with the strokes, and how to see them.
    toolbar = html.Div(
        [
            html.Div(
                [dbc.Button("Undo", id=f"{prefix}-undo", color="secondary", outline=True, size="sm", n_clicks=0),
                 dbc.Button("Clear", id=f"{prefix}-clear", color="secondary", outline=True, size="sm", n_clicks=0),
                 dbc.Button("Apply", id=f"{prefix}-apply", color="primary", size="sm", n_clicks=0),
                 html.Span([html.Span(className="spinner-border spinner-border-sm me-1", **{"aria-hidden": "true"}),
                            "Re-colouring..."],
                           id=f"{prefix}-busy", hidden=True, className="touchup-busy small text-body-secondary",
                           role="status")],
                className="d-flex flex-wrap gap-2 align-items-center",
            ),
            html.Div(
                [dbc.Switch(id=f"{prefix}-draw", label="Draw with a finger", value=False, class_name="small mb-0"),
                 dbc.Switch(id=f"{prefix}-strokes", label="Show strokes", value=False, class_name="small mb-0"),
                 dbc.Switch(id=f"{prefix}-before", label="Show before (the model's own colours)", value=False,
                            class_name="small mb-0")],
                className="d-flex flex-wrap column-gap-3 mt-2",
            ),
            html.Div(id=f"{prefix}-status", className="small text-body-secondary mt-1", role="status"),
        ],
        className="touchup-toolbar",
    )
    tools = html.Div(
        [
            html.Div([dbc.Label("Colour", html_for=f"{prefix}-colour", class_name="small fw-semibold mb-1 d-block"),
                      html.Div(swatches, className="touchup-palette d-flex flex-wrap gap-1", role="group",
                               **{"aria-label": "Common colours"}),
                      dbc.Input(id=f"{prefix}-colour", type="color", value=DEFAULT_COLOUR,
                                class_name="touchup-colour form-control-color mt-2")],
                     className="mb-3"),
            dbc.Label("Brush size", html_for=f"{prefix}-brush", class_name="small fw-semibold mb-1"),
            dcc.Slider(id=f"{prefix}-brush", min=3, max=40, step=1, value=DEFAULT_BRUSH, marks=None,
                       className="touchup-brush"),
            html.Small("Paint a few strokes of the right colour inside the regions that are wrong; Apply spreads "
                       "each colour through its region and stops at edges. A gray stroke holds a region gray. "
                       "On a touch screen, turn on \"Draw with a finger\" to paint; otherwise a swipe scrolls.",
                       className="text-body-secondary d-block mt-3"),
        ],
        className="touchup-tools",
    )
    canvas = dcc.Graph(id=f"{prefix}-canvas", figure=editor_figure("", (3, 4), []), className="touchup-canvas",
                       style={"width": "100%", "aspectRatio": "4 / 3"},
                       config={"displayModeBar": False, "scrollZoom": False, "doubleClick": False,
                               "showAxisDragHandles": False, "responsive": True})
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Edit colours", id=f"{prefix}-title")),
            dbc.ModalBody([toolbar,
                           dbc.Row([dbc.Col(canvas, xs=12, lg=9, class_name="touchup-canvas-column"),
                                    dbc.Col(tools, xs=12, lg=3)], class_name="g-3 mt-0")]),
            # What the editor works on, set by the page: {"result": id, "original": id, "size": [h, w], "image":
            # URL, "before_image": URL, "applied": [paths of the strokes the result carries], ...}.
            dcc.Store(id=f"{prefix}-target"),
            dcc.Store(id=f"{prefix}-shapes", data=[]),  # the strokes on screen, as Plotly shapes
            # The re-colouring queue (assets/touchup_editor.js): the latest wanted ({"seq", "shapes"}), the one sent
            # ({"seq", "shapes", "target"}) and the last answered ({"seq"}).
            dcc.Store(id=f"{prefix}-wanted"),
            dcc.Store(id=f"{prefix}-request"),
            dcc.Store(id=f"{prefix}-applied"),
            dcc.Store(id=f"{prefix}-max-width", data=CANVAS_MAX_WIDTH),  # the drawing's largest size on screen
            dcc.Store(id=f"{prefix}-max-height", data=CANVAS_MAX_HEIGHT),
        ],
        id=f"{prefix}-modal", is_open=False, size="xl", centered=True, class_name="touchup-modal",
        labelledby=f"{prefix}-title",
    )


def edit_button(prefix: str, result_id: str) -> dbc.Button:
    """The "Edit colours" button under a result."""
    return dbc.Button("Edit colours", id={"type": f"{prefix}-open", "result": result_id}, n_clicks=0,
                      color="secondary", outline=True, size="sm", class_name="mt-2 ms-1 touchup-open")


def applied_words(strokes: list[Stroke]) -> str:
    """The editor's status line after a re-colouring."""
    if not strokes:
        return "No strokes: the model's own colours."
    return f"Applied {len(strokes)} stroke{'s' if len(strokes) != 1 else ''}."


def editor_target(target: dict, shapes: list[dict], image_url: Callable[[str], str]) -> dict:
    """What the editor works on and the browser draws from: `target` ({"result": id, "original": id of the model's
    own result, "size": [h, w], and whatever the page adds}) with the URLs of the result ("image") and of the
    model's own ("before_image", for "Show before"), and the paths of `shapes`, the strokes the result carries
    ("applied": hidden over it unless "Show strokes")."""
    return {**target, "image": image_url(str(target["result"])), "before_image": image_url(str(target["original"])),
            "applied": [str(shape.get("path", "")) for shape in shapes if isinstance(shape, dict)]}


def kept_result_target(target: dict, shapes: list[dict]) -> dict:
    """`editor_target` for a result kept in the results store (its thumbnails' URLs)."""
    return editor_target(target, shapes, result_thumbnail_url)


def queued_touch_up(request: dict | None) -> tuple[dict, list[dict], list[Stroke], dict]:
    """A re-colouring the editor sent (`request`: {"seq", "shapes", "target"}, see assets/touchup_editor.js): its
    target, its strokes as shapes and as `Stroke`s, and the "applied" record to answer with, whatever happens (it
    lets the next queued re-colouring go). PreventUpdate for anything else."""
    if not isinstance(request, dict) or not isinstance(request.get("target"), dict) \
            or not isinstance(request.get("shapes"), list) or "size" not in request["target"]:
        raise PreventUpdate
    target, shapes = request["target"], request["shapes"]
    try:
        seq = int(request.get("seq"))
        size = (int(target["size"][0]), int(target["size"][1]))
    except (TypeError, ValueError, IndexError, KeyError):
        raise PreventUpdate from None
    return target, shapes, strokes_from_shapes(shapes, size), {"seq": seq}


def always_answered(applied_index: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Around a page's touch-up callback (its first argument the editor's request; put it above `friendly_errors`):
    whatever it returns, an error's alert too, answers the request at output `applied_index`, so that the editor
    sends its next queued re-colouring instead of waiting for ever."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def answered(request: Any, *args: Any) -> Any:
            outputs = list(function(request, *args))
            if outputs[applied_index] is no_update and isinstance(request, dict):
                outputs[applied_index] = {"seq": request.get("seq")}
            return outputs

        return answered

    return decorate


def kept_result_figure(target: dict, shapes: list, colour: str | None, brush: float | None,
                       before: bool = False) -> dict:
    """The editor's figure for a result kept in the results store (`target`: its "result" and "original" ids and
    "size"): the model's own result before, the touched-up one after."""
    shown = target["original"] if before else target["result"]
    return editor_figure(result_thumbnail_url(shown), tuple(target["size"]), shapes, colour or DEFAULT_COLOUR,
                         brush or DEFAULT_BRUSH)


def register_editor_clientside_callbacks(prefix: str) -> None:
    """The editor's in-browser behaviour for the modal with ids starting with `prefix` (assets/touchup_editor.js):
    keep the drawn strokes, pick a palette colour, queue the re-colourings Apply, Undo and Clear ask for (the page's
    server-side callback answers `{prefix}-request` with `{prefix}-target` and `{prefix}-applied`), and draw the
    result, before/after, the strokes and the next stroke's colour and size. Call once per prefix, at import of the
    page that shows the editor (the server-side callbacks, which know the page's results, stay there)."""
    # Declared with the callbacks, when the page is imported: a hand-made request is checked before anyone has
    # opened the page.
    from ..guards.callback_guard import expect_value  # here: the guard imports the components

    expect_value(f"{prefix}-target", "data", "an object", lambda value: value is None or isinstance(value, dict))
    expect_value(f"{prefix}-shapes", "data", "a list", lambda value: value is None or isinstance(value, list))
    expect_value(f"{prefix}-request", "data", "an object with a list of shapes and a target object",
                 lambda value: value is None or (isinstance(value, dict)
                                                 and isinstance(value.get("shapes", []), list)
                                                 and isinstance(value.get("target", {}), dict)))
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
    clientside_callback(
        ClientsideFunction("touchup", "press"),
        Output(f"{prefix}-shapes", "data", allow_duplicate=True),
        Output(f"{prefix}-wanted", "data"),
        Output(f"{prefix}-busy", "hidden", allow_duplicate=True),
        Input(f"{prefix}-apply", "n_clicks"),
        Input(f"{prefix}-undo", "n_clicks"),
        Input(f"{prefix}-clear", "n_clicks"),
        State(f"{prefix}-shapes", "data"),
        State(f"{prefix}-wanted", "data"),
        State(f"{prefix}-applied", "data"),
        State(f"{prefix}-target", "data"),
        State(f"{prefix}-request", "data"),
        prevent_initial_call=True,
    )
    clientside_callback(
        ClientsideFunction("touchup", "answered"),
        Output(f"{prefix}-busy", "hidden"),
        Input(f"{prefix}-applied", "data"),
        State(f"{prefix}-wanted", "data"),
        State(f"{prefix}-target", "data"),
        State(f"{prefix}-request", "data"),
        prevent_initial_call=True,
    )
    clientside_callback(
        ClientsideFunction("touchup", "render"),
        Output(f"{prefix}-canvas", "figure", allow_duplicate=True),
        Output(f"{prefix}-canvas", "style"),
        Output(f"{prefix}-canvas", "className"),
        Input(f"{prefix}-target", "data"),
        Input(f"{prefix}-shapes", "data"),
        Input(f"{prefix}-before", "value"),
        Input(f"{prefix}-strokes", "value"),
        Input(f"{prefix}-colour", "value"),
        Input(f"{prefix}-brush", "value"),
        Input(f"{prefix}-draw", "value"),
        State(f"{prefix}-canvas", "figure"),
        State(f"{prefix}-max-width", "data"),
        State(f"{prefix}-max-height", "data"),
        prevent_initial_call=True,
    )
