"""Responsive pictures: an <img> with `srcSet` (WebP at the widths of a fixed ladder, served by
`dashboard.routes.images`), `sizes`, its intrinsic `width` and `height` (so that the browser reserves its space
before it arrives: the class `responsive-picture`, assets/pictures.css, keeps `height: auto`), `loading="lazy"` for
pictures below the fold, `decoding="async"`, and `fetchpriority="high"` for the page's largest picture.

Dash 4's html.Img has no `loading`, `decoding` or `fetchpriority` prop; its React component passes every prop it is
given on to the <img>, so `Img` below is html.Img that also accepts those three (serialized like any other prop).

`showcase_picture_attributes(which)` gives the home page's example's attributes for server-side HTML (and a
`<link rel="preload" as="image" imagesrcset=... imagesizes=... fetchpriority="high">`).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from dash import html

from ..page_logic.imaging import WIDTH_LADDER, bytes_token, file_token, image_size, ladder_for

EXTRA_IMG_PROPS = ("loading", "decoding", "fetchpriority")
PICTURE_CLASS = "responsive-picture"

# `sizes` of the pictures shown (the layouts' columns: Bootstrap breakpoints and the container's widths).
SHOWCASE_SIZES = "(min-width: 1400px) 648px, (min-width: 1200px) 558px, (min-width: 992px) 468px, 50vw"
LEGACY_SIZES = "(min-width: 1400px) 306px, (min-width: 1200px) 261px, (min-width: 992px) 216px, " \
               "(min-width: 576px) 50vw, 100vw"
CONTACT_SHEET_SIZES = "(min-width: 1400px) 1254px, (min-width: 1200px) 1074px, (min-width: 992px) 894px, 100vw"
TILE_SIZES = "7rem"
SUGGESTED_THUMB_SIZES = "56px"


class Img(html.Img):
    """html.Img that also takes `loading`, `decoding` and `fetchpriority` (rendered as the <img>'s attributes)."""

    _namespace = "dash_html_components"
    _type = "Img"

    def __init__(self, *args, **kwargs):
        extra = {name: kwargs.pop(name) for name in EXTRA_IMG_PROPS if name in kwargs}
        super().__init__(*args, **kwargs)
        if extra:
            self._prop_names = [*self._prop_names, *extra]
            for name, value in extra.items():
                setattr(self, name, value)


def srcset(src_for_width: Callable[[int], str], source_width: int, widths: tuple[int, ...] = WIDTH_LADDER) -> str:
    """`srcset` of a `source_width`-wide image: each rung's URL with the width it serves (never wider than the
    source)."""
    return ", ".join(f"{src_for_width(rung)} {served}w" for rung, served in ladder_for(source_width, widths))


def picture_attributes(src_for_width: Callable[[int], str], widths: tuple[int, ...], intrinsic_width: int,
                       intrinsic_height: int, alt: str, sizes: str, lazy: bool = True,
                       priority: bool = False) -> dict:
    """The <img> attributes (Dash prop names) of a responsive picture; `src` is the rung that a 412 px phone at 2x
    would pick (or the largest offered), for browsers without `srcset`."""
    pairs = ladder_for(intrinsic_width, widths)
    fallback = next((rung for rung, served in pairs if served >= 640), pairs[-1][0])
    attributes = {
        "src": src_for_width(fallback),
        "srcSet": srcset(src_for_width, intrinsic_width, widths),
        "sizes": sizes,
        "width": int(intrinsic_width),
        "height": int(intrinsic_height),
        "alt": alt,
        "decoding": "async",
        "loading": "eager" if priority or not lazy else "lazy",
    }
    if priority:
        attributes["fetchpriority"] = "high"
    return attributes


def responsive_img(src_for_width: Callable[[int], str], widths: tuple[int, ...], intrinsic_width: int,
                   intrinsic_height: int, alt: str, sizes: str, lazy: bool = True, priority: bool = False,
                   className: str = "", **props) -> Img:
    """An <img> of a picture served at the ladder's widths (`src_for_width(rung)` its URL at each): `srcSet`,
    `sizes`, intrinsic `width`/`height`, lazily loaded unless `lazy` is False, eagerly and first when `priority`."""
    attributes = picture_attributes(src_for_width, widths, intrinsic_width, intrinsic_height, alt, sizes, lazy,
                                    priority)
    return Img(className=f"{PICTURE_CLASS} {className}".strip(), **attributes, **props)


def sized_img(src: str, width: int, height: int, alt: str, lazy: bool = True, className: str = "",
              **props) -> Img:
    """An <img> of one URL (SVG, or a JPEG made per result) with its `width`/`height`, lazy unless `lazy` is False."""
    return Img(src=src, width=int(width), height=int(height), alt=alt, decoding="async",
               loading="lazy" if lazy else "eager", className=f"{PICTURE_CLASS} {className}".strip(), **props)


def svg_size(path: Path) -> tuple[int, int]:
    """(width, height) of an SVG file, from its width/height attributes, else its viewBox; (300, 150) if neither."""
    stat = path.stat()
    return _svg_size(path, stat.st_mtime_ns)


@lru_cache(maxsize=32)
def _svg_size(path: Path, _mtime_ns: int) -> tuple[int, int]:
    head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    tag = re.search(r"<svg\b[^>]*>", head, re.S)
    text = tag.group(0) if tag else ""
    width = re.search(r'\swidth="([\d.]+)(?:px)?"', text)
    height = re.search(r'\sheight="([\d.]+)(?:px)?"', text)
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = re.search(r'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"', text)
    if box:
        return round(float(box.group(1))), round(float(box.group(2)))
    return 300, 150


# --- The pictures of the pages ------------------------------------------------------------------------------------
def showcase_picture_attributes(which: str) -> dict | None:
    """The home page's example ("before" or "after") as <img> attributes for static server-side HTML: src, srcset,
    sizes, width, height, alt, loading, decoding and fetchpriority ("high" and eager for the "before" picture, the
    first on the page; the "after" picture beside it is eager too; the "before" one's srcset and sizes go in the
    page's `<link rel="preload" as="image">`). Keys are the HTML attribute names (lowercase). None when there is no example."""
    attributes = _showcase_attributes(which)
    if attributes is None:
        return None
    html_names = {"srcSet": "srcset"}
    return {html_names.get(key, key): value for key, value in attributes.items()}


def showcase_img(which: str, className: str = "") -> Img | None:
    """The home page's example as an Img (the "before" one fetched first and eagerly), None without an example."""
    attributes = _showcase_attributes(which)
    if attributes is None:
        return None
    return Img(className=f"{PICTURE_CLASS} {className}".strip(), **attributes)


def _showcase_attributes(which: str) -> dict | None:
    from ..page_logic import showcase
    from ..routes.urls import showcase_webp_url

    example = showcase.get_showcase()
    if example is None or which not in ("before", "after"):
        return None
    png = example.before_png if which == "before" else example.after_png
    width, height = _png_size(png)
    token = bytes_token(png)
    alt = f"{example.photo_title}, in grey" if which == "before" else example.after_caption
    # Side by side on every screen, both in the first view: both eager, the "before" fetched first.
    priority = which == "before"
    return picture_attributes(lambda rung: showcase_webp_url(which, rung, token), WIDTH_LADDER, width, height, alt,
                              SHOWCASE_SIZES, lazy=False, priority=priority)


@lru_cache(maxsize=8)
def _png_size(png: bytes) -> tuple[int, int]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.size


def file_picture(path: Path, src_for_width: Callable[[int, str], str], alt: str, sizes: str, lazy: bool = True,
                 widths: tuple[int, ...] = WIDTH_LADDER, className: str = "", **props) -> Img:
    """A picture of an image file (`src_for_width(rung, token)` its WebP URLs), its size read from the file."""
    width, height = image_size(path)
    token = file_token(path)
    return responsive_img(lambda rung: src_for_width(rung, token), widths, width, height, alt, sizes, lazy=lazy,
                          className=className, **props)
