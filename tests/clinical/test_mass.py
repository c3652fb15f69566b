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
