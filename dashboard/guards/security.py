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

import dash
from dash import Dash
from dash._pages import _page_meta_tags
from dash.exceptions import DependencyException
from flask import Request, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from colorizers import settings

from ..settings import CALLBACK_MAX_BYTES

CALLBACK_PATH_END = "/_dash-update-component"

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "same-origin",
}
# Over HTTPS only (a browser ignores it over plain HTTP, and it must not pin a site that has no certificate).
HSTS = "max-age=31536000"
_FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                      "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX")


class TrustedProxyHeaders:
    """WSGI middleware: a request whose connecting peer (REMOTE_ADDR) is one of `colorizers.settings.
    TRUSTED_PROXIES` takes its scheme, client address and host from that proxy's X-Forwarded-Proto, -For and -Host
    (Werkzeug's ProxyFix, one proxy deep); from any other peer those headers are removed, so that nothing can
    believe them. With the scheme https, `request.is_secure` is true: the session cookie is Secure and responses
    carry Strict-Transport-Security."""

    def __init__(self, app) -> None:
        self.app = app
        self.behind_proxy = ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ: dict, start_response):
        if environ.get("REMOTE_ADDR") in settings.TRUSTED_PROXIES:
            return self.behind_proxy(environ, start_response)
        for name in _FORWARDED_HEADERS:
            environ.pop(name, None)
        return self.app(environ, start_response)


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


class FormTooLarge(RequestEntityTooLarge):
    """A 413 from Werkzeug's form limits (too many parts, a text field too long), its description saying which."""


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a request body nested too deeply to parse (e.g. 100,000 nested lists, which make
    Python's parser raise RecursionError) is invalid JSON like any other: `request.get_json` answers 400 (or, with
    silent=True, None) instead of a 500. Set as the server's `json` (Flask hands it to every request)."""

    def loads(self, s: str | bytes, **kwargs) -> object:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON body is nested too deeply.") from None


class InMemoryRequest(Request):
    """Uploads are parsed into memory, never spooled to a temporary file (Werkzeug's default does so above
    500 KB): the site promises that photos are never stored on disk.

    Werkzeug refuses a multipart form past its limits with a bare 413; this says which limit (FormTooLarge), so
    that a client sending too many parts is not told about the size of a photo."""

    @property
    def max_content_length(self) -> int | None:
        """The app's limit (COLORIZER_MAX_REQUEST_BYTES), or for a callback request the much smaller
        `dashboard.settings.CALLBACK_MAX_BYTES`: callbacks carry upload tokens, never files. Checked against the
        Content-Length before anything is read, and while a chunked body streams in."""
        limit = super().max_content_length
        if self.path.endswith(CALLBACK_PATH_END):
            return CALLBACK_MAX_BYTES if limit is None else min(limit, CALLBACK_MAX_BYTES)
        return limit

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None) -> IO[bytes]:
        return io.BytesIO()

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge as error:
            message = self._form_limit_message(error)
            if message is None:
                raise
            raise FormTooLarge(description=message) from None

    def _form_limit_message(self, error: RequestEntityTooLarge) -> str | None:
        """Which of Werkzeug's form limits `error` came from, told by where it was raised (Werkzeug gives the
        exception no words): its multipart decoder counts parts in `next_event` and measures text fields in
        `receive_data` and the parser's `parse`. None for anything else (the body's own size)."""
        traceback = error.__traceback__
        while traceback is not None and traceback.tb_next is not None:
            traceback = traceback.tb_next
        raised_in = traceback.tb_frame.f_code.co_name if traceback is not None else ""
        if raised_in == "next_event" and self.max_form_parts is not None:
            return (f"The request has more than {self.max_form_parts:,} parts; send one photo, its references and "
                    "hints, and a few short fields.")
        if raised_in in ("receive_data", "parse") and self.max_form_memory_size is not None:
            return (f"A text field of the form is larger than {self.max_form_memory_size / 1000:g} KB; fields such "
                    "as 'model' and 'strength' are a few characters (send photos as files).")
        return None


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
        if request.is_secure:  # directly, or as a trusted proxy says (TrustedProxyHeaders)
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def not_found_for_unknown_pages(app: Dash) -> None:
    """Dash answers every path it has no route for with its page shell (and the browser then shows "404 - Page
    not found"): such a response keeps its page but has status 404, unless the path is a registered page's (with
    or without a trailing slash). The app's pages use plain paths, no path templates."""
    catch_all = app.config.routes_pathname_prefix + "<path:path>"

    @app.server.after_request
    def not_found(response: Response) -> Response:
        rule = request.url_rule
        if rule is not None and rule.rule == catch_all and response.status_code == 200:
            pages = {page["path"].strip("/") for page in dash.page_registry.values()}
            if request.path.strip("/") not in pages:
                response.status_code = 404
        return response


def page_meta_without_host(app: Dash) -> None:
    """Dash's meta tags for a page (description, titles, `twitter:url`, image URLs) write absolute URLs made from the
    request's Host header, which a client chooses (a forged Host would appear in the page, and in any cache in
    front of it): the same tags are written here with those URLs relative to the site instead."""
    app.config.include_pages_meta = False  # Dash's own, with the Host in them
    generate_meta = app._generate_meta

    def metas_with_relative_urls() -> list[dict]:
        metas = generate_meta()
        if not request:
            return metas
        host_url = request.host_url  # "scheme://host/", as Dash joins it
        page_metas = [{**tag, "content": "/" + tag["content"][len(host_url):]}
                      if str(tag.get("content", "")).startswith(host_url) else tag
                      for tag in _page_meta_tags(app, app.backend.request_adapter())]
        return page_metas + metas

    app._generate_meta = metas_with_relative_urls
