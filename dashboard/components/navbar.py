"""The site's navigation bar, built from Dash's page registry so a new page appears in it by itself."""
from __future__ import annotations

from collections.abc import Iterable

import dash_bootstrap_components as dbc
from dash import html

SITE_NAME = "Colorization Studio"


def navbar(pages: Iterable[dict]) -> dbc.Navbar:
    """A dark navbar with the site name (leading to Compare, the studio's main page) and one link per registered
    page, in the pages' `order`."""
    links = [
        dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"], active="exact"))
        for page in sorted(pages, key=lambda page: page.get("order") or 0)
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand([html.Span("◐", className="brand-mark", **{"aria-hidden": "true"}), SITE_NAME],
                                href="/compare", class_name="me-auto"),
                dbc.Nav(links, navbar=True, class_name="flex-row flex-wrap column-gap-3 row-gap-0"),
            ],
            fluid="lg",
            class_name="flex-wrap",
        ),
        color="dark",
        dark=True,
        class_name="mb-4 site-navbar",
    )
