"""QC of predicted blood pool and epicardium: anatomy a myocardium must have, checked per slice."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage
from sklearn.utils import Bunch

from ..utils._validation import check_mask_pair

__all__ = ["MYOCARDIUM_FLAGS", "check_myocardium"]

#: Flags of :func:`check_myocardium`, in the order they are listed.
MYOCARDIUM_FLAGS = ("empty", "pool_outside_epicardium", "open_ring", "thin_wall")

_EIGHT = np.ones((3, 3), bool)


def check_myocardium(blood_pool: ArrayLike, epicardium: ArrayLike) -> Bunch:
    """Flag slices whose predicted blood pool and epicardium are not a plausible ventricle.

    Short-axis slices through the left ventricle show the blood pool inside
    a ring of myocardium, itself inside the epicardium. Each slice gets the
    flags (in :data:`MYOCARDIUM_FLAGS`) that apply:

    * ``"empty"`` -- the blood pool or the epicardium has no pixel (the
      other checks then say nothing more);
    * ``"pool_outside_epicardium"`` -- some blood-pool pixel is outside the
      epicardium;
    * ``"open_ring"`` -- the myocardium (epicardium minus blood pool) does
      not enclose the blood pool: some pool pixel is not in a hole of the
      myocardium (holes are 4-connected background, so a ring closed through
      diagonal neighbours counts as closed);
    * ``"thin_wall"`` -- somewhere the wall is thinner than one pixel: a
      pool pixel inside the epicardium has a neighbour (of 8, beyond the
      image edge included) outside it, i.e. no whole myocardium pixel
      separates them.

    Basal slices above the mitral valve and the apex beyond the cavity can
    legitimately break the ring; the flags point at slices to look at, they
    do not say the prediction is wrong.

    Parameters
    ----------
    blood_pool : array-like of shape (n, H, W) or (H, W), bool
        Predicted blood pool (channel 0 of ``UNetSegmenter(target="both").predict``).
    epicardium : array-like of the same shape, bool
        Predicted epicardium (channel 1).

    Returns
    -------
    Bunch
        Per-slice results with these fields:

        flags : ndarray of shape (n,), object
            One tuple of flag names per slice; ``()`` for a clean slice.
        flagged : ndarray of shape (n,), bool
            Whether a slice has any flag.
        pool_outside_px : ndarray of shape (n,), int
            Blood-pool pixels outside the epicardium.
        myocardium_px : ndarray of shape (n,), int
            Pixels of the myocardium.

    Raises
    ------
    ValueError
        If a mask is not boolean (or 0/1) or the shapes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.qc import check_myocardium
    >>> rows, cols = np.mgrid[:20, :20]
    >>> radius = np.hypot(rows - 10, cols - 10)
    >>> pool, epi = radius <= 4, radius <= 7
    >>> cut = epi & ~((cols > 14) & (abs(rows - 10) <= 1))   # a gap in the wall
    >>> check_myocardium([pool, pool], [epi, cut]).flags.tolist()
    [(), ('open_ring', 'thin_wall')]
    """
    pool, epi = check_mask_pair(blood_pool, epicardium, ("blood_pool", "epicardium"))
    flags = np.empty(len(pool), dtype=object)
    for i, (p, e) in enumerate(zip(pool, epi)):
        flags[i] = _slice_flags(p, e)
    return Bunch(
        flags=flags,
        flagged=np.array([bool(f) for f in flags]),
        pool_outside_px=(pool & ~epi).sum(axis=(1, 2)),
        myocardium_px=(epi & ~pool).sum(axis=(1, 2)),
    )


def _slice_flags(pool: np.ndarray, epi: np.ndarray) -> tuple[str, ...]:
    if not pool.any() or not epi.any():
        return ("empty",)
    found = []
    if (pool & ~epi).any():
        found.append("pool_outside_epicardium")
    myocardium = epi & ~pool
    enclosed = ndimage.binary_fill_holes(myocardium) & ~myocardium
    if (pool & ~enclosed).any():
        found.append("open_ring")
    # Outside the image counts as outside the epicardium: pad with background.
    outside = np.pad(~epi, 1, constant_values=True)
    near_outside = ndimage.binary_dilation(outside, _EIGHT)[1:-1, 1:-1]
    if (pool & epi & near_outside).any():  # pool outside the epicardium is flagged above
        found.append("thin_wall")
    return tuple(found)
