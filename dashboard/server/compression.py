"""Responses travel compressed and fingerprinted files are cached for a year: what makes the first view fast on a
phone's connection (Dash's scripts are 1.4 MB raw, about a quarter of that gzipped).

`GzipResponses` is WSGI middleware around the whole app: a response whose type is text (HTML, JSON, JavaScript,
CSS, SVG, plain text) is gzipped as it streams out, chunk by chunk, when the client accepts gzip; nothing is ever
written to disk, and a response that cannot be reused is never held whole. A response the browser may keep for a
year (a fingerprinted script or stylesheet) is the same for everyone: its gzipped bytes are kept in a small cache so
that each is compressed once per process. Photos, videos and zips pass as they are (already compressed), as do
byte ranges and responses that set their own encoding.

`cache_fingerprinted_assets` gives the site's own files under /assets, whose URLs Dash makes with `?m=<modified>`,
a year's lifetime: a changed file gets a new URL.
"""
from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from flask import Flask, Response, request

COMPRESSIBLE_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
MIN_BYTES = 1024  # below this, gzip's header and the work outweigh the saving
LEVEL = 6
YEAR = 31536000
LONG_CACHE = f"public, max-age={YEAR}, immutable"
CACHE_LIMIT_BYTES = 16 * 1024 * 1024  # gzipped bytes kept for reuse (Dash's bundles gzip to about 0.4 MB)


class GzipResponses:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, app, cache_limit_bytes: int = CACHE_LIMIT_BYTES) -> None:
        self.app = app
        self.cache = _ByteCache(cache_limit_bytes)

    def __call__(self, environ: dict, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "POST") or not _accepts_gzip(environ):
            return self.app(environ, start_response)
        key = _url_of(environ)
        cached = self.cache.get(key) if environ["REQUEST_METHOD"] == "GET" else None
        decision: dict = {}

        def deciding_start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            if _compressible(status, headers):
                headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
                headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
                reusable = environ["REQUEST_METHOD"] == "GET" and _is_long_cached(headers)  # a POST's answer is its own
                decision.update(compress=True, reusable=reusable, status=status, headers=headers)
            return start_response(status, headers, exc_info)

        if cached is not None:
            status, headers, data = cached
            start_response(status, [*headers, ("Content-Length", str(len(data)))])
            return [data]
        body = self.app(environ, deciding_start_response)
        if not decision.get("compress"):
            return body
        if decision["reusable"]:
            return self._compressed_and_kept(key, body, decision["status"], decision["headers"])
        return _gzip_stream(body)

    def _compressed_and_kept(self, key: str, body: Iterable[bytes], status: str, headers: list) -> Iterator[bytes]:
        parts = []
        for chunk in _gzip_stream(body):
            parts.append(chunk)
            yield chunk
        kept_headers = [(name, value) for name, value in headers if name.lower() != "date"]  # the server adds its own
        self.cache.put(key, (status, kept_headers, b"".join(parts)))


def _gzip_stream(body: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    try:
        for chunk in body:
            compressed = compressor.compress(chunk)
            if compressed:
                yield compressed
        yield compressor.flush()
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _compressible(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200"):
        return False
    found = {name.lower(): value for name, value in headers}
    if "content-encoding" in found or "content-range" in found:
        return False
    if not found.get("content-type", "").startswith(COMPRESSIBLE_TYPES):
        return False
    length = found.get("content-length")
    return length is None or int(length) >= MIN_BYTES


def _is_long_cached(headers: list[tuple[str, str]]) -> bool:
    """A response any visitor may reuse for a day or more: the same bytes for everyone, worth keeping gzipped."""
    cache_control = next((value for name, value in headers if name.lower() == "cache-control"), "")
    directives = {part.strip().split("=")[0]: part.strip() for part in cache_control.split(",")}
    if "private" in directives or "no-store" in directives or "max-age" not in directives:
        return False
    return int(directives["max-age"].split("=")[1]) >= 86400 and not any(
        name.lower() == "set-cookie" for name, _ in headers)


def _accepts_gzip(environ: dict) -> bool:
    for part in environ.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, *parameters = [piece.strip() for piece in part.split(";")]
        if coding == "gzip":
            quality = next((value for name, _, value in (p.partition("=") for p in parameters) if name == "q"), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


def _url_of(environ: dict) -> str:
    return environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")


class _ByteCache:
    """A thread-safe LRU of (status, headers, gzipped bytes), bounded by the bytes it holds."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.entries: OrderedDict[str, tuple[str, list, bytes]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[str, list, bytes] | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: tuple[str, list, bytes]) -> None:
        if len(entry[2]) > self.limit:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old[2])
            self.entries[key] = entry
            self.size += len(entry[2])
            while self.size > self.limit:
                _, evicted = self.entries.popitem(last=False)
                self.size -= len(evicted[2])


def cache_fingerprinted_assets(server: Flask) -> None:
    """A year's lifetime for /assets files asked for with Dash's `?m=` fingerprint (see the module's docstring)."""

    @server.after_request
    def long_lifetime(response: Response) -> Response:
        if request.path.startswith("/assets/") and "m" in request.args and response.status_code == 200:
            response.headers["Cache-Control"] = LONG_CACHE
        return response
