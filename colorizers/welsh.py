"""Welsh, Ashikhmin and Mueller (2002), "Transferring color to greyscale images", done fast.

1. Remap the reference's lightness to the target's mean and standard deviation (luminance remapping).
2. Take about 200 reference samples on a jittered grid.
3. For every target pixel, the feature is (L, standard deviation of L in a 5x5 window), weighted 50/50; the
   nearest sample in that 2-D feature space gives its a/b. The target keeps its own L.

Nothing loops over pixels in Python: local deviation comes from box filters and the exact nearest-sample search
from a k-d tree.
"""
from __future__ import annotations

import numpy as np

from scipy import ndimage
from scipy.spatial import cKDTree

from .color import lab_to_rgb, rgb_to_lab, rgb_to_lightness

DEFAULT_SAMPLES = 200
WINDOW = 5
_GRID_CELLS = 256
LIGHTNESS_WEIGHT = 0.5
DEVIATION_WEIGHT = 0.5


def local_deviation(lightness: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Standard deviation of `lightness` (H, W) in a window x window neighbourhood (edges mirrored)."""
    values = lightness.astype(np.float64)
    mean = ndimage.uniform_filter(values, window, mode="reflect")
    mean_of_squares = ndimage.uniform_filter(values * values, window, mode="reflect")
    return np.sqrt(np.maximum(mean_of_squares - mean * mean, 0.0))


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
    unique_samples, first_index = np.unique(samples, axis=0, return_index=True)
    # Identical samples would make the winner arbitrary; keep the first of each, as the plain loop does.
    tree = cKDTree(unique_samples)
    low = points.min(axis=0)
    step = np.maximum((points.max(axis=0) - low) / cells, 1e-9)
    corner_u = low[0] + step[0] * np.arange(cells + 1)
    corner_v = low[1] + step[1] * np.arange(cells + 1)
    corners = np.stack(np.meshgrid(corner_u, corner_v, indexing="ij"), axis=-1).reshape(-1, 2)
    corner_nearest = tree.query(corners, workers=2)[1].reshape(cells + 1, cells + 1)
    table = corner_nearest[:-1, :-1]
    # Mark cells crossed by a boundary with -1.
    table = np.where(
        (table == corner_nearest[1:, :-1]) & (table == corner_nearest[:-1, 1:]) & (table == corner_nearest[1:, 1:]),
        table,
        -1,
    )
    cell_row = np.minimum(((points[:, 0] - low[0]) / step[0]).astype(np.int32), cells - 1)
    cell_column = np.minimum(((points[:, 1] - low[1]) / step[1]).astype(np.int32), cells - 1)
    nearest = table.ravel()[cell_row * cells + cell_column]
    crossed = np.flatnonzero(nearest < 0)
    nearest[crossed] = tree.query(points[crossed], workers=2)[1]
    return first_index[nearest]


def transfer_chroma(
    target_lightness: np.ndarray, reference_rgb: np.ndarray, samples: int = DEFAULT_SAMPLES, seed: int = 0
) -> np.ndarray:
    """Welsh chroma a/b float32 (H, W, 2) for target lightness (H, W) from a colour reference (h, w, 3) uint8."""
    sample_features, sample_chroma = reference_samples(reference_rgb, target_lightness, samples, seed)
    target_features = _weighted(target_lightness, local_deviation(target_lightness)).reshape(-1, 2)
    nearest = nearest_samples(target_features, sample_features)
    return sample_chroma[nearest].reshape(*target_lightness.shape, 2)


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
    chroma = transfer_chroma(target_lightness, reference_rgb, samples, seed)
    return lab_to_rgb(np.concatenate([target_lightness[..., None], chroma], axis=-1))
