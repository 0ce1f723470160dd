"""The Video page without a browser: its logic (`dashboard.page_logic.video_page_logic`: the clip, keyframes, the job's
progress), its views, and the upload side of clips (`POST /uploads?kind=video`, clips read without being taken,
`GET /uploads/<token>/clip`)."""
from __future__ import annotations

import io

import numpy as np
import pytest

from colorizers import ColorizerError
from colorizers.video import MAX_CLIP_BYTES, VideoError
from dashboard.page_logic import video_page_logic as logic
from dashboard.jobs.photos import AUTO_REFERENCE, ReferenceRequest
from dashboard.stores.results_store import ResultsStore, TouchUpState, make_stored_image
from dashboard.guards.session import COOKIE_NAME, cookie_value
from dashboard.stores.upload_inbox import RedisUploadInbox, UploadInbox
from dashboard.settings import video_request_max_bytes
from dashboard.routes.uploads import (EXPIRED_UPLOAD, NOT_UPLOADED, UploadedFile, clip_bytes,
                               clip_kept, clip_media_type, clip_url, forget_clip, uploaded_clip)
from dashboard.jobs.videos import VideoStatus
from tests.video_clips import encode_frames, make_clip, pattern_frames

SESSION = "video-session-aaaaaaaaaaa"
OTHER = "video-session-bbbbbbbbbbb"


@pytest.fixture()
def store() -> ResultsStore:
    return ResultsStore(10**8, 600)


@pytest.fixture()
def inbox() -> UploadInbox:
    return UploadInbox(10**9, 600)


@pytest.fixture(scope="module")
def clip_data() -> bytes:
    return make_clip(width=96, height=64, frames=12, fps=12)


@pytest.fixture()
def models(monkeypatch, colour_gallery):
    """Welsh, the real exemplar and the fake cnn and cgan (tests/browser/fake_models.py)."""
    from tests.browser.fake_models import register_fakes

    return register_fakes(monkeypatch)


def opened(clip_data: bytes, store: ResultsStore, inbox: UploadInbox, filename: str = "film.mp4"):
    token = inbox.put(SESSION, clip_data)
    return logic.open_clip(UploadedFile(filename, clip_data), token, SESSION, store)


def clip_record(frames: int = 30, shots: tuple = ((0, 10), (10, 20), (20, 30))) -> logic.ClipRecord:
    return logic.ClipRecord("token", "film.mp4", 96, 64, 12.0, frames, frames / 12, False, "h264", shots, "first",
                            tuple(f"shot{index}" for index in range(len(shots))), "video/mp4")


# --- The clip -------------------------------------------------------------------------------------------------------

