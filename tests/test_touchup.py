"""Touch-up by brush strokes (Levin et al. 2004): known answers on small generated photos, hints images, strokes,
and the registry's `touch_up`, `hints` option and by-hand "scribble" model."""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizers import registry
from colorizers.color import gray_rgb, lab_to_rgb, merge_chroma, resize_plane, rgb_to_lab, rgb_to_lightness
from colorizers.touchup import (
    HINTS_PIXEL_FACTOR,
    MAX_POINTS,
    MAX_STROKE_POINTS,
    WORKING_SIDE,
    Hints,
    HintsError,
    NoStrokesError,
    Stroke,
    decode_hints,
    draw_strokes,
    hints_from_rgba,
    hints_pixel_limit,
    resize_hints,
    touch_up_chroma,
    working_size,
)
from colorizers.touchup_solver import levin_laplacian

RED = (210, 40, 40)
BLUE = (40, 70, 220)
EDGE_COLUMN = 48


def ab_of(rgb: tuple[int, int, int]) -> np.ndarray:
    return rgb_to_lab(np.array([[rgb]], np.uint8))[0, 0, 1:]


def shown_ab(lightness: float, rgb: tuple[int, int, int]) -> np.ndarray:
    """The a/b a result shows where a stroke of colour `rgb` covers a region of lightness `lightness`: the result
    keeps the photo's lightness, so the stroke's hue with as much of its chroma as sRGB holds there."""
    return rgb_to_lab(lab_to_rgb(np.array([lightness, *ab_of(rgb)], np.float32)))[1:]


def two_regions(height: int = 64, width: int = 96) -> np.ndarray:
    """Lightness 35 left of EDGE_COLUMN and 70 from it on, with a little texture so the regions are not flat."""
    rows, columns = np.mgrid[0:height, 0:width]
    lightness = np.where(columns < EDGE_COLUMN, 35.0, 70.0) + 0.3 * np.sin(rows / 3.0 + columns / 5.0)
    return lightness.astype(np.float32)


def hints_image(size: tuple[int, int], strokes: list[Stroke]) -> np.ndarray:
    return draw_strokes(strokes, size)


def red_and_blue_strokes() -> list[Stroke]:
    return [Stroke(((10, 20), (20, 40)), RED, 3), Stroke(((80, 15), (70, 45)), BLUE, 3)]


def test_each_region_takes_its_strokes_colour_and_the_edge_stays_sharp():
    lightness = two_regions()
    hints = hints_from_rgba(hints_image(lightness.shape, red_and_blue_strokes()))
    chroma = touch_up_chroma(lightness, hints)  # from gray: Levin's own problem
    assert chroma.shape == (64, 96, 2)
    left, right = chroma[:, :EDGE_COLUMN - 2], chroma[:, EDGE_COLUMN + 2:]
    assert np.abs(left - ab_of(RED)).max() < 2.0
    assert np.abs(right - ab_of(BLUE)).max() < 2.0
    # Across the edge the chroma changes within 2 pixels: one column before it is still red, one after is blue.
    assert np.abs(chroma[:, EDGE_COLUMN - 1] - ab_of(RED)).max() < 3.0
    assert np.abs(chroma[:, EDGE_COLUMN + 1] - ab_of(BLUE)).max() < 3.0


def test_strokes_on_a_models_colours_take_over_their_region_and_keep_the_edge():
    lightness = two_regions()
    start = np.zeros((64, 96, 2), np.float32)
    start[..., 1] = 30.0  # a model's yellowish guess everywhere
    hints = hints_from_rgba(hints_image(lightness.shape, red_and_blue_strokes()))
    chroma = touch_up_chroma(lightness, hints, start)
    red_error = np.linalg.norm(chroma[:, :EDGE_COLUMN - 2] - ab_of(RED), axis=-1)
    blue_error = np.linalg.norm(chroma[:, EDGE_COLUMN + 2:] - ab_of(BLUE), axis=-1)
    assert np.median(red_error) < 5.0 and np.median(blue_error) < 5.0
    step = np.linalg.norm(chroma[:, EDGE_COLUMN + 1] - chroma[:, EDGE_COLUMN - 2], axis=-1)
    assert step.min() > 0.8 * np.linalg.norm(ab_of(RED) - ab_of(BLUE))


