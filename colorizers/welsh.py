"""Welsh, Ashikhmin and Mueller (2002), "Transferring color to greyscale images", done fast.

1. Remap the reference's lightness to the target's mean and standard deviation (luminance remapping).
2. Take about 200 reference samples on a jittered grid.
3. For every target pixel, the feature is (L, standard deviation of L in a 5x5 window), weighted 50/50; the
   nearest sample in that 2-D feature space gives its a/b. The target keeps its own L.

Nothing loops over pixels in Python. A photo's lightness takes few distinct values (at most 256 from an 8-bit
source), so the exact nearest-sample search is done per distinct lightness: along each such line of feature
space the nearest sample changes only at a few break points, which give a (lightness, deviation-bin) look-up
table; the few pixels in a bin that a break point crosses are decided by brute force with the same arithmetic
as the per-pixel loop. The colour of each (lightness, sample) pair is likewise computed once, not per pixel.
Other targets (many distinct lightness values) use a k-d tree.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .color import lab_to_rgb, rgb_to_lab, rgb_to_lightness, row_bands

DEFAULT_SAMPLES = 200
WINDOW = 5
_GRID_CELLS = 256
# Fewer cells for fewer pixels: every cell corner costs a k-d tree query (measured best near sqrt(pixels) / 3,
# e.g. 128 for the suggestion's 512 x 320 working size; the result is exact whatever the number).
_MIN_GRID_CELLS = 64
# Targets up to this many pixels keep their features for all references (16 bytes a pixel).
_KEPT_FEATURES_PIXELS = 1 << 20
LIGHTNESS_WEIGHT = 0.5
DEVIATION_WEIGHT = 0.5

# The per-lightness search is used up to this many distinct lightness values (16-bit sources can have more).
_MAX_LEVELS = 4096
# Deviation bins per lightness value in the look-up table, and the table's largest size in entries.
_DEVIATION_BINS = 4096
_MAX_TABLE = 1 << 21
# Float32 lightness is indexed by the top bits of its bit pattern (sign, exponent, 11 mantissa bits).
_LEVEL_SHIFT = 12
# Pixels decided by brute force at a time (bounds the memory of the distance matrix).
_CHUNK = 4096


def local_deviation(lightness: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Standard deviation of `lightness` (H, W) in a window x window neighbourhood (edges mirrored, as scipy's
    "reflect"), float32 (H, W).

    Box sums of shifted views in float32, about the image's mean so that squares stay small: within 1e-4 of a
    float64 computation for L in [0, 100]. The sums run in bands of rows (`row_bands`), each reading its
    window - 1 neighbouring rows, so the temporaries scale with the band, not the photo.
    """
    height, width = lightness.shape
    pad = window // 2
    values = np.pad(np.asarray(lightness, dtype=np.float32), pad, mode="symmetric")
    values -= np.float32(values.mean())
    count = np.float32(window * window)
    deviation = np.empty((height, width), np.float32)
    for rows in row_bands(height, width):
        band = values[rows.start : rows.stop + window - 1]
        band_height = rows.stop - rows.start
        mean = _box_sum(band, window, band_height, width)
        mean /= count
        mean_of_squares = _box_sum(band * band, window, band_height, width)
        mean_of_squares /= count
        mean *= mean
        mean_of_squares -= mean
        np.maximum(mean_of_squares, 0.0, out=mean_of_squares)
        np.sqrt(mean_of_squares, out=deviation[rows])
    return deviation


def _box_sum(padded: np.ndarray, window: int, height: int, width: int) -> np.ndarray:
    """Sums over window x window blocks of a padded (height + window - 1, width + window - 1) array."""
    rows = padded[0:height].copy()
    for shift in range(1, window):
        rows += padded[shift : shift + height]
    sums = rows[:, 0:width].copy()
    for shift in range(1, window):
        sums += rows[:, shift : shift + width]
    return sums


