"""Quantised chroma: gamut bins, nearest bin, class rebalancing."""
import numpy as np

from colorizers.chroma_bins import gamut_bins, nearest_bin, rebalancing_weights
from colorizers.color import rgb_to_lab


def test_gamut_bins_hold_neutral_and_primaries_but_not_impossible_chroma():
    bins = gamut_bins()
    assert 200 < len(bins) < 400
    for rgb in ([128, 128, 128], [255, 0, 0], [0, 0, 255], [0, 200, 0]):
        chroma = rgb_to_lab(np.array([[rgb]], dtype=np.uint8))[0, 0, 1:]
        assert np.min(np.abs(bins - chroma).max(axis=1)) <= 5.0 + 1e-3
    assert not np.any((bins[:, 0] > 100) & (bins[:, 1] < -100))  # no sRGB colour is that red and blue at once


def test_nearest_bin_picks_the_closest_centre_in_chunks():
    bins = gamut_bins()
    chroma = bins[[3, 50, 100]] + 1.0
    np.testing.assert_array_equal(nearest_bin(np.tile(chroma, (30000, 1)), bins)[:3], [3, 50, 100])


def test_rebalancing_favours_rare_bins_and_averages_one_under_the_prior():
    bins = gamut_bins()
    counts = np.ones(len(bins))
    common = nearest_bin(np.zeros((1, 2), np.float32), bins)[0]
    counts[common] = 10000
    weights = rebalancing_weights(counts, bins)
    assert weights[common] < np.median(weights)
    assert weights.min() > 0
    # Mean 1 under the smoothed prior means the loss scale stays that of plain cross-entropy.
    assert 0.2 < float(np.average(weights, weights=counts)) < 5
