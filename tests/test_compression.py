"""Responses gzipped as they stream out, long-cached ones kept gzipped (`dashboard.server.compression`)."""
from __future__ import annotations

import gzip
import random
import string

import pytest
from flask import Flask, Response, send_file
from werkzeug.test import EnvironBuilder

from dashboard.server.compression import GzipResponses

YEAR = "public, max-age=31536000"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _text(size: int, seed: int = 0) -> str:
    """Text that compresses, but not to nothing (words drawn at random)."""
    rng = random.Random(seed)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(400)]
    out = []
    while sum(map(len, out)) < size:
        out.append(rng.choice(words) + " ")
    return "".join(out)[:size]


BIG = _text(8000)


class Counting:
    """A small app whose views count their calls."""

    def __init__(self, **middleware) -> None:
        self.calls: dict[str, int] = {}
        flask_app = Flask(__name__)
        self.flask_app = flask_app

        def counted(name):
            self.calls[name] = self.calls.get(name, 0) + 1

        @flask_app.route("/text")
        def text():
            counted("text")
            return Response(BIG, mimetype="text/html")

        @flask_app.route("/small")
        def small():
            return Response("x" * 500, mimetype="text/plain")

        @flask_app.route("/png")
        def png():
            return Response(BIG.encode(), mimetype="image/png")

        @flask_app.route("/partial")
        def partial():
            return Response(BIG[:2000], status=206, mimetype="text/plain",
                            headers={"Content-Range": f"bytes 0-1999/{len(BIG)}"})

        @flask_app.route("/file")
        def file():
            return send_file(flask_app.config["FILE"], mimetype="text/plain", conditional=True)

        @flask_app.route("/cached/<kind>/<int:number>")
        def cached(kind, number):
            counted(f"{kind}/{number}")
            response = Response(_text(8000, seed=number), mimetype="application/javascript")
            response.headers["Cache-Control"] = {
                "year": YEAR, "private": "private, max-age=31536000", "no-store": "no-store, max-age=31536000",
                "short": "public, max-age=60",
            }.get(kind, YEAR)
            if kind == "cookie":
                response.set_cookie("session", "abc")
            return response

        self.middleware = GzipResponses(flask_app.wsgi_app, **middleware)
        flask_app.wsgi_app = self.middleware
        self.client = flask_app.test_client()


@pytest.fixture()
def app():
    return Counting()


def _gzipped(response) -> bytes:
    assert response.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    body = response.get_data()
    length = response.headers.get("Content-Length")
    assert length is None or int(length) == len(body)
    return gzip.decompress(body)


def test_text_is_gzipped_when_the_client_accepts_it(app):
    response = app.client.get("/text", headers=GZIP)
    assert response.status_code == 200
    body = response.get_data()
    assert len(body) < len(BIG) / 2
    assert _gzipped(response).decode() == BIG


@pytest.mark.parametrize("accept", [None, "", "identity", "br, deflate", "gzip;q=0", "gzip; q=0", "x-gzip-not"])
def test_not_compressed_unless_gzip_is_accepted(app, accept):
    response = app.client.get("/text", headers={"Accept-Encoding": accept} if accept is not None else {})
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True) == BIG
    assert int(response.headers["Content-Length"]) == len(BIG.encode())


def test_a_zero_quality_written_with_decimals_refuses_gzip(app):
    response = app.client.get("/text", headers={"Accept-Encoding": "gzip;q=0.0, identity"})
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("path", ["/png", "/small", "/partial"])
def test_not_compressed_for_pictures_small_bodies_and_parts(app, path):
    response = app.client.get(path, headers=GZIP)
    assert "Content-Encoding" not in response.headers
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)


