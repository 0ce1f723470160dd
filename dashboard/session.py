"""Per-browser-session ids: a random id kept in the browser's session storage keys that tab's results."""
from __future__ import annotations

import re
import secrets

# The id of the shell's `dcc.Store(storage_type="session")`; pages read it as a callback State.
SESSION_STORE_ID = "session-id"

_SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_session_id() -> str:
    """A fresh unguessable id (128 random bits, URL-safe): it is the only key to a session's images."""
    return secrets.token_urlsafe(16)


def is_valid_session_id(value: object) -> bool:
    """True for a string shaped like `new_session_id()`'s output (anything else is refused before lookup)."""
    return isinstance(value, str) and bool(_SESSION_ID_PATTERN.match(value))

SESSION_NOT_READY_MESSAGE = "Your browser session is not ready yet. Please reload the page and try again."
