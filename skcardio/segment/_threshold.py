"""ThresholdSegmenter: a global threshold computed from the region's pixels only."""

from __future__ import annotations

import numpy as np
from skimage import filters

from .._methods import THRESHOLD_METHODS
from .._numbers import is_int
from ._base import BaseSegmenter, DegenerateSliceError, StatelessMixin, fill_doc

__all__ = ["ThresholdSegmenter", "THRESHOLD_METHODS", "threshold_region"]


def threshold_region(
    image: np.ndarray, region: np.ndarray, method: str = "otsu", *, classes: int = 3
) -> tuple[np.ndarray, float]:
    """Select the region's pixels brighter than a threshold of the region's intensities.

    The segmenting step of :class:`ThresholdSegmenter` (without its pre- and
    post-processing), also drawn by
    :func:`skcardio.analysis.plot_threshold_grid`.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        The slice; pixels outside ``region`` are never read.
    region : ndarray of shape (H, W), bool
        Where to threshold; its pixels must be finite.
    method : str, default="otsu"
        One of :data:`THRESHOLD_METHODS`: ``skimage.filters.threshold_<method>``
        of the region's intensities (a 1-D array).
    classes : int, default=3
        Classes of ``method="multiotsu"``, which keeps the brightest.

    Returns
    -------
    mask : ndarray of shape (H, W), bool
        ``image > threshold`` inside ``region``.
    threshold : float
        The threshold.

    Raises
    ------
    ValueError
        If the region is empty or of one intensity (no threshold separates
        anything there), or if scikit-image's method fails on it
        (``minimum`` needs two histogram peaks).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import threshold_region
    >>> image = np.array([[1.0, 1.0, 9.0], [1.0, 9.0, 9.0]])
    >>> mask, threshold = threshold_region(image, np.ones((2, 3), bool))
    >>> mask.astype(int)
    array([[0, 0, 1],
           [0, 1, 1]])
    >>> round(threshold, 3)
    1.016
    """
    values = image[region]
    if values.size == 0:
        raise ValueError("region selects no pixel; nothing to threshold")
    if np.ptp(values) == 0:
        # Thresholds of one grey level are arbitrary (and scikit-image warns).
        raise ValueError(f"constant intensity {values[0]:g} in the region")
    try:
        if method == "multiotsu":
            threshold = float(filters.threshold_multiotsu(values, classes=classes)[-1])
        else:
            threshold = float(getattr(filters, f"threshold_{method}")(values))
    # skimage raises RuntimeError (minimum: no two peaks), ValueError
    # (multiotsu: too few distinct values) or IndexError (isodata).
    except (RuntimeError, ValueError, IndexError) as error:
        raise ValueError(f"threshold_{method} failed: {error}") from error
    return (image > threshold) & region, threshold


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
    KMeansSegmenter : K-means clustering of the region's intensities.
    RegionGrowingSegmenter : Flood fill from the region's centre.
    make_classical_pipeline : The best configuration found by grouped search.

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
        try:
            return threshold_region(image, region, self.method, classes=self.classes)[0]
        except ValueError as error:
            raise DegenerateSliceError(str(error)) from error
