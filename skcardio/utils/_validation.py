"""One place for the input checks of images, masks and slice records.

Every subpackage validates its inputs here (scikit-learn keeps its own in
``sklearn.utils.validation``):

* images: :func:`check_image_stack` (segmenters: ``(n, H, W)``, NaN outside
  the region), :func:`check_image_region_pairs` (``RegionSelector``:
  ``[image, region]`` pairs ``(n, 2, H, W)``), :func:`check_images_like_masks`
  (metrics and analysis: images under masks of a given shape),
  :func:`check_network_images` (the U-Net: ``(n, H, W)`` or ``(n, C, H, W)``),
  :func:`check_finite_images` (``PredictedRegion``, ``BoundaryTrimmer``: finite
  ``(n, H, W)``); slice records, DICOM paths and text are refused by each with
  a message that points at ``DicomLoader``, and a stack of RGB(A) pictures
  ``(n, H, W, 3)`` (imageio's reading of a grayscale PNG saved as RGB) with
  how to convert it;
* masks: :func:`as_stack`, :func:`check_mask`, :func:`check_masks`, and masks
  or contours: :func:`check_contours_or_masks`; U-Net targets:
  :func:`check_network_masks`, :func:`check_network_labels` (two channels,
  some unknown); one mask per source slice (the exports):
  :func:`check_slice_masks`; a cine study's masks ``(n_phases, n_slices, H,
  W)``: :func:`check_cine_masks`, with their images:
  :func:`check_cine_images_and_masks`; two masks of one slice stack
  (blood pool and epicardium): :func:`check_mask_pair`; masks with their
  probabilities: :func:`check_masks_and_proba`; one slice and its masks
  (plots): :func:`check_slice_image`, :func:`check_slice_mask`; pixel
  spacing: :func:`check_spacing`;
  patients of the slices: :func:`check_groups`, and a held-out fraction of
  them: :func:`check_holdout`; a weight per slice: :func:`check_sample_weight`;
* slice records (``load_dataset(...).frame``, tables, mappings of columns or
  plain DICOM paths, in :mod:`skcardio.utils._slice_records`, re-exported here): :func:`is_records`, :func:`record_names`,
  :func:`check_records`, :func:`record_column`.

Messages state what was received and what was expected.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike

from .._numbers import is_number
from ._slice_records import check_records, is_records, record_column, record_names

__all__ = [
    "as_stack",
    "check_image_region_pairs",
    "check_image_stack",
    "check_images_like_masks",
    "check_cine_images_and_masks",
    "check_cine_masks",
    "check_contours_or_masks",
    "check_finite_images",
    "check_groups",
    "check_holdout",
    "check_mask",
    "check_mask_pair",
    "check_masks",
    "check_masks_and_proba",
    "check_network_images",
    "check_network_labels",
    "check_network_masks",
    "check_sample_weight",
    "check_records",
    "check_slice_image",
    "check_slice_mask",
    "check_slice_masks",
    "check_pixel_spacing",
    "check_spacing",
    "mean_over_slices",
    "spacing_array",
    "is_records",
    "record_column",
    "record_names",
]


# Images ------------------------------------------------------------------


def _is_sparse(X) -> bool:
    """True for a SciPy sparse matrix or array.

    Such an object exists only once ``scipy.sparse`` has been imported, so
    the check does not import it: ``skcardio.io`` (which writes masks checked
    here) stays free of SciPy and scikit-learn.
    """
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def _image_array(X, expected: str, loader: str = "DicomLoader()") -> np.ndarray:
    """``np.asarray(X)``, refusing slice records, DICOM paths and text where images were expected.

    NumPy would otherwise fail on them with its own casting message, or take
    records for a 1-D array of shape ``(n,)``. ``expected`` names the images
    expected, ``loader`` the DicomLoader that makes them.
    """
    how = (
        f"load the images first: {loader}.fit_transform(X), or {loader} as the first step of "
        "a pipeline (skcardio.preprocessing.DicomLoader)"
    )
    if (isinstance(X, np.void) and X.dtype.names is not None) or is_records(X):
        names = X.dtype.names if isinstance(X, np.void) else record_names(X)
        shown = ", ".join(repr(name) for name in names[:4]) + (", ..." if len(names) > 4 else "")
        raise ValueError(f"expected {expected}, got slice records ({type(X).__name__} with fields {shown}); {how}")
    if isinstance(X, (str, bytes, os.PathLike)):
        shown = str(X) if isinstance(X, str) else X  # numpy.str_ as its text
        raise ValueError(f"expected {expected}, got a single path or text {shown!r:.120}; {how}")
    array = np.asarray(X)
    # A sequence of paths; text of an image's shape gets the caller's dtype message.
    if array.ndim <= 1 and array.dtype.kind in "USO":
        text = next((v for v in array.ravel() if isinstance(v, (str, bytes, os.PathLike))), None)
        if text is not None:
            text = text.item() if isinstance(text, np.generic) else text  # np.str_('...') -> '...'
            raise ValueError(
                f"expected {expected}, got {type(X).__name__} holding paths or text such as {text!r:.120}; {how}"
            )
    return array


def check_image_stack(X: ArrayLike) -> np.ndarray:
    """Return ``X`` as a floating ``(n, H, W)`` array; NaN marks outside the region.

    Float arrays are returned as they are (no copy: the stack can be large
    and each slice is converted when it is processed); integer arrays become
    float64. Values are checked slice by slice by the segmenters
    (``skcardio.segment._preprocess.region_of``).

    Raises
    ------
    TypeError
        If ``X`` is a sparse matrix.
    ValueError
        If ``X`` is not a non-empty 3-D real array.
    """
    if _is_sparse(X):
        raise TypeError(
            "sparse input is not supported: expected dense images (n, H, W), "
            f"got {type(X).__name__}"
        )
    X = _image_array(X, "images of shape (n, H, W)")
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported: expected real-valued images, got {X.dtype}")
    if X.ndim != 3:
        hint = ""
        if X.ndim == 4 and X.shape[1] == 2:
            hint = "; [image, region] arrays go through RegionSelector() first"
        elif X.ndim == 2:
            hint = "; pass one slice as X[np.newaxis]"
        else:
            _refuse_rgb(X.shape, "X")
        raise ValueError(f"expected images of shape (n, H, W), got shape {X.shape}{hint}")
    _refuse_rgb(X.shape, "X")  # one (H, W, 3) picture would pass as H images 3 pixels wide
    if X.dtype == bool or not (
        np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)
    ):
        raise ValueError(f"expected real-valued images (int or float), got dtype {X.dtype}")
    if X.size == 0:
        raise ValueError(f"expected at least one non-empty image, got shape {X.shape}")
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


def check_image_region_pairs(X) -> np.ndarray:
    """Return ``X`` as an ``(n, 2, H, W)`` numeric array of ``[image, region]`` pairs."""
    # Shape and type only: RegionSelector runs on every training fold of a
    # grid search, and a full finite scan of the 4-D stack there cost about a
    # third of the search time. Infinite values inside the region are caught
    # by the segmenters, which read those pixels anyway (NaN = outside).
    if _is_sparse(X):
        raise TypeError(
            f"sparse input is not supported: expected dense [image, region] arrays, "
            f"got {type(X).__name__}"
        )
    X = _image_array(X, "[image, region] arrays of shape (n, 2, H, W)", "DicomLoader(region='o-contour')")
    if X.size == 0:
        # sklearn's standard messages ("0 sample(s)", "0 feature(s)").
        from sklearn.utils.validation import check_array

        check_array(X, dtype=None, allow_nd=True, ensure_2d=False)
        raise ValueError(f"expected at least one non-empty [image, region] pair, got shape {X.shape}")
    if np.iscomplexobj(X):
        raise ValueError(f"Complex data not supported: expected real values, got {X.dtype}")
    if X.ndim != 4 or X.shape[1] != 2:
        raise ValueError(
            f"expected [image, region] arrays of shape (n, 2, H, W), got shape {X.shape}; "
            "use DicomLoader(region='o-contour') to build them"
        )
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"expected a numeric array, got dtype {X.dtype}")
    return X


def check_network_images(X, channels: int | None = None) -> np.ndarray:
    """Return ``X`` as float32 ``(n, C, H, W)`` for a network; ``(n, H, W)`` gets ``C = 1``.

    ``channels``, when given, is the number of channels the model was fitted
    with. NaN is allowed (pixels outside a region), infinity is not.
    """
    if _is_sparse(X):
        raise TypeError(
            "sparse input is not supported: X must be dense images (n, H, W) or (n, C, H, W)"
        )
    X = _image_array(X, "images of shape (n, H, W) or (n, C, H, W)")
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported: X must be real-valued images")
    if X.dtype.kind in "US":  # NumPy would convert "1.5" and fail on other text
        raise ValueError(f"X must be real-valued images (int or float), got dtype {X.dtype}")
    X = X.astype(np.float32, copy=False)
    given = X.shape  # the error names what was passed, not the channel axis added here
    if X.ndim == 3:
        _refuse_rgb(given, "X")
        X = X[:, np.newaxis]
    if X.ndim != 4 or 0 in X.shape:
        raise ValueError(
            f"X must be non-empty images of shape (n, H, W) or (n, C, H, W), got shape {given}"
        )
    if channels is not None and X.shape[1] != channels:
        if channels == 1 and len(given) == 4:
            _refuse_rgb(given, "X")  # (n, H, W, 3) pictures, whose rows would be taken for channels
        raise ValueError(f"X has {X.shape[1]} channel(s), the model was fitted with {channels}")
    if np.isinf(X).any():
        raise ValueError("X contains infinite values; use NaN for pixels outside a region")
    return X


#: Rows and columns from which ``(H, W, 3 or 4)`` is taken for one picture, not H images 3 or 4 pixels wide.
_ONE_PICTURE_MIN = 16


def _refuse_rgb(shape: tuple[int, ...], name: str) -> None:
    """Refuse a stack of RGB(A) pictures, ``(n, H, W, 3 or 4)``, where grayscale ``(n, H, W)`` was expected.

    imageio reads a grayscale PNG saved as RGB (the Sunnybrook export) as
    ``(H, W, 3)``; stacked, the rows would be taken for channels or the
    colours for columns. Taken for pictures: a stack ``(n, H, W, 3 or 4)``
    of rows and columns of more than 4 pixels each (``(n, 2, 4, 4)`` is
    channels first), and one picture ``(H, W, 3 or 4)`` of at least
    :data:`_ONE_PICTURE_MIN` rows and columns; any other shape is left to
    the caller's message.
    """
    if len(shape) == 3 and shape[-1] in (3, 4) and min(shape[:2]) >= _ONE_PICTURE_MIN:
        # (H, W, 3): one picture, which would be taken for H images of W x 3 pixels without a word.
        raise ValueError(
            f"{name} of shape {shape} looks like one RGB(A) picture (last axis {shape[-1]}); expected (n, H, W) "
            f"grayscale images: convert it and add the image axis, e.g. {name}[np.newaxis, ..., 0] when the "
            "channels are equal, or skimage.color.rgb2gray"
        )
    if len(shape) == 4 and shape[-1] in (3, 4) and min(shape[1:3]) > 4:
        raise ValueError(
            f"{name} of shape {shape} looks like RGB(A) pictures (last axis {shape[-1]}); expected (n, H, W) "
            f"grayscale images: convert them, e.g. {name}[..., 0] when the channels are equal, or "
            "skimage.color.rgb2gray"
        )


def check_finite_images(X, owner: str, reason: str, *, channels: bool = False) -> np.ndarray:
    """Return ``X`` as finite float32 images ``(n, H, W)``.

    ``owner`` (the estimator or function checking) and ``reason`` (why it
    needs finite pixels) are named when NaN or infinity is found. With
    ``channels``, ``(n, C, H, W)`` arrays are taken too and give their
    channel 0, the image (as in the ``[image, region]`` pairs of
    ``DicomLoader(region=...)`` and ``PredictedRegion``).
    """
    shapes = "(n, H, W) or (n, C, H, W)" if channels else "(n, H, W)"
    if _is_sparse(X):
        raise TypeError(f"sparse input is not supported: expected dense images {shapes}, got {type(X).__name__}")
    images = _image_array(X, f"images of shape {shapes}")
    if np.iscomplexobj(images):
        raise ValueError(f"Complex data not supported: expected real-valued images, got {images.dtype}")
    images = images.astype(np.float32, copy=False)
    if channels and images.ndim == 4 and images.shape[1] > 0:
        images = images[:, 0]
    if images.ndim != 3 or 0 in images.shape:
        raise ValueError(f"expected images of shape {shapes}, got shape {np.shape(X)}")
    bad = ~np.isfinite(images).all(axis=(1, 2))
    if bad.any():
        raise ValueError(
            f"{owner}: images must be finite, got NaN or infinite values in {int(bad.sum())} of "
            f"{len(images)} slice(s) (first: slice {int(np.argmax(bad))}); {reason}"
        )
    return images


# Masks and spacing ---------------------------------------------------------


def as_stack(array: ArrayLike, name: str) -> np.ndarray:
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
    mask = as_stack(mask, name)
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


def _shown_values(bad: np.ndarray) -> tuple[str, int]:
    """Up to five of the distinct values of ``bad`` as text, and how many there are."""
    try:
        values = np.unique(bad)
    except TypeError:  # unorderable objects
        values = list(dict.fromkeys(bad.tolist()))
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:5])
    return shown, len(values)


def check_network_masks(y, X: np.ndarray) -> np.ndarray:
    """Return ``y`` as bool ``(n, H, W)`` masks matching network images ``X`` ``(n, C, H, W)``."""
    y = np.asarray(y)
    expected = (X.shape[0], *X.shape[2:])
    if y.shape != expected:
        if y.shape[:3] == X.shape[:3]:  # X (n, H, W, 3) taken for (n, C, H, W): y (n, H, W) shows what it is
            _refuse_rgb(X.shape, "X")
        raise ValueError(f"y must be masks of shape {expected} matching X, got shape {y.shape}")
    if y.dtype != bool:
        other = ~np.isin(y, (0, 1))
        if other.any():
            shown, count = _shown_values(y[other])
            more = f" (and {count - 5} more)" if count > 5 else ""
            raise ValueError(
                f"y must be boolean masks (or 0/1 values), got dtype {y.dtype} with "
                f"{count} other value(s): {shown}{more}"
            )
        y = y.astype(bool)
    return y


def check_network_labels(y, X: np.ndarray) -> np.ndarray:
    """Two-channel labels (blood pool, epicardium) as int8 ``(n, 2, H, W)``: 1/0, -1 unknown.

    ``X`` are the network images ``(n, C, H, W)``. A channel is unknown for a
    whole slice (all -1, or all NaN in a float ``y``); each slice needs one
    known channel.
    """
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
    return np.where(unknown, -1, y).astype(np.int8)


def check_slice_masks(masks: ArrayLike, n: int) -> np.ndarray:
    """``masks`` as bool ``(n, H, W)``, one per source slice (the mask rule of :func:`check_mask`)."""
    masks = np.asarray(masks)
    if masks.dtype != bool and not (np.issubdtype(masks.dtype, np.number) and np.isin(masks, (0, 1)).all()):
        raise ValueError(
            f"masks must be boolean (bool, or numbers that are all 0 or 1); got dtype {masks.dtype} "
            f"with values such as {np.unique(masks)[:5].tolist()}"
        )
    masks = masks.astype(bool)
    if masks.ndim != 3 or len(masks) != n or n == 0:
        raise ValueError(
            f"expected one mask per source slice: {n} slice(s), got masks of shape {masks.shape}"
        )
    return masks


def check_cine_masks(masks: ArrayLike, n_slices: int) -> np.ndarray:
    """A cine study's masks ``(n_phases, n_slices, H, W)`` as bool (bool, or numbers all 0 or 1).

    ``n_slices`` is that of the study's geometry.
    """
    masks = np.asarray(masks)
    if masks.ndim == 5 and masks.shape[2] == 2:
        # segment_study with a target="both" model gives blood pool and epicardium per image.
        raise ValueError(
            f"masks must have shape (n_phases, n_slices, H, W), got {masks.shape}: two masks per image "
            "(a target='both' model); pass the blood pools, masks[:, :, 0]"
        )
    if masks.ndim != 4:
        raise ValueError(f"masks must have shape (n_phases, n_slices, H, W), got {masks.dtype} of shape {masks.shape}")
    if masks.dtype != bool:
        masks = check_slice_masks(masks.reshape(-1, *masks.shape[2:]), masks.shape[0] * masks.shape[1]).reshape(
            masks.shape
        )
    if masks.shape[1] != n_slices:
        raise ValueError(f"masks have {masks.shape[1]} slice(s), the geometry {n_slices}")
    return masks


def check_cine_images_and_masks(images: ArrayLike, masks: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """A cine study's images (float) and masks (bool), both ``(n_phases, n_slices, H, W)``."""
    images, masks = np.asarray(images, float), np.asarray(masks, bool)
    if images.ndim != 4 or masks.shape != images.shape:
        raise ValueError(
            f"images and masks must have one shape (n_phases, n_slices, H, W), got {images.shape} and {masks.shape}"
        )
    return images, masks


