"""The sparse system behind a touch-up (`colorizers.touchup`): Levin's affinity Laplacian and its solve.

Apart from the hints module so that scipy's sparse solvers are imported only when a touch-up runs.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

# Levin's window weights: exp(-(dY)^2 / sigma2) with sigma2 = 0.6 * the window's variance, at least enough for the
# most similar neighbour to keep weight 0.01, and never below 2e-6 (lightness scaled to [0, 1]). We also cap it at
# 0.0025 (5 L units squared): Levin's purely relative scale lets a strong edge leak as much as a faint one, a few
# percent of a stroke's colour over a long border; the cap stops that and only touches windows with strong texture.
_VARIANCE_FACTOR = 0.6
_MAX_SIGMA2 = 0.0025
_MIN_NEIGHBOUR_WEIGHT = 0.01
_MIN_SIGMA2 = 2e-6
# The solver: direct up to this many unknowns, else CG with a two-grid preconditioner (blocks of COARSE_BLOCK^2
# pixels) to a relative residual of CG_TOLERANCE (against a direct solve: well under 0.1 a/b unit on 99.9% of
# pixels, at most about 2 on a handful of nearly isolated ones).
DIRECT_MAX_UNKNOWNS = 40_000
COARSE_BLOCK = 3
CG_TOLERANCE = 3e-5
CG_MAX_ITERATIONS = 200
_JACOBI_DAMPING = 0.8
_OFFSETS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def levin_laplacian(lightness: np.ndarray) -> sparse.csr_matrix:
    """The graph Laplacian (n x n, n = H*W, row-major pixels) of Levin's affinity on lightness (H, W) in [0, 100].

    Each pixel's weights to its 8 neighbours are exp(-(dY)^2 / sigma2) with sigma2 from its 3x3 window, normalised
    to sum to 1 (Levin et al.); A = (W + W^T) / 2 makes them symmetric, and L = diag(A 1) - A. Built diagonal by
    diagonal: a neighbour at (dy, dx) is the matrix diagonal dy * W + dx."""
    luma = np.asarray(lightness, dtype=np.float64) / 100.0
    height, width = luma.shape
    weights = _window_weights(luma)
    diagonals, offsets = [], []
    degree = np.zeros((height, width))
    for (dy, dx), weight in zip(_OFFSETS, weights):
        if (dy, dx) < (0, 0):
            continue  # each pair of opposite neighbours once: (dy, dx) > (0, 0) here
        opposite = weights[_OFFSETS.index((-dy, -dx))]
        # The pair's symmetric weight, kept at the pixel whose neighbour at (dy, dx) it is (0 on the border).
        pair = 0.5 * (weight + _shifted(opposite, dy, dx))
        degree += pair + _shifted(pair, -dy, -dx)
        flat = pair.ravel()[:height * width - (dy * width + dx)]
        diagonals += [-flat, -flat]
        offsets += [dy * width + dx, -(dy * width + dx)]
    size = height * width
    return sparse.diags([degree.ravel(), *diagonals], [0, *offsets], shape=(size, size), format="csr")


def _window_weights(luma: np.ndarray) -> np.ndarray:
    """Levin's normalised weights (8, H, W) of each pixel to its neighbours at _OFFSETS (0 outside the photo)."""
    height, width = luma.shape
    padded = np.pad(luma, 1, mode="edge")
    inside = np.pad(np.ones((height, width), bool), 1)
    neighbours = np.stack([padded[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy, dx in _OFFSETS])
    valid = np.stack([inside[1 + dy:1 + dy + height, 1 + dx:1 + dx + width] for dy, dx in _OFFSETS])
    # The window's variance over the pixel and its neighbours inside the photo.
    count = 1 + valid.sum(axis=0)
    mean = (luma + (neighbours * valid).sum(axis=0)) / count
    variance = ((luma - mean) ** 2 + (((neighbours - mean) ** 2) * valid).sum(axis=0)) / count
    squared = np.where(valid, (neighbours - luma) ** 2, np.inf)
    sigma2 = np.maximum(_VARIANCE_FACTOR * variance, squared.min(axis=0) / -np.log(_MIN_NEIGHBOUR_WEIGHT))
    weights = np.exp(-squared / np.clip(sigma2, _MIN_SIGMA2, _MAX_SIGMA2))
    return weights / weights.sum(axis=0)


def _shifted(plane: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[y, x] = plane[y + dy, x + dx], 0 where that falls outside."""
    height, width = plane.shape
    out = np.zeros_like(plane)
    out[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)] = \
        plane[max(0, dy):height - max(0, -dy), max(0, dx):width - max(0, -dx)]
    return out


def solve_change(laplacian: sparse.csr_matrix, fixed: np.ndarray, fixed_values: np.ndarray,
                 data_weight: float, size: tuple[int, int]) -> np.ndarray:
    """D (n, k) minimising D^T L D + data_weight |D|^2 with D[fixed] = fixed_values (m, k); pixels row-major on a
    grid of `size` (height, width).

    The free unknowns solve (L_ff + data_weight I) D_f = -L_fc D_c, symmetric positive definite whenever some
    pixel is fixed. Small systems are factorised (SuperLU); large ones use conjugate gradients preconditioned by a
    two-grid cycle (`_two_grid`). Measured on 512 x 384 with five strokes (2 shared cores): SuperLU 1.1 s,
    pyamg's classical multigrid 1.6 s and smoothed aggregation 2.5 s (setup included), this 0.55 s."""
    free = ~fixed
    change = np.zeros((fixed.size, fixed_values.shape[1]), np.float64)
    change[fixed] = fixed_values
    if not free.any():
        return change
    free_rows = laplacian[free]
    system = (free_rows[:, free] + data_weight * sparse.identity(int(free.sum()), format="csr")).tocsr()
    right_side = np.asarray(-(free_rows[:, fixed] @ fixed_values.astype(np.float64)))
    if system.shape[0] <= DIRECT_MAX_UNKNOWNS:
        change[free] = _factorised(system).solve(right_side)
    else:
        change[free] = _conjugate_gradients(system, right_side, _two_grid(system, free, size))
    return change


def _factorised(system: sparse.spmatrix):
    # Ordered on A^T + A for a symmetric system; diagonally dominant, so SuperLU keeps the diagonal as pivots.
    return splu(system.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})


def _two_grid(system: sparse.csr_matrix, free: np.ndarray, size: tuple[int, int]) -> Callable[[np.ndarray], np.ndarray]:
    """A symmetric two-grid preconditioner: a damped Jacobi step, an exact solve on blocks of COARSE_BLOCK x
    COARSE_BLOCK free pixels (the Galerkin operator P^T A P, which keeps the fine affinities, edges included), and
    a second Jacobi step."""
    width = size[1]
    rows, columns = np.divmod(np.flatnonzero(free), width)
    block = (rows // COARSE_BLOCK) * -(-width // COARSE_BLOCK) + columns // COARSE_BLOCK
    _, aggregate = np.unique(block, return_inverse=True)
    count = system.shape[0]
    prolong = sparse.csr_matrix((np.ones(count), (np.arange(count), aggregate)),
                                shape=(count, int(aggregate.max()) + 1))
    restrict = prolong.T.tocsr()
    coarse = _factorised(restrict @ system @ prolong)
    damped_inverse_diagonal = (_JACOBI_DAMPING / system.diagonal())[:, None]

    def precondition(residual: np.ndarray) -> np.ndarray:
        correction = damped_inverse_diagonal * residual
        correction += prolong @ coarse.solve(restrict @ (residual - system @ correction))
        correction += damped_inverse_diagonal * (residual - system @ correction)
        return correction

    return precondition


def _conjugate_gradients(system: sparse.csr_matrix, right_side: np.ndarray,
                         precondition: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Preconditioned CG on the columns of right_side (n, k) at once, until every column's residual is below
    CG_TOLERANCE of its right side's (or after CG_MAX_ITERATIONS)."""
    solution = np.zeros_like(right_side)
    residual = right_side.copy()
    direction = precondition(residual)
    product = np.einsum("ij,ij->j", residual, direction)
    enough = (CG_TOLERANCE * np.linalg.norm(right_side, axis=0)) ** 2
    for _ in range(CG_MAX_ITERATIONS):
        image = system @ direction
        step = product / np.maximum(np.einsum("ij,ij->j", direction, image), 1e-300)
        solution += step * direction
        residual -= step * image
        if np.all(np.einsum("ij,ij->j", residual, residual) <= enough):
            break
        preconditioned = precondition(residual)
        next_product = np.einsum("ij,ij->j", residual, preconditioned)
        direction *= next_product / np.maximum(product, 1e-300)
        direction += preconditioned
        product = next_product
    return solution
