"""One visitor cannot take every app thread: heavy requests are limited per visitor.

Heavy requests are those that hold an app thread for seconds: the zip of a session's results, the API's colouring
and its video submissions (POST /api/videos reads and checks the whole clip), a page's upload of files (POST
/uploads), and the page callbacks that take uploads (a changed `contents`) or apply a touch-up (a changed
`...-apply.n_clicks`).
A visitor (its session cookie, when it has a valid one; else its address, as for API clients) may run at most
HEAVY_PER_VISITOR of them at once, and one client address (the proxy's X-Forwarded-For when COLORIZER_TRUSTED_PROXY
believes it) at most HEAVY_PER_ADDRESS;
a further one is answered at once with 429 and Retry-After (JSON {"error": message} under /api), without waiting
for a thread's worth of work. Eight zips at once from one visitor leave the other app threads to everybody else.
"""
from __future__ import annotations

import threading
from collections import Counter

from flask import Flask, Response, g, jsonify, request

from .. import settings
from .session import COOKIE_NAME, session_id_from_cookie

RETRY_AFTER_SECONDS = 5


class VisitorShare:
    """Counts each key's heavy requests at once; a request is let in only when every one of its keys is under its
    limit (keys are (kind, value) pairs: ("visitor", ...) and ("address", ip), each kind with its own limit)."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits
        self._running: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def try_enter(self, keys: list[tuple[str, str]]) -> bool:
        with self._lock:
            if any(self._running[key] >= self.limits[key[0]] for key in keys):
                return False
            for key in keys:
                self._running[key] += 1
            return True

    def leave(self, keys: list[tuple[str, str]]) -> None:
        with self._lock:
            for key in keys:
                self._running[key] -= 1
                if self._running[key] <= 0:
                    del self._running[key]

    def running(self, key: tuple[str, str]) -> int:
        with self._lock:
            return self._running[key]


def is_heavy() -> bool:
    """Whether the request being served is one of the heavy ones (see the module's docstring)."""
    if request.path == "/results/all.zip":
        return True
    if request.method != "POST":
        return False
    if request.path in ("/api/colorize", "/api/videos", "/uploads"):
        return True
    if request.path.endswith("/_dash-update-component"):
        body = request.get_json(silent=True)  # Dash reads it again from Flask's cache
        changed = body.get("changedPropIds") if isinstance(body, dict) else None
        return isinstance(changed, list) and any(
            isinstance(prop, str) and (prop.endswith(".contents") or prop.endswith("-apply.n_clicks"))
            for prop in changed)
    return False


def visitor_keys() -> list[tuple[str, str]]:
    """The request's visitor (its session, or without a valid cookie, as API clients are, its address) and its
    address."""
    address = request.remote_addr or ""
    session_id = session_id_from_cookie(request.cookies.get(COOKIE_NAME))
    return [("visitor", f"session {session_id}" if session_id else f"address {address}"), ("address", address)]


def busy_response() -> Response:
    message = (f"You already have {settings.HEAVY_PER_VISITOR} downloads, uploads or colourings running; please "
               f"try again in {RETRY_AFTER_SECONDS} s, when one has finished.")
    response = jsonify(error=message) if request.path.startswith("/api/") else Response(message, mimetype="text/plain")
    response.status_code = 429
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def install_fair_share(server: Flask, share: VisitorShare | None = None) -> VisitorShare:
    """Limit `server`'s heavy requests per visitor and per address (default: the settings' limits)."""
    share = share or VisitorShare({"visitor": settings.HEAVY_PER_VISITOR, "address": settings.HEAVY_PER_ADDRESS})

    @server.before_request
    def take_a_share() -> Response | None:
        if not is_heavy():
            return None
        keys = visitor_keys()
        if not share.try_enter(keys):
            return busy_response()
        g.fair_share_keys = keys
        return None

    @server.teardown_request
    def give_it_back(_error: BaseException | None) -> None:
        keys = g.pop("fair_share_keys", None)
        if keys is not None:
            share.leave(keys)

    return share
