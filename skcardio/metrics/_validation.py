"""Input checks shared by the segmentation metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..io._contour import check_polygon


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


def _is_contour_list(y) -> bool:
    """A list or tuple of per-slice ``(m, 2)`` point arrays (``None`` or empty: no contour)."""
    if not isinstance(y, (list, tuple)) or len(y) == 0:
        return False
    for item in y:
        if item is None:
            continue
        try:
            shape = np.shape(item)
        except ValueError:  # ragged nested lists: not a point array
            return False
        if not (shape == (0,) or (len(shape) == 2 and shape[1] == 2)):
            return False
    return True


def _check_contour(item, name: str, index: int) -> np.ndarray | None:
    if item is None or np.size(item) == 0:
        return None
    try:
        return check_polygon(item)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}[{index}]: {exc}; expected (m, 2) points (x, y) in pixels") from None


def check_contours_or_masks(y_true, y_pred) -> tuple[list, list]:
    """Per-slice expert and predicted slices: bool ``(H, W)`` masks or ``(m, 2)`` contours.

    Each input is either a mask stack (as :func:`check_masks` takes) or a list
    of contours, one ``(m, 2)`` array of ``(x, y)`` pixel coordinates per slice
    (``None`` or an empty array for a slice without contour). A contour entry
    is returned as a float array, ``None`` when empty.
    """
    slices = []
    for y, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        if _is_contour_list(y):
            slices.append([_check_contour(item, name, i) for i, item in enumerate(y)])
        else:
            slices.append(None)
    if slices[0] is None and slices[1] is None:
        masks = check_masks(y_true, y_pred)
        return list(masks[0]), list(masks[1])
    for i, (y, name) in enumerate(((y_true, "y_true"), (y_pred, "y_pred"))):
        if slices[i] is None:
            slices[i] = list(check_mask(y, name))
    n_true, n_pred = len(slices[0]), len(slices[1])
    if n_true != n_pred:
        raise ValueError(
            f"y_true and y_pred must hold the same number of slices; got {n_true} and {n_pred}."
        )
    if n_true == 0:
        raise ValueError("no slices were given; expected at least one slice (n >= 1).")
    return slices[0], slices[1]


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
