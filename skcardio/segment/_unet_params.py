"""Validation of :class:`UNetSegmenter`'s parameter values (in ``fit`` and ``load``, not ``__init__``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._numbers import check_real as _check_real
from .._numbers import check_bool, is_int, is_number
from ._unet_net import TARGETS, SegmentationLoss

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["validate_params"]


def validate_params(model: UNetSegmenter, *, training: bool = True) -> None:
    """Raise ValueError naming the first parameter with an invalid value.

    ``training=False`` (``load``) skips the minimum crop size: it protects
    training batches only, and files saved before the rule may break it.
    """
    if not isinstance(model.target, str) or model.target not in TARGETS:
        raise ValueError(f"target must be one of {tuple(TARGETS)}, got {model.target!r}")
    for name in ("depth", "base_channels", "max_epochs", "batch_size", "crop_size"):
        value = getattr(model, name)
        if not is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    multiple = 2 ** (model.depth - 1)
    if model.crop_size % multiple:
        raise ValueError(
            f"crop_size must be a multiple of 2 ** (depth - 1) = {multiple} (depth={model.depth}), "
            f"got {model.crop_size}"
        )
    if training and model.crop_size < 2 * multiple:
        # A 1 x 1 bottleneck fails in batch norm whenever a batch holds one crop.
        raise ValueError(
            f"crop_size must be at least 2 ** depth = {2 * multiple} (depth={model.depth}) so that "
            f"the bottleneck of a crop is at least 2 x 2 pixels, got {model.crop_size}"
        )
    _check_real("learning_rate", model.learning_rate, "a positive finite number", lambda v: v > 0)
    _check_real("weight_decay", model.weight_decay, "a finite number >= 0", lambda v: v >= 0)
    if model.loss not in SegmentationLoss.KINDS:
        raise ValueError(f"loss must be one of {SegmentationLoss.KINDS}, got {model.loss!r}")
    zoom = model.zoom_range
    if (
        isinstance(zoom, (str, bytes))
        or not hasattr(zoom, "__len__")
        or len(zoom) != 2
        or not all(is_number(v) and np.isfinite(v) for v in zoom)
        or not 0 < zoom[0] <= zoom[1]
    ):
        raise ValueError(
            f"zoom_range must be two numbers (low, high) with 0 < low <= high, got {zoom!r}"
        )
    _check_real("rotation", model.rotation, "a finite number of degrees >= 0", lambda v: v >= 0)
    if model.validation_fraction is not None:
        _check_real(
            "validation_fraction", model.validation_fraction, "a number in (0, 1) or None", lambda v: 0 < v < 1
        )
    if model.patience is not None and (not is_int(model.patience) or model.patience < 1):
        raise ValueError(f"patience must be a positive integer or None, got {model.patience!r}")
    _check_real("threshold", model.threshold, "a number in (0, 1)", lambda v: 0 < v < 1)
    for name in ("flip", "intensity_jitter", "tta", "refine", "postprocess", "correct_offset"):
        check_bool(name, getattr(model, name))
    if model.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {model.device!r}")
    if not is_int(model.verbose) or model.verbose < 0:
        raise ValueError(f"verbose must be an integer >= 0, got {model.verbose!r}")