def test_without_strokes_the_starting_chroma_comes_back_unchanged():
    lightness = two_regions()
    start = np.random.default_rng(3).normal(0.0, 20.0, (16, 24, 2)).astype(np.float32)
    empty = Hints(np.zeros((64, 96), bool), np.zeros((64, 96, 2), np.float32))
    assert touch_up_chroma(lightness, empty, start) is start
    gray = touch_up_chroma(lightness, empty)
    assert gray.shape == (64, 96, 2) and not gray.any()
    transparent = hints_from_rgba(np.zeros((64, 96, 4), np.uint8))
    assert np.array_equal(touch_up_chroma(lightness, transparent, start), start)


DISC_LIGHTNESS = 25.0


def disc_and_square_photo(size: int = 160) -> np.ndarray:
    """A dark disc top left and a bright square bottom right on a mid-gray ground, with a gentle shading."""
    rows, columns = np.mgrid[0:size, 0:size]
    lightness = 50.0 + 3.0 * rows / size
    lightness = np.where((rows - 40) ** 2 + (columns - 40) ** 2 < 25 ** 2, DISC_LIGHTNESS, lightness)
    lightness = np.where((rows >= 110) & (columns >= 110) & (rows < 150) & (columns < 150), 80.0, lightness)
    return lightness.astype(np.float32)


def test_strokes_on_a_models_result_change_only_the_region_they_touch():
    lightness = disc_and_square_photo()
    rows, columns = np.mgrid[0:40, 0:40] / 40.0
    start = np.stack([25.0 * columns - 10.0, 20.0 * rows + 5.0], axis=-1).astype(np.float32)  # a model's smooth guess
    hints = hints_from_rgba(hints_image(lightness.shape, [Stroke(((30, 35), (50, 45)), BLUE, 4)]))
    chroma = touch_up_chroma(lightness, hints, start)
    unchanged = touch_up_chroma(lightness, Hints(np.zeros((160, 160), bool), np.zeros((160, 160, 2), np.float32)),
                                start)
    upsampled_start = merge_chroma(lightness, start)  # what the model alone shows
    touched = merge_chroma(lightness, chroma)
    assert unchanged is start
    # The disc takes the stroke's colour...
    rows, columns = np.mgrid[0:160, 0:160]
    disc = (rows - 40) ** 2 + (columns - 40) ** 2 < 20 ** 2
    assert np.median(np.linalg.norm(chroma[disc] - ab_of(BLUE), axis=-1)) < 5.0
    # ... and far away (the square, and the ground's far corner) the chroma moves by under 1 a/b unit.
    full_start = resize_plane(start, (160, 160))
    change = np.linalg.norm(chroma - full_start, axis=-1)
    assert change[115:145, 115:145].max() < 1.0
    assert change[140:, :30].max() < 1.0 and change[:30, 140:].max() < 1.0
    assert np.abs(touched[120:140, 120:140].astype(int) - upsampled_start[120:140, 120:140]).max() <= 2


def test_hints_from_rgba_reads_opaque_pixels_as_stroke_colours():
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[2:4, 3:6] = (*RED, 255)
    rgba[7, 7] = (*BLUE, 100)  # mostly transparent: not a stroke
    hints = hints_from_rgba(rgba)
    assert hints.mask.sum() == 6 and hints.mask[2:4, 3:6].all()
    assert np.allclose(hints.chroma[3, 4], ab_of(RED), atol=0.01)
    assert not hints.chroma[~hints.mask].any()
    with pytest.raises(HintsError, match="RGBA"):
        hints_from_rgba(np.zeros((10, 12, 3), np.uint8))


