"""Browser sessions: a server-made id in an HttpOnly, SameSite cookie, signed so that a client cannot make one up.

The id never appears in a URL or a page: image URLs carry their own per-image tokens instead (see
`dashboard.routes.urls`), and what only the whole session may do (the zip of all its results) reads the cookie.
Callbacks and routes call `current_session_id()` inside the request; a request without a valid cookie gets a
fresh session, set on its response by `install_session_cookie`.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from flask import Flask, Response, g, has_request_context, request

from .outage import unavailable_response
from ..server.redis_link import RedisUnavailable, redis_client

COOKIE_NAME = "colorizer_session"
_SIGNATURE_CHARS = 32
SHARED_KEY_NAME = "colorizer:session-key"


class _SigningKey:
    """The key cookies are signed with, the same in every process at every moment.

    From COLORIZER_SECRET_KEY when set (`make run-scaled` and `python -m dashboard.server.serve` with several processes
    make one and hand it to every process they start, so no restart can split it). Else, with Redis, the one kept
    there: read again on every use, never kept apart per process, so that after Redis lost it (a restart) every
    process moves to the one key the first of them leaves there; while Redis cannot be reached the last one read
    serves. Else (one process, sessions in its memory) one made at start: a restart losing it loses nothing more.
    """

    def __init__(self) -> None:
        self._last_read: bytes | None = None
        self._own = secrets.token_bytes(32)

    def __call__(self) -> bytes:
        configured = os.environ.get("COLORIZER_SECRET_KEY", "").encode()
        if configured:
            return configured
        client = redis_client()
        if client is None:
            return self._own
        try:
            return self._read(client)
        except RedisUnavailable:
            if self._last_read is None:
                raise
            return self._last_read

    def _read(self, client) -> bytes:
        key = client.get(SHARED_KEY_NAME)
        if key is None:  # a fresh Redis: the first process to get here leaves the key every process then reads
            client.set(SHARED_KEY_NAME, secrets.token_bytes(32), nx=True)
            key = client.get(SHARED_KEY_NAME)
        self._last_read = key
        return key


_key = _SigningKey()


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


def existing_session_id() -> str | None:
    """The request's session if it has one (a valid cookie, or one made earlier in this request), else None and
    nothing is made: for what only reads, such as a page's polls. Outside a request (a layout checked at start-up):
    None."""
    if not has_request_context():
        return None
    if "session_id" in g:
        return g.session_id
    return session_id_from_cookie(request.cookies.get(COOKIE_NAME))


def install_session_cookie(server: Flask) -> None:
    """Give every page a session cookie, and set the cookie of a session made during a request."""

    @server.after_request
    def set_cookie(response: Response) -> Response:
        try:
            if request.method == "GET" and response.mimetype == "text/html":
                current_session_id()  # a page: the browser will need a session for what it does next
            value = cookie_value(g.session_id) if g.get("new_session") else None
        except RedisUnavailable:  # the key lives in Redis, and this process has not read it yet
            return unavailable_response()
        if value is not None:
            response.set_cookie(COOKIE_NAME, value, httponly=True, samesite="Lax",
                                secure=request.is_secure, path="/")
        return response
