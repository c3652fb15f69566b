"""Names offered as choices, in a module that imports nothing.

The one list of each: :class:`skcardio.segment.ThresholdSegmenter`, the
threshold grid plot and ``skcardio evaluate`` read the threshold methods;
:class:`skcardio.segment.UNetSegmenter` and ``skcardio train`` the
precisions and the devices. The command-line parser offers them as choices without
importing scikit-image or PyTorch.
"""

__all__ = ["THRESHOLD_METHODS", "PRECISIONS", "DEVICES"]

#: ``skimage.filters.threshold_<name>``; ``multiotsu`` keeps the brightest class.
THRESHOLD_METHODS = ("otsu", "li", "yen", "isodata", "mean", "minimum", "triangle", "multiotsu")

#: ``UNetSegmenter(precision=...)``: what the network's convolutions compute in.
PRECISIONS = ("float32", "bfloat16")

#: ``UNetSegmenter(device=...)`` and ``--device``: where PyTorch runs the network ("auto": CUDA when available).
DEVICES = ("auto", "cpu", "cuda")
