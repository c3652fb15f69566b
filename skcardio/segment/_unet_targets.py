"""Several targets of :class:`UNetSegmenter` (``target="both"``): label checks, channels, scoring."""

from __future__ import annotations

import numpy as np

from ..metrics import dice_score

__all__ = ["mean_known_dice"]


def _channels(proba: np.ndarray) -> list[np.ndarray]:
    """Views of the 2-D maps of one slice: ``(H, W)`` -> [it], ``(K, H, W)`` -> its K channels."""
    return [proba] if proba.ndim == 2 else list(proba)


def _check_both(y, X: np.ndarray) -> np.ndarray:
    """``y`` of ``target="both"`` as int8 ``(n, 2, H, W)``: 1/0, and -1 for an unknown channel."""
    y = np.asarray(y)
    expected = (X.shape[0], 2, *X.shape[2:])
    if y.shape != expected:
        raise ValueError(
            f"y must be masks of shape {expected} for target='both' (channel 0 the blood pool, "
            f"channel 1 the epicardium), matching X, got shape {y.shape}"
        )
    if y.dtype == bool:
        return y.astype(np.int8)
    if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise ValueError(f"y must be boolean, integer or float masks, got dtype {y.dtype}")
    unknown = (y == -1) | np.isnan(y) if np.issubdtype(y.dtype, np.floating) else y == -1
    bad = ~unknown & ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(
            f"y must hold 0/1 (or -1 / NaN for an unknown label), got {bad.sum()} other value(s), "
            f"e.g. {y[bad][0].item()!r} at index {tuple(int(i) for i in np.argwhere(bad)[0])}"
        )
    whole = unknown.all(axis=(2, 3))
    partial = unknown.any(axis=(2, 3)) & ~whole
    if partial.any():
        i, c = np.argwhere(partial)[0]
        raise ValueError(
            f"y[{i}, {c}] is partly unknown: a label is known or unknown for a whole slice "
            "channel (all -1 / NaN), not pixel by pixel"
        )
    if whole.all(axis=1).any():
        raise ValueError(
            f"slice {int(np.flatnonzero(whole.all(axis=1))[0])} of y has no known label; "
            "each slice needs the blood pool or the epicardium"
        )
    labels = np.where(unknown, -1, y).astype(np.int8)
    return labels


def mean_known_dice(labels: np.ndarray, pred: np.ndarray, sample_weight=None) -> float:
    """Mean over slices of the Dice of each slice's known channels (``labels`` from :func:`_check_both`)."""
    known = (labels >= 0).all(axis=(2, 3))
    per_map = np.atleast_1d(dice_score(labels[known] > 0, pred[known], per_slice=True))
    per_slice = np.zeros(known.shape)
    per_slice[known] = per_map
    per_slice = per_slice.sum(axis=1) / known.sum(axis=1)
    return float(np.average(per_slice, weights=sample_weight))
