"""Full-resolution work runs in bands of rows (color.BAND_PIXELS): the same results as on the whole photo, and
float temporaries bounded by the band, not the photo (scripts/bench_memory.py measures the whole server path)."""
from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from colorizers import color, welsh
from colorizers.color import merge_chroma, resize_plane, resize_plane_rows, rgb_to_lightness, row_bands
from colorizers.decode import decode_image, encode_png

WHOLE = 1 << 40  # a band larger than any test photo: the whole-image computation


@pytest.fixture
def bands(monkeypatch):
    """Set color.BAND_PIXELS for the test: bands(n) makes bands of about n pixels."""
    return lambda pixels: monkeypatch.setattr(color, "BAND_PIXELS", pixels)


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def test_row_bands_cover_every_row_once():
    for height, width, pixels in [(100, 7, 50), (5, 1000, 10), (1, 1, 1), (33, 4, 1 << 20)]:
        slices = row_bands(height, width, pixels)
        assert slices[0].start == 0 and slices[-1].stop == height
        assert all(first.stop == second.start for first, second in zip(slices, slices[1:]))
        assert all((part.stop - part.start) * width <= max(pixels, width) for part in slices)
    assert len(row_bands(100, 7, 50)) == 15  # 7 rows (49 pixels) a band


@pytest.mark.parametrize("source, target", [((56, 56), (203, 157)), ((112, 80), (90, 301)), ((40, 30), (40, 30))])
def test_resize_rows_are_the_rows_of_the_whole_resize(source, target):
    plane = np.random.default_rng(0).uniform(-80.0, 80.0, (*source, 2)).astype(np.float32)
    whole = resize_plane(plane, target)
    parts = np.concatenate([resize_plane_rows(plane, target, rows) for rows in row_bands(*target, 500)])
    assert parts.shape == whole.shape and parts.dtype == np.float32
    # PIL takes the band's box edges as float32: a difference of a few thousandths of a chroma unit.
    np.testing.assert_allclose(parts, whole, atol=5e-3)


@pytest.mark.parametrize("chroma_shape", [(56, 56), (13, 200), (97, 61)])
@pytest.mark.parametrize("strength", [1.0, 0.6, 1.5])
def test_merge_chroma_in_bands_equals_the_whole_image(bands, chroma_shape, strength):
    rng = np.random.default_rng(1)
    lightness = rng.uniform(5.0, 95.0, (97, 61)).astype(np.float32)
    chroma = rng.uniform(-60.0, 60.0, (*chroma_shape, 2)).astype(np.float32)
    bands(WHOLE)
    whole = merge_chroma(lightness, chroma, strength)
    bands(200)  # 3 rows a band
    banded = merge_chroma(lightness, chroma, strength)
    assert banded.dtype == np.uint8 and banded.shape == whole.shape
    assert np.abs(banded.astype(int) - whole.astype(int)).max() <= 1
    assert np.mean(banded != whole) < 1e-3
    if chroma_shape == lightness.shape:  # nothing to resize: exactly the same
        assert np.array_equal(banded, whole)


def decode_cases() -> dict[str, bytes]:
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (53, 41, 3), dtype=np.uint8)
    rgb[:20] = rgb[:20, :, :1]  # a gray top: some pixels without colour
    gray = rng.integers(0, 256, (53, 41), dtype=np.uint8)
    alpha = rng.integers(0, 256, (53, 41), dtype=np.uint8)
    return {
        "L": encode(Image.fromarray(gray)),
        "L with transparency": encode(Image.fromarray(gray), transparency=7),
        "RGB": encode(Image.fromarray(rgb)),
        "RGBA": encode(Image.fromarray(np.dstack([rgb, alpha]))),
        "P with transparency": encode(Image.fromarray(rgb).quantize(32), transparency=3),
        "CMYK": encode(Image.fromarray(rgb).convert("CMYK"), "TIFF"),
        "I;16": encode(Image.fromarray(rng.integers(0, 65536, (53, 41)).astype(np.uint16)), "TIFF"),
        "F": encode(Image.fromarray(rng.normal(0.0, 3.0, (53, 41)).astype(np.float32)), "TIFF"),
        "JPEG": encode(Image.fromarray(rgb), "JPEG"),
    }


@pytest.mark.parametrize("name", list(decode_cases()))
def test_decoding_in_bands_equals_the_whole_image(bands, name):
    data = decode_cases()[name]
    bands(WHOLE)
    whole = decode_image(data)
    bands(100)  # 2 rows a band
    banded = decode_image(data)
    assert np.array_equal(banded.rgb, whole.rgb)
    assert np.array_equal(banded.lightness, whole.lightness)
    assert banded.was_color == whole.was_color


def test_decoded_lightness_is_the_lightness_of_the_decoded_colours():
    """8-bit bands go through rgb_to_lightness's uint8 table: the same floats as from [0, 1] values."""
    decoded = decode_image(decode_cases()["RGB"])
    expected = rgb_to_lightness(decoded.rgb.astype(np.float32) / 255.0)
    assert np.array_equal(decoded.lightness, expected)
    gray = decode_image(decode_cases()["L"])
    assert np.array_equal(gray.lightness, rgb_to_lightness(gray.rgb.astype(np.float32) / 255.0))


