"""The myocardium from predicted (or expert) masks: the epicardial region minus the blood pool."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..utils._validation import check_mask_pair

__all__ = ["myocardium_mask"]


def myocardium_mask(blood_pool: ArrayLike, epicardium: ArrayLike) -> np.ndarray:
    """Myocardium masks: inside the epicardium and not in the blood pool.

    Parameters
    ----------
    blood_pool : array-like of shape (n, H, W) or (H, W), bool
        Endocardial region (e.g. channel 0 of ``UNetSegmenter(target="both").predict``).
    epicardium : array-like of the same shape, bool
        Epicardial region, blood pool included (channel 1).

    Returns
    -------
    ndarray of bool, of the inputs' shape
        Blood-pool pixels outside the epicardium are not myocardium either
        (:func:`skcardio.qc.check_myocardium` flags such predictions).

    Raises
    ------
    ValueError
        If a mask is not boolean (or 0/1) or the shapes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import myocardium_mask
    >>> rows, cols = np.mgrid[:9, :9]
    >>> radius = np.hypot(rows - 4, cols - 4)
    >>> ring = myocardium_mask(radius <= 2, radius <= 3.5)
    >>> ring.shape, int(ring.sum())
    ((9, 9), 24)
    """
    pool, epi = check_mask_pair(blood_pool, epicardium, ("blood_pool", "epicardium"))
    return (epi & ~pool).reshape(np.shape(blood_pool))
