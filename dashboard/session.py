"""Browser sessions: a server-made id in an HttpOnly, SameSite cookie, signed so that a client cannot make one up.

The id never appears in a URL or a page: image URLs carry their own per-image tokens instead (see
`dashboard.urls`), and what only the whole session may do (the zip of all its results) reads the cookie.
Callbacks and routes call `current_session_id()` inside the request; a request without a valid cookie gets a
fresh session, set on its response by `install_session_cookie`.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from flask import Flask, Response, g, request

from .process_wide import process_wide
from .redis_link import redis_client

COOKIE_NAME = "colorizer_session"
_SIGNATURE_CHARS = 32
_SHARED_KEY_NAME = "colorizer:session-key"


@process_wide
def _key() -> bytes:
    """The signing key: from the environment (so that several processes and machines agree); else, with Redis, one
    the first process made and left there for the others; else one made at start (sessions then live in this
    process's memory, so a restart losing them loses nothing more)."""
    configured = os.environ.get("COLORIZER_SECRET_KEY", "").encode()
    client = redis_client()
    if configured or client is None:
        return configured or secrets.token_bytes(32)
    client.set(_SHARED_KEY_NAME, secrets.token_bytes(32), nx=True)
    return client.get(_SHARED_KEY_NAME)


def new_session_id() -> str:
    """A fresh unguessable id (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def _signature(session_id: str) -> str:
    return hmac.new(_key(), session_id.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def cookie_value(session_id: str) -> str:
    """What the cookie holds: the id and its signature."""
    return f"{session_id}.{_signature(session_id)}"


def session_id_from_cookie(value: str | None) -> str | None:
    """The id in a cookie value this server signed; None for anything else (made up, altered, malformed)."""
    session_id, _, signature = (value or "").rpartition(".")
    if len(session_id) != 22 or not hmac.compare_digest(signature, _signature(session_id)):
        return None
    return session_id


def current_session_id() -> str:
    """The session of the request being served: its cookie's, or a new one (set on the response)."""
    if "session_id" not in g:
        found = session_id_from_cookie(request.cookies.get(COOKIE_NAME))
        g.session_id, g.new_session = (found, False) if found else (new_session_id(), True)
    return g.session_id


def install_session_cookie(server: Flask) -> None:
    """Give every page a session cookie, and set the cookie of a session made during a request."""

    @server.after_request
    def set_cookie(response: Response) -> Response:
        if request.method == "GET" and response.mimetype == "text/html":
            current_session_id()  # a page: the browser will need a session for what it does next
        if g.get("new_session"):
            response.set_cookie(COOKIE_NAME, cookie_value(g.session_id), httponly=True, samesite="Lax",
                                secure=request.is_secure, path="/")
        return response
