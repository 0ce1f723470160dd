"""Models warm before the first user: each server process loads every available model (and runs it once on a
small photo, so that lazy imports and first-call set-up are done) right after it starts, in a thread, and says so:

GET /healthz -> 200 while the process answers at all (liveness).
GET /readyz  -> 503 until every model is loaded and has run once, then 200 (readiness: send users now).
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np
from flask import Flask, Response, jsonify

from colorizers import available_models, colorize

logger = logging.getLogger(__name__)

_ready = threading.Event()
_warmed: list[str] = []


def warm_models() -> None:
    """Load and run every available model once (in the process that will serve: never before a fork)."""
    started = time.monotonic()
    gray = np.tile(np.linspace(10.0, 90.0, 96, dtype=np.float32), (64, 1))
    for info in available_models():
        try:
            colorize(gray, info.name)
            _warmed.append(info.name)
        except Exception:  # a model that cannot run is reported by its own requests; the others still serve
            logger.exception("Could not warm the %s model", info.name)
    _ready.set()
    logger.info("Models ready in %.1f s: %s", time.monotonic() - started, ", ".join(_warmed))


def start_warming() -> threading.Thread:
    """Warm the models in a background thread (the server listens meanwhile; /readyz says when they are ready)."""
    thread = threading.Thread(target=warm_models, name="warm-models", daemon=True)
    thread.start()
    return thread


def register_health_routes(server: Flask) -> None:
    @server.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @server.get("/readyz")
    def readyz() -> tuple[Response, int, dict]:
        if not _ready.is_set():
            return jsonify(ready=False), 503, {"Retry-After": "1"}
        return jsonify(ready=True, models=_warmed), 200, {}