def test_a_range_request_gets_its_bytes_uncompressed(app, tmp_path):
    (tmp_path / "big.txt").write_text(BIG)
    app.flask_app.config["FILE"] = str(tmp_path / "big.txt")
    response = app.client.get("/file", headers={**GZIP, "Range": "bytes=100-1499"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True) == BIG[100:1500]


def test_head_is_not_compressed(app):
    response = app.client.head("/text", headers=GZIP)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == len(BIG.encode())


def test_a_streamed_response_is_compressed_as_it_streams():
    chunks = [_text(64 * 1024, seed=index).encode() for index in range(6)]
    progress = {"sent": 0, "finished": False}

    def generate():
        for chunk in chunks:
            progress["sent"] += 1
            yield chunk
        progress["finished"] = True

    def streaming_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        return generate()

    middleware = GzipResponses(streaming_app)
    environ = EnvironBuilder(path="/stream", headers=GZIP).get_environ()
    started = {}
    body = middleware(environ, lambda status, headers, exc_info=None: started.update(status=status, headers=headers))
    assert dict(started["headers"]).get("Content-Encoding") == "gzip"
    iterator = iter(body)
    first = next(iterator)
    assert first and not progress["finished"] and progress["sent"] < len(chunks)
    rest = b"".join(iterator)
    assert progress["finished"]
    assert gzip.decompress(first + rest) == b"".join(chunks)


def test_long_cached_responses_are_compressed_once(app):
    first = app.client.get("/cached/year/1", headers=GZIP)
    assert _gzipped(first) == _text(8000, seed=1).encode()  # kept once it has all been sent
    second = app.client.get("/cached/year/1", headers=GZIP)
    assert app.calls["year/1"] == 1
    assert _gzipped(second) == _text(8000, seed=1).encode()
    assert second.get_data() == first.get_data()
    assert second.headers["Cache-Control"] == YEAR
    assert second.mimetype == "application/javascript"
    # A client that does not take gzip is answered by the view, uncompressed.
    plain = app.client.get("/cached/year/1")
    assert "Content-Encoding" not in plain.headers and app.calls["year/1"] == 2
    # Another URL is another entry.
    app.client.get("/cached/year/1?v=2", headers=GZIP).get_data()
    assert app.calls["year/1"] == 3


@pytest.mark.parametrize("kind", ["private", "no-store", "cookie", "short"])
def test_responses_not_for_everyone_are_never_kept(app, kind):
    for _ in range(2):
        response = app.client.get(f"/cached/{kind}/1", headers=GZIP)  # read whole: a response is kept once sent
        assert _gzipped(response) == _text(8000, seed=1).encode()
    assert app.calls[f"{kind}/1"] == 2
    assert not app.middleware.cache.entries


def test_a_post_is_never_kept(app):
    from flask import request

    def posted():
        return Response(BIG if request.method == "POST" else _text(4000, seed=9), mimetype="text/plain",
                        headers={"Cache-Control": YEAR})

    app.flask_app.add_url_rule("/posted", "posted", posted, methods=["GET", "POST"])
    assert _gzipped(app.client.post("/posted", headers=GZIP)) == BIG.encode()
    assert _gzipped(app.client.get("/posted", headers=GZIP)) == _text(4000, seed=9).encode()


def test_the_cache_evicts_the_least_recently_used_past_its_limit():
    size = len(gzip.compress(_text(8000, seed=1).encode(), 6))
    app = Counting(cache_limit_bytes=int(size * 2.5))
    for number in (1, 2, 1, 3):  # 1 is used again after 2: 2 is the one to go when 3 arrives
        app.client.get(f"/cached/year/{number}", headers=GZIP).get_data()
    assert app.calls == {"year/1": 1, "year/2": 1, "year/3": 1}
    assert app.middleware.cache.size <= app.middleware.cache.limit
    app.client.get("/cached/year/1", headers=GZIP).get_data()
    app.client.get("/cached/year/3", headers=GZIP).get_data()
    assert app.calls == {"year/1": 1, "year/2": 1, "year/3": 1}
    response = app.client.get("/cached/year/2", headers=GZIP)
    assert app.calls["year/2"] == 2
    assert _gzipped(response) == _text(8000, seed=2).encode()


# --- The real app ---------------------------------------------------------------------------------------------------
def test_fingerprinted_assets_are_cached_for_a_year(dashboard_app):
    client = dashboard_app.server.test_client()
    response = client.get("/assets/style.css?m=1")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    unfingerprinted = client.get("/assets/style.css")
    assert "max-age=31536000" not in unfingerprinted.headers.get("Cache-Control", "")


def test_dash_scripts_come_gzipped(dashboard_app):
    import json
    import re

    client = dashboard_app.server.test_client()
    page = client.get("/compare").get_data(as_text=True)
    sources = json.loads(re.search(r'<script type="application/json" id="page-scripts">(.*?)</script>', page,
                                   re.S).group(1))
    [core] = [source for source in sources if re.search(r"/dash_core_components\.v[^/]*\.js$", source)]
    plain = client.get(core)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    for _ in range(2):  # compressed, then from the cache
        response = client.get(core, headers=GZIP)
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers.get("Cache-Control", "")
        assert _gzipped(response) == plain.get_data()
        assert len(response.get_data()) < len(plain.get_data()) / 2
