"""What keeps a callback's errors and a hand-made callback request from reaching the browser as a 500 or a traceback.

- `friendly_errors`: an exception inside a callback becomes a friendly alert on the page (the last line of defence;
  per-file errors are handled inside the callbacks).
- `install_callback_request_checks`: a callback request (POST .../_dash-update-component) is checked against the
  callback it names before Dash reads it: its inputs and states must be those the callback declares, each with a
  value of the type its property has in a browser (`PROPERTY_TYPES`); anything else is a 400 with a JSON message.
  The page's own requests always pass. A value of the right type but a shape no page sends (a page's own state
  hand-made) that still makes a callback without `friendly_errors` fail is a 400 too (`BAD_VALUE_ERRORS`), logged
  as a warning line, never a traceback.
"""
from __future__ import annotations

import functools
import traceback
import logging
from collections.abc import Callable
from typing import Any

from dash import Dash, callback_context, no_update
from dash.exceptions import MissingCallbackContextException, PreventUpdate, UnsupportedRelativePath
from flask import Response, jsonify, request

from ..components.result_views import page_alert
from ..jobs.photos import friendly_message

logger = logging.getLogger(__name__)

CALLBACK_PATH_END = "/_dash-update-component"


def unchanged_outputs(output_count: int) -> list[Any]:
    """`no_update` for each of the `output_count` outputs of the callback being served, shaped as Dash wants it
    back: a list of them for a pattern output (ALL), which Dash refuses as a bare `no_update` (outside a request,
    as in a unit test, a bare one each)."""
    try:
        specs = callback_context.outputs_list
    except MissingCallbackContextException:
        specs = None
    if not isinstance(specs, list) or len(specs) != output_count:
        return [no_update] * output_count
    return [[no_update] * len(spec) if isinstance(spec, list) else no_update for spec in specs]


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
                outputs = unchanged_outputs(output_count)
                outputs[alert_index] = alert
                return outputs

        return guarded

    return decorate


# --- Hand-made callback requests ---------------------------------------------------------------------------------

def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_text_or_texts(value: object) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, list)
                                                       and all(isinstance(item, str) for item in value))


# What a browser sends for each property the app's callbacks read (a property not listed may hold any JSON value:
# a dcc.Store's `data` is the page's own state, which its readers check).
PROPERTY_TYPES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "n_clicks": ("a whole number", lambda value: value is None or (_is_int(value) and value >= 0)),
    "n_intervals": ("a whole number", lambda value: value is None or (_is_int(value) and value >= 0)),
    "contents": ("a string or a list of strings", _is_text_or_texts),
    "filename": ("a string or a list of strings", _is_text_or_texts),
    "pathname": ("a path starting with /", lambda value: value is None or (isinstance(value, str)
                                                                         and value.startswith("/"))),
    "search": ("a string", lambda value: value is None or isinstance(value, str)),
    "value": ("a string, a number, true or false, or a list of them",
              lambda value: _is_scalar(value) or (isinstance(value, list) and all(map(_is_scalar, value)))),
    "figure": ("an object", lambda value: value is None or isinstance(value, dict)),
    "relayoutData": ("an object", lambda value: value is None or isinstance(value, dict)),
}


# The same for one component's property (a dcc.Store whose `data` has a known shape), set with `expect_value`.
COMPONENT_TYPES: dict[tuple[str, str], tuple[str, Callable[[object], bool]]] = {}


def expect_value(component_id: str, prop: str, description: str, check: Callable[[object], bool]) -> None:
    """Declare what a browser sends as `component_id`'s `prop` (e.g. a store the page fills with a list):
    a callback request with anything else is a 400."""
    COMPONENT_TYPES[(component_id, prop)] = (description, check)


class BadCallbackRequest(ValueError):
    """A callback request that is not what the page sends (its message says what is wrong)."""


def _is_pattern_list(declared_id: str) -> bool:
    """Whether a declared input id (Dash writes a pattern id as JSON) gathers a list of components (ALL,
    ALLSMALLER), as opposed to one (a plain id, or MATCH)."""
    return declared_id.startswith("{") and ('["ALL"]' in declared_id or '["ALLSMALLER"]' in declared_id)


