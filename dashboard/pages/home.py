"""Home: what the studio does, a before/after example, and the way to the other pages."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from colorizers import available_models
from dashboard import showcase
from dashboard.urls import showcase_url

dash.register_page(
    __name__,
    path="/",
    name="Intro",
    order=4,
    description="Bring colour back to black-and-white photos.",
)


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
                        html.Img(src=src, alt=caption, className="img-fluid rounded result-image"),
                        html.Figcaption(caption, className="small text-body-secondary mt-1"),
                    ],
                    className="image-panel",
                ),
                xs=12, md=6,
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


def layout(**_query: str) -> html.Div:
    """Built per visit, so models installed since start-up are listed."""
    models = available_models()
    return html.Div(
        [
            html.Section(
                [
                    html.H1("Give old photos their colour back", className="display-6 fw-semibold"),
                    html.P(
                        "Upload black-and-white photos and get them back in colour, at full resolution. "
                        "Colour them from a reference photo of your choice, or compare every model side by side.",
                        className="lead",
                    ),
                ],
                className="hero mb-4",
            ),
            _example(),
            _page_cards(),
            html.H2("Models available here", className="h5"),
            html.Ul([html.Li([html.Strong(model.title), " — ", model.summary]) for model in models],
                    className="models-list"),
        ]
    )
