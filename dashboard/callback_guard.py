"""A decorator that keeps any error inside a callback from reaching the browser as a traceback."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dash import no_update
from dash.exceptions import PreventUpdate

from .components.result_views import page_alert
from .jobs import friendly_message


def friendly_errors(output_count: int, alert_index: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a callback with `output_count` outputs: an exception becomes a friendly alert at output
    `alert_index` (unexpected ones are logged with their traceback) and the other outputs stay as they were.

    Per-file errors are handled inside the callbacks; this is the last line of defence.
    """

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except PreventUpdate:
                raise
            except Exception as error:
                alert = page_alert(friendly_message(error, f"running the callback {function.__name__}"), "danger")
                if output_count == 1:
                    return alert
                outputs: list[Any] = [no_update] * output_count
                outputs[alert_index] = alert
                return outputs

        return guarded

    return decorate