@pytest.mark.parametrize("shape", [(37, 53, 3), (37, 53), (20, 9, 4), (1, 1, 3)])
@pytest.mark.parametrize("band_pixels", [1, 100, WHOLE])
def test_encode_png_in_bands_round_trips(bands, shape, band_pixels):
    pixels = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    bands(band_pixels)
    with Image.open(io.BytesIO(encode_png(pixels))) as image:
        assert image.format == "PNG"
        assert np.array_equal(np.asarray(image), pixels)


def welsh_target(levels: str) -> np.ndarray:
    rng = np.random.default_rng(4)
    rows, columns = np.mgrid[0:80, 0:70]
    if levels == "8-bit":
        gray = np.clip(rows * 2.0 + columns + rng.normal(0.0, 9.0, rows.shape), 0, 255).astype(np.uint8)
        return rgb_to_lightness(np.repeat(gray[..., None], 3, axis=-1))
    return rng.uniform(0.0, 100.0, rows.shape).astype(np.float32)  # over 4096 values: the k-d tree path


@pytest.mark.parametrize("levels", ["8-bit", "continuous"])
def test_welsh_in_bands_equals_the_whole_image(bands, levels):
    target = welsh_target(levels)
    reference = np.random.default_rng(5).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    bands(WHOLE)
    whole = (
        welsh.local_deviation(target),
        welsh.transfer_chroma(target, reference),
        welsh.transfer_chroma(target, [reference, reference[::-1]], samples=60, seed=2),
        welsh.colorize(target, reference),
    )
    found = welsh.lightness_levels(target.ravel())
    bands(150)  # 3 rows a band, 150 pixels a part
    banded = (
        welsh.local_deviation(target),
        welsh.transfer_chroma(target, reference),
        welsh.transfer_chroma(target, [reference, reference[::-1]], samples=60, seed=2),
        welsh.colorize(target, reference),
    )
    for first, second in zip(whole, banded):
        assert first.dtype == second.dtype and np.array_equal(first, second)
    banded_found = welsh.lightness_levels(target.ravel())
    assert (found is None) == (banded_found is None) == (levels == "continuous")
    if found is not None:
        assert all(np.array_equal(first, second) for first, second in zip(found, banded_found))
    assert welsh.lightness_levels(target.ravel(), max_levels=10) is None  # found too many, part by part


def numpy_peak(function) -> int:
    """Peak bytes (NumPy arrays and Python objects; not PIL's own buffers) that `function` allocates."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bytes_per_extra_pixel(step, small, large) -> float:
    """How a step's peak allocation grows with the photo: (peak on `large` - peak on `small`) per extra pixel.

    The band temporaries and the fixed costs (look-up tables, models) cancel out; what is left is what the step
    holds at full resolution."""
    return (numpy_peak(lambda: step(large)) - numpy_peak(lambda: step(small))) / (large.size - small.size)


def test_full_resolution_steps_hold_only_their_results(bands):
    """Each step of the server path, per pixel of the photo: its full-size results and a little more, with bands
    of 16K pixels. Before banding, merging alone held over 60 bytes a pixel (float copies of the whole photo)."""
    bands(1 << 14)
    rows, columns = np.mgrid[0:1000, 0:1500]
    noise = np.random.default_rng(6).normal(0, 6, rows.shape)
    gray = np.clip(60 + 0.08 * rows + 0.05 * columns + noise, 0, 255).astype(np.uint8)
    small, large = gray[:250], gray  # 0.375 and 1.5 MP
    reference = np.random.default_rng(7).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    chroma = np.random.default_rng(8).uniform(-40, 40, (56, 56, 2)).astype(np.float32)
    lightness = {id(image): decode_image(encode_png(image)).lightness for image in (small, large)}

    def decode(image):
        return decode_image(encode_png(image))

    def merge(image):
        return merge_chroma(lightness[id(image)], chroma, 0.8)

    def merge_full_size(image):
        return merge_chroma(lightness[id(image)], np.full((*image.shape, 2), 20.0, np.float32))

    def transfer(image):
        return welsh.transfer_chroma(lightness[id(image)], reference)

    def encode_colour(image):
        return encode_png(np.repeat(image[..., None], 3, axis=-1))

    # Results: the PNG (about 1 byte a pixel here), rgb (3) and lightness (4); PIL's own pixels are not traced.
    assert bytes_per_extra_pixel(decode, small, large) < 1.5 + 3 + 4 + 1
    # Result: rgb (3); the full-size chroma (8) is made by the step itself here.
    assert bytes_per_extra_pixel(merge, small, large) < 3 + 1
    assert bytes_per_extra_pixel(merge_full_size, small, large) < 8 + 3 + 1
    # Result: chroma (8); on the way each pixel's level and nearest sample (4 each).
    assert bytes_per_extra_pixel(transfer, small, large) < 8 + 8 + 1
    # Result: the colour input (3) and the file (about 1 byte a pixel here), nothing of the photo's size more.
    assert bytes_per_extra_pixel(encode_colour, small, large) < 3 + 1.5 + 1
