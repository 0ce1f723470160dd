"""Issue 20 against the real server: one client address cannot take the site down by trickling requests on many
connections (`dashboard.server.connections`), and Waitress's own error answers look like the app's
(`dashboard.server.waitress_errors`)."""
from __future__ import annotations

import json
import socket
import threading
import time

from tests.server.conftest import get_from

ATTACKER = "127.0.0.1"
VISITOR = "127.0.0.2"


class Trickler(threading.Thread):
    """`count` connections from `source`, each a POST whose body comes one byte every `interval` seconds; one the
    server closes is opened again at once (a hostile client that keeps trying)."""

    def __init__(self, server, count: int, source: str = ATTACKER, interval: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.server, self.count, self.source, self.interval = server, count, source, interval
        self.stop = threading.Event()
        self.opened = 0
        self.closed_by_server = 0
        self.headers = (f"POST /api/colorize HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: multipart/form-data; "
                        "boundary=xyz\r\nContent-Length: 100000\r\n\r\n").encode()

    def _open(self) -> socket.socket | None:
        connection = socket.socket()
        try:
            connection.settimeout(2)
            connection.bind((self.source, 0))
            connection.connect((self.server.host, self.server.port))
            connection.sendall(self.headers)
            connection.setblocking(False)
        except OSError:
            connection.close()
            return None
        self.opened += 1
        return connection

    def _still_open(self, connection: socket.socket) -> bool:
        try:
            if connection.recv(1, socket.MSG_PEEK) == b"":
                return False
        except BlockingIOError:
            pass
        except OSError:
            return False
        try:
            connection.send(b"x")
            return True
        except BlockingIOError:
            return True
        except OSError:
            return False

    def run(self) -> None:
        connections: list[socket.socket | None] = [self._open() for _ in range(self.count)]
        while not self.stop.wait(self.interval):
            for index, connection in enumerate(connections):
                if self.stop.is_set():
                    break
                if connection is not None and self._still_open(connection):
                    continue
                if connection is not None:
                    self.closed_by_server += 1
                    connection.close()
                connections[index] = self._open()
        for connection in connections:
            if connection is not None:
                connection.close()


def _probe(server, tries: int) -> list[float]:
    """`tries` GET /api/models from another address; the seconds each took (inf when it failed)."""
    seconds = []
    for _ in range(tries):
        status, took, body = get_from(VISITOR, server, "/api/models", timeout=5)
        seconds.append(took if status == 200 and b"welsh" in body else float("inf"))
        time.sleep(0.3)
    return seconds


def test_400_trickling_connections_from_one_address_leave_the_site_to_the_others(live_server):
    attacker = Trickler(live_server, 400)
    attacker.start()
    try:
        time.sleep(3.0)  # every connection opened and trickling (those over the share reset and opened again)
        during = _probe(live_server, 10)
    finally:
        attacker.stop.set()
        attacker.join(timeout=30)
    after = _probe(live_server, 10)
    assert sum(took < 1.0 for took in during) >= 9, during
    assert sum(took < 1.0 for took in after) >= 9, after
    assert attacker.opened >= 400 and attacker.closed_by_server >= 300, (attacker.opened, attacker.closed_by_server)


def test_a_request_sent_too_slowly_is_closed(live_server):
    """Headers one byte a second, or a body one byte every half second: both closed once the 10 s grace has
    passed (defaults: headers within 10 s, then at least 1 KB/s); a fast request on the same server is answered."""
    header = b"POST /api/colorize HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"

    def trickled(data: bytes, interval: float, closed_after: list[float]) -> None:
        started = time.monotonic()
        with socket.socket() as connection:
            connection.bind(("127.0.0.3", 0))
            connection.connect((live_server.host, live_server.port))
            connection.settimeout(interval)
            for index in range(200):
                try:
                    connection.send(data[index:index + 1] if index < len(data) else b"x")
                    if connection.recv(1) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            closed_after.append(time.monotonic() - started)

    slow_headers: list[float] = []
    slow_body: list[float] = []
    clients = [threading.Thread(target=trickled, args=(header[:5] + b"x" * 200, 1.0, slow_headers)),
               threading.Thread(target=trickled, args=(header, 0.5, slow_body))]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=60)
    assert 9 < slow_headers[0] < 15, slow_headers
    assert 9 < slow_body[0] < 15, slow_body
    status, _, _ = get_from("127.0.0.3", live_server, "/api/models")
    assert status == 200


def test_one_address_holds_at_most_16_connections(live_server):
    connections = []
    try:
        for _ in range(20):
            connection = socket.create_connection((live_server.host, live_server.port), source_address=("127.0.0.4", 0))
            connections.append(connection)
        time.sleep(1.0)  # well within the 10 s a connection has to send its headers
        refused = 0
        for connection in connections:
            try:
                refused += connection.recv(1, socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                pass  # kept open
            except ConnectionResetError:
                refused += 1
        assert refused == 4
        status, _, _ = get_from("127.0.0.5", live_server, "/api/models")
        assert status == 200
    finally:
        for connection in connections:
            connection.close()
    time.sleep(0.5)  # the server sees them closed: this address may connect again
    status, _, _ = get_from("127.0.0.4", live_server, "/api/models")
    assert status == 200


def _answer(live_server, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    with socket.create_connection((live_server.host, live_server.port)) as connection:
        try:
            connection.sendall(request)
        except OSError:
            pass  # refused before the whole body was sent
        connection.settimeout(30)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return status.encode(), headers, body


def test_waitress_own_413_is_json_for_the_api_with_the_security_headers(live_server):
    too_large = b"X-Filler: " + b"y" * 10 + b"\r\nContent-Length: 200000000\r\n\r\n" + b"\0" * 1000
    api = b"POST /api/colorize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + too_large
    status, headers, body = _answer(live_server, api)
    assert status.startswith(b"HTTP/1.1 413"), (status, body)
    assert headers["content-type"] == "application/json"
    assert "too large" in json.loads(body)["error"] and "96 MB" in json.loads(body)["error"]
    page = b"POST /_dash-update-component HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + too_large
    status, page_headers, page_body = _answer(live_server, page)
    assert status.startswith(b"HTTP/1.1 413") and page_headers["content-type"].startswith("text/plain")
    assert page_body.startswith(b"The request is too large")
    for found in (headers, page_headers):
        assert "frame-ancestors 'none'" in found["content-security-policy"]
        assert found["x-content-type-options"] == "nosniff" and found["x-frame-options"] == "DENY"
        assert found["referrer-policy"] == "same-origin"
