"""myocardium_mask: epicardium minus blood pool."""

from __future__ import annotations

import numpy as np
import pytest

from skcardio.segment import myocardium_mask


def test_ring_is_epicardium_without_pool():
    rows, cols = np.mgrid[:21, :21]
    radius = np.hypot(rows - 10, cols - 10)
    pool, epi = radius <= 4, radius <= 7
    ring = myocardium_mask(np.stack([pool, pool]), np.stack([epi, epi]))
    assert ring.shape == (2, 21, 21)
    assert ring.sum() == 2 * (epi.sum() - pool.sum())
    assert not (ring & pool).any()


def test_pool_outside_the_epicardium_is_not_myocardium():
    pool = np.zeros((5, 5), bool)
    pool[0, :] = True
    epi = np.zeros((5, 5), bool)
    epi[1:4, 1:4] = True
    np.testing.assert_array_equal(myocardium_mask(pool, epi), epi)


def test_refuses_mismatched_or_non_boolean_masks():
    with pytest.raises(ValueError, match="same shape"):
        myocardium_mask(np.zeros((2, 4, 4), bool), np.zeros((2, 4, 5), bool))
    with pytest.raises(ValueError, match="epicardium must be a boolean mask"):
        myocardium_mask(np.zeros((4, 4), bool), np.full((4, 4), 2))