def test_an_opened_clip_has_its_facts_shots_first_frame_and_strip(clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    assert (clip.width, clip.height, clip.frame_count, clip.codec) == (96, 64, 12, "h264")
    assert clip.fps == pytest.approx(12) and clip.duration == pytest.approx(1.0)
    assert clip.shots == ((0, 12),) and len(clip.shot_image_ids) == 1
    assert store.get(SESSION, clip.first_frame_id).size == (64, 96)
    assert store.get(SESSION, clip.shot_image_ids[0]) is not None
    assert clip.media_type == "video/mp4"  # H.264 in MP4: the original plays in the page
    assert logic.clip_facts(clip) == "96 × 64 · 12 fps · 12 frames (1.0 s) · 1 shot · no sound"
    assert logic.shot_label(clip, 0) == "Shot 1: frames 0 to 11 (0.0 s to 1.0 s)"
    assert logic.ClipRecord.from_json(clip.to_json()) == clip


def two_shot_clip() -> bytes:
    """12 frames of a pattern, then a cut to 12 frames of another, lightness inverted (a cut by any measure)."""
    second = [255 - frame for frame in pattern_frames(96, 64, 12, seed=3)]
    return encode_frames(pattern_frames(96, 64, 12) + second)


def test_each_shot_has_its_thumbnail_in_the_strip_and_a_frame_is_coloured_in_its_shot(models, store, inbox):
    clip = opened(two_shot_clip(), store, inbox)
    assert clip.shots == ((0, 12), (12, 24)) and len(clip.shot_image_ids) == 2
    assert store.get(SESSION, clip.shot_image_ids[1]).size == (64, 96)
    assert logic.shot_label(clip, 1) == "Shot 2: frames 12 to 23 (1.0 s to 2.0 s)"
    candidate = logic.colour_frame(clip, 15, "cgan", ReferenceRequest(), SESSION, store, inbox)
    assert (candidate.frame, candidate.shot) == (15, 1)
    kept, words = logic.keep_keyframe([], candidate, clip, SESSION, store)
    assert words == "Kept frame 15 as a keyframe of shot 2."
    assert logic.fallback_note(kept, clip, "cnn") == (
        "Shot 1 has no keyframe: it is coloured automatically with Fusion CNN.")


def test_a_clip_browsers_cannot_play_shows_its_first_frame_instead(store, inbox):
    clip = opened(make_clip(codec="mpeg4", container="avi"), store, inbox, "film.avi")
    assert clip.media_type is None
    assert clip.frame_count == 12


@pytest.mark.parametrize("data, words", [(b"This is a shopping list, not a film.", "not a video"),
                                         (make_clip()[:300], "")])
def test_a_bad_clip_raises_the_engines_message(data, words, store, inbox):
    with pytest.raises(VideoError) as raised:
        opened(data, store, inbox)
    assert words in str(raised.value) and "Traceback" not in str(raised.value)


def test_a_failed_upload_is_its_message():
    with pytest.raises(ColorizerError, match="expired"):
        logic.open_clip(UploadedFile("film.mp4", None, EXPIRED_UPLOAD), "token", SESSION, ResultsStore(10**6, 60))


@pytest.mark.parametrize("data", [None, [], "clip", {"token": "t"}, {**clip_record().to_json(), "width": True},
                                  {**clip_record().to_json(), "shots": [[0, 10]]},
                                  {**clip_record().to_json(), "shots": [[5, 10], [10, 20], [20, 30]]},
                                  {**clip_record().to_json(), "shots": [[0, 10], [10, 20], [20, 99]]},
                                  {**clip_record().to_json(), "fps": float("nan")},
                                  {**clip_record().to_json(), "token": "x" * 65}])
def test_a_clip_record_the_page_never_made_is_none(data):
    assert logic.ClipRecord.from_json(data) is None


def test_a_clip_record_keeps_only_the_media_types_it_knows():
    assert logic.ClipRecord.from_json({**clip_record().to_json(), "media_type": "text/html"}).media_type is None


def test_shot_of_a_frame():
    clip = clip_record()
    assert [clip.shot_of(frame) for frame in (0, 9, 10, 29)] == [0, 0, 1, 2]


@pytest.mark.parametrize("value, frame", [(0, 0), (29, 29), ("7", 7), (" 12 ", 12), (5.0, 5)])
def test_a_frame_number_within_the_clip(value, frame):
    assert logic.checked_frame(value, clip_record()) == frame


@pytest.mark.parametrize("value", [-1, 30, 2.5, True, None, "", "seven", [3]])
def test_a_frame_number_outside_the_clip_says_which_to_choose(value):
    with pytest.raises(ColorizerError, match="from 0 to 29"):
        logic.checked_frame(value, clip_record())


def test_no_clip_is_said():
    with pytest.raises(ColorizerError, match="Add a clip first"):
        logic.checked_frame(0, None)
    with pytest.raises(ColorizerError, match="Add a clip first"):
        logic.clip_data(None, SESSION)


def test_a_clip_gone_from_the_inbox_has_expired(clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    assert logic.clip_data(clip, SESSION, inbox) == clip_data
    with pytest.raises(ColorizerError, match="expired"):
        logic.clip_data(clip, OTHER, inbox)  # another visitor's clip is no clip at all
    forget_clip(clip.token, SESSION, inbox)
    with pytest.raises(ColorizerError, match="expired"):
        logic.clip_data(clip, SESSION, inbox)


# --- Models ---------------------------------------------------------------------------------------------------------

def test_every_available_model_is_offered_and_only_those_are_taken(models):
    assert [option["value"] for option in logic.model_options()] == models
    assert logic.default_model() == "cnn"
    assert logic.checked_model("cgan") == "cgan"
    for value in ("blend", "scribble", "nope", None, 3):
        with pytest.raises(ColorizerError, match="Choose one of the models"):
            logic.checked_model(value)
    assert logic.uses_reference("exemplar") and logic.uses_reference("welsh") and not logic.uses_reference("cnn")
    assert not logic.uses_reference(None)


def test_the_reference_given_to_the_job():
    own = ReferenceRequest((np.zeros((4, 4, 3), np.uint8),))
    assert logic.video_reference("cnn", logic.AUTOMATIC, "stone", ReferenceRequest("stone")) is None
    assert logic.video_reference("exemplar", logic.AUTOMATIC, "stone", ReferenceRequest("stone")) == "stone"
    assert logic.video_reference("exemplar", logic.AUTOMATIC, AUTO_REFERENCE, ReferenceRequest()) == AUTO_REFERENCE
    # With keyframes and "Suggest for me", the keyframes are the references.
    assert logic.video_reference("exemplar", logic.KEYFRAMES, AUTO_REFERENCE, ReferenceRequest()) is None
    assert isinstance(logic.video_reference("welsh", logic.KEYFRAMES, "uploaded", own), list)


# --- Keyframes ----------------------------------------------------------------------------------------------------

def test_a_frame_is_coloured_as_a_result_the_editor_can_touch_up(models, clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    before = len(store)
    candidate = logic.colour_frame(clip, 7, "cnn", ReferenceRequest(), SESSION, store, inbox)
    assert (candidate.frame, candidate.shot, candidate.model, candidate.size) == (7, 0, "cnn", (64, 96))
    result = store.get(SESSION, candidate.result_id)
    assert isinstance(result.touch_up_state, TouchUpState) and result.size == (64, 96)
    assert len(store) == before + 1  # the gray frame is not kept beside it
    assert logic.Candidate.from_json(candidate.to_json()) == candidate
    lab_chroma = np.abs(result.rgb.astype(int) - result.rgb.mean(axis=2, keepdims=True)).mean()
    assert lab_chroma > 1  # coloured


def test_a_frame_past_the_end_is_the_engines_message(models, clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    with pytest.raises(VideoError, match="no frame 20"):
        logic.colour_frame(clip, 20, "cnn", ReferenceRequest(), SESSION, store, inbox)


def result_in(store: ResultsStore, session: str = SESSION) -> str:
    rgb = np.full((64, 96, 3), (200, 80, 40), np.uint8)
    return store.put(session, make_stored_image(rgb, "frame.png"))


def candidate_at(store: ResultsStore, frame: int, clip: logic.ClipRecord) -> logic.Candidate:
    image_id = result_in(store)
    return logic.Candidate(frame, clip.shot_of(frame), image_id, image_id, "cnn", (64, 96))


def test_keeping_keyframes_one_per_frame_in_order(store):
    clip = clip_record()
    kept, words = logic.keep_keyframe([], candidate_at(store, 12, clip), clip, SESSION, store)
    assert words == "Kept frame 12 as a keyframe of shot 2."
    kept, _ = logic.keep_keyframe(kept, candidate_at(store, 3, clip), clip, SESSION, store)
    again = candidate_at(store, 12, clip)
    kept, words = logic.keep_keyframe(kept, again, clip, SESSION, store)
    assert words == "Kept frame 12 as a keyframe of shot 2 (in place of the one kept before)."
    assert [(keyframe.frame, keyframe.shot) for keyframe in kept] == [(3, 0), (12, 1)]
    assert kept[1].image_id == again.result_id
    images = logic.keyframe_images(kept, SESSION, store)
    assert sorted(images) == [3, 12] and images[3].shape == (64, 96, 3)


def test_keyframes_are_bounded_and_an_expired_result_is_said(store):
    clip = clip_record(frames=40, shots=((0, 40),))
    kept: list = []
    for frame in range(logic.MAX_KEYFRAMES):
        kept, _ = logic.keep_keyframe(kept, candidate_at(store, frame, clip), clip, SESSION, store)
    with pytest.raises(ColorizerError, match="at most"):
        logic.keep_keyframe(kept, candidate_at(store, 30, clip), clip, SESSION, store)
    gone = logic.Candidate(5, 0, "no-such-id", "no-such-id", "cnn", (64, 96))
    with pytest.raises(ColorizerError, match="expired"):
        logic.keep_keyframe([], gone, clip, SESSION, store)
    store.discard(SESSION, kept[0].image_id)
    with pytest.raises(ColorizerError, match="expired"):
        logic.keyframe_images(kept, SESSION, store)


def test_keyframes_from_the_pages_state_trust_nothing(store):
    clip = clip_record()
    mine, theirs = result_in(store), result_in(store, OTHER)
    records = [{"frame": 14, "shot": 0, "image_id": mine},  # its shot is worked out again
               {"frame": 14, "shot": 1, "image_id": mine},  # the same frame twice
               {"frame": 2, "shot": 0, "image_id": theirs},  # another visitor's image
               {"frame": 99, "shot": 0, "image_id": mine},  # past the clip
               {"frame": "3", "shot": 0, "image_id": mine}, "junk", None]
    assert logic.keyframes_from_state(records, clip, SESSION, store) == [logic.Keyframe(14, 1, mine)]
    assert logic.keyframes_from_state("junk", clip, SESSION, store) == []
    assert logic.keyframes_from_state(records, None, SESSION, store) == []


def test_the_shots_without_a_keyframe_are_named(models):
    clip = clip_record()
    keyframe = logic.Keyframe
    assert logic.fallback_note([], clip, "cnn") == ("No keyframe kept yet: without one, the whole clip is coloured "
                                                    "automatically with Fusion CNN.")
    assert logic.fallback_note([keyframe(3, 0, "a")], clip, "cnn") == (
        "Shots 2 and 3 have no keyframe: they are coloured automatically with Fusion CNN.")
    assert logic.fallback_note([keyframe(3, 0, "a"), keyframe(25, 2, "b")], clip, "cgan") == (
        "Shot 2 has no keyframe: it is coloured automatically with pix2pix cGAN.")
    assert logic.fallback_note([keyframe(3, 0, "a"), keyframe(5, 0, "c"), keyframe(12, 1, "d"),
                                keyframe(25, 2, "b")], clip, "cnn").startswith("Every shot has a keyframe")


def test_an_unkept_candidate_is_dropped_but_a_kept_one_stays(store):
    clip = clip_record()
    candidate = candidate_at(store, 3, clip)
    kept, _ = logic.keep_keyframe([], candidate, clip, SESSION, store)
    logic.drop_candidate(candidate, kept, SESSION, store)
    assert store.get(SESSION, candidate.result_id) is not None
    other = candidate_at(store, 4, clip)
    logic.drop_candidate(other, kept, SESSION, store)
    assert store.get(SESSION, other.result_id) is None
    logic.drop_candidate(None, kept, SESSION, store)


# --- Starting the job ---------------------------------------------------------------------------------------------

@pytest.fixture()
def submitted(monkeypatch):
    calls = []

    def submit_video(session_id, data, filename, model, reference=None, keyframes=None, strength=1.0):
        calls.append({"session": session_id, "data": data, "filename": filename, "model": model,
                      "reference": reference, "keyframes": keyframes})
        return "job-1"

    monkeypatch.setattr(logic, "submit_video", submit_video)
    return calls


def test_automatic_colouring_is_submitted_without_keyframes(submitted, clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    kept = [logic.Keyframe(2, 0, result_in(store))]
    assert logic.start_colouring(clip, logic.AUTOMATIC, "cnn", None, kept, SESSION, store, inbox) == "job-1"
    [call] = submitted
    assert call["data"] == clip_data and call["keyframes"] is None and call["filename"] == "film.mp4"
    assert call["session"] == SESSION and call["model"] == "cnn"


def test_keyframe_colouring_is_submitted_with_the_keyframes_pixels(submitted, clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    with pytest.raises(ColorizerError, match="No keyframe kept yet"):
        logic.start_colouring(clip, logic.KEYFRAMES, "cnn", None, [], SESSION, store, inbox)
    kept = [logic.Keyframe(2, 0, result_in(store)), logic.Keyframe(9, 0, result_in(store))]
    logic.start_colouring(clip, logic.KEYFRAMES, "exemplar", None, kept, SESSION, store, inbox)
    [call] = submitted
    assert sorted(call["keyframes"]) == [2, 9]
    assert call["keyframes"][2].dtype == np.uint8 and call["keyframes"][2].shape == (64, 96, 3)


def test_an_expired_clip_is_not_submitted(submitted, clip_data, store, inbox):
    clip = opened(clip_data, store, inbox)
    forget_clip(clip.token, SESSION, inbox)
    with pytest.raises(ColorizerError, match="expired"):
        logic.start_colouring(clip, logic.AUTOMATIC, "cnn", None, [], SESSION, store, inbox)
    assert submitted == []


@pytest.mark.parametrize("value, job", [("abc-DEF_123", "abc-DEF_123"), ("", None), ("../x", None), (3, None),
                                        ("x" * 65, None)])
def test_a_job_id_as_the_page_keeps_it(value, job):
    assert logic.checked_job(value) == job


# --- Progress -----------------------------------------------------------------------------------------------------

def status(state: str, done: int = 0, total: int = 120, seconds_left: float | None = None, message=None,
           preview: bool = False, ready: bool = False) -> VideoStatus:
    return VideoStatus(state=state, frames_done=done, frames_total=total, seconds_left=seconds_left,
                       message=message, has_preview=preview, result_ready=ready, filename="film-colorized-cnn.mp4")


@pytest.mark.parametrize("seconds, words", [(None, "working out the time left…"), (0.4, "almost done"),
                                            (29.2, "about 30 s left"), (60, "about 1 min left"),
                                            (75.5, "about 1 min 16 s left"), (float("inf"),
                                                                              "working out the time left…")])
def test_time_left_words(seconds, words):
    assert logic.time_left_words(seconds) == words


def test_progress_while_queued_and_running():
    queued = logic.progress_view("job-1", status("queued"))
    assert queued.polling and queued.cancellable and queued.percent == 0 and queued.preview is None
    running = logic.progress_view("job-1", status("running", 30, 120, 12.0, preview=True))
    assert (running.percent, running.frames) == (25, "30 of 120 frames")
    assert running.status == "Colouring: 30 of 120 frames, about 12 s left"
    assert running.preview == "/videos/job-1/preview.jpg?frame=30" and running.result is None
    assert running.polling and running.cancellable


def test_progress_when_done_cancelled_failed_or_gone():
    done = logic.progress_view("job-1", status("done", 120, 120, 0.0, preview=True, ready=True))
    assert (done.percent, done.polling, done.cancellable) == (100, False, False)
    assert done.result == "/videos/job-1/result.mp4" and done.download == "/videos/job-1/download"
    assert done.download_name == "film-colorized-cnn.mp4"
    expired = logic.progress_view("job-1", status("done", 120, 120, ready=False))
    assert expired.result is None and expired.failed
    cancelled = logic.progress_view("job-1", status("cancelled", 40))
    assert cancelled.status == "Cancelled after 40 of 120 frames." and not cancelled.polling
    failed = logic.progress_view("job-1", status("failed", 3, message="This clip's video could not be decoded."))
    assert failed.failed and failed.status == "This clip's video could not be decoded." and not failed.polling
    gone = logic.progress_view("job-1", None)
    assert gone.failed and not gone.polling and "no longer on the server" in gone.status


# --- The views ------------------------------------------------------------------------------------------------------

def test_views_render_with_labels_on_every_control(colour_gallery):
    from dashboard.components.video_views import clip_view, keyframe_list, progress_bar, result_players

    clip = clip_record()
    text = repr(clip_view(clip))
    assert text.count("aria-label='Shot ") == 3 and "frames 10 to 19" in text
    assert "aria-label='Remove the keyframe of frame 3'" in repr(keyframe_list([logic.Keyframe(3, 0, "a")]))
    bar = repr(progress_bar(logic.progress_view("j", status("running", 6, 12, 2.0))))
    assert "aria-valuenow='50'" in bar and "6 of 12 frames" in bar and "aria-label='Frames coloured'" in bar
    done = logic.progress_view("j", status("done", 12, 12, ready=True))
    players = repr(result_players(clip, done))
    assert "src='/uploads/token/clip'" in players and "src='/videos/j/result.mp4'" in players
    assert "Download MP4" in players and "aria-label='The coloured clip'" in players
    unplayable = logic.ClipRecord.from_json({**clip.to_json(), "media_type": None})
    assert "video-original-frame" in repr(result_players(unplayable, done))
    assert "video-original-frame" in repr(result_players(clip, done, original_playable=False))
    assert result_players(clip, logic.progress_view("j", status("running", 1))).children is None


def test_the_video_page_is_served_and_in_the_navbar(colour_gallery):
    import dash

    from dashboard import app as app_module

    page = next(page for page in dash.page_registry.values() if page["path"] == "/video")
    assert page["name"] == "Video"
    answer = app_module.server.test_client().get("/video")
    assert answer.status_code == 200
    layout = repr(page["layout"]())
    assert "video-upload" in layout and "data-upload-kind" in layout
    from colorizers.video import LIMITS_SENTENCE
    assert LIMITS_SENTENCE in layout


# --- The upload side of clips -------------------------------------------------------------------------------------

@pytest.fixture(params=["memory", "redis"])
def any_inbox(request):
    if request.param == "memory":
        return UploadInbox(10**6, 60)
    return RedisUploadInbox(request.getfixturevalue("redis_client"), 10**6, 60)


def test_a_clip_is_read_without_being_taken_and_only_by_its_session(any_inbox):
    contents = "upload:" + any_inbox.put(SESSION, b"clip bytes")
    for _ in range(2):  # read again and again: the page decodes it, colours frames, plays it
        file = uploaded_clip(contents, "film.mp4", SESSION, any_inbox)
        assert (file.filename, file.data, file.error) == ("film.mp4", b"clip bytes", None)
    assert uploaded_clip([contents], ["film.mp4"], OTHER, any_inbox).error == EXPIRED_UPLOAD
    assert uploaded_clip("data:video/mp4;base64,AAAA", "film.mp4", SESSION, any_inbox).error == NOT_UPLOADED
    assert uploaded_clip("upload:no/such", None, SESSION, any_inbox).error == EXPIRED_UPLOAD
    assert uploaded_clip(None, None, SESSION, any_inbox) is None
    token = contents.removeprefix("upload:")
    forget_clip(token, OTHER, any_inbox)  # another session cannot make it go
    assert clip_bytes(token, SESSION, any_inbox) == b"clip bytes"
    assert clip_kept(token, SESSION, any_inbox) and not clip_kept(token, OTHER, any_inbox)
    forget_clip(token, SESSION, any_inbox)
    assert clip_bytes(token, SESSION, any_inbox) is None and not clip_kept(token, SESSION, any_inbox)


def test_clip_media_types(clip_data):
    assert clip_media_type(clip_data) == "video/mp4"
    assert clip_media_type(make_clip(codec="libvpx", container="webm")) == "video/webm"
    assert clip_media_type(make_clip(codec="gif", container="gif", pixel_format="rgb8")) == (
        "application/octet-stream")


@pytest.fixture(scope="module")
def server(colour_gallery):
    from dashboard import app as app_module

    return app_module.server


def client_of(server, session: str = SESSION):
    client = server.test_client()
    client.set_cookie(COOKIE_NAME, cookie_value(session))
    return client


def post_clip(client, data: bytes, kind: str | None = "video"):
    query = f"?kind={kind}" if kind else ""
    return client.post(f"/uploads{query}", data={"file": [(io.BytesIO(data), "film.mp4")]},
                       content_type="multipart/form-data")


def test_a_clip_may_be_larger_than_a_photo_and_than_a_photo_request(server, monkeypatch, clip_data):
    from colorizers import settings

    monkeypatch.setattr(settings, "MAX_UPLOAD_BYTES", 1000)
    monkeypatch.setitem(server.config, "MAX_CONTENT_LENGTH", 2000)
    client = client_of(server)
    photo = post_clip(client, b"x" * 1500, kind=None)
    assert photo.status_code == 200 and photo.get_json()["files"][0]["token"] is None  # a photo: too large
    assert post_clip(client, b"x" * 5000, kind=None).status_code == 413  # the photo request's limit
    answer = post_clip(client, clip_data)
    assert answer.status_code == 200
    [file] = answer.get_json()["files"]
    assert file["error"] is None and file["token"]
    assert video_request_max_bytes() > MAX_CLIP_BYTES


def test_a_clip_over_the_clip_limit_is_refused(server, monkeypatch):
    from dashboard.routes import uploads

    monkeypatch.setattr(uploads, "MAX_CLIP_BYTES", 100)
    [file] = post_clip(client_of(server), b"x" * 101).get_json()["files"]
    assert file["token"] is None and "limit" in file["error"]


def test_a_kept_clip_plays_back_to_its_session_with_byte_ranges(server, clip_data):
    client = client_of(server)
    [file] = post_clip(client, clip_data).get_json()["files"]
    url = clip_url(file["token"])
    whole = client.get(url)
    assert whole.status_code == 200 and whole.data == clip_data and whole.mimetype == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == clip_data[:100]
    assert client_of(server, OTHER).get(url).status_code == 404
    assert client.get(clip_url("no-such-token")).status_code == 404
    assert client.get(url).status_code == 200  # playing it does not take it
