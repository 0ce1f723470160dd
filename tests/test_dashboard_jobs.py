"""dashboard.jobs.photos for the Reference transfer page, without a browser: its methods, the visitor's own reference
photos (up to five, colour only, removable, never another session's), what the reference models are given for each
choice, and what a result says about its references (the real Welsh and exemplar models)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

SESSION = "jobs-session-aaaaaaaaaaaaa"
OTHER = "jobs-session-bbbbbbbbbbbbb"


@pytest.fixture()
def store(colour_gallery):
    from dashboard.stores.results_store import ResultsStore

    return ResultsStore(max_bytes=10**9, ttl_seconds=600)


def png_of(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def colour_photo(height: int = 60, width: int = 80, seed: int = 0) -> np.ndarray:
    """A colour photo: a two-colour vertical ramp with some grain."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0.0, 1.0, height)[:, None, None]
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    rgb = top * (1 - rows) + bottom * rows + rng.normal(0, 8, (height, width, 1))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def blue_photo(height: int = 64, width: int = 64) -> np.ndarray:
    blue = np.zeros((height, width, 3), np.uint8)
    blue[..., 2] = np.linspace(60, 250, height, dtype=np.uint8)[:, None]
    return blue


def gray_of(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).convert("L"))


def files(*named: tuple[str, bytes | None]):
    from dashboard.routes.uploads import UploadedFile

    return [UploadedFile(name, data, None if data is not None else "The browser sent nothing.") for name, data in named]


def own(store, *named: tuple[str, np.ndarray], session: str = SESSION) -> list[dict]:
    """The page's state after the visitor uploaded the named colour photos as references."""
    from dashboard.jobs.photos import add_own_references

    records, refused = add_own_references(files(*[(name, png_of(rgb)) for name, rgb in named]), [], session, store)
    assert refused == []
    return [record.to_json() for record in records]


# --- Methods ---------------------------------------------------------------------------------------------------

def test_match_by_content_is_the_default_method_and_welsh_the_other(colour_gallery):
    from dashboard.jobs.photos import checked_method, method_label, reference_methods

    assert [(method.model_name, method.label, method.available) for method in reference_methods()] == [
        ("exemplar", "Match by content", True), ("welsh", "Welsh 2002", True)]
    assert checked_method(None) == checked_method("cnn") == checked_method(["junk"]) == "exemplar"
    assert checked_method("welsh") == "welsh"
    assert method_label("exemplar") == "Match by content" and method_label("cnn") == "Fusion CNN"


def test_without_the_exemplars_weights_welsh_is_the_method(colour_gallery, monkeypatch, tmp_path):
    from colorizers import settings
    from dashboard.jobs.photos import checked_method, reference_methods

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    assert [method.available for method in reference_methods()] == [False, True]
    assert checked_method("exemplar") == checked_method(None) == "welsh"


# --- Own references ----------------------------------------------------------------------------------------------

def test_own_references_up_to_five_colour_photos_a_sixth_is_refused(store):
    from dashboard.jobs.photos import MAX_OWN_REFERENCES, TOO_MANY_REFERENCES, add_own_references, own_references_from_state

    assert MAX_OWN_REFERENCES == 5
    first = files(("a.png", png_of(colour_photo(seed=1))), ("gray.png", png_of(gray_of(colour_photo()))),
                  ("b.png", png_of(colour_photo(seed=2))), ("notes.png", b"a shopping list"))
    records, refused = add_own_references(first, [], SESSION, store)
    assert [record.filename for record in records] == ["a.png", "b.png"]
    assert [name for name, _ in refused] == ["gray.png", "notes.png"]
    assert "no colour to copy" in refused[0][1] and "not an image" in refused[1][1]
    more = files(*[(f"c{index}.png", png_of(colour_photo(seed=10 + index))) for index in range(4)])
    records, refused = add_own_references(more, records, SESSION, store)
    assert [record.filename for record in records] == ["a.png", "b.png", "c0.png", "c1.png", "c2.png"]
    assert refused == [("c3.png", TOO_MANY_REFERENCES)] and "at most 5" in TOO_MANY_REFERENCES
    state = [record.to_json() for record in records]
    assert own_references_from_state(state, SESSION, store) == records


def test_own_references_are_kept_small(store):
    from dashboard.jobs.photos import OWN_REFERENCE_SIDE, add_own_references

    [record], _ = add_own_references(files(("wide.png", png_of(colour_photo(300, 1500)))), [], SESSION, store)
    assert store.get(SESSION, record.image_id).size == (round(OWN_REFERENCE_SIDE * 300 / 1500), OWN_REFERENCE_SIDE)


def test_own_references_state_is_not_trusted(store):
    from dashboard.jobs.photos import own_references_from_state

    mine = own(store, ("a.png", colour_photo(seed=1)), ("b.png", colour_photo(seed=2)))
    theirs = own(store, ("theirs.png", colour_photo(seed=3)), session=OTHER)
    state = [mine[0]] * 7 + ["junk", {"image_id": 5}, {"image_id": "made-up"}, *theirs, mine[1]]
    assert [record.filename for record in own_references_from_state(state, SESSION, store)] == ["a.png", "b.png"]


def test_removing_an_own_reference_forgets_it(store):
    from dashboard.jobs.photos import OwnReferenceRecord, own_references_from_state, remove_own_reference

    kept = own_references_from_state(own(store, ("a.png", colour_photo(seed=1)), ("b.png", colour_photo(seed=2))),
                                     SESSION, store)
    left = remove_own_reference(kept, kept[0].image_id, SESSION, store)
    assert left == [kept[1]] and store.get(SESSION, kept[0].image_id) is None
    theirs = OwnReferenceRecord.from_json(own(store, ("theirs.png", colour_photo()), session=OTHER)[0])
    assert remove_own_reference(left, theirs.image_id, SESSION, store) == left  # not in the list: nothing changes
    assert store.get(OTHER, theirs.image_id) is not None


