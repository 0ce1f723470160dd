"""The API's OpenAPI 3.1 document (GET /api/openapi.json) and its reference page (GET /api/docs): a well-formed
document, every /api route of the Flask server described and nothing described that is not served, and the limits
it states those in force."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from colorizers import available_models, settings
from colorizers.reference_transfer import MAX_REFERENCES
from colorizers.registry import BY_HAND, MAX_STRENGTH
from colorizers.video import MAX_CLIP_BYTES
from dashboard import settings as dashboard_settings
from dashboard.app import server
from dashboard.jobs.videos import MAX_KEYFRAMES
from dashboard.routes.api import _request_limit

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# Flask's own, and the routes that only answer 405 (with Allow) or 404 for what the API does not have.
NOT_OPERATIONS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def client():
    return server.test_client()


@pytest.fixture(scope="module")
def document(client) -> dict:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    return answer.get_json()


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), ref
    target = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, item, operation


def test_the_document_is_openapi_3_1_and_well_formed(document) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    for ref in _refs(document):  # every $ref resolves
        _resolve(document, ref)
    operation_ids = [operation["operationId"] for *_, operation in _operations(document)]
    assert len(operation_ids) == len(set(operation_ids))
    for path, method, item, operation in _operations(document):
        assert path.startswith("/")
        assert operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            assert re.fullmatch(r"[1-5][0-9][0-9]|default", status), status
            if "$ref" not in response:
                assert response["description"], (method, path, status)
        templated = set(re.findall(r"{([^}]+)}", path))
        declared = {_resolve(document, p["$ref"])["name"] if "$ref" in p else p["name"]
                    for p in [*item.get("parameters", []), *operation.get("parameters", [])]}
        assert templated == declared, (path, templated, declared)


def test_every_error_answer_is_the_error_object(document) -> None:
    for path, method, _item, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and (path.startswith("/api/") and status != "416"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"]["type"] == "string"


def _flask_operations() -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for every route of the server under /api/, and the health routes, leaving out those
    that only answer 405 (the wrong method) and the catch-all 404."""
    found = set()
    for rule in server.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in ("/healthz", "/readyz")):
            continue
        if rule.endpoint.endswith("wrong_method") or rule.endpoint == "api.unknown_endpoint":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        found |= {(method, path) for method in rule.methods - NOT_OPERATIONS}
    return found


def test_every_route_is_described_and_every_description_is_a_route(document) -> None:
    described = {(method.upper(), path) for path, method, *_ in _operations(document)}
    assert described == _flask_operations()


def test_every_path_under_api_is_described_with_all_its_methods(document) -> None:
    """The routes that answer 405 belong to a described path; the methods they refuse are not described."""
    for rule in server.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api.unknown_endpoint":
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            assert path in document["paths"], path
            if rule.endpoint.endswith("wrong_method"):
                assert not {m.lower() for m in rule.methods - NOT_OPERATIONS} & set(document["paths"][path])


def test_the_limits_are_those_in_force(document) -> None:
    limits = document["x-limits"]
    assert limits["max_upload_bytes"] == settings.MAX_UPLOAD_BYTES
    assert limits["max_request_bytes"] == settings.MAX_REQUEST_BYTES
    assert limits["colorize_request_max_bytes"] == _request_limit()
    assert limits["max_pixels"] == settings.MAX_PIXELS
    assert limits["min_side"] == settings.MIN_SIDE
    assert limits["max_video_bytes"] == MAX_CLIP_BYTES == settings.MAX_VIDEO_BYTES
    assert limits["video_request_max_bytes"] == dashboard_settings.video_request_max_bytes()
    assert limits["max_keyframes"] == MAX_KEYFRAMES
    assert limits["api_max_wait_seconds"] == dashboard_settings.API_MAX_WAIT_SECONDS
    schemas = document["components"]["schemas"]
    for form in ("ColorizeForm", "VideoForm"):
        fields = schemas[form]["properties"]
        assert fields["strength"]["minimum"] == 0 and fields["strength"]["maximum"] == MAX_STRENGTH
        assert fields["reference"]["maxItems"] == MAX_REFERENCES
        assert fields["model"]["enum"] == [info.name for info in available_models()] + list(BY_HAND)
    assert schemas["VideoForm"]["properties"]["keyframe"]["maxItems"] == MAX_KEYFRAMES
    assert f"{settings.MAX_UPLOAD_BYTES / 1e6:g} MB" in schemas["ColorizeForm"]["properties"]["image"]["description"]


def test_the_documented_answers_are_what_the_server_says(client, document) -> None:
    models = client.get("/api/models").get_json()
    assert {model["name"] for model in models} <= set(document["components"]["schemas"]["ColorizeForm"]
                                                      ["properties"]["model"]["enum"])
    assert set(models[0]) == set(document["components"]["schemas"]["Model"]["required"])
    missing = client.get("/api/videos/unknownjob")
    assert missing.status_code == 404 and set(missing.get_json()) == {"error"}
    assert "404" in document["paths"]["/api/videos/{job_id}"]["get"]["responses"]
    no_model = client.post("/api/colorize", data={}, content_type="multipart/form-data")
    assert no_model.status_code == 400 and "400" in document["paths"]["/api/colorize"]["post"]["responses"]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_reference_page_is_readable_html_from_this_site_only(client, document) -> None:
    answer = client.get("/api/docs")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = _Page()
    page.feed(answer.get_data(as_text=True))
    tags = [tag for tag, _ in page.tags]
    assert ("html", {"lang": "en"}) in page.tags
    assert tags.count("main") == 1 and tags.count("h1") == 1 and "title" in tags
    assert "script" not in tags  # nothing to run (the CSP would refuse an inline one anyway)
    for tag, attrs in page.tags:  # nothing from outside the site
        for name in ("src", "href"):
            assert not attrs.get(name, "/").startswith(("http:", "https:", "//")), (tag, attrs)
    levels = [int(tag[1]) for tag in tags if re.fullmatch(r"h[1-6]", tag)]
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels  # headings never skip a level
    text = answer.get_data(as_text=True)
    for path, method, *_ in _operations(document):
        assert f"{method.upper()}</span><code>{path}</code>" in text
    assert "curl" in text
    assert "Content-Security-Policy" in answer.headers
