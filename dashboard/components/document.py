"""The HTML document of every page: Dash's index with `lang`, the server-written frame (`navbar.site_header`, the
page's own introduction, `navbar.site_footer`) around Dash's entry point, and only the scripts the site uses.

A page registers its introduction with `dash.register_page(..., intro=<function returning dash.html components>)`:
its heading and the words and pictures that need no callback. They arrive in the first response and are painted at
once; Dash's layout (everything interactive) renders below them when the scripts have run. The entry point keeps at
least a screen's height, so that the footer below it never jumps into view while the page renders.
"""
from __future__ import annotations

from collections.abc import Iterable
from html import escape
import re

from .navbar import site_footer, site_header
from .static_html import to_html

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        {%config%}
        {%scripts%}
        {%renderer%}
    </body>
</html>"""

# Dash serves these to every page; none is needed here: Babel's polyfill is for browsers without ES2015 (which Dash
# 4's own bundles no longer run on) and the data table is not used.
UNUSED_SCRIPTS = ("/deps/polyfill@", "/dash/dash_table/")
# Dash's renderer starts once the deferred scripts have run (they run, in order, just before DOMContentLoaded).
DEFERRED_RENDERER = 'window.addEventListener("DOMContentLoaded", function () { new DashRenderer(); });'
EMPTY_ENTRY = '<div id="react-entry-point" hidden></div>'


def page_for_path(pages: Iterable[dict], path: str) -> dict | None:
    """The registered page at `path` (with or without a trailing slash), or None."""
    wanted = "/" + path.strip("/")
    return next((page for page in pages if page["path"] == wanted), None)


def is_static(page: dict | None) -> bool:
    """A page registered with `static=True` only shows things: it is all introduction, and gets no script."""
    return bool(page and page.get("static"))


def framed_entry(app_entry: str, pages: Iterable[dict], path: str) -> str:
    """The page's body: header, <main> holding the page's introduction and Dash's entry point (none on a static
    page), footer."""
    pages = list(pages)
    page = page_for_path(pages, path)
    intro = page.get("intro") if page else None
    if is_static(page):
        app_entry = EMPTY_ENTRY
    current = page["path"] if page else None
    return "".join([
        to_html(site_header(pages, current)),
        '<main id="main" tabindex="-1">',
        f'<div class="container-lg page-intro">{to_html(intro())}</div>' if intro else "",
        app_entry,
        "</main>",
        to_html(site_footer()),
    ])


def preload_links(pages: Iterable[dict], path: str) -> str:
    """<link rel="preload"> for the page's largest picture (`dash.register_page(..., preload_image=<function
    returning the <img> attributes src, srcset and sizes>)`), so that it is fetched before the stylesheets are
    parsed."""
    page = page_for_path(pages, path)
    preload = page.get("preload_image") if page else None
    attributes = preload() if preload else None
    if not attributes:
        return ""
    parts = ['rel="preload"', 'as="image"', 'fetchpriority="high"', f'href="{escape(attributes["src"])}"']
    if attributes.get("srcset"):
        parts.append(f'imagesrcset="{escape(attributes["srcset"])}"')
    if attributes.get("sizes"):
        parts.append(f'imagesizes="{escape(attributes["sizes"])}"')
    return f"<link {' '.join(parts)}>"


def page_scripts(scripts: str) -> str:
    """Dash's script tags (one per line) less those in UNUSED_SCRIPTS, deferred, so that the page is painted before
    any of them runs."""
    return "\n".join(line.replace("<script src=", "<script defer src=") for line in scripts.split("\n")
                     if not any(part in line for part in UNUSED_SCRIPTS))


def without_scripts(document: str) -> str:
    """A static page's document without any script (Dash checks that its own are in the document first)."""
    return re.sub(r"<script\b[^>]*>.*?</script>", "", document, flags=re.S)
