"""Scorers ``(estimator, X, y) -> float`` for ``GridSearchCV`` and ``cross_validate``.

Overlap scorers only need ``estimator.predict(X)`` and are built with
:func:`sklearn.metrics.make_scorer`. The KS and distance scorers need more
than the prediction:

* **images** (KS): the input of the segmenter, i.e. ``estimator[:-1].transform(X)``
  when the estimator is a :class:`~sklearn.pipeline.Pipeline` (the output of
  ``RegionSelector`` when the pipeline starts from slice records), otherwise
  ``X`` itself; channel 0 when that is ``(n, C, H, W)``.
* **pixel spacing** (distances): ``X["pixel_spacing"]`` when ``X`` is a
  records array (the ``frame`` of :func:`skcardio.datasets.load_dataset`),
  otherwise the ``spacing`` given to :func:`make_distance_scorer`, otherwise
  1 (distances in pixels, with a :class:`~skcardio.exceptions.SkcardioWarning`).
* **expert contours** (distances): when ``X`` is slice records, a slice whose
  mask ``y`` is exactly the rasterised ``icontour_path`` (or
  ``ocontour_path``) file is measured against that file's points, as the
  challenge does; other slices against the outline of ``y``.

A fitted search object (``GridSearchCV``, e.g. in nested cross-validation) is
scored through its ``best_estimator_``, a ``FrozenEstimator`` through the
estimator it wraps.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import make_scorer
from sklearn.pipeline import Pipeline

from .._estimators import predicting_estimator
from .._numbers import check_real
from ..exceptions import SkcardioWarning
from ..io import contour_to_mask, mask_to_contour, read_contour
from ..utils._validation import check_mask, check_spacing, is_records, record_names, spacing_array
from ._distance import (
    average_perpendicular_distance,
    check_definition,
    good_contour_rate,
    hausdorff_distance,
)
from ._ks import ks_score
from ._overlap import dice_score, fraction_iou_above, iou_score

__all__ = [
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

iou_scorer = make_scorer(iou_score)
dice_scorer = make_scorer(dice_score)
fraction_iou75_scorer = make_scorer(fraction_iou_above, threshold=0.75)


def _predict(estimator, X) -> tuple[object, np.ndarray]:
    """Return (input of the segmenter, prediction), transforming ``X`` only once.

    Nested pipelines (``make_pipeline(DicomLoader(), make_classical_pipeline())``)
    are descended into, so that the images are those the innermost final step
    sees, as in the flat pipeline doing the same.
    """
    estimator = predicting_estimator(estimator)
    while isinstance(estimator, Pipeline):
        if len(estimator) > 1:
            X = estimator[:-1].transform(X)
        estimator = predicting_estimator(estimator[-1])
    return X, estimator.predict(X)


def _images_of(Xt) -> np.ndarray:
    if is_records(Xt):
        raise ValueError(
            "the KS scorer needs the images the segmenter sees, but the input of the "
            f"final step is slice records (fields {record_names(Xt)}); use a Pipeline "
            "whose steps before the segmenter load the images (DicomLoader, RegionSelector)."
        )
    return np.asarray(Xt)


def _spacing_of(X, default: ArrayLike | None) -> ArrayLike:
    if is_records(X) and "pixel_spacing" in record_names(X):
        return spacing_array(X["pixel_spacing"])
    if default is not None:
        return default
    warnings.warn(
        "X is not slice records with a 'pixel_spacing' field and no spacing was given "
        "to make_distance_scorer: distances are in pixels, not mm.",
        SkcardioWarning,
        # Point at whoever called the scorer: caller -> __call__ -> _metric_values -> here.
        stacklevel=4,
    )
    return 1.0


#: Record fields naming the contour file a mask ``y`` may have been drawn from.
_CONTOUR_FIELDS = ("icontour_path", "ocontour_path")


def _expert_contour(mask: np.ndarray, paths: Iterable[str]) -> np.ndarray:
    """The file points ``mask`` was rasterised from, else the mask's outline."""
    for path in paths:
        if path:
            points = read_contour(path)
            if np.array_equal(contour_to_mask(points, mask.shape), mask):
                return points
    return mask_to_contour(mask)


def _experts_of(X, y_true) -> object:
    """Expert contours for the distances: the records' contour files where ``y`` came from them."""
    y_true = np.asarray(y_true)
    if not is_records(X) or y_true.ndim != 3:
        return y_true
    # 0/1 numbers are masks too: the same masks as uint8 or float must be
    # measured against the same contour files as bool ones.
    try:
        y_true = check_mask(y_true, "y_true")
    except ValueError:
        return y_true  # the metric says what is wrong with it
    fields = [name for name in _CONTOUR_FIELDS if name in record_names(X)]
    if not fields or len(X[fields[0]]) != len(y_true):
        return y_true
    columns = [np.asarray(X[name], dtype=object) for name in fields]
    return [_expert_contour(mask, [column[i] for column in columns]) for i, mask in enumerate(y_true)]


