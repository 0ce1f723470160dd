"""Responsive pictures: WebP at the widths of a fixed ladder (any other width is 404), year-long caching of versioned
URLs, `srcset`/`sizes`/`width`/`height`/`loading` on the pages' pictures (no browser: Flask's test client and the
layouts' component trees)."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image


IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture()
def contact_sheet(monkeypatch, tmp_path):
    """A 1500x900 contact sheet for the "foreign" split."""
    from dashboard.page_logic import model_docs

    path = tmp_path / "contact_sheet.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (900, 1500, 3), dtype=np.uint8)).save(path)
    monkeypatch.setattr(model_docs, "contact_sheet_path",
                        lambda split="foreign": path if split == model_docs.FOREIGN_SPLIT else None)
    return path


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["v"][0]


def test_webp_bytes_and_the_ladder():
    from dashboard.page_logic.imaging import WIDTH_LADDER, ladder_for, resized_to_width, webp_bytes

    rgb = np.zeros((30, 40, 3), np.uint8)
    assert decoded(webp_bytes(rgb)).format == "WEBP"
    assert resized_to_width(np.zeros((300, 1000, 3), np.uint8), 320).shape == (96, 320, 3)
    assert resized_to_width(rgb, 320) is rgb  # never enlarged
    assert ladder_for(720) == [(160, 160), (320, 320), (480, 480), (640, 640), (960, 720)]
    assert ladder_for(5000) == [(rung, rung) for rung in WIDTH_LADDER]
    assert ladder_for(100) == [(160, 100)]


def test_srcset_lists_each_rung_with_the_width_it_serves():
    from dashboard.components.picture import responsive_img, srcset

    assert srcset(lambda rung: f"/p/w{rung}.webp", 500, (320, 480, 640)) == \
        "/p/w320.webp 320w, /p/w480.webp 480w, /p/w640.webp 500w"
    props = responsive_img(lambda rung: f"/p/w{rung}.webp", (320, 640, 960), 1000, 600, "A photo", "50vw",
                           className="x").to_plotly_json()["props"]
    assert props["srcSet"] == "/p/w320.webp 320w, /p/w640.webp 640w, /p/w960.webp 960w"  # no wider rung offered
    assert (props["width"], props["height"], props["alt"], props["sizes"]) == (1000, 600, "A photo", "50vw")
    assert props["loading"] == "lazy" and props["decoding"] == "async" and "fetchpriority" not in props
    assert props["className"] == "responsive-picture x"
    first = responsive_img(lambda rung: f"/p/w{rung}.webp", (320,), 100, 50, "", "10vw", priority=True)
    assert first.loading == "eager" and first.fetchpriority == "high"


def test_the_extra_img_props_are_written_out_on_the_server():
    from dashboard.components.picture import responsive_img
    from dashboard.components.static_html import to_html

    markup = to_html(responsive_img(lambda rung: f"/p/w{rung}.webp", (320,), 300, 200, "Alt", "100vw",
                                    priority=True))
    for attribute in ('srcset="/p/w320.webp 300w"', 'sizes="100vw"', 'width="300"', 'height="200"', 'alt="Alt"',
                      'loading="eager"', 'decoding="async"', 'fetchpriority="high"'):
        assert attribute in markup


def test_showcase_webp_at_each_ladder_width(client):
    from dashboard.components.picture import showcase_picture_attributes
    from dashboard.page_logic.imaging import WIDTH_LADDER

    attributes = showcase_picture_attributes("before")
    width, height = attributes["width"], attributes["height"]
    assert decoded(client.get("/showcase/before.png").data).size == (width, height)
    for rung in WIDTH_LADDER:
        response = client.get(f"/showcase/after/w{rung}.webp")
        assert response.status_code == 200 and response.mimetype == "image/webp"
        assert decoded(response.data).format == "WEBP"
        assert decoded(response.data).size[0] == min(rung, width)
    for bad in ("/showcase/after/w500.webp", "/showcase/after/w2000.webp", "/showcase/after/w0.webp",
                "/showcase/other/w320.webp"):
        assert client.get(bad).status_code == 404


def test_showcase_picture_attributes_for_the_servers_html(client):
    from dashboard.components.picture import showcase_picture_attributes

    before = showcase_picture_attributes("before")
    assert set(before) >= {"src", "srcset", "sizes", "width", "height", "alt"}
    assert before["fetchpriority"] == "high" and before["loading"] == "eager"
    after = showcase_picture_attributes("after")  # beside it, in the first view too: eager, not first
    assert after["loading"] == "eager" and "fetchpriority" not in after
    assert showcase_picture_attributes("nope") is None
    for candidate in before["srcset"].split(", "):
        url, descriptor = candidate.split(" ")
        response = client.get(url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE
        assert f"{decoded(response.data).size[0]}w" == descriptor


def test_cache_headers_versioned_urls_are_immutable(client, colour_gallery):
    from colorizers.references import gallery
    from dashboard.components.picture import showcase_picture_attributes
    from dashboard.page_logic.imaging import file_token
    from dashboard.routes.urls import gallery_webp_url

    token = token_of(showcase_picture_attributes("before")["src"])
    assert client.get(f"/showcase/before/w320.webp?v={token}").headers["Cache-Control"] == IMMUTABLE
    assert client.get(f"/showcase/before.png?v={token}").headers["Cache-Control"] == IMMUTABLE
    assert client.get("/showcase/before/w320.webp").headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/showcase/before/w320.webp?v=stale").headers["Cache-Control"] == "public, max-age=86400"
    photo = gallery()[0]
    response = client.get(gallery_webp_url(photo.name, 160, file_token(photo.file)))
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert decoded(response.data).size[0] <= 160
    assert client.get(gallery_webp_url(photo.name, 161)).status_code == 404
    assert client.get(gallery_webp_url("no-such-photo", 160)).status_code == 404


def test_contact_sheet_webp(client, contact_sheet):
    from dashboard.page_logic.imaging import WIDTH_LADDER, file_token
    from dashboard.routes.urls import contact_sheet_webp_url

    for rung in WIDTH_LADDER:
        response = client.get(contact_sheet_webp_url("foreign", rung, file_token(contact_sheet)))
        assert response.status_code == 200 and response.mimetype == "image/webp"
        assert decoded(response.data).size == (min(rung, 1500), round(900 * min(rung, 1500) / 1500))
        assert response.headers["Cache-Control"] == IMMUTABLE
    assert client.get(contact_sheet_webp_url("foreign", 960)).headers["Cache-Control"] == "public, max-age=300"
    assert client.get(contact_sheet_webp_url("foreign", 1000)).status_code == 404
    assert client.get(contact_sheet_webp_url("val", 960)).status_code == 404


def test_legacy_webp(client):
    from dashboard.page_logic.legacy import legacy_photos
    from dashboard.routes.urls import legacy_webp_url

    photos = [photo for photo in legacy_photos() if photo.path.is_file()]
    if not photos:
        pytest.skip("no legacy photos installed")
    response = client.get(legacy_webp_url(photos[0].name, 480))
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert decoded(response.data).size[0] == min(480, Image.open(photos[0].path).size[0])
    assert client.get(legacy_webp_url(photos[0].name, 481)).status_code == 404
    assert client.get(legacy_webp_url("../manifest", 480)).status_code == 404


def _images(node):
    from dash import html
    from dash.development.base_component import Component

    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _images(child)
        return
    if isinstance(node, dict):  # radio options: their labels are components
        yield from _images(node.get("label"))
        return
    if not isinstance(node, Component):
        return
    if isinstance(node, html.Img):
        yield node
    for name in ("children", "options", "label"):
        yield from _images(getattr(node, name, None))


def _page_trees(page: dict) -> list:
    """What a page shows: its server-written introduction (if any) and its Dash layout."""
    trees = []
    for part in (page.get("intro"), page.get("layout")):
        trees.append(part() if callable(part) else part)
    return trees


def test_every_picture_on_every_page_has_width_height_and_alt(dashboard_app, models, contact_sheet):
    import dash

    seen = 0
    for page in dash.page_registry.values():
        for image in _images(_page_trees(page)):
            if getattr(image, "src", None) is None:
                continue  # filled in by a callback
            seen += 1
            assert getattr(image, "alt", None) is not None, (page["path"], image.src)
            assert isinstance(getattr(image, "width", None), int), (page["path"], image.src)
            assert isinstance(getattr(image, "height", None), int), (page["path"], image.src)
    assert seen


def test_pages_use_webp_srcsets(dashboard_app, models, contact_sheet):
    import dash

    pages = {page["path"]: page for page in dash.page_registry.values()}
    home = [image for image in _images(_page_trees(pages["/"])) if getattr(image, "srcSet", None)]
    assert home and home[0].fetchpriority == "high" and home[0].loading == "eager"
    models_page = list(_images(_page_trees(pages["/models"])))
    sheets = [image for image in models_page if "contact_sheet/w" in (getattr(image, "src", "") or "")]
    assert sheets and sheets[0].loading == "lazy" and sheets[0].width == 1500 and sheets[0].height == 900
    welsh = [image for image in _images(_page_trees(pages["/welsh"])) if getattr(image, "srcSet", None)]
    assert welsh and all(".webp" in image.srcSet for image in welsh)
    legacy = list(_images(_page_trees(pages["/legacy"])))
    if legacy:
        assert all(".webp" in image.srcSet for image in legacy)
        assert legacy[0].loading == "eager" and all(image.loading == "lazy" for image in legacy[1:])
