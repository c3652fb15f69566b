"""Overlap metrics: intersection over union (Jaccard) and Dice."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._numbers import check_real
from ..utils._validation import check_masks, mean_over_slices

__all__ = ["iou_score", "dice_score", "fraction_iou_above"]


def _counts(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-slice pixel counts: intersection, |true|, |pred|."""
    y_true, y_pred = check_masks(y_true, y_pred)
    return (
        _count_per_slice(np.logical_and(y_true, y_pred)),
        _count_per_slice(y_true),
        _count_per_slice(y_pred),
    )


def _count_per_slice(masks: np.ndarray) -> np.ndarray:
    """True pixels of each slice of a bool ``(n, H, W)`` stack, as int64."""
    # One np.count_nonzero per slice: about 7x faster than .sum(axis=(1, 2)),
    # which casts every pixel to an integer (scorers run once per candidate
    # and fold of a grid search).
    return np.fromiter((np.count_nonzero(mask) for mask in masks), np.int64, len(masks))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 1.0 where both masks are empty (denominator 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator / denominator
    # Both empty: the prediction agrees with the expert that there is nothing.
    return np.where(denominator == 0, 1.0, ratio)


def _reduce(values: np.ndarray, per_slice: bool, sample_weight: ArrayLike | None) -> float | np.ndarray:
    """The per-slice scores, or their (weighted) mean."""
    if per_slice:
        if sample_weight is not None:
            raise ValueError("sample_weight weighs the mean over slices; with per_slice=True, weigh the scores yourself")
        return values
    return mean_over_slices(values, sample_weight)


def iou_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, per_slice: bool = False, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Intersection over union (Jaccard index) of boolean masks, per slice.

    ``IoU = |T ∩ P| / |T ∪ P|`` for each slice, then the mean over slices.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks: bool, or numbers that are all 0 or 1. A
        single ``(H, W)`` slice counts as ``n = 1``.
    per_slice : bool, default=False
        Return the ``(n,)`` per-slice scores instead of their mean.
    sample_weight : array-like of shape (n,), default=None
        Weights of the slices in the mean (e.g. routed by scikit-learn's
        metadata routing to a scorer); ``None``: every slice counts the same.

    Returns
    -------
    float or ndarray of shape (n,)
        In ``[0, 1]``, higher is better.

    Notes
    -----
    Empty-mask rule (per slice): both masks empty gives 1.0 (the prediction
    agrees that there is nothing); exactly one empty gives 0.0.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import iou_score
    >>> y_true = np.zeros((1, 4, 4), bool); y_true[0, :2, :2] = True   # 4 px
    >>> y_pred = np.zeros((1, 4, 4), bool); y_pred[0, :2, :1] = True   # 2 px inside
    >>> iou_score(y_true, y_pred)   # 2 / 4
    0.5
    """
    intersection, n_true, n_pred = _counts(y_true, y_pred)
    return _reduce(_ratio(intersection, n_true + n_pred - intersection), per_slice, sample_weight)


def dice_score(
    y_true: ArrayLike, y_pred: ArrayLike, *, per_slice: bool = False, sample_weight: ArrayLike | None = None
) -> float | np.ndarray:
    """Dice coefficient of boolean masks, per slice.

    ``Dice = 2 |T ∩ P| / (|T| + |P|)`` for each slice, then the mean over
    slices. Per slice, ``Dice = 2 IoU / (1 + IoU)``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks: bool, or numbers that are all 0 or 1.
    per_slice : bool, default=False
        Return the ``(n,)`` per-slice scores instead of their mean.
    sample_weight : array-like of shape (n,), default=None
        Weights of the slices in the mean (e.g. routed by scikit-learn's
        metadata routing to a scorer); ``None``: every slice counts the same.

    Returns
    -------
    float or ndarray of shape (n,)
        In ``[0, 1]``, higher is better.

    Notes
    -----
    Empty-mask rule (per slice): both masks empty gives 1.0; exactly one
    empty gives 0.0 (the same rule as :func:`iou_score`).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import dice_score
    >>> y_true = np.zeros((4, 4), bool); y_true[:2, :2] = True   # 4 px
    >>> y_pred = np.zeros((4, 4), bool); y_pred[:2, :1] = True   # 2 px inside
    >>> round(dice_score(y_true, y_pred), 4)   # 2 * 2 / (4 + 2)
    0.6667
    """
    intersection, n_true, n_pred = _counts(y_true, y_pred)
    return _reduce(_ratio(2.0 * intersection, n_true + n_pred), per_slice, sample_weight)


def fraction_iou_above(
    y_true: ArrayLike, y_pred: ArrayLike, *, threshold: float = 0.75, sample_weight: ArrayLike | None = None
) -> float:
    """Fraction of slices whose IoU is strictly above ``threshold``.

    The original analysis summarised Otsu inside the o-contour by the share
    of slices with IoU > 0.75.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks.
    threshold : float, default=0.75
        IoU a slice must exceed to count.
    sample_weight : array-like of shape (n,), default=None
        Weights of the slices (e.g. routed by scikit-learn's metadata routing
        to a scorer): the weighted share of slices above ``threshold``;
        ``None``: every slice counts the same.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import fraction_iou_above
    >>> y_true = np.ones((2, 2, 2), bool)
    >>> y_pred = y_true.copy(); y_pred[1, 0] = False   # IoU 1.0 and 0.5
    >>> fraction_iou_above(y_true, y_pred)
    0.5
    """
    # Beyond [0, 1] every slice would silently count as bad (or good).
    check_real("threshold", threshold, "an IoU in [0, 1]", lambda v: 0 <= v <= 1)
    above = iou_score(y_true, y_pred, per_slice=True) > threshold
    return float(mean_over_slices(above.astype(float), sample_weight))