def check_mask_pair(first: ArrayLike, second: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two bool-like mask stacks of one shape (e.g. blood pool and epicardium), as :func:`check_mask`."""
    first, second = check_mask(first, names[0]), check_mask(second, names[1])
    if first.shape != second.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {first.shape} and {second.shape}"
        )
    return first, second


def check_masks_and_proba(masks: ArrayLike, proba: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Masks (bool) and their probabilities (float64 in [0, 1]), both ``(n, H, W)``.

    Probabilities outside [0, 1] or NaN are refused: a confidence computed
    from them (1.97, NaN) would pass quality control unflagged.
    """
    masks = np.asarray(masks)
    proba = np.asarray(proba, dtype=np.float64)
    if masks.ndim != 3 or proba.shape != masks.shape:
        raise ValueError(
            f"masks and proba must have the same shape (n, H, W), got {masks.shape} and {proba.shape}"
        )
    masks = check_slice_masks(masks, len(masks))
    outside = ~((proba >= 0) & (proba <= 1))  # NaN included
    if outside.any():
        raise ValueError(
            f"proba must be probabilities in [0, 1] (predict_proba's output), got {float(proba[outside][0])!r} "
            f"in {int(outside.any(axis=(1, 2)).sum())} slice(s), first slice {int(np.argmax(outside.any(axis=(1, 2))))}"
        )
    return masks, proba


def check_slice_image(image: ArrayLike, name: str = "image") -> np.ndarray:
    """One ``(H, W)`` slice as float64."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"{name} must be one (H, W) slice; got shape {image.shape}.")
    return image


def check_slice_mask(mask: ArrayLike | None, shape: tuple[int, int], name: str) -> np.ndarray | None:
    """One bool-like ``(H, W)`` mask of an image of ``shape`` as bool; None stays None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"{name} must have the image's shape {shape}; got {mask.shape}.")
    return check_mask(mask, name)[0]  # bool, or numbers all 0 or 1


