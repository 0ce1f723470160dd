"""The URLs of images the server keeps or makes (served by `dashboard.routes`), built in one place."""
from __future__ import annotations

from urllib.parse import quote


def result_download_url(session_id: str, image_id: str) -> str:
    """Full-resolution PNG, sent as a download."""
    return f"/results/{session_id}/{image_id}.png"


def result_thumbnail_url(session_id: str, image_id: str) -> str:
    """Display-size PNG (long side settings.DISPLAY_LONG_SIDE)."""
    return f"/results/{session_id}/{image_id}/thumb.png"


def gallery_thumbnail_url(name: str) -> str:
    """Small PNG of a reference gallery photo."""
    return f"/gallery/{quote(name, safe='')}/thumb.png"


def showcase_url(which: str) -> str:
    """The home page's example: which is "before" (grey) or "after" (coloured)."""
    return f"/showcase/{which}.png"
