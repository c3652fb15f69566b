"""Shape post-processing of a raw foreground mask inside its region."""

from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import convex_hull_image, disk

from .._numbers import check_bool, is_nonnegative_int
from ..io._mask import largest_component

__all__ = ["postprocess_mask", "validate_postprocess_params", "largest_component"]

_INT_PARAMS = ("border_margin", "opening", "dilation")
_BOOL_PARAMS = ("keep_largest", "fill_holes", "convex_hull")


def validate_postprocess_params(**params) -> None:
    """Raise ``ValueError`` for invalid post-processing parameters."""
    for name in _INT_PARAMS:
        if not is_nonnegative_int(params[name]):
            raise ValueError(f"{name} must be an int >= 0 (pixels), got {params[name]!r}")
    for name in _BOOL_PARAMS:
        check_bool(name, params[name])


@functools.lru_cache(maxsize=32)
def _disk(radius: int) -> np.ndarray:
    """``skimage.morphology.disk(radius)``, built once per radius (read-only)."""
    # A grid search applies the same few radii to every slice of every fold.
    footprint = disk(radius)
    footprint.flags.writeable = False
    return footprint


def postprocess_mask(
    mask: np.ndarray,
    region: np.ndarray,
    *,
    border_margin: int = 0,
    opening: int = 0,
    keep_largest: bool = False,
    fill_holes: bool = False,
    convex_hull: bool = False,
    dilation: int = 0,
) -> np.ndarray:
    """Apply the shape steps in a fixed order and clip the result to ``region``.

    Order: drop pixels within ``border_margin`` of the region's edge, opening
    with a disk of radius ``opening``, keep the largest object, fill holes,
    convex hull, dilation with a disk of radius ``dilation``, then ``& region``
    (the result is never True outside the region).
    """
    mask = mask & region
    if border_margin:
        # The myocardium separates the blood pool from the epicardium, so bright
        # pixels touching the region's edge are not blood pool.
        mask &= ndi.binary_erosion(region, _disk(border_margin))
    if opening:
        mask = ndi.binary_opening(mask, _disk(opening))
    if keep_largest:
        mask = largest_component(mask)
    if fill_holes:
        mask = ndi.binary_fill_holes(mask)
    if convex_hull and mask.any():
        mask = convex_hull_image(mask)
    if dilation:
        mask = ndi.binary_dilation(mask, _disk(dilation))
    return mask & region
