"""Uploads in: `POST /uploads` keeps each file in the visitor's inbox (`dashboard.upload_inbox`) under a token, and
`uploaded_files` turns what a page's `dcc.Upload` then names (`upload:<token>` and file names) into bytes, with a
clear error per file.

The browser side is `assets/uploads.js`: it stops dcc.Upload from reading the files (which would send them as
base64 inside the callback's JSON), posts them here, and sets the dcc.Upload's `contents` to the tokens, so each
page's callback keeps its Input(contents)/State(filename). A file never travels in a callback request (those are
capped at `dashboard.settings.CALLBACK_MAX_BYTES`), and a data URL sent by hand is refused, file by file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

from colorizers import ColorizerError, settings
from colorizers.decode import over_the_limit

from .session import current_session_id
from .upload_inbox import UploadInbox, RedisUploadInbox, default_inbox

TOKEN_PREFIX = "upload:"
UPLOAD_PATH = "/uploads"
EXPIRED_UPLOAD = "This file has expired from the server; please add it again."
NOT_UPLOADED = "The browser did not send this file through the page's upload; please add it again."


class UploadError(ColorizerError):
    """The browser sent something that is not a usable file; the message is written for the user."""


@dataclass(frozen=True)
class UploadedFile:
    """One file of an upload: its name as the browser gave it, and its content (None when unusable)."""

    filename: str
    data: bytes | None
    error: str | None = None


def uploaded_files(
    contents: str | list[str] | None, filenames: str | list[str] | None, max_bytes: int | None = None,
    max_files: int | None = None, session_id: str | None = None,
    inbox: UploadInbox | RedisUploadInbox | None = None,
) -> list[UploadedFile]:
    """Every file of a `dcc.Upload` event, whether it was sent with `multiple=True` (lists) or not, sorted by name.

    Each entry of `contents` is `upload:<token>`, a file `POST /uploads` kept for this session (`session_id`,
    default the request's) in `inbox` (default the process's); it is taken from there (once). A token that is
    unknown, expired or another session's gives that file EXPIRED_UPLOAD; anything else (a base64 data URL sent by
    hand) gives NOT_UPLOADED. The same token sent twice counts once, and files past `max_files` get an error
    instead of being read: one request cannot ask for unlimited work. Sorting by name (photo-2 before photo-10)
    makes the order stable whatever order the browser finished uploading in.
    """
    if contents is None:
        return []
    contents_list = contents if isinstance(contents, list) else [contents]
    if filenames is None:
        names_list: list[str | None] = []
    else:
        names_list = list(filenames) if isinstance(filenames, list) else [filenames]
    max_bytes = settings.MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    files = []
    seen: set[tuple[str, str]] = set()
    for index, file_contents in enumerate(contents_list):
        name = names_list[index] if index < len(names_list) and names_list[index] else f"file {index + 1}"
        key = (name, file_contents if isinstance(file_contents, str) else "")
        if key in seen:
            continue
        seen.add(key)
        if max_files is not None and len(files) >= max_files:
            files.append(UploadedFile(name, None, f"Only {max_files} photos can be added at a time; add this one "
                                                  "again later."))
            continue
        try:
            files.append(UploadedFile(name, _take(file_contents, max_bytes, session_id, inbox)))
        except UploadError as error:
            files.append(UploadedFile(name, None, str(error)))
    return sorted(files, key=lambda file: _natural_key(file.filename))


def _take(contents: object, max_bytes: int, session_id: str | None,
          inbox: UploadInbox | RedisUploadInbox | None) -> bytes:
    if not isinstance(contents, str) or not contents.startswith(TOKEN_PREFIX):
        raise UploadError(NOT_UPLOADED)
    token = contents[len(TOKEN_PREFIX):]
    if not 0 < len(token) <= 64:
        raise UploadError(EXPIRED_UPLOAD)
    inbox = default_inbox() if inbox is None else inbox
    data = inbox.take(current_session_id() if session_id is None else session_id, token)
    if data is None:
        raise UploadError(EXPIRED_UPLOAD)
    if not data:
        raise UploadError("The file is empty.")
    if len(data) > max_bytes:
        raise UploadError(f"The file is {over_the_limit(len(data), max_bytes, 'MB', 1e6, 'bytes')}.")
    return data


def _natural_key(name: str) -> list:
    """`name` split into text and numbers, so that numbers sort by value."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def is_cross_site() -> bool:
    """Whether the request being served comes from another site's page: its Origin is not this site's (a request
    without Origin, as curl sends, is not a page's), or the browser says so (Sec-Fetch-Site)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    own = urlsplit(request.host_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) != (own.scheme, own.netloc)


def register_upload_route(server: Flask, inbox: UploadInbox | RedisUploadInbox | None = None) -> None:
    """Add `POST /uploads` to `server`: each multipart `file` part is kept in `inbox` (default the process's) for
    the visitor's session (made now if it has none: the cookie comes with the answer). Answers
    {"files": [{"token", "filename", "error"}]}: a file too large or empty gets its error (token null) and the
    others go on. A cross-site request is a 403; a body over COLORIZER_MAX_REQUEST_BYTES a 413 (Waitress and
    Flask's MAX_CONTENT_LENGTH); heavy-request shares apply (`dashboard.fair_share`)."""

    @server.post(UPLOAD_PATH)
    def receive_uploads() -> Response:
        if is_cross_site():
            response = jsonify(error="Uploads are taken from this site's own pages only.")
            response.status_code = 403
            return response
        session_id = current_session_id()
        store = default_inbox() if inbox is None else inbox
        answers = []
        for file in request.files.getlist("file"):
            filename = file.filename or f"file {len(answers) + 1}"
            data = file.stream.read(settings.MAX_UPLOAD_BYTES + 1)
            file.stream.close()
            if len(data) > settings.MAX_UPLOAD_BYTES:
                error = (f"The file is larger than the limit of {settings.MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
                answers.append({"token": None, "filename": filename, "error": error})
            elif not data:
                answers.append({"token": None, "filename": filename, "error": "The file is empty."})
            else:
                answers.append({"token": store.put(session_id, data), "filename": filename, "error": None})
            del data
        if not answers:
            response = jsonify(error="Send the files as multipart 'file' parts.")
            response.status_code = 400
            return response
        response = jsonify(files=answers)
        response.headers["Cache-Control"] = "no-store"
        return response
