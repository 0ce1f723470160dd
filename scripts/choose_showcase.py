"""Choose the home page's example by measurement, and write it to assets/showcase/: `make showcase`.

    .venv/bin/python scripts/choose_showcase.py [--side 720]

Every photo of the foreign split (packages never trained on, not in the reference library) is grayed and coloured
by every available model ("welsh" with the suggestion by content); each result is scored against the truth. The
example is the result with the largest PSNR gain over doing nothing among those at least MIN_COLOURFULNESS as
colourful as the truth (a lively result that is right, not a safe pale one). Written: before.jpg (gray),
after.jpg (the result), showcase.json (photo, source, licence, model, scores). The site serves these files as
they are, so showing the example never loads a model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers import registry  # noqa: E402
from colorizers.color import gray_rgb, rgb_to_lightness  # noqa: E402
from colorizers.metrics import colourfulness, psnr  # noqa: E402
from colorizers.training.dataset import read_manifest  # noqa: E402
from colorizers.training.evaluation import FOREIGN_SPLIT, validation_photos  # noqa: E402

OUT_DIR = REPO_ROOT / "assets" / "showcase"
MIN_COLOURFULNESS = 0.75


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=720)
    arguments = parser.parse_args(argv)
    rows = {row.file: row for row in read_manifest(REPO_ROOT / "datasets" / "manifest.csv")}
    models = [info.name for info in registry.available_models()]
    best = None
    for name, truth in validation_photos(max_side=arguments.side, split=FOREIGN_SPLIT):
        lightness = rgb_to_lightness(truth)
        gray_psnr, truth_cf = psnr(gray_rgb(lightness), truth), colourfulness(truth)
        for model in models:
            result = registry.colorize(lightness, model, reference="auto")
            gain, result_cf = psnr(result.rgb, truth) - gray_psnr, colourfulness(result.rgb)
            if result_cf >= MIN_COLOURFULNESS * truth_cf and (best is None or gain > best["gain"]):
                best = {"gain": gain, "photo": name, "model": model, "rgb": result.rgb, "lightness": lightness,
                        "psnr": psnr(result.rgb, truth), "gray_psnr": gray_psnr, "cf": result_cf, "truth_cf": truth_cf}
    if best is None:
        print("no result was colourful enough", file=sys.stderr)
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gray_rgb(best["lightness"])).save(OUT_DIR / "before.jpg", quality=90)
    Image.fromarray(best["rgb"]).save(OUT_DIR / "after.jpg", quality=90)
    row = rows[best["photo"]]
    record = {
        "photo": row.file, "title": Path(row.file.split("__", 1)[-1]).stem.replace("-", " ").replace("_", " ").title(),
        "source_package": row.source_package, "source_version": row.source_version, "licence": row.licence,
        "split": FOREIGN_SPLIT, "model": best["model"], "model_title": registry.model_info(best["model"]).title,
        "psnr": round(best["psnr"], 2), "gray_psnr": round(best["gray_psnr"], 2), "colourfulness": round(best["cf"], 1),
        "truth_colourfulness": round(best["truth_cf"], 1), "long_side": arguments.side,
        "chosen_by": "scripts/choose_showcase.py: the largest PSNR gain over gray on the foreign split among results "
                     f"at least {MIN_COLOURFULNESS:.0%} as colourful as the truth",
    }
    (OUT_DIR / "showcase.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