# --- What the models are given --------------------------------------------------------------------------------

def test_reference_request_for_each_choice(store):
    from colorizers import ColorizerError
    from colorizers.references import gallery
    from dashboard.jobs.photos import AUTO_REFERENCE, OWN_REFERENCE, reference_request

    with pytest.raises(ColorizerError, match="Upload your own reference"):
        reference_request(OWN_REFERENCE, [{"image_id": "made-up", "filename": "x.png"}], SESSION, store)
    state = own(store, ("a.png", colour_photo(seed=1)), ("b.png", colour_photo(seed=2)))

    both = reference_request(OWN_REFERENCE, state, SESSION, store)  # every own photo at once
    assert len(both.reference) == 2 and both.own_references == ()
    assert both.options()["reference"][1].shape == (60, 80, 3)
    assert (both.title("uploaded 1"), both.title("uploaded 2")) == ("a.png", "b.png")
    one = reference_request(OWN_REFERENCE, state[:1], SESSION, store)
    assert len(one.reference) == 1 and one.title("uploaded") == "a.png"

    auto = reference_request(AUTO_REFERENCE, state, SESSION, store)  # searched beside the library
    assert auto.reference == AUTO_REFERENCE and len(auto.own_references) == 2
    assert [auto.title(photo.name) for photo in auto.own_references] == ["a.png", "b.png"]
    assert reference_request(None, [], SESSION, store).reference == AUTO_REFERENCE

    chosen = gallery()[0]
    named = reference_request(chosen.name, state, SESSION, store)  # a gallery photo alone
    assert (named.reference, named.own_references) == (chosen.name, ())
    assert named.title(chosen.name) == chosen.title


@pytest.mark.parametrize("model", ["welsh", "exemplar"])
def test_a_photo_coloured_from_two_own_references_names_both(store, model):
    from dashboard.jobs.photos import OWN_REFERENCE, colorize_uploads, keep_uploads, reference_request

    target = colour_photo(90, 120, seed=5)
    state = own(store, ("same-scene.png", target), ("other.png", colour_photo(seed=6)))
    kept = keep_uploads(files(("old.png", png_of(gray_of(target)))), SESSION, store)
    request = reference_request(OWN_REFERENCE, state, SESSION, store)
    [result] = colorize_uploads(kept, SESSION, store, [model], request)[0].results
    assert result.error is None and result.model_name == model
    assert result.references == ("same-scene.png", "other.png") and result.reference_title == "same-scene.png"
    assert not result.reference_suggested and result.suggested == () and result.own_suggested == ()
    assert result.filename == {"welsh": "old-colorized-welsh-transfer.png",
                               "exemplar": "old-colorized-match-by-content.png"}[model]
    assert store.get(SESSION, result.image_id).size == (90, 120)


def test_the_exemplars_fallback_sentence_is_shown(store):
    """Where the references show nothing alike (a photo of a scene, a plain blue reference), the exemplar says how
    much of the photo took the CNN's colour; the result passes its words on."""
    from colorizers.references import gallery, load_gallery_photo
    from dashboard.jobs.photos import OWN_REFERENCE, colorize_uploads, keep_uploads, reference_request

    scene = np.asarray(Image.fromarray(load_gallery_photo(gallery()[0].name)).resize((160, 120)))
    state = own(store, ("blue.png", blue_photo()))
    kept = keep_uploads(files(("old.png", png_of(gray_of(scene)))), SESSION, store)
    request = reference_request(OWN_REFERENCE, state, SESSION, store)
    [exemplar] = colorize_uploads(kept, SESSION, store, ["exemplar"], request)[0].results
    details = store.get(SESSION, exemplar.image_id).touch_up_state.colorization.details
    assert details["cnn_share"] > 0.05
    assert exemplar.fallback == details["fallback"] and "CNN's colour" in exemplar.fallback
    [welsh] = colorize_uploads(kept, SESSION, store, ["welsh"], request)[0].results
    assert welsh.fallback is None and welsh.references == ("blue.png",)
    [cnn] = colorize_uploads(kept, SESSION, store, ["cnn"], request)[0].results
    assert cnn.fallback is None and cnn.references == ()  # not a reference model: nothing said about references


@pytest.mark.parametrize("model", ["welsh", "exemplar"])
def test_suggest_for_me_searches_the_visitors_own_photos(store, model):
    """A colour photo of the same scene the visitor uploaded is the suggestion's best match."""
    from colorizers.registry import model_info
    from dashboard.jobs.photos import AUTO_REFERENCE, colorize_uploads, keep_uploads, reference_request

    if not model_info("cnn").is_available:
        pytest.skip("the content suggestion needs the CNN's weights")
    target = colour_photo(90, 120, seed=8)
    state = own(store, ("family-album.png", target))
    kept = keep_uploads(files(("old.png", png_of(gray_of(target)))), SESSION, store)
    [result] = colorize_uploads(kept, SESSION, store, [model], reference_request(AUTO_REFERENCE, state, SESSION,
                                                                                  store))[0].results
    assert result.error is None and result.reference_suggested
    assert result.own_suggested == ("family-album.png",) and result.reference_title == "family-album.png"
    assert result.references[0] == "family-album.png"
    assert all(photo.name != result.reference_name for photo in result.suggested)  # thumbnails: library photos only
