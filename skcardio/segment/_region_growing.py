"""RegionGrowingSegmenter: flood fill from the region's centre, Canny edges as walls."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import canny
from skimage.filters import threshold_otsu
from skimage.segmentation import flood

from .._numbers import check_bool, is_nonnegative_int, is_number, is_number_pair
from ._base import BaseSegmenter, DegenerateSliceError, StatelessMixin, fill_doc
from ._preprocess import smooth_in_region

__all__ = ["RegionGrowingSegmenter", "find_seed"]


@fill_doc
class RegionGrowingSegmenter(StatelessMixin, BaseSegmenter):
    """Blood pool = pixels connected to a seed near the region's centre.

    The original analysis's edge / flood-fill idea. The seed is the
    brightest pixel (after a light smoothing) within ``seed_radius`` pixels
    of the region's centroid: the blood pool sits in the middle of the
    epicardial contour and is its brightest tissue. If every pixel there
    is darker than the region's Otsu threshold (a dark spot at the centre,
    a ring-shaped region), the seed is the nearest pixel above it instead
    (see :func:`find_seed`). From the seed, a 4-connected
    :func:`skimage.segmentation.flood` grows over the region pixels whose
    (pre-processed) intensity is within ``tolerance`` of the seed's. With
    ``edges=True``, :func:`skimage.feature.canny` edges inside the region
    are walls the flood cannot cross; with ``tolerance=None`` they are the
    only limit.

    The estimator is stateless: ``fit`` only validates, ``predict`` works
    without it.

    Parameters
    ----------
    tolerance : float or None, default=2.0
        Largest intensity difference to the seed, in the units of the
        pre-processed image: region standard deviations with the default
        ``normalize="zscore"``. ``None`` (needs ``edges=True``): no limit.
    edges : bool, default=False
        Use Canny edges as barriers.
    canny_sigma : float, default=2.0
        ``sigma`` of :func:`skimage.feature.canny`.
    canny_thresholds : tuple of (float, float) or None, default=(0.5, 1.0)
        ``(low_threshold, high_threshold)`` of :func:`skimage.feature.canny`,
        in gradient-magnitude units of the pre-processed image (Sobel of the
        image smoothed by ``canny_sigma``); ``None`` uses scikit-image's
        defaults (0.1, 0.2), which suit images scaled to [0, 1].
    seed_radius : int, default=5
        Radius (pixels) around the region's centroid searched for the
        brightest seed.
    {preprocess_params}
    {postprocess_params}

    See Also
    --------
    ThresholdSegmenter : Global thresholds of the region's intensities.

    Notes
    -----
    {post_steps}

    {degenerate}

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import RegionGrowingSegmenter
    >>> image = np.full((1, 9, 9), np.nan)
    >>> image[0, 1:8, 1:8] = 10.0    # region: dark ring ...
    >>> image[0, 3:6, 3:6] = 50.0    # ... around a bright centre
    >>> image[0, 1, 1] = 50.0        # a bright pixel not connected to it
    >>> int(RegionGrowingSegmenter().predict(image).sum())
    9
    """

    def __init__(
        self,
        tolerance=2.0,
        *,
        edges=False,
        canny_sigma=2.0,
        canny_thresholds=(0.5, 1.0),
        seed_radius=5,
        contrast=None,
        normalize="zscore",
        sigma=0.0,
        border_margin=0,
        opening=0,
        keep_largest=False,
        fill_holes=False,
        convex_hull=False,
        dilation=0,
    ):
        self.tolerance = tolerance
        self.edges = edges
        self.canny_sigma = canny_sigma
        self.canny_thresholds = canny_thresholds
        self.seed_radius = seed_radius
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
        check_bool("edges", self.edges)
        if self.tolerance is None:
            if not self.edges:
                raise ValueError(
                    f"tolerance=None (no intensity limit) needs edges=True, got edges={self.edges!r}"
                )
        elif not is_number(self.tolerance) or not self.tolerance >= 0:
            raise ValueError(f"tolerance must be a number >= 0 or None, got {self.tolerance!r}")
        if not is_number(self.canny_sigma) or not 0 < self.canny_sigma < np.inf:
            raise ValueError(f"canny_sigma must be a finite number > 0, got {self.canny_sigma!r}")
        thresholds = self.canny_thresholds
        if thresholds is not None and not (is_number_pair(thresholds) and 0 <= thresholds[0] <= thresholds[1]):
            raise ValueError(
                f"canny_thresholds must be None or two finite numbers (low, high) with 0 <= low <= high, "
                f"got {thresholds!r}"
            )
        if not is_nonnegative_int(self.seed_radius):
            raise ValueError(f"seed_radius must be an int >= 0, got {self.seed_radius!r}")

    def _segment_slice(self, image: np.ndarray, region: np.ndarray) -> np.ndarray:
        seed = find_seed(image, region, self.seed_radius)
        edges = np.zeros_like(region)
        if self.edges:
            # "is None", not "or": an array pair has no truth value.
            low, high = (None, None) if self.canny_thresholds is None else self.canny_thresholds
            edges = canny(
                image, sigma=self.canny_sigma, low_threshold=low, high_threshold=high, mask=region
            )
            edges[seed] = False  # the seed is never a wall
        # Within tolerance is decided here, and flood only follows connectivity:
        # giving walls an out-of-reach value instead rounds back to the seed's
        # value at large intensities (1e30 + 1 == 1e30) and lets the flood through.
        reach = region & ~edges
        if self.tolerance is not None:
            reach &= np.abs(image - image[seed]) <= self.tolerance
        # 4-connectivity: a one-pixel-thin Canny line must stop the flood.
        grown = flood(reach.view(np.uint8), seed, connectivity=1)
        # Edge pixels lie on the boundary; those touching the flood belong to it.
        grown |= ndi.binary_dilation(grown) & edges
        return grown & region


def find_seed(image: np.ndarray, region: np.ndarray, radius: int) -> tuple[int, int]:
    """Brightest region pixel within ``radius`` of the region's centroid, if it is bright.

    Brightness is judged on a Gaussian-smoothed copy (sigma 1, region only)
    so that one noisy pixel does not win, and "bright" means above the
    region's Otsu threshold of that copy, in the copy and in ``image``. When no bright pixel lies within
    ``radius`` of the centroid -- a dark spot (papillary muscle, flow
    artefact) covers the centre, or the region is a crescent or ring whose
    centroid falls on myocardium or outside it -- the seed is the bright
    pixel nearest to the centroid, so the flood never starts on the dark
    wall. A region without two distinct smoothed values has no bright
    pixels; its nearest pixel to the centroid is the seed.

    Parameters
    ----------
    image : ndarray of shape (H, W)
        Indexed ``[row, col]``.
    region : ndarray of shape (H, W), bool
        Must have at least one True pixel.
    radius : int

    Returns
    -------
    (row, col) : tuple of int

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._region_growing import find_seed
    >>> image = np.zeros((9, 9)); image[4, 6] = 5.0
    >>> find_seed(image, np.ones((9, 9), bool), radius=2)
    (4, 6)
    """
    if not region.any():
        raise DegenerateSliceError("empty region")
    centre = np.array(ndi.center_of_mass(region))
    rows, cols = np.indices(region.shape)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    smoothed = smooth_in_region(image, region, 1.0)
    values = smoothed[region]
    bright = region.copy()
    if np.ptp(values) > 0:
        # The pixel itself too: the flood starts from its own value, and a
        # dark pixel next to the pool can be bright after smoothing.
        # Shifted to start at 0: threshold_otsu's 256 bins cannot resolve a
        # range below ~1e-13 of the values (e.g. 1e17 + 0..1000).
        lowest = values.min()
        threshold = threshold_otsu(values - lowest)
        bright &= (smoothed - lowest > threshold) & (image - lowest > threshold)
        if not bright.any():
            # Contrast at rounding level: nothing is above the threshold in
            # both images. Any region pixel then, never one outside.
            bright = region
    near = bright & (distance <= radius)
    if near.any():
        return _argmin_where(-smoothed, near)
    return _argmin_where(distance, bright)


def _argmin_where(values: np.ndarray, where: np.ndarray) -> tuple[int, int]:
    index = np.argmin(np.where(where, values, np.inf))
    return tuple(int(i) for i in np.unravel_index(index, values.shape))
