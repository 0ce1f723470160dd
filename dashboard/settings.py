"""The dashboard's own settings (result cache size and lifetime, display size), read from environment variables.

Upload limits, host and port live in `colorizers.settings`; these only concern how the app keeps and shows results.
"""
from __future__ import annotations

import os
from urllib.parse import parse_qs


def _number_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# Total bytes of images (uploads and results) kept in memory per worker process, across all browser sessions.
RESULTS_MAX_BYTES = int(_number_env("COLORIZER_RESULTS_MAX_BYTES", 1024**3))
# What one browser session may hold of that (its own oldest results go first when it would pass this), and how
# many photos it may have in the studio at once: one visitor cannot push everybody else's work out.
SESSION_MAX_BYTES = int(_number_env("COLORIZER_SESSION_MAX_BYTES", 256 * 1024**2))
SESSION_MAX_ROWS = int(_number_env("COLORIZER_SESSION_MAX_ROWS", 40))
# Photos coloured at once in this process (pages, studio and API together); the others wait their turn in order.
MODEL_SLOTS = int(_number_env("COLORIZER_MODEL_SLOTS", 2))
# The API answers 503 with Retry-After rather than keep a client waiting longer than this for a slot.
API_MAX_WAIT_SECONDS = _number_env("COLORIZER_API_MAX_WAIT_SECONDS", 30.0)
# An image not looked at for this long is dropped; its URLs then answer 404.
RESULTS_TTL_SECONDS = _number_env("COLORIZER_RESULTS_TTL_SECONDS", 3600.0)
# Long side, in pixels, of the images shown on the pages (downloads are always full resolution).
DISPLAY_LONG_SIDE = int(_number_env("COLORIZER_DISPLAY_LONG_SIDE", 768))
# Long side of the reference gallery's thumbnails.
GALLERY_THUMB_SIDE = int(_number_env("COLORIZER_GALLERY_THUMB_SIDE", 256))
# The gallery photo the home page greys and colours again as its example (default: the gallery's first photo).
SHOWCASE_PHOTO = os.environ.get("COLORIZER_SHOWCASE_PHOTO", "")


def _sentinels(value: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port` as ((host, port), ...)."""
    sentinels = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"COLORIZER_REDIS_SENTINELS: {item!r} is not host:port (e.g. 10.0.0.5:26379).")
        sentinels.append((host, int(port)))
    return tuple(sentinels)


def sentinel_broker_url(sentinels: tuple[tuple[str, int], ...]) -> str:
    """Celery's broker URL for the primary behind `sentinels`, database 0 (kombu asks each sentinel in turn)."""
    return ";".join(f"sentinel://{host}:{port}" for host, port in sentinels) + "/0"


# Where results, uploads and the studio's queue live when the site runs as several processes (e.g.
# redis://127.0.0.1:6379/0): unset, everything stays in this process's memory and its threads colour the queue.
REDIS_URL = os.environ.get("COLORIZER_REDIS_URL", "")
# Or Redis behind Redis Sentinel, which survives the loss of the primary: the sentinels (comma-separated host:port)
# and the name they monitor the primary under. The site and Celery then ask the sentinels for the primary, and
# REDIS_URL becomes Celery's broker URL for them (sentinel://host:port;sentinel://host:port/0, database 0).
REDIS_SENTINELS = _sentinels(os.environ.get("COLORIZER_REDIS_SENTINELS", ""))
REDIS_MASTER = os.environ.get("COLORIZER_REDIS_MASTER", "")
if REDIS_SENTINELS:
    if REDIS_URL:
        raise ValueError("Set COLORIZER_REDIS_URL or COLORIZER_REDIS_SENTINELS, not both.")
    if not REDIS_MASTER:
        raise ValueError("COLORIZER_REDIS_SENTINELS needs COLORIZER_REDIS_MASTER (the name the sentinels monitor "
                         "the primary under).")
    REDIS_URL = sentinel_broker_url(REDIS_SENTINELS)
# Connections (`dashboard.server.connections`): how many one client address may hold at once (a proxy named in
# COLORIZER_TRUSTED_PROXY is exempt), and how slowly a request may arrive: its headers within so many seconds, and
# after the grace period at least so many bytes per second on average; a slower one is closed.
CONNECTIONS_PER_CLIENT = int(_number_env("COLORIZER_CONNECTIONS_PER_CLIENT", 16))
REQUEST_HEADER_SECONDS = _number_env("COLORIZER_REQUEST_HEADER_SECONDS", 10.0)
REQUEST_MIN_RATE = _number_env("COLORIZER_REQUEST_MIN_RATE", 1024.0)
REQUEST_RATE_GRACE_SECONDS = _number_env("COLORIZER_REQUEST_RATE_GRACE_SECONDS", 10.0)
# Heavy requests (zips, API colourings, uploads, touch-ups: `dashboard.guards.fair_share`) one visitor (session) and one
# client address may run at once; a further one is answered 429 with Retry-After.
HEAVY_PER_VISITOR = int(_number_env("COLORIZER_HEAVY_PER_VISITOR", 2))
HEAVY_PER_ADDRESS = int(_number_env("COLORIZER_HEAVY_PER_ADDRESS", 4))
# The largest callback request (`/_dash-update-component`) the server reads: callbacks carry upload tokens, ids and
# touch-up strokes (at most 20,000 points), never a file (files go to POST /uploads); a larger body is refused
# with 413 before it is read.
CALLBACK_MAX_BYTES = int(_number_env("COLORIZER_CALLBACK_MAX_BYTES", 2 * 1024**2))


# Requests that carry a video clip: the API's POST /api/videos and the Video page's POST /uploads?kind=video.
VIDEO_API_PATH = "/api/videos"
VIDEO_UPLOAD_PATH = "/uploads"
VIDEO_UPLOAD_KIND = "video"


def video_request_max_bytes() -> int:
    """The largest body of a request that carries a clip: the clip at its limit (COLORIZER_MAX_VIDEO_BYTES) and a
    photo request's worth (COLORIZER_MAX_REQUEST_BYTES) of reference photos and keyframes beside it."""
    from colorizers import settings as colorizer_settings

    return colorizer_settings.MAX_VIDEO_BYTES + colorizer_settings.MAX_REQUEST_BYTES


def carries_clip(method: str, path: str, query: str = "") -> bool:
    """Whether a request may carry a video clip (see `video_request_max_bytes`)."""
    if method != "POST":
        return False
    if path == VIDEO_API_PATH:
        return True
    return path == VIDEO_UPLOAD_PATH and parse_qs(query).get("kind") == [VIDEO_UPLOAD_KIND]


def max_request_bytes(method: str, path: str, query: str = "") -> int:
    """The largest body the server reads for a request (Waitress refuses a larger one with 413 as it streams in,
    before the app; the app checks again): a page's callback CALLBACK_MAX_BYTES, a request carrying a clip
    `video_request_max_bytes()`, any other COLORIZER_MAX_REQUEST_BYTES."""
    from colorizers import settings as colorizer_settings

    if path.endswith("/_dash-update-component"):
        return min(CALLBACK_MAX_BYTES, colorizer_settings.MAX_REQUEST_BYTES)
    if carries_clip(method, path, query):
        return video_request_max_bytes()
    return colorizer_settings.MAX_REQUEST_BYTES
