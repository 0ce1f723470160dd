"""The answers Waitress makes itself, before the app sees a request (a body over COLORIZER_MAX_REQUEST_BYTES: 413;
headers too large: 431; a malformed request: 400), made like the app's: JSON {"error": message} under /api, a
plain sentence elsewhere, and the security headers every app response carries (`dashboard.guards.security`).
"""
from __future__ import annotations

import json

from waitress.task import ErrorTask

from colorizers import settings

from .. import settings as dashboard_settings
from ..guards.security import STATIC_HEADERS

# Nothing in these answers is a page: nothing may run or be framed.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


def error_message(code: int, reason: str, path: str = "") -> str:
    """What the client is told, in the words the app uses."""
    if code == 413 and path.endswith("/_dash-update-component"):
        return (f"The request is too large: a page's callback request may be at most "
                f"{dashboard_settings.CALLBACK_MAX_BYTES / 1e6:g} MB (files are sent to /uploads, not in it).")
    if code == 413 and path == dashboard_settings.VIDEO_API_PATH:
        return (f"The request is too large: a video request may be at most "
                f"{dashboard_settings.video_request_max_bytes() / 1e6:g} MB (the clip within its own limit).")
    if code == 413:
        return (f"The request is too large: a whole request may be at most {settings.MAX_REQUEST_BYTES / 1e6:g} MB "
                f"(each photo at most {settings.MAX_UPLOAD_BYTES / 1e6:g} MB).")
    if code == 431:
        return "The request's headers are too large."
    if code == 400:
        return "The request is malformed and could not be read."
    return f"{reason}."


class SiteErrorTask(ErrorTask):
    """Waitress's ErrorTask, its body and headers those of the site (see the module's docstring)."""

    def execute(self) -> None:
        error = self.request.error
        path = getattr(self.request, "path", "") or ""
        message = error_message(error.code, error.reason, path)
        if path == "/api" or path.startswith("/api/"):
            body, content_type = json.dumps({"error": message}).encode(), "application/json"
        else:
            body, content_type = (message + "\n").encode(), "text/plain; charset=utf-8"
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend([("Content-Type", content_type),
                                      ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                                      *STATIC_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
