"""The Dash app: pages from `dashboard/pages`, the frame around them (`dashboard.components.document`), the session
cookie, the image routes and the API.

Serve with `python -m dashboard.server.serve` (Waitress: one process with several threads, results kept in its memory;
or, with COLORIZER_REDIS_URL, several processes sharing Redis), or run `python -m dashboard` for the development
server.
"""
from __future__ import annotations

from pathlib import Path

import dash
import flask
import dash_bootstrap_components as dbc
from dash import Dash, html

from colorizers import settings

from .page_logic import showcase
from .routes.api import register_api
from .guards.callback_guard import install_callback_request_checks
from .server.compression import GzipResponses, cache_fingerprinted_assets
from .server.readiness import register_health_routes
from .components.document import (
    INDEX_TEMPLATE,
    SCRIPT_LOADER,
    core_parts,
    framed_entry,
    page_container_at,
    page_title,
    is_static,
    page_for_path,
    preload_links,
    scripts_loaded_after_page,
    without_scripts,
    without_unused_scripts,
)
from .components.navbar import SITE_NAME
from .guards.fair_share import install_fair_share
from .guards.outage import OUTAGE_BANNER_ID, callback_error, install_outage_answers
from .stores.results_store import default_store
from .routes.images import register_routes, register_video_routes
from .guards.security import (
    BoundedJSONProvider,
    InMemoryRequest,
    TrustedProxyHeaders,
    add_security_headers,
    not_found_for_unknown_pages,
    page_meta_without_host,
    refuse_unknown_dependencies,
)
from .guards.session import install_session_cookie
from .routes.uploads import register_upload_route
from .studio import default_studio

DASHBOARD_DIR = Path(__file__).resolve().parent
ASSETS_DIR = DASHBOARD_DIR.parent / "assets"


class StudioDash(Dash):
    """Dash, with each page's document framed on the server (`dashboard.components.document`)."""

    def index(self, *args, **kwargs) -> str:
        document = super().index(*args, **kwargs)
        page = page_for_path(dash.page_registry.values(), flask.request.path)
        if is_static(page):
            return without_scripts(document)
        return scripts_loaded_after_page(document, core_parts(page))

    def interpolate_index(self, **kwargs) -> str:
        pages = list(dash.page_registry.values())
        page = page_for_path(pages, flask.request.path if flask.request else "/")
        kwargs["metas"] = preload_links(page) + kwargs.get("metas", "")
        kwargs["title"] = page_title(page, kwargs.get("title", ""))
        kwargs["app_entry"] = framed_entry(kwargs["app_entry"], pages, page)
        kwargs["scripts"] = without_unused_scripts(kwargs["scripts"])
        return super().interpolate_index(**kwargs)


app = StudioDash(
    __name__,
    use_pages=True,
    pages_folder=str(DASHBOARD_DIR / "pages"),
    assets_folder=str(ASSETS_DIR),
    # Bootstrap is vendored in assets/vendor (served like every .css in assets): the site works offline.
    external_stylesheets=[],
    title=SITE_NAME,
    update_title=None,
    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
               # What assets/uploads.js checks before it sends a drop of files to POST /uploads.
               {"name": "colorizer-max-file-bytes", "content": str(settings.MAX_UPLOAD_BYTES)},
               {"name": "colorizer-max-request-bytes", "content": str(settings.MAX_REQUEST_BYTES)}],
    on_error=callback_error,  # while Redis cannot be reached: the banner says so (dashboard.guards.outage)
    # Callbacks name components of other pages: without this, Dash puts every page's layout into every page
    # (220 KB) so that the browser can check them against it; the tests check the callbacks instead.
    suppress_callback_exceptions=True,
)
app.index_string = INDEX_TEMPLATE
app.renderer = SCRIPT_LOADER  # Dash's scripts once the page has loaded (dashboard.components.document)
server = app.server
server.request_class = InMemoryRequest
server.json = BoundedJSONProvider(server)  # a body nested too deeply to parse is a 400, not a RecursionError
server.wsgi_app = TrustedProxyHeaders(server.wsgi_app)  # X-Forwarded-* believed from COLORIZER_TRUSTED_PROXY only
server.wsgi_app = GzipResponses(server.wsgi_app)  # text gzipped as it streams out (dashboard.server.compression)
cache_fingerprinted_assets(server)
# Also enforced by Waitress before the app (dashboard.server.serve); this covers the development server.
server.config["MAX_CONTENT_LENGTH"] = settings.MAX_REQUEST_BYTES
register_routes(server, default_store(), default_studio())
register_video_routes(server)  # the coloured videos (dashboard.jobs.videos)
register_api(server)
register_upload_route(server)  # files from the pages' drop zones (assets/uploads.js), never inside a callback
register_health_routes(server)
install_session_cookie(server)
install_fair_share(server)  # heavy requests: a bounded number at once per visitor and per address
install_outage_answers(server)
add_security_headers(app)
refuse_unknown_dependencies(app)
install_callback_request_checks(app)  # a hand-made callback request that is not what a page sends: 400
not_found_for_unknown_pages(app)
page_meta_without_host(app)  # no URL made from the Host header in a page


def serve_layout() -> html.Div:
    """What Dash renders inside each page's frame (`dashboard.components.document`; the session is in a cookie,
    never in the page)."""
    return html.Div(
        [
            dbc.Container(dbc.Alert(id=OUTAGE_BANNER_ID, color="warning", is_open=False, dismissable=True,
                                    class_name="mt-3"), fluid="lg"),
            dbc.Container(page_container_at(flask.request.referrer, dash.page_registry.values()), fluid="lg",
                          class_name="pb-5"),
        ],
        className="page-app",  # assets/document.css: the page's first margins stay inside it
    )


app.layout = serve_layout

# Made now, once, so that the home page shows its example at once (Welsh only: no TensorFlow, no fork issue).
showcase.get_showcase()
