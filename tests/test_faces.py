"""Faces that look like skin (`colorizers.faces`) and its place in `registry.colorize`: after the model, before the
user's strokes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizers import faces, registry
from colorizers.color import rgb_to_lab, rgb_to_lightness
from colorizers.touchup import hints_from_rgba

LIBRARY = Path(__file__).resolve().parents[1] / "assets" / "library"
PORTRAIT = LIBRARY / "scribus-template__scribus_project_de_craigbradney.jpg"  # the one committed photo of a face
GREEN = (-30.0, 25.0)  # a/b of the green faces the CNN gave (hue about 140 degrees)


class GreenColorizer:
    """A model that colours everything green, at half size."""

    def predict_chroma(self, lightness: np.ndarray, **options) -> tuple[np.ndarray, dict]:
        height, width = lightness.shape
        return np.full((height // 2, width // 2, 2), GREEN, np.float32), {}


@pytest.fixture()
def green_model(monkeypatch):
    info = registry.ModelInfo("green", "Green", "A test model.", uses_reference=False, loader="unused:unused")
    monkeypatch.setitem(registry.MODELS, "green", info)
    monkeypatch.setitem(registry._loaded, "green", GreenColorizer())
    return "green"


def _hue_and_chroma(ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.degrees(np.arctan2(ab[..., 1], ab[..., 0])), np.hypot(ab[..., 0], ab[..., 1])


def test_nearest_skin_tone_is_in_the_range_and_nearest():
    rng = np.random.default_rng(0)
    points = rng.uniform(-60, 60, (400, 2)).astype(np.float32)
    nearest = faces.nearest_skin_tone(points)
    hue, chroma = _hue_and_chroma(nearest)
    assert np.all((hue >= faces.SKIN_HUES[0] - 1e-3) & (hue <= faces.SKIN_HUES[1] + 1e-3))
    assert np.all((chroma >= faces.SKIN_CHROMA[0] - 1e-3) & (chroma <= faces.SKIN_CHROMA[1] + 1e-3))
    # Against a dense sampling of the sector: never farther than its nearest sample (plus the grid's spacing).
    hues = np.radians(np.linspace(*faces.SKIN_HUES, 200))
    radii = np.linspace(*faces.SKIN_CHROMA, 200)
    grid = np.stack([np.outer(radii, np.cos(hues)), np.outer(radii, np.sin(hues))], -1).reshape(-1, 2)
    sampled = np.min(np.linalg.norm(points[:, None] - grid[None], axis=-1), axis=1)
    assert np.all(np.linalg.norm(points - nearest, axis=-1) <= sampled + 0.2)
    inside = np.array([[20.0, 15.0], [10.0, 12.0]], np.float32)  # hues 37 and 50 degrees, chroma 25 and 15.6
    assert np.allclose(faces.nearest_skin_tone(inside), inside)


def test_pull_to_skin_makes_a_green_face_skin_and_keeps_the_rest():
    full_size = (400, 300)
    chroma = np.full((200, 150, 2), GREEN, np.float32)
    box = (100, 120, 100, 100)
    pulled = faces.pull_to_skin(chroma, [box], full_size)
    inner = faces.inner_ellipse([(50, 60, 50, 50)], (200, 150))  # the box at the chroma's half size
    assert faces.within_skin_range(pulled[inner].mean(axis=0))
    assert np.all([faces.within_skin_range(ab) for ab in pulled[inner]])
    # Outside the face (a margin beyond its skin ellipse) the model's chroma is kept.
    assert np.array_equal(pulled[:40], chroma[:40]) and np.array_equal(pulled[:, 110:], chroma[:, 110:])
    # The edge is feathered: between the centre and the outside the pull is partial.
    weight = faces.skin_weight([box], full_size, (200, 150))
    assert weight.max() == pytest.approx(1.0) and 0.0 < weight[weight > 0].min() < 0.5
    assert np.array_equal(faces.pull_to_skin(chroma, [], full_size), chroma)


def test_skin_already_in_range_is_left_as_it_is():
    skin = np.full((100, 100, 2), (18.0, 14.0), np.float32)
    assert np.array_equal(faces.pull_to_skin(skin, [(20, 20, 60, 60)], (100, 100)), skin)


def test_detector_finds_the_face_in_a_portrait_and_none_in_a_plain_picture():
    lightness = rgb_to_lightness(np.asarray(Image.open(PORTRAIT).convert("RGB")))
    boxes = faces.detect_faces(lightness)
    assert len(boxes) == 1
    x, y, width, height = boxes[0]
    # The man's face: about the middle of the upper half of the 202 x 263 picture, a good half of its width.
    assert 60 <= x + width / 2 <= 140 and 60 <= y + height / 2 <= 140 and 80 <= width <= 160
    # A large picture is searched on a copy: the same face, in the large picture's pixels.
    large = np.asarray(Image.fromarray(lightness).resize((202 * 4, 263 * 4), Image.BILINEAR))
    (large_x, large_y, large_width, _), = faces.detect_faces(large)
    assert abs(large_x - 4 * x) <= 0.15 * 4 * width and abs(large_width - 4 * width) <= 0.15 * 4 * width
    gradient = np.tile(np.linspace(10, 90, 300, dtype=np.float32), (200, 1))
    assert faces.detect_faces(gradient) == []


def test_colorize_keeps_a_portrait_face_within_skin_tones(green_model):
    rgb = np.asarray(Image.open(PORTRAIT).convert("RGB"))
    result = registry.colorize(rgb, green_model)
    assert len(result.details["faces"]) == 1
    inner = faces.inner_ellipse(result.details["faces"], rgb.shape[:2])
    face_ab = rgb_to_lab(result.rgb)[inner][:, 1:]
    assert faces.within_skin_range(face_ab.mean(axis=0))
    truth_ab = rgb_to_lab(rgb)[inner][:, 1:]
    gray_error = np.linalg.norm(truth_ab, axis=-1).mean()
    assert np.linalg.norm(face_ab - truth_ab, axis=-1).mean() < gray_error
    # Away from the face the model's green is kept; without the skin step the face stays green.
    corner_hue, _ = _hue_and_chroma(rgb_to_lab(result.rgb)[250:, :20, 1:].mean(axis=(0, 1)))
    assert corner_hue > 100
    untouched = registry.colorize(rgb, green_model, skin_tones=False)
    assert "faces" not in untouched.details
    assert not faces.within_skin_range(rgb_to_lab(untouched.rgb)[inner][:, 1:].mean(axis=0))


def test_the_users_strokes_win_over_the_skin_step(green_model, monkeypatch):
    box = (40, 40, 80, 80)
    monkeypatch.setattr(faces, "detect_faces", lambda lightness, detect_side=faces.DETECT_SIDE: [box])
    lightness = np.full((160, 160), 60.0, np.float32)
    lightness[100:] = 35.0  # the chin, darker: an edge the stroke's colour stops at
    strokes = np.zeros((160, 160, 4), np.uint8)
    strokes[70:90, 60:100] = (60, 90, 220, 255)  # a blue stroke across the face's centre
    stroke_ab = rgb_to_lab(np.array([[60, 90, 220]], np.uint8))[0, 1:]
    result = registry.colorize(lightness, green_model, hints=hints_from_rgba(strokes))
    assert result.details["faces"] == [box]
    assert result.chroma.shape[:2] == (160, 160)  # the touch-up's working size: the photo's
    centre = result.chroma[75:85, 70:90].reshape(-1, 2)  # under the stroke
    assert np.allclose(centre, stroke_ab, atol=1.0)
    # Where no stroke is, the face is still skin: the chin, below the stroke.
    chin = result.chroma[106:114, 76:84].reshape(-1, 2).mean(axis=0)
    without_strokes = registry.colorize(lightness, green_model).chroma[53:57, 38:42].reshape(-1, 2).mean(axis=0)
    assert not faces.within_skin_range(centre.mean(axis=0))
    assert faces.within_skin_range(without_strokes)
    assert faces.within_skin_range(chin)


def test_face_scores_measure_the_inner_ellipse_against_the_truth():
    from colorizers.training.face_evaluation import face_scores

    truth = np.zeros((100, 100, 3), np.uint8)
    truth[:] = (200, 150, 120)  # a skin tone
    truth_ab = rgb_to_lab(truth)[..., 1:]
    skin = face_scores(truth, truth_ab, (20, 20, 60, 60))
    assert skin["in_range"] and skin["ab_error"] < 0.01
    gray = face_scores(np.full_like(truth, 150), truth_ab, (20, 20, 60, 60))
    assert not gray["in_range"] and gray["ab_error"] == pytest.approx(np.linalg.norm(truth_ab[0, 0]), abs=0.3)


def test_skin_range_is_measured_on_the_listed_faces_of_training_photos_at_their_own_scale(tmp_path):
    from colorizers.training.face_evaluation import MAX_SIDE, measure_skin_range

    photo = np.zeros((2 * MAX_SIDE, MAX_SIDE, 3), np.uint8)  # shrunk by 2 for the measurement
    photo[:] = (40, 160, 60)  # green all round the face: outside the inner ellipse, never measured
    photo[200:800, 100:500] = (200, 150, 120)  # the listed face, in the photo's own pixels
    Image.fromarray(photo).save(tmp_path / "person.png")
    Image.fromarray(photo).save(tmp_path / "val.png")
    (tmp_path / "manifest.csv").write_text("file,split\nperson.png,train\nval.png,val\nhands.png,train\n")
    (tmp_path / "people.txt").write_text("person.png | 100,200,400,600\nhands.png |\n")
    measured = measure_skin_range(tmp_path / "manifest.csv", tmp_path, tmp_path / "people.txt")
    hue, chroma = _hue_and_chroma(rgb_to_lab(photo[500:501, 300:301])[0, 0, 1:])
    assert measured["faces"] == 1 and measured["photos"] == ["person.png"]
    assert measured["hues"] == pytest.approx([hue, hue], abs=0.1)
    assert measured["chroma"] == pytest.approx([chroma, chroma], abs=0.1)
    (tmp_path / "people.txt").write_text("val.png | 100,200,400,600\n")
    with pytest.raises(ValueError, match="not a photo of the train split"):
        measure_skin_range(tmp_path / "manifest.csv", tmp_path, tmp_path / "people.txt")


def test_faces_are_found_in_several_threads_at_once():
    """The Compare page's workers colour photos in parallel threads: one shared OpenCV detector crashed the process
    (a segmentation fault) when two threads searched photos of different sizes at once."""
    from concurrent.futures import ThreadPoolExecutor

    from colorizers.decode import read_image_file
    from colorizers.faces import detect_faces
    from colorizers.settings import LIBRARY_DIR

    lightness = read_image_file(LIBRARY_DIR / "scribus-template__scribus_project_de_craigbradney.jpg").lightness
    copies = [np.asarray(Image.fromarray(lightness).resize((300 + 23 * index, 200 + 37 * index)))
              for index in range(8)]
    alone = [detect_faces(copy) for copy in copies]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda index: detect_faces(copies[index % 8]), range(96)))
    assert any(alone) and all(found == alone[index % 8] for index, found in enumerate(together))
