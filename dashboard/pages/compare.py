"""Compare: every available model on the same photos, side by side (new models appear by themselves)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from colorizers import available_models
from dashboard.callback_guard import friendly_errors
from dashboard.components.result_views import compare_row, page_alert
from dashboard.components.upload_area import upload_area
from dashboard.jobs import AUTO_REFERENCE, colorize_uploads, keep_uploads
from dashboard.results_store import default_store
from dashboard.session import SESSION_NOT_READY_MESSAGE, SESSION_STORE_ID, is_valid_session_id
from dashboard.uploads import uploaded_files

dash.register_page(
    __name__,
    path="/compare",
    name="Compare models",
    order=2,
    description="Run every model on the same photos and compare the results and their running times.",
)



def layout(**_query: str) -> html.Div:
    """Built per visit, so models installed since start-up are included."""
    models = available_models()
    return html.Div(
        [
            html.H1("Compare models", className="h3"),
            html.P(
                "Each photo is coloured by every model installed here. Reference-based models pick their "
                "reference automatically.",
                className="text-body-secondary",
            ),
            dbc.Row(
                [
                    dbc.Col(upload_area("compare-upload", "Black-and-white photos",
                                        "One or several; each becomes a row."), xs=12, lg=5),
                    dbc.Col(
                        html.Ul(
                            [html.Li([html.Strong(model.title), " — ", model.summary]) for model in models],
                            className="small models-list mb-0",
                        ),
                        xs=12, lg=7,
                    ),
                ],
                class_name="g-3 mb-4 align-items-center",
            ),
            dcc.Loading(
                html.Div(html.P("Each photo will appear here as a row: the original, then one column per model.",
                                className="text-body-secondary results-placeholder"),
                         id="compare-results"),
                type="circle",
                overlay_style={"visibility": "visible", "opacity": 0.4},
                parent_className="results-loading",
            ),
        ]
    )


@callback(
    Output("compare-results", "children"),
    Output("compare-upload", "contents"),
    Input("compare-upload", "contents"),
    State("compare-upload", "filename"),
    State(SESSION_STORE_ID, "data"),
    prevent_initial_call=True,
)
@friendly_errors(output_count=2)
def compare_models(contents, filenames, session_id):
    """One row per uploaded photo: the original, then each available model's result."""
    if contents is None:
        raise PreventUpdate  # our own reset of the upload (so the same file can be dropped again)
    if not is_valid_session_id(session_id):
        return page_alert(SESSION_NOT_READY_MESSAGE), None
    store = default_store()
    uploads = keep_uploads(uploaded_files(contents, filenames), session_id, store)
    model_names = [model.name for model in available_models()]
    photos = colorize_uploads(uploads, session_id, store, model_names, AUTO_REFERENCE)
    return [compare_row(photo, session_id) for photo in photos], None
