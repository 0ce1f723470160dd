"""The reference library, content suggestion ("Suggest for me"), multi-reference Welsh and the blend model."""
import csv
import json

import numpy as np
import pytest
from PIL import Image

from colorizers import library as library_module
from colorizers import registry, settings, suggestion, welsh
from colorizers.color import resize_plane, rgb_to_lightness
from colorizers.errors import ReferenceImageError
from colorizers.library import Library, LibraryPhoto, normalised
from colorizers.reference_transfer import WelshColorizer


def _photo(colour, seed, size=(48, 64)):
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.3, 1.0, size[0])[:, None, None]
    return np.clip(np.array(colour) * rows + rng.normal(0, 10, (*size, 3)), 0, 255).astype(np.uint8)


def test_nearest_ranks_by_cosine_similarity():
    photos = tuple(LibraryPhoto(name, name, None, "pkg", "CC0") for name in ("a", "b", "c"))
    found = Library(photos, normalised(np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])))
    ranked = found.nearest(normalised(np.array([0.1, 1.0])), 2)
    assert [photo.name for photo, _ in ranked] == ["c", "b"]
    assert ranked[0][1] > ranked[1][1]
    with pytest.raises(ReferenceImageError):
        found.find("nope")


def test_a_missing_library_reads_as_none(tmp_path):
    assert library_module.library(tmp_path) is None


def test_pooled_references_take_colour_from_each():
    target = rgb_to_lightness(_photo((200, 200, 200), 0))
    red, blue = _photo((230, 60, 40), 1), _photo((40, 80, 230), 2)
    np.testing.assert_array_equal(welsh.transfer_chroma(target, [red, red]), welsh.transfer_chroma(target, red))
    pooled = welsh.transfer_chroma(target, [red, blue])
    assert (pooled[..., 0] > 20).any() and (pooled[..., 1] < -20).any()  # red pixels (a > 0) and blue (b < 0)


@pytest.fixture
def small_library(tmp_path, monkeypatch):
    """A three-photo library built with the shipped CNN's embedding (as scripts/build_reference_library.py does)."""
    if not registry.model_info("cnn").is_available:
        pytest.skip("the CNN's weights are not installed")
    monkeypatch.setattr(registry, "_loaded", {})  # this test's own loaded models: none leak into other tests
    cnn = registry.get_model("cnn")
    photos = {"sky": _photo((90, 150, 240), 3), "grass": _photo((60, 170, 50), 4), "brick": _photo((180, 70, 50), 5)}
    entries, vectors = [], []
    for name, rgb in photos.items():
        Image.fromarray(rgb).save(tmp_path / f"{name}.png")
        entries.append({"name": name, "title": name, "file": f"{name}.png", "source_package": "test", "licence": "CC0"})
        vectors.append(cnn.embed(rgb_to_lightness(rgb)))
    (tmp_path / "manifest.json").write_text(json.dumps(entries))
    np.save(tmp_path / "embeddings.npy", np.stack(vectors).astype(np.float16))
    monkeypatch.setattr(settings, "LIBRARY_DIR", tmp_path)
    return photos


def test_suggestion_finds_the_photo_itself_first_and_averages_the_nearest(small_library):
    lightness = rgb_to_lightness(small_library["grass"])
    assert suggestion.suggested_references(lightness, 1)[0].name == "grass"
    chroma, photos = suggestion.suggested_chroma(lightness, count=2)
    assert len(photos) == 2 and photos[0].name == "grass" and chroma.shape == (*lightness.shape, 2)
    expected = np.mean([welsh.transfer_chroma(lightness, small_library[photo.name]) for photo in photos], axis=0)
    np.testing.assert_allclose(chroma, expected, atol=1e-4)


def test_auto_welsh_uses_the_library_and_a_library_name_works_alone(small_library):
    lightness = rgb_to_lightness(small_library["sky"])
    chroma, details = WelshColorizer().predict_chroma(lightness, reference="auto")
    assert details["reference"] == "sky" and details["references"].split(",")[0] == "sky"
    alone, details = WelshColorizer().predict_chroma(lightness, reference="brick")
    assert details == {"reference": "brick"}
    np.testing.assert_array_equal(alone, welsh.transfer_chroma(lightness, small_library["brick"]))


def test_without_a_library_auto_falls_back_to_the_gallery(tmp_path, monkeypatch, colour_gallery):
    monkeypatch.setattr(settings, "LIBRARY_DIR", tmp_path)  # empty: no library
    _, details = WelshColorizer().predict_chroma(rgb_to_lightness(_photo((90, 150, 240), 3)), reference="auto")
    assert "references" not in details and details["reference"]


def test_blend_is_the_weighted_mean_of_cnn_and_exemplars(small_library):
    lightness = rgb_to_lightness(small_library["brick"])
    result = registry.colorize(lightness, "blend")
    exemplars, photos = suggestion.suggested_chroma(lightness)
    cnn = resize_plane(registry.get_model("cnn").predict_chroma(lightness)[0], exemplars.shape[:2])
    np.testing.assert_allclose(result.chroma, 0.7 * cnn + 0.3 * exemplars, atol=1e-3)
    assert result.rgb.shape == (*lightness.shape, 3)
    assert result.details["references"] == ",".join(photo.name for photo in photos)


