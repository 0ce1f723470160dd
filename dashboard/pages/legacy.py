"""Legacy photos: sample grayscale photos; one click colours a photo with every model (as a row on Compare)."""
from __future__ import annotations

from urllib.parse import quote

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.page_logic.legacy import legacy_photos
from dashboard.routes.urls import legacy_webp_url
from dashboard.components.picture import LEGACY_SIZES, file_picture

def _card(photo) -> dbc.Col:
    kind = "Genuine old photo" if photo.genuine_old_photo else "Modern photo, turned grayscale"
    source = " ".join(part for part in (photo.source_package, photo.source_version) if part)
    return dbc.Col(
        dbc.Card(
            [
                file_picture(photo.path, lambda rung, token: legacy_webp_url(photo.name, rung, token), photo.title,
                             LEGACY_SIZES, widths=(320, 480, 640, 960), lazy=photo != legacy_photos()[0],
                             className="card-img-top legacy-image"),
                dbc.CardBody(
                    [
                        html.H2(photo.title, className="h6 mb-1"),
                        dbc.Badge(kind, color="light", text_color="dark", class_name="mb-2 legacy-kind"),
                        html.Div(f"From {source}; licence {photo.licence}.",
                                 className="small text-body-secondary mb-2 legacy-source"),
                        dbc.Button("Colour with all models", href=f"/compare?legacy={quote(photo.name)}",
                                   color="primary", size="sm", class_name="legacy-open",
                                   id=f"legacy-open-{photo.name}"),
                    ]
                ),
            ],
            class_name="h-100 shadow-sm legacy-card",
        ),
        xs=12, sm=6, lg=3,
    )


def _section(title: str, note: str, photos: list, class_name: str) -> html.Section:
    return html.Section(
        [html.H2(title, className="h5 mt-3"), html.P(note, className="text-body-secondary small"),
         dbc.Row([_card(photo) for photo in photos], class_name="g-3 legacy-gallery")],
        className=f"legacy-section {class_name}",
    )


def content() -> html.Div:
    """The whole page, written out on the server (`dashboard.components.document`): it only shows things."""
    photos = legacy_photos()
    old = [photo for photo in photos if photo.genuine_old_photo]
    modern = [photo for photo in photos if not photo.genuine_old_photo]
    sections = []
    if old:
        sections.append(_section(
            "Old photographs", "Genuinely old black-and-white and sepia photographs in the public domain (CC0), from "
            "WordPress's default themes. No colour original exists, so no model can be scored on them: judge by eye.",
            old, "legacy-section-old"))
    if modern:
        sections.append(_section(
            "Modern photos, turned gray", "Colour photos from our reference gallery turned grayscale: here the "
            "colours that were really there exist, so each model can be judged against them. Their colour originals "
            "are never suggested as Welsh references.", modern, "legacy-section-modern"))
    return html.Div(
        [
            html.H1("Legacy photos", className="h3"),
            html.P("Pick a photo: it opens on the Compare page, coloured by every model.",
                   className="text-body-secondary"),
            *sections,
        ]
        if photos else
        [html.H1("Legacy photos", className="h3"),
         dbc.Alert("No legacy photos are installed (assets/legacy/manifest.json).", color="info")]
    )


dash.register_page(
    __name__,
    path="/legacy",
    name="Legacy photos",
    order=1,
    description="Sample black-and-white photos to try: one click colours a photo with every model.",
    intro=content,
    static=True,  # no callback: the page gets no script (dashboard.components.document)
)

layout = html.Div()  # nothing on this page needs a callback
