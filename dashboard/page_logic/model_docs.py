"""What the Models page says about each model: how it works, its training data, its validation scores (read from
`weights/evaluation/<split>/metrics.json`, written by `colorizers.training.evaluation`), the reference-based models'
scores with a reference the user brings (`weights/evaluation/reference/metrics.json`), the model card's sections and
its weaknesses.

Everything read from disk is optional: a missing or unreadable file gives None, and the page says "not yet
evaluated". The prose is written from the module docstrings of colorizers/welsh.py, exemplar.py, cnn.py and
cgan.py.
"""
from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from colorizers import settings

logger = logging.getLogger(__name__)

EVALUATION_DIR_NAME = "evaluation"
# The evaluation's held-out splits (colorizers.training.evaluation writes one folder each), in the order shown.
FOREIGN_SPLIT, VALIDATION_SPLIT = "foreign", "val"
SPLITS = {
    FOREIGN_SPLIT: "Photos from sources never trained on (whole packages held out); checkpoints were chosen on these",
    VALIDATION_SPLIT: "Random held-out photos from the training packages (siblings of training photos: flatters)",
}
MODEL_CARD_NAME = "MODEL_CARD.md"
MANIFEST_PATH = settings.REPO_ROOT / "datasets" / "manifest.csv"
# colorizers.training.evaluation names the Welsh row "welsh-auto" (the reference chosen automatically).
_METRIC_ROWS = {"welsh": "welsh-auto"}
BASELINE_ROW = "gray"
METRIC_COLUMNS = (
    ("psnr", "PSNR dB", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
    ("colourfulness", "CF", "{:.1f}"),
    ("colourfulness_gap", "ΔCF", "{:.1f}"),
    ("seconds", "s/photo", "{:.3f}"),
)


# The reference protocols' scores (the user brings the reference): their folder, the order they are shown in, and
# the columns shown (key in metrics.json, heading, format).
REFERENCE_EVALUATION = "reference"
REFERENCE_PROTOCOLS = ("another-shot", "true-photo")
REFERENCE_COLUMNS = (
    ("psnr", "PSNR dB", "{:.2f}"),
    ("ssim", "SSIM", "{:.4f}"),
    ("colourfulness_gap", "ΔCF", "{:.1f}"),
    ("seconds", "s/photo", "{:.3f}"),
    ("photos", "photos", "{:.0f}"),
)


@dataclass(frozen=True)
class ModelNotes:
    """Hand-written text about one model. diagram: the stages of its block diagram, left to right. figure: a drawn
    diagram in assets/ (its path under assets/ and its alt text), shown instead of the block diagram."""

    how_it_works: tuple[str, ...]
    diagram: tuple[str, ...]
    training_data: str
    weaknesses: tuple[str, ...]
    figure: tuple[str, str] | None = None


NOTES: dict[str, ModelNotes] = {
    "welsh": ModelNotes(
        how_it_works=(
            "Welsh transfer (Welsh, Ashikhmin and Mueller 2002) copies colour from a reference photo instead of "
            "learning it. The reference's lightness is first remapped to the target's mean and spread, then about "
            "200 samples are taken from it on a jittered grid. Every pixel of your photo is described by two "
            "numbers, its lightness and the standard deviation of lightness in the 5x5 window around it (a "
            "measure of texture), and takes the colour (a/b) of the nearest sample. Your photo keeps its own "
            "lightness, so detail and size are untouched.",
            "Nothing loops over pixels in Python: a photo's lightness takes few distinct values, so the exact "
            "nearest-sample search is done once per distinct lightness, giving a look-up table, and only the few "
            "pixels near a break point are decided one by one. When you do not choose a reference, the site "
            "suggests the gallery photo whose lightness histogram, texture and coarse layout are most alike yours.",
        ),
        diagram=("Your photo: lightness L", "L and local texture (5x5 std)", "Nearest of ~200 reference samples",
                 "Copy a/b", "Merge with your L"),
        training_data="No training. It needs a colour reference: a photo from the reference gallery (openly "
                      "licensed photos from Debian packages), one you upload, or one suggested automatically.",
        weaknesses=(
            "Only as good as the reference: a beach reference puts sand colours on a snowfield.",
            "Matches brightness and texture, not objects: a face and a wall of the same brightness get the "
            "same colour.",
            "Colours can be patchy where the texture changes quickly.",
        ),
    ),
    "exemplar": ModelNotes(
        how_it_works=(
            "Match by content colours your photo from one to five colour photos you choose (or that the site "
            "suggests), like Welsh transfer, but it matches what things are instead of how light they are. Your "
            "photo and the references are described by the first layers of MobileNetV2 as trained on ImageNet, "
            "which tell a face from a wall and leaves from sky even in gray: every small patch gets a list of "
            "numbers that says what it looks like.",
            "Matching goes from coarse to fine. On a coarse grid (1/16 of the working size) each part of your "
            "photo is compared with every part of every reference and keeps its eight best matches; on finer grids "
            "(1/8, then 1/4) each part looks only among the children of its parent's matches, so the search stays "
            "fast and colour is placed more finely. At the finest step lightness joins in, so colour follows light "
            "and dark within a matched region. Each part takes the weighted average colour of its best matches.",
            "How well the best match scores is the part's confidence. Where the references show nothing alike (a "
            "car in your photo, only trees in the references), the confidence is low and the Fusion CNN's colour "
            "is used there instead; the result says how much of the photo that was. Finally the colour is brought "
            "to full size by an edge-aware upsampling (a guided filter) steered by your photo's own lightness, so "
            "colour stops at the edges your photo shows, and your photo keeps its own lightness and size.",
        ),
        diagram=("Your photo and 1-5 references", "ImageNet features (what things are)",
                 "Match coarse to fine: 1/16 → 1/8 → 1/4", "Low confidence: the CNN's colour",
                 "Upsample guided by your lightness"),
        figure=("diagrams/exemplar.svg",
                "Diagram of Match by content: your gray photo and one to five colour references are described by "
                "ImageNet features; every part of your photo is matched to the references coarse to fine (1/16, "
                "1/8, then 1/4 of the size) and takes their colour with a confidence; where the confidence is low "
                "the Fusion CNN's colour is used; the colour is upsampled along the edges of your photo's "
                "lightness and merged with it."),
        training_data="No training of its own: the ImageNet layers of MobileNetV2 (up to block 13, the layers "
                      "the CNN keeps frozen) describe the photos, and the Fusion CNN gives the colour where the "
                      "references show nothing alike. It needs colour references: yours (up to five), one from "
                      "the gallery, or the library photos most alike in content.",
        weaknesses=(
            "Only as good as the references: what they do not show takes the CNN's cautious colour.",
            "Two things that look alike (a red and a blue car) can swap colours when both references show them.",
            "Slower than Welsh transfer: about a third of a second per photo, each reference's features once.",
        ),
    ),
    "cnn": ModelNotes(
        how_it_works=(
            "The fusion CNN looks at the photo's lightness resized to 224x224 through MobileNetV2, an image "
            "classifier pretrained on ImageNet, shown the gray photo as three equal channels. A mid-level 28x28 "
            "feature map (what is where) is fused with a vector pooled from the top of the encoder (what kind of "
            "scene this is), as Iizuka et al. did, so that a beach is coloured like a beach everywhere.",
            "A Zhang-style decoder then predicts, for each point of a 56x56 grid, a probability distribution over "
            "quantised a/b colour bins; the annealed mean of that distribution gives vivid but plausible a/b. The "
            "chroma is upsampled to your photo's full size and merged with its own lightness.",
        ),
        diagram=("Lightness 224x224", "MobileNetV2 encoder (ImageNet, frozen)", "Fusion: 28x28 map + scene vector",
                 "Decoder: a/b bins at 56x56", "Annealed mean, merge with your L"),
        training_data="",
        weaknesses=(
            "Trained on a few hundred photos: objects it has rarely seen come out brownish or gray.",
            "Chroma is predicted at 56x56 and upsampled, so small objects can bleed colour into their surroundings.",
            "Cautious: it prefers muted, average colours when unsure.",
        ),
    ),
    "cgan": ModelNotes(
        how_it_works=(
            "The conditional GAN (after pix2pix, Isola et al. 2017) has a U-Net generator whose encoder half is the "
            "same ImageNet-trained MobileNetV2 the CNN uses, so it knows what things are rather than only which "
            "colours are common. Its skip connections carry the encoder's feature maps at 1/4, 1/8, 1/16 and 1/32 "
            "of the input (and the gray photo itself at 1/2) to a decoder that climbs back by resizing and then "
            "convolving, which leaves no checkerboard stripes in flat skies. It outputs a/b at 112x112 through "
            "tanh, scaled to the Lab range; the result always keeps your photo's own lightness.",
            "It is trained in two phases: first the decoder alone, to match the true colours pixel by pixel (L1), "
            "until photos from sources it never saw stop improving; then a short adversarial phase against a 70x70 "
            "PatchGAN discriminator that tells real (lightness, colour) patches from generated ones, which pushes "
            "it towards livelier colour than a plain regression gives.",
        ),
        diagram=("Lightness 224x224", "MobileNetV2 encoder (ImageNet, frozen)", "U-Net decoder: resize + convolve, "
                 "skips at 4 scales", "tanh → a/b at 112x112", "Merge with your L"),
        training_data="",
        weaknesses=(
            "Can invent colour: confident but wrong hues, or blotches, especially on unusual scenes.",
            "GAN training is unstable; the shipped snapshot is the one that scored best on validation.",
            "Trained on a few hundred photos, so its palette is limited to what they show.",
        ),
    ),
    "blend": ModelNotes(
        how_it_works=(
            "The blend asks two different kinds of knowledge and averages their answers. The fusion CNN knows "
            "what things are and which colours they usually have. Retrieval knows what colours photos like yours "
            "really had: the gray photo's content (ImageNet features of the same MobileNetV2) finds the five most "
            "alike of the library's training photos, and the Welsh transfer copies colour from each.",
            "The five Welsh results are averaged (where they disagree the average leans to gray instead of "
            "guessing), and the result is mixed 70/30 with the CNN's a/b, a weight chosen on photos from sources "
            "never trained on. As every model here, it keeps your photo's own lightness.",
        ),
        diagram=("Lightness", "CNN a/b  |  5 nearest library photos → Welsh, averaged", "0.7 CNN + 0.3 exemplars",
                 "Merge with your L"),
        training_data="No training of its own: the CNN's weights, and the reference library (every training "
                      "photo, small, with its source and licence; assets/library).",
        weaknesses=(
            "Less colourful than the CNN alone where the library has nothing like your photo: the exemplars "
            "disagree and their average is pale.",
            "Slower than the CNN: five Welsh transfers at up to 512 px besides the network.",
        ),
    ),
}

GENERIC_NOTES = ModelNotes(
    how_it_works=("", ""), diagram=(), training_data="", weaknesses=(),
)


def notes_for(name: str) -> ModelNotes:
    return NOTES.get(name, GENERIC_NOTES)


def evaluation_dir() -> Path:
    return Path(settings.WEIGHTS_DIR) / EVALUATION_DIR_NAME


def load_metrics(path: Path | None = None, split: str = FOREIGN_SPLIT) -> dict | None:
    """A split's metrics.json (weights/evaluation/<split>/) as a dict, or None when missing or unreadable (logged)."""
    data = _read_json(path or evaluation_dir() / split / "metrics.json")
    return data if isinstance(data, dict) and isinstance(data.get("models"), dict) else None


def _read_json(path: Path) -> object | None:
    """The JSON in `path`, or None when the file is missing or unreadable (logged)."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        logger.warning("Could not read %s", path, exc_info=True)
        return None


def metrics_row(metrics: dict | None, model_name: str) -> dict | None:
    """The model's row of metrics.json ({"skipped": ..., "mean": {...}}), or None when it was not evaluated."""
    if not metrics:
        return None
    row = metrics["models"].get(_METRIC_ROWS.get(model_name, model_name))
    return row if isinstance(row, dict) else None


def format_metric(value: object, pattern: str) -> str:
    """A number as the table shows it; "–" for null, NaN or anything else."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return pattern.format(value)
    return "–"


def contact_sheet_path(split: str = FOREIGN_SPLIT) -> Path | None:
    """The split's contact sheet, None when it has not been made (or `split` is not an evaluation split)."""
    if split not in SPLITS:
        return None
    path = evaluation_dir() / split / "contact_sheet.png"
    return path if path.is_file() else None


def model_card_sections(model_name: str, title: str, path: Path | None = None) -> list[tuple[str, str]]:
    """(heading, Markdown body) of the model card's sections (## or ###) whose heading names the model."""
    path = path or Path(settings.WEIGHTS_DIR) / MODEL_CARD_NAME
    if not path.is_file():
        return []
    try:
        text = path.read_text()
    except OSError:
        return []
    sections = []
    parts = re.split(r"^(#{2,3} .+)$", text, flags=re.MULTILINE)
    pattern = re.compile(rf"\b({re.escape(model_name)}|{re.escape(title)})\b", re.IGNORECASE)
    for heading, body in zip(parts[1::2], parts[2::2]):
        heading_text = heading.lstrip("#").strip()
        if pattern.search(heading_text) and body.strip():
            sections.append((heading_text, body.strip()))
    return sections


@dataclass(frozen=True)
class TrainingSummary:
    train: int
    validation: int
    foreign: int
    sources: tuple[tuple[str, int], ...]  # (package, photos) most first
    licences: tuple[str, ...]


@dataclass(frozen=True)
class ProtocolScores:
    """One reference protocol's scores: how the reference is given (title, description) and per model (a row of
    metrics.json: "welsh", "exemplar", "gray"...) its mean scores."""

    key: str
    title: str
    description: str
    rows: dict[str, dict]


@dataclass(frozen=True)
class ReferenceScores:
    """The reference protocols' scores, REFERENCE_PROTOCOLS first; on which split and at what size."""

    protocols: tuple[ProtocolScores, ...]
    split: str | None = None
    max_side: int | None = None

    def for_model(self, model_name: str) -> tuple[ProtocolScores, ...]:
        """The protocols that scored `model_name`."""
        return tuple(protocol for protocol in self.protocols if model_name in protocol.rows)


def reference_scores_path() -> Path:
    return evaluation_dir() / REFERENCE_EVALUATION / "metrics.json"


def load_reference_scores(path: Path | None = None) -> ReferenceScores | None:
    """The reference protocols' scores (weights/evaluation/reference/metrics.json), or None when the file is
    missing, unreadable or holds no protocol (logged when unreadable). Protocols and rows that are not objects are
    left out."""
    data = _read_json(path or reference_scores_path())
    protocols = data.get("protocols") if isinstance(data, dict) else None
    if not isinstance(protocols, dict):
        return None
    order = [key for key in REFERENCE_PROTOCOLS if key in protocols] + sorted(set(protocols) - set(REFERENCE_PROTOCOLS))
    found = []
    for key in order:
        protocol = protocols[key]
        rows = protocol.get("rows") if isinstance(protocol, dict) else None
        if not isinstance(rows, dict):
            continue
        found.append(ProtocolScores(key, str(protocol.get("title") or key), str(protocol.get("description") or ""),
                                    {name: row for name, row in rows.items() if isinstance(row, dict)}))
    if not found:
        return None
    split, max_side = data.get("split"), data.get("max_side")
    return ReferenceScores(tuple(found), split if isinstance(split, str) else None,
                           max_side if isinstance(max_side, int) else None)


def training_summary(path: Path = MANIFEST_PATH) -> TrainingSummary | None:
    """Counts from datasets/manifest.csv (splits train, val, foreign; sources and licences of the first two), or
    None when it is missing."""
    if not path.is_file():
        return None
    with open(path, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("split") in ("train", "val", "foreign")]
    splits = Counter(row["split"] for row in rows)
    trained = [row for row in rows if row["split"] != "foreign"]
    sources = Counter(row.get("source_package", "") for row in trained)
    licences = sorted({row.get("licence", "").replace(" (package default)", "") for row in trained} - {""})
    return TrainingSummary(splits["train"], splits["val"], splits["foreign"], tuple(sources.most_common()), tuple(licences))
