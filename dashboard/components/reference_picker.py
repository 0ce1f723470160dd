"""The Reference transfer page's choices: the method (match by content or Welsh 2002), the reference picker
("suggest for me", the gallery as clickable thumbnails, or the user's own photos) and the user's own reference
photos as thumbnails with a remove button each."""
from __future__ import annotations

from pathlib import Path

import dash_bootstrap_components as dbc
from dash import html

from colorizers.library import LibraryPhoto
from colorizers.references import GalleryPhoto

from ..jobs.photos import AUTO_REFERENCE, MAX_OWN_REFERENCES, OWN_REFERENCE, OwnReferenceRecord, ReferenceMethod
from ..routes.urls import gallery_webp_url, library_webp_url, result_thumbnail_url
from .picture import TILE_SIZES, file_picture, sized_img

TILE_WIDTHS = (160, 320)  # the tiles are about 7rem wide: 1x and 2x screens
TILE_BOX = (160, 120)  # a tile's picture box (4:3; the picture covers it)

OWN_REFERENCE_REMOVE = "welsh-own-reference-remove"  # the pattern id type of the remove buttons
METHOD_HINTS = {
    "exemplar": "Finds what each part of your photo shows (sky, face, leaves) in the references and takes its "
                "colour from there; where they show nothing alike, a trained model's colour is used.",
    "welsh": "The 2002 method: colour goes to the parts of your photo of similar brightness and texture, "
             "whatever they show.",
}


def _tile(picture: html.Component, caption: str) -> html.Div:
    # The caption is the tile's own text, not a component of its own: a gallery of tiles is drawn in the page's
    # first render, where each component costs a phone's main thread.
    return html.Div([picture, caption], className="reference-tile")


def reference_options(photos: list[GalleryPhoto], own_reference_src: str | None = None,
                      picked: LibraryPhoto | None = None, own_count: int = 1) -> list[dict]:
    """Radio options: automatic suggestion first, then each gallery photo, the user's own references
    (`own_reference_src`: the first one's thumbnail, None when the user has none; `own_count`: how many), and last a
    library photo picked from the suggestions (if any: last, so that no tile moves when one is picked)."""
    auto = _tile(html.Div("✦", className="reference-tile-symbol", **{"aria-hidden": "true"}), "Suggest for me")
    gallery_tiles = [
        {
            "label": _tile(
                file_picture(photo.file, lambda rung, token, name=photo.name: gallery_webp_url(name, rung, token),
                             photo.title, TILE_SIZES, widths=TILE_WIDTHS, className="reference-tile-image"),
                photo.title,
            ),
            "value": photo.name,
        }
        for photo in photos
    ]
    own_picture = (
        sized_img(own_reference_src, *TILE_BOX, alt="Your reference photos", className="reference-tile-image")
        if own_reference_src
        else html.Div("+", className="reference-tile-symbol", **{"aria-hidden": "true"})
    )
    own_caption = ("My own (upload below)" if own_reference_src is None
                   else "My own photo" if own_count == 1 else f"My own photos ({own_count})")
    own = {"label": _tile(own_picture, own_caption), "value": OWN_REFERENCE, "disabled": own_reference_src is None}
    picked_tiles = [] if picked is None else [{
        "label": _tile(file_picture(Path(picked.file), lambda rung, token: library_webp_url(picked.name, rung, token),
                                    picked.title, TILE_SIZES, widths=TILE_WIDTHS, className="reference-tile-image"),
                       picked.title),
        "value": picked.name,
    }]
    return [{"label": auto, "value": AUTO_REFERENCE}, *gallery_tiles, own, *picked_tiles]


def own_reference_options(photos: list[GalleryPhoto], own: list[OwnReferenceRecord],
                          picked: LibraryPhoto | None = None) -> list[dict]:
    """`reference_options` for the user's kept own references (`own`, first shown on its tile)."""
    source = result_thumbnail_url(own[0].image_id) if own else None
    return reference_options(photos, source, picked, len(own))


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


def method_picker(component_id: str, methods: list[ReferenceMethod], value: str) -> html.Div:
    """The method as a segmented control (one button per method; a method whose model is not installed here is
    shown disabled), with a line under it saying what each does."""
    options = [{"label": method.label if method.available else f"{method.label} (not installed)",
                "value": method.model_name, "disabled": not method.available} for method in methods]
    return html.Div(
        [
            html.Div("Match colours by", id=f"{component_id}-label", className="fw-semibold small mb-1"),
            html.Div(
                dbc.RadioItems(
                    id=component_id,
                    options=options,
                    value=value,
                    class_name="btn-group method-picker",
                    input_class_name="btn-check",
                    label_class_name="btn btn-outline-primary btn-sm",
                    label_checked_class_name="active",
                ),
                role="radiogroup",
                **{"aria-labelledby": f"{component_id}-label"},
            ),
            html.Ul([html.Li([html.Strong(method.label), ": ", METHOD_HINTS.get(method.model_name, "")])
                     for method in methods],
                    className="small text-body-secondary mt-2 mb-0 ps-3 method-hints"),
        ],
        className="method-choice mb-3",
    )


def own_reference_thumbnails(own: list[OwnReferenceRecord]) -> html.Div:
    """The user's kept own references, each with a remove button (pattern id {type: OWN_REFERENCE_REMOVE,
    image: id}), and how many more may be added."""
    if not own:
        return html.Div()
    items = [
        html.Li(
            [
                sized_img(result_thumbnail_url(record.image_id), 48, 36, alt=record.filename,
                          className="own-reference-thumb rounded"),
                html.Span(record.filename, className="own-reference-name text-truncate small", title=record.filename),
                html.Button("×", id={"type": OWN_REFERENCE_REMOVE, "image": record.image_id},
                            className="btn btn-sm btn-outline-secondary own-reference-remove", n_clicks=0,
                            title=f"Remove {record.filename}", **{"aria-label": f"Remove {record.filename}"}),
            ],
            className="own-reference",
        )
        for record in own
    ]
    room = MAX_OWN_REFERENCES - len(own)
    note = (f"{len(own)} of {MAX_OWN_REFERENCES} reference photos: room for {room} more." if room
            else f"{MAX_OWN_REFERENCES} of {MAX_OWN_REFERENCES} reference photos: remove one to add another.")
    return html.Div([html.Ul(items, className="own-references list-unstyled d-flex flex-wrap gap-2 mb-1"),
                     html.Small(note, className="text-body-secondary own-references-note")])
