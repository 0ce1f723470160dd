"""The Welsh page's reference picker: "suggest for me", the gallery as clickable thumbnails, or the user's own."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from colorizers.library import LibraryPhoto
from colorizers.references import GalleryPhoto

from ..jobs import AUTO_REFERENCE, OWN_REFERENCE
from ..urls import gallery_thumbnail_url, library_photo_url


def _tile(picture: html.Component, caption: str) -> html.Div:
    return html.Div([picture, html.Div(caption, className="reference-tile-caption")], className="reference-tile")


def reference_options(photos: list[GalleryPhoto], own_reference_src: str | None = None,
                      picked: LibraryPhoto | None = None) -> list[dict]:
    """Radio options: automatic suggestion first, then a library photo picked from the suggestions (if any), each
    gallery photo, then the user's own reference."""
    auto = _tile(html.Div("✦", className="reference-tile-symbol", **{"aria-hidden": "true"}), "Suggest for me")
    gallery_tiles = [
        {
            "label": _tile(
                html.Img(src=gallery_thumbnail_url(photo.name), alt=photo.title,
                         className="reference-tile-image"),
                photo.title,
            ),
            "value": photo.name,
        }
        for photo in photos
    ]
    own_picture = (
        html.Img(src=own_reference_src, alt="Your reference photo", className="reference-tile-image")
        if own_reference_src
        else html.Div("+", className="reference-tile-symbol", **{"aria-hidden": "true"})
    )
    own = {
        "label": _tile(own_picture, "My own photo" if own_reference_src else "My own (upload below)"),
        "value": OWN_REFERENCE,
        "disabled": own_reference_src is None,
    }
    picked_tiles = [] if picked is None else [{
        "label": _tile(html.Img(src=library_photo_url(picked), alt=picked.title, className="reference-tile-image"),
                       picked.title),
        "value": picked.name,
    }]
    return [{"label": auto, "value": AUTO_REFERENCE}, *picked_tiles, *gallery_tiles, own]


def reference_picker(component_id: str, photos: list[GalleryPhoto]) -> dbc.RadioItems:
    """Radio buttons drawn as thumbnail tiles (the radio dot is hidden; the chosen tile is outlined)."""
    return dbc.RadioItems(
        id=component_id,
        options=reference_options(photos),
        value=AUTO_REFERENCE,
        class_name="reference-picker",
        input_class_name="reference-picker-input",
        label_class_name="reference-picker-label",
        label_checked_class_name="reference-picker-label-checked",
    )
