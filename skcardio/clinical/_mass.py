"""LV myocardial mass: myocardial volume (summation of slices) times the density of muscle."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._numbers import check_real, is_finite_number
from ..utils._validation import check_mask, check_spacing

__all__ = ["MYOCARDIUM_DENSITY", "lv_mass"]

#: Density of myocardium in g/mL, the value used in cardiac MRI reporting.
MYOCARDIUM_DENSITY = 1.05


def lv_mass(
    myocardium: ArrayLike,
    pixel_spacing: ArrayLike,
    slice_thickness: float | ArrayLike,
    *,
    density: float = MYOCARDIUM_DENSITY,
) -> float:
    """Left-ventricular myocardial mass in grams, from the myocardium of one phase.

    Summation of slices: every slice's myocardial area (pixels x pixel area)
    times its disc's height is its volume; the mass is the total volume in
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
    slice_thickness : float or array-like of shape (n_slices,)
        Height in mm of each slice's disc: the distance between the centres
        of adjacent slices (slice thickness plus gap) on a regular stack;
        per slice where the gaps differ, e.g. the
        :attr:`~skcardio.io.CineGeometry.disc_thickness` of the slices given
        (``geometry.disc_thickness[keep]``), the discs of
        :func:`~skcardio.clinical.lv_volumes`.
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
        positive finite number, or the thicknesses are not one per slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.clinical import lv_mass
    >>> ring = np.zeros((2, 100, 100), bool); ring[:, 20:80, 20:80] = True
    >>> ring[:, 35:65, 35:65] = False   # 2,700 pixels per slice
    >>> round(lv_mass(ring, 1.0, 10.0), 2)   # 2 x 2,700 mm2 x 10 mm = 54 mL
    56.7
    >>> round(lv_mass(ring, 1.0, [10.0, 15.0]), 2)   # 2,700 mm2 x (10 + 15) mm = 67.5 mL
    70.88
    """
    masks = check_mask(myocardium, "myocardium")
    spacing = check_spacing(pixel_spacing, len(masks))
    thickness = _disc_heights(slice_thickness, len(masks))
    check_real("density", density, "a positive finite number", lambda v: v > 0)
    areas_mm2 = masks.sum(axis=(1, 2)) * spacing[:, 0] * spacing[:, 1]
    volume_ml = float(areas_mm2 @ thickness) / 1000.0
    return volume_ml * float(density)


def _disc_heights(slice_thickness, n_slices: int) -> np.ndarray:
    """``slice_thickness`` as one height (mm) per slice: a number for all, or one per slice."""
    if isinstance(slice_thickness, np.ndarray) and slice_thickness.ndim == 0:
        slice_thickness = slice_thickness[()]
    if not isinstance(slice_thickness, (list, tuple, np.ndarray)):
        check_real("slice_thickness", slice_thickness, "a positive finite number", lambda v: v > 0)
        return np.full(n_slices, float(slice_thickness))
    heights = np.asarray(slice_thickness)
    if heights.shape != (n_slices,):
        raise ValueError(
            f"slice_thickness must be a number or one per slice, shape ({n_slices},), got shape {heights.shape}"
        )
    bad = [(i, v) for i, v in enumerate(heights.tolist()) if not (is_finite_number(v) and v > 0)]
    if bad:
        listed = ", ".join(f"{v!r} at slice {i}" for i, v in bad[:3]) + (" ..." if len(bad) > 3 else "")
        raise ValueError(f"slice_thickness must be positive finite numbers, one per slice, got {listed}")
    return heights.astype(float)
