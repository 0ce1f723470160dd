"""The dashboard's own settings (result cache size and lifetime, display size), read from environment variables.

Upload limits, host and port live in `colorizers.settings`; these only concern how the app keeps and shows results.
"""
from __future__ import annotations

import os


def _number_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# Total bytes of images (uploads and results) kept in memory per worker process, across all browser sessions.
RESULTS_MAX_BYTES = int(_number_env("COLORIZER_RESULTS_MAX_BYTES", 1024**3))
# An image not looked at for this long is dropped; its URLs then answer 404.
RESULTS_TTL_SECONDS = _number_env("COLORIZER_RESULTS_TTL_SECONDS", 3600.0)
# Long side, in pixels, of the images shown on the pages (downloads are always full resolution).
DISPLAY_LONG_SIDE = int(_number_env("COLORIZER_DISPLAY_LONG_SIDE", 768))
# Long side of the reference gallery's thumbnails.
GALLERY_THUMB_SIDE = int(_number_env("COLORIZER_GALLERY_THUMB_SIDE", 256))
# The gallery photo the home page greys and colours again as its example (default: the gallery's first photo).
SHOWCASE_PHOTO = os.environ.get("COLORIZER_SHOWCASE_PHOTO", "")
