"""The evaluation harness on a tiny generated data set: three photos, a one-photo gallery, no weights."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorizers import settings
from colorizers.cli import main
from colorizers.errors import UnknownModelError
from colorizers.training.evaluation import (
    GAP,
    HEADER_HEIGHT,
    THUMB_HEIGHT,
    contact_sheet,
    evaluate,
    format_table,
    validation_photos,
    write_outputs,
)

FIELDS = ["file", "sha256", "source_package", "source_version", "licence", "width", "height", "split", "reason"]
HEIGHT, WIDTH = 48, 64  # thumbnails: 160 high, round(64 * 160 / 48) = 213 wide


def _photo(seed: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A colourful sRGB uint8 photo stand-in: a sky-blue top, a green bottom, some texture."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((height, width, 3), np.float64)
    rgb[: height // 2] = (90 + 10 * seed, 150, 230)
    rgb[height // 2 :] = (60, 140 + 10 * seed, 50)
    rgb += rng.normal(0.0, 12.0, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A manifest with 3 val rows, a train row and a foreign row, their photos, a gallery, and an empty weights
    folder."""
    photos_dir = tmp_path / "photos"
    photos_dir.mkdir()
    rows = []
    for index, split in enumerate(["val", "train", "val", "val", "foreign"]):
        name = f"photo{index}.png"
        Image.fromarray(_photo(index)).save(photos_dir / name)
        rows.append({"file": name, "sha256": "0" * 64, "source_package": "test", "source_version": "1",
                     "licence": "CC0", "width": WIDTH, "height": HEIGHT, "split": split, "reason": "generated"})
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    gallery_dir = tmp_path / "gallery"
    gallery_dir.mkdir()
    Image.fromarray(_photo(7, 40, 40)).save(gallery_dir / "meadow.png")
    (gallery_dir / "manifest.json").write_text(json.dumps([{"name": "meadow", "file": "meadow.png"}]))
    monkeypatch.setattr(settings, "GALLERY_DIR", gallery_dir)
    monkeypatch.setattr(settings, "WEIGHTS_DIR", tmp_path / "no-weights")
    return manifest, photos_dir


@pytest.fixture
def photos(data):
    manifest, photos_dir = data
    return validation_photos(manifest, photos_dir, max_side=512)


def test_validation_photos_reads_val_rows_in_order(data):
    manifest, photos_dir = data
    photos = validation_photos(manifest, photos_dir, max_side=512)
    assert [name for name, _ in photos] == ["photo0.png", "photo2.png", "photo3.png"]
    assert all(rgb.shape == (HEIGHT, WIDTH, 3) and rgb.dtype == np.uint8 for _, rgb in photos)
    np.testing.assert_array_equal(photos[0][1], _photo(0))


def test_validation_photos_downscales_the_long_side_and_limits(data):
    manifest, photos_dir = data
    photos = validation_photos(manifest, photos_dir, max_side=32, limit=2)
    assert len(photos) == 2
    assert photos[0][1].shape == (24, 32, 3)


def test_validation_photos_reports_missing_photos(data):
    manifest, photos_dir = data
    (photos_dir / "photo2.png").unlink()
    with pytest.raises(FileNotFoundError, match="1 of 3 validation photos are missing"):
        validation_photos(manifest, photos_dir)


def test_report_has_the_two_baselines(photos):
    report = evaluate(photos, ["welsh"])
    assert [row.name for row in report.rows] == ["gray", "welsh-auto"]
    for row in report.rows:
        assert row.skipped is None
        assert len(row.psnr) == len(row.ssim) == len(row.seconds) == 3
        assert 0 < row.mean("psnr") < 60 and 0 < row.mean("ssim") <= 1
    assert report.row("welsh-auto").details[0] == {"reference": "meadow"}
    assert report.row("welsh-auto").mean("colourfulness") > 0


def test_gray_baseline_has_no_colour_so_its_gap_is_the_truths_colourfulness(photos):
    report = evaluate(photos, [])
    gray = report.row("gray")
    assert gray.mean("colourfulness") == 0.0
    assert gray.mean("colourfulness_gap") == pytest.approx(report.truth_mean_colourfulness)
    assert report.truth_mean_colourfulness > 20


def test_model_with_missing_weights_is_skipped(photos):
    report = evaluate(photos, ["welsh", "cnn"])
    cnn = report.row("cnn")
    assert cnn.skipped is not None and "cnn.onnx" in cnn.skipped
    assert cnn.psnr == [] and np.isnan(cnn.mean("psnr"))
    assert report.sheet_columns == ["gray", "welsh-auto", "truth"]
    table = format_table(report)
    assert "| cnn | skipped |" in table
    assert "Skipped cnn: weights file cnn.onnx is missing" in table


def test_unknown_model_is_an_error(photos):
    with pytest.raises(UnknownModelError):
        evaluate(photos, ["nonsense"])


def test_table_lists_every_row_and_the_truth(photos):
    report = evaluate(photos, ["welsh"], max_side=512)
    table = format_table(report)
    assert "| model | PSNR dB | SSIM | CF | dCF | dL | s/photo |" in table
    assert "| gray |" in table and "| welsh-auto |" in table
    assert f"Truth mean CF: {report.truth_mean_colourfulness:.1f}" in table
    assert "long side at most 512 px" in table


