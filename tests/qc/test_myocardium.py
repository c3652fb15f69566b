"""check_myocardium: per-slice flags of implausible predicted myocardium."""

from __future__ import annotations

import numpy as np
import pytest

from skcardio.qc import MYOCARDIUM_FLAGS, check_myocardium

ROWS, COLS = np.mgrid[:30, :30]
RADIUS = np.hypot(ROWS - 15, COLS - 15)
POOL, EPI = RADIUS <= 6, RADIUS <= 10


def test_a_closed_thick_ring_is_clean():
    result = check_myocardium(POOL, EPI)
    assert result.flags.tolist() == [()]
    assert not result.flagged.any()
    assert result.myocardium_px.tolist() == [int(EPI.sum() - POOL.sum())]


def test_pool_outside_the_epicardium():
    pool = POOL.copy()
    pool[15, 15:29] = True  # a tongue of pool through the wall and beyond
    result = check_myocardium(pool, EPI)
    assert result.flags[0] == ("pool_outside_epicardium", "open_ring", "thin_wall")
    assert result.pool_outside_px[0] == (pool & ~EPI).sum() > 0


def test_gap_in_the_wall_opens_the_ring():
    epi = EPI & ~((COLS > 21) & (abs(ROWS - 15) <= 1))
    assert check_myocardium(POOL, epi).flags[0] == ("open_ring", "thin_wall")


def test_a_diagonal_wall_is_closed_but_thin():
    # Pool = a diamond; the wall is its 8-neighbour-free outline: pixels on the
    # diagonal edges touch only diagonally, so the ring is closed (4-connected
    # background cannot leak) but thinner than one pixel there.
    diamond = abs(ROWS - 15) + abs(COLS - 15)
    pool = diamond <= 5
    epi = diamond <= 6
    assert check_myocardium(pool, epi).flags[0] == ("thin_wall",)
    assert check_myocardium(pool, diamond <= 7).flags[0] == ()


def test_pool_at_the_image_edge_has_a_thin_wall():
    pool = np.zeros((10, 10), bool)
    pool[0:3, 3:6] = True
    epi = np.zeros((10, 10), bool)
    epi[0:5, 1:8] = True
    assert "thin_wall" in check_myocardium(pool, epi).flags[0]


@pytest.mark.parametrize("pool, epi", [(np.zeros_like(POOL), EPI), (POOL, np.zeros_like(EPI))])
def test_empty_predictions(pool, epi):
    assert check_myocardium(pool, epi).flags[0] == ("empty",)


def test_every_flag_is_listed_and_shapes_are_checked():
    flags = {f for f in check_myocardium(
        [POOL, POOL, np.zeros_like(POOL)],
        [EPI & ~((COLS > 21) & (abs(ROWS - 15) <= 1)), RADIUS <= 5, EPI],
    ).flags for f in f}
    assert flags <= set(MYOCARDIUM_FLAGS)
    with pytest.raises(ValueError, match="same shape"):
        check_myocardium(POOL, EPI[:-1])
