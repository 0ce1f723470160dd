"""The pages' layouts and the studio's views built without a browser (fast checks that every component is valid)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image


SESSION = "pages-session-aaaaaaaaaaaaa"


def gray_png(height: int = 60, width: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.linspace(0, 255, height * width).reshape(height, width).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_studio_views_render_every_state(models):
    from colorizers.references import gallery
    from dashboard.components.studio_views import queue_list, row_card
    from dashboard.studio import Studio
    from dashboard.routes.uploads import UploadedFile

    studio = Studio(max_bytes=10**9, ttl_seconds=600, display_long_side=64, autostart=False)
    studio.add_uploads(SESSION, [UploadedFile("good.png", gray_png()), UploadedFile("bad.png", b"nope"),
                                 UploadedFile("later.png", gray_png())], models)
    studio.process_next()
    studio.process_next()
    view = studio.view(SESSION)
    assert [row.status for row in view.rows] == ["done", "error", "queued"]
    queue = queue_list(view.rows).to_plotly_json()
    assert len(queue["props"]["children"]) == 3
    cards = [row_card(row, 100, studio, gallery()) for row in view.rows]
    text = str([card.to_plotly_json() for card in cards])
    assert "Colourfulness" in text and "Took" in text and "Download PNG" in text and "not an image" in text
    # Two reference models in a row (Welsh and the exemplar) share one reference choice: one control, no
    # duplicate ids (Dash refuses a page with two components of the same id).
    controls = [node for node in _nodes(cards[0]) if isinstance(getattr(node, "id", None), dict)
                and node.id.get("type") in ("row-reference", "row-own-reference")]
    assert sorted(node.id["type"] for node in controls) == ["row-own-reference", "row-reference"]
    assert "Reference for Welsh transfer and Match by content" in text

    # What Compare draws: the rows newest first, the zip link on once a result exists, and a key that changes
    # with the strength (the page redraws only then).
    from dashboard.components.studio_views import rendered_rows, view_key

    shown = rendered_rows(view, 60, studio)
    assert [card.to_plotly_json()["props"]["data-row"] for card in shown.cards] == [
        row.row_id for row in reversed(view.rows)]
    assert "disabled" not in shown.zip_class and shown.zip_href.endswith("strength=60")
    assert shown.key == view_key(view, 60) != view_key(view, 100)
    empty = rendered_rows(studio.view(None), 100, studio)
    assert empty.cards == [] and "disabled" in empty.zip_class


def _nodes(component):
    """Every component in a layout tree."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _nodes(child)


@pytest.mark.parametrize("path", ["/", "/compare", "/legacy", "/models", "/welsh", "/video",
                                  "/compare?legacy=castle"])
def test_every_page_is_served(dashboard_app, models, path):
    assert dashboard_app.server.test_client().get(path).status_code == 200


def test_page_layouts_build(dashboard_app, models):
    import dash

    # The page modules as Dash registered them: importing them under another name would register them twice.
    pages = {page["path"]: page for page in dash.page_registry.values()}
    assert {"/", "/compare", "/legacy", "/models", "/welsh", "/video"} <= set(pages)
    for path, query in (("/", {}), ("/compare", {}), ("/compare", {"legacy": "castle"}), ("/legacy", {}),
                        ("/models", {}), ("/welsh", {}), ("/video", {})):
        for part in _page_parts(pages[path], **query):
            assert part.to_plotly_json()


def _page_parts(page: dict, **query: str) -> list:
    """What a page shows: its introduction (written out on the server, `intro=`) and its Dash layout (a function of
    the query, or a fixed component on a page with no callback)."""
    intro = page["intro"]() if page.get("intro") else []
    layout = page["layout"]
    parts = list(intro) if isinstance(intro, (list, tuple)) else [intro]
    parts.append(layout(**query) if callable(layout) else layout)
    return parts


def _page(path: str) -> str:
    """The page's introduction then its layout, as text."""
    import dash

    page = next(page for page in dash.page_registry.values() if page["path"] == path)
    return str([part.to_plotly_json() for part in _page_parts(page)])


def test_reference_transfer_page_offers_both_methods_match_by_content_first(dashboard_app, models):
    import dash

    [page] = [page for page in dash.page_registry.values() if page["path"] == "/welsh"]
    assert page["name"] == "Reference transfer"
    text = _page("/welsh")
    assert "Reference transfer" in text and "Welsh colour transfer" not in text
    assert text.index("Match by content") < text.index("Welsh 2002")
    assert "'value': 'exemplar'" in text and "Up to 5 colour photos" in text
    home = dashboard_app.server.test_client().get("/").status_code
    assert home == 200


def test_models_page_explains_match_by_content_with_its_diagram_and_scores(dashboard_app, models, tmp_path,
                                                                         monkeypatch):
    import json

    from colorizers import settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    text = _page("/models")
    assert "diagrams/exemplar.svg" in text and "Diagram of Match by content" in text
    assert "Scores with a reference you bring are not available yet" in text
    (tmp_path / "evaluation" / "reference").mkdir(parents=True)
    row = {"psnr": 28.5712, "colourfulness_gap": 7.04, "photos": 65}
    (tmp_path / "evaluation" / "reference" / "metrics.json").write_text(json.dumps({
        "split": "foreign", "max_side": 512,
        "protocols": {"true-photo": {"title": "The true photo itself", "description": "The colour original.",
                                     "rows": {"welsh": {**row, "psnr": 25.96}, "exemplar": {**row, "psnr": 36.59}}},
                      "another-shot": {"title": "Another shot of the same scene", "description": "Mirrored.",
                                       "rows": {"welsh": {**row, "psnr": 23.94}, "exemplar": row}}}}))
    text = _page("/models")
    assert "not available yet" not in text
    assert text.index("Another shot of the same scene") < text.index("The true photo itself")
    assert "28.57" in text and "36.59" in text and "7.0" in text and "long side at most 512 px" in text


def test_reference_result_card_names_its_method_references_and_fallback(dashboard_app):
    from dashboard.components.result_views import reference_result_card
    from dashboard.jobs.photos import KeptUpload, ModelResult, PhotoResults

    upload = KeptUpload("old.png", image_id="photo-id")
    result = ModelResult("exemplar", "Match by content", image_id="result-id", filename="old-colorized-exemplar.png",
                         seconds=0.31, reference_name="uploaded 1", reference_title="a.png",
                         references=("a.png", "b.png"), fallback="12% of the photo looks like nothing in the "
                                                                  "references: the CNN's colour was used there.")
    text = str(reference_result_card(PhotoResults(upload, [result])).to_plotly_json())
    assert "'Coloured: '" in text and "'Match by content'" in text and "result-method" in text
    assert "References (2): " in text and "'a.png, b.png'" in text and "references-used" in text
    assert "12% of the photo" in text and "result-fallback" in text
    welsh = ModelResult("welsh", "Welsh transfer", image_id="result-2", reference_name="sunset",
                        reference_title="Sunset", references=("Sunset",))
    text = str(reference_result_card(PhotoResults(upload, [welsh])).to_plotly_json())
    assert "'Welsh 2002'" in text and "'Sunset'" in text and "reference-used" in text and "result-fallback" not in text
    mixed = ModelResult("exemplar", "Match by content", image_id="result-3", reference_name="own:x",
                        reference_title="album.png", reference_suggested=True, references=("album.png",),
                        own_suggested=("album.png",))
    text = str(reference_result_card(PhotoResults(upload, [mixed])).to_plotly_json())
    assert "Suggested for you: colours matched part by part from 1 photo alike in content" in text
    assert "'album.png'" in text and "own-suggested" in text
