"""Segmenters: images ``(n, H, W)`` with NaN outside the region -> bool masks.

Classical (the original analysis made into estimators):

* :class:`ThresholdSegmenter` -- Otsu, Li, Yen, ... thresholds of the region's pixels;
* :class:`KMeansSegmenter` -- k-means on the region's intensities;
* :class:`RegionGrowingSegmenter` -- flood fill from the centre, Canny edges as walls;
* :func:`make_classical_pipeline` -- the best configuration found by patient-grouped search.

Learnt: :class:`UNetSegmenter` -- the blood pool, the epicardium or both from
the whole image; :func:`myocardium_mask` -- epicardium minus blood pool;
:func:`trim_dark_boundary` -- a blood pool's rim pixels that look like
myocardium removed, at a contrast level :func:`calibrate_boundary_level`
measures on expert labels; :class:`BoundaryTrimmer` -- any segmenter's
masks trimmed so, the level learnt in ``fit``.

All share the grid-searchable pre-processing (contrast stretching,
normalisation, NaN-aware smoothing) and shape post-processing (border
margin, opening, largest object, hole filling, convex hull, dilation).
"""

from ._boundary_trim import (
    SUNNYBROOK_BOUNDARY_LEVEL,
    BoundaryTrimmer,
    boundary_contrast,
    calibrate_boundary_level,
    trim_dark_boundary,
)
from ._classical import make_classical_pipeline
from ._kmeans import KMeansSegmenter
from ._myocardium import myocardium_mask
from ._region_growing import RegionGrowingSegmenter
from ._threshold import THRESHOLD_METHODS, ThresholdSegmenter, threshold_region

__all__ = [
    "ThresholdSegmenter",
    "KMeansSegmenter",
    "RegionGrowingSegmenter",
    "make_classical_pipeline",
    "myocardium_mask",
    "THRESHOLD_METHODS",
    "threshold_region",
    "UNetSegmenter",
    "SUNNYBROOK_BOUNDARY_LEVEL",
    "BoundaryTrimmer",
    "boundary_contrast",
    "calibrate_boundary_level",
    "trim_dark_boundary",
]


def __getattr__(name: str):
    # UNetSegmenter needs PyTorch and skorch (about a second to import): it is
    # imported on first access only, so the classical segmenters and
    # ``skcardio qc`` / ``evaluate`` do not pay for it.
    if name == "UNetSegmenter":
        from ._unet import UNetSegmenter

        return UNetSegmenter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
