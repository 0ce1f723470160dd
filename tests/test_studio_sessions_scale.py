"""Issue 20, item 7: every new session slowed every visitor. A page's poll without a cookie made a session, and
each poll scanned every session under the studio's one lock (dashboard.studio.store, dashboard.pages.compare)."""
from __future__ import annotations

import statistics
import sys
import time

import dash
import pytest

from dashboard.studio import Studio
from dashboard.studio.store import MemoryStudioStore


def studio_with_sessions(count: int) -> Studio:
    store = MemoryStudioStore(ttl_seconds=3600)
    for index in range(count):
        with store.session(f"visitor-{index:018d}", create=True) as session:
            session.strength = 50
    return Studio(max_bytes=10**9, ttl_seconds=3600, autostart=False, store=store)


def poll_seconds(studio: Studio, session_id: str, repeats: int = 300) -> float:
    """The median time of a poll's studio work (what the Compare page's poll does: the strength, then the view)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        studio.set_strength(session_id, 100)
        studio.view(session_id)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_a_polls_studio_work_does_not_grow_with_the_number_of_sessions():
    few, many = studio_with_sessions(5), studio_with_sessions(8000)
    for studio in (few, many):  # the polling visitor's own session, and a warm-up
        studio.set_strength("polling-visitor-aaaaaa", 50)
        poll_seconds(studio, "polling-visitor-aaaaaa", repeats=20)
    few_seconds = min(poll_seconds(few, "polling-visitor-aaaaaa") for _ in range(3))
    many_seconds = min(poll_seconds(many, "polling-visitor-aaaaaa") for _ in range(3))
    assert many_seconds < 3 * few_seconds, (few_seconds, many_seconds)
    assert len(many) == 8001  # nothing expired: all are still there


def test_expired_sessions_are_still_dropped_in_least_recently_used_order():
    now = [0.0]
    store = MemoryStudioStore(ttl_seconds=10, clock=lambda: now[0])
    for name in ("old", "middle", "new"):  # made at 0, 2 and 4
        with store.session(name, create=True):
            pass
        now[0] += 2
    with store.session("old"):  # used again at 6: now the most recent
        pass
    now[0] = 12.5  # "middle" (last used at 2) has expired; "new" (4) and "old" (6) have not
    with store.peek("new") as session:
        assert session is not None
    assert len(store) == 2
    with store.peek("middle") as session:
        assert session is None
    now[0] = 100
    with store.peek("old") as session:
        assert session is None
    assert len(store) == 0


@pytest.fixture(scope="module")
def server(colour_gallery):
    from dashboard.app import server

    return server


def show_rows(*args):
    """The Compare page's poll callback, from the page module Dash loaded (importing `dashboard.pages.compare`
    again would register the page a second time)."""
    page = next(page for page in dash.page_registry.values() if page["path"] == "/compare")
    return sys.modules[page["module"]].show_rows(*args)


def test_a_poll_without_a_cookie_makes_no_session(server):
    from dashboard.studio import default_studio

    studio = default_studio()
    before = len(studio)
    for strength in (100, 50, None):
        with server.test_request_context("/_dash-update-component", method="POST"):
            outputs = show_rows(1, strength, None, None, None)
        assert outputs[3] is True  # nothing pending: the page stops polling
    assert len(studio) == before


def test_a_poll_at_the_default_strength_with_a_cookie_makes_no_session_either(server):
    from dashboard.guards.session import COOKIE_NAME, cookie_value
    from dashboard.studio import default_studio

    studio = default_studio()
    before = len(studio)
    cookie = f"{COOKIE_NAME}={cookie_value('P' * 22)}"
    with server.test_request_context("/_dash-update-component", method="POST", headers={"Cookie": cookie}):
        show_rows(1, 100, None, None, None)
    assert len(studio) == before
    with server.test_request_context("/_dash-update-component", method="POST", headers={"Cookie": cookie}):
        show_rows(2, 60, None, None, None)  # a strength of its own is worth remembering (the zip uses it)
    assert len(studio) == before + 1
