"""The Legacy photos page (one click: a Compare row with every model) and the Models page (a section per model,
with the evaluation's numbers and contact sheet when they exist), in a real browser."""
from __future__ import annotations

import numpy as np
import requests
from selenium.webdriver.support.ui import WebDriverWait

from browser_steps import RESULT_TIMEOUT, click_when_uncovered, top_in_view, wait_for_count, wait_for_images_loaded
from colorizers import registry
from dashboard.page_logic.legacy import legacy_photos

MODEL_TITLES = ["Welsh transfer", "Fusion CNN", "pix2pix cGAN"]


def test_a_legacy_photo_opens_as_a_compare_row_with_every_model(dash_duo, studio_app, three_models):
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/legacy")
    all_photos = legacy_photos()
    cards = wait_for_count(dash_duo, ".legacy-card", len(all_photos))
    assert len(cards) >= 4
    wait_for_images_loaded(dash_duo, ".legacy-card img")
    # Genuinely old photographs first, in their own section; then the grayed modern photos.
    old = [photo for photo in all_photos if photo.genuine_old_photo]
    if old:
        section = dash_duo.find_element(".legacy-section-old")
        assert len(section.find_elements("css selector", ".legacy-card")) == len(old)
        assert "no model can be scored" in section.text and old[0].title in section.text
    photos = [photo for photo in all_photos if not photo.genuine_old_photo]  # a colour original to leave out
    card = dash_duo.find_element(f"#legacy-open-{photos[0].name}").find_element("xpath", "./ancestor::div[contains(@class, 'legacy-card')]")
    assert "licence" in card.text and photos[0].title in card.text

    click_when_uncovered(dash_duo, dash_duo.find_element(f"#legacy-open-{photos[0].name}"))
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(
        lambda driver: dash_duo.find_elements(".studio-row.row-done"))
    [row] = dash_duo.find_elements(".studio-row")
    assert row.find_element("css selector", ".card-header").text.startswith(photos[0].title)  # not its file name
    WebDriverWait(dash_duo.driver, 10).until(lambda driver: top_in_view(dash_duo, ".studio-row"))  # not below
    assert dash_duo.driver.current_url.endswith(f"/compare?legacy={photos[0].name}")
    assert [title.text for title in row.find_elements("css selector", ".panel-title")] == ["Original", *MODEL_TITLES]
    assert len(row.find_elements("css selector", "img.result-image")) == 4
    # Welsh never copies the colours back from the photo's own colour original.
    assert dash_duo.find_element(".cell-welsh .reference-used").text != photos[0].title
    wait_for_images_loaded(dash_duo, "#compare-results img")

    # Coming back to the same address does not add the photo twice.
    dash_duo.wait_for_page(f"{dash_duo.server_url}/compare?legacy={photos[0].name}")
    WebDriverWait(dash_duo.driver, RESULT_TIMEOUT).until(lambda driver: dash_duo.find_elements(".studio-row"))
    assert len(dash_duo.find_elements(".studio-row")) == 1
    assert dash_duo.get_logs() == []


def test_models_page_before_evaluation(dash_duo, studio_app, three_models, tmp_path, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)  # no evaluation there
    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/models")
    sections = wait_for_count(dash_duo, ".model-section", len(registry.MODELS))
    assert [section.find_element("css selector", "h2").text for section in sections] == MODEL_TITLES
    for section in sections:
        assert "How it works" in section.text and "Training data" in section.text
        assert "Known weaknesses" in section.text and "Not yet evaluated" in section.text
        assert section.find_elements("css selector", ".model-diagram .diagram-block")
    assert "Not yet evaluated" in dash_duo.find_element("#contact-sheet").text
    assert dash_duo.get_logs() == []


def test_models_page_shows_the_evaluation(dash_duo, studio_app, three_models, tmp_path, monkeypatch):
    from colorizers import settings
    from colorizers.training import evaluation

    rng = np.random.default_rng(0)
    reports = {}
    for split in ("foreign", "val"):  # each split is scored on its own photos
        photos = [(f"{split}-{index}.png", rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)) for index in range(2)]
        reports[split] = evaluation.evaluate(photos, ["welsh", "cnn", "cgan"], max_side=64, split=split)
        evaluation.write_outputs(reports[split], tmp_path / "evaluation" / split)
    (tmp_path / "MODEL_CARD.md").write_text("# Model card\n\n## Fusion CNN\n\nTrained for **two hours** on a CPU.\n")
    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)

    dash_duo.start_server(studio_app)
    dash_duo.wait_for_page(f"{dash_duo.server_url}/models")
    wait_for_count(dash_duo, ".model-section", len(registry.MODELS))
    for name in ("welsh", "cnn", "cgan"):
        tables = dash_duo.driver.find_elements("css selector", f"#model-{name} .metrics-table")
        assert len(tables) == 2  # the foreign split first (it chose the checkpoints), then the random one
        for table, split in zip(tables, ("foreign", "val")):
            psnr = reports[split].row(evaluation.WELSH_AUTO if name == "welsh" else name).mean("psnr")
            assert f"{psnr:.2f}" in table.text and "Gray (no colour) baseline" in table.text
        assert "checkpoints were chosen on these" in dash_duo.find_element(f"#model-{name}").text
    assert "two hours" in dash_duo.find_element("#model-cnn").text
    wait_for_images_loaded(dash_duo, "#contact-sheet img")
    assert len(dash_duo.find_elements("#contact-sheet img")) == 2
    for split in ("foreign", "val"):
        response = requests.get(f"{dash_duo.server_url}/evaluation/{split}/contact_sheet.png", timeout=30)
        assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert dash_duo.get_logs() == []
