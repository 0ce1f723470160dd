"""Issue 20, item 6: no 500 for what a real user or a hand-made request can send to a callback (dashboard.guards.callback_guard,
dashboard.guards.security's JSON, the Reference transfer page's editor)."""
from __future__ import annotations

import copy
import logging

import pytest

from dashboard.guards.session import COOKIE_NAME, cookie_value

SESSION = "guard-session-aaaaaaaaa"
TOUCHUP = "welsh-touchup"


@pytest.fixture(scope="module")
def server(colour_gallery):
    from dashboard.app import server

    server.test_client().get("/")  # Dash registers the pages' callbacks on the first request
    return server


@pytest.fixture()
def client(server):
    client = server.test_client()
    client.set_cookie(COOKIE_NAME, cookie_value(SESSION))
    return client


def callback_key(output_id: str, input_id: str) -> str:
    from dashboard.app import app

    return next(key for key, callback in app.callback_map.items()
                if output_id in key and any(item["id"] == input_id for item in callback["inputs"]))


def apply_request(target: object) -> dict:
    """What the Reference transfer page's editor sends when Apply is pressed (its queued re-colouring, see
    assets/touchup_editor.js), one result panel shown."""
    panel = {"result": "slot-1"}
    return {
        "output": callback_key(f"{TOUCHUP}-status", f"{TOUCHUP}-request"),
        "outputs": [{"id": f"{TOUCHUP}-target", "property": "data"}, {"id": f"{TOUCHUP}-applied", "property": "data"},
                    {"id": f"{TOUCHUP}-before", "property": "value"},
                    {"id": f"{TOUCHUP}-status", "property": "children"},
                    [{"id": {"type": f"{TOUCHUP}-image", **panel}, "property": "src"}],
                    [{"id": {"type": f"{TOUCHUP}-download", **panel}, "property": "href"}],
                    [{"id": {"type": f"{TOUCHUP}-shown", **panel}, "property": "data"}]],
        "inputs": [{"id": f"{TOUCHUP}-request", "property": "data", "value": {
            "seq": 1, "target": target,
            "shapes": [{"type": "path", "path": "M10,10L20,20", "line": {"color": "#ff0000", "width": 5}}]}}],
        "changedPropIds": [f"{TOUCHUP}-request.data"],
    }


def test_apply_on_an_expired_result_says_so_in_the_editor(client):
    """The result was removed from the results store (expired) while the editor was open: the editor's status says
    to colour the photo again, and the result panels stay as they were (was: a 500, and nothing happened)."""
    expired = {"slot": "slot-1", "result": "e" * 22, "original": "e" * 22, "size": [120, 160]}
    response = client.post("/_dash-update-component", json=apply_request(expired))
    assert response.status_code == 200
    status = response.get_json()["response"][f"{TOUCHUP}-status"]["children"]
    assert "This result has expired" in status and "please colour the photo again" in status


def with_change(change) -> dict:
    body = apply_request({"slot": "slot-1", "result": "e" * 22, "original": "e" * 22, "size": [120, 160]})
    change(body)
    return body


HAND_MADE = {
    "no inputs": lambda body: body.pop("inputs"),
    "an input missing": lambda body: body["inputs"].pop(),
    "inputs as an object": lambda body: body.update(inputs={}),
    "an input that is a number": lambda body: body["inputs"].__setitem__(0, 5),
    "an input without its property": lambda body: body["inputs"][0].pop("property"),
    "a string for the request": lambda body: body["inputs"][0].update(value="1"),
    "a list for the request": lambda body: body["inputs"][0].update(value=[1]),
    "a number for the strokes": lambda body: body["inputs"][0]["value"].update(shapes=5),
    "a string for the editor's target": lambda body: body["inputs"][0]["value"].update(target="x"),
    "a number for changedPropIds": lambda body: body.update(changedPropIds=5),
    "outputs missing": lambda body: body.pop("outputs"),
    "a pattern output as one object": lambda body: body["outputs"].__setitem__(4, {"id": "x", "property": "src"}),
    "output as a list": lambda body: body.update(output=["x"]),
}


@pytest.mark.parametrize("change", HAND_MADE.values(), ids=HAND_MADE.keys())
def test_hand_made_callbacks_with_missing_or_wrong_typed_inputs_are_400_with_json(client, change, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.post("/_dash-update-component", json=with_change(change))
    assert response.status_code == 400, response.data[:300]
    assert response.is_json and response.get_json()["error"]
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.parametrize("body", [[1], "x", 5, None], ids=["a list", "a string", "a number", "null"])
def test_a_callback_body_that_is_not_an_object_is_400_with_json(client, body):
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400 and response.get_json()["error"]


def test_pathname_must_be_a_path(client):
    """Dash's own pages router (its `_pages_location` callback) raised on a pathname without its leading slash."""
    from dashboard.app import app

    key = next(key for key in app.callback_map if "_pages_content.children" in key)
    declared = app.callback_map[key]
    body = {"output": key, "outputs": [{"id": "_pages_content", "property": "children"},
                                       {"id": "_pages_store", "property": "data"}],
            "inputs": [{**item, "value": "x"} for item in declared["inputs"]],
            "state": [{**item, "value": None} for item in declared.get("state", [])],
            "changedPropIds": ["_pages_location.pathname"]}
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400 and "path" in response.get_json()["error"]


def test_the_pages_own_requests_still_pass(client):
    body = with_change(lambda body: None)
    assert client.post("/_dash-update-component", json=copy.deepcopy(body)).status_code == 200


@pytest.mark.parametrize("path", ["/_dash-update-component", "/api/colorize", "/api/models"])
def test_deeply_nested_json_is_400_not_a_recursion_error(client, path, caplog):
    nested = "[" * 100_000 + "]" * 100_000
    with caplog.at_level(logging.ERROR):
        response = client.post(path, data=nested, content_type="application/json")
    assert 400 <= response.status_code < 500 and b"Traceback" not in response.data
    assert not [record for record in caplog.records if record.exc_info]


def test_deeply_nested_json_is_invalid_json_to_the_server():
    from flask import Flask

    from dashboard.guards.security import BoundedJSONProvider

    server = Flask(__name__)
    server.json = BoundedJSONProvider(server)
    with pytest.raises(ValueError, match="nested too deeply"):
        server.json.loads("[" * 100_000 + "]" * 100_000)
    assert server.json.loads("[[1]]") == [[1]]
