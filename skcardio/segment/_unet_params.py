"""Validation of :class:`UNetSegmenter`'s parameter values (in ``fit`` and ``load``, not ``__init__``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._numbers import check_real as _check_real
from .._numbers import check_bool, is_int, is_number_pair
from .._methods import DEVICES, PRECISIONS
from ..io import get_limits
from ._unet_net import MAX_DEPTH, TARGETS, SegmentationLoss, n_parameters

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["validate_params", "check_network_size", "network_size_refusal", "crop_size_refusal", "MAX_BATCH_SIZE"]

#: Largest ``batch_size`` that ``fit`` accepts. A batch never holds more
#: crops than the training slices (a larger value trains on one batch per
#: epoch), and 2**16 crops of the default 128 pixels are 4 GiB of input
#: alone, their activations tens of times more; torch's sampler fails with a
#: traceback, after the data are read, on values beyond a C long (2**63 - 1).
MAX_BATCH_SIZE = 2**16


def validate_params(model: UNetSegmenter, *, training: bool = True) -> None:
    """Raise ValueError naming the first parameter with an invalid value.

    Parameters
    ----------
    model : UNetSegmenter
        The estimator whose parameters are checked.
    training : bool, default=True
        ``True`` (``fit``) also refuses a crop size below ``2 ** depth``, a
        ``batch_size`` above :data:`MAX_BATCH_SIZE`, and a network or a crop
        size that ``load`` would refuse (:func:`check_network_size`, for one
        input channel; ``fit`` checks again with its images' channels;
        :func:`crop_size_refusal`). ``False`` (``load``, and ``predict`` or
        ``save`` after ``set_params``) skips them: the first two protect
        training only, files saved before the minimum crop size may break
        it, ``load`` counts the weights of the file's own network and bounds
        its crop size itself, and after ``fit`` the crop size of the fit
        (``crop_size_``) is the one used.

    Raises
    ------
    ValueError
        Naming the parameter, the value received and what is expected.
    """
    if not isinstance(model.target, str) or model.target not in TARGETS:
        raise ValueError(f"target must be one of {tuple(TARGETS)}, got {model.target!r}")
    _check_architecture(model, training)
    _check_training(model)
    _check_prediction(model)


def _check_architecture(model: UNetSegmenter, training: bool) -> None:
    """The sizes: integers, depth and network within what ``load`` accepts, crop size fitting the depth."""
    for name in ("depth", "base_channels", "max_epochs", "batch_size", "crop_size"):
        value = getattr(model, name)
        if not is_int(value) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    # Before 2 ** (depth - 1) below: for a depth of 10**12 it ran for over a minute, then raised MemoryError.
    if model.depth > MAX_DEPTH:
        raise ValueError(
            f"depth must be at most {MAX_DEPTH} (2 ** (depth - 1) must divide the image size, and depth "
            f"{MAX_DEPTH} already needs images of {2 ** (MAX_DEPTH - 1)} pixels a side), got {model.depth}"
        )
    if training and model.batch_size > MAX_BATCH_SIZE:
        raise ValueError(
            f"batch_size must be at most {MAX_BATCH_SIZE} (crops per training batch), got {model.batch_size}"
        )
    if training:
        check_network_size(model, n_channels=1)
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
    refusal = crop_size_refusal(model.crop_size) if training else None
    if refusal:
        raise ValueError(f"{refusal}; UNetSegmenter.load would refuse the model file")


def _check_training(model: UNetSegmenter) -> None:
    """The optimiser, loss, augmentation and validation settings."""
    _check_real("learning_rate", model.learning_rate, "a positive finite number", lambda v: v > 0)
    _check_real("weight_decay", model.weight_decay, "a finite number >= 0", lambda v: v >= 0)
    if model.loss not in SegmentationLoss.KINDS:
        raise ValueError(f"loss must be one of {SegmentationLoss.KINDS}, got {model.loss!r}")
    zoom = model.zoom_range
    if not is_number_pair(zoom) or not 0 < zoom[0] <= zoom[1]:
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


def _check_prediction(model: UNetSegmenter) -> None:
    """The threshold, the on/off options, the device, the precision and verbosity."""
    _check_real("threshold", model.threshold, "a number in (0, 1)", lambda v: 0 < v < 1)
    for name in ("flip", "intensity_jitter", "tta", "refine", "postprocess", "correct_offset"):
        check_bool(name, getattr(model, name))
    if model.device not in DEVICES:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {model.device!r}")
    if not isinstance(model.precision, str) or model.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {model.precision!r}")
    if not is_int(model.verbose) or model.verbose < 0:
        raise ValueError(f"verbose must be an integer >= 0, got {model.verbose!r}")


def network_size_refusal(n_channels: int, base_channels: int, depth: int, n_outputs: int) -> str | None:
    """Why a U-Net of this size is refused (``max_model_parameters``), or None when it is not.

    The one rule for the network's size, shared by ``fit`` (before training)
    and ``load`` (before building a file's network): a model that trains is
    a model whose file loads under the same limits.

    Parameters
    ----------
    n_channels : int
        Input channels.
    base_channels, depth : int
        As for :class:`~skcardio.segment.UNetSegmenter`; ``depth`` at most
        :data:`~skcardio.segment._unet_net.MAX_DEPTH`.
    n_outputs : int
        Output maps: the number of masks of the target.

    Returns
    -------
    str or None
        ``"a U-Net (n_channels=..., base_channels=..., depth=...) of N
        weights: N weights exceeds the limit max_model_parameters=..."`` and
        how to raise the limit; None within the limit.
    """
    limits = get_limits()
    count = n_parameters(int(n_channels), int(base_channels), int(depth), int(n_outputs))
    if count <= limits.max_model_parameters:
        return None
    return (
        f"a U-Net (n_channels={n_channels}, base_channels={base_channels}, depth={depth}) of {count} weights: "
        + limits.refusal("max_model_parameters", f"{count} weights")
    )


def crop_size_refusal(crop_size: int) -> str | None:
    """Why a crop size is refused (``max_predict_pixels``), or None when it is not.

    The ``refine`` pass of a fitted model predicts crops of
    ``crop_size_ x crop_size_`` pixels, whatever the size of the slices: a
    model file's crop size is bounded as a slice that ``skcardio predict``
    segments is (a crop size of 4096 made one 256 x 256 slice take 5 GB
    and 21 s; 10**6, 3.6 TiB). ``fit`` refuses the same crop sizes with
    this rule, so that every model it trains loads under the same limits.

    Parameters
    ----------
    crop_size : int
        A positive integer.

    Returns
    -------
    str or None
        ``"crop_size 4096 gives crops of 4096 x 4096 = 16777216 pixels:
        16777216 pixels exceeds the limit max_predict_pixels=4194304"`` and
        how to raise the limit; None within the limit.
    """
    limits = get_limits()
    pixels = int(crop_size) ** 2
    if pixels <= limits.max_predict_pixels:
        return None
    return (
        f"crop_size {crop_size} gives crops of {crop_size} x {crop_size} = {pixels} pixels: "
        + limits.refusal("max_predict_pixels", f"{pixels} pixels")
    )


def check_network_size(model: UNetSegmenter, n_channels: int) -> None:
    """Raise ValueError if ``model`` would train a network whose model file ``load`` refuses.

    Parameters
    ----------
    model : UNetSegmenter
        Its ``depth``, ``base_channels`` and ``target`` already checked.
    n_channels : int
        Channels of the training images (1 before they are known: the fewest).

    Raises
    ------
    ValueError
        ``"base_channels and depth give a U-Net (n_channels=1,
        base_channels=256, depth=4) of N weights: N weights exceeds the limit
        max_model_parameters=50000000 (raise it with ...); UNetSegmenter.load
        would refuse the model file"``.
    """
    refusal = network_size_refusal(n_channels, model.base_channels, model.depth, len(TARGETS[model.target]))
    if refusal:
        raise ValueError(
            f"base_channels and depth give {refusal}; UNetSegmenter.load would refuse the model file"
        )
