"""Blood-pool and myocardium intensity distributions, and the KS test between them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import ks_2samp
from sklearn.utils import Bunch

from ..utils._validation import check_images_like_masks, check_mask_pair

__all__ = ["intensity_distributions", "blood_myocardium_ks", "KS_DTYPE"]

#: dtype of the records returned by :func:`blood_myocardium_ks`.
KS_DTYPE = np.dtype(
    [
        ("statistic", np.float64),
        ("pvalue", np.float64),
        ("n_blood", np.int64),
        ("n_myocardium", np.int64),
        ("blood_median", np.float64),
        ("myocardium_median", np.float64),
    ]
)


def _check_inputs(images, inner, outer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inner, outer = check_mask_pair(inner, outer, ("inner", "outer"))
    return check_images_like_masks(images, inner.shape), inner, outer


def intensity_distributions(images: ArrayLike, inner: ArrayLike, outer: ArrayLike) -> Bunch:
    """Per-slice intensities of the blood pool and of the myocardium ring.

    The blood pool is inside the i-contour (``inner``); the myocardium ring is
    inside the o-contour (``outer``) and not inside the i-contour. A slice
    without an i-contour (``inner`` all False) has no ring: its o-contour disk
    holds blood and muscle, so both its samples are empty. NaN pixels are left
    out.

    Parameters
    ----------
    images : array-like of shape (n, H, W), (n, C, H, W) or (H, W)
        Intensities; channel 0 for 4-D input.
    inner : array-like of shape (n, H, W) or (H, W)
        The i-contour (endocardium) masks.
    outer : array-like of shape (n, H, W) or (H, W)
        The o-contour (epicardium) masks.

    Returns
    -------
    Bunch
        Dictionary-like object with these attributes:

        blood : list of ndarray
            One 1-D float array per slice.
        myocardium : list of ndarray
            One 1-D float array per slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import intensity_distributions
    >>> image = np.arange(16.0).reshape(4, 4)
    >>> outer = np.zeros((4, 4), bool); outer[:3, :3] = True
    >>> inner = np.zeros((4, 4), bool); inner[1, 1] = True
    >>> dist = intensity_distributions(image, inner, outer)
    >>> dist.blood[0], dist.myocardium[0]
    (array([5.]), array([ 0.,  1.,  2.,  4.,  6.,  8.,  9., 10.]))
    """
    images, inner, outer = _check_inputs(images, inner, outer)
    finite = np.isfinite(images)
    blood = [image[mask & ok] for image, mask, ok in zip(images, inner, finite)]
    # No i-contour, no ring: the whole o-contour disk is not myocardium.
    ring = outer & ~inner & inner.any(axis=(1, 2), keepdims=True)
    myocardium = [image[mask & ok] for image, mask, ok in zip(images, ring, finite)]
    return Bunch(blood=blood, myocardium=myocardium)


def blood_myocardium_ks(images: ArrayLike, inner: ArrayLike, outer: ArrayLike) -> np.recarray:
    """Two-sample KS test between blood-pool and myocardium intensities, per slice.

    How separable the two tissues are by intensity alone: a large statistic
    (near 1) means a single threshold can split them; overlapping peaks give a
    small statistic. Uses :func:`scipy.stats.ks_2samp` (two-sided).

    Parameters
    ----------
    images : array-like of shape (n, H, W), (n, C, H, W) or (H, W)
        Intensities; channel 0 for 4-D input. NaN pixels are left out.
    inner : array-like of shape (n, H, W) or (H, W)
        The i-contour (endocardium) masks: the blood pool.
    outer : array-like of shape (n, H, W) or (H, W)
        The o-contour (epicardium) masks; the ring is ``outer & ~inner`` (empty
        on a slice without an i-contour).

    Returns
    -------
    numpy.recarray of shape (n,)
        Fields (:data:`KS_DTYPE`): ``statistic``, ``pvalue``, ``n_blood``,
        ``n_myocardium``, ``blood_median``, ``myocardium_median``. Where a
        sample is empty (no i- or no o-contour, or everything NaN), the
        statistic, p-value and that sample's median are NaN. No slices give
        an empty array.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.analysis import blood_myocardium_ks
    >>> image = np.full((8, 8), 100.0); image[2:6, 2:6] = 300.0
    >>> outer = np.zeros((8, 8), bool); outer[1:7, 1:7] = True
    >>> inner = image > 200
    >>> result = blood_myocardium_ks(image, inner, outer)
    >>> float(result.statistic[0]), int(result.n_blood[0]), int(result.n_myocardium[0])
    (1.0, 16, 20)
    """
    dist = intensity_distributions(images, inner, outer)
    rows = []
    for blood, ring in zip(dist.blood, dist.myocardium):
        if blood.size and ring.size:
            test = ks_2samp(blood, ring)
            statistic, pvalue = float(test.statistic), float(test.pvalue)
        else:
            statistic = pvalue = np.nan
        rows.append(
            (
                statistic,
                pvalue,
                blood.size,
                ring.size,
                np.median(blood) if blood.size else np.nan,
                np.median(ring) if ring.size else np.nan,
            )
        )
    # np.rec.array fails on an empty list; this form does not.
    return np.array(rows, dtype=KS_DTYPE).view(np.recarray)