def check_groups(groups, n: int) -> np.ndarray | None:
    """``groups`` as an array of one patient id per slice (``n``), or None."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(
            f"groups must have shape ({n},), one patient id per slice of X, got shape {groups.shape}"
        )
    return groups


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """``sample_weight`` as ``n`` finite, non-negative float64 weights (one per slice), or None."""
    if sample_weight is None:
        return None
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        kind = type(sample_weight).__name__
        raise ValueError(
            f"sample_weight must hold numbers, one per slice of X; got a {kind} that does not convert to "
            f"float ({exc})"
        ) from None
    if weights.shape != (n,):
        raise ValueError(
            f"sample_weight must have shape ({n},), one weight per slice of X, got shape {weights.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise ValueError(
            f"sample_weight must be finite and >= 0, got {weights[bad[0]]} for slice {bad[0]} "
            f"({bad.size} such slice(s))"
        )
    return weights


def mean_over_slices(values: np.ndarray, sample_weight) -> float:
    """The mean of per-slice ``values``, weighted by :func:`check_sample_weight`'s weights (not all zero)."""
    weights = check_sample_weight(sample_weight, len(values))
    if weights is not None and weights.sum() == 0:
        raise ValueError(f"sample_weight must not be all zero, got {len(weights)} zero weight(s)")
    return float(np.average(values, weights=weights))


