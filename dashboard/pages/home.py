"""Home: a first path for an old photo (upload it, see it coloured by the recommended model, large, with a
download; an optional Restore step for scans; every other model a click away on Compare), then what the studio
does, a before/after example, and the way to the other pages. The logic is `dashboard.page_logic.first_photo`."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from colorizers import available_models, encode_png
from dashboard import settings
from dashboard.page_logic import showcase
from dashboard.guards.callback_guard import friendly_errors
from dashboard.components.first_photo_views import first_photo_card
from dashboard.components.result_views import file_alert
from dashboard.components.scrolling import register_scroll, scroll_target
from dashboard.components.upload_area import upload_area
from dashboard.page_logic.first_photo import (
    colour_first_photo,
    other_models,
    recommended_model,
    results_from_state,
)
from dashboard.jobs.photos import keep_uploads
from dashboard.stores.results_store import default_store
from dashboard.guards.session import current_session_id
from dashboard.studio import default_studio
from dashboard.routes.uploads import uploaded_files
from dashboard.routes.urls import showcase_url
from dashboard.components.picture import showcase_img, showcase_picture_attributes

def _example() -> html.Div:
    example = showcase.get_showcase()
    if example is None:
        return html.Div()
    panels = [
        (showcase_url("before"), "Grayscale", f"{example.photo_title}, in grey"),
        (showcase_url("after"), "Coloured", example.after_caption),
    ]
    return dbc.Row(
        [
            dbc.Col(
                html.Figure(
                    [
                        html.Div(heading, className="panel-heading"),
                        showcase_img("before" if src == showcase_url("before") else "after",
                                     className="img-fluid rounded result-image"),
                        html.Figcaption(caption, className="small text-body-secondary mt-1"),
                    ],
                    className="image-panel",
                ),
                xs=6,  # side by side on a phone too: the upload stays in view
            )
            for src, heading, caption in panels
        ] + ([dbc.Col(html.Small(example.credit, className="text-body-secondary showcase-credit"), xs=12)]
             if example.credit else []),
        class_name="g-3 mb-4 showcase",
    )


def _page_cards() -> dbc.Row:
    other_pages = [page for page in dash.page_registry.values() if page["path"] != "/"]
    return dbc.Row(
        [
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.H2(page["name"], className="h5"),
                            html.P(page.get("description") or "", className="mb-3"),
                            dbc.Button(f"Open {page['name']}", href=page["relative_path"], color="primary"),
                        ]
                    ),
                    class_name="h-100 shadow-sm",
                ),
                xs=12, md=6,
            )
            for page in sorted(other_pages, key=lambda page: page.get("order") or 0)
        ],
        class_name="g-3 mb-4",
    )


def _first_photo() -> html.Section:
    """The upload, its rejected files' messages beside it, and the results (newest first)."""
    return html.Section(
        [
            upload_area("home-upload", "Your old photo",
                        "Black-and-white, sepia or faded: PNG, JPEG, WebP, TIFF… It comes back in colour, "
                        "full size."),
            html.Div(id="home-feedback", className="mt-2"),
            # A new result is said by screen readers (a polite live region: after what they are reading).
            dcc.Loading(html.Div(id="home-results", className="mt-3", **{"aria-live": "polite"}), type="circle",
                        overlay_style={"visibility": "visible", "opacity": 0.4},
                        parent_className="results-loading"),
            # Small records only (ids and names): the images stay on the server.
            dcc.Store(id="home-photos", data=[]),
            dcc.Store(id="home-scroll"),
            dcc.Location(id="home-location", refresh=True),
        ],
        className="first-photo-section mb-4",
    )


def intro() -> list:
    """Written out on the server (`dashboard.components.document`), so that a phone paints the heading and the
    example (the page's largest picture, fetched first) before any script has run."""
    return [
        html.Section(
            [
                html.H1("Give old photos their colour back", className="display-6 fw-semibold"),
                html.P(
                    "Add a black-and-white photo below and get it back in colour, at full resolution. "
                    "Colour photos from a reference of your choice, or compare every model side by side.",
                    className="lead",
                ),
            ],
            className="hero mb-3",
        ),
        _example(),
    ]


