"""`python -m dashboard.serve`: the production server (Waitress) on colorizers.settings.HOST and PORT.

Why Waitress and not gunicorn's threads: Waitress reads every request whole on its own I/O thread before an app
thread sees it, so a client that sends its body slowly (or stalls) holds a connection, never one of the threads
that run models. Its settings here keep that safe:

- bodies over MAX_REQUEST_BYTES are refused with 413 while they stream in (chunked ones too), before the app;
- bodies and responses are buffered in memory, never spooled to temporary files (the site promises photos are
  never stored on disk): the overflow thresholds are set above the largest body and response;
- a connection silent for CHANNEL_TIMEOUT seconds is closed (a stalled upload frees its buffer);
- a large response is handed to the I/O thread whole, so a slow reader does not hold an app thread either.

Behind a proxy (nginx, Caddy), let the proxy buffer requests too and cap the body at the same size.
"""
from __future__ import annotations

import logging
import os

from colorizers import settings

# App threads: more than the model slots (`dashboard.settings.MODEL_SLOTS`) so that pages and images are served
# while models work.
THREADS = int(os.environ.get("COLORIZER_THREADS", "8"))
CHANNEL_TIMEOUT_SECONDS = int(os.environ.get("COLORIZER_CHANNEL_TIMEOUT", "30"))
CONNECTION_LIMIT = int(os.environ.get("COLORIZER_CONNECTION_LIMIT", "100"))
# The largest response: a full-resolution PNG or a zip of a session's results.
_LARGEST_RESPONSE_BYTES = 2**31 - 1


def server_options() -> dict:
    """Waitress's adjustments for this app (see the module's docstring)."""
    return {
        "host": settings.HOST,
        "port": settings.PORT,
        "threads": THREADS,
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "cleanup_interval": max(1, CHANNEL_TIMEOUT_SECONDS // 3),  # how often silent connections are looked for
        "connection_limit": CONNECTION_LIMIT,
        "max_request_body_size": settings.MAX_REQUEST_BYTES,
        # Never reached: the body limit is checked after each read, before the body can grow this far.
        "inbuf_overflow": 2 * settings.MAX_REQUEST_BYTES,
        "outbuf_overflow": _LARGEST_RESPONSE_BYTES,
        "outbuf_high_watermark": _LARGEST_RESPONSE_BYTES,
        "ident": "colorizer",
        "expose_tracebacks": False,
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from waitress import serve

    from .app import server  # after logging is set up, so the app's start-up messages are shown
    from .readiness import start_warming

    start_warming()  # in this process, after any fork; /readyz answers 503 until it is done
    serve(server, **server_options())


if __name__ == "__main__":
    main()