def check_holdout(fraction: float | None, n: int, groups) -> None:
    """Raise ValueError if holding out ``fraction`` of the patients (slices) leaves none to train on.

    Mirrors the rounding of ``(Group)ShuffleSplit``, which holds out
    ``ceil(fraction * count)`` patients (slices without ``groups``) and
    otherwise fails with a message about "n_samples". ``fraction`` is the
    ``validation_fraction`` of an estimator (None: nothing held out).
    """
    if fraction is None:
        return
    count, unit = (n, "slices") if groups is None else (len(np.unique(groups)), "patients (groups)")
    if count < 2:  # nothing can be held out: the estimator warns and trains on everything
        return
    held = math.ceil(fraction * count)
    if held >= count:
        raise ValueError(
            f"validation_fraction={fraction} would hold out ceil("
            f"{fraction} x {count}) = {held} of the {count} {unit} for "
            f"validation, leaving none for training; with {count} {unit} it must be at most "
            f"{count - 1}/{count} (or give more {unit.split()[0]})"
        )


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
    # Imported here: skcardio.io checks its masks with this module.
    from ..io._contour import check_polygon

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


def check_images_like_masks(images: ArrayLike, shape: tuple[int, int, int]) -> np.ndarray:
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


def spacing_array(spacing) -> np.ndarray:
    """Pixel spacing as a float64 array: numbers, pairs, or a column holding one pair per slice.

    A DataFrame's ``pixel_spacing`` column holds one array per row, which
    ``np.asarray(..., float)`` refuses; such a column is stacked to ``(n, 2)``.
    Only real numbers are taken, ``decimal.Decimal`` included (pydicom's
    ``PixelSpacing`` values with ``pydicom.config.DS_decimal(True)``): text
    (``"1"``, which NumPy would convert) and bools are refused, as are None
    and anything else.
    """
    array = _real_numbers(spacing)
    if array is None:
        # ``!r:.80`` truncates the repr: a long per-slice list stays readable.
        raise ValueError(
            f"spacing must be numbers (pixel spacing in mm): a scalar, a (row, col) pair "
            f"or one pair per slice; got {spacing!r:.80}."
        )
    return array