def test_thin_strokes_survive_scaling_to_the_working_size():
    rgba = draw_strokes([Stroke(((0, 500), (1199, 500)), BLUE, 1)], (900, 1200))
    hints = resize_hints(hints_from_rgba(rgba), working_size((900, 1200)))
    assert hints.size == (384, 512)
    assert hints.mask.sum(axis=0).min() >= 1  # every column still has a stroke pixel
    assert np.allclose(hints.chroma[hints.mask], ab_of(BLUE), atol=0.5)


def test_draw_strokes_paints_round_brushes_and_dots():
    rgba = draw_strokes([Stroke(((10, 10), (30, 10)), RED, 5), Stroke(((40, 40),), BLUE, 6)], (50, 60))
    assert tuple(rgba[10, 20]) == (*RED, 255) and tuple(rgba[10, 8]) == (*RED, 255)  # a round cap past the end
    assert tuple(rgba[40, 40]) == (*BLUE, 255)
    assert rgba[25, 25, 3] == 0


def test_levin_laplacian_rows_sum_to_zero_and_weights_are_small_across_an_edge():
    lightness = two_regions(8, 96)
    laplacian = levin_laplacian(lightness)
    assert np.abs(np.asarray(laplacian.sum(axis=1))).max() < 1e-9
    assert (laplacian - laplacian.T).count_nonzero() == 0 or abs(laplacian - laplacian.T).max() < 1e-12
    width = 96
    pixel = 4 * width + EDGE_COLUMN - 1
    assert -laplacian[pixel, pixel - 1] > 50 * -laplacian[pixel, pixel + 1]


def test_the_large_system_solver_agrees_with_the_direct_one(monkeypatch):
    from colorizers import touchup_solver

    lightness = disc_and_square_photo(240)
    hints = hints_from_rgba(draw_strokes([Stroke(((30, 35), (50, 45)), BLUE, 4),
                                          Stroke(((200, 20), (220, 60)), RED, 4)], (240, 240)))
    start = np.full((240, 240, 2), 10.0, np.float32)
    direct = touch_up_chroma(lightness, hints, start)
    monkeypatch.setattr(touchup_solver, "DIRECT_MAX_UNKNOWNS", 100)
    iterative = touch_up_chroma(lightness, hints, start)
    assert np.abs(iterative - direct).max() < 0.5


def test_registry_touch_up_keeps_the_result_and_scribble_starts_from_gray():
    lightness = disc_and_square_photo()
    rgba = draw_strokes([Stroke(((30, 35), (50, 45)), BLUE, 4)], (160, 160))
    result = registry.colorize(lightness, "welsh", reference="beach")
    touched = registry.touch_up(result, rgba)
    assert touched.model == "welsh" and touched.rgb.shape == (160, 160, 3)
    assert touched.lightness is result.lightness and "touchup_seconds" in touched.details
    assert np.median(np.linalg.norm(touched.chroma[30:50, 30:50] - ab_of(BLUE), axis=-1)) < 5.0
    # The same strokes given to colorize as hints.
    hinted = registry.colorize(lightness, "welsh", reference="beach", hints=rgba)
    assert np.allclose(hinted.chroma, touched.chroma, atol=0.5)
    # By hand: gray except where the strokes' colour flows (the disc).
    scribble = registry.colorize(lightness, "scribble", hints=rgba)
    assert np.median(np.linalg.norm(scribble.chroma[30:50, 30:50] - ab_of(BLUE), axis=-1)) < 2.0
    assert "scribble" not in [info.name for info in registry.available_models()]
    assert registry.model_info("scribble").title == "Scribble"
    # Without strokes, by hand asks for them (issue 20: it answered a gray photo).
    with pytest.raises(NoStrokesError, match="Paint at least one stroke"):
        registry.colorize(lightness, "scribble")
    with pytest.raises(NoStrokesError, match="Paint at least one stroke"):
        registry.colorize(lightness, "scribble", hints=np.zeros((160, 160, 4), np.uint8))


