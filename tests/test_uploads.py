"""dashboard.routes.uploads and dashboard.stores.upload_inbox: POST /uploads keeps files per session under tokens, and
`uploaded_files` turns a page's tokens and file names into bytes, with a clear error per file."""
from __future__ import annotations

import base64
import io
import time

import pytest

from colorizers import ColorizerError
from dashboard.guards.session import COOKIE_NAME, cookie_value
from dashboard.stores.upload_inbox import RedisUploadInbox, UploadInbox
from dashboard.routes.uploads import EXPIRED_UPLOAD, NOT_UPLOADED, UploadError, uploaded_files

SESSION = "upload-session-aaaaaaa"
OTHER = "upload-session-bbbbbbb"


@pytest.fixture(params=["memory", "redis"])
def make_inbox(request):
    def make(max_bytes: int = 10**6, ttl_seconds: float = 60, session_max_bytes: int | None = None):
        if request.param == "memory":
            return UploadInbox(max_bytes, ttl_seconds, session_max_bytes=session_max_bytes)
        return RedisUploadInbox(request.getfixturevalue("redis_client"), max_bytes, ttl_seconds,
                                session_max_bytes=session_max_bytes)

    return make


def tokens(inbox, *contents: bytes, session: str = SESSION) -> list[str]:
    return ["upload:" + inbox.put(session, data) for data in contents]


def test_upload_errors_are_colorizer_errors_so_pages_show_them_as_friendly_messages():
    assert issubclass(UploadError, ColorizerError)


def test_a_token_gives_its_bytes_once_and_only_to_its_session(make_inbox):
    inbox = make_inbox()
    token = inbox.put(SESSION, b"\x89PNG some bytes")
    assert len(token) >= 22 and inbox.take(OTHER, token) is None  # another session's: refused
    assert inbox.take(SESSION, token) == b"\x89PNG some bytes"
    assert inbox.take(SESSION, token) is None and len(inbox) == 0  # taken once


def test_the_inbox_keeps_to_its_budgets_and_forgets_after_its_ttl(make_inbox):
    inbox = make_inbox(max_bytes=300, session_max_bytes=200)
    first, second = inbox.put(SESSION, b"a" * 100), inbox.put(SESSION, b"b" * 100)
    third = inbox.put(SESSION, b"c" * 100)  # the session's own oldest makes room
    assert inbox.take(SESSION, first) is None and inbox.take(SESSION, third) == b"c" * 100
    others = [inbox.put(OTHER, b"o" * 100) for _ in range(2)]
    inbox.put("upload-session-ccccccc", b"t" * 100)  # past the total: the oldest of all goes
    assert inbox.total_bytes <= 300 and inbox.take(SESSION, second) is None
    assert inbox.take(OTHER, others[-1]) == b"o" * 100
    short = make_inbox(ttl_seconds=0.05)
    token = short.put(SESSION, b"x")
    time.sleep(0.2)
    assert short.take(SESSION, token) is None


def test_uploaded_files_handles_every_file_of_a_multiple_upload(make_inbox):
    inbox = make_inbox()
    files = uploaded_files(tokens(inbox, b"one", b"two", b"three"), ["a.png", "b.jpg", "c.tif"],
                           session_id=SESSION, inbox=inbox)
    assert [(file.filename, file.data, file.error) for file in files] == [
        ("a.png", b"one", None), ("b.jpg", b"two", None), ("c.tif", b"three", None)]


def test_uploaded_files_come_in_name_order_whatever_order_the_browser_sent_them_in():
    inbox = UploadInbox(10**6, 60)
    names = ["photo-10.png", "Notes.png", "photo-2.png", "photo-1.png"]
    files = uploaded_files(tokens(inbox, *(name.encode() for name in names)), names, session_id=SESSION, inbox=inbox)
    assert [file.filename for file in files] == ["Notes.png", "photo-1.png", "photo-2.png", "photo-10.png"]
    assert all(file.data == file.filename.encode() for file in files)  # each name keeps its own contents


def test_uploaded_files_accepts_a_single_upload_and_names_unnamed_files():
    inbox = UploadInbox(10**6, 60)
    [file] = uploaded_files(tokens(inbox, b"one")[0], "a.png", session_id=SESSION, inbox=inbox)
    assert (file.filename, file.data) == ("a.png", b"one")
    files = uploaded_files(tokens(inbox, b"one", b"two"), None, session_id=SESSION, inbox=inbox)
    assert [file.filename for file in files] == ["file 1", "file 2"]
    assert uploaded_files(None, None) == []


