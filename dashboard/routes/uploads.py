"""Uploads in: `POST /uploads` keeps each file in the visitor's inbox (`dashboard.stores.upload_inbox`) under a token, and
`uploaded_files` turns what a page's `dcc.Upload` then names (`upload:<token>` and file names) into bytes, with a
clear error per file.

The browser side is `assets/uploads.js`: it stops dcc.Upload from reading the files (which would send them as
base64 inside the callback's JSON), posts them here, and sets the dcc.Upload's `contents` to the tokens, so each
page's callback keeps its Input(contents)/State(filename). A file never travels in a callback request (those are
capped at `dashboard.settings.CALLBACK_MAX_BYTES`), and a data URL sent by hand is refused, file by file.

Video clips (the Video page's drop zone, `POST /uploads?kind=video`) may be larger than photos: up to
`colorizers.video.MAX_CLIP_BYTES` each (`dashboard.settings.video_request_max_bytes()` for the whole request, as the
production server lets through). The page reads a clip with `uploaded_clip`, which leaves it in the inbox (its
frames are read again, and `GET /uploads/<token>/clip` plays it back to the same session) until it expires or the
page lets it go (`forget_clip`).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, request, send_file

from colorizers import ColorizerError, settings
from colorizers.decode import over_the_limit
from colorizers.video import MAX_CLIP_BYTES

from .. import settings as dashboard_settings
from ..guards.session import current_session_id
from ..stores.upload_inbox import UploadInbox, RedisUploadInbox, default_inbox

TOKEN_PREFIX = "upload:"
UPLOAD_PATH = "/uploads"
EXPIRED_UPLOAD = "This file has expired from the server; please add it again."
NOT_UPLOADED = "The browser did not send this file through the page's upload; please add it again."
VIDEO_KIND = dashboard_settings.VIDEO_UPLOAD_KIND  # POST /uploads?kind=video: the Video page's clips


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


def uploaded_clip(contents: str | list[str] | None, filename: str | list[str] | None,
                  session_id: str | None = None, inbox: UploadInbox | RedisUploadInbox | None = None
                  ) -> UploadedFile | None:
    """The clip a Video page's `dcc.Upload` names (its first file; None when it names none), read but left in the
    inbox (`clip_bytes` reads it again) and at most MAX_CLIP_BYTES. An unknown, expired or another session's token
    gives EXPIRED_UPLOAD, anything but a token NOT_UPLOADED, as for photos."""
    if contents is None or contents == []:
        return None
    token_text = contents[0] if isinstance(contents, list) else contents
    name_text = filename[0] if isinstance(filename, list) and filename else filename
    name = name_text if isinstance(name_text, str) and name_text else "clip"
    token = clip_token(token_text)
    if token is None:
        return UploadedFile(name, None, NOT_UPLOADED if not _is_token_text(token_text) else EXPIRED_UPLOAD)
    data = clip_bytes(token, session_id, inbox)
    if data is None:
        return UploadedFile(name, None, EXPIRED_UPLOAD)
    if not data:
        return UploadedFile(name, None, "The file is empty.")
    if len(data) > MAX_CLIP_BYTES:
        too_large = over_the_limit(len(data), MAX_CLIP_BYTES, "MB", 1e6, "bytes")
        return UploadedFile(name, None, f"The clip is {too_large}.")
    return UploadedFile(name, data)


def _is_token_text(contents: object) -> bool:
    return isinstance(contents, str) and contents.startswith(TOKEN_PREFIX)


def clip_token(contents: object) -> str | None:
    """The token of `upload:<token>` (None for anything else)."""
    if not _is_token_text(contents):
        return None
    token = contents[len(TOKEN_PREFIX):]
    return token if 0 < len(token) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", token) else None


def clip_bytes(token: str, session_id: str | None = None,
               inbox: UploadInbox | RedisUploadInbox | None = None) -> bytes | None:
    """The kept clip `token` of the session (default the request's), left in the inbox; None when it is gone."""
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        return None
    inbox = default_inbox() if inbox is None else inbox
    return inbox.peek(current_session_id() if session_id is None else session_id, token)


def clip_kept(token: str, session_id: str | None = None,
              inbox: UploadInbox | RedisUploadInbox | None = None) -> bool:
    """Whether the clip `token` is still kept for the session (without reading it)."""
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        return False
    inbox = default_inbox() if inbox is None else inbox
    return inbox.holds(current_session_id() if session_id is None else session_id, token)


def forget_clip(token: str, session_id: str | None = None,
                inbox: UploadInbox | RedisUploadInbox | None = None) -> None:
    """Let the kept clip `token` go (a new clip replaces it): its bytes leave the inbox now."""
    if isinstance(token, str) and 0 < len(token) <= 64:
        inbox = default_inbox() if inbox is None else inbox
        inbox.take(current_session_id() if session_id is None else session_id, token)


def clip_url(token: str) -> str:
    """Where the page plays a kept clip back (`GET /uploads/<token>/clip`, to its own session only)."""
    return f"{UPLOAD_PATH}/{token}/clip"


def clip_media_type(data: bytes) -> str:
    """The clip's media type from its first bytes: MP4 and QuickTime (ISO boxes) as video/mp4, WebM, or
    application/octet-stream for anything else (MPEG, AVI, GIF: the page shows their first frame instead)."""
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return "application/octet-stream"


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
    Flask's MAX_CONTENT_LENGTH); heavy-request shares apply (`dashboard.guards.fair_share`).

    With `?kind=video` (the Video page) each file may have up to MAX_CLIP_BYTES and the body up to
    `dashboard.settings.video_request_max_bytes()`. `GET /uploads/<token>/clip` sends a kept clip back to the
    session that uploaded it (with byte ranges, for the page's <video>); 404 for anything else."""

    @server.post(UPLOAD_PATH)
    def receive_uploads() -> Response:
        if is_cross_site():
            response = jsonify(error="Uploads are taken from this site's own pages only.")
            response.status_code = 403
            return response
        max_file_bytes = settings.MAX_UPLOAD_BYTES
        if request.args.get("kind") == VIDEO_KIND:
            request.max_content_length = max(dashboard_settings.video_request_max_bytes(),
                                             request.max_content_length or 0)
            max_file_bytes = MAX_CLIP_BYTES
        session_id = current_session_id()
        store = default_inbox() if inbox is None else inbox
        answers = []
        for file in request.files.getlist("file"):
            filename = file.filename or f"file {len(answers) + 1}"
            data = file.stream.read(max_file_bytes + 1)
            file.stream.close()
            if len(data) > max_file_bytes:
                error = (f"The file is larger than the limit of {max_file_bytes / 1e6:.0f} MB.")
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

    @server.get(f"{UPLOAD_PATH}/<token>/clip")
    def play_clip(token: str) -> Response:
        data = clip_bytes(token, inbox=inbox)
        if data is None:
            abort(Response("This clip has expired from the server; please add it again.", status=404,
                           mimetype="text/plain"))
        response = send_file(io.BytesIO(data), mimetype=clip_media_type(data), conditional=True, etag=False,
                             max_age=None)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
