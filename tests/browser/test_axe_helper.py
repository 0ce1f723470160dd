"""The axe helper finds real violations, passes a clean page, and works under a strict Content-Security-Policy like
the site's (script-src 'self' and hashes, no 'unsafe-inline' or 'unsafe-eval')."""
from __future__ import annotations

import pytest
from dash import Dash, dcc, html

from axe import assert_no_axe_violations, axe_violations

# A 1x1 transparent GIF: an image that loads without a request.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
# Dash's own page with a language, so that the clean page has nothing for axe to report outside the layout.
INDEX_WITH_LANG = """<!DOCTYPE html>
<html lang="en">
    <head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}</head>
    <body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def small_app(children) -> Dash:
    """A Dash app with `children` in a <main> and the strict policy on every response."""
    app = Dash(__name__, title="Axe helper test")
    app.index_string = INDEX_WITH_LANG
    app.layout = html.Main([html.H1("Axe helper test"), *children])

    @app.server.after_request
    def strict_policy(response):
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' " + " ".join(app.csp_hashes()))
        return response

    return app


def test_axe_reports_an_image_without_alt_and_an_unlabelled_input(dash_duo):
    dash_duo.start_server(small_app([html.Img(id="no-alt", src=PIXEL), dcc.Input(id="no-label", type="text")]))
    dash_duo.wait_for_element("#no-label")

    violations = {violation["id"]: violation for violation in axe_violations(dash_duo.driver)}

    assert {"image-alt", "label"} <= set(violations)
    assert violations["image-alt"]["nodes"][0]["target"] == ["#no-alt"]
    assert violations["label"]["nodes"][0]["target"] == ["#no-label"]
    with pytest.raises(AssertionError, match=r"image-alt \(critical\)[\s\S]*#no-alt: <img"):
        assert_no_axe_violations(dash_duo.driver, "the broken page")


def test_a_clean_page_passes(dash_duo):
    dash_duo.start_server(small_app([html.Img(src=PIXEL, alt="A blank pixel"),
                                     html.Label("Name", htmlFor="name"), dcc.Input(id="name", type="text")]))
    dash_duo.wait_for_element("#name")

    assert_no_axe_violations(dash_duo.driver, "the clean page")
    assert axe_violations(dash_duo.driver) == []  # a second run on the same page reuses the injected axe
