"""dashboard.studio without a browser: the job queue's states, per-file errors, strength re-merges and their cache,
reference changes, downloads and the zip, expiry; and dashboard.page_logic.archive's zip building."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.browser import fake_models

SESSION = "studio-session-aaaaaaaaaaaa"
OTHER = "studio-session-bbbbbbbbbbbb"


@pytest.fixture()
def models(monkeypatch, colour_gallery):
    """Welsh and the fake cnn and cgan (the exemplar, real and slower, has its own tests below)."""
    return fake_models.register_fakes(monkeypatch, exemplar=False)


@pytest.fixture()
def models_with_exemplar(monkeypatch, colour_gallery):
    return fake_models.register_fakes(monkeypatch)


@pytest.fixture()
def studio(make_studio):
    return make_studio()


def png_of(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def gray_png(height: int = 90, width: int = 120) -> bytes:
    rows, columns = np.mgrid[0:height, 0:width]
    gray = (40 + 150 * rows / height + 20 * np.sin(columns / 5.0)).astype(np.uint8)
    return png_of(gray)


def files(*named: tuple[str, bytes | None]):
    from dashboard.routes.uploads import UploadedFile

    return [UploadedFile(name, data, None if data is not None else "The browser sent nothing.") for name, data in named]


def cell(view, row_index: int, model: str):
    return next(cell for cell in view.rows[row_index].cells if cell.model_name == model)


def test_models_fixture_gives_three_columns(models):
    assert models == ["welsh", "cnn", "cgan"]


def test_rows_are_queued_then_worked_one_at_a_time(studio, models):
    from dashboard.studio import DONE, QUEUED

    studio.add_uploads(SESSION, files(("a.png", gray_png()), ("b.png", gray_png(60, 80))), models)
    view = studio.view(SESSION)
    assert [row.status for row in view.rows] == [QUEUED, QUEUED] and view.pending
    assert all(cell.status == QUEUED for row in view.rows for cell in row.cells)
    assert studio.process_next()
    view = studio.view(SESSION)
    assert [row.status for row in view.rows] == [DONE, QUEUED]
    assert [cell.status for cell in view.rows[0].cells] == [DONE, DONE, DONE]
    assert studio.process_pending() == 1
    view = studio.view(SESSION)
    assert not view.pending and view.rows[1].size == (60, 80)
    assert [cell.model_title for cell in view.rows[0].cells] == ["Welsh transfer", "Fusion CNN", "pix2pix cGAN"]


def test_a_bad_file_gets_its_own_error_and_the_others_go_on(studio, models):
    from dashboard.studio import DONE, ERROR

    studio.add_uploads(SESSION, files(("good.png", gray_png()), ("notes.png", b"shopping list"),
                                      ("empty.png", None), ("also-good.png", gray_png(50, 50))), models)
    assert studio.view(SESSION).rows[2].status == ERROR  # unreadable upload: an error at once, never queued
    studio.process_pending()
    rows = studio.view(SESSION).rows
    assert [row.status for row in rows] == [DONE, ERROR, ERROR, DONE]
    assert "not an image" in rows[1].error and rows[1].cells == ()
    assert all(cell.result_id for row in (rows[0], rows[3]) for cell in row.cells)


def test_one_failing_model_leaves_an_error_in_its_cell_only(studio, models, monkeypatch):
    from colorizers import registry
    from dashboard.studio import DONE, ERROR

    broken = registry.ModelInfo("cgan", "pix2pix cGAN", "", False, loader="no.such.module:load")
    monkeypatch.setitem(registry.MODELS, "cgan", broken)
    studio.add_uploads(SESSION, files(("a.png", gray_png())), models)
    studio.process_pending()
    row = studio.view(SESSION).rows[0]
    assert row.status == DONE
    assert [cell.status for cell in row.cells] == [DONE, DONE, ERROR]
    assert "went wrong" in row.cells[2].error


def test_strength_re_merges_without_running_the_model_and_is_cached(studio, models, monkeypatch):
    from colorizers import registry

    studio.add_uploads(SESSION, files(("a.png", gray_png()),), models)
    studio.process_pending()
    result_id = cell(studio.view(SESSION), 0, "cnn").result_id
    calls_before = fake_models.call_count("cnn")
    merges = []
    original = registry.Colorization.at_strength
    monkeypatch.setattr(registry.Colorization, "at_strength",
                        lambda self, strength: merges.append(strength) or original(self, strength))

    full = studio.display_render(result_id, 100)
    gray = studio.display_render(result_id, 0)
    strong = studio.display_render(result_id, 150)
    assert studio.display_render(result_id, 0) is gray  # cached: no second merge
    assert merges == [0.0, 1.5]  # 100% was made with the result
    assert fake_models.call_count("cnn") == calls_before
    assert gray.colourfulness == pytest.approx(0.0, abs=1.0)
    assert gray.colourfulness < full.colourfulness < strong.colourfulness
    rgb = np.asarray(Image.open(io.BytesIO(gray.jpeg)).convert("RGB")).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).max() <= 3  # strength 0: gray (JPEG noise aside)
    assert max(Image.open(io.BytesIO(full.jpeg)).size) == 64 and Image.open(io.BytesIO(full.jpeg)).format == "JPEG"


def test_render_cache_is_bounded(studio, models):
    from dashboard.studio.rendering import CACHED_RENDERS

    studio.add_uploads(SESSION, files(("a.png", gray_png()),), models)
    studio.process_pending()
    result_ids = [cell.result_id for cell in studio.view(SESSION).rows[0].cells]
    for result_id in result_ids:
        for percent in range(0, 151, 5):
            studio.display_render(result_id, percent)
    assert len(studio._renders) == CACHED_RENDERS < len(result_ids) * 30
    latest = studio.display_render(result_ids[-1], 150)
    assert studio.display_render(result_ids[-1], 150) is latest  # kept: not made again


@pytest.mark.parametrize("bad", [-5, 151, "lots", None])
def test_strength_outside_0_to_150_is_refused(studio, bad):
    from dashboard.studio import StudioError, checked_strength

    with pytest.raises(StudioError):
        checked_strength(bad)


def test_download_is_full_resolution_png_at_the_strength(studio, models):
    studio.add_uploads(SESSION, files(("My photo.png", gray_png(300, 400)),), models)
    studio.process_pending()
    result_id = cell(studio.view(SESSION), 0, "cnn").result_id
    data, filename = studio.download_png(result_id, 0)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size, filename) == ("PNG", (400, 300), "My-photo-colorized-fusion-cnn.png")
    rgb = np.asarray(image).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).max() <= 1
    assert studio.download_png("an-id-nobody-was-given", 100) is None


def test_zip_has_every_result_as_full_size_png_with_unique_names(studio, models):
    studio.add_uploads(SESSION, files(("a.png", gray_png(90, 120)), ("a.png", gray_png(40, 60)),
                                      ("bad.png", b"nope")), models)
    studio.process_pending()
    archive = zipfile.ZipFile(io.BytesIO(studio.zip_png(SESSION, 80)))
    names = archive.namelist()
    assert names == ["a-colorized-welsh-transfer.png", "a-colorized-fusion-cnn.png", "a-colorized-pix2pix-cgan.png",
                     "a-colorized-welsh-transfer-2.png", "a-colorized-fusion-cnn-2.png", "a-colorized-pix2pix-cgan-2.png"]
    sizes = [Image.open(io.BytesIO(archive.read(name))).size for name in names]
    assert sizes == [(120, 90)] * 3 + [(60, 40)] * 3
    assert studio.zip_png(OTHER) is None


def test_reference_change_recolours_only_the_reference_models(studio, models):
    from colorizers.references import gallery
    from dashboard.studio import DONE, QUEUED

    studio.add_uploads(SESSION, files(("a.png", gray_png()),), models)
    studio.process_pending()
    before = studio.view(SESSION).rows[0]
    assert cell(studio.view(SESSION), 0, "welsh").reference_suggested
    chosen = gallery()[-1]
    cnn_calls = fake_models.call_count("cnn")
    studio.set_reference(SESSION, before.row_id, chosen.name)
    queued = studio.view(SESSION).rows[0]
    assert [c.status for c in queued.cells] == [QUEUED, DONE, DONE]
    studio.process_pending()
    after = studio.view(SESSION)
    welsh = cell(after, 0, "welsh")
    assert (welsh.reference_name, welsh.reference_title, welsh.reference_suggested) == (chosen.name, chosen.title,
                                                                                        False)
    assert welsh.result_id != cell_of(before, "welsh").result_id
    assert cell(after, 0, "cnn").result_id == cell_of(before, "cnn").result_id
    assert fake_models.call_count("cnn") == cnn_calls


def cell_of(row, model):
    return next(cell for cell in row.cells if cell.model_name == model)


def test_a_rows_reference_reaches_every_reference_model_the_exemplar_too(studio, models_with_exemplar):
    """Nothing in the studio is Welsh's own: the row's reference choice (a gallery photo, then the user's own)
    colours Welsh and the exemplar again, and only them."""
    from colorizers.references import gallery
    from dashboard.jobs.photos import OWN_REFERENCE
    from dashboard.studio import DONE, QUEUED

    assert models_with_exemplar == ["welsh", "exemplar", "cnn", "cgan"]
    studio.add_uploads(SESSION, files(("a.png", gray_png()),), models_with_exemplar)
    studio.process_pending()
    before = studio.view(SESSION).rows[0]
    assert cell_of(before, "exemplar").status == DONE and cell_of(before, "exemplar").reference_suggested
    chosen = gallery()[-1]
    cnn_calls = fake_models.call_count("cnn")
    studio.set_reference(SESSION, before.row_id, chosen.name)
    assert [c.status for c in studio.view(SESSION).rows[0].cells] == [QUEUED, QUEUED, DONE, DONE]
    studio.process_pending()
    after = studio.view(SESSION).rows[0]
    exemplar = cell_of(after, "exemplar")
    assert (exemplar.reference_name, exemplar.reference_title, exemplar.reference_suggested) == (
        chosen.name, chosen.title, False)
    assert exemplar.result_id != cell_of(before, "exemplar").result_id
    assert cell_of(after, "cnn").result_id == cell_of(before, "cnn").result_id
    # The exemplar's CNN fallback may run the (fake) CNN's network; the CNN's own column is not coloured again.
    assert fake_models.call_count("cnn") - cnn_calls <= 1

    blue = np.zeros((64, 64, 3), np.uint8)
    blue[..., 2] = np.linspace(60, 250, 64, dtype=np.uint8)[:, None]
    studio.set_own_reference(SESSION, before.row_id, files(("blue.png", png_of(blue)))[0])
    studio.process_pending()
    row = studio.view(SESSION).rows[0]
    for name in ("welsh", "exemplar"):
        assert cell_of(row, name).reference_name == OWN_REFERENCE
    png, _ = studio.download_png(cell_of(row, "exemplar").result_id, 100)
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    assert (rgb[..., 2] - rgb[..., 0]).mean() > 5  # blue from the user's reference (the fake CNN's is orange)


def test_own_reference_must_be_colour_and_is_then_used(studio, models):
    from dashboard.jobs.photos import OWN_REFERENCE
    from dashboard.studio import StudioError

    studio.add_uploads(SESSION, files(("a.png", gray_png()),), models)
    studio.process_pending()
    row_id = studio.view(SESSION).rows[0].row_id
    with pytest.raises(StudioError, match="Upload your own"):
        studio.set_reference(SESSION, row_id, OWN_REFERENCE)
    with pytest.raises(StudioError, match="no colour"):
        studio.set_own_reference(SESSION, row_id, files(("gray.png", gray_png()))[0])
    blue = np.zeros((64, 64, 3), np.uint8)
    blue[..., 2] = np.linspace(60, 250, 64, dtype=np.uint8)[:, None]
    studio.set_own_reference(SESSION, row_id, files(("blue.png", png_of(blue)))[0])
    studio.process_pending()
    welsh = cell(studio.view(SESSION), 0, "welsh")
    assert welsh.reference_name == OWN_REFERENCE and welsh.reference_title == "your reference photo"
    with pytest.raises(StudioError, match="no reference photo called"):
        studio.set_reference(SESSION, row_id, "no-such-photo")


def test_suggest_for_me_searches_the_own_references_given_in_any_row(studio, models_with_exemplar):
    rows, columns = np.mgrid[0:90, 0:120]
    garden = np.stack([120 + 100 * np.sin(columns / 9.0), 90 + 60 * np.cos(rows / 7.0),
                       60 + 40 * np.sin((rows + columns) / 11.0)], axis=-1).astype(np.uint8)
    studio.add_uploads(SESSION, files(("first.png", gray_png()), ("garden-gray.png", png_of(garden.mean(axis=-1).astype(np.uint8)))),
                       models_with_exemplar)
    studio.process_pending()
    first, garden_row = studio.view(SESSION).rows
    studio.set_own_reference(SESSION, first.row_id, files(("garden.png", png_of(garden)))[0])
    studio.set_reference(SESSION, garden_row.row_id, "auto")  # any change of reference colours the row again
    studio.process_pending()
    garden_row = studio.view(SESSION).rows[1]
    for name in ("welsh", "exemplar"):  # the other row's own reference is the nearest in content
        assert cell_of(garden_row, name).reference_name == "your reference for first.png"


def test_legacy_row_never_suggests_its_own_colour_original(studio, models):
    from colorizers.references import gallery, load_gallery_photo

    original = gallery()[0]
    gray = Image.fromarray(load_gallery_photo(original.name)).convert("L")
    gray.thumbnail((160, 160))
    buffer = io.BytesIO()
    gray.save(buffer, format="PNG")
    studio.add_photo(SESSION, "old.png", buffer.getvalue(), models, source="old", exclude_reference=original.name)
    assert studio.has_source(SESSION, "old") and not studio.has_source(OTHER, "old")
    studio.process_pending()
    welsh = cell(studio.view(SESSION), 0, "welsh")
    assert welsh.reference_name and welsh.reference_name != original.name and welsh.reference_suggested


def test_sessions_are_isolated_and_expire():
    from dashboard.studio import Studio

    now = [0.0]
    studio = Studio(max_bytes=10**9, ttl_seconds=60, display_long_side=64, clock=lambda: now[0], autostart=False)
    studio.add_uploads(SESSION, files(("a.png", gray_png()),), ["welsh"])
    studio.process_pending()
    assert len(studio.view(SESSION).rows) == 1 and studio.view(OTHER).rows == ()
    now[0] += 61
    assert studio.view(SESSION).rows == ()
    assert len(studio) == 0


def test_over_the_byte_budget_idle_sessions_finished_rows_go_first(models, make_studio):
    from dashboard.studio.rendering import expected_row_bytes

    photo = gray_png(120, 160)
    now = [0.0]
    # Room for one Welsh row (whose chroma is at full size, so its estimate is close to what it holds), not two.
    budget = int(1.5 * expected_row_bytes(photo, 1, 64))
    studio = make_studio(max_bytes=budget, clock=lambda: now[0])
    studio.add_uploads(OTHER, files(("old.png", photo),), ["welsh"])
    studio.process_pending()
    now[0] += 1
    studio.add_uploads(SESSION, files(("new.png", photo),), ["welsh"])
    studio.process_pending()
    assert studio.view(OTHER).rows == () and studio.view(SESSION).rows[0].status == "done"
    assert 0 < studio.total_bytes <= budget


def test_the_worker_thread_processes_uploads(models):
    import time

    from dashboard.studio import Studio

    studio = Studio(max_bytes=10**9, ttl_seconds=600, display_long_side=64)
    studio.add_uploads(SESSION, files(("a.png", gray_png()), ("b.png", gray_png())), models)
    deadline = time.monotonic() + 30
    while studio.view(SESSION).pending and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not studio.view(SESSION).pending
    assert all(cell.result_id for row in studio.view(SESSION).rows for cell in row.cells)


# --- dashboard.page_logic.archive ---------------------------------------------------------------------------------------------

def test_unique_names_numbers_repeats_before_the_extension():
    from dashboard.page_logic.archive import unique_names

    assert unique_names(["a.png", "b.png", "a.png", "a.png", "a-2.png"]) == [
        "a.png", "b.png", "a-2.png", "a-3.png", "a-2-2.png"]


def test_zip_bytes_round_trips_and_stores_pngs_uncompressed():
    from dashboard.page_logic.archive import zip_bytes

    data = zip_bytes([("x.png", b"first"), ("x.png", b"second"), ("y.png", b"")])
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["x.png", "x-2.png", "y.png"]
    assert [archive.read(name) for name in archive.namelist()] == [b"first", b"second", b""]
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    assert zipfile.ZipFile(io.BytesIO(zip_bytes([]))).namelist() == []


# --- Fairness, admission and eviction (issue 11, item 5) ------------------------------------------------------------

def test_sessions_are_served_in_turn_so_a_big_batch_cannot_starve_a_single_photo(studio, models):
    big = studio.add_uploads(SESSION, files(*[(f"{i}.png", gray_png()) for i in range(3)]), ["welsh"])
    single = studio.add_uploads(OTHER, files(("mine.png", gray_png()),), ["welsh"])
    assert [row.queue_position for row in studio.view(SESSION).rows] == [0, 2, 3]
    assert studio.view(OTHER).rows[0].queue_position == 1
    studio.process_next()
    studio.process_next()
    assert studio.view(OTHER).rows[0].status == "done"  # second, not fourth
    assert [row.status for row in studio.view(SESSION).rows] == ["done", "queued", "queued"]
    assert studio.view(SESSION).rows[1].queue_position == 0
    assert len(big) == 3 and len(single) == 1


def test_no_queued_row_is_ever_dropped_when_memory_is_short(models, make_studio):
    """The issue's reproduction, scaled down: eight sessions queue three photos each under a small byte budget."""
    from dashboard.studio import DONE, ERROR

    photo = gray_png(300, 400)
    studio = make_studio(max_bytes=3_000_000)
    sessions = [f"session-{index}-aaaaaaaaaaaaaa" for index in range(8)]
    given = {session: studio.add_uploads(session, files(*[(f"{i}.png", photo) for i in range(3)]), ["welsh"])
             for session in sessions}
    ended: dict[str, str] = {}  # row id -> status when last seen finished

    def check_nothing_pending_vanished() -> None:
        for session in sessions:
            rows = {row.row_id: row for row in studio.view(session).rows}
            for row_id in given[session]:
                if row_id in rows:
                    if rows[row_id].status in (DONE, ERROR):
                        ended[row_id] = rows[row_id].status
                        assert rows[row_id].status == DONE or rows[row_id].error  # refused with a reason
                else:
                    assert row_id in ended, "a queued or working row was dropped"

    check_nothing_pending_vanished()
    while studio.process_next():
        check_nothing_pending_vanished()
        assert studio.total_bytes <= studio.max_bytes
    assert set(ended) == {row_id for row_ids in given.values() for row_id in row_ids}
    assert list(ended.values()).count(DONE) >= 2  # the rest were refused up front, each with its reason


def test_a_photo_larger_than_one_visitors_budget_is_refused_up_front(models, make_studio):
    from dashboard.studio import ERROR

    studio = make_studio(session_max_bytes=200_000)
    studio.add_uploads(SESSION, files(("huge.png", gray_png(300, 400)), ("small.png", gray_png(40, 60))), ["welsh"])
    huge, small = studio.view(SESSION).rows
    assert huge.status == ERROR and "more than one visitor may use" in huge.error
    assert small.status == "queued"
    assert studio.process_pending() == 1


def test_a_session_may_keep_only_so_many_rows(models, make_studio):
    from dashboard.studio import ERROR

    studio = make_studio(session_max_rows=2)
    studio.add_uploads(SESSION, files(*[(f"{i}.png", gray_png()) for i in range(3)]), ["welsh"])
    statuses = [row.status for row in studio.view(SESSION).rows]
    assert statuses == ["queued", "queued", ERROR]
    assert "the most one visitor may keep" in studio.view(SESSION).rows[2].error
    assert studio.process_pending() == 2
    studio.add_uploads(SESSION, files(*[(f"more-{i}.png", gray_png()) for i in range(10)]), ["welsh"])
    rows = studio.view(SESSION).rows
    assert [row.status for row in rows].count("done") == 2  # the photos stay
    assert [row.status for row in rows].count(ERROR) == 2  # and only the newest refusals are kept
    assert rows[-1].filename == "more-9.png"


def test_uploading_the_same_file_forty_times_reads_it_once_and_caps_the_count():
    from dashboard.stores.upload_inbox import UploadInbox
    from dashboard.routes.uploads import uploaded_files

    inbox = UploadInbox(10**8, 60)
    token = "upload:" + inbox.put(SESSION, gray_png())
    assert len(uploaded_files([token] * 40, ["a.png"] * 40, session_id=SESSION, inbox=inbox)) == 1
    tokens = ["upload:" + inbox.put(SESSION, gray_png()) for _ in range(5)]
    capped = uploaded_files(tokens, [f"{i}.png" for i in range(5)], max_files=3, session_id=SESSION, inbox=inbox)
    assert [file.data is not None for file in capped] == [True, True, True, False, False]
    assert "Only 3 photos" in capped[4].error


# --- dashboard.server.model_slots -----------------------------------------------------------------------------------------

def test_model_slots_admit_at_most_n_at_once_first_come_first_served():
    import threading
    import time

    from dashboard.server.model_slots import ModelSlots

    slots = ModelSlots(2)
    running, most, order = [0], [0], []
    lock = threading.Lock()

    def job(name: str) -> None:
        with slots.slot():
            with lock:
                order.append(name)
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = []
    for index in range(6):
        threads.append(threading.Thread(target=job, args=(str(index),)))
        threads[-1].start()
        time.sleep(0.005)  # they arrive in this order
    for thread in threads:
        thread.join()
    assert most[0] == 2
    assert order == [str(index) for index in range(6)]


def test_model_slots_refuse_a_wait_that_would_be_too_long():
    import threading

    from dashboard.server.model_slots import ModelSlots, SlotWaitTooLong

    slots = ModelSlots(1, typical_seconds=10.0)
    release = threading.Event()
    holder = threading.Thread(target=lambda: slots.slot().__enter__() and None or release.wait())
    with slots.slot():
        with pytest.raises(SlotWaitTooLong) as refused:
            slots.refuse_if_wait_over(5.0)  # one photo ahead at ~10 s each
        assert refused.value.retry_after >= 5
        with pytest.raises(SlotWaitTooLong):
            with slots.slot(timeout=0.05):
                pass
        assert slots.waiting == 0  # the one that gave up left the line
    slots.refuse_if_wait_over(5.0)  # free again: no refusal
    assert not holder.is_alive()


def test_model_slots_tell_a_session_its_place_in_line_and_pages_say_it():
    import threading
    import time

    from dashboard.jobs.photos import waiting_words
    from dashboard.server.model_slots import ModelSlots

    slots = ModelSlots(1)
    release = threading.Event()
    entered = []

    def hold(owner: str) -> None:
        with slots.slot(owner=owner):
            entered.append(owner)
            release.wait()

    holder = threading.Thread(target=hold, args=("first",))
    holder.start()
    while not entered:
        time.sleep(0.005)
    waiters = [threading.Thread(target=hold, args=(owner,)) for owner in ("second", "third")]
    for waiter in waiters:
        waiter.start()
        while slots.waiting < waiters.index(waiter) + 1:
            time.sleep(0.005)
    assert [slots.position(owner) for owner in ("first", "second", "third")] == [None, 0, 1]
    assert waiting_words(slots.position("third")) == "The server is busy: 1 photo ahead of yours."
    assert waiting_words(slots.position("second")) == "The server is busy: your photo is next."
    assert waiting_words(None) == ""
    release.set()
    for thread in [holder, *waiters]:
        thread.join()
    assert entered == ["first", "second", "third"] and slots.position("third") is None


def test_in_redis_everything_a_session_kept_expires_with_it(models, redis_client):
    """Redis forgets a session, its photos, results and the ids its URLs carry once it is unused for the TTL: its
    memory goes back to where it was."""
    import time

    from dashboard.studio import Studio
    from dashboard.studio.store import RedisStudioStore

    store = RedisStudioStore(redis_client, ttl_seconds=1.0)
    studio = Studio(max_bytes=10**9, ttl_seconds=1.0, display_long_side=64, autostart=False, store=store)
    studio.add_uploads(SESSION, files(("a.png", gray_png()), ("b.png", gray_png(60, 80))), models)
    studio.process_pending()
    result_id = cell(studio.view(SESSION), 0, "cnn").result_id
    assert studio.download_png(result_id, 100) is not None
    kinds = {key.decode().split(":")[2] for key in store.keys()}
    assert {"session", "blob", "owner", "sizes", "lru"} <= kinds
    time.sleep(1.3)
    assert store.keys() == []
    assert studio.download_png(result_id, 100) is None and studio.view(SESSION).rows == ()


def test_in_redis_no_photo_or_result_outlives_what_refers_to_it(models, redis_client):
    """Recolouring, touching up, clearing and evicting drop the replaced blobs from Redis at once (not only when they
    expire): what Redis holds is exactly what the sessions refer to, so the byte budgets count all of it."""
    from colorizers import Stroke
    from colorizers.references import gallery
    from dashboard.studio import Studio
    from dashboard.studio.rendering import expected_row_bytes
    from dashboard.studio.store import RedisStudioStore

    photo = gray_png(120, 160)
    store = RedisStudioStore(redis_client, ttl_seconds=600)
    studio = Studio(max_bytes=10**9, ttl_seconds=600, display_long_side=64, autostart=False, store=store)

    def blobs_in_redis() -> set[str]:
        return {key.decode().rsplit(":", 1)[1] for key in redis_client.scan_iter("colorizer:studio:blob:*")}

    def blobs_referred_to() -> set[str]:
        referred = set()
        for session_id in (SESSION, OTHER):
            with store.peek(session_id) as session:
                referred |= {blob.key for blob in session.blobs()} if session is not None else set()
        return referred

    studio.add_uploads(OTHER, files(("old.png", photo),), models)
    studio.process_pending()
    other_bytes = studio.total_bytes
    studio.add_uploads(SESSION, files(("a.png", photo),), models)
    studio.process_pending()
    row = studio.view(SESSION).rows[0]
    studio.set_reference(SESSION, row.row_id, gallery()[-1].name)
    studio.process_pending()
    result_id = cell(studio.view(SESSION), 0, "cnn").result_id
    touched = studio.touch_up(SESSION, result_id, [Stroke(((10, 10), (30, 30)), (200, 40, 40), 4)])
    touched = studio.touch_up(SESSION, touched, [Stroke(((10, 10), (40, 40)), (40, 40, 200), 4)])
    studio.touch_up(SESSION, touched, [])
    assert blobs_in_redis() == blobs_referred_to()
    # Room for the next photo only once the idle session's row is evicted.
    studio.max_bytes = studio.total_bytes + expected_row_bytes(photo, len(models), 64) - other_bytes // 2
    studio.add_uploads(SESSION, files(("b.png", photo),), models)
    studio.process_pending()
    assert studio.view(OTHER).rows == ()
    assert blobs_in_redis() == blobs_referred_to()
    assert studio.total_bytes <= studio.max_bytes


def test_a_sepia_scan_is_a_sepia_print_in_its_row_not_a_colour_photo(studio, models):
    from test_prints import SEPIA, colour_photo, tinted

    from dashboard.components.result_views import upload_note

    studio.add_uploads(SESSION, files(("scan.png", png_of(tinted(colour_photo(), SEPIA, grain=3.0)))), models)
    studio.process_pending()
    [row] = studio.view(SESSION).rows
    assert row.tint == "sepia" and not row.was_color
    assert "sepia print" in upload_note(row.was_color, row.tint)
