"""The API reference page (GET /api/docs): the OpenAPI document (`dashboard.routes.openapi`) rendered as plain HTML
on the server. No script at all, nothing loaded from outside the site: the site's vendored Bootstrap
(/assets/vendor/bootstrap.min.css) and a few inline styles (the CSP allows style-src 'self' 'unsafe-inline').
"""
from __future__ import annotations

import json
from html import escape

from .openapi import openapi_document

_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = """
body { background: #fff; color: #212529; }
main { max-width: 62rem; }
.op { border: 1px solid #adb5bd; border-radius: .5rem; padding: 1rem 1.25rem; margin-bottom: 2rem; }
.method { display: inline-block; min-width: 4.5rem; text-align: center; font-weight: 700; border-radius: .25rem;
          padding: .1rem .5rem; margin-right: .5rem; color: #fff; background: #212529; }
.method-post { background: #0a5c36; } .method-delete { background: #8b1a1a; } .method-get { background: #0b4f8a; }
code, pre { color: #1a1a1a; }
pre { background: #f1f3f5; border: 1px solid #ced4da; border-radius: .25rem; padding: .75rem; white-space: pre-wrap; }
table { margin-bottom: 1rem; }
a { color: #0b4f8a; }
"""


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: dict = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _type(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return f"constant {json.dumps(schema['const'])}"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    kind = schema.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if schema.get("format") == "binary":
        return "file"
    return kind


def _constraints(schema: dict) -> str:
    parts = []
    for key, words in (("minimum", "at least"), ("maximum", "at most"), ("minItems", "at least"),
                       ("maxItems", "at most"), ("pattern", "matching"), ("default", "default")):
        if key in schema:
            value = schema[key]
            unit = " items" if key in ("minItems", "maxItems") else ""
            parts.append(f"{words} <code>{escape(str(value))}</code>{unit}")
    return "; ".join(parts)


def _md(text: str) -> str:
    """Escaped text with `code` spans."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{piece}</code>" if index % 2 else piece for index, piece in enumerate(pieces))


def _schema_table(document: dict, schema: dict, caption: str) -> str:
    schema = _resolve(document, schema)
    properties = schema.get("properties")
    if not properties:
        return f"<p>{escape(caption)}: {escape(_type(schema))}.</p>"
    required = set(schema.get("required", []))
    rows = []
    for name, field in properties.items():
        field_schema = _resolve(document, field)
        rows.append(
            f"<tr><th scope=\"row\"><code>{escape(name)}</code></th><td>{escape(_type(field))}</td>"
            f"<td>{'yes' if name in required else 'no'}</td>"
            f"<td>{_md(field_schema.get('description', ''))} {_constraints(field_schema)}</td></tr>")
    return (f"<table class=\"table table-sm\"><caption>{escape(caption)}</caption><thead><tr><th scope=\"col\">Field"
            f"</th><th scope=\"col\">Type</th><th scope=\"col\">Required</th><th scope=\"col\">Description</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _curl(method: str, path: str, operation: dict, document: dict) -> str:
    url = "http://localhost:8050" + path.replace("{job_id}", "JOB_ID")
    command = ["curl"]
    if method != "get":
        command.append(f"-X {method.upper()}")
    body = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if body:
        schema = _resolve(document, body["schema"])
        for name in schema.get("required", []):
            field = schema["properties"][name]
            if field.get("format") == "binary":
                command.append(f"-F {name}=@{'clip.mp4' if name == 'video' else 'photo.jpg'}")
            elif "enum" in field:
                command.append(f"-F {name}={field['enum'][0]}")
        if "strength" in schema.get("properties", {}):
            command.append("-F strength=1")
    if "image/png" in json.dumps(operation.get("responses", {}).get("200", {})):
        command.append("-o coloured.png -D -")
    if "video/mp4" in json.dumps(operation.get("responses", {}).get("200", {})):
        command.append("-o coloured.mp4")
    command.append(url)
    return " \\\n  ".join(command)


def _operation(document: dict, path: str, method: str, operation: dict, parameters: list) -> str:
    anchor = operation.get("operationId", f"{method}-{path}")
    html = [f"<section class=\"op\" id=\"{escape(anchor)}\" aria-labelledby=\"{escape(anchor)}-title\">",
            f"<h3 id=\"{escape(anchor)}-title\"><span class=\"method method-{method}\">{method.upper()}</span>"
            f"<code>{escape(path)}</code></h3>",
            f"<p><strong>{escape(operation.get('summary', ''))}</strong></p>"]
    if operation.get("description"):
        html.append(f"<p>{_md(operation['description'])}</p>")
    all_parameters = [_resolve(document, parameter) for parameter in [*parameters, *operation.get("parameters", [])]]
    if all_parameters:
        html.append("<h4>Parameters</h4><ul>")
        for parameter in all_parameters:
            html.append(f"<li><code>{escape(parameter['name'])}</code> (in {escape(parameter['in'])}, "
                        f"{escape(_type(parameter['schema']))}): {_md(parameter.get('description', ''))} "
                        f"{_constraints(parameter['schema'])}</li>")
        html.append("</ul>")
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        html.append(f"<h4>Request body ({escape(media)})</h4>")
        html.append(_schema_table(document, content["schema"], "Form fields"))
    html.append("<h4>Responses</h4><dl>")
    for status, response in operation.get("responses", {}).items():
        response = _resolve(document, response)
        media = ", ".join(response.get("content", {})) or "no body"
        html.append(f"<dt>{escape(status)} <span class=\"fw-normal\">({escape(media)})</span></dt>"
                    f"<dd>{_md(response.get('description', ''))}")
        headers = response.get("headers", {})
        if headers:
            items = []
            for name, header in headers.items():
                header = _resolve(document, header)
                required = " (always)" if header.get("required") else ""
                items.append(f"<li><code>{escape(name)}</code>{required}: {_md(header.get('description', ''))}</li>")
            html.append(f"<br>Headers:<ul>{''.join(items)}</ul>")
        html.append("</dd>")
    html.append("</dl>")
    html.append(f"<h4>Example</h4><pre><code>{escape(_curl(method, path, operation, document))}</code></pre>")
    html.append("</section>")
    return "".join(html)


def reference_html(document: dict | None = None) -> str:
    """The whole page."""
    document = document or openapi_document()
    info = document["info"]
    by_tag: dict[str, list[str]] = {tag["name"]: [] for tag in document.get("tags", [])}
    contents: dict[str, list[str]] = {tag: [] for tag in by_tag}
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["Other"])[0]
                by_tag.setdefault(tag, []).append(_operation(document, path, method, operation,
                                                             item.get("parameters", [])))
                contents.setdefault(tag, []).append(
                    f"<li><a href=\"#{escape(operation.get('operationId', ''))}\">{method.upper()} "
                    f"{escape(path)}</a>: {escape(operation.get('summary', ''))}</li>")
    limits = "".join(f"<tr><th scope=\"row\"><code>{escape(name)}</code></th><td>{escape(f'{value:,}' if isinstance(value, int) else f'{value:g}')}</td></tr>"
                     for name, value in document.get("x-limits", {}).items())
    sections = "".join(f"<section aria-labelledby=\"tag-{escape(tag)}\"><h2 id=\"tag-{escape(tag)}\">"
                       f"{escape(tag)}</h2>{''.join(parts)}</section>" for tag, parts in by_tag.items() if parts)
    toc = "".join(f"<li>{escape(tag)}<ul>{''.join(items)}</ul></li>" for tag, items in contents.items() if items)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference - {escape(info['title'])}</title>
<link rel="stylesheet" href="/assets/vendor/bootstrap.min.css">
<style>{_STYLE}</style>
</head>
<body>
<main class="container py-4">
<h1>{escape(info['title'])}</h1>
<p class="lead">{escape(info.get('summary', ''))}</p>
<p>{_md(info.get('description', ''))}</p>
<p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI
{escape(document['openapi'])}).</p>
<nav aria-label="Endpoints"><h2>Endpoints</h2><ul>{toc}</ul></nav>
{sections}
<section aria-labelledby="limits"><h2 id="limits">Limits in force</h2>
<table class="table table-sm"><caption>Sizes in bytes, times in seconds</caption>
<thead><tr><th scope="col">Limit</th><th scope="col">Value</th></tr></thead><tbody>{limits}</tbody></table>
</section>
</main>
</body>
</html>
"""
