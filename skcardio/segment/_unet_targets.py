"""Several targets of :class:`UNetSegmenter` (``target="both"``): channels and scoring.

The labels are checked by :func:`skcardio.utils._validation.check_network_labels`.
"""

from __future__ import annotations

import numpy as np

from ..metrics import dice_score
from ..utils._validation import mean_over_slices

__all__ = ["mean_known_dice"]


def _channels(proba: np.ndarray) -> list[np.ndarray]:
    """Views of the 2-D maps of one slice: ``(H, W)`` -> [it], ``(K, H, W)`` -> its K channels."""
    return [proba] if proba.ndim == 2 else list(proba)


def mean_known_dice(labels: np.ndarray, pred: np.ndarray, sample_weight=None) -> float:
    """Mean over slices of the Dice of each slice's known channels (``labels`` from ``check_network_labels``)."""
    known = (labels >= 0).all(axis=(2, 3))
    per_map = np.atleast_1d(dice_score(labels[known] > 0, pred[known], per_slice=True))
    per_slice = np.zeros(known.shape)
    per_slice[known] = per_map
    per_slice = per_slice.sum(axis=1) / known.sum(axis=1)
    return mean_over_slices(per_slice, sample_weight)
