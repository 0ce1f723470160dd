"""The API fuzzed from its own OpenAPI document (GET /api/openapi.json) by Schemathesis, against the real production
server (`python -m dashboard.server.serve`, the real models): every operation, hundreds of generated requests, and
no answer may be a 5xx or differ from the document (status code, content type, headers, body schema).

The requests Schemathesis sent are counted from its own HAR report (one entry per request). Random bytes are
seldom a photo, so the hook below (loaded by `st` through SCHEMATHESIS_HOOKS) turns about half of the generated
`image` files into small real gray PNGs made from those bytes: the models really colour them, and the 200 answers
(PNG, X-Colorizer-* headers) are checked too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis

from tests.server.conftest import REPO_ROOT, running_server

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
          "response_schema_conformance")
MIN_REQUESTS = 500
# Per operation and mode (valid and invalid data): those without parameters need one or two requests each, the
# others get up to this many.
MAX_EXAMPLES = 150
RUN_SECONDS = 240


def _small_png(seed: bytes) -> bytes:
    """A gray PNG 8 to 40 pixels a side, its pixels from `seed`."""
    import io

    import numpy as np
    from PIL import Image

    width, height = 8 + len(seed) % 33, 8 + (len(seed) * 7) % 33
    pixels = np.resize(np.frombuffer(seed or b"\x80", dtype=np.uint8), (height, width))
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, format="PNG")
    return buffer.getvalue()


@schemathesis.hook
def map_body(context, body):
    operation = getattr(context, "operation", None)
    if operation is None or operation.path != "/api/colorize" or not isinstance(body, dict):
        return body
    image = body.get("image")
    if isinstance(image, str):
        image = image.encode()
    if isinstance(image, bytes) and len(image) % 2 == 0:
        body = {**body, "image": _small_png(image)}
    return body


def _wait_until_ready(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while requests.get(f"{url}/readyz", timeout=10).status_code != 200:
        if time.monotonic() > deadline:
            pytest.fail("The server's models were not ready in time.")
        time.sleep(0.5)


def _operations(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in ("get", "post", "put", "patch", "delete") if method in item}


def _template(path: str, templates: set[str]) -> str | None:
    """The document's path template that a request path matches (`/api/videos/abc` -> `/api/videos/{job_id}`)."""
    parts = path.split("/")
    for template in templates:
        pieces = template.split("/")
        if len(pieces) == len(parts) and all(p == q or (p.startswith("{") and q) for p, q in zip(pieces, parts)):
            return template
    return None


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    with running_server(tmp_path, COLORIZER_CHANNEL_TIMEOUT="3") as server:
        _wait_until_ready(server.url)  # /readyz is one of the operations: its 503 while warming is not the point
        document = requests.get(f"{server.url}/api/openapi.json", timeout=10).json()
        operations = _operations(document)
        har = tmp_path / "requests.har"
        started = time.monotonic()
        run = subprocess.run(
            [str(Path(sys.executable).parent / "st"), "run", f"{server.url}/api/openapi.json", "--url", server.url,
             "--checks", CHECKS, "--include-path-regex", "^/", "--mode", "all", "--phases", "examples,coverage,fuzzing",
             "--max-examples", str(MAX_EXAMPLES), "--seed", "20240601", "--workers", "1", "--no-shrink",
             "--request-timeout", "60", "--suppress-health-check", "all",
             "--report", "har", "--report-har-path", str(har)],
            cwd=tmp_path, capture_output=True, text=True, timeout=RUN_SECONDS + 60,
            env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": "tests.server.test_schemathesis_live",
                 "PYTHONPATH": str(REPO_ROOT)},
        )
        seconds = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    templates = {path for _, path in operations}
    sent = Counter()
    for entry in entries:
        path = urlsplit(entry["request"]["url"]).path
        sent[(entry["request"]["method"], _template(path, templates))] += 1
    print(f"Schemathesis: {len(entries)} requests in {seconds:.0f} s over {len(operations)} operations: "
          + ", ".join(f"{method} {path} {count}" for (method, path), count in sorted(sent.items(), key=str)))
    assert len(entries) >= MIN_REQUESTS, output[-3000:]
    assert operations <= set(sent), f"operations never requested: {operations - set(sent)}"
    statuses = Counter(entry["response"]["status"] for entry in entries)
    print("Statuses:", dict(sorted(statuses.items())))
    assert statuses[200] > len(entries) // 20, statuses  # real photos were coloured, not only refused
    assert not any(status >= 500 and status != 503 for status in statuses), statuses
    assert statuses[503] == 0, statuses  # nothing here is missing or busy: a 503 would be a bug too
