"""Names of the threshold methods, in a module that imports nothing.

The one list: :class:`skcardio.segment.ThresholdSegmenter`, the threshold grid
plot and ``skcardio evaluate`` all read it, and the command-line parser can
offer it as choices without importing scikit-image.
"""

__all__ = ["THRESHOLD_METHODS"]

#: ``skimage.filters.threshold_<name>``; ``multiotsu`` keeps the brightest class.
THRESHOLD_METHODS = ("otsu", "li", "yen", "isodata", "mean", "minimum", "triangle", "multiotsu")
