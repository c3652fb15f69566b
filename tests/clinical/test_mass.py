"""lv_mass: myocardial volume by summation of slices x 1.05 g/mL."""

from __future__ import annotations

import numpy as np
import pytest

from skcardio.clinical import MYOCARDIUM_DENSITY, lv_mass


def test_mass_of_known_rings_with_per_slice_spacing():
    ring = np.zeros((2, 50, 50), bool)
    ring[:, 10:40, 10:40] = True
    ring[:, 15:35, 15:35] = False  # 500 pixels per slice
    spacing = [[1.0, 1.0], [2.0, 0.5]]  # 1 mm2 per pixel in both
    # 1,000 mm2 x 8 mm = 8 mL -> 8.4 g
    assert lv_mass(ring, spacing, 8.0) == pytest.approx(8 * MYOCARDIUM_DENSITY)
    assert lv_mass(ring, (1.5, 1.5), 8.0, density=1.0) == pytest.approx(1000 * 2.25 * 8 / 1000)
    assert lv_mass(np.zeros((3, 4, 4), bool), 1.0, 5.0) == 0.0


@pytest.mark.parametrize("thickness", [0, -1.0, np.nan, np.inf, True, "8"])
def test_refuses_bad_thickness(thickness):
    with pytest.raises(ValueError, match="slice_thickness must be a positive finite number"):
        lv_mass(np.zeros((1, 4, 4), bool), 1.0, thickness)


def test_refuses_bad_masks_and_spacing():
    with pytest.raises(ValueError, match="myocardium must be a boolean mask"):
        lv_mass(np.full((1, 4, 4), 3), 1.0, 8.0)
    with pytest.raises(ValueError, match="spacing must be finite and positive"):
        lv_mass(np.zeros((1, 4, 4), bool), -1.0, 8.0)
    with pytest.raises(ValueError, match="density"):
        lv_mass(np.zeros((1, 4, 4), bool), 1.0, 8.0, density=0)


def test_mass_with_a_disc_height_per_slice():
    """Per-slice heights: each slice's area times its own disc (0, 10, 20, 40, 50 mm: 10, 10, 15, 15, 10 mm)."""
    ring = np.zeros((5, 50, 50), bool)
    ring[:, 10:40, 10:40] = True
    ring[:, 15:35, 15:35] = False  # 500 pixels per slice
    heights = [10.0, 10.0, 15.0, 15.0, 10.0]
    assert lv_mass(ring, 1.0, heights) == pytest.approx(500 * 60 / 1000 * MYOCARDIUM_DENSITY)
    assert lv_mass(ring, 1.0, np.array(heights)) == lv_mass(ring, 1.0, heights)
    assert lv_mass(ring, 1.0, [8.0] * 5) == pytest.approx(lv_mass(ring, 1.0, 8.0))
    assert lv_mass(ring, 1.0, np.array(8.0)) == pytest.approx(lv_mass(ring, 1.0, 8.0))


def test_mass_on_uneven_gaps_counts_the_discs_of_the_volumes():
    """lv_mass with the geometry's disc thicknesses is volumes_from_areas of the myocardial areas x 1.05."""
    from skcardio.clinical import volumes_from_areas
    from skcardio.io import CineGeometry

    positions = np.array([0.0, 10.0, 20.0, 40.0, 50.0])  # a slice missing between 20 and 40 mm
    geometry = CineGeometry((1.0, 1.0), positions, 10.0, "ImagePositionPatient", "", 8.0, (0.0, 0.0, 1.0),
                            np.zeros((1, 5)), np.ones((1, 5), int), np.empty((1, 5), object), ("1",))
    rows, cols = np.mgrid[:64, :64]
    radius = np.hypot(rows - 32, cols - 32)
    ring = np.broadcast_to((radius <= 15) & (radius > 10), (5, 64, 64))
    keep = np.array([True, True, True, True, False])
    mass = lv_mass(ring[keep], geometry.pixel_spacing, geometry.disc_thickness[keep])
    areas = ring.sum(axis=(1, 2))[None].astype(float)
    assert mass == pytest.approx(volumes_from_areas(areas, geometry, slices=keep)[0] * MYOCARDIUM_DENSITY)
    # Independently: the ring's pixels x (10 + 10 + 15 + 15) mm; the median gap alone gave 4 x 10 mm.
    assert mass == pytest.approx(ring[0].sum() * 50 / 1000 * MYOCARDIUM_DENSITY)


@pytest.mark.parametrize("heights, says", [
    ([8.0], r"one per slice, shape \(2,\), got shape \(1,\)"),
    ([8.0, 0.0], r"positive finite numbers, one per slice, got 0\.0 at slice 1"),
    ([np.nan, 8.0], r"got nan at slice 0"),
    (["8", "8"], r"got '8' at slice 0, '8' at slice 1"),
])
def test_refuses_bad_disc_heights(heights, says):
    with pytest.raises(ValueError, match=rf"slice_thickness must be .*{says}"):
        lv_mass(np.zeros((2, 4, 4), bool), 1.0, heights)
