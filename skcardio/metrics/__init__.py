"""Segmentation metrics and scikit-learn scorers.

Overlap (:func:`iou_score`, :func:`dice_score`, :func:`fraction_iou_above`),
intensity similarity (:func:`ks_score`), contour distances in mm
(:func:`hausdorff_distance`, :func:`average_perpendicular_distance`,
:func:`good_contour_rate`, as in the MICCAI 2009 LV segmentation challenge)
and the matching scorers for ``GridSearchCV`` / ``cross_validate``.

All metrics take masks ``(n, H, W)`` (or one ``(H, W)`` slice) and compute a
value per slice; the functions return the mean over slices unless
``per_slice=True`` (``fraction_iou_above`` and ``good_contour_rate``, fractions
of slices, have no ``per_slice``). A stack without slices (``n = 0``) raises ``ValueError``
rather than giving a mean of nothing.
"""

from ._distance import APD_DEFINITIONS, average_perpendicular_distance, good_contour_rate, hausdorff_distance
from ._function import ef_absolute_error, ejection_fractions, make_ef_scorer
from ._ks import ks_score
from ._overlap import dice_score, fraction_iou_above, iou_score
from ._scorers import (
    SCORERS,
    apd_scorer,
    dice_scorer,
    fraction_iou75_scorer,
    get_scorers,
    good_contour_scorer,
    hausdorff_scorer,
    iou_scorer,
    ks_scorer,
    make_distance_scorer,
    make_multimetric_scorer,
)

__all__ = [
    "iou_score",
    "dice_score",
    "fraction_iou_above",
    "ks_score",
    "hausdorff_distance",
    "average_perpendicular_distance",
    "good_contour_rate",
    "APD_DEFINITIONS",
    "ejection_fractions",
    "ef_absolute_error",
    "make_ef_scorer",
    "iou_scorer",
    "dice_scorer",
    "fraction_iou75_scorer",
    "ks_scorer",
    "apd_scorer",
    "hausdorff_scorer",
    "good_contour_scorer",
    "make_distance_scorer",
    "make_multimetric_scorer",
    "get_scorers",
    "SCORERS",
]
