"""Shared machinery of the classical segmenters: validation, slice loop, tags."""

from __future__ import annotations

import contextlib
import inspect
import warnings

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .._stateless import StatelessMixin
from ..exceptions import SkcardioWarning
from ..utils._validation import check_image_stack
from ._postprocess import postprocess_mask, validate_postprocess_params
from ._preprocess import preprocess_slice, region_of, validate_preprocess_params

__all__ = ["BaseSegmenter", "DiceScoreMixin", "StatelessMixin", "DegenerateSliceError", "fill_doc"]

PREPROCESS_PARAMS = ("contrast", "normalize", "sigma")
POSTPROCESS_PARAMS = (
    "border_margin",
    "opening",
    "keep_largest",
    "fill_holes",
    "convex_hull",
    "dilation",
)

_DOCS = {
    "{preprocess_params}": """\
contrast : tuple of (float, float) or None, default=None
        Contrast stretching: clip the image to these percentiles of the
        region's intensities (e.g. ``(2, 98)``) and rescale to [0, 1].
    normalize : {None, "zscore", "minmax"}, default={normalize_default}
        Intensity normalisation with the region's mean and standard
        deviation (``"zscore"``) or minimum and range (``"minmax"``).
    sigma : float, default=0
        Standard deviation (pixels) of a Gaussian smoothing that only mixes
        region pixels (normalised convolution); 0 disables it.""",
    "{postprocess_params}": """\
border_margin : int, default=0
        Drop foreground pixels within this many pixels of the region's edge
        before the other steps: inside the epicardial contour, the
        myocardium separates the blood pool from the edge.
    opening : int, default=0
        Radius (pixels) of a disk for a morphological opening that removes
        thin bridges and specks; 0 disables it.
    keep_largest : bool, default=False
        Keep only the largest 8-connected object.
    fill_holes : bool, default=False
        Fill holes (e.g. papillary muscles inside the blood pool).
    convex_hull : bool, default=False
        Replace the mask by its convex hull (the blood pool is close to
        convex in short-axis slices; the hull adds the dark papillary
        muscles and trabeculae that expert contours include).
    dilation : int, default=0
        Radius (pixels) of a final dilation: boundary pixels are partial
        volumes, darker than the threshold, yet inside expert contours.""",
    "{post_steps}": """\
Post-processing runs in the order ``border_margin``, ``opening``,
    ``keep_largest``, ``fill_holes``, ``convex_hull``, ``dilation``, and
    the mask is finally intersected with the region, so it is never True
    where the input is NaN.""",
    "{degenerate}": """\
A slice whose region is empty, or has a single intensity value, or on
    which the method fails (e.g. ``threshold_minimum`` finds no two peaks)
    gets an empty mask; one :class:`~skcardio.exceptions.SkcardioWarning`
    per call lists those slices (its ``failed_slices`` attribute maps
    each one's index in ``X`` to the reason).""",
}


def fill_doc(cls):
    """Insert the shared parameter descriptions into ``cls.__doc__``."""
    doc = cls.__doc__
    if doc is None:  # python -OO strips docstrings: nothing to fill
        return cls
    for key, text in _DOCS.items():
        doc = doc.replace(key, text)
    default = inspect.signature(cls.__init__).parameters["normalize"].default
    cls.__doc__ = doc.replace("{normalize_default}", repr(default).replace("'", '"'))
    return cls


class DegenerateSliceError(Exception):
    """Raised by ``_segment_slice`` when a slice cannot be segmented (reason in the message)."""


