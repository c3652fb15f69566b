"""lv_volumes, slice_areas and cardiac_function against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skcardio.clinical import cardiac_function, lv_volumes, slice_areas
from skcardio.exceptions import SkcardioWarning
from skcardio.io import CineGeometry


def geometry(positions, pixel_spacing=(1.2, 1.5), n_phases=2) -> CineGeometry:
    positions = np.asarray(positions, float)
    n = len(positions)
    return CineGeometry(
        pixel_spacing, positions, float(np.median(np.diff(positions))) if n > 1 else 8.0, "ImagePositionPatient", "",
        8.0, (0.0, 0.0, 1.0), np.zeros((n_phases, n)), np.ones((n_phases, n), int), np.empty((n_phases, n), object), ("1",),
    )


def test_volumes_are_area_times_spacing():
    g = geometry([0.0, 10.0, 20.0])
    masks = np.zeros((2, 3, 20, 20), bool)
    masks[0, :, :10, :10] = True  # 100 px per slice
    masks[1, 1, :5, :4] = True  # 20 px on one slice
    pixel = 1.2 * 1.5
    np.testing.assert_allclose(slice_areas(masks, g), [[100 * pixel] * 3, [0, 20 * pixel, 0]])
    np.testing.assert_allclose(lv_volumes(masks, g), [300 * pixel * 10 / 1000, 20 * pixel * 10 / 1000])
    # Only the middle slice counted:
    np.testing.assert_allclose(lv_volumes(masks, g, slices=[False, True, False]), [100 * pixel * 10 / 1000, 20 * pixel * 10 / 1000])


def test_irregular_positions_weight_each_slice_by_half_its_gaps():
    g = geometry([0.0, 6.0, 16.0])  # gaps 6 and 10
    masks = np.ones((1, 3, 2, 2), bool)  # 4 px per slice
    pixel = 1.2 * 1.5
    expected = 4 * pixel * (6 + 8 + 10) / 1000
    assert lv_volumes(masks, g)[0] == pytest.approx(expected)


def test_observed_makes_unsegmented_phases_nan():
    g = geometry([0.0, 8.0], n_phases=3)
    masks = np.ones((3, 2, 4, 4), bool)
    observed = np.array([[True, False], [False, False], [True, True]])
    volumes = lv_volumes(masks, g, observed=observed)
    assert math.isnan(volumes[1])
    # Unobserved slices of an observed phase still count what the masks hold (the caller zeroes them).
    np.testing.assert_allclose(volumes[[0, 2]], 2 * 16 * 1.8 * 8 / 1000)


@pytest.mark.parametrize(
    "masks, message",
    [
        (np.full((2, 3, 4, 4), 2, np.uint8), "masks must be boolean .*values such as \\[2\\]"),
        (np.ones((3, 4, 4), bool), "must have shape \\(n_phases, n_slices, H, W\\)"),
        (np.ones((2, 3, 2, 4, 4), bool), "two masks per image .*pass the blood pools, masks\\[:, :, 0\\]"),
        (np.ones((2, 2, 4, 4), bool), "masks have 2 slice"),
    ],
)
def test_bad_masks(masks, message):
    with pytest.raises(ValueError, match=message):
        lv_volumes(masks, geometry([0.0, 8.0, 16.0]))


def test_cardiac_function():
    f = cardiac_function([150.0, 120.0, 60.0, 90.0, np.nan], heart_rate=80)
    assert (f.ed_phase, f.es_phase) == (0, 2)
    assert (f.edv, f.esv, f.sv) == (150.0, 60.0, 90.0)
    assert f.ef == pytest.approx(60.0)
    assert f.cardiac_output == pytest.approx(90 * 80 / 1000)
    assert f.as_dict()["ef"] == f.ef
    given = cardiac_function([150.0, 120.0, 60.0, 90.0], ed_phase=1, es_phase=3)
    assert (given.edv, given.esv, given.ef) == (120.0, 90.0, 25.0)
    assert math.isnan(given.heart_rate) and math.isnan(given.cardiac_output)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ed_phase=4), "ed_phase must be a phase index from 0 to 3"),
        (dict(es_phase=1.0), "es_phase must be a phase index"),
        (dict(es_phase=3), "es_phase=3 has no volume"),
    ],
)
def test_cardiac_function_bad_phases(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cardiac_function([10.0, 5.0, 7.0, np.nan], **kwargs)


@pytest.mark.parametrize("volumes", [[42.0], [np.nan, 42.0, np.nan]])
def test_one_measured_phase_gives_no_ef(volumes):
    # ED = ES = the one phase: an EF of 0 would look like a measurement.
    with pytest.warns(SkcardioWarning, match=r"only 1 of \d phase\(s\) has a volume.*EF and cardiac output are NaN"):
        f = cardiac_function(volumes, heart_rate=60)
    phase = int(np.nanargmax(volumes))
    assert (f.edv, f.esv, f.ed_phase, f.es_phase) == (42.0, 42.0, phase, phase)
    assert math.isnan(f.sv) and math.isnan(f.ef) and math.isnan(f.cardiac_output)


def test_two_equal_volumes_are_an_ef_of_zero():
    # Two measured phases of one volume: a measured (absent) contraction, no warning.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = cardiac_function([50.0, 50.0])
    assert (f.sv, f.ef) == (0.0, 0.0)


@pytest.mark.parametrize(
    "volumes, kwargs, message",
    [
        ([100.0, -20.0, 50.0], {}, "volumes must be numbers >= 0 in mL .*got -20.0 at phase 1"),
        ([100.0, np.inf, 50.0], {}, "got inf at phase 1"),  # was dropped as if NaN
        ([100.0, 50.0], {"heart_rate": -60}, "heart_rate must be a positive number .*got -60"),
        ([100.0, 50.0], {"heart_rate": np.inf}, "heart_rate must be .*got inf"),
        ([100.0, 50.0], {"heart_rate": "70"}, "heart_rate must be .*got '70'"),
    ],
)
def test_cardiac_function_refuses_impossible_values(volumes, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cardiac_function(volumes, **kwargs)


def test_swapped_phases_warn_of_a_negative_ef():
    with pytest.warns(SkcardioWarning, match=r"end-systolic volume \(phase 0, 150 mL\) exceeds .*swapped\?"):
        f = cardiac_function([150.0, 120.0, 60.0], ed_phase=2, es_phase=0)
    assert f.ef == pytest.approx(-150.0)


def test_cardiac_function_needs_a_volume():
    with pytest.raises(ValueError, match="at least one finite value"):
        cardiac_function([np.nan, np.nan])


def test_masks_of_zeros_and_ones_and_slices_as_indices():
    # The metrics take 0/1 masks; lv_volumes refused them, and index lists of slices.
    g = geometry([0.0, 8.0, 16.0, 24.0])
    masks = np.zeros((2, 4, 4, 4), bool)
    masks[:, :, 1:3, 1:3] = True
    expected = lv_volumes(masks, g, slices=np.array([False, True, True, False]))
    np.testing.assert_array_equal(lv_volumes(masks.astype(np.uint8), g, slices=[1, 2]), expected)
    np.testing.assert_array_equal(lv_volumes(masks, g, slices=np.array([2, 1])), expected)
    assert (lv_volumes(masks, g, slices=[]) == 0).all()
    for bad, message in (([1, 4], "slice indices must be from 0 to 3, got \\[1, 4\\]"),
                         ([0.5], "bool mask of 4 slices or slice indices"),
                         (np.ones(3, bool), "bool mask must have shape \\(4,\\)"),
                         ([1, 1, 0, 1], "could be a mask of 0/1 or slice indices")):
        with pytest.raises(ValueError, match=message):
            lv_volumes(masks, g, slices=bad)
