"""Settings read from environment variables, with defaults, in one place."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


MAX_UPLOAD_BYTES = _int_env("COLORIZER_MAX_BYTES", 50_000_000)  # 50 MB, as every message says (decimal MB)
# A whole HTTP request (the API's photo and reference together; a page's upload, base64 in JSON): larger bodies
# are refused while they stream in, before the app reads them.
MAX_REQUEST_BYTES = _int_env("COLORIZER_MAX_REQUEST_BYTES", 96_000_000)
# One photo at this limit peaks at about 0.6 GB above the loaded models (0.92 GB for Welsh with a chosen
# reference: its full-resolution chroma), measured by scripts/bench_memory.py; with 2 model slots the budget is
# 2 x 1 GB. Raise it only with that measurement.
MAX_PIXELS = _int_env("COLORIZER_MAX_PIXELS", 40_000_000)
MIN_SIDE = _int_env("COLORIZER_MIN_SIDE", 8)
# One clip (decimal MB, as messages say): the job holds it and its MP4 in memory (colorizers.video).
MAX_VIDEO_BYTES = _int_env("COLORIZER_MAX_VIDEO_BYTES", 200_000_000)
WEIGHTS_DIR = Path(os.environ.get("COLORIZER_WEIGHTS_DIR", REPO_ROOT / "weights"))
GALLERY_DIR = Path(os.environ.get("COLORIZER_GALLERY_DIR", REPO_ROOT / "assets" / "gallery"))
LIBRARY_DIR = Path(os.environ.get("COLORIZER_LIBRARY_DIR", REPO_ROOT / "assets" / "library"))
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = _int_env("PORT", 8050)
# The reverse proxies in front of the server (comma-separated addresses, e.g. 127.0.0.1): only from a connection
# with one of these is X-Forwarded-Proto, -For and -Host believed (so that behind a TLS proxy the session cookie is
# Secure and Strict-Transport-Security is sent); from anyone else those headers are dropped.
TRUSTED_PROXIES = tuple(address.strip() for address in os.environ.get("COLORIZER_TRUSTED_PROXY", "").split(",")
                        if address.strip())

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) says nothing a user can act on.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
