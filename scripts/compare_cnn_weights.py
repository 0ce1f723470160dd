"""Score CNN weight files side by side on the held-out splits, with the cast, and draw a before/after sheet.

    .venv/bin/python scripts/compare_cnn_weights.py before=OLD.weights.h5 after=weights/cnn.weights.h5 \
        --sheet docs/cnn_cast_before_after.png

Each weights file is read with its sidecar (`<name>.json`: temperature). Scores are at model size (224x224), as
the trainer scores them: PSNR, colourfulness CF, colourfulness gap dCF, and the cast (mean predicted a/b where
the truth is neutral). The sheet shows the first foreign photos: gray, each file's result, the truth.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers.cnn import INPUT_SIZE  # noqa: E402
from colorizers.training.cnn_model import KerasCNN  # noqa: E402
from colorizers.color import gray_rgb, merge_chroma, rgb_to_lightness  # noqa: E402
from colorizers.training.data import split_files  # noqa: E402
from colorizers.training.evaluation import SheetRow, contact_sheet  # noqa: E402
from colorizers.training.loop import gray_baseline, score_chroma, validation_views  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", metavar="LABEL=PATH")
    parser.add_argument("--sheet", type=Path, default=None, help="write a contact sheet of the foreign photos")
    parser.add_argument("--sheet-rows", type=int, default=8)
    arguments = parser.parse_args(argv)
    models = {label: KerasCNN(Path(path)) for label, path in (item.split("=", 1) for item in arguments.weights)}
    for split in ("foreign", "val"):
        views = validation_views(split_files(split), INPUT_SIZE)
        rows = {"gray": gray_baseline(views)}
        chromas = {}
        for label, model in models.items():
            chromas[label] = [model.predict_chroma(rgb_to_lightness(view))[0] for view in views]
            rows[label] = score_chroma(views, chromas[label])
        print(f"\n{split} ({len(views)} photos, {INPUT_SIZE} px)\n| model | PSNR dB | CF | dCF | cast a | cast b |\n|---|---:|---:|---:|---:|---:|")
        for label, scores in rows.items():
            print(f"| {label} | {scores['psnr']:.2f} | {scores['cf']:.1f} | {scores['dcf']:.1f} "
                  f"| {scores['cast_a']:+.2f} | {scores['cast_b']:+.2f} |")
        if split == "foreign" and arguments.sheet:
            sheet_rows = []
            for index, view in enumerate(views[: arguments.sheet_rows]):
                lightness = rgb_to_lightness(view)
                images = {"gray": gray_rgb(lightness)}
                images.update({label: merge_chroma(lightness, chromas[label][index]) for label in models})
                images["truth"] = view
                sheet_rows.append(SheetRow(f"{index}", images))
            arguments.sheet.parent.mkdir(parents=True, exist_ok=True)
            contact_sheet(sheet_rows, ["gray", *models, "truth"], thumb_height=160).save(arguments.sheet)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
