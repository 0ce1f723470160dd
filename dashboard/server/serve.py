"""`python -m dashboard.server.serve`: the production server (Waitress) on colorizers.settings.HOST and PORT.

Why Waitress and not gunicorn's threads: Waitress reads every request whole on its own I/O thread before an app
thread sees it, so a client that sends its body slowly (or stalls) holds a connection, never one of the threads
that run models. Its settings here keep that safe:

- bodies over MAX_REQUEST_BYTES are refused with 413 while they stream in (chunked ones too), before the app;
  only a request that carries a video clip (POST /api/videos, POST /uploads?kind=video) may send more, up to
  `dashboard.settings.video_request_max_bytes()` (the clip's limit, COLORIZER_MAX_VIDEO_BYTES, plus MAX_REQUEST_BYTES);
- bodies and responses are buffered in memory, never spooled to temporary files (the site promises photos are
  never stored on disk): the overflow thresholds are set above the largest body and response;
- a connection silent for CHANNEL_TIMEOUT seconds is closed (a stalled upload frees its buffer);
- a large response is handed to the I/O thread whole, so a slow reader does not hold an app thread either;
- a request sent slower than a minimum rate is closed, and one client address holds at most a bounded number of
  connections (`dashboard.server.connections`): 400 trickling connections from one address leave the others served.

Behind a proxy (nginx, Caddy), let the proxy buffer requests too and cap the body at the same size, and name its
address in COLORIZER_TRUSTED_PROXY so that its X-Forwarded-Proto (https: a Secure cookie, HSTS) is believed.

Several processes (COLORIZER_WEB_PROCESSES, only with COLORIZER_REDIS_URL: sessions and results must then live in
Redis, where every process sees them): this process binds the port, forks that many Waitress processes that all
accept on it (the kernel hands each connection to one of them), replaces any that dies, and stops them all on
SIGTERM or SIGINT. It imports no part of the app before forking: each process loads the app and its models itself.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time

from colorizers import settings

from .. import settings as dashboard_settings

logger = logging.getLogger(__name__)

# App threads: more than the model slots (`dashboard.settings.MODEL_SLOTS`) so that pages and images are served
# while models work.
THREADS = int(os.environ.get("COLORIZER_THREADS", "8"))
CHANNEL_TIMEOUT_SECONDS = int(os.environ.get("COLORIZER_CHANNEL_TIMEOUT", "30"))
CONNECTION_LIMIT = int(os.environ.get("COLORIZER_CONNECTION_LIMIT", "100"))
WEB_PROCESSES = int(os.environ.get("COLORIZER_WEB_PROCESSES", "1"))
# The largest response: a full-resolution PNG or a zip of a session's results.
_LARGEST_RESPONSE_BYTES = 2**31 - 1


def server_options() -> dict:
    """Waitress's adjustments for this app (see the module's docstring)."""
    largest_body = max(settings.MAX_REQUEST_BYTES, dashboard_settings.video_request_max_bytes())
    return {
        "host": settings.HOST,
        "port": settings.PORT,
        "threads": THREADS,
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "cleanup_interval": max(1, CHANNEL_TIMEOUT_SECONDS // 3),  # how often silent connections are looked for
        "connection_limit": CONNECTION_LIMIT,
        # The largest body of any request, a video clip's; each request is held to its own path's limit
        # (`dashboard.server.connections`): COLORIZER_MAX_REQUEST_BYTES for all but those that carry a clip.
        "max_request_body_size": largest_body,
        # Never reached: the body limit is checked after each read, before the body can grow this far.
        "inbuf_overflow": 2 * largest_body,
        "outbuf_overflow": _LARGEST_RESPONSE_BYTES,
        "outbuf_high_watermark": _LARGEST_RESPONSE_BYTES,
        "ident": "colorizer",
        "expose_tracebacks": False,
        # Waitress drops every X-Forwarded-* header unless told otherwise; with COLORIZER_TRUSTED_PROXY the app
        # decides (`dashboard.guards.security.TrustedProxyHeaders`: believed from those addresses, dropped from others).
        "clear_untrusted_proxy_headers": not settings.TRUSTED_PROXIES,
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if WEB_PROCESSES <= 1:
        _serve()
        return
    if not dashboard_settings.REDIS_URL:
        raise SystemExit("COLORIZER_WEB_PROCESSES above 1 needs COLORIZER_REDIS_URL: without Redis each process "
                         "would keep its own sessions and results.")
    listener = socket.create_server((settings.HOST, settings.PORT), backlog=1024)
    _supervise(listener, WEB_PROCESSES)


def _serve(listener: socket.socket | None = None) -> None:
    """Run the app in this process (on `listener` when given, else on HOST and PORT) until stopped."""
    from ..app import server  # after logging is set up, so the app's start-up messages are shown
    from .connections import serve  # Waitress, with a minimum rate and a bounded share of connections per client
    from .readiness import start_warming

    options = server_options()
    if listener is not None:
        del options["host"], options["port"]
        options["sockets"] = [listener]
    start_warming()  # in this process, after any fork; /readyz answers 503 until it is done
    # Dash finishes setting itself up on its first request (its callback map, the pages' router). Two first requests
    # on two threads at once raced there ("dictionary changed size during iteration"): one is made here, alone.
    server.test_client().get("/healthz")
    serve(server, **options)


def _supervise(listener: socket.socket, count: int) -> None:
    """Keep `count` serving processes forked on `listener` until SIGTERM or SIGINT, then stop them."""
    children: set[int] = set()
    stopping = False

    def start_one() -> None:
        pid = os.fork()
        if pid == 0:  # the child: serve until stopped, never return into the supervisor's loop
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                _serve(listener)
            finally:
                os._exit(1)
        children.add(pid)

    def stop(signum: int, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    for _ in range(count):
        start_one()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("Serving on %s:%s with %d processes", settings.HOST, settings.PORT, count)
    while children:
        pid, status = os.wait()
        children.discard(pid)
        if not stopping:
            logger.warning("Web process %d stopped (status %d); starting another", pid, status)
            time.sleep(1)  # one that cannot start (a bad setting) is retried once a second, not in a tight loop
            start_one()


if __name__ == "__main__":
    main()