def _real_numbers(value) -> np.ndarray | None:
    """``value`` as a float64 array if it holds only real numbers (nested sequences of one shape), else None."""
    if is_number(value):
        try:
            return np.asarray(float(value))
        except OverflowError:  # an int beyond float64: infinite, refused as such by check_spacing
            return np.asarray(math.inf if value > 0 else -math.inf)
    if isinstance(value, Decimal):  # pydicom's DSdecimal (config.DS_decimal(True)) too: not a numbers.Real
        return np.asarray(math.nan if value.is_nan() else float(value))  # a signalling NaN cannot be made a float
    if value is None or isinstance(value, (str, bytes, Mapping)):
        return None
    if isinstance(value, (list, tuple)):  # item by item: NumPy would make [True, 1.0] floats
        items, shape = list(value), (len(value),)
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # ragged
            return None
        if array.dtype.kind in "iuf":
            return array.astype(np.float64)
        if array.dtype.kind != "O" or array.ndim == 0:
            return None  # text, bools, complex, dates, or one object that is not a number
        items, shape = list(array.ravel()), array.shape
    parts = [_real_numbers(item) for item in items]
    if any(part is None for part in parts) or len({part.shape for part in parts}) > 1:
        return None
    return np.stack(parts).reshape(shape + parts[0].shape) if parts else np.zeros(shape)