def jittered_grid(shape: tuple[int, int], count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """About `count` (row, column) positions: one uniformly random pixel in each cell of a regular grid.

    Cell edges are whole pixels, so every position lies inside its own cell and no two cells share a pixel
    (unless there are more cells than pixels along a side).
    """
    height, width = shape
    rows = max(1, int(round(np.sqrt(count * height / width))))
    columns = max(1, int(round(count / rows)))
    rng = np.random.default_rng(seed)
    row_edges = np.round(np.linspace(0, height, rows + 1)).astype(int)
    column_edges = np.round(np.linspace(0, width, columns + 1)).astype(int)
    offsets = rng.random((2, rows, columns))
    row_sizes = np.maximum(np.diff(row_edges), 1)[:, None]
    column_sizes = np.maximum(np.diff(column_edges), 1)[None, :]
    row_positions = row_edges[:-1, None] + (offsets[0] * row_sizes).astype(int)
    column_positions = column_edges[None, :-1] + (offsets[1] * column_sizes).astype(int)
    row_positions = np.minimum(row_positions, height - 1).ravel()
    column_positions = np.minimum(column_positions, width - 1).ravel()
    return row_positions, column_positions


def remap_lightness(reference: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Scale and offset that give the reference lightness the target's mean and standard deviation."""
    reference_std = float(reference.std())
    scale = float(target.std()) / reference_std if reference_std > 1e-6 else 1.0
    offset = float(target.mean()) - scale * float(reference.mean())
    return scale, offset


def reference_samples(
    reference_rgb: np.ndarray, target_lightness: np.ndarray, count: int = DEFAULT_SAMPLES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 2) float64 (weighted L, weighted deviation) and chroma (N, 2) of the jittered reference samples."""
    reference_lightness = rgb_to_lightness(reference_rgb)
    scale, offset = remap_lightness(reference_lightness, target_lightness)
    rows, columns = jittered_grid(reference_lightness.shape, count, seed)
    deviation = _deviation_at(reference_lightness, rows, columns) * scale
    remapped = reference_lightness[rows, columns] * scale + offset
    features = _weighted(remapped, deviation)
    chroma = rgb_to_lab(reference_rgb[rows, columns])[:, 1:]
    return features, chroma


def _deviation_at(lightness: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Local deviation only at the given positions (same windows and edge rule as `local_deviation`)."""
    pad = WINDOW // 2
    padded = np.pad(lightness.astype(np.float64), pad, mode="symmetric")  # scipy's "reflect"
    offsets = np.arange(WINDOW)
    windows = padded[rows[:, None, None] + offsets[None, :, None], columns[:, None, None] + offsets[None, None, :]]
    windows = windows.reshape(len(rows), -1)
    mean = windows.mean(axis=1)
    mean_of_squares = (windows * windows).mean(axis=1)
    return np.sqrt(np.maximum(mean_of_squares - mean * mean, 0.0))


def _weighted(lightness: np.ndarray, deviation: np.ndarray) -> np.ndarray:
    """Stack features so that squared Euclidean distance is the 50/50 weighted distance."""
    return np.stack(
        [lightness * np.sqrt(LIGHTNESS_WEIGHT), deviation * np.sqrt(DEVIATION_WEIGHT)], axis=-1
    ).astype(np.float64)


def nearest_samples(points: np.ndarray, samples: np.ndarray, cells: int = _GRID_CELLS) -> np.ndarray:
    """Exact nearest-sample index for each point (P, 2) among samples (N, 2).

    The points' bounding box is cut into cells x cells rectangles. Voronoi regions are convex, so a rectangle
    whose four corners share a nearest sample lies inside that sample's region and all its points take that
    sample from a look-up table; only points in rectangles that a region boundary crosses go to a k-d tree.
    """
    return _SampleGrid(samples, points.min(axis=0), points.max(axis=0), cells).nearest(points)


class _SampleGrid:
    """`nearest_samples`' look-up table over the box [low, high]: built once, then applied to points in parts."""

    def __init__(self, samples: np.ndarray, low: np.ndarray, high: np.ndarray, cells: int = _GRID_CELLS):
        from scipy.spatial import cKDTree  # here: an 8-bit photo (the per-level search) never needs it

        unique_samples, self.first_index = np.unique(samples, axis=0, return_index=True)
        # Identical samples would make the winner arbitrary; keep the first of each, as the plain loop does.
        self.tree = cKDTree(unique_samples)
        self.cells, self.low = cells, low
        self.step = np.maximum((high - low) / cells, 1e-9)
        corner_u = low[0] + self.step[0] * np.arange(cells + 1)
        corner_v = low[1] + self.step[1] * np.arange(cells + 1)
        corners = np.stack(np.meshgrid(corner_u, corner_v, indexing="ij"), axis=-1).reshape(-1, 2)
        corner_nearest = self.tree.query(corners, workers=2)[1].reshape(cells + 1, cells + 1)
        table = corner_nearest[:-1, :-1]
        # Mark cells crossed by a boundary with -1.
        self.table = np.where(
            (table == corner_nearest[1:, :-1]) & (table == corner_nearest[:-1, 1:]) & (table == corner_nearest[1:, 1:]),
            table,
            -1,
        ).ravel()

    def nearest(self, points: np.ndarray) -> np.ndarray:
        """Nearest-sample index (P,) for points (P, 2) inside the box."""
        cells, low, step = self.cells, self.low, self.step
        cell_row = np.minimum(((points[:, 0] - low[0]) / step[0]).astype(np.int32), cells - 1)
        cell_column = np.minimum(((points[:, 1] - low[1]) / step[1]).astype(np.int32), cells - 1)
        nearest = self.table[cell_row * cells + cell_column]
        crossed = np.flatnonzero(nearest < 0)
        nearest[crossed] = self.tree.query(points[crossed], workers=2)[1]
        return self.first_index[nearest]


def _parts(count: int) -> list[slice]:
    """Slices of about color.BAND_PIXELS pixels over a flattened photo, for per-pixel work with bounded temporaries."""
    return row_bands(count, 1)


def transfer_chroma(
    target_lightness: np.ndarray, reference_rgb: np.ndarray | Sequence[np.ndarray], samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> np.ndarray:
    """Welsh chroma a/b float32 (H, W, 2) for target lightness (H, W) from a colour reference (h, w, 3) uint8.

    `reference_rgb` may also be several references: each is remapped to the target and sampled (`samples`
    each), and every pixel takes its nearest sample among them all, for the cost of one transfer."""
    match = _match(target_lightness, reference_rgb, samples, seed)
    nearest, sample_chroma = match.nearest, match.sample_chroma
    del match  # its per-pixel level index is not needed here
    chroma = np.empty((nearest.size, 2), np.float32)
    for part in _parts(nearest.size):  # in parts: indexing with int32 makes an int64 copy of the index
        chroma[part] = sample_chroma[nearest[part]]
    return chroma.reshape(*np.shape(target_lightness), 2)


class _Match:
    """The nearest sample (index into the samples) of every pixel, and the distinct lightness values if few."""

    def __init__(self, nearest, sample_chroma, levels=None, level_index=None):
        self.nearest = nearest
        self.sample_chroma = sample_chroma
        self.levels = levels
        self.level_index = level_index


def _match(target_lightness: np.ndarray, reference_rgb: np.ndarray | Sequence[np.ndarray], samples: int,
           seed: int) -> _Match:
    target = _Target(target_lightness)
    references = [reference_rgb] if isinstance(reference_rgb, np.ndarray) else list(reference_rgb)
    pooled = [reference_samples(reference, target.lightness_2d, samples, seed) for reference in references]
    sample_features = np.concatenate([features for features, _ in pooled])
    sample_chroma = np.concatenate([chroma for _, chroma in pooled])
    levels, level_index = target.levels or (None, None)
    return _Match(target.nearest(sample_features), sample_chroma, levels, level_index)


class _Target:
    """What a transfer needs of the target, computed once however many references are matched to it."""

    def __init__(self, target_lightness: np.ndarray):
        self.lightness_2d = np.ascontiguousarray(target_lightness, dtype=np.float32)
        self.lightness = self.lightness_2d.ravel()
        self.deviation = local_deviation(self.lightness_2d).ravel()
        self.levels = lightness_levels(self.lightness)
        self._grid_points: _GridPoints | None = None

    def nearest(self, sample_features: np.ndarray) -> np.ndarray:
        """Each pixel's nearest sample (index into `sample_features`)."""
        if self.levels is not None:
            return _nearest_by_level(self.lightness, self.deviation, *self.levels, sample_features)
        if self._grid_points is None:
            self._grid_points = _GridPoints(self.lightness, self.deviation)
        return _nearest_by_grid(self._grid_points, sample_features)


def average_transfer_chroma(
    target_lightness: np.ndarray, references: Sequence[np.ndarray], samples: int = DEFAULT_SAMPLES, seed: int = 0
) -> np.ndarray:
    """The mean of `transfer_chroma(target_lightness, reference)` over several references, float32 (H, W, 2),
    with the target's own features (local deviation, lightness levels) computed once for all of them."""
    target = _Target(target_lightness)
    total = np.zeros((target.lightness.size, 2), np.float32)
    for reference in references:
        sample_features, sample_chroma = reference_samples(reference, target.lightness_2d, samples, seed)
        nearest = target.nearest(sample_features)
        for part in _parts(nearest.size):
            total[part] += sample_chroma[nearest[part]]
    total /= np.float32(len(references))
    return total.reshape(*target.lightness_2d.shape, 2)


class _GridPoints:
    """A target's pixel features for the grid search (many distinct lightness values), part by part, and their
    bounding box. Small targets (the suggestion's working size) keep the features, which every reference reuses;
    large ones make each part's again when asked (their features would cost 16 bytes a pixel)."""

    def __init__(self, lightness: np.ndarray, deviation: np.ndarray):
        self.lightness, self.deviation = lightness, deviation
        self.parts = _parts(lightness.size)
        self.kept = [] if lightness.size <= _KEPT_FEATURES_PIXELS else None
        self.low, self.high = np.full(2, np.inf), np.full(2, -np.inf)
        for part in self.parts:
            features = _weighted(lightness[part], deviation[part])
            self.low, self.high = np.minimum(self.low, features.min(axis=0)), np.maximum(self.high, features.max(axis=0))
            if self.kept is not None:
                self.kept.append(features)

    def features(self, index: int) -> np.ndarray:
        if self.kept is not None:
            return self.kept[index]
        part = self.parts[index]
        return _weighted(self.lightness[part], self.deviation[part])


def _nearest_by_grid(points: _GridPoints, sample_features: np.ndarray) -> np.ndarray:
    """`nearest_samples` for pixels of many distinct lightness values."""
    cells = int(np.clip(np.sqrt(points.lightness.size) / 3, _MIN_GRID_CELLS, _GRID_CELLS))
    grid = _SampleGrid(sample_features, points.low, points.high, cells)
    nearest = np.empty(points.lightness.size, np.int64)
    for index, part in enumerate(points.parts):
        nearest[part] = grid.nearest(points.features(index))
    return nearest


def lightness_levels(lightness: np.ndarray, max_levels: int = _MAX_LEVELS) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct values of float32 lightness (P,) (sorted, float32) and each pixel's index into them (int32),
    or None when there are more than `max_levels` (or values outside [0, 100]).

    Both are found part by part (a sorted copy of a whole photo would cost as much as the photo)."""
    parts = _parts(lightness.size)
    levels = np.unique(lightness[:0])
    for part in parts:
        levels = np.union1d(levels, lightness[part])
        if len(levels) > max_levels:
            return None
    if not len(levels) or not (levels[0] >= 0.0 and levels[-1] <= 100.0):
        return None
    # Non-negative floats order like their bit patterns: a table on the top bits gives the first level of each
    # bucket; pixels whose bucket holds several levels are then looked up exactly.
    level_buckets = (levels.view(np.uint32) >> _LEVEL_SHIFT).astype(np.int64)
    counts = np.bincount(level_buckets, minlength=int(level_buckets[-1]) + 1)
    first_in_bucket = (np.cumsum(counts) - counts).astype(np.int32)
    level_index = np.empty(lightness.size, np.int32)
    for part in parts:
        values = lightness[part]
        index = first_in_bucket[values.view(np.uint32) >> _LEVEL_SHIFT]
        wrong = np.flatnonzero(levels[index] != values)
        if len(wrong):
            index[wrong] = np.searchsorted(levels, values[wrong])
        level_index[part] = index
    return levels, level_index


def _nearest_by_level(
    lightness: np.ndarray,
    deviation: np.ndarray,
    levels: np.ndarray,
    level_index: np.ndarray,
    sample_features: np.ndarray,
) -> np.ndarray:
    """Exact nearest-sample index (P,) for pixels (P,) of few distinct lightness values; see the module notes."""
    # Identical samples: keep the first of each, in order of first appearance (so ties go to the lower index,
    # as in the loop's argmin).
    _, first_index = np.unique(sample_features, axis=0, return_index=True)
    first_index = np.sort(first_index)
    unique_features = sample_features[first_index]
    level_features = _weighted(levels, np.zeros_like(levels))[:, 0]
    highest = float(deviation.max()) if deviation.size else 0.0
    breaks, owners = _break_points(level_features, unique_features, highest * np.sqrt(DEVIATION_WEIGHT))
    # Look-up table over (level, deviation bin): the owning sample, or -1 where a break point is within a bin.
    bins = max(16, min(_DEVIATION_BINS, _MAX_TABLE // len(levels)))
    bins_per_deviation = bins / highest if highest > 0.0 else 1.0
    columns = bins + 2
    break_bins = np.floor(breaks / np.sqrt(DEVIATION_WEIGHT) * bins_per_deviation)  # inf where no break
    break_bins = np.where(np.isfinite(break_bins), break_bins, columns + 1).astype(np.int64)
    level_rows = np.broadcast_to(np.arange(len(levels))[:, None], break_bins.shape)
    counts = np.zeros((len(levels), columns + 2), np.int32)
    np.add.at(counts, (level_rows, np.minimum(break_bins + 1, columns + 1)), 1)
    segment = np.cumsum(counts, axis=1)[:, :columns]
    table = np.take_along_axis(owners, segment, axis=1).astype(np.int32)
    for offset in (-1, 0, 1):  # a safety margin of one bin on each side of every break point
        crossed_bins = break_bins + offset
        valid = (crossed_bins >= 0) & (crossed_bins < columns)
        table[level_rows[valid], crossed_bins[valid]] = -1
    # Per pixel, part by part: bin, table look-up.
    table, owner = table.ravel(), first_index.astype(np.int32)
    nearest = np.empty(lightness.size, np.int32)
    for part in _parts(lightness.size):
        key = (deviation[part] * np.float32(bins_per_deviation)).astype(np.int32)
        np.minimum(key, columns - 1, out=key)
        key += level_index[part] * np.int32(columns)
        found = np.take(table, key)
        crossed = np.flatnonzero(found < 0)
        found = np.take(owner, found)  # -1 takes the last entry; replaced below
        if len(crossed):
            found[crossed] = _brute_force_nearest(
                _weighted(lightness[part][crossed], deviation[part][crossed]), sample_features
            )
        nearest[part] = found
    return nearest


def _break_points(
    level_features: np.ndarray, samples: np.ndarray, highest: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where the nearest sample changes along each line u = level_features[k], for v in [0, highest].

    For fixed u the squared distance to sample i, minus v * v, is the straight line c_i - 2 v s_i with
    c_i = (u - u_i)^2 + s_i^2; the nearest sample follows the lower envelope of those lines, walked from v = 0
    for all levels at once. Returns breaks (K, S) float64 (inf-padded, increasing) and owners (K, S + 1) int:
    owners[k, j] is nearest on [breaks[k, j - 1], breaks[k, j]) (indices into `samples`).
    """
    sample_u, sample_v = samples[:, 0], samples[:, 1]
    intercepts = (level_features[:, None] - sample_u[None, :]) ** 2 + sample_v[None, :] ** 2
    levels = np.arange(len(level_features))
    current = np.argmin(intercepts, axis=1)  # exact at v = 0: the same sums as the loop
    owners, breaks = [current], []
    active = np.ones(len(level_features), bool)
    while active.any():
        current_slope = sample_v[current]
        rising = sample_v[None, :] - current_slope[:, None]  # lines with a larger s_i overtake later
        with np.errstate(divide="ignore", invalid="ignore"):
            crossing = np.where(
                rising > 0.0, (intercepts - intercepts[levels, current][:, None]) / (2.0 * rising), np.inf
            )
        crossing[~active] = np.inf
        at = crossing.min(axis=1)
        # Of several lines crossing at the same point, the steepest one stays below afterwards.
        steepest = np.where(crossing == at[:, None], sample_v[None, :], -np.inf).argmax(axis=1)
        active &= at <= highest
        at = np.where(active, at, np.inf)
        current = np.where(active, steepest, current)
        breaks.append(at)
        owners.append(current)
    if not breaks:
        breaks.append(np.full(len(level_features), np.inf))
        owners.append(current)
    return np.stack(breaks, axis=1), np.stack(owners, axis=1)


def _brute_force_nearest(points: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Nearest sample (first of equals) for points (P, 2) among samples (N, 2), with the loop's arithmetic."""
    nearest = np.empty(len(points), np.int32)
    for start in range(0, len(points), _CHUNK):
        chunk = points[start : start + _CHUNK]
        distance = (chunk[:, 0:1] - samples[None, :, 0]) ** 2 + (chunk[:, 1:2] - samples[None, :, 1]) ** 2
        nearest[start : start + _CHUNK] = np.argmin(distance, axis=1)
    return nearest


def transfer_chroma_loop(
    target_lightness: np.ndarray, reference_rgb: np.ndarray, samples: int = DEFAULT_SAMPLES, seed: int = 0
) -> np.ndarray:
    """The same transfer with a straightforward per-pixel loop: the yardstick for tests and the benchmark."""
    sample_features, sample_chroma = reference_samples(reference_rgb, target_lightness, samples, seed)
    target_features = _weighted(target_lightness, local_deviation(target_lightness))
    height, width = target_lightness.shape
    chroma = np.zeros((height, width, 2), dtype=np.float32)
    for row in range(height):
        for column in range(width):
            feature = target_features[row, column]
            distance = (feature[0] - sample_features[:, 0]) ** 2 + (feature[1] - sample_features[:, 1]) ** 2
            chroma[row, column] = sample_chroma[int(np.argmin(distance))]
    return chroma


def colorize(target_lightness: np.ndarray, reference_rgb: np.ndarray, samples: int = DEFAULT_SAMPLES, seed: int = 0) -> np.ndarray:
    """Welsh transfer end to end: sRGB uint8 (H, W, 3) with the target's own lightness."""
    match = _match(target_lightness, reference_rgb, samples, seed)
    shape = (*np.shape(target_lightness), 3)
    count = len(match.sample_chroma)
    if match.levels is None or len(match.levels) * count > match.nearest.size // 4:
        chroma = match.sample_chroma[match.nearest]
        lightness = np.asarray(target_lightness, dtype=np.float32).reshape(-1, 1)
        return lab_to_rgb(np.concatenate([lightness, chroma], axis=-1)).reshape(shape)
    # Few distinct (lightness, sample) pairs: convert each once, then look the pixels up.
    pairs = np.empty((len(match.levels), count, 3), np.float32)
    pairs[..., 0] = match.levels[:, None]
    pairs[..., 1:] = match.sample_chroma[None, :, :]
    colours = lab_to_rgb(pairs).reshape(-1, 3)
    key = match.level_index * np.int32(count)
    key += match.nearest
    return np.take(colours, key, axis=0).reshape(shape)
