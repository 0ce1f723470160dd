"""The frame around every page, written out on the server (`dashboard.components.static_html`): a skip link, the
navigation bar built from Dash's page registry (so a new page appears in it by itself), and the footer. Links are
plain links: each page is its own document, painted before its scripts run."""
from __future__ import annotations

from collections.abc import Iterable

from dash import html

SITE_NAME = "Colorization Studio"
FOOTER_TEXT = "Photos stay in this server's memory for about an hour and are never stored on disk."


def site_header(pages: Iterable[dict], current_path: str) -> html.Header:
    """A skip link, then a dark navbar with the site name (leading to Compare, the studio's main page) and one link
    per registered page in the pages' `order`, the current one marked for screen readers too."""
    links = [
        html.Li(html.A(page["name"], href=page["relative_path"],
                       className="nav-link active" if page["path"] == current_path else "nav-link",
                       **({"aria-current": "page"} if page["path"] == current_path else {})),
                className="nav-item")
        for page in sorted(pages, key=lambda page: page.get("order") or 0)
    ]
    return html.Header([
        html.A("Skip to the page's content", href="#main", className="visually-hidden-focusable skip-link"),
        html.Nav(
            html.Div(
                [
                    html.A([html.Span("◐", className="brand-mark", **{"aria-hidden": "true"}), SITE_NAME],
                           href="/compare", className="navbar-brand me-auto"),
                    html.Ul(links, className="navbar-nav flex-row flex-wrap column-gap-3 row-gap-0"),
                ],
                className="container-lg flex-wrap",
            ),
            className="navbar navbar-expand navbar-dark bg-dark mb-4 site-navbar",
            **{"aria-label": "Pages"},
        ),
    ])


def site_footer() -> html.Footer:
    return html.Footer(html.Div([FOOTER_TEXT, " ", html.A("The REST API", href="/api/docs"), "."],
                                className="container-lg"),
                       className="site-footer small text-body-secondary py-3")
