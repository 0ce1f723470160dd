"""colorizers.welsh: a known-answer case, the jittered sampling, exactness against the per-pixel loop."""
from __future__ import annotations

import numpy as np
import pytest

from colorizers import welsh
from colorizers.color import gray_rgb, lab_to_rgb, rgb_to_lab, rgb_to_lightness


def two_region_reference(height: int = 64, width: int = 96, seed: int = 0) -> np.ndarray:
    """Left half smooth, dark and red-ish; right half bright, textured and blue-ish. sRGB uint8."""
    rng = np.random.default_rng(seed)
    lab = np.zeros((height, width, 3), np.float32)
    half = width // 2
    columns = np.arange(half, dtype=np.float32)
    lab[:, :half, 0] = 30.0 + 4.0 * columns / half  # smooth ramp
    lab[:, :half, 1], lab[:, :half, 2] = 30.0, 15.0  # red-ish
    lab[:, half:, 0] = 70.0 + rng.normal(0.0, 6.0, (height, width - half))  # textured
    lab[:, half:, 1], lab[:, half:, 2] = 0.0, -18.0  # blue-ish
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
    return lab_to_rgb(lab)


def two_region_target(height: int = 60, width: int = 80, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Lightness with the textured bright kind on top and the smooth dark kind at the bottom; and a mask of the top."""
    rng = np.random.default_rng(seed)
    top = np.zeros((height, width), bool)
    top[: height // 2] = True
    rows, columns = np.mgrid[0:height, 0:width]
    lightness = np.where(top, 70.0 + rng.normal(0.0, 6.0, (height, width)), 30.0 + 4.0 * columns / width)
    # Through 8-bit gray, as an uploaded grayscale photo would arrive.
    return rgb_to_lightness(gray_rgb(np.clip(lightness, 0.0, 100.0).astype(np.float32))), top


def interior(mask: np.ndarray, margin: int = 3) -> np.ndarray:
    """The pixels of `mask` at least `margin` pixels away (in rows) from its other part."""
    shrunk = mask.copy()
    for shift in range(1, margin + 1):
        shrunk[:-shift] &= mask[shift:]
        shrunk[shift:] &= mask[:-shift]
    return shrunk


def test_known_answer_regions_take_the_matching_colours():
    reference = two_region_reference()
    lightness, top = two_region_target()
    chroma = welsh.transfer_chroma(lightness, reference)
    assert chroma.shape == (*lightness.shape, 2) and chroma.dtype == np.float32
    textured, smooth = interior(top), interior(~top)
    # Textured bright region -> blue-ish (b clearly negative); smooth dark region -> red-ish (a and b positive).
    assert np.mean(chroma[textured][:, 1] < -12.0) > 0.95
    assert np.mean(np.abs(chroma[textured][:, 0]) < 5.0) > 0.95
    assert np.mean(chroma[smooth][:, 0] > 20.0) > 0.95
    assert np.mean(chroma[smooth][:, 1] > 8.0) > 0.95


def test_known_answer_holds_with_the_regions_swapped():
    reference = two_region_reference()[:, ::-1]  # textured blue left, smooth red right
    lightness, top = two_region_target()
    lightness, textured = lightness[::-1], top[::-1]  # smooth on top now, textured at the bottom
    chroma = welsh.transfer_chroma(lightness, np.ascontiguousarray(reference))
    assert np.mean(chroma[interior(~textured)][:, 0] > 20.0) > 0.95
    assert np.mean(chroma[interior(textured)][:, 1] < -12.0) > 0.95


# --- jittered sampling ---------------------------------------------------------------------------------------


def test_jittered_grid_is_reproducible_for_a_seed():
    first = welsh.jittered_grid((120, 200), 200, seed=3)
    again = welsh.jittered_grid((120, 200), 200, seed=3)
    other = welsh.jittered_grid((120, 200), 200, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("shape, count", [((120, 200), 200), ((300, 90), 200), ((64, 64), 50), ((1000, 700), 5000)])
def test_jittered_grid_covers_the_image_one_sample_per_cell(shape, count):
    height, width = shape
    rows, columns = welsh.jittered_grid(shape, count, seed=0)
    assert len(rows) == len(columns)
    assert abs(len(rows) - count) <= 0.1 * count
    assert rows.min() >= 0 and rows.max() < height and columns.min() >= 0 and columns.max() < width
    # Recover the grid: the number of cells across and down whose product is the sample count.
    grid_rows = max(1, int(round(np.sqrt(count * height / width))))
    grid_columns = len(rows) // grid_rows
    assert grid_rows * grid_columns == len(rows)
    # Each cell's edges in whole pixels; every cell holds exactly one sample, inside it.
    row_edges = np.round(np.linspace(0, height, grid_rows + 1)).astype(int)
    column_edges = np.round(np.linspace(0, width, grid_columns + 1)).astype(int)
    cell_row = np.searchsorted(row_edges, rows, side="right") - 1
    cell_column = np.searchsorted(column_edges, columns, side="right") - 1
    cells = cell_row * grid_columns + cell_column
    assert np.array_equal(np.sort(cells), np.arange(grid_rows * grid_columns))
    assert len(set(zip(rows.tolist(), columns.tolist()))) == len(rows)  # no pixel sampled twice


def test_reference_samples_use_the_seed():
    reference = two_region_reference()
    lightness, _ = two_region_target()
    features, chroma = welsh.reference_samples(reference, lightness, count=100, seed=0)
    assert features.shape[1] == 2 and chroma.shape == (len(features), 2)
    assert abs(len(features) - 100) <= 10
    again = welsh.reference_samples(reference, lightness, count=100, seed=0)
    other = welsh.reference_samples(reference, lightness, count=100, seed=1)
    assert np.array_equal(features, again[0]) and np.array_equal(chroma, again[1])
    assert not np.array_equal(features, other[0])


# --- exactness of the fast search ----------------------------------------------------------------------------


def random_photo(height: int, width: int, seed: int, smooth: int = 6) -> np.ndarray:
    """A random colour image with smooth patches and texture: sRGB uint8 (H, W, 3)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // smooth + 2, width // smooth + 2, 3)).astype(np.float32)
    rows = np.arange(height) // smooth
    columns = np.arange(width) // smooth
    image = coarse[rows][:, columns] + rng.normal(0.0, 12.0, (height, width, 3)) * (rng.random((height, width, 1)) < 0.5)
    return np.clip(image, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "seed, target_shape, reference_shape, samples",
    [(0, (30, 41), (50, 37), 200), (1, (25, 25), (40, 60), 50), (2, (40, 33), (23, 29), 300), (3, (17, 60), (9, 9), 200)],
)
def test_fast_transfer_equals_the_loop_on_8_bit_targets(seed, target_shape, reference_shape, samples):
    target = rgb_to_lightness(random_photo(*target_shape, seed=seed + 10))
    reference = random_photo(*reference_shape, seed=seed)
    fast = welsh.transfer_chroma(target, reference, samples=samples, seed=seed)
    slow = welsh.transfer_chroma_loop(target, reference, samples=samples, seed=seed)
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("seed", [4, 5])
def test_fast_transfer_equals_the_loop_on_continuous_lightness(seed):
    rng = np.random.default_rng(seed)
    target = rng.uniform(0.0, 100.0, (31, 29)).astype(np.float32)  # ~900 distinct values
    target[10:20, 5:25] = np.float32(42.5)  # a flat patch: zero deviation
    reference = random_photo(45, 35, seed=seed)
    assert np.array_equal(
        welsh.transfer_chroma(target, reference, seed=seed), welsh.transfer_chroma_loop(target, reference, seed=seed)
    )


def test_fast_transfer_equals_the_loop_with_many_distinct_lightness_values():
    """Over 4096 distinct values (and values outside [0, 100]): the k-d tree path, still exact."""
    rng = np.random.default_rng(6)
    target = rng.uniform(0.0, 100.0, (70, 70)).astype(np.float32)
    assert welsh.lightness_levels(target.ravel()) is None
    reference = random_photo(40, 50, seed=6)
    assert np.array_equal(welsh.transfer_chroma(target, reference), welsh.transfer_chroma_loop(target, reference))
    outside = rng.uniform(-5.0, 105.0, (20, 30)).astype(np.float32)
    assert welsh.lightness_levels(outside.ravel()) is None
    assert np.array_equal(welsh.transfer_chroma(outside, reference), welsh.transfer_chroma_loop(outside, reference))


def test_lightness_levels_indexes_every_pixel_exactly():
    rng = np.random.default_rng(11)
    base = rng.uniform(0.0, 100.0, 300).astype(np.float32)
    neighbours = np.nextafter(base[:50], np.float32(np.inf))  # one float step apart: the same table bucket
    values = np.concatenate([base, neighbours, [np.float32(0.0), np.float32(100.0)]])
    lightness = rng.choice(values, 20000)
    levels, index = welsh.lightness_levels(lightness)
    assert np.array_equal(levels, np.unique(lightness))
    assert np.array_equal(levels[index], lightness)


def test_fast_transfer_equals_the_loop_with_flat_and_repeated_samples():
    reference = np.zeros((30, 30, 3), np.uint8)
    reference[:, :15] = [200, 40, 40]  # two flat colours: many identical samples, all deviations zero
    reference[:, 15:] = [40, 40, 200]
    target = rgb_to_lightness(random_photo(20, 26, seed=7))
    fast = welsh.transfer_chroma(target, reference)
    assert np.array_equal(fast, welsh.transfer_chroma_loop(target, reference))
    flat_target = np.full((12, 12), 50.0, np.float32)
    assert np.array_equal(
        welsh.transfer_chroma(flat_target, reference), welsh.transfer_chroma_loop(flat_target, reference)
    )


def test_nearest_samples_matches_brute_force():
    rng = np.random.default_rng(8)
    samples = rng.uniform(0.0, 50.0, (150, 2))
    samples[10] = samples[3]  # a duplicate: the first index wins
    points = np.concatenate([rng.uniform(-5.0, 55.0, (5000, 2)), samples[:20]])
    distances = ((points[:, None, :] - samples[None, :, :]) ** 2).sum(axis=-1)
    assert np.array_equal(welsh.nearest_samples(points, samples), np.argmin(distances, axis=1))


# --- luminance remapping and output --------------------------------------------------------------------------


def test_remapping_gives_the_target_mean_and_deviation():
    rng = np.random.default_rng(9)
    reference = rng.normal(60.0, 15.0, (50, 50))
    target = rng.normal(35.0, 5.0, (40, 30))
    scale, offset = welsh.remap_lightness(reference, target)
    remapped = reference * scale + offset
    assert remapped.mean() == pytest.approx(target.mean(), abs=1e-6)
    assert remapped.std() == pytest.approx(target.std(), rel=1e-6)
    assert welsh.remap_lightness(np.full((5, 5), 40.0), target)[0] == 1.0  # flat reference: shift only


def test_local_deviation():
    flat = np.full((10, 12), 33.0, np.float32)
    assert np.allclose(welsh.local_deviation(flat), 0.0, atol=1e-6)
    checker = (np.indices((10, 12)).sum(axis=0) % 2 * 10.0).astype(np.float32)
    deviation = welsh.local_deviation(checker)
    assert deviation.shape == (10, 12)
    assert deviation[5, 5] == pytest.approx(np.std([0.0] * 12 + [10.0] * 13), abs=1e-4)


@pytest.mark.parametrize("kind", ["8-bit", "continuous"])
def test_colorize_equals_merging_the_chroma(kind):
    rng = np.random.default_rng(12)
    if kind == "8-bit":
        lightness = rgb_to_lightness(random_photo(64, 64, seed=12))
    else:
        lightness = rng.uniform(5.0, 95.0, (70, 70)).astype(np.float32)
    reference = random_photo(50, 40, seed=13)
    rgb = welsh.colorize(lightness, reference)
    chroma = welsh.transfer_chroma(lightness, reference)
    expected = lab_to_rgb(np.concatenate([lightness[..., None], chroma], axis=-1))
    assert rgb.shape == expected.shape and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - expected.astype(int)).max() <= 1


