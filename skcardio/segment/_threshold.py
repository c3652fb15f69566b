"""ThresholdSegmenter: a global threshold computed from the region's pixels only."""

from __future__ import annotations

import numpy as np
from skimage import filters

from .._numbers import is_int
from ._base import BaseSegmenter, DegenerateSliceError, StatelessMixin, fill_doc

__all__ = ["ThresholdSegmenter", "THRESHOLD_METHODS"]

#: Methods of :class:`ThresholdSegmenter`: ``skimage.filters.threshold_<name>``.
THRESHOLD_METHODS = ("otsu", "li", "yen", "isodata", "mean", "minimum", "triangle", "multiotsu")


@fill_doc
class ThresholdSegmenter(StatelessMixin, BaseSegmenter):
    """Blood pool = region pixels brighter than a threshold computed on the region.

    For each slice, the threshold is computed by
    ``skimage.filters.threshold_<method>`` on the 1-D array of the region's
    (pre-processed) intensities only, never on the whole image: scikit-image
    has no ``mask=`` argument, and the dark background outside the heart
    would otherwise drag the threshold down. The mask is
    ``image > threshold`` inside the region, then post-processed.

    The defaults are the original analysis's plain Otsu inside the
    epicardial o-contour: no pre- or post-processing.

    The estimator is stateless: ``fit`` only validates the parameters and the
    images, and ``predict`` works without it, on images of any size.

    Parameters
    ----------
    method : {"otsu", "li", "yen", "isodata", "mean", "minimum", "triangle", \
"multiotsu"}, default="otsu"
        Thresholding method of :mod:`skimage.filters`. ``"multiotsu"`` splits
        the region into ``classes`` intensity classes and keeps the
        brightest.
    classes : int, default=3
        Number of classes for ``method="multiotsu"`` (>= 2); ignored otherwise.
    {preprocess_params}
    {postprocess_params}

    See Also
    --------
    KMeansSegmenter : k-means clustering of the region's intensities.
    RegionGrowingSegmenter : flood fill from the region's centre.
    make_classical_pipeline : the best configuration found by grouped search.

    Notes
    -----
    {post_steps}

    {degenerate}

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import ThresholdSegmenter
    >>> image = np.full((1, 7, 7), np.nan)      # NaN = outside the region
    >>> image[0, 1:6, 1:6] = 10.0                # region: dark myocardium ...
    >>> image[0, 2:5, 2:5] = 50.0                # ... around a bright blood pool
    >>> ThresholdSegmenter().predict(image)[0].astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    """

    def __init__(
        self,
        method="otsu",
        *,
        classes=3,
        contrast=None,
        normalize=None,
        sigma=0.0,
        border_margin=0,
        opening=0,
        keep_largest=False,
        fill_holes=False,
        convex_hull=False,
        dilation=0,
    ):
        self.method = method
        self.classes = classes
        self.contrast = contrast
        self.normalize = normalize
        self.sigma = sigma
        self.border_margin = border_margin
        self.opening = opening
        self.keep_largest = keep_largest
        self.fill_holes = fill_holes
        self.convex_hull = convex_hull
        self.dilation = dilation

    def _validate_own_params(self) -> None:
        if self.method not in THRESHOLD_METHODS:
            raise ValueError(f"method must be one of {THRESHOLD_METHODS}, got {self.method!r}")
        if not (is_int(self.classes) and self.classes >= 2):
            raise ValueError(f"classes must be an int >= 2, got {self.classes!r}")

    def _segment_slice(self, image: np.ndarray, region: np.ndarray) -> np.ndarray:
        return (image > self._threshold(image[region])) & region

    def _threshold(self, values: np.ndarray) -> float:
        """Threshold of ``method`` for one slice's region intensities (1-D)."""
        try:
            if self.method == "multiotsu":
                return float(filters.threshold_multiotsu(values, classes=self.classes)[-1])
            return float(getattr(filters, f"threshold_{self.method}")(values))
        # skimage raises RuntimeError (minimum: no two peaks), ValueError
        # (multiotsu: too few distinct values) or IndexError (isodata).
        except (RuntimeError, ValueError, IndexError) as error:
            raise DegenerateSliceError(f"threshold_{self.method} failed: {error}") from error
