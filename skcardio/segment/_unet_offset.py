"""A constant displacement of the labels against the network's output: estimated, then applied.

Random flips in training turn a label drawn half a pixel below the image's
edge into one drawn half a pixel above it, so a network trained with them
cannot learn where an expert's contouring convention puts the outline (the
Sunnybrook contour files sit about half a pixel down and one to the right of
the image's edges; ``benchmarks/README.md``, "Label conventions"). The
displacement is measured once, between the trained network's masks and the
labels of its training slices, and every later prediction is shifted by it.
"""

from __future__ import annotations

import copy

import numpy as np
from scipy import ndimage

__all__ = ["MAX_OFFSET", "check_label_offset", "estimate_label_offset", "measure_label_offset", "shift_proba"]

#: Largest offset (pixels, per axis) a model may hold: a convention is a
#: fraction of a pixel, a few pixels at most; a larger value is a fault.
MAX_OFFSET = 8.0


def estimate_label_offset(masks: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Median (row, col) of label centroid minus predicted-mask centroid, per target.

    Parameters
    ----------
    masks : ndarray of shape (n, H, W) or (n, K, H, W), bool
        The network's masks of the slices.
    labels : ndarray of the same shape
        Their labels: 1 inside, 0 outside; a map holding a negative value
        (unknown label) is left out, as are maps where either is empty.

    Returns
    -------
    ndarray of shape (K, 2), float
        Rows and columns to shift predictions by (0 for a target without a
        usable slice).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._unet_offset import estimate_label_offset
    >>> label = np.zeros((1, 9, 9)); label[0, 3:6, 4:7] = 1
    >>> predicted = np.roll(label, -1, axis=1) > 0  # drawn one row higher
    >>> estimate_label_offset(predicted, label).tolist()
    [[1.0, 0.0]]
    """
    if masks.ndim == 3:
        masks, labels = masks[:, None], labels[:, None]
    offsets = np.zeros((masks.shape[1], 2))
    for target in range(masks.shape[1]):
        shifts = [
            np.subtract(ndimage.center_of_mass(label > 0), ndimage.center_of_mass(mask))
            for mask, label in zip(masks[:, target], labels[:, target])
            if mask.any() and (label > 0).any() and not (label < 0).any()
        ]
        if shifts:
            offsets[target] = np.median(shifts, axis=0)
    return offsets


def measure_label_offset(model, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """:func:`estimate_label_offset` of fitted ``model``'s masks of checked ``X`` against checked ``y``.

    Predicts with a copy whose offset is zero, so ``model`` is never left
    half-changed (an interrupt, an error).
    """
    probe = copy.copy(model)
    probe.label_offset_ = np.zeros_like(model.label_offset_)
    offset = estimate_label_offset(probe.predict(X), y)
    if np.abs(offset).max() > MAX_OFFSET:
        raise ValueError(
            f"the labels sit {offset.round(2).tolist()} (rows, cols) pixels from the model's masks; more than "
            f"{MAX_OFFSET:g} pixels is not a contouring convention: check that the labels are aligned with the images"
        )
    return offset


def check_label_offset(offset, n_targets: int) -> np.ndarray | None:
    """``offset`` as a (n_targets, 2) float array of finite values within :data:`MAX_OFFSET`, else None."""
    try:
        offset = np.asarray(offset, dtype=float)
    except (TypeError, ValueError):
        return None
    if offset.shape != (n_targets, 2) or not np.all(np.abs(offset) <= MAX_OFFSET):  # NaN fails too
        return None
    return offset


def shift_proba(proba: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """``proba`` ((n, H, W) or (n, K, H, W)) moved by ``offset`` (K, 2) rows and columns, bilinearly.

    Pixels shifted in from outside the image are 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._unet_offset import shift_proba
    >>> proba = np.zeros((1, 5, 5), np.float32); proba[0, 2, 2] = 1
    >>> shift_proba(proba, np.array([[0.5, 0.0]]))[0, 2:4, 2].tolist()
    [0.5, 0.5]
    """
    flat = proba[:, None] if proba.ndim == 3 else proba
    if np.shape(offset) != (flat.shape[1], 2):
        raise ValueError(
            f"label offset must be one (row, col) pair per target, {flat.shape[1]}, got shape {np.shape(offset)}"
        )
    if not np.any(offset):
        return proba
    out = np.empty_like(flat)
    for target, (rows, cols) in enumerate(np.asarray(offset, dtype=float)):
        out[:, target] = ndimage.shift(flat[:, target], (0, rows, cols), order=1, mode="constant", cval=0.0)
    return out[:, 0] if proba.ndim == 3 else out
