"""The URLs of images the server keeps or makes (served by `dashboard.routes`), built in one place.

A result's URL carries that result's own unguessable id and grants that image only; no URL names a session."""
from __future__ import annotations

from urllib.parse import quote

from colorizers.library import LibraryPhoto


def result_download_url(image_id: str) -> str:
    """Full-resolution PNG, sent as a download."""
    return f"/results/{image_id}.png"


def result_thumbnail_url(image_id: str) -> str:
    """Display-size JPEG (long side settings.DISPLAY_LONG_SIDE)."""
    return f"/results/{image_id}/thumb.jpg"


def gallery_thumbnail_url(name: str) -> str:
    """Small JPEG of a reference gallery photo."""
    return f"/gallery/{quote(name, safe='')}/thumb.jpg"


def library_photo_url(photo: LibraryPhoto) -> str:
    """A reference-library photo (a small JPEG served as a static asset from assets/library/)."""
    return f"/assets/library/{quote(photo.file.name)}"


def showcase_url(which: str) -> str:
    """The home page's example: which is "before" (grey) or "after" (coloured)."""
    return f"/showcase/{which}.png"


def studio_original_url(row_id: str) -> str:
    """A compare row's photo at display size (JPEG)."""
    return f"/results/rows/{row_id}/original.jpg"


def studio_display_url(result_id: str, strength: int) -> str:
    """A compare result at `strength` percent, display size (JPEG)."""
    return f"/results/studio/{result_id}/s{strength}.jpg"


def studio_download_url(result_id: str, strength: int) -> str:
    """A compare result at `strength` percent, full-resolution PNG, sent as a download."""
    return f"/results/studio/{result_id}/s{strength}.png"


def studio_zip_url(strength: int | None = None) -> str:
    """Every compare result of the session as full-resolution PNGs in one zip (the session comes from its
    cookie: this URL alone opens nothing)."""
    query = "" if strength is None else f"?strength={strength}"
    return f"/results/all.zip{query}"


def contact_sheet_url(split: str) -> str:
    """A split's evaluation contact sheet (weights/evaluation/<split>/contact_sheet.png)."""
    return f"/evaluation/{quote(split)}/contact_sheet.png"


def legacy_photo_url(file: str) -> str:
    """A legacy photo, served as a static asset (grayscale JPEG, long side at most 800 px)."""
    return f"/assets/legacy/{quote(file)}"
