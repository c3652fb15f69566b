"""Quality control of predicted masks: when not to trust a segmentation."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage

from ..utils._validation import check_masks_and_proba, spacing_array

__all__ = ["PREDICTION_FLAGS", "assess_predictions", "prediction_confidence"]

#: Flags set by :func:`assess_predictions`, in the order of its output (one list of names).
PREDICTION_FLAGS = ("empty", "several_components", "touches_border", "implausible_area")

#: Blood-pool areas (mm²) outside this range are implausible for a human left
#: ventricle in a short-axis slice: below, a few pixels (a speck, not an apex:
#: the smallest expert pool of the shared data is 18 mm²); above, a disc of
#: 10 cm diameter (the largest of the shared dilated hearts is 4160 mm²).
PLAUSIBLE_AREA_MM2 = (10.0, 7850.0)

#: A probable region counts as another component from this fraction of the
#: largest region's probability mass (isolated uncertain pixels are not a
#: second structure). At 0.3 the flag marked 60 of the 300 grouped-CV slices,
#: 12 of the 30 with Dice < 0.8 among them; at 0.05, 141 (benchmarks/README.md).
_MIN_COMPONENT_FRACTION = 0.3


def assess_predictions(
    masks: ArrayLike,
    proba: ArrayLike,
    *,
    pixel_spacing: ArrayLike | None = None,
    threshold: float = 0.5,
) -> dict[str, np.ndarray]:
    """Per-slice confidence and warning flags of predicted blood-pool masks.

    Parameters
    ----------
    masks : array-like of shape (n, H, W), bool
        Predicted masks (e.g. ``UNetSegmenter.predict``).
    proba : array-like of shape (n, H, W)
        The blood-pool probabilities they came from (``predict_proba``).
    pixel_spacing : array-like of shape (n, 2) or (2,) or None, default=None
        Pixel spacing (row, col) in mm; NaN or ``None`` where unknown (the
        area flag is then never set).
    threshold : float, default=0.5
        Probability above which a pixel counts for ``several_components``.

    Returns
    -------
    dict of str to ndarray of shape (n,)
        ``confidence`` (float in [0, 1], :func:`prediction_confidence`):
        the mean probability of the mask's pixels (0 for an empty mask);
        low when much of the mask was predicted with hesitation. On the patient-grouped CV of the
        pretrained recipe it ranks slices of Dice < 0.8 first with an AUROC
        of 0.93 (benchmarks/README.md).
        Then one bool array per name of :data:`PREDICTION_FLAGS`:
        ``empty`` (no pixel), ``several_components`` (more than one region
        above ``threshold`` holding at least 30 % of the probability mass
        of the largest one: something else looked like blood pool),
        ``touches_border`` (the mask reaches the image edge: the heart may be
        cut off), ``implausible_area`` (area outside
        :data:`PLAUSIBLE_AREA_MM2`, only where the spacing is known); and
        ``flagged``, any of them.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.qc import assess_predictions
    >>> proba = np.zeros((2, 32, 32), np.float32)
    >>> proba[0, 10:20, 10:20] = 0.95
    >>> proba[1, 10:20, 10:20] = 0.6
    >>> proba[1, 22:30, 2:10] = 0.7         # a second bright structure
    >>> result = assess_predictions(proba > 0.5, proba, pixel_spacing=(1.5, 1.5))
    >>> result["confidence"].round(2)
    array([0.95, 0.64])
    >>> result["several_components"], result["flagged"]
    (array([False,  True]), array([False,  True]))
    >>> assess_predictions(proba > 0.9, proba)["empty"]
    array([False,  True])
    """
    masks, proba = check_masks_and_proba(masks, proba)
    spacing = _spacing(pixel_spacing, len(masks))
    area_px = masks.sum(axis=(1, 2))
    border = masks[:, 0].any(axis=1) | masks[:, -1].any(axis=1) | masks[:, :, 0].any(axis=1) | masks[:, :, -1].any(axis=1)
    area_mm2 = area_px * spacing[:, 0] * spacing[:, 1]
    low, high = PLAUSIBLE_AREA_MM2
    with np.errstate(invalid="ignore"):
        implausible = (area_px > 0) & ((area_mm2 < low) | (area_mm2 > high))
    result = {
        "confidence": _confidence(masks, proba, area_px),
        "empty": area_px == 0,
        "several_components": np.array([_several(p, m, threshold) for p, m in zip(proba, masks)], dtype=bool),
        "touches_border": border,
        "implausible_area": implausible,
    }
    result["flagged"] = np.any([result[name] for name in PREDICTION_FLAGS], axis=0)
    return result


def prediction_confidence(masks: ArrayLike, proba: ArrayLike) -> np.ndarray:
    """Per-slice confidence of predicted blood-pool masks: the mean probability inside each mask.

    The ``confidence`` of :func:`assess_predictions`, without its flags (no
    connected-component labelling): for instance the confidence of the
    network's own masks when the masks kept were post-processed (``skcardio
    predict --trim-boundary`` reports the untrimmed masks' confidence, the one
    whose ranking of bad slices was measured).

    Parameters
    ----------
    masks : array-like of shape (n, H, W), bool
        Blood-pool masks: for the network's own confidence, as predicted,
        before any post-processing.
    proba : array-like of shape (n, H, W)
        The probabilities the prediction thresholded (the second output of
        ``UNetSegmenter.predict_with_proba``).

    Returns
    -------
    confidence : ndarray of shape (n,)
        The mean probability of each mask's pixels, in [0, 1]; 0 for an
        empty mask.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.qc import prediction_confidence
    >>> proba = np.zeros((2, 32, 32))
    >>> proba[0, 10:20, 10:20] = 0.95
    >>> proba[1, 10:20, 10:20] = 0.6
    >>> prediction_confidence(proba > 0.5, proba).round(2)
    array([0.95, 0.6 ])
    >>> prediction_confidence(proba > 0.9, proba)
    array([0.95, 0.  ])
    """
    masks, proba = check_masks_and_proba(masks, proba)
    return _confidence(masks, proba, masks.sum(axis=(1, 2)))


def _confidence(masks: np.ndarray, proba: np.ndarray, area_px: np.ndarray) -> np.ndarray:
    """The mean probability inside each checked mask of ``area_px`` pixels (0 when empty)."""
    # The mean probability inside the mask ranked bad slices better (AUROC
    # 0.93) than the soft Dice of probabilities and mask (0.77) on grouped CV.
    return (proba * masks).sum(axis=(1, 2)) / np.maximum(area_px, 1)


def _several(proba: np.ndarray, mask: np.ndarray, threshold: float) -> bool:
    """More than one substantial probable region (the mask's own counts as one)."""
    labels, count = ndimage.label((proba > threshold) | mask)
    if count < 2:
        return False
    mass = ndimage.sum_labels(proba, labels, np.arange(1, count + 1))
    return int((mass >= _MIN_COMPONENT_FRACTION * mass.max()).sum()) > 1


def _spacing(pixel_spacing, n: int) -> np.ndarray:
    if pixel_spacing is None:
        return np.full((n, 2), np.nan)
    spacing = spacing_array(pixel_spacing)
    if spacing.ndim == 0:
        spacing = np.full((n, 2), float(spacing))
    spacing = np.broadcast_to(spacing, (n, 2)) if spacing.shape == (2,) else spacing
    if spacing.shape != (n, 2):
        raise ValueError(f"pixel_spacing must have shape (2,) or ({n}, 2), got {spacing.shape}")
    return spacing