def test_colorize_keeps_the_target_lightness():
    reference = two_region_reference()
    lightness, _ = two_region_target()
    rgb = welsh.colorize(lightness, reference)
    assert rgb.shape == (*lightness.shape, 3) and rgb.dtype == np.uint8
    clipped = ((rgb == 0) | (rgb == 255)).any(axis=-1)
    assert clipped.mean() < 0.02
    assert np.abs(rgb_to_lightness(rgb) - lightness)[~clipped].max() < 0.5
    # colorize is the transfer merged with the target's own lightness
    chroma = welsh.transfer_chroma(lightness, reference)
    expected = lab_to_rgb(np.concatenate([lightness[..., None], chroma], axis=-1))
    assert np.abs(rgb.astype(int) - expected.astype(int)).max() <= 1
    assert np.abs(rgb_to_lab(rgb)[..., 1:] - chroma)[~clipped].mean() < 1.5


@pytest.mark.parametrize("levels", ["few", "many"])
def test_the_average_over_references_equals_the_mean_of_single_transfers(levels):
    """The suggestion's average: the target's features are computed once, the result is as if done one by one."""
    from colorizers.welsh import average_transfer_chroma, transfer_chroma

    rng = np.random.default_rng(5)
    target = rng.uniform(10.0, 90.0, (40, 56)).astype(np.float32)
    if levels == "few":
        target = np.round(target)  # an 8-bit photo's few distinct values: the per-level search
    references = [rng.integers(0, 256, (30, 45, 3), dtype=np.uint8) for _ in range(3)]
    singles = [transfer_chroma(target, reference, samples=50, seed=2) for reference in references]
    expected = (singles[0] + singles[1] + singles[2]) / np.float32(3)
    np.testing.assert_allclose(average_transfer_chroma(target, references, samples=50, seed=2), expected, atol=1e-4)
