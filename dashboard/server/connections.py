"""Waitress connections that one client cannot use to take the site down: a minimum sending rate and a bounded
number of connections per client address.

Waitress reads each request whole before an app thread sees it, but every connection it holds counts against
COLORIZER_CONNECTION_LIMIT, and its idle timeout (COLORIZER_CHANNEL_TIMEOUT) is reset by every byte: 110 connections
sending a byte every 2 s would hold every slot for as long as they trickle. So here:

- a request must send its headers within REQUEST_HEADER_SECONDS of its first byte (of the connection's opening,
  for its first request), and, once REQUEST_RATE_GRACE_SECONDS have passed, must have sent at least
  REQUEST_MIN_RATE bytes per second on average; a slower one is closed. The clock stops while the app works on an
  earlier request of the same connection or the client has not yet read its answer (the channel reads nothing then).
- one client address holds at most CONNECTIONS_PER_CLIENT connections; a further one is closed as soon as it is
  accepted (reset, not queued), so it never takes a slot. The addresses in COLORIZER_TRUSTED_PROXY are exempt: a
  proxy in front speaks for many clients and limits each itself.
- a callback request's body is capped at CALLBACK_MAX_BYTES (2 MB; files go to POST /uploads): a larger one is
  answered 413 at once, its body never read; and only a request that carries a video clip (POST /api/videos,
  POST /uploads?kind=video) may be larger than COLORIZER_MAX_REQUEST_BYTES (`dashboard.settings.max_request_bytes`).
- each request is stamped with the moment it was read whole (`RECEIVED_AT` in its WSGI environ): a request may wait
  in Waitress's queue while every app thread is busy, and `seconds_since_received` lets the app count that wait
  (the API's COLORIZER_API_MAX_WAIT_SECONDS runs from that moment, not from when a thread took the request).

`serve` is `waitress.serve` with these connections.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections import Counter

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server
from waitress.task import WSGITask

from colorizers import settings

from .. import settings as dashboard_settings
from .waitress_errors import SiteErrorTask

logger = logging.getLogger(__name__)

_REPORT_EVERY_SECONDS = 60.0

# The WSGI environ key holding time.monotonic() when Waitress had read the whole request (this process's clock).
RECEIVED_AT = "colorizer.received_at"


def seconds_since_received(environ: dict) -> float:
    """Seconds since Waitress read the request whole, its wait for an app thread included (0 when the request did
    not come through these channels, e.g. from a test client)."""
    stamp = environ.get(RECEIVED_AT)
    return max(0.0, time.monotonic() - stamp) if isinstance(stamp, float) else 0.0


class _SmallerBody:
    """Waitress's adjustments, but with a smaller `max_request_body_size` (the rest read through)."""

    def __init__(self, adj, max_request_body_size: int) -> None:
        self._adj = adj
        self.max_request_body_size = max_request_body_size

    def __getattr__(self, name: str):
        return getattr(self._adj, name)


class StampedRequestParser(HTTPRequestParser):
    """Waitress's request parser, noting when the request (headers and body) was complete; each request's body
    may be at most `dashboard.settings.max_request_bytes` for its path (Waitress's own limit is the largest of them,
    a clip's): a callback request (`.../_dash-update-component`) CALLBACK_MAX_BYTES, a request carrying a video clip
    more than a photo's. A larger Content-Length is a 413 before any of the body is read, a chunked body one as soon
    as it passes the limit."""

    received_at: float | None = None

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        limit = dashboard_settings.max_request_bytes(self.command, self.path, self.query)
        if limit < self.adj.max_request_body_size:
            self.adj = _SmallerBody(self.adj, limit)

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.completed and self.received_at is None:
            self.received_at = time.monotonic()
        return consumed


class StampedTask(WSGITask):
    """Waitress's WSGI task, with the parser's stamp in the environ as RECEIVED_AT."""

    def get_environment(self) -> dict:
        environ = super().get_environment()
        stamp = getattr(self.request, "received_at", None)
        if stamp is not None:
            environ[RECEIVED_AT] = stamp
        return environ