def test_scribble_strokes_too_vivid_for_their_region_keep_the_photos_lightness():
    """Issue 19: a saturated red stroke on a dark region and a saturated blue one on a light region ask for colours
    outside sRGB at those lightnesses. Clipping R, G, B left the lightness 8.2 L* off on average here; the result
    now gives up chroma along the stroke's hue instead, so only 8-bit rounding is left (about 0.1 L*)."""
    height, width = 96, 128
    lightness = np.full((height, width), 25.0, np.float32)
    lightness[:, width // 2:] = 80.0
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[40:56, 16:48] = (255, 0, 0, 255)  # red on the dark half
    rgba[40:56, 80:112] = (0, 0, 255, 255)  # blue on the light half
    result = registry.colorize(lightness, "scribble", hints=rgba)
    drift = np.abs(rgb_to_lightness(result.rgb) - lightness)
    assert drift.mean() <= 1.5  # the bound
    assert drift.mean() < 0.3 and drift.max() < 0.5
    # Each half keeps its stroke's hue, with less chroma than asked where sRGB holds less at that lightness.
    lab = rgb_to_lab(result.rgb)
    for columns, colour in ((slice(8, 56), (255, 0, 0)), (slice(72, 120), (0, 0, 255))):
        asked, shown = ab_of(colour), np.median(lab[:, columns, 1:].reshape(-1, 2), axis=0)
        cosine = asked @ shown / (np.linalg.norm(asked) * np.linalg.norm(shown))
        assert cosine > 0.999 and 20.0 < np.linalg.norm(shown) < np.linalg.norm(asked)

# --- Through the command line and the API -------------------------------------------------------------------------


def png_bytes_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def gray_disc_photo() -> np.ndarray:
    return gray_rgb(disc_and_square_photo())[..., 0]


def test_the_command_line_touches_up_with_a_hints_png(tmp_path):

    photo, hints, out = tmp_path / "photo.png", tmp_path / "hints.png", tmp_path / "out"
    Image.fromarray(gray_disc_photo()).save(photo)
    # Hints at half the photo's size (scaled to it): blue in the disc, gray on the ground (from gray, every region
    # takes the colour of the strokes it is most alike: a photo coloured by hand needs a stroke per colour).
    gray = (128, 128, 128)
    Image.fromarray(draw_strokes([Stroke(((15, 17), (25, 22)), BLUE, 2), Stroke(((40, 10), (70, 10)), gray, 2)],
                                 (80, 80))).save(hints)
    completed = subprocess.run(
        [sys.executable, "-m", "colorizers", "colorize", "--model", "scribble", "--hints", str(hints),
         "--out", str(out), str(photo)],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    written = rgb_to_lab(np.asarray(Image.open(out / "photo_scribble.png")))
    assert np.median(np.linalg.norm(written[30:50, 30:50, 1:] - shown_ab(DISC_LIGHTNESS, BLUE), axis=-1)) < 8.0
    assert np.abs(written[120:140, 120:140, 1:]).max() < 3.0  # the square, like the ground, stays gray


def test_the_api_takes_a_hints_png_and_refuses_a_bad_one(colour_gallery):
    from dashboard.app import server

    client = server.test_client()
    photo = png_bytes_of(gray_disc_photo())
    hints = png_bytes_of(draw_strokes([Stroke(((30, 35), (50, 45)), BLUE, 4)], (160, 160)))

    def post(hints_file: bytes, model: str = "welsh"):
        return client.post("/api/colorize", data={
            "model": model, "reference": "auto",
            "image": (io.BytesIO(photo), "photo.png"), "hints": (io.BytesIO(hints_file), "hints.png")})

    response = post(hints)
    assert response.status_code == 200, response.get_json()
    lab = rgb_to_lab(np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB")))
    assert np.median(np.linalg.norm(lab[30:50, 30:50, 1:] - shown_ab(DISC_LIGHTNESS, BLUE), axis=-1)) < 8.0
    opaque = png_bytes_of(np.full((160, 160, 3), 128, np.uint8))
    refused = post(opaque)
    assert refused.status_code == 400 and "transparency" in refused.get_json()["error"]
    wrong_shape = png_bytes_of(np.zeros((40, 160, 4), np.uint8))
    refused = post(wrong_shape)
    assert refused.status_code == 400 and "scaled copy" in refused.get_json()["error"]
    assert post(b"not a png").status_code == 400

# --- On a kept result of the comparison studio -----------------------------------------------------------------------


def test_the_studio_touches_up_a_result_keeps_its_strokes_and_clears_back(monkeypatch, colour_gallery, make_studio):
    from dashboard.studio import StudioError
    from dashboard.routes.uploads import UploadedFile
    from tests.browser import fake_models

    models = fake_models.register_fakes(monkeypatch)
    studio = make_studio(display_long_side=80)
    session = "touchup-session-aaaaaaaaaaaa"
    studio.add_uploads(session, [UploadedFile("disc.png", png_bytes_of(gray_disc_photo()))], models)
    studio.process_pending()
    cell = next(cell for cell in studio.view(session).rows[0].cells if cell.model_name == "cnn")
    before_png, _ = studio.download_png(cell.result_id, 100)
    strokes = [Stroke(((30, 35), (50, 45)), BLUE, 4)]

    touched_id = studio.touch_up(session, cell.result_id, strokes)
    assert touched_id != cell.result_id
    view_cell = next(cell for cell in studio.view(session).rows[0].cells if cell.model_name == "cnn")
    assert view_cell.result_id == touched_id
    kept_strokes, original_id, size = studio.touch_up_state(session, touched_id)
    assert kept_strokes == tuple(strokes) and original_id == cell.result_id and size == (160, 160)
    # The download (and the display) take the strokes' colour under and near them; the original is still served.
    after_png, filename = studio.download_png(touched_id, 100)
    after = rgb_to_lab(np.asarray(Image.open(io.BytesIO(after_png))))
    before = rgb_to_lab(np.asarray(Image.open(io.BytesIO(before_png))))
    assert filename == "disc-colorized-fusion-cnn.png"
    assert np.median(np.linalg.norm(after[30:50, 30:50, 1:] - shown_ab(DISC_LIGHTNESS, BLUE), axis=-1)) < 8.0
    assert np.median(np.linalg.norm(before[30:50, 30:50, 1:] - ab_of(BLUE), axis=-1)) > 30.0
    assert studio.display_render(touched_id, 100) is not None and studio.display_render(cell.result_id, 100)
    zipped = studio.zip_png(session)
    archive = zipfile.ZipFile(io.BytesIO(zipped))
    in_zip = rgb_to_lab(np.asarray(Image.open(io.BytesIO(archive.read("disc-colorized-fusion-cnn.png")))))
    assert np.abs(in_zip.astype(float) - after).max() < 1.0
    # Another edit starts again from the model's own result, with every stroke; none gives that result back.
    second_id = studio.touch_up(session, touched_id, [*strokes, Stroke(((130, 130),), RED, 6)])
    assert studio.touch_up_state(session, second_id)[1] == cell.result_id
    cleared_id = studio.touch_up(session, second_id, [])
    assert cleared_id == cell.result_id and studio.touch_up_state(session, cleared_id)[0] == ()
    with pytest.raises(StudioError):
        studio.touch_up(session, touched_id, strokes)  # an id that is no longer the cell's
    with pytest.raises(StudioError):
        studio.touch_up("someone-else-aaaaaaaaaaaaaaa", cleared_id, strokes)


# --- On a Welsh result kept in the results store --------------------------------------------------------------------


def welsh_result_in_store(session: str):
    """A results store holding a gray disc photo and its Welsh result; returns (store, the result's id, the
    photo's id)."""
    from colorizers.references import gallery
    from dashboard.jobs.photos import colorize_uploads, keep_uploads
    from dashboard.stores.results_store import ResultsStore
    from dashboard.routes.uploads import UploadedFile

    store = ResultsStore(max_bytes=10**9, ttl_seconds=600)
    kept = keep_uploads([UploadedFile("disc.png", png_bytes_of(gray_disc_photo()))], session, store)
    [photo] = colorize_uploads(kept, session, store, ["welsh"], gallery()[0].name)
    [result] = photo.results
    assert result.error is None
    return store, result.image_id, photo.upload.image_id


def median_distance_to(rgb: np.ndarray, box: tuple[slice, slice], colour: tuple[int, int, int]) -> float:
    """How far the a/b of `rgb` in `box` (inside the disc) is from what a stroke of `colour` shows there."""
    return float(np.median(np.linalg.norm(rgb_to_lab(rgb)[box][..., 1:] - shown_ab(DISC_LIGHTNESS, colour), axis=-1)))


def test_a_welsh_result_is_touched_up_as_a_new_image_that_keeps_its_strokes_and_the_models_own(colour_gallery):
    from dashboard.jobs.photos import result_touch_up_state, touch_up_result

    session = "welsh-touchup-aaaaaaaaaaaaaaaa"
    store, model_id, _ = welsh_result_in_store(session)
    model_result = store.get(session, model_id)
    state = model_result.touch_up_state
    assert state.strokes == () and state.original_id is None and state.colorization.rgb.size == 0
    assert model_result.nbytes >= model_result.rgb.nbytes + state.colorization.lightness.nbytes  # counted
    assert result_touch_up_state(model_id, session, store) == ((), model_id, (160, 160))
    disc = (slice(30, 50), slice(30, 50))
    assert median_distance_to(model_result.rgb, disc, BLUE) > 30.0
    strokes = [Stroke(((30, 35), (50, 45)), BLUE, 4)]

    touched_id = touch_up_result(model_id, strokes, session, store)
    assert touched_id != model_id  # a new URL: no browser shows a cached copy of the old result
    touched = store.get(session, touched_id)
    assert touched.filename == model_result.filename == "disc-colorized-welsh-transfer.png"
    assert result_touch_up_state(touched_id, session, store) == (tuple(strokes), model_id, (160, 160))
    assert median_distance_to(touched.rgb, disc, BLUE) < 8.0  # the download is the touched-up result
    assert store.get(session, model_id) is model_result  # kept, unchanged, for "before" and for "clear"

    # Another edit starts again from the model's own result with every stroke; the touch-up it replaces goes.
    second_id = touch_up_result(touched_id, [*strokes, Stroke(((130, 130),), RED, 6)], session, store)
    assert store.get(session, touched_id) is None
    assert result_touch_up_state(second_id, session, store)[:2] == ((*strokes, Stroke(((130, 130),), RED, 6)),
                                                                    model_id)
    # No strokes left: the model's own result again, under its own id.
    assert touch_up_result(second_id, [], session, store) == model_id
    assert store.get(session, second_id) is None and len(store) == 2  # the upload and the model's result


def test_a_touch_up_whose_models_own_result_was_evicted_still_clears_back_to_it(colour_gallery):
    from dashboard.jobs.photos import result_touch_up_state, touch_up_result

    session = "welsh-touchup-bbbbbbbbbbbbbbbb"
    store, model_id, _ = welsh_result_in_store(session)
    model_rgb = store.get(session, model_id).rgb
    touched_id = touch_up_result(model_id, [Stroke(((30, 35), (50, 45)), BLUE, 4)], session, store)
    assert store.discard(session, model_id) and store.get(session, model_id) is None

    cleared_id = touch_up_result(touched_id, [], session, store)
    assert cleared_id not in (model_id, touched_id)  # made again from the colorization the touch-up kept
    assert np.abs(store.get(session, cleared_id).rgb.astype(int) - model_rgb).max() <= 1
    assert result_touch_up_state(cleared_id, session, store) == ((), cleared_id, (160, 160))


def test_touch_up_refuses_another_sessions_result_an_upload_and_an_unknown_id(colour_gallery):
    from dashboard.jobs.photos import TouchUpError, result_touch_up_state, touch_up_result

    session = "welsh-touchup-cccccccccccccccc"
    store, model_id, upload_id = welsh_result_in_store(session)
    strokes = [Stroke(((30, 35),), BLUE, 4)]
    for who, image_id in (("someone-else-aaaaaaaaaaaaaaaa", model_id), (session, upload_id), (session, "nope")):
        with pytest.raises(TouchUpError, match="expired"):
            touch_up_result(image_id, strokes, who, store)
        with pytest.raises(TouchUpError):
            result_touch_up_state(image_id, who, store)
    assert len(store) == 2


def test_the_store_discards_one_image_of_its_own_session_only():
    from dashboard.stores.results_store import ResultsStore, make_stored_image

    store = ResultsStore(max_bytes=10**6, ttl_seconds=600)
    image_id = store.put("session-a", make_stored_image(np.zeros((10, 10, 3), np.uint8), "a.png"))
    assert not store.discard("session-b", image_id) and store.get("session-a", image_id) is not None
    assert store.discard("session-a", image_id) and store.total_bytes == 0 and len(store) == 0
    assert not store.discard("session-a", image_id)


# --- Bounds on what strokes and hints may cost (issue 20) -----------------------------------------------------------


def opaque_png(width: int, height: int, pixel_rows: bool = True) -> bytes:
    """An RGBA PNG of `width` x `height` opaque red pixels, written row by row (a 6320 x 6320 one is about 160 KB
    and never exists decoded here). Without `pixel_rows` its image data is a stub: only its header is readable."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
    if not pixel_rows:
        return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", b"not zlib") + chunk(b"IEND", b"")
    compressor = zlib.compressobj(9)
    row = b"\0" + bytes((200, 30, 30, 255)) * width
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_hints_larger_than_the_photo_needs_are_refused_from_the_header():
    """Issue 20: hints were decoded at up to 40 MP whatever the photo's size. Refused now from the header alone: this
    one's pixel data is not even readable, and the refusal says what is wrong, not that the file is unreadable."""
    with pytest.raises(HintsError, match=r"6320x6320 \(39,942,400 pixels\), more than a 400x400 photo needs"):
        decode_hints(opaque_png(6320, 6320, pixel_rows=False), (400, 400))
    # At the photo's size, or a few times the touch-up's working size for a small photo, hints are still taken.
    assert hints_pixel_limit((400, 400)) == HINTS_PIXEL_FACTOR * WORKING_SIDE**2
    assert decode_hints(opaque_png(400, 400), (400, 400)).shape == (400, 400, 4)
    assert decode_hints(opaque_png(1000, 1000), (400, 400)).shape == (400, 400, 4)
    assert hints_pixel_limit((6000, 8000)) == 40_000_000  # a large photo's own size, within the pixel limit


def test_large_hints_are_decoded_at_the_working_size_with_the_same_strokes():
    """Full-size hints for a 1200 x 900 photo come back at the touch-up's working size (512 x 384), marking the
    same working pixels in the same colours as scaling the full-size hints would (`resize_hints`)."""
    size = (900, 1200)
    strokes = [Stroke(((100, 100), (600, 300)), RED, 9), Stroke(((0, 500), (1199, 500)), BLUE, 1),
               Stroke(((900, 700),), (30, 160, 60), 40)]
    full = draw_strokes(strokes, size)
    decoded = decode_hints(png_bytes_of(full), size)
    assert decoded.shape == (*working_size(size), 4) == (384, 512, 4)
    reduced, expected = hints_from_rgba(decoded), resize_hints(hints_from_rgba(full), working_size(size))
    assert np.array_equal(reduced.mask, expected.mask)
    assert np.abs(reduced.chroma - expected.chroma)[expected.mask].max() < 1.0  # one colour per stroke


def test_a_small_40_mp_hints_file_with_a_small_photo_is_answered_at_once_in_little_memory(colour_gallery, tmp_path):
    """Issue 20: a 170 KB PNG hints file of 6320 x 6320 opaque pixels with a 400 x 400 photo cost 20.9 s and +3.0 GB
    through the API. Measured in a fresh process (its peak resident memory, before and after the request)."""
    hints = opaque_png(6320, 6320)
    assert len(hints) < 250_000
    (tmp_path / "hints.png").write_bytes(hints)
    (tmp_path / "photo.png").write_bytes(png_bytes_of(gray_rgb(disc_and_square_photo(400))[..., 0]))
    script = """
import io, json, resource, sys, time
from dashboard.app import server
client = server.test_client()
folder = sys.argv[1]
photo, hints = (open(f"{folder}/{name}.png", "rb").read() for name in ("photo", "hints"))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
response = client.post("/api/colorize", data={"model": "scribble", "image": (io.BytesIO(photo), "photo.png"),
                                              "hints": (io.BytesIO(hints), "hints.png")})
print(json.dumps({"status": response.status_code, "error": (response.get_json(silent=True) or {}).get("error"),
                  "seconds": time.perf_counter() - started,
                  "peak_growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""
    completed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                               timeout=240, cwd=Path(__file__).resolve().parent.parent,
                               env={**os.environ, "COLORIZER_GALLERY_DIR": str(colour_gallery)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    assert measured["status"] == 400 and "more than a 400x400 photo needs" in measured["error"]
    assert measured["seconds"] < 2.0
    assert measured["peak_growth_mb"] < 200


def test_strokes_have_a_bounded_number_of_points():
    """Issue 20: a stroke of 1,000,000 points took 10.3 s. Refused now before anything is drawn."""
    size = (400, 400)
    endless = Stroke(tuple((float(index % 400), float(index // 400 % 400)) for index in range(1_000_000)), RED, 4)
    started = time.perf_counter()
    with pytest.raises(HintsError, match=r"Stroke 1 has 1,000,000 points; a stroke may have at most 5,000"):
        draw_strokes([endless], size)
    assert time.perf_counter() - started < 0.5
    longest = Stroke(tuple((float(index % 400), 10.0) for index in range(MAX_STROKE_POINTS)), RED, 4)
    assert draw_strokes([longest] * (MAX_POINTS // MAX_STROKE_POINTS), size)[10, 10, 3] == 255  # at the limits
    with pytest.raises(HintsError, match=r"20,001 points in all; the limit is 20,000"):
        draw_strokes([longest] * (MAX_POINTS // MAX_STROKE_POINTS) + [Stroke(((5.0, 5.0),), BLUE, 4)], size)
    # A brush of any width paints at most the whole photo, quickly.
    assert draw_strokes([Stroke(((5.0, 5.0),), BLUE, 1e12), Stroke(((5.0, 5.0),), RED, float("inf"))],
                        size)[200, 200, 3] == 255


def test_strokes_past_the_bound_on_a_kept_result_are_told_on_the_welsh_page_path(colour_gallery):
    from dashboard.jobs.photos import touch_up_result

    session = "welsh-touchup-dddddddddddddddd"
    store, model_id, _ = welsh_result_in_store(session)
    endless = Stroke(tuple((float(index % 160), 40.0) for index in range(MAX_STROKE_POINTS + 1)), BLUE, 4)
    with pytest.raises(HintsError, match="Draw it as several shorter strokes"):
        touch_up_result(model_id, [endless], session, store)
    assert len(store) == 2  # nothing new kept


def test_scribble_without_strokes_asks_for_them_in_the_api_and_the_command_line(colour_gallery, tmp_path):
    """Issue 20: `scribble` without strokes answered a gray 200 (and wrote a gray photo)."""
    from dashboard.app import server

    photo = png_bytes_of(gray_disc_photo())
    client = server.test_client()
    response = client.post("/api/colorize", data={"model": "scribble", "image": (io.BytesIO(photo), "photo.png")})
    assert response.status_code == 400 and "Paint at least one stroke" in response.get_json()["error"]
    transparent = png_bytes_of(np.zeros((160, 160, 4), np.uint8))
    response = client.post("/api/colorize", data={"model": "scribble", "image": (io.BytesIO(photo), "photo.png"),
                                                  "hints": (io.BytesIO(transparent), "hints.png")})
    assert response.status_code == 400 and "Paint at least one stroke" in response.get_json()["error"]

    (tmp_path / "photo.png").write_bytes(photo)
    completed = subprocess.run(
        [sys.executable, "-m", "colorizers", "colorize", "--model", "scribble", "--out", str(tmp_path / "out"),
         str(tmp_path / "photo.png")],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 2 and "Paint at least one stroke" in completed.stderr
    assert not (tmp_path / "out").exists()
