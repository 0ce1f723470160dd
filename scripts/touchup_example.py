"""The README's touch-up example (docs/touchup-before-after.png): a gallery photo in gray, coloured by a model, then
fixed with a few brush strokes (`colorizers.touch_up`). Three panels: the model's result, the strokes drawn on it,
and the touched-up result. Strokes are given in fractions of the photo's width and height, so any size works.

    .venv/bin/python scripts/touchup_example.py [--photo red-flowers] [--model cnn] [--out docs/touchup-before-after.png]
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from colorizers import Stroke, colorize, draw_strokes, touch_up  # noqa: E402
from colorizers.color import rgb_to_lightness  # noqa: E402
from colorizers.references import load_gallery_photo  # noqa: E402

log = logging.getLogger("touchup_example")

PETAL_RED = (200, 35, 20)
PISTIL_YELLOW = (240, 185, 40)
# For the marigold of "red-flowers": the model leaves its petals gray-brown; five red strokes and two yellow ones.
STROKES = [
    (PETAL_RED, [(0.40, 0.51), (0.525, 0.49)]),
    (PETAL_RED, [(0.475, 0.74), (0.575, 0.69)]),
    (PETAL_RED, [(0.675, 0.60), (0.775, 0.68), (0.75, 0.74)]),
    (PETAL_RED, [(0.8625, 0.46), (0.975, 0.43)]),
    (PETAL_RED, [(0.775, 0.84), (0.85, 0.88)]),
    (PISTIL_YELLOW, [(0.6625, 0.34), (0.70, 0.46)]),
    (PISTIL_YELLOW, [(0.75, 0.30), (0.7875, 0.44)]),
]
BRUSH_SHARE = 0.012  # the brush's diameter, as a share of the long side
LONG_SIDE = 1024


def strokes_for(size: tuple[int, int]) -> list[Stroke]:
    height, width = size
    brush = BRUSH_SHARE * max(height, width)
    return [Stroke(tuple((x * width, y * height) for x, y in points), colour, brush) for colour, points in STROKES]


def panel(rgb: np.ndarray, caption: str, width: int) -> Image.Image:
    image = Image.fromarray(rgb)
    image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    framed = Image.new("RGB", (image.width, image.height + 28), "white")
    framed.paste(image, (0, 28))
    ImageDraw.Draw(framed).text((6, 7), caption, fill=(30, 30, 30))
    return framed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="red-flowers", help="a gallery photo's name (assets/gallery)")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--out", type=Path, default=Path("docs/touchup-before-after.png"))
    parser.add_argument("--panel-width", type=int, default=520)
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    photo = Image.fromarray(load_gallery_photo(arguments.photo))
    photo.thumbnail((LONG_SIDE, LONG_SIDE), Image.LANCZOS)
    lightness = rgb_to_lightness(np.asarray(photo))  # the photo in gray: only its lightness is used
    result = colorize(lightness, arguments.model)
    hints = draw_strokes(strokes_for(lightness.shape), lightness.shape)
    started = time.perf_counter()
    touched = touch_up(result, hints)
    log.info("touch-up of %dx%d with %d strokes: %.2f s", lightness.shape[1], lightness.shape[0], len(STROKES),
             time.perf_counter() - started)
    opaque = hints[..., 3:] >= 128
    with_strokes = np.where(opaque, hints[..., :3], result.rgb)
    panels = [panel(result.rgb, f"{result.model}: the model's colours", arguments.panel_width),
              panel(with_strokes, f"{len(STROKES)} brush strokes", arguments.panel_width),
              panel(touched.rgb, "touched up (Levin et al. 2004)", arguments.panel_width)]
    sheet = Image.new("RGB", (sum(p.width for p in panels) + 8 * (len(panels) - 1), panels[0].height), "white")
    for index, image in enumerate(panels):
        sheet.paste(image, (index * (image.width + 8), 0))
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(arguments.out, optimize=True)
    log.info("wrote %s", arguments.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