def _metric_values(
    metrics: Iterable[str],
    y_true,
    y_pred,
    Xt,
    X,
    spacing: ArrayLike | None,
    threshold: float,
    definition: str = "miccai2009",
) -> dict[str, float]:
    """The named metrics of one prediction (signs as in ``get_scorers``)."""
    needs_spacing = {"neg_apd", "neg_hausdorff", "good_contour"}
    mm = _spacing_of(X, spacing) if needs_spacing & set(metrics) else None
    experts = _experts_of(X, y_true) if needs_spacing & set(metrics) else None
    functions: dict[str, Callable[[], float]] = {
        "iou": lambda: iou_score(y_true, y_pred),
        "dice": lambda: dice_score(y_true, y_pred),
        "fraction_iou75": lambda: fraction_iou_above(y_true, y_pred, threshold=0.75),
        "ks": lambda: ks_score(y_true, y_pred, images=_images_of(Xt)),
        "neg_apd": lambda: -average_perpendicular_distance(
            experts, y_pred, spacing=mm, definition=definition
        ),
        "neg_hausdorff": lambda: -hausdorff_distance(experts, y_pred, spacing=mm),
        "good_contour": lambda: good_contour_rate(
            experts, y_pred, spacing=mm, threshold=threshold, definition=definition
        ),
    }
    return {name: float(functions[name]()) for name in metrics}


_METRICS = ("iou", "dice", "fraction_iou75", "ks", "neg_apd", "neg_hausdorff", "good_contour")


class _SegmentationScorer:
    """Scorer computing one or several named metrics from a single prediction."""

    def __init__(
        self,
        metrics: str | Iterable[str],
        *,
        spacing: ArrayLike | None = None,
        threshold: float = 5.0,
        definition: str = "miccai2009",
    ) -> None:
        self._single = isinstance(metrics, str)
        self._metrics = [metrics] if self._single else list(metrics)
        self._spacing = spacing
        self._threshold = threshold
        self._definition = check_definition(definition)
        # Fail now, not inside a cross-validation loop (where every fold's
        # score would become NaN with a generic warning).
        unknown = set(self._metrics) - set(_METRICS)
        if unknown:
            raise ValueError(f"unknown metric(s) {sorted(unknown)}; expected some of {_METRICS}.")
        if not self._metrics:
            raise ValueError(f"metrics must name at least one of {_METRICS}, got none.")
        if spacing is not None:
            array = spacing_array(spacing)
            check_spacing(array, len(array) if array.ndim == 2 else 1)
        check_real("threshold", threshold, "a distance > 0 (mm)", lambda v: v > 0)

    def __call__(self, estimator, X, y_true) -> float | dict[str, float]:
        Xt, y_pred = _predict(estimator, X)
        values = _metric_values(
            self._metrics, y_true, y_pred, Xt, X, self._spacing, self._threshold, self._definition
        )
        return values[self._metrics[0]] if self._single else values

    def __repr__(self) -> str:
        metrics = self._metrics[0] if self._single else self._metrics
        return (
            f"{type(self).__name__}({metrics!r}, spacing={self._spacing!r}, "
            f"definition={self._definition!r})"
        )


ks_scorer = _SegmentationScorer("ks")
apd_scorer = _SegmentationScorer("neg_apd")
hausdorff_scorer = _SegmentationScorer("neg_hausdorff")
good_contour_scorer = _SegmentationScorer("good_contour")


