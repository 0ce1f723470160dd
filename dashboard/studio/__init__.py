"""The comparison studio: see `dashboard.studio.studio` (the studio), `.model` (sessions, rows, results, views),
`.store` (where sessions are kept), `.queue` (who colours them) and `.rendering` (results at a strength)."""
from .model import (
    DEFAULT_STRENGTH, DONE, ERROR, MAX_STRENGTH, QUEUED, WORKING, CellView, Render, RowView, SessionView, StudioError,
    Task, checked_strength,
)
from .studio import Studio, default_studio, studio_in_redis

__all__ = [
    "DEFAULT_STRENGTH", "DONE", "ERROR", "MAX_STRENGTH", "QUEUED", "WORKING", "CellView", "Render", "RowView",
    "SessionView", "Studio", "StudioError", "Task", "checked_strength", "default_studio", "studio_in_redis",
]