def outro() -> list:
    """Written out on the server after the upload (`dashboard.components.document`), per visit, so that models
    installed since start-up are listed: none of it needs a callback, so Dash's scripts do not render it."""
    return [
        _page_cards(),
        html.H2("Models available here", className="h5"),
        html.Ul([html.Li([html.Strong(model.title), " — ", model.summary]) for model in available_models()],
                className="models-list"),
    ]


def layout(**_query: str) -> html.Div:
    return html.Div(_first_photo())


dash.register_page(
    __name__,
    path="/",
    name="Intro",
    order=4,
    description="Bring colour back to black-and-white photos.",
    intro=intro,
    outro=outro,
    preload_image=lambda: showcase_picture_attributes("before"),  # the page's largest picture, fetched first
)


@callback(
    Output("home-results", "children"),
    Output("home-photos", "data"),
    Output("home-feedback", "children"),
    Output("home-scroll", "data"),
    Output("home-upload", "contents"),
    Input("home-upload", "contents"),
    Input({"type": "home-restore", "photo": ALL}, "value"),
    State("home-upload", "filename"),
    State("home-photos", "data"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=5, alert_index=2)
def colour_photos(contents, _restore_values, filenames, kept):
    """New photos are coloured by the recommended model and shown first (the page scrolls to them); a Restore
    switch colours its photo again with the step on or off. Files that are not photos are told beside the upload."""
    session_id = current_session_id()
    store = default_store()
    results = results_from_state(kept, session_id, store)
    trigger = ctx.triggered_id
    if isinstance(trigger, dict):  # a Restore switch
        wanted = ctx.triggered[0].get("value") if ctx.triggered else None
        index = next((i for i, result in enumerate(results) if result.upload.image_id == trigger["photo"]), None)
        if index is None or wanted is None or bool(wanted) == results[index].restore:
            raise PreventUpdate  # the switches were drawn, not flipped
        old = results[index]
        results[index] = colour_first_photo(old.upload, session_id, store, old.model_name, restore=bool(wanted))
        _discard_results(old, session_id)
        return ([first_photo_card(result) for result in results], [result.to_json() for result in results],
                no_update, _photo_target(trigger["photo"]), no_update)
    if contents is None:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    model = recommended_model([info.name for info in available_models()])
    if model is None:
        return no_update, no_update, file_alert("Colouring", "No model is installed on this server."), None, None
    files = uploaded_files(contents, filenames, max_files=settings.SESSION_MAX_ROWS)
    uploads = keep_uploads(files, session_id, store)
    rejected = [file_alert(upload.filename, upload.error or "The file could not be read.")
                for upload in uploads if not upload.image_id]
    new = [colour_first_photo(upload, session_id, store, model) for upload in uploads if upload.image_id]
    if not new:
        return no_update, no_update, rejected, no_update, None
    results = list(reversed(new)) + results  # newest first
    return ([first_photo_card(result) for result in results], [result.to_json() for result in results],
            rejected or None, _photo_target(results[0].upload.image_id), None)


def _photo_target(image_id: str) -> dict:
    return scroll_target(f'.first-photo[data-photo="{image_id}"]')  # ids are URL-safe tokens


def _discard_results(result, session_id: str) -> None:
    """A re-coloured photo's former result and restored scan: nothing shows them any more."""
    store = default_store()
    for image_id in (result.result_id, result.restored_id):
        if image_id:
            store.discard(session_id, image_id)


# The newest (or re-coloured) photo comes into view, its top at the window's top: its result below it.
register_scroll("home-scroll")


@callback(
    Output("home-location", "href"),
    Output("home-feedback", "children", allow_duplicate=True),
    Input({"type": "home-compare-all", "photo": ALL}, "n_clicks"),
    State("home-photos", "data"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=2, alert_index=1)
def compare_all_models(clicks, kept):
    """"Compare all models" adds the photo to Compare (a row, every model) and opens that page."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the buttons were drawn, not clicked
    session_id = current_session_id()
    store = default_store()
    result = next((result for result in results_from_state(kept, session_id, store)
                   if result.upload.image_id == trigger["photo"]), None)
    original = store.get(session_id, trigger["photo"]) if result is not None else None
    if original is None:
        return no_update, file_alert("This photo", "It has expired from the server; please upload it again.")
    names = [info.name for info in available_models()]
    ordered = [result.model_name, *other_models(names, result.model_name)] if result.model_name in names else names
    default_studio().add_photo(session_id, result.upload.filename, encode_png(original.rgb), ordered)
    return "/compare", no_update