def test_contact_sheet_has_a_column_per_model_and_a_row_per_photo(photos):
    report = evaluate(photos, ["welsh"], sheet_rows=2)
    assert len(report.sheet) == 2
    sheet = contact_sheet(report.sheet, report.sheet_columns)
    cell_width = round(WIDTH * THUMB_HEIGHT / HEIGHT)
    assert sheet.size == (3 * (cell_width + GAP) + GAP, HEADER_HEIGHT + 2 * (THUMB_HEIGHT + GAP) + GAP)
    # The last column is the truth, upscaled: its centre matches the photo's centre colour (sky on top).
    top = np.asarray(sheet)[HEADER_HEIGHT + GAP + 20, 2 * (cell_width + GAP) + GAP + cell_width // 2]
    assert top[2] > top[1] > top[0]


def test_write_outputs_saves_json_table_and_sheet(photos, tmp_path):
    report = evaluate(photos, ["welsh"])
    paths = write_outputs(report, tmp_path / "out")
    metrics = json.loads(paths["metrics"].read_text())
    assert list(metrics["models"]) == ["gray", "welsh-auto"]
    assert metrics["models"]["gray"]["mean"]["colourfulness_gap"] == pytest.approx(
        metrics["truth"]["mean_colourfulness"]
    )
    assert len(metrics["models"]["welsh-auto"]["per_photo"]["psnr"]) == 3
    assert paths["table"].read_text() == format_table(report)
    with Image.open(paths["contact_sheet"]) as sheet:
        assert sheet.format == "PNG" and sheet.width == 3 * (213 + GAP) + GAP


def test_inf_psnr_is_written_as_null(tmp_path):
    flat_gray = np.full((16, 16, 3), 128, np.uint8)  # the gray baseline reproduces a gray photo exactly
    report = evaluate([("flat.png", flat_gray)], [])
    assert report.row("gray").mean("psnr") == float("inf")
    assert report.to_dict()["models"]["gray"]["mean"]["psnr"] is None


def test_cli_evaluate_writes_outputs_and_prints_the_table(data, tmp_path, capsys):
    manifest, photos_dir = data
    out = tmp_path / "eval"
    code = main(["evaluate", "--models", "welsh", "cgan", "--out", str(out), "--manifest", str(manifest),
                 "--photos", str(photos_dir), "--limit", "2", "--max-side", "32"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| welsh-auto |" in printed and "| cgan | skipped |" in printed
    assert "Random validation split (held-out photos from the training packages): 2 photos (long side at most 32 px)" in printed
    assert "Foreign split (whole packages never trained on; checkpoints are chosen on it): 1 photos" in printed
    assert {path.name for path in out.iterdir()} == {"foreign", "val"}
    for split, count in (("foreign", 1), ("val", 2)):
        assert {path.name for path in (out / split).iterdir()} == {"metrics.json", "table.md", "contact_sheet.png"}
        metrics = json.loads((out / split / "metrics.json").read_text())
        assert metrics["split"] == split and len(metrics["photos"]) == count


def test_validation_photos_of_the_foreign_split(data):
    manifest, photos_dir = data
    assert [name for name, _ in validation_photos(manifest, photos_dir, split="foreign")] == ["photo4.png"]


def test_cli_evaluate_reports_a_missing_manifest(tmp_path, capsys):
    code = main(["evaluate", "--out", str(tmp_path / "eval"), "--manifest", str(tmp_path / "none.csv")])
    assert code == 2
    assert "none.csv" in capsys.readouterr().err


def test_evaluation_module_is_imported_only_by_the_evaluate_command():
    code = "import sys, colorizers.cli; print('colorizers.training.evaluation' in sys.modules)"
    printed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=settings.REPO_ROOT
    ).stdout
    assert printed.strip() == "False"


def test_reference_protocols_score_welsh_and_exemplar_with_good_references(data, tmp_path, monkeypatch):
    from colorizers.registry import model_info
    from colorizers.training import reference_evaluation

    monkeypatch.setattr(settings, "WEIGHTS_DIR", settings.REPO_ROOT / "weights")  # the real exemplar features
    if not model_info("exemplar").is_available:
        pytest.skip("weights/exemplar_features.onnx missing")
    manifest, photos_dir = data
    report = reference_evaluation.run_reference_evaluation(
        tmp_path / "reference", split="val", max_side=None, manifest_path=manifest, photos_dir=photos_dir)
    assert set(report["protocols"]) == {"another-shot", "true-photo"}
    for protocol in report["protocols"].values():
        assert set(protocol["rows"]) == {"gray", "welsh", "exemplar"}
        assert all(row["photos"] == 3 for row in protocol["rows"].values())
    true_photo = report["protocols"]["true-photo"]["rows"]
    assert true_photo["exemplar"]["psnr"] > true_photo["gray"]["psnr"] + 3.0
    assert true_photo["exemplar"]["lightness_drift"] < 0.2
    saved = json.loads((tmp_path / "reference" / "metrics.json").read_text())
    assert saved["protocols"]["another-shot"]["rows"]["welsh"]["psnr"] == pytest.approx(
        report["protocols"]["another-shot"]["rows"]["welsh"]["psnr"])
    assert "| exemplar |" in (tmp_path / "reference" / "table.md").read_text()
    assert (tmp_path / "reference" / "contact_sheet_another-shot.png").exists()


def test_another_shot_is_the_photo_mirrored_and_cropped_to_its_lower_right():
    from colorizers.training.reference_evaluation import another_shot

    photo = np.arange(8 * 12 * 3, dtype=np.uint8).reshape(8, 12, 3)
    shot = another_shot(photo)
    assert shot.shape == (6, 9, 3)
    assert np.array_equal(shot[0, 0], photo[2, 11 - 3])
    assert np.array_equal(shot[-1, -1], photo[7, 0])
