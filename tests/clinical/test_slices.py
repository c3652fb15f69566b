"""select_lv_slices: the documented found / on-axis / contiguous rule."""

from __future__ import annotations

import numpy as np

from skcardio.clinical import select_lv_slices
from skcardio.io import CineGeometry


def geometry(n_slices, n_phases) -> CineGeometry:
    return CineGeometry(
        (1.0, 1.0), np.arange(n_slices) * 8.0, 8.0, "ImagePositionPatient", "", 8.0, (0.0, 0.0, 1.0),
        np.zeros((n_phases, n_slices)), np.ones((n_phases, n_slices), int), np.empty((n_phases, n_slices), object), ("1",),
    )


def square(masks, phases, slice_, top, left, side=10):
    masks[phases, slice_, top : top + side, left : left + side] = True


def test_rule_in_order():
    n_phases, n_slices = 10, 7
    masks = np.zeros((n_phases, n_slices, 100, 100), bool)
    for s in (1, 2, 3, 5):
        square(masks, slice(None), s, 40, 40)  # the LV, every phase
    square(masks, slice(0, 4), 0, 40, 40)  # found in 4 of 10 phases only
    square(masks, slice(None), 4, 5, 80)  # every phase, but 53 mm off the axis (35 and 40 mm)
    square(masks, slice(None), 6, 0, 0, side=3)  # 9 mm² < 20 mm²: never found
    selection = select_lv_slices(masks, geometry(n_slices, n_phases))
    np.testing.assert_array_equal(selection.keep, [False, True, True, True, False, False, False])
    assert selection.reasons[0] == "excluded: blood pool found in 4 of 10 phases (< 50 %)"
    assert selection.reasons[4].startswith("excluded: pool centre 53 mm from the LV axis (> 25 mm)")
    assert selection.reasons[5] == "excluded: separated from the LV stack by an excluded slice"
    assert selection.reasons[6] == "excluded: blood pool found in 0 of 10 phases (< 50 %)"
    assert selection.reasons[1] == "kept: blood pool in 10 of 10 phases, 0 mm from the LV axis"
    np.testing.assert_array_equal(selection.phases_found, [4, 10, 10, 10, 10, 10, 0])
    assert selection.max_area_mm2[1] == 100
    rows = selection.table(geometry(n_slices, n_phases))
    assert rows[4] == {
        "slice": 4, "position_mm": 32.0, "kept": False, "reason": selection.reasons[4],
        "phases_found": 10, "max_area_mm2": 100.0,
    }


def test_apex_empty_at_end_systole_is_kept():
    masks = np.zeros((4, 2, 50, 50), bool)
    square(masks, slice(None), 0, 20, 20)
    square(masks, [0, 1], 1, 20, 20)  # apex: 2 of 4 phases = 50 %
    selection = select_lv_slices(masks, geometry(2, 4))
    assert selection.keep.all()


def test_nothing_found():
    selection = select_lv_slices(np.zeros((3, 2, 20, 20), bool), geometry(2, 3))
    assert not selection.keep.any() and np.isnan(selection.offset_mm).all()
