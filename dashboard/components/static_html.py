"""Dash components written out as HTML on the server, for the parts of a page that need no JavaScript (the header,
each page's introduction, pages that only show things): they are in the first response, so a phone paints them
before Dash's scripts have even arrived, and no script renders them again.

Accepted: `dash.html` components; the few Bootstrap components such parts use (cards, rows and columns, tables,
badges, link buttons, alerts), written as Bootstrap's own markup; and `dcc.Markdown`. Anything interactive belongs in
the Dash layout: other components raise TypeError."""
from __future__ import annotations

import re
from html import escape

from dash import html
from dash.development.base_component import Component
from markdown_it import MarkdownIt

_HTML_NAMESPACE = "dash_html_components"
_BOOTSTRAP_NAMESPACE = "dash_bootstrap_components"
_MARKDOWN = MarkdownIt("commonmark", {"html": False})  # text from our own files; raw HTML in it is not passed on
_VOID_ELEMENTS = {"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Dash's bookkeeping props, which are not HTML attributes.
_DASH_ONLY_PROPS = {"children", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state", "key"}
_RENAMED = {"className": "class", "htmlFor": "for"}
_BOOLEAN_ATTRIBUTES = {"hidden", "disabled", "checked", "open", "required", "readonly", "multiple", "selected",
                       "autofocus", "controls", "muted", "loop", "autoplay", "default", "novalidate"}


def to_html(node) -> str:
    """`node` (a component, a string or number, a list of them, or None) as an HTML string, text escaped."""
    if node is None:
        return ""
    if isinstance(node, (list, tuple)):
        return "".join(to_html(child) for child in node)
    if isinstance(node, (str, int, float)):
        return escape(str(node), quote=False)
    if isinstance(node, Component) and node._namespace == _BOOTSTRAP_NAMESPACE:
        return to_html(_as_html(node))
    if isinstance(node, Component) and node._type == "Markdown" and node._namespace == "dash_core_components":
        return f'<div class="{escape(node.className or "", quote=True)}">{_MARKDOWN.render(node.children or "")}</div>'
    if not isinstance(node, Component) or node._namespace != _HTML_NAMESPACE:
        raise TypeError(f"{type(node).__name__} cannot be written out on the server: it belongs in the Dash layout")
    tag = node._type.lower()
    wildcard = [name for name in vars(node) if name.startswith(("aria-", "data-"))]  # not among _prop_names
    attributes = "".join(_attribute(name, getattr(node, name, None)) for name in [*node._prop_names, *wildcard]
                         if name not in _DASH_ONLY_PROPS)
    if tag in _VOID_ELEMENTS:
        return f"<{tag}{attributes}>"
    return f"<{tag}{attributes}>{to_html(getattr(node, 'children', None))}</{tag}>"


def _attribute(prop: str, value) -> str:
    if value is None or value is False:
        return ""
    name = _attribute_name(prop)
    if name == "style" and isinstance(value, dict):
        value = ";".join(f"{_kebab(key)}:{item}" for key, item in value.items())
    if value is True:
        return f" {name}" if name in _BOOLEAN_ATTRIBUTES else f' {name}="true"'
    return f' {name}="{escape(str(value), quote=True)}"'


def _attribute_name(prop: str) -> str:
    if prop in _RENAMED:
        return _RENAMED[prop]
    if prop.startswith(("aria-", "data-")):
        return prop
    return prop.lower()  # React's camelCase (tabIndex, srcSet, fetchPriority) is HTML's lower case


def _kebab(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "-" + match.group(1).lower(), name)


def _as_html(node: Component) -> Component:
    """A Bootstrap component as the `dash.html` elements it renders to."""
    kind = node._type
    classes = [getattr(node, "class_name", None) or getattr(node, "className", None) or ""]
    common = {name: value for name in ("id", "style") if (value := getattr(node, name, None)) is not None}
    children = getattr(node, "children", None)
    if kind in ("Card", "CardBody", "CardHeader", "CardFooter", "Row"):
        base = {"Card": "card", "CardBody": "card-body", "CardHeader": "card-header", "CardFooter": "card-footer",
                "Row": "row"}[kind]
        return html.Div(children, className=_join(base, *classes), **common)
    if kind == "Col":
        sizes = [f"col-{breakpoint}-{node_size}" if breakpoint != "xs" else f"col-{node_size}"
                 for breakpoint in ("xs", "sm", "md", "lg", "xl", "xxl")
                 if (node_size := getattr(node, breakpoint, None)) is not None]
        return html.Div(children, className=_join(*(sizes or ["col"]), *classes), **common)
    if kind == "Table":
        table_classes = ["table", *[f"table-{flag}" for flag in ("striped", "bordered", "borderless", "hover")
                                    if getattr(node, flag, None)]]
        if getattr(node, "size", None):
            table_classes.append(f"table-{node.size}")
        table = html.Table(children, className=_join(*table_classes, *classes), **common)
        return html.Div(table, className="table-responsive") if getattr(node, "responsive", None) else table
    if kind == "Badge":
        colour = getattr(node, "color", None) or "secondary"
        text = getattr(node, "text_color", None)
        return html.Span(children, className=_join("badge", f"bg-{colour}", f"text-{text}" if text else "",
                                                   *classes), **common)
    if kind == "Button" and getattr(node, "href", None):
        colour = getattr(node, "color", None) or "primary"
        prefix = "btn-outline-" if getattr(node, "outline", None) else "btn-"
        size = f"btn-{node.size}" if getattr(node, "size", None) else ""
        return html.A(children, href=node.href, className=_join("btn", prefix + colour, size, *classes), **common)
    if kind == "Alert":
        colour = getattr(node, "color", None) or "success"
        return html.Div(children, className=_join("alert", f"alert-{colour}", *classes), role="alert", **common)
    raise TypeError(f"dbc.{kind} cannot be written out on the server: it belongs in the Dash layout")


def _join(*classes: str) -> str:
    return " ".join(name for name in classes if name)
