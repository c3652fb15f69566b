"""U-Net training options shared by ``train`` and ``evaluate --method unet``."""

from __future__ import annotations

import argparse

from .._methods import PRECISIONS
from ._arguments import apply_threads, device_option, fraction, positive_float, positive_int

__all__ = ["add_unet_arguments", "make_unet", "OptionError", "warning_text"]

#: Command-line option -> UNetSegmenter parameter.
UNET_PARAMS = {
    "epochs": "max_epochs",
    "depth": "depth",
    "base_channels": "base_channels",
    "batch_size": "batch_size",
    "crop_size": "crop_size",
    "learning_rate": "learning_rate",
    "validation_fraction": "validation_fraction",
    "patience": "patience",
    "precision": "precision",
    "correct_offset": "correct_offset",
}


class OptionError(ValueError):
    """Options that are valid one by one but not together; the message is the error line."""


def add_unet_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add the options of :data:`UNET_PARAMS`.

    Not ``--threads`` nor ``--device``, which :func:`make_unet` reads too: the
    command adds them (:func:`~skcardio.cli._arguments.add_threads_argument`,
    :func:`~skcardio.cli._arguments.add_device_argument`) where their help
    belongs (``evaluate --model`` uses them, without training).
    """
    parser.add_argument("--epochs", type=positive_int, metavar="N", help="training epochs (max_epochs)")
    parser.add_argument("--depth", type=positive_int, metavar="N", help="U-Net resolution levels")
    parser.add_argument("--base-channels", type=positive_int, metavar="N", help="feature maps at full resolution")
    parser.add_argument("--batch-size", type=positive_int, metavar="N")
    parser.add_argument("--crop-size", type=positive_int, metavar="PX", help="side of the training crops")
    parser.add_argument("--learning-rate", type=positive_float, metavar="LR", help="peak learning rate")
    parser.add_argument(
        "--validation-fraction", type=fraction, metavar="F",
        help="hold out this fraction (0 < F < 1) of the patients for early stopping (default: none)",
    )
    parser.add_argument(
        "--patience", type=positive_int, metavar="N",
        help="early-stopping patience in epochs (default 30); needs --validation-fraction",
    )
    parser.add_argument(
        "--precision", choices=PRECISIONS,
        help="what the convolutions compute in (default float32); bfloat16 is faster on a CPU with native "
             "bfloat16 (AVX-512 BF16, AMX): check the trained model's score (docs/unet.md)",
    )
    parser.add_argument(
        "--correct-offset", action="store_const", const=True,
        help="after training, measure how far the labels sit from the model's masks and shift every "
             "prediction by it (a contouring convention's offset, which random flips keep the network from learning)",
    )


def make_unet(args: argparse.Namespace, *, random_state: int, verbose: int):
    """The UNetSegmenter the options describe; options left out keep the estimator's defaults.

    Combinations (``--patience`` without ``--validation-fraction``,
    ``--crop-size`` for ``--depth``, ``--device cuda`` without CUDA) and
    the estimator's bounds (``--depth`` at most 16, ``--batch-size`` at most
    2**16, a network of ``--depth`` and ``--base-channels`` within
    ``max_model_parameters``, so that its model file loads) are checked
    here, before any data are loaded: :class:`OptionError`, as is training
    under ``python -OO``, where skorch cannot be imported.
    ``--device`` (added by the command) is the model's ``device``, and
    ``--threads`` (added by the command) is applied to PyTorch.
    """
    from ..segment import UNetSegmenter
    from ..segment._unet_runtime import import_skorch

    try:
        import_skorch()  # fit needs it; under -OO say so now, not after loading the data
    except ImportError as exc:
        raise OptionError(str(exc)) from None

    if args.patience is not None and args.validation_fraction is None:
        # Early stopping watches the held-out patients: without them it never runs.
        raise OptionError(
            "argument --patience: needs --validation-fraction (early stopping watches the held-out "
            f"patients), got --patience {args.patience} without it"
        )
    params = {param: getattr(args, option) for option, param in UNET_PARAMS.items()}
    params = {name: value for name, value in params.items() if value is not None}
    try:
        device = device_option(args)
        model = UNetSegmenter(**params, device=device, random_state=random_state, verbose=verbose)
        model._validate_params_values()
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    apply_threads(args.threads)
    return model


def warning_text(message: Warning | str) -> str:
    """A warning's text as the command line says it.

    A :class:`~skcardio.exceptions.DegenerateModelWarning` advises raising
    ``max_epochs``; the commands' option is ``--epochs``. Any other warning
    keeps its text.
    """
    from ..exceptions import DegenerateModelWarning

    if isinstance(message, DegenerateModelWarning) and message.problem and message.max_epochs is not None:
        from ..segment._unet_runtime import degenerate_message

        return degenerate_message(message.problem, message.max_epochs, "--epochs")
    return str(message)