def check_spacing(spacing: ArrayLike, n_slices: int) -> np.ndarray:
    """Broadcast pixel spacing to ``(n, 2)`` (row spacing, column spacing) in mm.

    ``spacing`` may be a scalar (square pixels, same for all slices), a pair
    ``(row, col)`` for all slices, or one pair per slice ``(n, 2)``, also as
    a table column of pairs (``load_dataset(..., as_frame=True).frame.pixel_spacing``).
    """
    spacing = spacing_array(spacing)
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


def check_pixel_spacing(pixel_spacing, name: str = "pixel_spacing") -> tuple[float, float] | None:
    """``(row, column)`` spacing in mm of images without a header (``load_image_folder``'s ``pixel_spacing``); None stays None.

    One number is a square pixel. Each value must lie within
    :data:`~skcardio.io._limits.PIXEL_SPACING_MM`, the range a DICOM's
    ``PixelSpacing`` is held to. ``name`` is what the messages call the
    value (``--pixel-spacing`` on the command line). Raises ValueError,
    saying what was received and what is expected.

    Examples
    --------
    >>> check_pixel_spacing(1.3672), check_pixel_spacing((1.5, 1.25)), check_pixel_spacing(None)
    ((1.3672, 1.3672), (1.5, 1.25), None)
    """
    from ..io._limits import PIXEL_SPACING_MM

    if pixel_spacing is None:
        return None
    array = _real_numbers(pixel_spacing)
    if array is None or array.shape not in ((), (2,)):
        shape = "" if array is None else f" of shape {array.shape}"
        raise ValueError(
            f"{name}: got {pixel_spacing!r:.80}{shape}; expected one number of mm (square pixels) or a "
            "(row, column) pair of them"
        )
    values = (float(array), float(array)) if array.ndim == 0 else (float(array[0]), float(array[1]))
    for value in values:
        if value in PIXEL_SPACING_MM:
            continue
        if not math.isfinite(value):
            problem = "not a finite number"
        else:
            problem = "not positive" if value <= 0 else "not physical"
        # A pair names the bad value; one number is the value.
        shown = f"{value:g}: " if array.ndim == 0 else f"({values[0]:g}, {values[1]:g}): {value:g} "
        raise ValueError(f"{name} {shown}{'' if array.ndim == 0 else 'is '}{problem}; {PIXEL_SPACING_MM.expected()}")
    return values
