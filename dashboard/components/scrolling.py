"""Bringing a new result into view: a page's callback writes a target into a Store; `register_scroll` makes the
browser scroll to it (`dash_clientside.page.scrollIntoView`, in assets/uploads.js) once Dash has drawn it."""
from __future__ import annotations

from dash import ClientsideFunction, Input, clientside_callback


def scroll_target(selector: str) -> dict:
    """What the Store holds: the CSS selector of the element to bring into view."""
    return {"selector": selector}


def register_scroll(store_id: str) -> None:
    """Each new target written to the Store `store_id` scrolls its element to the window's top."""
    clientside_callback(ClientsideFunction("page", "scrollIntoView"), Input(store_id, "data"),
                        prevent_initial_call=True)
