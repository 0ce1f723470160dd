"""The HTML document of every page: Dash's index with `lang`, the server-written frame (`navbar.site_header`, the
page's own introduction, `navbar.site_footer`) around Dash's entry point, and only the scripts the site uses.

A page registers its introduction with `dash.register_page(..., intro=<function returning dash.html components>)`:
its heading and the words and pictures that need no callback. They arrive in the first response and are painted at
once; Dash's layout (everything interactive) renders below them when the scripts have run. The entry point keeps at
least a screen's height, so that the footer below it never jumps into view while the page renders.

A page may also register an `outro` (same kind of function): what needs no callback below its interactive part (the
home page's ways to the other pages). Every component written here is one Dash's scripts do not render on a phone.
The entry point of such a page keeps the room of Dash's first render instead of a screen's height (the page's
stylesheet sets it for `.with-outro`), so that the outro does not move when Dash renders above it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from urllib.parse import parse_qsl, urlsplit

import dash
from dash import dcc, html

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
# Dash's scripts are fetched once the page has loaded (its largest picture in) and a frame has been painted after
# that (its introduction on screen: on a slow phone the load event can come first), all at once and run in order;
# the renderer starts after the last. Their URLs are in a JSON block (PAGE_SCRIPTS_ID), so that this loader is one
# fixed inline script, allowed by its hash like Dash's own (`Dash.csp_hashes`).
PAGE_SCRIPTS_ID = "page-scripts"
SCRIPT_LOADER = (
    'window.addEventListener("load", function () { requestAnimationFrame(function () { setTimeout(function () {'
    ' var sources = JSON.parse(document.getElementById("' + PAGE_SCRIPTS_ID + '").textContent), last;'
    ' sources.forEach(function (source) {'
    ' last = document.createElement("script"); last.src = source; last.async = false;'
    ' document.body.appendChild(last); });'
    ' last.addEventListener("load", function () {'
    ' new DashRenderer(); }); }, 0); }); });'
)
# Dash's core components load these parts only when a component that needs them first renders (the drop zones, the
# sliders): loaded with the rest instead, they are there at the first render, so nothing below them moves when they
# arrive. Named like the core bundle, with its version (a year's cache). Every page Dash draws has a drop zone; a page
# with more at its first render says so: `dash.register_page(..., core_parts=(...))`.
DEFAULT_CORE_PARTS = ("async-upload",)
_CORE_BUNDLE = re.compile(r"(.*/dash/dcc/)dash_core_components(\.v[^/]*?)\.js$")
EMPTY_ENTRY = '<div id="react-entry-point" hidden></div>'


def page_for_path(pages: Iterable[dict], path: str) -> dict | None:
    """The registered page at `path` (with or without a trailing slash), or None."""
    wanted = "/" + path.strip("/")
    return next((page for page in pages if page["path"] == wanted), None)


def is_static(page: dict | None) -> bool:
    """A page registered with `static=True` only shows things: it is all introduction, and gets no script."""
    return bool(page and page.get("static"))


def framed_entry(app_entry: str, pages: Iterable[dict], page: dict | None) -> str:
    """The body of `page` (None: a path that is no page): header, <main> holding the page's introduction and Dash's
    entry point (none on a static page), footer."""
    intro = page.get("intro") if page else None
    outro = page.get("outro") if page else None
    if is_static(page):
        app_entry = EMPTY_ENTRY
    current = page["path"] if page else None
    return "".join([
        to_html(site_header(pages, current)),
        '<main id="main" tabindex="-1" class="with-outro">' if outro else '<main id="main" tabindex="-1">',
        f'<div class="container-lg page-intro">{to_html(intro())}</div>' if intro else "",
        app_entry,
        f'<div class="container-lg page-outro">{to_html(outro())}</div>' if outro else "",
        "</main>",
        to_html(site_footer()),
    ])


def page_title(page: dict | None, site_title: str) -> str:
    """The document's title: the page's own (Dash's router would set it only once it ran), else the site's."""
    title = page.get("title") if page else None
    return title if isinstance(title, str) and title else site_title


def preload_links(page: dict | None) -> str:
    """<link rel="preload"> for the page's largest picture (`dash.register_page(..., preload_image=<function
    returning the <img> attributes src, srcset and sizes>)`), so that it is fetched before the stylesheets are
    parsed."""
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


def without_unused_scripts(scripts: str) -> str:
    """Dash's script tags (one per line) less UNUSED_SCRIPTS."""
    return "\n".join(line for line in scripts.split("\n") if not any(part in line for part in UNUSED_SCRIPTS))


def core_parts(page: dict | None) -> tuple[str, ...]:
    """The parts of Dash's core components the page renders at once (DEFAULT_CORE_PARTS unless it says)."""
    return tuple(page.get("core_parts", DEFAULT_CORE_PARTS)) if page else DEFAULT_CORE_PARTS


def scripts_loaded_after_page(document: str, eager_parts: Iterable[str] = DEFAULT_CORE_PARTS) -> str:
    """The document with its script files listed in the JSON block SCRIPT_LOADER reads, where the first of them was
    (Dash checks its index for its own script tags before this runs), with the core components' `eager_parts`;
    inline scripts (Dash's client-side callbacks only define functions) stay as they are."""
    tag = re.compile(r'[ \t]*<script src="([^"]+)"></script>\n?')
    sources = tag.findall(document)
    if not sources:
        return document
    core = next((match for source in sources if (match := _CORE_BUNDLE.match(source))), None)
    if core is not None:
        sources += [f"{core.group(1)}{part}{core.group(2)}.js" for part in eager_parts]
    listed = json.dumps(sources).replace("</", "<\\/")
    block = f'<script type="application/json" id="{PAGE_SCRIPTS_ID}">{listed}</script>\n'
    first = tag.search(document)
    return document[:first.start()] + block + tag.sub("", document[first.start():])


def without_scripts(document: str) -> str:
    """A static page's document without any script (Dash checks that its own are in the document first)."""
    return re.sub(r"<script\b[^>]*>.*?</script>", "", document, flags=re.S)


def page_container_at(page_url: str | None, pages: Iterable[dict]):
    """Dash's page container with the page at `page_url` already in it, for the layout Dash asks for first (the
    page's URL is the request's Referer). Dash would otherwise render an empty container, then ask a callback for
    the page (a second, blocking render); here the location already holds the page's path and query, so that
    callback does not run at load. Without a URL, or for a path that is no page, Dash's own container."""
    page = page_for_path(pages, urlsplit(page_url).path) if page_url else None
    if page is None:
        return dash.page_container
    query = urlsplit(page_url).query
    layout = page["layout"]
    content = layout(**dict(parse_qsl(query))) if callable(layout) else layout
    location, page_content, page_store, *others = dash.page_container.children
    return html.Div([
        # As the browser's location reads, so that the location sets nothing when it first renders.
        dcc.Location(id=location.id, refresh=location.refresh, href=page_url, pathname=urlsplit(page_url).path,
                     search=f"?{query}" if query else "", hash=""),
        html.Div(content, id=page_content.id, disable_n_clicks=True),
        dcc.Store(id=page_store.id, data={"title": page["title"]}),  # what the router would have stored
        *others,
    ])
