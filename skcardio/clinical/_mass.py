"""LV myocardial mass: myocardial volume (summation of slices) times the density of muscle."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..utils._validation import check_mask, check_spacing

__all__ = ["MYOCARDIUM_DENSITY", "lv_mass"]

#: Density of myocardium in g/mL, the value used in cardiac MRI reporting.
MYOCARDIUM_DENSITY = 1.05


def lv_mass(
    myocardium: ArrayLike,
    pixel_spacing: ArrayLike,
    slice_thickness: float,
    *,
    density: float = MYOCARDIUM_DENSITY,
) -> float:
    """Left-ventricular myocardial mass in grams, from the myocardium of one phase.

    Summation of slices: every slice's myocardial area (pixels x pixel area)
    times ``slice_thickness`` is its volume; the mass is the total volume in
    mL times ``density``. Give the myocardium of end-diastole (the clinical
    LV mass), one mask per short-axis slice through the ventricle, e.g.
    :func:`skcardio.segment.myocardium_mask` of a ``target="both"`` U-Net's
    prediction.

    Parameters
    ----------
    myocardium : array-like of shape (n_slices, H, W) or (H, W), bool
        Myocardium masks of one cardiac phase.
    pixel_spacing : float, array-like of shape (2,) or (n_slices, 2)
        Pixel spacing (row, col) in mm, for all slices or per slice.
    slice_thickness : float
        Distance in mm between the centres of adjacent slices (slice
        thickness plus gap): the height of each slice's disc.
    density : float, default=1.05
        Density of myocardium in g/mL.

    Returns
    -------
    float
        Mass in grams.

    Raises
    ------
    ValueError
        If a mask is not boolean, or a spacing, thickness or density is not a
        positive finite number.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.clinical import lv_mass
    >>> ring = np.zeros((2, 100, 100), bool); ring[:, 20:80, 20:80] = True
    >>> ring[:, 35:65, 35:65] = False   # 2,700 pixels per slice
    >>> round(lv_mass(ring, 1.0, 10.0), 2)   # 2 x 2,700 mm2 x 10 mm = 54 mL
    56.7
    """
    masks = check_mask(myocardium, "myocardium")
    spacing = check_spacing(pixel_spacing, len(masks))
    for name, value in (("slice_thickness", slice_thickness), ("density", density)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not (
            np.isfinite(value) and value > 0
        ):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    areas_mm2 = masks.sum(axis=(1, 2)) * spacing[:, 0] * spacing[:, 1]
    volume_ml = float(areas_mm2.sum()) * float(slice_thickness) / 1000.0
    return volume_ml * float(density)
