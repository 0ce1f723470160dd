"""Shrink the manifest's photos into a small folder that can travel to an accelerator machine.

    python scripts/pack_photos.py --side 512 --out .gpu_data/photos

Same file names as data/photos (so `split_files(..., photos_dir=OUT)` finds them), long side at most --side,
re-encoded at high quality in the file's own format.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from colorizers.training.data import load_photo, split_files  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--quality", type=int, default=92)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    paths = split_files("train") + split_files("val") + split_files("foreign")
    for path in paths:
        Image.fromarray(load_photo(path, arguments.side)).save(arguments.out / path.name, quality=arguments.quality)
    total = sum(file.stat().st_size for file in arguments.out.iterdir())
    print(f"{len(paths)} photos, {total / 1e6:.1f} MB in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
