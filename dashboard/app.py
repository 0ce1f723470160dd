"""The Dash app: pages from `dashboard/pages`, the shell (navbar), the session cookie, the image routes and the API.

Serve with `python -m dashboard.serve` (Waitress: one process with several threads, results kept in its memory;
or, with COLORIZER_REDIS_URL, several processes sharing Redis), or run `python -m dashboard` for the development
server.
"""
from __future__ import annotations

from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, html

from colorizers import settings

from . import showcase
from .api import register_api
from .callback_guard import install_callback_request_checks
from .readiness import register_health_routes
from .components.navbar import SITE_NAME, navbar
from .fair_share import install_fair_share
from .outage import OUTAGE_BANNER_ID, callback_error, install_outage_answers
from .results_store import default_store
from .routes import register_routes, register_video_routes
from .security import (
    BoundedJSONProvider,
    InMemoryRequest,
    TrustedProxyHeaders,
    add_security_headers,
    not_found_for_unknown_pages,
    page_meta_without_host,
    refuse_unknown_dependencies,
)
from .session import install_session_cookie
from .uploads import register_upload_route
from .studio import default_studio

DASHBOARD_DIR = Path(__file__).resolve().parent
ASSETS_DIR = DASHBOARD_DIR.parent / "assets"

app = Dash(
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
    on_error=callback_error,  # while Redis cannot be reached: the shell's banner says so (dashboard.outage)
)
server = app.server
server.request_class = InMemoryRequest
server.json = BoundedJSONProvider(server)  # a body nested too deeply to parse is a 400, not a RecursionError
server.wsgi_app = TrustedProxyHeaders(server.wsgi_app)  # X-Forwarded-* believed from COLORIZER_TRUSTED_PROXY only
# Also enforced by Waitress before the app (dashboard.serve); this covers the development server.
server.config["MAX_CONTENT_LENGTH"] = settings.MAX_REQUEST_BYTES
register_routes(server, default_store(), default_studio())
register_video_routes(server)  # the coloured videos (dashboard.video_jobs)
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
    """The shell around every page (the session is in a cookie, never in the page)."""
    return html.Div(
        [
            navbar(dash.page_registry.values()),
            dbc.Container(dbc.Alert(id=OUTAGE_BANNER_ID, color="warning", is_open=False, dismissable=True,
                                    class_name="mt-3"), fluid="lg"),
            dbc.Container(dash.page_container, fluid="lg", class_name="pb-5"),
            html.Footer(
                dbc.Container(
                    "Photos stay in this server's memory for about an hour and are never stored on disk.",
                    fluid="lg",
                ),
                className="site-footer small text-body-secondary py-3",
            ),
        ]
    )


app.layout = serve_layout

# Made now, once, so that the home page shows its example at once (Welsh only: no TensorFlow, no fork issue).
showcase.get_showcase()
