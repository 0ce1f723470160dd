"""Tests for colorizers.training.dataset: split, rcc WebP cutter, licences and the manifest writer."""
import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from colorizers.training.dataset import (
    MANIFEST_COLUMNS,
    ManifestRow,
    assign_split,
    find_webp_blobs,
    licence_for_path,
    parse_debian_copyright,
    read_gallery_list,
    read_manifest,
    read_people_list,
    write_manifest,
)


def fake_hash(index: int) -> str:
    return hashlib.sha256(f"image-{index}".encode()).hexdigest()


def webp_bytes(colour: tuple[int, int, int], size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="WEBP")
    return buffer.getvalue()


def test_split_is_deterministic():
    hashes = [fake_hash(index) for index in range(200)]
    assert [assign_split(h) for h in hashes] == [assign_split(h) for h in reversed(hashes)][::-1]
    assert assign_split(hashes[0].upper()) == assign_split(hashes[0])


def test_split_gives_about_fifteen_percent_val():
    splits = [assign_split(fake_hash(index)) for index in range(5000)]
    assert set(splits) == {"train", "val"}
    assert 0.13 < splits.count("val") / len(splits) < 0.17


def test_rcc_cutter_finds_two_webp_blobs():
    first, second = webp_bytes((255, 0, 0)), webp_bytes((0, 0, 255), size=24)
    bundle = b"qres\x00junk RIFF without webp" + first + b"\x00" * 7 + second + b"RIFF\xff\xff\xff\x7fWEBP"
    blobs = find_webp_blobs(bundle)
    assert [blob for _, blob in blobs] == [first, second]
    assert bundle[blobs[0][0] : blobs[0][0] + len(first)] == first
    for _, blob in blobs:
        with Image.open(io.BytesIO(blob)) as image:
            assert image.format == "WEBP"
    assert np.asarray(Image.open(io.BytesIO(blobs[1][1])).convert("RGB"))[0, 0, 2] > 200


def test_manifest_writer_sorts_rows_and_writes_header(tmp_path):
    def row(name: str, split: str) -> ManifestRow:
        return ManifestRow(name, fake_hash(len(name)), "pkg", "1.0-1", "CC-BY-4.0", 640, 480, split, "photo: x, y")

    rows = [row("zebra.jpg", "train"), row("apple.jpg", "val"), row("mango.webp", "rejected")]
    path = tmp_path / "manifest.csv"
    write_manifest(rows, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(MANIFEST_COLUMNS)
    assert lines[0] == "file,sha256,source_package,source_version,licence,width,height,split,reason"
    assert [line.split(",")[0] for line in lines[1:]] == ["apple.jpg", "mango.webp", "zebra.jpg"]
    assert read_manifest(path) == sorted(rows, key=lambda r: r.file)
    first_bytes = path.read_bytes()
    write_manifest(list(reversed(rows)), path)
    assert path.read_bytes() == first_bytes


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: someone
License: GPL-3+

Files: src/activities/erase/resource/*
Copyright: various
License: public-domain

Files: src/activities/erase/resource/cat1.jpg
Copyright: a photographer
License: CC-BY-SA-3.0
"""


def test_licence_lookup_prefers_the_most_specific_stanza():
    stanzas = parse_debian_copyright(COPYRIGHT)
    assert licence_for_path(stanzas, "src/activities/erase/resource/cat1.webp", anchored=True) == "CC-BY-SA-3.0"
    assert licence_for_path(stanzas, "src/activities/erase/resource/dog.webp", anchored=True) == "public-domain"
    assert licence_for_path(stanzas, "src/activities/lang/apple.webp", anchored=True) == "GPL-3+"


def test_wordpress_readme_gives_each_image_its_title_licence_and_source(monkeypatch):
    import importlib.util
    import sys

    from colorizers import settings

    spec = importlib.util.spec_from_file_location("fetch_data", settings.REPO_ROOT / "scripts" / "fetch_data.py")
    fetch_data = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fetch_data", fetch_data)  # its dataclasses look their module up there
    spec.loader.exec_module(fetch_data)
    readme = (
        "=== Images ===\n\nNorthern Buttercups.\nFree public domain CC0 image.\nnorthern-buttercups-flowers.webp\n"
        "https://example.org/1\n\nWoman wearing a nurse's cap.\nnurse.webp\nFree public domain CC0 image.\n"
        "https://example.org/2\n\nBotany flowers.\nFree public domain CC0 image.\nbotany-flowers.webp\n"
        "botany-flowers-closeup.webp\nhttps://example.org/3\n\nEvening Breeze by Asahachi Kono.\n"
        "Free public domain CC0 image.\nlink-in-bio-image\nhttps://example.org/4\n"
    )
    images = fetch_data.readme_images(readme)
    assert images["nurse.webp"] == {"title": "Woman wearing a nurse's cap", "licence": "CC0-1.0 (theme readme.txt)",
                                    "source_url": "https://example.org/2"}
    assert images["botany-flowers-closeup.webp"]["title"] == images["botany-flowers.webp"]["title"] == "Botany flowers"
    assert images["link-in-bio-image.webp"]["title"] == "Evening Breeze by Asahachi Kono"
    assert images["northern-buttercups-flowers.webp"]["source_url"] == "https://example.org/1"


def test_people_list_reads_faces_as_boxes(tmp_path):
    listed = tmp_path / "people.txt"
    listed.write_text("# comment\n\na.jpg | 1,2,3,4; 5,6,7,8\nb.webp |\n")
    assert read_people_list(listed) == {"a.jpg": ((1, 2, 3, 4), (5, 6, 7, 8)), "b.webp": ()}
    listed.write_text("a.jpg | 1,2,3\n")
    with pytest.raises(ValueError, match="x,y,w,h"):
        read_people_list(listed)


def test_people_and_gallery_photos_are_training_photos_and_faces_lie_inside_them():
    from colorizers import settings

    rows = {row.file: row for row in read_manifest(settings.REPO_ROOT / "datasets" / "manifest.csv")}
    people = read_people_list(settings.REPO_ROOT / "datasets" / "people.txt")
    gallery = read_gallery_list(settings.REPO_ROOT / "datasets" / "gallery.txt")
    assert sum(len(faces) for faces in people.values()) >= 5 and len(gallery) == len({name for name, _, _ in gallery})
    assert {rows[photo].split for photo in [*people, *(photo for _, photo, _ in gallery)]} == {"train"}
    for photo, faces in people.items():
        assert all(x >= 0 and y >= 0 and x + w <= rows[photo].width and y + h <= rows[photo].height
                   for x, y, w, h in faces), photo