def test_working_lightness_keeps_small_photos_and_shrinks_large_ones():
    small = np.zeros((40, 30), np.float32)
    assert suggestion.working_lightness(small) is small
    assert suggestion.working_lightness(np.zeros((1000, 2000), np.float32)).shape == (256, 512)


def test_the_shipped_library_holds_training_photos_only():
    found = library_module.library()
    if found is None:
        pytest.skip("no reference library built here")
    with open(settings.REPO_ROOT / "datasets" / "manifest.csv", newline="") as handle:
        splits = {row["file"]: row["split"] for row in csv.DictReader(handle)}
    entries = json.loads((settings.LIBRARY_DIR / "manifest.json").read_text())
    assert {splits[entry["source_photo"]] for entry in entries} == {"train"}
    assert all(entry["licence"] and entry["source_package"] for entry in entries)
    assert found.embeddings.shape == (len(entries), 576)
    np.testing.assert_allclose(np.linalg.norm(found.embeddings, axis=1), 1.0, atol=1e-2)
    total = sum(path.stat().st_size for path in settings.LIBRARY_DIR.iterdir())
    assert total < 10e6
    for photo in found.photos[:5]:
        with Image.open(photo.file) as image:
            assert max(image.size) <= 512


def _people_photos() -> set[str]:
    from colorizers.training.dataset import read_people_list

    return set(read_people_list(settings.REPO_ROOT / "datasets" / "people.txt"))


# Foreign-split portraits (kphotoalbum: never trained on, never in the library); data/ is made by `make data`.
PORTRAITS = ("kphotoalbum__bar55.jpg", "kphotoalbum__bar55_2.jpg", "kphotoalbum__new_wave_2.jpg",
             "kphotoalbum__jesper_2.jpg", "kphotoalbum__anne_helene.jpg")


@pytest.mark.parametrize("portrait", PORTRAITS)
def test_a_portrait_is_suggested_people_from_the_shipped_library(portrait, monkeypatch):
    """Issue 23: a family portrait's suggestions were flowers, a drum kit, a solar panel and wine."""
    path = settings.REPO_ROOT / "data" / "photos" / portrait
    if library_module.library() is None or not registry.model_info("cnn").is_available or not path.exists():
        pytest.skip("needs the shipped library, the CNN's weights and `make data`")
    monkeypatch.setattr(registry, "_loaded", {})
    with Image.open(path) as image:
        lightness = rgb_to_lightness(np.asarray(image.convert("RGB")))
    photos = suggestion.suggested_references(lightness)
    assert len(photos) == suggestion.SUGGESTED_COUNT
    sources = {entry["name"]: entry["source_photo"]
               for entry in json.loads((settings.LIBRARY_DIR / "manifest.json").read_text())}
    assert {sources[photo.name] for photo in photos} & _people_photos()


def _named(*names, people=()):
    return [LibraryPhoto(name, name, None, "test", "CC0", name in people) for name in names]


def test_people_take_the_last_place_only_for_a_portrait_without_any(monkeypatch):
    ranked = _named("flowers", "drums", "solar", "wine", "portrait", people=("wine", "portrait"))
    monkeypatch.setattr(suggestion, "detect_faces", lambda lightness, side: [(0, 0, 10, 10)])
    face = np.zeros((40, 40), np.float32)
    assert [photo.name for photo in suggestion.with_people_for_portraits(ranked, face, 3)] == ["flowers", "drums",
                                                                                                "wine"]
    assert [photo.name for photo in suggestion.with_people_for_portraits(ranked, face, 4)] == ["flowers", "drums",
                                                                                                "solar", "wine"]
    unmarked = _named("flowers", "drums", "solar")
    assert suggestion.with_people_for_portraits(unmarked, face, 2) == unmarked[:2]  # nobody to offer
    monkeypatch.setattr(suggestion, "detect_faces", lambda lightness, side: [])
    assert suggestion.with_people_for_portraits(ranked, face, 3) == ranked[:3]  # no face: content alone


def test_the_shipped_library_marks_the_people_photos_and_titles_gallery_photos_as_the_gallery_does():
    if library_module.library() is None:
        pytest.skip("no reference library built here")
    from colorizers.training.dataset import read_gallery_list

    entries = json.loads((settings.LIBRARY_DIR / "manifest.json").read_text())
    assert {entry["source_photo"] for entry in entries if entry["people"]} == _people_photos()
    listed = read_gallery_list(settings.REPO_ROOT / "datasets" / "gallery.txt")
    gallery_titles = {photo: title for _, photo, title in listed}
    assert all(entry["title"] == gallery_titles[entry["source_photo"]]
               for entry in entries if entry["source_photo"] in gallery_titles)
