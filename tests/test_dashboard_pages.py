"""The pages' layouts and the studio's views built without a browser (fast checks that every component is valid)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.browser import fake_models

SESSION = "pages-session-aaaaaaaaaaaaa"


@pytest.fixture(scope="module")
def dashboard_app(colour_gallery):
    from dashboard import app as app_module

    return app_module


@pytest.fixture()
def models(monkeypatch, dashboard_app):
    return fake_models.register_fakes(monkeypatch)


def gray_png(height: int = 60, width: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.linspace(0, 255, height * width).reshape(height, width).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_studio_views_render_every_state(models):
    from colorizers.references import gallery
    from dashboard.components.studio_views import queue_list, row_card
    from dashboard.studio import Studio
    from dashboard.uploads import UploadedFile

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


@pytest.mark.parametrize("path", ["/", "/compare", "/legacy", "/models", "/welsh", "/compare?legacy=castle"])
def test_every_page_is_served(dashboard_app, models, path):
    assert dashboard_app.server.test_client().get(path).status_code == 200


def test_page_layouts_build(dashboard_app, models):
    import dash

    # The page modules as Dash registered them: importing them under another name would register them twice.
    pages = {page["path"]: page["layout"] for page in dash.page_registry.values()}
    for layout in (pages["/compare"](), pages["/compare"](legacy="castle"), pages["/legacy"](), pages["/models"]()):
        assert layout.to_plotly_json()