def test_another_sessions_or_an_expired_token_is_that_files_error_and_the_others_go_on(make_inbox):
    inbox = make_inbox()
    mine, theirs = tokens(inbox, b"one"), tokens(inbox, b"two", session=OTHER)
    files = uploaded_files(mine + theirs + ["upload:" + "A" * 22], ["a.png", "b.png", "c.png"],
                           session_id=SESSION, inbox=inbox)
    assert [(file.data, file.error) for file in files] == [
        (b"one", None), (None, EXPIRED_UPLOAD), (None, EXPIRED_UPLOAD)]
    assert EXPIRED_UPLOAD == "This file has expired from the server; please add it again."
    assert inbox.take(OTHER, theirs[0][len("upload:"):]) == b"two"  # still theirs


@pytest.mark.parametrize("contents", [
    "data:image/png;base64," + base64.b64encode(b"a photo").decode(), "hello", None, 5, "upload:"])
def test_a_data_url_or_anything_but_a_token_is_refused(contents):
    [file] = uploaded_files([contents], ["a.png"], session_id=SESSION, inbox=UploadInbox(10**6, 60))
    assert file.data is None and file.error in (NOT_UPLOADED, EXPIRED_UPLOAD)


def test_a_file_over_the_limit_is_refused_by_the_callback_too():
    inbox = UploadInbox(10**6, 60)
    [file] = uploaded_files(tokens(inbox, b"x" * 101), ["a.png"], max_bytes=100, session_id=SESSION, inbox=inbox)
    assert file.data is None and "limit" in file.error


# --- POST /uploads (the Flask test client) ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(colour_gallery):
    from dashboard import app as app_module

    return app_module.server


def post_files(client, *files: tuple[str, bytes], **headers):
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/uploads", data=data, content_type="multipart/form-data", headers=headers)


def test_the_route_keeps_each_file_for_the_visitors_session(server):
    from dashboard.stores.upload_inbox import default_inbox

    client = server.test_client()
    client.set_cookie(COOKIE_NAME, cookie_value(SESSION))
    answer = post_files(client, ("a.png", b"one"), ("b.png", b"two"))
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    files = answer.get_json()["files"]
    assert [(file["filename"], file["error"]) for file in files] == [("a.png", None), ("b.png", None)]
    contents = ["upload:" + file["token"] for file in files]
    stolen = uploaded_files(contents, ["a.png", "b.png"], session_id=OTHER, inbox=default_inbox())
    assert all(file.error == EXPIRED_UPLOAD for file in stolen)  # a token from another session is refused
    mine = uploaded_files(contents, ["a.png", "b.png"], session_id=SESSION, inbox=default_inbox())
    assert [file.data for file in mine] == [b"one", b"two"]


def test_the_route_makes_a_session_for_a_visitor_without_one(server):
    answer = post_files(server.test_client(), ("a.png", b"one"))
    assert answer.status_code == 200 and answer.headers["Set-Cookie"].startswith(COOKIE_NAME + "=")


def test_a_file_too_large_gets_its_error_and_the_others_go_on(server, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_UPLOAD_BYTES", 100)
    files = post_files(server.test_client(), ("big.png", b"x" * 101), ("small.png", b"y" * 10),
                       ("empty.png", b"")).get_json()["files"]
    assert files[0]["token"] is None and "limit of 0 MB" in files[0]["error"]
    assert files[1]["token"] and files[1]["error"] is None
    assert files[2]["token"] is None and "empty" in files[2]["error"]


def test_a_cross_site_upload_is_refused(server):
    client = server.test_client()
    assert post_files(client, ("a.png", b"one"), Origin="https://evil.example").status_code == 403
    assert post_files(client, ("a.png", b"one"), **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert post_files(client, ("a.png", b"one"), Origin="http://localhost").status_code == 200


def test_a_request_without_files_is_a_400_and_a_body_over_the_request_limit_a_413(server):
    client = server.test_client()
    assert client.post("/uploads", data={"other": "x"}, content_type="multipart/form-data").status_code == 400
    server.config["MAX_CONTENT_LENGTH"], limit = 1000, server.config["MAX_CONTENT_LENGTH"]
    try:
        assert post_files(client, ("a.png", b"x" * 2000)).status_code == 413
    finally:
        server.config["MAX_CONTENT_LENGTH"] = limit


def test_a_callback_body_over_the_callback_cap_is_refused_before_it_is_read(server):
    from dashboard.settings import CALLBACK_MAX_BYTES

    body = b" " * (CALLBACK_MAX_BYTES + 1)
    answer = server.test_client().post("/_dash-update-component", data=body, content_type="application/json")
    assert answer.status_code == 413
    chunked = server.test_client().post("/_dash-update-component", input_stream=io.BytesIO(body),
                                        content_type="application/json",
                                        environ_overrides={"wsgi.input_terminated": True})
    assert chunked.status_code == 413
