"""colorizers.references: the gallery manifest and automatic reference suggestion."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizers import references
from colorizers.color import rgb_to_lightness
from colorizers.errors import ReferenceImageError


def gallery_photos(height: int = 96, width: int = 128) -> dict[str, np.ndarray]:
    """Four photos with clearly different lightness statistics, texture and layout (sRGB uint8)."""
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:height, 0:width] / np.array([height, width])[:, None, None]
    sky = np.where(rows[..., None] < 0.5, [110, 160, 235] - 60 * rows[..., None], [60, 110, 40])  # sky over grass
    night = 20 + 25 * columns[..., None] * np.array([1.0, 0.8, 1.4])  # dark, smooth
    texture = 128 + rng.normal(0.0, 40.0, (height, width, 1)) * np.array([1.0, 0.9, 0.7])  # mid gray, busy
    snow = (235 - 15 * rows[..., None] + rng.normal(0.0, 2.0, (height, width, 1))) * np.ones(3)  # bright, flat
    photos = {"sky": sky, "night": night, "texture": texture, "snow": snow}
    return {name: np.clip(photo, 0, 255).astype(np.uint8) for name, photo in photos.items()}


@pytest.fixture()
def gallery_folder(tmp_path: Path) -> Path:
    entries = []
    for name, rgb in gallery_photos().items():
        Image.fromarray(rgb).save(tmp_path / f"{name}.png")
        entries.append({"name": name, "title": f"The {name}", "file": f"{name}.png", "licence": "CC0"})
    (tmp_path / "manifest.json").write_text(json.dumps(entries))
    return tmp_path


def test_gallery_lists_the_manifest(gallery_folder):
    photos = references.gallery(gallery_folder)
    assert [photo.name for photo in photos] == ["sky", "night", "texture", "snow"]
    assert photos[0].title == "The sky" and photos[0].file == gallery_folder / "sky.png"
    assert photos[0].licence == "CC0"


def test_a_folder_without_manifest_is_an_empty_gallery(tmp_path):
    assert references.gallery(tmp_path) == []
    with pytest.raises(ReferenceImageError, match="empty"):
        references.suggest_references(np.zeros((16, 16), np.float32), folder=tmp_path)


def test_load_gallery_photo(gallery_folder):
    rgb = references.load_gallery_photo("night", gallery_folder)
    assert rgb.shape == (96, 128, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb, gallery_photos()["night"])


def test_unknown_name_is_refused(gallery_folder):
    with pytest.raises(ReferenceImageError, match="no reference photo called 'moon'"):
        references.load_gallery_photo("moon", gallery_folder)


def test_missing_file_is_a_reference_error(gallery_folder):
    (gallery_folder / "snow.png").unlink()
    with pytest.raises(ReferenceImageError, match="snow"):
        references.load_gallery_photo("snow", gallery_folder)


@pytest.mark.parametrize("name", ["sky", "night", "texture", "snow"])
def test_a_photo_suggests_itself_first(gallery_folder, name):
    lightness = rgb_to_lightness(gallery_photos()[name])
    ranked = references.suggest_references(lightness, count=3, folder=gallery_folder)
    assert len(ranked) == 3
    assert ranked[0][0] == name
    distances = [distance for _, distance in ranked]
    assert distances == sorted(distances)
    assert distances[0] < 1e-6


def test_suggestion_survives_resizing(gallery_folder):
    """A photo at another size (downscaled, as an upload might be) still finds itself."""
    rgb = gallery_photos()["sky"]
    smaller = np.asarray(Image.fromarray(rgb).resize((100, 75), Image.BILINEAR))
    ranked = references.suggest_references(rgb_to_lightness(smaller), folder=gallery_folder)
    assert ranked[0][0] == "sky"


def test_signature_shape_and_normalisation():
    lightness = rgb_to_lightness(gallery_photos()["texture"])
    signature = references.signature(lightness)
    lightness_bins = len(references._LIGHTNESS_BINS) - 1
    deviation_bins = len(references._DEVIATION_BINS) - 1
    assert signature.shape == (lightness_bins + deviation_bins + 16,)
    assert signature[:lightness_bins].sum() == pytest.approx(1.0)
    assert signature[lightness_bins : lightness_bins + deviation_bins].sum() == pytest.approx(1.0)
    assert references.signature_distance(signature, signature) == pytest.approx(0.0, abs=1e-9)
