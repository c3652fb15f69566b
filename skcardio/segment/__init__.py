"""Segmenters: images ``(n, H, W)`` with NaN outside the region -> bool masks.

Classical (the original analysis made into estimators):

* :class:`ThresholdSegmenter` -- Otsu, Li, Yen, ... thresholds of the region's pixels;
* :class:`KMeansSegmenter` -- k-means on the region's intensities;
* :class:`RegionGrowingSegmenter` -- flood fill from the centre, Canny edges as walls;
* :func:`make_classical_pipeline` -- the best configuration found by patient-grouped search.

All share the grid-searchable pre-processing (contrast stretching,
normalisation, NaN-aware smoothing) and shape post-processing (border
margin, opening, largest object, hole filling, convex hull, dilation).
"""

from ._classical import make_classical_pipeline
from ._kmeans import KMeansSegmenter
from ._region_growing import RegionGrowingSegmenter
from ._threshold import THRESHOLD_METHODS, ThresholdSegmenter, threshold_region

__all__ = [
    "ThresholdSegmenter",
    "KMeansSegmenter",
    "RegionGrowingSegmenter",
    "make_classical_pipeline",
    "THRESHOLD_METHODS",
    "threshold_region",
    "UNetSegmenter",
]


def __getattr__(name: str):
    # UNetSegmenter needs PyTorch and skorch (about a second to import): it is
    # imported on first access only, so the classical segmenters and
    # ``skcardio qc`` / ``evaluate`` do not pay for it.
    if name == "UNetSegmenter":
        from ._unet import UNetSegmenter

        return UNetSegmenter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