def _check_item(item: object, declared: dict, where: str) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("property"), str):
        raise BadCallbackRequest(f"{where} must be an object with 'id', 'property' and 'value'.")
    if not isinstance(item.get("id"), (str, dict)):
        raise BadCallbackRequest(f"{where} needs the component's 'id'.")
    if item["property"] != declared["property"]:
        raise BadCallbackRequest(f"{where} must be the property '{declared['property']}'.")
    if isinstance(item["id"], str) and not _is_pattern_list(declared["id"]) and item["id"] != declared["id"]:
        raise BadCallbackRequest(f"{where} must be the component '{declared['id']}'.")
    expected = COMPONENT_TYPES.get((item["id"], item["property"])) if isinstance(item["id"], str) else None
    expected = expected or PROPERTY_TYPES.get(item["property"])
    if expected is not None and not expected[1](item.get("value")):
        raise BadCallbackRequest(f"The value of {where} ('{item['property']}') must be {expected[0]}.")


def _check_values(items: object, declared: list[dict], name: str) -> None:
    if not isinstance(items, list) or len(items) != len(declared):
        raise BadCallbackRequest(f"'{name}' must list the callback's {len(declared)} {name} in order.")
    for index, (item, wanted) in enumerate(zip(items, declared)):
        where = f"{name}[{index}]"
        if _is_pattern_list(wanted["id"]):
            if not isinstance(item, list):
                raise BadCallbackRequest(f"{where} must be a list (one entry per matching component).")
            for position, each in enumerate(item):
                _check_item(each, wanted, f"{where}[{position}]")
        else:
            _check_item(item, wanted, where)


def _check_outputs(outputs: object, declared: object) -> None:
    count = len(declared) if isinstance(declared, (list, tuple)) else None
    if count is None:
        if not isinstance(outputs, (dict, list)):
            raise BadCallbackRequest("'outputs' must describe the callback's output.")
        return
    if not isinstance(outputs, list) or len(outputs) != count:
        raise BadCallbackRequest(f"'outputs' must list the callback's {count} outputs in order.")
    for index, (output, wanted) in enumerate(zip(outputs, declared)):
        if wanted.has_wildcard() != isinstance(output, list) or not all(
                isinstance(each, dict) for each in (output if isinstance(output, list) else [output])):
            raise BadCallbackRequest(f"outputs[{index}] does not match the callback's output.")


def check_callback_request(body: object, callback_map: dict[str, dict]) -> None:
    """Raise BadCallbackRequest unless `body` is a callback request as the page sends it for a callback of
    `callback_map` (Dash's: output key -> declaration)."""
    if not isinstance(body, dict):
        raise BadCallbackRequest("A callback request is a JSON object.")
    declaration = callback_map.get(body.get("output")) if isinstance(body.get("output"), str) else None
    if declaration is None:
        raise BadCallbackRequest("No such callback.")
    _check_values(body.get("inputs"), declaration["inputs"], "inputs")
    _check_values(body.get("state", []), declaration.get("state", []), "state")
    if not declaration.get("no_output"):
        _check_outputs(body.get("outputs"), declaration["output"])
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(prop, str) for prop in changed):
        raise BadCallbackRequest("'changedPropIds' must be a list of strings.")


def bad_request(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response


# What a callback raises when a value has a shape no page sends (e.g. a number where the page keeps an object).
BAD_VALUE_ERRORS = (TypeError, ValueError, AttributeError, IndexError, UnsupportedRelativePath)


def install_callback_request_checks(app: Dash) -> None:
    """Answer a callback request that does not match its callback (missing inputs, values of the wrong type, a body
    that is not JSON or is nested too deeply) with 400 and a JSON message, before Dash reads it."""

    @app.server.before_request
    def check_callback() -> Response | None:
        if request.method != "POST" or not request.path.endswith(CALLBACK_PATH_END):
            return None
        body = request.get_json(silent=True)  # None for a body that is not JSON or is nested too deeply
        if body is None:
            return bad_request("A callback request is a JSON object (not nested deeper than a page's requests).")
        try:
            check_callback_request(body, app.callback_map)
        except BadCallbackRequest as error:
            logger.info("Refused a callback request: %s", error)
            return bad_request(str(error))
        return None

    def values_no_page_sends(error: Exception) -> Response:
        if not request.path.endswith(CALLBACK_PATH_END):
            raise error  # a bug of ours elsewhere: Flask logs it and answers 500
        frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
        where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
        logger.warning("A callback request's values failed its callback: %s: %s%s", type(error).__name__, error, where)
        return bad_request("The request's values are not what the page sends.")

    for error_class in BAD_VALUE_ERRORS:
        app.server.register_error_handler(error_class, values_no_page_sends)

