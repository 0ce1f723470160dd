"""colorizers.decode: every mode and format decodes to the right shapes and values; bad uploads are refused."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from colorizers.color import rgb_to_lightness
from colorizers.decode import DecodedImage, decode_image, encode_png, has_color
from colorizers.errors import ImageTooLargeError, ImageTooSmallError, InvalidImageError

HEIGHT, WIDTH = 24, 32


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def gradient_rgb(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """A smooth colour ramp: red across, green down, blue constant."""
    rows, columns = np.mgrid[0:height, 0:width]
    return np.stack(
        [columns * 255 // (width - 1), rows * 255 // (height - 1), np.full_like(rows, 90)], axis=-1
    ).astype(np.uint8)


def gray_ramp(height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    return (np.arange(height * width) * 255 // (height * width - 1)).reshape(height, width).astype(np.uint8)


def assert_decoded(decoded: DecodedImage, height: int = HEIGHT, width: int = WIDTH) -> None:
    assert isinstance(decoded, DecodedImage)
    assert decoded.rgb.shape == (height, width, 3) and decoded.rgb.dtype == np.uint8
    assert decoded.lightness.shape == (height, width) and decoded.lightness.dtype == np.float32
    assert decoded.size == (height, width)
    assert 0.0 <= decoded.lightness.min() and decoded.lightness.max() <= 100.0


# --- modes ---------------------------------------------------------------------------------------------------


def test_mode_1_decodes_to_black_and_white():
    bits = np.zeros((HEIGHT, WIDTH), dtype=bool)
    bits[:, WIDTH // 2 :] = True
    decoded = decode_image(encode(Image.fromarray(bits), "PNG"))
    assert_decoded(decoded)
    assert decoded.mode == "1"
    assert (decoded.rgb[:, : WIDTH // 2] == 0).all() and (decoded.rgb[:, WIDTH // 2 :] == 255).all()
    assert decoded.lightness[0, 0] == pytest.approx(0.0, abs=1e-4)
    assert decoded.lightness[0, -1] == pytest.approx(100.0, abs=1e-3)
    assert not decoded.was_color


def test_mode_l_keeps_gray_values():
    gray = gray_ramp()
    decoded = decode_image(encode(Image.fromarray(gray), "PNG"))
    assert_decoded(decoded)
    assert decoded.mode == "L"
    assert np.array_equal(decoded.rgb, np.repeat(gray[..., None], 3, axis=-1))
    np.testing.assert_allclose(decoded.lightness, rgb_to_lightness(decoded.rgb), atol=1e-4)
    assert not decoded.was_color


def test_mode_la_flattens_onto_white():
    gray = np.full((HEIGHT, WIDTH), 40, dtype=np.uint8)
    alpha = np.full((HEIGHT, WIDTH), 255, dtype=np.uint8)
    alpha[:, : WIDTH // 2] = 0  # left half transparent
    alpha[0, -1] = 128  # one half-transparent pixel
    decoded = decode_image(encode(Image.fromarray(np.stack([gray, alpha], axis=-1), "LA"), "PNG"))
    assert_decoded(decoded)
    assert (decoded.rgb[:, : WIDTH // 2] == 255).all()
    assert (decoded.rgb[1:, WIDTH // 2 :] == 40).all()
    assert 140 <= int(decoded.rgb[0, -1, 0]) <= 150  # 40 * 128/255 + 255 * 127/255
    assert decoded.lightness[:, 0] == pytest.approx(100.0, abs=1e-3)


def test_mode_p_without_transparency():
    colour = gradient_rgb()
    palette_image = Image.fromarray(colour).quantize(colors=64)
    assert palette_image.mode == "P"
    decoded = decode_image(encode(palette_image, "PNG"))
    assert_decoded(decoded)
    assert decoded.mode == "P"
    assert np.array_equal(decoded.rgb, np.asarray(palette_image.convert("RGB")))
    assert decoded.was_color


def test_mode_p_with_transparency_flattens_onto_white():
    indices = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    indices[:, WIDTH // 2 :] = 1
    palette_image = Image.fromarray(indices, "P")
    palette_image.putpalette([200, 0, 0, 0, 0, 200] + [0] * (3 * 254))
    data = encode(palette_image, "PNG", transparency=0)  # index 0 (red) transparent
    decoded = decode_image(data)
    assert_decoded(decoded)
    assert (decoded.rgb[:, : WIDTH // 2] == 255).all()
    assert (decoded.rgb[:, WIDTH // 2 :] == [0, 0, 200]).all()


def test_mode_rgb_keeps_colours():
    colour = gradient_rgb()
    decoded = decode_image(encode(Image.fromarray(colour), "PNG"))
    assert_decoded(decoded)
    assert decoded.mode == "RGB"
    assert np.array_equal(decoded.rgb, colour)
    np.testing.assert_allclose(decoded.lightness, rgb_to_lightness(colour), atol=1e-3)
    assert decoded.was_color


def test_mode_rgba_flattens_onto_white():
    rgba = np.zeros((HEIGHT, WIDTH, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[: HEIGHT // 2, :, 3] = 0  # top half fully transparent (its colour must not show)
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert_decoded(decoded)
    assert (decoded.rgb[: HEIGHT // 2] == 255).all()
    assert (decoded.rgb[HEIGHT // 2 :] == [200, 0, 0]).all()


def test_mode_cmyk():
    colour = gradient_rgb()
    cmyk = Image.fromarray(colour).convert("CMYK")
    decoded = decode_image(encode(cmyk, "TIFF"))
    assert_decoded(decoded)
    assert decoded.mode == "CMYK"
    assert np.array_equal(decoded.rgb, np.asarray(cmyk.convert("RGB")))
    assert decoded.was_color


@pytest.mark.parametrize("image_format", ["PNG", "TIFF"])
def test_mode_i16_keeps_sixteen_bit_precision(image_format):
    values = np.full((HEIGHT, WIDTH), 30000, dtype=np.uint16)
    values[:, WIDTH // 2 :] = 30001  # one 16-bit step: the same 8-bit value
    values[0, 0], values[0, 1] = 0, 65535
    decoded = decode_image(encode(Image.fromarray(values), image_format))
    assert_decoded(decoded)
    assert decoded.mode.startswith("I;16")
    left, right = decoded.lightness[5, 0], decoded.lightness[5, -1]
    assert right > left, "a 16-bit step must survive decoding"
    expected = rgb_to_lightness(np.full((1, 1, 3), 30000 / 65535, dtype=np.float32))[0, 0]
    assert left == pytest.approx(expected, abs=1e-4)
    assert decoded.lightness[0, 0] == pytest.approx(0.0, abs=1e-4)
    assert decoded.lightness[0, 1] == pytest.approx(100.0, abs=1e-3)
    assert decoded.rgb[5, 0, 0] == round(30000 / 65535 * 255)
    assert not decoded.was_color


def test_mode_i_thirty_two_bit():
    values = np.zeros((HEIGHT, WIDTH), dtype=np.int32)
    values[:, WIDTH // 2 :] = 2147483647
    values[0, 0] = 2147483647 // 2
    decoded = decode_image(encode(Image.fromarray(values), "TIFF"))
    assert_decoded(decoded)
    assert decoded.mode == "I"
    assert (decoded.rgb[1:, : WIDTH // 2] == 0).all() and (decoded.rgb[:, WIDTH // 2 :] == 255).all()
    assert decoded.rgb[0, 0, 0] in (127, 128)


def test_mode_f_float_tiff():
    values = np.tile(np.linspace(0.0, 1.0, WIDTH, dtype=np.float32), (HEIGHT, 1))
    decoded = decode_image(encode(Image.fromarray(values), "TIFF"))
    assert_decoded(decoded)
    assert decoded.mode == "F"
    assert decoded.lightness[0, 0] == pytest.approx(0.0, abs=1e-4)
    assert decoded.lightness[0, -1] == pytest.approx(100.0, abs=1e-3)
    assert np.all(np.diff(decoded.lightness[0]) > 0)
    middle = rgb_to_lightness(np.full((1, 1, 3), values[0, 10], dtype=np.float32))[0, 0]
    assert decoded.lightness[3, 10] == pytest.approx(middle, abs=1e-4)


# --- formats -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image_format, tolerance",
    [("PNG", 0), ("BMP", 0), ("TIFF", 0), ("WEBP", None), ("JPEG", None)],
)
def test_formats_decode_rgb(image_format, tolerance):
    colour = gradient_rgb()
    options = {"lossless": True} if image_format == "WEBP" else {}
    if image_format == "JPEG":
        options = {"quality": 95}
    decoded = decode_image(encode(Image.fromarray(colour), image_format, **options))
    assert_decoded(decoded)
    assert decoded.format == image_format
    error = np.abs(decoded.rgb.astype(int) - colour.astype(int))
    assert error.max() <= (tolerance if tolerance is not None else 24)
    assert decoded.was_color


def test_gif_takes_the_first_frame():
    first = Image.fromarray(np.full((HEIGHT, WIDTH), 30, dtype=np.uint8)).convert("P")
    second = Image.fromarray(np.full((HEIGHT, WIDTH), 220, dtype=np.uint8)).convert("P")
    data = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    decoded = decode_image(data)
    assert_decoded(decoded)
    assert decoded.format == "GIF"
    assert (decoded.rgb == 30).all()


def test_multipage_tiff_takes_the_first_page():
    first = Image.fromarray(np.full((HEIGHT, WIDTH), 30, dtype=np.uint8))
    second = Image.fromarray(np.full((HEIGHT + 8, WIDTH + 8), 220, dtype=np.uint8))
    data = encode(first, "TIFF", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    decoded = decode_image(data)
    assert_decoded(decoded)
    assert (decoded.rgb == 30).all()


def test_exif_orientation_is_applied():
    stored = np.full((20, 40, 3), 128, dtype=np.uint8)  # stored 40 wide, 20 tall
    stored[:6, :6] = [255, 0, 0]  # red mark in the stored top-left corner
    image = Image.fromarray(stored)
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    decoded = decode_image(encode(image, "JPEG", quality=95, exif=exif))
    assert decoded.size == (40, 20)
    corners = {
        "top-left": decoded.rgb[:4, :4],
        "top-right": decoded.rgb[:4, -4:],
        "bottom-left": decoded.rgb[-4:, :4],
        "bottom-right": decoded.rgb[-4:, -4:],
    }
    red = {name: bool(patch[..., 0].mean() > 200 and patch[..., 1].mean() < 60) for name, patch in corners.items()}
    assert red == {"top-left": False, "top-right": True, "bottom-left": False, "bottom-right": False}


def test_grayscale_saved_as_rgb_jpeg_is_not_colour():
    rows, columns = np.mgrid[0:64, 0:64]
    gray = ((rows * 3 + columns * 2) % 256).astype(np.uint8)
    gray[20:40, 20:40] = (gray[20:40, 20:40] // 64) * 64  # some hard edges for JPEG ringing
    data = encode(Image.fromarray(np.repeat(gray[..., None], 3, axis=-1)), "JPEG", quality=85)
    decoded = decode_image(data)
    assert decoded.mode == "RGB"
    assert not decoded.was_color


def test_colour_photo_is_colour():
    data = encode(Image.fromarray(gradient_rgb(64, 64)), "JPEG", quality=85)
    assert decode_image(data).was_color


def test_has_color_accepts_uint8_and_float():
    colour = gradient_rgb()
    assert has_color(colour) and has_color(colour.astype(np.float32) / 255.0)
    gray = np.repeat(gray_ramp()[..., None], 3, axis=-1)
    assert not has_color(gray)


def test_encode_png_round_trip():
    colour = gradient_rgb()
    assert np.array_equal(decode_image(encode_png(colour)).rgb, colour)


# --- refusals ------------------------------------------------------------------------------------------------


def test_empty_bytes_are_refused():
    with pytest.raises(InvalidImageError, match="empty"):
        decode_image(b"")


def test_text_is_refused():
    with pytest.raises(InvalidImageError, match="not an image"):
        decode_image(b"Hello, this is a text file and not a photo.\n" * 20)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_truncated_files_are_refused(image_format):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # incompressible
    data = encode(Image.fromarray(noise), image_format)
    with pytest.raises(InvalidImageError, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2])


def test_too_many_pixels_is_refused_before_decoding():
    noise = np.random.default_rng(0).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    data = encode(Image.fromarray(noise), "PNG")
    # The header alone is intact: if the pixels were decoded first, this would fail as truncated instead.
    header_only = data[:200]
    with pytest.raises(ImageTooLargeError, match="100x100"):
        decode_image(header_only, max_pixels=5000)
    with pytest.raises(ImageTooLargeError):
        decode_image(data, max_pixels=9999)
    assert decode_image(data, max_pixels=10000).size == (100, 100)


def test_too_many_bytes_is_refused():
    data = encode(Image.fromarray(gradient_rgb()), "PNG")
    with pytest.raises(ImageTooLargeError, match="limit"):
        decode_image(data, max_bytes=len(data) - 1)
    assert decode_image(data, max_bytes=len(data)).size == (HEIGHT, WIDTH)


@pytest.mark.parametrize("shape", [(7, 40), (40, 7)])
def test_too_small_is_refused(shape):
    data = encode(Image.fromarray(np.zeros(shape, dtype=np.uint8)), "PNG")
    with pytest.raises(ImageTooSmallError, match="at least 8"):
        decode_image(data, min_side=8)


def test_refusals_share_one_base_class():
    assert issubclass(ImageTooLargeError, InvalidImageError)
    assert issubclass(ImageTooSmallError, InvalidImageError)


def test_the_default_size_limit_is_the_50_mb_the_readme_promises():
    from colorizers import settings
    from colorizers.decode import decode_image
    from colorizers.errors import ImageTooLargeError

    assert "50 MB" in (settings.REPO_ROOT / "README.md").read_text()
    with pytest.raises(ImageTooLargeError, match=r"The file is 50\.1 MB; the limit is 50 MB\."):
        decode_image(b"\0" * 50_100_000)


def test_a_damaged_header_gets_a_message_without_pillows_own_words():
    with pytest.raises(InvalidImageError) as raised:
        decode_image(b"BM" + b"\0" * 60)  # a BMP whose header Pillow rejects with its own text
    assert str(raised.value) == "This file looks like an image but its header is damaged, so it cannot be read."


def test_a_gray_photo_stored_as_rgb_takes_the_fast_path_to_the_same_lightness():
    gray = np.random.default_rng(4).integers(0, 256, (37, 53), dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    decoded = decode_image(buffer.getvalue())
    assert np.array_equal(decoded.lightness, rgb_to_lightness(rgb)) and not decoded.was_color
    assert np.array_equal(decoded.rgb, rgb)


@pytest.mark.parametrize("spread, coloured", [(12, False), (13, True)])
def test_colour_is_judged_alike_on_uint8_and_float_pixels(spread, coloured):
    from colorizers.decode import _colored_count

    pixels = np.array([[[100, 100 + spread, 100]]], np.uint8)
    assert _colored_count(pixels) == int(coloured) == _colored_count(pixels.astype(np.float32) / 255.0)


def header_only_png(width: int, height: int) -> bytes:
    """A PNG's signature and header with a stub for its pixels: enough for the size checks, which read only the
    header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"stub") + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, words", [
    (8000, 5001, "The image is 8000x5001: 40.01 MP; the limit is 40 MP."),
    (4001, 9998, "The image is 4001x9998: 40.002 MP; the limit is 40 MP."),
    (40_000_001, 1, "The image is 40000001x1: 40,000,001 pixels; the limit is 40,000,000 pixels (40 MP)."),
])
def test_a_photo_just_over_the_pixel_limit_does_not_read_as_the_limit(width, height, words):
    """Issue 20: "(40.0 MP); the limit is 40 MP" for a photo just over the limit."""
    from colorizers.decode import open_image

    with pytest.raises(ImageTooLargeError) as raised:
        open_image(header_only_png(width, height), max_pixels=40_000_000)
    assert str(raised.value) == words


def test_a_file_just_over_the_byte_limit_does_not_read_as_the_limit():
    with pytest.raises(ImageTooLargeError) as raised:
        decode_image(b"\0" * 1_000_001, max_bytes=1_000_000)
    assert str(raised.value) == "The file is 1,000,001 bytes; the limit is 1,000,000 bytes (1 MB)."
