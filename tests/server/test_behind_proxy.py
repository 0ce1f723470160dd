"""Issue 20 against the real server: behind a TLS proxy named by COLORIZER_TRUSTED_PROXY the session cookie is
Secure and HSTS is sent; the same headers from another address change nothing; an unknown path is a 404."""
from __future__ import annotations

import http.client

from tests.server.conftest import running_server

HTTPS_PROXY_HEADERS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7",
                       "X-Forwarded-Host": "colour.example"}


def get(server, path: str, source: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """GET `path` as a new visitor, connecting from the loopback address `source`."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30, source_address=(source, 0))
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_only_the_trusted_proxy_makes_the_cookie_secure_and_sends_hsts(tmp_path):
    with running_server(tmp_path, COLORIZER_TRUSTED_PROXY="127.0.0.1") as server:
        behind = get(server, "/", "127.0.0.1", HTTPS_PROXY_HEADERS)
        assert behind.status == 200
        assert "; Secure" in behind.getheader("Set-Cookie")
        assert behind.getheader("Strict-Transport-Security") == "max-age=31536000"

        elsewhere = get(server, "/", "127.0.0.2", HTTPS_PROXY_HEADERS)  # not the proxy: its headers are not believed
        assert elsewhere.status == 200
        assert "Secure" not in elsewhere.getheader("Set-Cookie")
        assert elsewhere.getheader("Strict-Transport-Security") is None

        plain = get(server, "/", "127.0.0.1", {"X-Forwarded-Proto": "http"})
        assert "Secure" not in plain.getheader("Set-Cookie") and plain.getheader("Strict-Transport-Security") is None

        assert get(server, "/no-such-page", "127.0.0.1", {}).status == 404
