"""What the site answers while Redis (the scaled set-up's store and queue) cannot be reached: never a 500 or a
traceback, always a 503 that says to try again, with Retry-After; redis-py reconnects by itself once Redis is back.

- routes (results, studio images, the zip) and anything else outside a page's callbacks: 503 with the message (JSON
  for the API and Dash's callback requests, plain text otherwise);
- a page's callback: the page shows the message in the shell's banner (`OUTAGE_BANNER_ID`) and keeps what it showed.

Photos kept only in a Redis that restarted empty are gone: their URLs answer 404 saying so (`dashboard.routes.images`).
"""
from __future__ import annotations

import logging

from dash import set_props
from flask import Flask, Response, jsonify, request

from ..server.redis_link import RETRY_AFTER_SECONDS, STORE_UNAVAILABLE_MESSAGE, RedisUnavailable

logger = logging.getLogger(__name__)

OUTAGE_BANNER_ID = "store-outage-banner"


def _outage_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = RedisUnavailable
    try:  # Celery's client cannot reach its broker (the same Redis)
        from kombu.exceptions import OperationalError
    except ImportError:
        return errors
    return (*errors, OperationalError)


OUTAGE_ERRORS = _outage_errors()


def is_outage(error: BaseException) -> bool:
    return isinstance(error, OUTAGE_ERRORS)


def unavailable_response() -> Response:
    """503 with Retry-After: JSON for the API and callbacks, plain text for the rest."""
    if request.path.startswith("/api/") or request.path.endswith("/_dash-update-component"):
        response = jsonify(error=STORE_UNAVAILABLE_MESSAGE)
    else:
        response = Response(STORE_UNAVAILABLE_MESSAGE, mimetype="text/plain")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def install_outage_answers(server: Flask) -> None:
    """Answer 503 (not 500) for a request that needed Redis while it could not be reached."""

    def unavailable(error: Exception) -> Response:
        logger.warning("Redis unavailable while answering %s %s: %s", request.method, request.path, error)
        return unavailable_response()

    for error_class in OUTAGE_ERRORS:
        server.register_error_handler(error_class, unavailable)


def callback_error(error: Exception):
    """Dash's `on_error` for every callback: during an outage the page shows the message in the shell's banner and
    its outputs keep what they showed; any other error goes on as before (Flask logs it)."""
    if not is_outage(error):
        raise error
    logger.warning("Redis unavailable in a callback: %s", error)
    set_props(OUTAGE_BANNER_ID, {"children": STORE_UNAVAILABLE_MESSAGE, "is_open": True})
    return None
