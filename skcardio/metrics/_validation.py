"""Input checks shared by the segmentation metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _as_stack(array: ArrayLike, name: str) -> np.ndarray:
    """Return ``array`` as ``(n, H, W)``; a single ``(H, W)`` slice becomes ``n = 1``."""
    array = np.asarray(array)
    if array.ndim == 2:
        return array[np.newaxis]
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be a (H, W) slice or an (n, H, W) stack of slices; "
            f"got an array of shape {array.shape}."
        )
    return array


def check_mask(mask: ArrayLike, name: str) -> np.ndarray:
    """Validate one bool-like mask stack and return it as bool ``(n, H, W)``.

    Bool-like means a bool array or a numeric array holding only 0 and 1.
    """
    mask = _as_stack(mask, name)
    if mask.dtype == bool:
        return mask
    if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
        values = np.unique(mask)[:5]
        raise ValueError(
            f"{name} must be a boolean mask (bool, or numbers that are all 0 or 1); "
            f"got dtype {mask.dtype} with values such as {values.tolist()}."
        )
    return mask.astype(bool)


def check_masks(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of mask stacks of the same shape; return them as bool."""
    y_true = check_mask(y_true, "y_true")
    y_pred = check_mask(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got y_true {y_true.shape} "
            f"and y_pred {y_pred.shape}."
        )
    # A mean over no slices is nan with a RuntimeWarning: refuse it up front.
    if len(y_true) == 0:
        raise ValueError(
            f"no slices were given: received masks of shape {y_true.shape}; "
            "expected at least one slice (n >= 1)."
        )
    return y_true, y_pred


def check_images(images: ArrayLike, shape: tuple[int, int, int]) -> np.ndarray:
    """Validate images ``(n, H, W)`` or ``(n, C, H, W)`` (channel 0 = image) for masks of ``shape``."""
    images = np.asarray(images)
    received = images.shape  # before slicing, so the message names what was passed
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim == 4:
        # ``[image, region]`` stacks as produced by ``DicomLoader(region=...)``.
        images = images[:, 0]
    if images.ndim != 3 or images.shape != shape:
        raise ValueError(
            f"images must be (n, H, W) or (n, C, H, W) matching the masks' shape {shape}; "
            f"got an array of shape {received}."
        )
    if not np.issubdtype(images.dtype, np.number):
        raise ValueError(f"images must be numeric; got dtype {images.dtype}.")
    return images.astype(np.float64, copy=False)


def check_spacing(spacing: ArrayLike, n_slices: int) -> np.ndarray:
    """Broadcast pixel spacing to ``(n, 2)`` (row spacing, column spacing) in mm.

    ``spacing`` may be a scalar (square pixels, same for all slices), a pair
    ``(row, col)`` for all slices, or one pair per slice ``(n, 2)``.
    """
    try:
        spacing = np.asarray(spacing, dtype=np.float64)
    except (TypeError, ValueError):
        # ``!r:.80`` truncates the repr: a long per-slice list stays readable.
        raise ValueError(
            f"spacing must be numbers (pixel spacing in mm): a scalar, a (row, col) pair "
            f"or one pair per slice; got {spacing!r:.80}."
        ) from None
    if spacing.ndim == 0:
        spacing = np.full((n_slices, 2), float(spacing))
    elif spacing.shape == (2,):
        spacing = np.broadcast_to(spacing, (n_slices, 2))
    elif spacing.shape != (n_slices, 2):
        raise ValueError(
            "spacing must be a scalar, a (row, col) pair or one pair per slice "
            f"({n_slices}, 2); got shape {spacing.shape}."
        )
    bad = ~(np.isfinite(spacing) & (spacing > 0))
    if bad.any():
        raise ValueError(
            f"spacing must be finite and positive (mm); got {spacing[bad][:3].tolist()} "
            f"in {int(bad.any(axis=1).sum())} slice(s)."
        )
    return spacing