class DiceScoreMixin:
    """``score`` = mean Dice, so searches without ``scoring=`` rank segmenters by Dice."""

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Mean Dice coefficient of ``predict(X)`` against the expert masks ``y``.

        Parameters
        ----------
        X : array-like
            What ``predict`` takes (images with NaN outside the region for
            the classical segmenters, any image stack for the U-Net).
        y : array-like of shape (n, H, W), bool
            Expert masks.
        sample_weight : array-like of shape (n,), default=None
            Weights of the slices in the mean (as for scikit-learn's
            ``score`` methods; ``Pipeline.score`` passes it when metadata
            routing is enabled). ``None``: every slice counts the same.

        Returns
        -------
        float
            :func:`skcardio.metrics.dice_score` per slice (empty-mask rule
            included), averaged with ``sample_weight``.
        """
        from ..metrics import dice_score  # noqa: PLC0415  (metrics imports nothing from here)

        return dice_score(y, self.predict(X), sample_weight=sample_weight)


class BaseSegmenter(DiceScoreMixin, BaseEstimator):
    """Base class: images ``(n, H, W)`` with NaN outside the region -> bool masks.

    Subclasses define ``__init__`` (all parameters of :data:`PREPROCESS_PARAMS`
    and :data:`POSTPROCESS_PARAMS` included), ``_validate_own_params`` and
    ``_segment_slice(image, region) -> bool mask`` working on the
    pre-processed image; they may override ``_fit``.
    """

    def fit(self, X: ArrayLike, y=None):
        """Validate the parameters and the shape and type of the images ``X``.

        Pixel values are checked slice by slice when they are used (an
        infinite value inside a region raises ``ValueError``).

        Parameters
        ----------
        X : array-like of shape (n, H, W)
            Images, NaN outside the region (e.g. from ``RegionSelector``).
        y : array-like of shape (n, H, W), default=None
            Not used (the expert masks are only needed for scoring); when
            given, it must have one mask per image, as in scikit-learn.

        Returns
        -------
        self
        """
        self._validate_params_values()
        images = check_image_stack(X)
        if y is not None:  # a y of another length is a mistake upstream (e.g. unaligned lists)
            check_consistent_length(images, y)
        self._fit(images)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Segment the blood pool of every slice.

        Parameters
        ----------
        X : array-like of shape (n, H, W)
            Images, NaN outside the region. Images without NaN are segmented
            as a whole. Their size need not match the images seen in ``fit``.

        Returns
        -------
        masks : ndarray of shape (n, H, W), bool
            Never True where ``X`` is NaN.
        """
        check_is_fitted(self)
        self._validate_params_values()
        images = check_image_stack(X)
        masks = np.zeros(images.shape, dtype=bool)
        failed: dict[int, str] = {}
        with self._slice_loop_context():
            for i, image in enumerate(images):
                try:
                    box, mask = self._predict_slice(image)
                    masks[i][box] = mask
                except DegenerateSliceError as error:
                    failed[i] = str(error)
        if failed:
            listed = ", ".join(f"{i} ({reason})" for i, reason in failed.items())
            warning = SkcardioWarning(
                f"{type(self).__name__}: {len(failed)} of {len(images)} slices could not be "
                f"segmented and got empty masks: {listed}"
            )
            # For callers that know the slices by name (skcardio evaluate): index -> reason.
            warning.failed_slices = failed
            warnings.warn(warning, stacklevel=2)
        return masks

    def _predict_slice(self, image: np.ndarray) -> tuple[tuple[slice, slice], np.ndarray]:
        """Return the region's bounding box and the mask inside it."""
        box, pre, region = self._preprocessed_region(image)
        raw = self._segment_slice(pre, region)
        return box, postprocess_mask(raw, region, **self._params(POSTPROCESS_PARAMS))

    def _preprocessed_region(self, image: np.ndarray):
        """``(box, pre-processed image, region)`` of one slice, cropped to the region's box.

        Raises
        ------
        DegenerateSliceError
            If the region has fewer than 2 pixels or a constant intensity,
            before or after pre-processing.
        """
        # Every step only looks at region pixels, so working on the region's
        # bounding box gives the same mask on ~10x fewer pixels.
        box, image, region = region_of(image)
        n_pixels = int(region.sum())
        if n_pixels < 2:
            raise DegenerateSliceError(f"region has {n_pixels} pixel(s)")
        if np.ptp(image[region]) == 0:
            raise DegenerateSliceError("constant intensity in the region")
        pre = preprocess_slice(image, region, **self._params(PREPROCESS_PARAMS))
        if np.ptp(pre[region]) == 0:
            # e.g. contrast=(0, 50) when half the region shares its lowest value:
            # thresholds of a flat region are meaningless (and scikit-image warns).
            raise DegenerateSliceError("constant intensity in the region after pre-processing")
        return box, pre, region

    def _params(self, names) -> dict:
        return {name: getattr(self, name) for name in names}

    def _validate_params_values(self) -> None:
        # Not scikit-learn's _validate_params (which checks _parameter_constraints):
        # the shared pre-/post-processing checks plus the subclass's own.
        validate_preprocess_params(**self._params(PREPROCESS_PARAMS))
        validate_postprocess_params(**self._params(POSTPROCESS_PARAMS))
        self._validate_own_params()

    def _validate_own_params(self) -> None:
        """Check the subclass's own parameters (override)."""

    def _slice_loop_context(self):
        """Context entered around the per-slice loop of ``predict`` (override)."""
        return contextlib.nullcontext()

    def _fit(self, images: np.ndarray) -> None:
        """Learn from the validated training images (override); stateless by default."""

    def _segment_slice(self, image: np.ndarray, region: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Stacks of 2-D images (n, H, W), not tables: sklearn's generic checks
        # feed 2-D tables, so the estimator says so (see tests/segment).
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True  # NaN marks pixels outside the region
        tags.target_tags.required = False
        return tags
