"""What the server does for safety: security headers on every response, uploads parsed in memory only, and no
500 for a made-up script path.

Headers: a Content-Security-Policy the app really passes, and the usual others.

Dash's own inline scripts (its config and the renderer's start, and the clientside callbacks) are allowed by
their hashes, which Dash computes (`Dash.csp_hashes`) once every page and callback is registered; no script runs
from anywhere but this site, and no 'unsafe-eval' is needed. Styles allow inline attributes: React and the Dash
components set them (a style cannot run code). Every asset is vendored, so nothing is loaded from elsewhere.
"""
from __future__ import annotations

import io
from typing import IO

from dash import Dash
from dash.exceptions import DependencyException
from flask import Request, Response, request

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "same-origin",
}


def content_security_policy(script_hashes: list[str]) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class InMemoryRequest(Request):
    """Uploads are parsed into memory, never spooled to a temporary file (Werkzeug's default does so above
    500 KB): the site promises that photos are never stored on disk."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None) -> IO[bytes]:
        return io.BytesIO()


def refuse_unknown_dependencies(app: Dash) -> None:
    """A request for a script Dash does not serve (an unknown package, a path outside it such as `..%2f`) is a
    404, and a hand-made callback request naming outputs no callback has is a 400: not a 500 with a traceback in
    the log. Dash raises DependencyException for the first and KeyError for the second."""

    @app.server.errorhandler(DependencyException)
    def not_found(_error: DependencyException) -> tuple[str, int, dict]:
        return "Not found.", 404, {"Content-Type": "text/plain; charset=utf-8"}

    @app.server.errorhandler(KeyError)
    def unknown_callback(error: KeyError) -> tuple[str, int, dict]:
        if not request.path.endswith("/_dash-update-component"):
            raise error  # a bug of ours elsewhere: Flask logs it and answers 500
        return "No such callback.", 400, {"Content-Type": "text/plain; charset=utf-8"}


def add_security_headers(app: Dash) -> None:
    """Set the headers on every response of `app`'s server (pages, callbacks, API, results, assets)."""
    policy: list[str] = []  # made on the first response, when every callback is registered

    @app.server.after_request
    def secure(response: Response) -> Response:
        if not policy:
            policy.append(content_security_policy(app.csp_hashes()))
        response.headers.setdefault("Content-Security-Policy", policy[0])
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
