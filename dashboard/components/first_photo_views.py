"""How the home page shows a first photo (`dashboard.page_logic.first_photo.FirstResult`): the recommended result large, in
plain words, with its download; the Restore switch and its before/after; the way to every other model."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from ..page_logic.first_photo import FirstResult
from ..routes.urls import result_download_url, result_thumbnail_url
from .result_views import file_alert, upload_note


def first_photo_card(result: FirstResult) -> html.Div | dbc.Alert:
    """One photo: its title, any note on its own colour, the result large (or the error in its place)."""
    upload = result.upload
    if result.error and not result.result_id and not upload.image_id:
        return file_alert(upload.filename, result.error)
    key = upload.image_id or ""
    body: list = []
    note = upload_note(upload.was_color, upload.tint)
    if note:
        body.append(dbc.Alert(note, color="info", class_name="colour-note py-2 small mb-2"))
    if result.error or not result.result_id:
        body.append(dbc.Alert(result.error or "No result.", color="danger", class_name="file-alert"))
    else:
        body.append(_result_figure(result))
    body.append(_restore_block(result, key))
    body.append(html.Div(
        [html.Button("Compare all models", id={"type": "home-compare-all", "photo": key}, n_clicks=0,
                     className="btn btn-link px-0 home-compare-all",
                     title="Colour this photo with every model, side by side, on the Compare page")],
        className="mt-1",
    ))
    card = dbc.Card(
        [dbc.CardHeader(html.H2(upload.filename, className="h6 mb-0 text-break fw-semibold")), dbc.CardBody(body)],
        class_name="first-photo-card mb-4 shadow-sm",
    )
    return html.Div(card, className="first-photo", **{"data-photo": key})


def _result_figure(result: FirstResult) -> html.Figure:
    return html.Figure(
        [
            html.Img(src=result_thumbnail_url(result.result_id or ""), alt=f"{result.upload.filename}, coloured",
                     className="result-image first-photo-image rounded"),
            html.Figcaption(
                [
                    html.A("Download the coloured photo", href=result_download_url(result.result_id or ""),
                           download=result.filename or "coloured.png", role="button",
                           className="btn btn-primary first-photo-download me-2 mt-2"),
                    html.P(result.words, className="small text-body-secondary mt-2 mb-0 first-photo-words"),
                ],
            ),
        ],
        className="first-photo-result mb-2",
    )


def _restore_block(result: FirstResult, key: str) -> html.Div:
    """The Restore switch and, when it is on, the scan beside its restored lightness (nothing when not offered)."""
    if not result.restore_offered:
        return html.Div()
    children: list = [
        dbc.Switch(id={"type": "home-restore", "photo": key}, label="Restore (dust, scratches, grain)",
                   value=result.restore, class_name="home-restore-switch mb-1"),
        html.Div(result.restore_words, className="small text-body-secondary restore-words"),
    ]
    if result.restore and result.restored_id and result.upload.image_id:
        children.append(dbc.Row(
            [
                dbc.Col(_small_panel(result_thumbnail_url(result.upload.image_id), "As scanned",
                                     f"{result.upload.filename} as scanned"), xs=6),
                dbc.Col(_small_panel(result_thumbnail_url(result.restored_id), "Restored",
                                     f"{result.upload.filename} restored, before colouring"), xs=6),
            ],
            class_name="g-2 mt-1 restore-before-after",
        ))
    return html.Div(children, className="restore-block mt-2")


def _small_panel(src: str, heading: str, alt: str) -> html.Figure:
    return html.Figure([html.Div(heading, className="panel-heading small"),
                        html.Img(src=src, alt=alt, className="img-fluid rounded")], className="mb-0")
