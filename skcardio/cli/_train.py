"""``skcardio train [ROOT] --out MODEL``: train a U-Net segmenter and save it."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from ._arguments import fraction, positive_float, positive_int, seed
from ._output import atomic_file, out_file
from ._problems import report_problems, skipped_files

__all__ = ["register"]

logger = logging.getLogger("skcardio.cli.train")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train",
        help="train a U-Net on every i-contoured slice and save the model",
        description=(
            "Train skcardio.segment.UNetSegmenter on all slices with an i-contour (blood pool) "
            "of a dataset folder and save it with UNetSegmenter.save (weights and parameters "
            "only: loading never runs code from the file). Without ROOT, trains on the "
            "embedded Sunnybrook sample. Options left out keep the estimator's defaults."
        ),
    )
    parser.add_argument(
        "root", nargs="?", help="dataset folder with link.csv (default: the embedded sample)"
    )
    parser.add_argument(
        "--out", required=True, type=out_file, metavar="MODEL",
        help="file to write the model to, once training is done (replaced whole, never half-written)",
    )
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
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where to train (default auto)")
    parser.add_argument("--seed", type=seed, default=0, help="random_state, 0 <= SEED < 2**32 (default 0)")
    parser.add_argument(
        "--threads", type=positive_int, metavar="N",
        help="PyTorch CPU threads (default: PyTorch's choice, one per core)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the table of epochs")
    parser.set_defaults(func=run)


#: Command-line option -> UNetSegmenter parameter.
_PARAMS = {
    "epochs": "max_epochs",
    "depth": "depth",
    "base_channels": "base_channels",
    "batch_size": "batch_size",
    "crop_size": "crop_size",
    "learning_rate": "learning_rate",
    "validation_fraction": "validation_fraction",
    "patience": "patience",
    "device": "device",
}


def run(args: argparse.Namespace) -> int:
    """Check the options, load the slices, fit, save; exit code 0 (2 for invalid options,
    1 when files were skipped as unreadable: the model is written, the files listed at the end).

    A ``--validation-fraction`` that would hold out every patient of the
    dataset is reported once the data are loaded (exit code 2). A fit that
    diverges raises ``SkcardioError`` and an interrupted fit (Ctrl-C)
    ``KeyboardInterrupt``, both before anything is written: ``--out`` is left
    as it was (``main`` reports them in one line, exit 2 and 130).
    """
    from ..datasets import get_sample_path, load_dataset
    from ..segment import UNetSegmenter

    if args.patience is not None and args.validation_fraction is None:
        # Early stopping watches the held-out patients: without them it never runs.
        print(
            "skcardio train: error: argument --patience: needs --validation-fraction (early "
            f"stopping watches the held-out patients), got --patience {args.patience} without it",
            file=sys.stderr,
        )
        return 2
    params = {param: getattr(args, option) for option, param in _PARAMS.items()}
    params = {name: value for name, value in params.items() if value is not None}
    model = UNetSegmenter(**params, random_state=args.seed, verbose=0 if args.quiet else 1)
    # Combinations of options (--crop-size for --depth, --device cuda without
    # CUDA) are checked by the estimator itself, before the data are loaded.
    try:
        model._validate_params_values()
        model._resolve_device()
    except ValueError as exc:
        print(f"skcardio train: error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    root = args.root or get_sample_path()
    data = load_dataset(root)
    patients = len(set(data.groups))
    try:
        model._check_split(len(data.y), data.groups)  # needs the number of patients
    except ValueError as exc:
        print(f"skcardio train: error: {exc}", file=sys.stderr)
        return 2
    logger.info("training on %d slices of %d patients from %s", len(data.y), patients, root)
    start = time.perf_counter()
    model.fit(data.images, data.y, groups=data.groups)
    elapsed = time.perf_counter() - start
    with atomic_file(Path(args.out), "train") as tmp:
        model.save(tmp)
    print(
        f"trained {len(model.net_.history)} epoch(s) on {len(data.y)} slices of {patients} "
        f"patient(s) in {elapsed:.0f} s (kept epoch {model.best_epoch_}); wrote {args.out}"
    )
    problems = skipped_files(data.skipped)
    report_problems("skipped", problems)
    return 1 if problems else 0
