"""A touch-up sent while another is still working is never refused as "no longer here": each re-colouring replaces
the result's id, so the next one names the model's own result (the studio) or falls back to it (the results store),
from which every touch-up starts anyway."""
from __future__ import annotations

import threading

import pytest

from colorizers import Stroke
from test_touchup import BLUE, RED, gray_disc_photo, png_bytes_of, welsh_result_in_store

BLUE_STROKES = [Stroke(((30, 35), (50, 45)), BLUE, 4)]
RED_STROKES = [*BLUE_STROKES, Stroke(((130, 130), (140, 135)), RED, 6)]


def studio_with_a_result(monkeypatch, make_studio, session: str):
    from dashboard.routes.uploads import UploadedFile
    from tests.browser import fake_models

    models = fake_models.register_fakes(monkeypatch, exemplar=False)
    studio = make_studio(display_long_side=80)
    studio.add_uploads(session, [UploadedFile("disc.png", png_bytes_of(gray_disc_photo()))], models)
    studio.process_pending()
    cell = next(cell for cell in studio.view(session).rows[0].cells if cell.model_name == "cnn")
    return studio, cell.result_id


def shown_id(studio, session: str) -> str:
    return next(cell for cell in studio.view(session).rows[0].cells if cell.model_name == "cnn").result_id


def test_the_studio_touches_up_from_the_models_own_result_while_another_touch_up_replaced_it(
        monkeypatch, colour_gallery, make_studio):
    session = "race-session-aaaaaaaaaaaaaaa"
    studio, model_id = studio_with_a_result(monkeypatch, make_studio, session)
    first = studio.touch_up(session, model_id, BLUE_STROKES)
    assert shown_id(studio, session) == first != model_id
    # Sent before the first answered, naming the result the first replaced: taken, from the model's own result.
    second = studio.touch_up(session, model_id, RED_STROKES)
    assert shown_id(studio, session) == second
    assert studio.touch_up_state(session, second)[:2] == (tuple(RED_STROKES), model_id)
    assert studio.touch_up(session, model_id, []) == model_id == shown_id(studio, session)


def test_touch_ups_at_once_on_one_studio_result_all_succeed(monkeypatch, colour_gallery, make_studio):
    session = "race-session-bbbbbbbbbbbbbbb"
    studio, model_id = studio_with_a_result(monkeypatch, make_studio, session)
    start = threading.Barrier(3)
    answers, errors = {}, []

    def touch_up(name: str, strokes: list[Stroke]) -> None:
        start.wait()
        try:
            answers[name] = studio.touch_up(session, model_id, strokes)
        except Exception as error:  # noqa: BLE001 - what the test looks for
            errors.append(error)

    threads = [threading.Thread(target=touch_up, args=(name, strokes)) for name, strokes in
               (("apply", RED_STROKES), ("undo", BLUE_STROKES), ("clear", []))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(answers) == 3
    assert shown_id(studio, session) in answers.values()


def test_a_kept_result_replaced_meanwhile_is_touched_up_from_the_models_own(colour_gallery):
    from dashboard.jobs.photos import TouchUpError, result_touch_up_state, touch_up_result

    session = "race-welsh-aaaaaaaaaaaaaaaaaa"
    store, model_id, _ = welsh_result_in_store(session)
    first = touch_up_result(model_id, BLUE_STROKES, session, store)
    second = touch_up_result(first, RED_STROKES, session, store)  # replaces (drops) the first
    assert store.get(session, first) is None
    # A request sent while the second was working still names the first.
    with pytest.raises(TouchUpError):
        touch_up_result(first, BLUE_STROKES, session, store)
    third = touch_up_result(first, BLUE_STROKES, session, store, original_id=model_id)
    assert result_touch_up_state(third, session, store)[:2] == (tuple(BLUE_STROKES), model_id)
    assert store.get(session, second) is not None  # not what the stale request named: the page drops it later


def test_the_editors_request_is_read_checked_and_always_answered():
    from dash import no_update
    from dash.exceptions import PreventUpdate

    from dashboard.guards.callback_guard import friendly_errors
    from dashboard.components.touchup_editor import always_answered, queued_touch_up, shapes_from_strokes

    size = (160, 160)
    shapes = shapes_from_strokes(RED_STROKES, size)
    request = {"seq": 7, "shapes": shapes, "target": {"result": "r", "original": "o", "size": list(size)}}
    target, got_shapes, strokes, applied = queued_touch_up(request)
    assert target["original"] == "o" and got_shapes == shapes and applied == {"seq": 7}
    assert [stroke.rgb for stroke in strokes] == [BLUE, RED]
    for bad in (None, [], {"seq": 1}, {**request, "seq": "x"}, {**request, "target": {"size": "?"}},
                {**request, "shapes": "M0,0"}):
        with pytest.raises(PreventUpdate):
            queued_touch_up(bad)

    @always_answered(applied_index=1)
    @friendly_errors(output_count=3, alert_index=2)
    def failing(_request):
        raise RuntimeError("the solver fell over")

    outputs = failing(request)  # an unexpected error still answers, so the editor's queue goes on
    assert outputs[0] is no_update and outputs[1] == {"seq": 7} and outputs[2] is not no_update


def test_the_editors_target_names_what_the_browser_draws_and_hides_the_applied_strokes():
    from dashboard.components.touchup_editor import editor_target, shapes_from_strokes

    shapes = shapes_from_strokes(RED_STROKES, (160, 160))
    target = editor_target({"result": "new", "original": "own", "size": [160, 160], "slot": "s"}, shapes,
                           lambda result_id: f"/results/{result_id}.jpg")
    assert target["image"] == "/results/new.jpg" and target["before_image"] == "/results/own.jpg"
    assert target["applied"] == [shape["path"] for shape in shapes] and len(target["applied"]) == 2
    assert target["slot"] == "s"