class ConnectionGuard:
    """Counts connections per client address and makes the channels that watch their own sending rate."""

    def __init__(self, per_client: int, header_seconds: float, min_rate: float, grace_seconds: float,
                 exempt: frozenset[str] = frozenset()) -> None:
        self.per_client = per_client
        self.header_seconds = header_seconds
        self.min_rate = min_rate
        self.grace_seconds = grace_seconds
        self.exempt = exempt
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._refused = 0
        self._too_slow = 0
        self._reported = time.monotonic()

    def open_connections(self, address: str) -> int:
        with self._lock:
            return self._open[address]

    def channel(self, server, sock: socket.socket, addr, adj, map=None) -> FairChannel | None:
        """What Waitress calls for each accepted connection (as its server's `channel_class`)."""
        address = addr[0] if isinstance(addr, tuple) and addr else str(addr)
        with self._lock:
            refused = address not in self.exempt and self._open[address] >= self.per_client
            if refused:
                self._refused += 1
            else:
                self._open[address] += 1
        self._report()
        if refused:
            _reset(sock)
            return None
        return FairChannel(server, sock, addr, adj, map=map, guard=self, address=address)

    def closed(self, address: str) -> None:
        with self._lock:
            self._open[address] -= 1
            if self._open[address] <= 0:
                del self._open[address]

    def too_slow(self) -> None:
        with self._lock:
            self._too_slow += 1

    def _report(self) -> None:
        """One log line a minute at most, however many connections are refused or closed."""
        now = time.monotonic()
        with self._lock:
            if now - self._reported < _REPORT_EVERY_SECONDS or not (self._refused or self._too_slow):
                return
            refused, too_slow, self._refused, self._too_slow, self._reported = \
                self._refused, self._too_slow, 0, 0, now
        logger.warning("In the last minute: %d connections refused (over %d from one address), %d closed for "
                       "sending too slowly", refused, self.per_client, too_slow)


class FairChannel(HTTPChannel):
    """Waitress's channel, closed when its client sends a request too slowly (see the module's docstring); its own
    error answers (413 and others) are made like the app's; each request carries the moment it was read whole
    (RECEIVED_AT)."""

    parser_class = StampedRequestParser
    task_class = StampedTask
    error_task_class = SiteErrorTask

    def __init__(self, server, sock, addr, adj, map=None, *, guard: ConnectionGuard, address: str) -> None:
        self.guard = guard
        self.address = address
        self.counted = True
        try:
            super().__init__(server, sock, addr, adj, map=map)
        except Exception:
            self._uncount()  # Waitress logs the error
            raise
        self.request_started: float | None = self.creation_time  # the first request's clock: from the opening
        self.request_bytes = 0

    def received(self, data: bytes) -> bool:
        if self.request_started is None:
            self.request_started, self.request_bytes = time.time(), 0
        self.request_bytes += len(data)
        accepted = super().received(data)
        if self.request is None:  # every request in `data` is whole: nothing is being received now
            self.request_started = None
        return accepted

    def readable(self) -> bool:
        if self.request_started is not None and not self.will_close:
            now = time.time()
            if self.requests or self.total_outbufs_len:  # the channel reads nothing now: the clock starts again
                self.request_started, self.request_bytes = now, 0
            elif self._too_slow(now - self.request_started):
                self.guard.too_slow()
                self.will_close = True  # closed by handle_write in this same loop
        return super().readable()

    def _too_slow(self, elapsed: float) -> bool:
        headers_done = self.request is not None and self.request.headers_finished
        if not headers_done and elapsed > self.guard.header_seconds:
            return True
        return elapsed > self.guard.grace_seconds and self.request_bytes < self.guard.min_rate * elapsed

    def del_channel(self, map=None) -> None:
        super().del_channel(map)
        self._uncount()

    def _uncount(self) -> None:
        if self.counted:
            self.counted = False
            self.guard.closed(self.address)


def _reset(sock: socket.socket) -> None:
    """Close at once with a reset: the kernel keeps nothing of it (no FIN_WAIT, no TIME_WAIT)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def default_guard() -> ConnectionGuard:
    """From the settings (`dashboard.settings`, COLORIZER_TRUSTED_PROXY exempt)."""
    return ConnectionGuard(
        per_client=dashboard_settings.CONNECTIONS_PER_CLIENT,
        header_seconds=dashboard_settings.REQUEST_HEADER_SECONDS,
        min_rate=dashboard_settings.REQUEST_MIN_RATE,
        grace_seconds=dashboard_settings.REQUEST_RATE_GRACE_SECONDS,
        exempt=frozenset(settings.TRUSTED_PROXIES),
    )


def serve(app, guard: ConnectionGuard | None = None, **options) -> None:
    """`waitress.serve(app, **options)`, each accepted connection going through `guard` (default: the settings')."""
    guard = guard or default_guard()
    server = create_server(app, **options)
    listeners = [each for each in getattr(server, "map", {}).values() if isinstance(each, BaseWSGIServer)]
    for listener in listeners or [server]:
        listener.channel_class = guard.channel  # called as channel_class(server, sock, addr, adj, map=...)
    server.print_listen("Serving on http://{}:{}")
    server.run()
