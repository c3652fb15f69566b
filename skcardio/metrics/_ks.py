"""Kolmogorov-Smirnov comparison of the intensities under two masks."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import ks_2samp

from ..utils._validation import check_images_like_masks, check_masks

__all__ = ["ks_score"]


def _empty_rule(has_true: bool, has_pred: bool) -> tuple[float, float] | None:
    """(statistic, p-value) when a side is empty: both -> alike, one -> apart; else None."""
    if has_true and has_pred:
        return None
    return (0.0, 1.0) if has_true == has_pred else (1.0, 0.0)


def _ks_slice(image: np.ndarray, truth: np.ndarray, pred: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """(statistic, p-value) of one slice, with the empty rule."""
    # The masks decide first, as for IoU and Dice: a missed blood pool scores
    # 0 even when its pixels are all non-finite (e.g. outside the region);
    # then the samples left once non-finite pixels are out.
    empty = _empty_rule(bool(truth.any()), bool(pred.any()))
    if empty is not None:
        return empty
    sample_true, sample_pred = image[truth & ok], image[pred & ok]
    empty = _empty_rule(sample_true.size > 0, sample_pred.size > 0)
    if empty is not None:
        return empty
    result = ks_2samp(sample_pred, sample_true)
    return float(result.statistic), float(result.pvalue)


def ks_score(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    images: ArrayLike,
    per_slice: bool = False,
    return_statistic: bool = False,
) -> float | np.ndarray | tuple[float | np.ndarray, float | np.ndarray]:
    """Two-sample Kolmogorov-Smirnov test of intensities under the predicted vs the true mask.

    For each slice, the image intensities under ``y_pred`` and under ``y_true``
    are compared with :func:`scipy.stats.ks_2samp` (two-sided, ``method="auto"``).
    The score is the p-value: higher means the predicted region's intensities
    are more alike the expert region's, which is how the original analysis
    used it. It is a measure of intensity similarity, not of overlap: a
    prediction elsewhere in the blood pool can score well.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks: bool, or numbers that are all 0 or 1.
    images : array-like of shape (n, H, W) or (n, C, H, W)
        The slices' intensities; for 4-D input channel 0 is the image (the
        ``[image, region]`` layout of ``DicomLoader(region=...)``). Non-finite
        pixels -- NaN (outside the region after ``RegionSelector``) and
        ``+/-inf`` alike -- are left out of both samples.
    per_slice : bool, default=False
        Return ``(n,)`` arrays instead of means over slices.
    return_statistic : bool, default=False
        Also return the KS statistic (the largest distance between the two
        empirical CDFs, in ``[0, 1]``, lower is more alike).

    Returns
    -------
    pvalue : float or ndarray of shape (n,)
        Mean (or per-slice) p-value in ``[0, 1]``.
    statistic : float or ndarray of shape (n,)
        Only with ``return_statistic=True``.

    Notes
    -----
    Empty rule (per slice): both masks empty gives p-value 1.0 and statistic
    0.0; exactly one mask empty gives p-value 0.0 and statistic 1.0. When both
    masks hold pixels, the same rule applies to the samples left after
    leaving out non-finite pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import ks_score
    >>> rng = np.random.default_rng(0)
    >>> image = rng.normal(size=(1, 40, 40))
    >>> y_true = np.zeros((1, 40, 40), bool); y_true[0, :20] = True
    >>> y_pred = np.zeros((1, 40, 40), bool); y_pred[0, 20:] = True
    >>> ks_score(y_true, y_pred, images=image) > 0.05    # same distribution
    True
    >>> pvalue, statistic = ks_score(y_true, y_pred, images=image + 3 * y_pred,
    ...                              return_statistic=True)
    >>> bool(pvalue < 1e-10), bool(statistic > 0.8)     # shifted by 3 sd
    (True, True)
    """
    y_true, y_pred = check_masks(y_true, y_pred)
    images = check_images_like_masks(images, y_true.shape)
    # NaN marks pixels outside the region; inf is no intensity either, and
    # ks_2samp cannot rank it meaningfully against finite values.
    finite = np.isfinite(images)
    results = np.array(
        [
            _ks_slice(image, truth, pred, ok)
            for image, truth, pred, ok in zip(images, y_true, y_pred, finite)
        ]
    ).reshape(-1, 2)
    statistic, pvalue = results[:, 0], results[:, 1]
    if not per_slice:
        statistic, pvalue = float(statistic.mean()), float(pvalue.mean())
    return (pvalue, statistic) if return_statistic else pvalue