def make_distance_scorer(
    metric: str = "apd",
    *,
    spacing: ArrayLike | None = None,
    threshold: float = 5.0,
    definition: str = "miccai2009",
) -> Callable:
    """Build a distance scorer with a fallback pixel spacing.

    Use it when ``X`` is an array (no ``pixel_spacing`` field) whose slices
    share a known spacing; with slice records the records' spacing wins.

    Parameters
    ----------
    metric : {"apd", "hausdorff", "good_contour"}, default="apd"
        The APD and Hausdorff scorers return the *negated* mean distance in mm
        (greater is better, as sklearn's ``neg_*`` scorers); ``good_contour``
        returns the fraction of slices with APD < ``threshold`` mm.
    spacing : float or array-like of shape (2,), default=None
        Pixel spacing (row, col) in mm used when ``X`` carries none. ``None``
        means 1 with a warning.
    threshold : float, default=5.0
        APD threshold of a good contour, in mm.
    definition : {"miccai2009", "geometric"}, default="miccai2009"
        The APD's definition (:func:`average_perpendicular_distance`).

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``.

    Raises
    ------
    ValueError
        If ``metric``, ``spacing`` (numbers > 0: a scalar or a pair; one
        pair per slice is taken too), ``threshold`` (> 0) or ``definition`` is invalid:
        here, not in every fold of a cross-validation.

    Examples
    --------
    >>> from skcardio.metrics import make_distance_scorer
    >>> scorer = make_distance_scorer("hausdorff", spacing=1.37)
    """
    names = {"apd": "neg_apd", "hausdorff": "neg_hausdorff", "good_contour": "good_contour"}
    if metric not in names:
        raise ValueError(f"metric must be one of {sorted(names)}; got {metric!r}.")
    return _SegmentationScorer(
        names[metric], spacing=spacing, threshold=threshold, definition=definition
    )


def make_multimetric_scorer(
    metrics: str | Iterable[str] | None = None,
    *,
    spacing: ArrayLike | None = None,
    threshold: float = 5.0,
    definition: str = "miccai2009",
) -> Callable:
    """Build one scorer returning a dict of metrics from a single prediction.

    ``cross_validate(scoring={...})`` calls each callable scorer separately,
    which re-runs the pipeline (DICOM loading included) once per metric. This
    scorer predicts once and returns every metric, which sklearn accepts as
    ``scoring=`` (``GridSearchCV`` then needs ``refit=`` one of the names or
    ``False``).

    Parameters
    ----------
    metrics : str or iterable of str, default=None
        Names among ``get_scorers()``; ``None`` means all of them. A single
        name (a plain ``str``) means that one metric: the scorer still
        returns a dict, with that one key.
    spacing : float or array-like of shape (2,), default=None
        Fallback pixel spacing, as in :func:`make_distance_scorer`.
    threshold : float, default=5.0
        APD threshold of a good contour, in mm.
    definition : {"miccai2009", "geometric"}, default="miccai2009"
        The APD's definition (:func:`average_perpendicular_distance`).

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> dict[str, float]``.

    Raises
    ------
    ValueError
        If ``metrics`` is empty or names an unknown metric, or ``spacing``,
        ``threshold`` or ``definition`` is invalid (as in
        :func:`make_distance_scorer`).

    Examples
    --------
    >>> from skcardio.metrics import make_multimetric_scorer
    >>> scorer = make_multimetric_scorer(["iou", "dice", "neg_apd"])
    >>> one = make_multimetric_scorer("iou")   # one(estimator, X, y) -> {"iou": ...}
    """
    if metrics is None:
        metrics = _METRICS
    elif isinstance(metrics, str):
        # list("iou") would split the name into letters.
        metrics = [metrics]
    return _SegmentationScorer(
        list(metrics), spacing=spacing, threshold=threshold, definition=definition
    )


def get_scorers() -> dict[str, Callable]:
    """Every segmentation scorer by name, for ``cross_validate(scoring=...)``.

    Names: ``iou``, ``dice``, ``fraction_iou75`` (fraction of slices with IoU
    > 0.75), ``ks`` (mean KS p-value), ``neg_apd`` and ``neg_hausdorff``
    (negated mean distances in mm), ``good_contour`` (fraction of slices with
    APD < 5 mm). All are "greater is better".

    Returns
    -------
    dict
        A new dict of new scorer objects on each call (safe to modify, and
        ``set_score_request`` on one of them leaves the module's scorers as
        they are).

    Examples
    --------
    >>> from skcardio.metrics import get_scorers
    >>> sorted(get_scorers())
    ['dice', 'fraction_iou75', 'good_contour', 'iou', 'ks', 'neg_apd', 'neg_hausdorff']
    """
    scorers = {
        "iou": iou_scorer,
        "dice": dice_scorer,
        "fraction_iou75": fraction_iou75_scorer,
        "ks": ks_scorer,
        "neg_apd": apd_scorer,
        "neg_hausdorff": hausdorff_scorer,
        "good_contour": good_contour_scorer,
    }
    # Copies, as sklearn.metrics.get_scorer gives: a metadata request set on
    # one must not change the module-level scorer for the rest of the session.
    return {name: copy.deepcopy(scorer) for name, scorer in scorers.items()}


#: Every scorer by name (a module-level dict; :func:`get_scorers` returns a copy).
SCORERS = get_scorers()
