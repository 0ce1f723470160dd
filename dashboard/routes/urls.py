"""The URLs of images the server keeps or makes (served by `dashboard.routes.images`), built in one place.

A result's URL carries that result's own unguessable id and grants that image only; no URL names a session."""
from __future__ import annotations

from urllib.parse import quote, urlencode

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


# WebP at a width of the fixed ladder (dashboard.page_logic.imaging.WIDTH_LADDER; any other width answers 404), for
# `srcset`. `token` (a short hash of the source's bytes) makes the URL immutable: served with a year's cache lifetime.
def versioned(url: str, token: str | None) -> str:
    """`url` with its version token (`?v=<token>`), unchanged when `token` is None."""
    return url if not token else f"{url}?{urlencode({'v': token})}"


def showcase_webp_url(which: str, width: int, token: str | None = None) -> str:
    """The home page's example ("before" or "after") as WebP at ladder width `width`."""
    return versioned(f"/showcase/{which}/w{int(width)}.webp", token)


def gallery_webp_url(name: str, width: int, token: str | None = None) -> str:
    """A reference gallery photo as WebP at ladder width `width`."""
    return versioned(f"/gallery/{quote(name, safe='')}/w{int(width)}.webp", token)


def legacy_webp_url(name: str, width: int, token: str | None = None) -> str:
    """A legacy photo (by its manifest name) as WebP at ladder width `width`."""
    return versioned(f"/legacy-photos/{quote(name, safe='')}/w{int(width)}.webp", token)


def library_webp_url(name: str, width: int, token: str | None = None) -> str:
    """A reference-library photo (by its name) as WebP at ladder width `width`."""
    return versioned(f"/library/{quote(name, safe='')}/w{int(width)}.webp", token)


def contact_sheet_webp_url(split: str, width: int, token: str | None = None) -> str:
    """A split's evaluation contact sheet as WebP at ladder width `width` (the full PNG: `contact_sheet_url`)."""
    return versioned(f"/evaluation/{quote(split)}/contact_sheet/w{int(width)}.webp", token)
