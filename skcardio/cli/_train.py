"""``skcardio train [ROOT ...] --out MODEL``: train a U-Net segmenter and save it."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from .._text import printable
from ._arguments import add_device_argument, add_threads_argument, seed
from ._output import check_outside_inputs, out_file
from ._problems import report_problems, skipped_files
from ._sources import add_source_arguments, load_sources, source_options, source_paths
from ._staging import atomic_file
from ._unet_options import OptionError, add_unet_arguments, make_unet

__all__ = ["register"]

logger = logging.getLogger("skcardio.cli.train")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train",
        help="train a U-Net on every i-contoured slice and save the model",
        description=(
            "Train skcardio.segment.UNetSegmenter on all slices with an i-contour (blood pool) "
            "of DICOM dataset folders and labelled image folders, in any mix, and save it with "
            "UNetSegmenter.save (weights and parameters only: loading never runs code from the "
            "file). Every patient of every ROOT is its own group (an id found in two ROOTs "
            "becomes ROOT:id); images of different ROOTs are padded to the largest size (NaN: no "
            "data), while within one ROOT the images whose size differs from its most common one "
            "are left out with a warning; 8-bit images and scanner units train together (each image "
            "is scaled by its own percentiles). A bad file (unreadable, a label that is not binary, "
            "an image without its label...) is skipped, listed at the end, and the exit status is 1. "
            "Without ROOT, trains on the embedded Sunnybrook sample. Options "
            "left out keep the estimator's defaults."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--out", required=True, type=out_file, metavar="MODEL",
        help="file to write the model to, once training is done (replaced whole, never half-written), outside every ROOT",
    )
    add_unet_arguments(parser)
    add_device_argument(parser)
    add_threads_argument(parser)
    parser.add_argument("--seed", type=seed, default=0, help="random_state, 0 <= SEED < 2**32 (default 0)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table of epochs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, load the slices, fit, save; exit code 0 (2 for invalid options,
    1 when files were skipped as unreadable: the model is written, the files listed at the end).

    A ``--validation-fraction`` that would hold out every patient of the
    dataset is reported once the data are loaded (exit code 2); an ``--out``
    inside a ROOT (an input image, say) before anything is read (exit code 2). A fit that
    diverges raises ``SkcardioError`` and an interrupted fit (Ctrl-C)
    ``KeyboardInterrupt``, both before anything is written: ``--out`` is left
    as it was (``main`` reports them in one line, exit 2 and 130).
    """
    try:
        model = make_unet(args, random_state=args.seed, verbose=0 if args.quiet else 1)
    except OptionError as exc:
        print(f"skcardio train: error: {printable(exc)}", file=sys.stderr)
        return 2
    check_outside_inputs(args.out, source_paths(args.roots))  # a model written over an input image: exit 2
    data, source = load_sources(args.roots, **source_options(args))
    patients = len(set(data.groups))
    try:
        model._check_split(len(data.y), data.groups)  # needs the number of patients
    except ValueError as exc:
        print(f"skcardio train: error: {printable(exc)}", file=sys.stderr)
        return 2
    logger.info("training on %d slices of %d patients from %s", len(data.y), patients, source)
    start = time.perf_counter()
    model.fit(data.images, data.y, groups=data.groups)
    elapsed = time.perf_counter() - start
    with atomic_file(Path(args.out), "train") as tmp:
        model.save(tmp)
    print(
        f"trained {len(model.net_.history)} epoch(s) on {len(data.y)} slices of {patients} "
        f"patient(s) in {elapsed:.0f} s (kept epoch {model.best_epoch_}); wrote {printable(args.out)}"
    )
    problems = skipped_files(data.skipped)
    report_problems("skipped", problems)
    return 1 if problems else 0
