"""dashboard.uploads: dcc.Upload's data URLs and file names into bytes, with a clear error per file."""
from __future__ import annotations

import base64

import pytest

from colorizers import ColorizerError
from dashboard.uploads import UploadError, parse_data_url, uploaded_files


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def test_parse_data_url_returns_the_bytes():
    assert parse_data_url(data_url(b"\x89PNG some bytes")) == b"\x89PNG some bytes"


def test_parse_data_url_accepts_a_url_without_media_type():
    assert parse_data_url(data_url(b"abc", media_type="")) == b"abc"


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        ("data:", "empty"),
        ("data:image/png;base64,", "empty"),
        ("hello", "did not send"),
        (None, "did not send"),
        ("data:text/plain,hello", "unexpected encoding"),
        ("data:image/png;base64,@@not base64@@", "damaged"),
    ],
)
def test_parse_data_url_explains_what_is_wrong(contents, message):
    with pytest.raises(UploadError, match=message):
        parse_data_url(contents)


def test_upload_errors_are_colorizer_errors_so_pages_show_them_as_friendly_messages():
    assert issubclass(UploadError, ColorizerError)


def test_parse_data_url_enforces_the_size_limit():
    assert parse_data_url(data_url(b"x" * 100), max_bytes=100) == b"x" * 100
    with pytest.raises(UploadError, match="limit"):
        parse_data_url(data_url(b"x" * 101), max_bytes=100)


def test_an_oversized_payload_is_refused_before_decoding(monkeypatch):
    def fail(*_args, **_kwargs):
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(base64, "b64decode", fail)
    with pytest.raises(UploadError, match="larger than the limit"):
        parse_data_url("data:image/png;base64," + "A" * 4000, max_bytes=1000)


def test_uploaded_files_handles_every_file_of_a_multiple_upload():
    files = uploaded_files([data_url(b"one"), data_url(b"two"), data_url(b"three")], ["a.png", "b.jpg", "c.tif"])
    assert [(file.filename, file.data, file.error) for file in files] == [
        ("a.png", b"one", None),
        ("b.jpg", b"two", None),
        ("c.tif", b"three", None),
    ]


def test_uploaded_files_come_in_name_order_whatever_order_the_browser_read_them_in():
    names = ["photo-10.png", "Notes.png", "photo-2.png", "photo-1.png"]
    files = uploaded_files([data_url(name.encode()) for name in names], names)
    assert [file.filename for file in files] == ["Notes.png", "photo-1.png", "photo-2.png", "photo-10.png"]
    assert all(file.data == file.filename.encode() for file in files)  # each name keeps its own contents


def test_uploaded_files_accepts_a_single_upload():
    [file] = uploaded_files(data_url(b"one"), "a.png")
    assert (file.filename, file.data) == ("a.png", b"one")


def test_uploaded_files_keeps_going_after_a_bad_file():
    files = uploaded_files([data_url(b"one"), "data:", data_url(b"three")], ["a.png", "b-empty.png", "c.png"])
    assert [file.data for file in files] == [b"one", None, b"three"]
    assert files[1].filename == "b-empty.png"
    assert "empty" in files[1].error


def test_uploaded_files_names_files_the_browser_left_unnamed():
    files = uploaded_files([data_url(b"one"), data_url(b"two")], None)
    assert [file.filename for file in files] == ["file 1", "file 2"]


def test_uploaded_files_of_nothing_is_empty():
    assert uploaded_files(None, None) == []
