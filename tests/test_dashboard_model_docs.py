"""dashboard.page_logic.model_docs and dashboard.page_logic.legacy: what the Models and Legacy pages read from disk, without a browser."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from dashboard.page_logic import legacy, model_docs


def test_missing_or_broken_metrics_read_as_not_evaluated(tmp_path):
    assert model_docs.load_metrics(tmp_path / "metrics.json") is None
    (tmp_path / "metrics.json").write_text("{not json")
    assert model_docs.load_metrics(tmp_path / "metrics.json") is None
    (tmp_path / "metrics.json").write_text(json.dumps({"photos": []}))  # no "models"
    assert model_docs.load_metrics(tmp_path / "metrics.json") is None
    assert model_docs.metrics_row(None, "cnn") is None


def test_metrics_rows_follow_the_evaluation_format(tmp_path, colour_gallery):
    from colorizers.training import evaluation

    rng = np.random.default_rng(0)
    photos = [("a.png", rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))]
    report = evaluation.evaluate(photos, ["welsh"], max_side=56)
    evaluation.write_outputs(report, tmp_path)
    metrics = model_docs.load_metrics(tmp_path / "metrics.json")
    welsh = model_docs.metrics_row(metrics, "welsh")  # the "welsh-auto" row
    assert welsh["mean"]["psnr"] == pytest.approx(report.row("welsh-auto").mean("psnr"))
    assert model_docs.metrics_row(metrics, "gray")["skipped"] is None
    assert model_docs.metrics_row(metrics, "cgan") is None


@pytest.mark.parametrize("value, shown", [(12.3456, "12.35"), (None, "–"), (float("nan"), "–"), ("x", "–")])
def test_format_metric(value, shown):
    assert model_docs.format_metric(value, "{:.2f}") == shown


def test_model_card_sections_that_name_the_model(tmp_path):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# Card\n\n## Fusion CNN\n\nCNN text.\n\n### cnn: limits\n\nMore.\n\n## cGAN\n\nOther.\n")
    assert model_docs.model_card_sections("cnn", "Fusion CNN", card) == [("Fusion CNN", "CNN text."),
                                                                        ("cnn: limits", "More.")]
    assert model_docs.model_card_sections("welsh", "Welsh transfer", card) == []
    assert model_docs.model_card_sections("cnn", "Fusion CNN", tmp_path / "missing.md") == []


def test_every_registry_model_has_notes():
    from colorizers.registry import MODELS

    for name in MODELS:
        notes = model_docs.notes_for(name)
        assert all(notes.how_it_works) and notes.diagram and notes.weaknesses


def test_training_summary_counts_the_manifest(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,source_package,licence,split\na,pkg-a,CC0,train\nb,pkg-a,GPL-3 (package default),val\n"
                        "c,pkg-b,CC0,train\nd,pkg-b,CC0,rejected\ne,pkg-c,MIT,foreign\n")
    summary = model_docs.training_summary(manifest)
    assert (summary.train, summary.validation, summary.foreign) == (2, 1, 1)
    assert summary.sources == (("pkg-a", 2), ("pkg-b", 1)) and summary.licences == ("CC0", "GPL-3")
    assert model_docs.training_summary(tmp_path / "missing.csv") is None


def test_legacy_photos_are_small_grayscale_jpegs_with_their_source():
    photos = legacy.legacy_photos()
    assert len(photos) >= 4
    for photo in photos:
        with Image.open(photo.path) as image:
            assert image.format == "JPEG" and image.mode == "L" and max(image.size) <= legacy.LONG_SIDE
        assert photo.title and photo.source_package and photo.licence
        assert photo.genuine_old_photo in (True, False)
    # The genuinely old photographs: public domain, titled from the theme's readme, never a training photo.
    import csv

    from colorizers import settings

    with open(settings.REPO_ROOT / "datasets" / "manifest.csv", newline="") as handle:
        splits = {row["file"]: row["split"] for row in csv.DictReader(handle)}
    old = [photo for photo in photos if photo.genuine_old_photo]
    assert len(old) >= 15 and all("CC0" in photo.licence and photo.gallery_name is None for photo in old)
    for photo in old:
        assert splits[f"{photo.source_package}__{photo.name.removeprefix('old-')}.webp"] == "rejected"
    assert legacy.find_legacy_photo(photos[0].name) == photos[0] and legacy.find_legacy_photo("nope") is None


def test_contact_sheet_route_is_404_until_evaluated(tmp_path, monkeypatch, colour_gallery):
    from colorizers import settings
    from dashboard.app import server

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    client = server.test_client()
    assert client.get("/evaluation/foreign/contact_sheet.png").status_code == 404
    (tmp_path / "evaluation" / "foreign").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(tmp_path / "evaluation" / "foreign" / "contact_sheet.png")
    response = client.get("/evaluation/foreign/contact_sheet.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert client.get("/evaluation/val/contact_sheet.png").status_code == 404  # that split not evaluated
    assert client.get("/evaluation/train/contact_sheet.png").status_code == 404  # not an evaluation split


def test_metrics_are_read_per_split(tmp_path, monkeypatch):
    from colorizers import settings

    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    for split, psnr in (("foreign", 21.0), ("val", 23.0)):
        (tmp_path / "evaluation" / split).mkdir(parents=True)
        (tmp_path / "evaluation" / split / "metrics.json").write_text(
            json.dumps({"split": split, "models": {"cnn": {"skipped": None, "mean": {"psnr": psnr}}}}))
    assert [model_docs.metrics_row(model_docs.load_metrics(split=split), "cnn")["mean"]["psnr"]
            for split in model_docs.SPLITS] == [21.0, 23.0]


# --- The reference protocols' scores (weights/evaluation/reference/metrics.json) ----------------------------------

def _reference_metrics(**rows_by_protocol) -> dict:
    return {"split": "foreign", "max_side": 512,
            "protocols": {key: {"title": key.title(), "description": f"About {key}.", "rows": rows}
                          for key, rows in rows_by_protocol.items()}}


def test_reference_scores_are_read_in_protocol_order(tmp_path):
    path = tmp_path / "metrics.json"
    exemplar = {"psnr": 28.6, "colourfulness_gap": 7.0, "photos": 65}
    path.write_text(json.dumps(_reference_metrics(
        **{"true-photo": {"welsh": {"psnr": 26.0}, "exemplar": {**exemplar, "psnr": 36.6}},
           "another-shot": {"welsh": {"psnr": 23.9}, "exemplar": exemplar, "broken": "not a row"},
           "other": {"welsh": {"psnr": 1.0}}})))
    scores = model_docs.load_reference_scores(path)
    assert [protocol.key for protocol in scores.protocols] == ["another-shot", "true-photo", "other"]
    assert (scores.split, scores.max_side) == ("foreign", 512)
    shot = scores.protocols[0]
    assert (shot.title, shot.description) == ("Another-Shot", "About another-shot.")
    assert shot.rows["exemplar"] == exemplar and "broken" not in shot.rows
    assert [protocol.key for protocol in scores.for_model("exemplar")] == ["another-shot", "true-photo"]
    assert model_docs.load_reference_scores(path).for_model("cnn") == ()


def test_missing_or_broken_reference_scores_read_as_none(tmp_path, monkeypatch):
    from colorizers import settings

    path = tmp_path / "metrics.json"
    assert model_docs.load_reference_scores(path) is None
    path.write_text("{not json")
    assert model_docs.load_reference_scores(path) is None
    path.write_text(json.dumps({"protocols": "none"}))
    assert model_docs.load_reference_scores(path) is None
    path.write_text(json.dumps({"protocols": {"another-shot": {"rows": []}}}))
    assert model_docs.load_reference_scores(path) is None
    # By default from the weights folder's evaluation/reference/.
    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path)
    assert model_docs.load_reference_scores() is None
    (tmp_path / "evaluation" / "reference").mkdir(parents=True)
    (tmp_path / "evaluation" / "reference" / "metrics.json").write_text(json.dumps(_reference_metrics(
        **{"another-shot": {"exemplar": {"psnr": 27.5}}})))
    assert model_docs.load_reference_scores().protocols[0].rows == {"exemplar": {"psnr": 27.5}}


def test_match_by_content_has_a_drawn_diagram_with_alt_text():
    from colorizers import settings

    notes = model_docs.notes_for("exemplar")
    path, alt = notes.figure
    svg = (settings.REPO_ROOT / "assets" / path).read_text()
    assert svg.startswith("<svg") and "<title" in svg and "<desc" in svg
    assert "coarse to fine" in alt and "CNN" in alt and "lightness" in alt
    text = " ".join(notes.how_it_works)
    for words in ("ImageNet", "coarse to fine", "confidence", "CNN's colour", "lightness", "edges"):
        assert words in text
