"""``skcardio evaluate [ROOT ...]``: score segmentation methods with patient-grouped CV."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from .._methods import THRESHOLD_METHODS
from .._text import printable, text_file
from ..exceptions import SkcardioError
from . import _evaluate_unet as scored
from ._arguments import add_device_argument, add_threads_argument, apply_threads, device_option, seed
from ._evaluate_subset import WHOLE_IMAGE_METHODS
from ._evaluate_subset import Subset as _Subset
from ._evaluate_subset import qc_flags as _qc_flags
from ._output import OutputError, check_destinations, check_outside_inputs, out_dir
from ._problems import report_problems, skipped_files
from ._progress import PROGRESS_HELP
from ._progress import progress as progress_bar
from ._records import record_files
from ._sources import add_source_arguments, load_sources, source_options, source_paths
from ._staging import publish, staging
from ._unet_options import UNET_PARAMS, OptionError, add_unet_arguments, make_unet, warning_text

__all__ = ["register", "METHODS"]

logger = logging.getLogger("skcardio.cli.evaluate")

#: Threshold methods of ``skcardio.segment.ThresholdSegmenter``, then the
#: other segmenters (skcardio._methods imports nothing: building the parser stays light).
METHODS = THRESHOLD_METHODS + ("kmeans", "region-growing", "classical", "unet")

#: Columns of ``per_slice.csv``: the slice, its scores, the U-Net's confidence and flags (blank for the
#: other methods), the slice's file.
CSV_FIELDS = (
    "method", "patient_id", "instance", "fold", "qc_flags", "iou", "dice",
    "ks_pvalue", "ks_statistic", "apd_mm", "hausdorff_mm", "good_contour", *scored.LAST_FIELDS,
)
#: The scores among them, from :func:`_slice_metrics`.
_METRIC_FIELDS = CSV_FIELDS[5 : -len(scored.LAST_FIELDS)]

_GOOD_APD_MM = 5.0
#: What measuring one slice's distances can raise (SkcardioError: its contour file, read again).
_SLICE_ERRORS = (ValueError, MemoryError, SkcardioError)
_IOU_PASS = 0.75
#: evaluate's record in --out, ``{"files": [...]}``: every file the run wrote, itself included. A re-run
#: removes only the files an earlier record lists that it does not write again; a file that merely has
#: an output's name (``overlays_unet.png``) may be the user's.
RECORD = "evaluate.json"
#: Options of how PyTorch runs, not of training: they serve the predictions of --model and --region-model too.
_RUNTIME_OPTIONS = ("--threads", "--device")
#: Patient-grouped folds without --cv; the seed without --random-state.
_DEFAULT_CV, _DEFAULT_SEED = 5, 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score segmentation methods against the expert i-contour, with patient-grouped CV",
        description=(
            "Segment the blood pool of every slice with each --method and compare with the expert "
            "i-contour. The classical methods segment inside the expert o-contour, so they use "
            "the slices that have both contours (DICOM layouts only), or with --region predicted inside the "
            "epicardium a --region-model predicts, on every slice (image folders included); --method unet alone segments "
            "whole images and uses every slice with an i-contour or label, image folders included. "
            "The U-Net is trained on each fold's training patients (the U-Net options), or, with "
            "--model or --pretrained, a trained model file or the shipped pretrained U-Net is scored on "
            "every slice without training (a warning counts the slices it was trained on). Prints a "
            "per-method summary (mean ± sd over slices) and writes per_slice.csv (the scores of each "
            "slice, its file, and the confidence and flags of each U-Net mask), summary.csv, "
            "plots and evaluate.json (the list of the files written) to --out. Without ROOT, runs on the "
            "embedded Sunnybrook sample."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--method", action="append", choices=METHODS, metavar="METHOD",
        help=f"segmentation method, repeatable (default: otsu); one of {', '.join(METHODS)}",
    )
    scored.add_model_arguments(parser)
    parser.add_argument(
        "--cv", type=_n_splits, metavar="N",
        help="patient-grouped folds (GroupKFold; default 5, fewer when there are fewer patients); "
        "0 fits and scores on all slices (in-sample); not with --model or --pretrained",
    )
    parser.add_argument(
        "--out", required=True, type=out_dir, metavar="DIR",
        help="folder for the CSV files and plots (created); written only when every output is ready; "
        "the files that an earlier evaluate's evaluate.json there lists and this run does not write are "
        "removed, no other file; outside every ROOT",
    )
    parser.add_argument(
        "--exclude-qc", action="store_true", help="leave out slices flagged by quality control"
    )
    parser.add_argument(
        "--random-state", type=seed, metavar="SEED",
        help="seed of k-means and of the U-Net, 0 <= SEED < 2**32 (default 0); not with --model or --pretrained"
    )
    parser.add_argument(
        "--region", choices=("o-contour", "predicted"), default="o-contour",
        help="where the methods segment: inside the expert o-contour (default; slices with both contours) "
        "or inside the epicardium predicted by --region-model (every slice with an i-contour)",
    )
    parser.add_argument(
        "--region-model", metavar="FILE",
        help="U-Net model file (UNetSegmenter.save) of target 'epicardium' or 'both', trained on other "
        "patients; needed by --region predicted",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the CSV files only")
    parser.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
    # Outside the training group: --threads and --device serve the predictions of --model, --pretrained and
    # --region-model too.
    runtime_note = "; with --method unet (training, or scoring --model or --pretrained) or --region-model only"
    add_threads_argument(parser, note=runtime_note)
    add_device_argument(parser, note=runtime_note)
    add_unet_arguments(parser.add_argument_group(
        "U-Net training, with --method unet and no --model or --pretrained (options left out keep the "
        "estimator's defaults)"
    ))
    parser.set_defaults(func=run)


def _n_splits(text: str) -> int:
    """``--cv`` value: 0 (in-sample) or at least 2 folds."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(f"must be 0 (all slices, in-sample) or at least 2, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Evaluate; exit code 0; 2 when ROOT is not a dataset folder or --out cannot be written
    (as for ``train``); 1 with a message when the data leave nothing to evaluate, or when
    files were skipped as unreadable or without PixelSpacing (listed at the end)."""
    from ..exceptions import DatasetError, SkcardioError

    fold_options = _fill_fold_defaults(args)
    try:
        unet, region_model = _unet(args, fold_options), _region_model(args)
    except (OptionError, SkcardioError) as exc:  # SkcardioError: an unreadable --model or --region-model file
        print(f"skcardio evaluate: error: {printable(exc)}", file=sys.stderr)
        return 2
    try:
        return _evaluate(args, unet, region_model)
    except (OutputError, DatasetError) as exc:
        print(f"skcardio evaluate: error: {printable(exc)}", file=sys.stderr)
        return 2
    except SkcardioError as exc:
        print(f"skcardio evaluate: error: {printable(exc)}", file=sys.stderr)
        return 1


def _fill_fold_defaults(args: argparse.Namespace) -> list[str]:
    """Give ``--cv`` and ``--random-state`` their defaults where left out; return the ones given.

    The one place the defaults are set. The names are taken first because
    ``--model`` and ``--pretrained`` refuse these options when the user gave them (:func:`_unet`),
    not when a default fills them in.
    """
    given = [f"--{name.replace('_', '-')}" for name in ("cv", "random_state") if getattr(args, name) is not None]
    args.cv = _DEFAULT_CV if args.cv is None else args.cv
    args.random_state = _DEFAULT_SEED if args.random_state is None else args.random_state
    return given


def _unet(args: argparse.Namespace, fold_options: list[str]):
    """The U-Net to evaluate: a loaded --model or --pretrained, an unfitted template, or None without --method unet.

    ``fold_options`` are the fold options the user gave (``--cv``,
    ``--random-state``: :func:`_fill_fold_defaults`), which ``--model`` and ``--pretrained`` refuse.
    Raises OptionError for options that do not go together.
    """
    methods = args.method or ["otsu"]
    given = [
        f"--{option.replace('_', '-')}"
        for option in (*UNET_PARAMS, "threads", "device")
        if getattr(args, option) is not None
    ]
    trained = scored.scored_option(args)  # --model or --pretrained: a trained model, no folds
    if "unet" not in methods:
        if trained:
            raise OptionError(f"argument {trained}: needs --method unet")
        refused = [option for option in given if not (option in _RUNTIME_OPTIONS and args.region_model)]
        if refused:
            serves = " or --region-model" if refused[0] in _RUNTIME_OPTIONS else ""
            raise OptionError(f"argument {refused[0]}: needs --method unet{serves}")
        return None
    if trained:
        if set(methods) != {"unet"}:
            raise OptionError(f"argument {trained}: scores a U-Net file alone; expected --method unet and no other method")
        # Given with --model or --pretrained, these would be silently ignored: no folds, no training
        # (--threads and --device serve prediction).
        given = [option for option in given if option not in _RUNTIME_OPTIONS]
        given += fold_options
        if given:
            raise OptionError(f"argument {given[0]}: trains a U-Net per fold; it does not apply to {trained}")
        model = scored.load_scored_model(args, _device(args))
        apply_threads(args.threads)
        return model
    return make_unet(args, random_state=args.random_state, verbose=0)


def _region_model(args: argparse.Namespace):
    """The epicardium U-Net of ``--region predicted``, loaded and checked before any data are read; else None.

    Raises OptionError for a missing, unneeded or unsuitable --region-model.
    """
    if args.region != "predicted":
        if args.region_model:
            raise OptionError("argument --region-model: needs --region predicted (without it the methods "
                              "segment inside the expert o-contour)")
        return None
    if set(args.method or ["otsu"]) <= set(WHOLE_IMAGE_METHODS):
        raise OptionError("argument --region: predicted has no effect with --method unet alone (it segments "
                          "whole images); expected a classical --method beside it")
    if not args.region_model:
        raise OptionError("argument --region: predicted needs --region-model FILE (a saved epicardium U-Net)")
    from ..preprocessing import PredictedRegion
    from ..segment import UNetSegmenter

    model = UNetSegmenter.load(args.region_model, device=_device(args))
    try:
        # fit checks the model (fitted, of an epicardium target): refused now, not after loading the data.
        PredictedRegion(model).fit(np.zeros((1, 1, 1), np.float32))
    except ValueError as exc:
        raise OptionError(f"argument --region-model: {args.region_model}: {exc}") from None
    apply_threads(args.threads)
    return model


def _device(args: argparse.Namespace) -> str:
    """``--device`` for loading a model file (``"auto"`` when left out); OptionError for cuda without CUDA."""
    try:
        return device_option(args)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def _evaluate(args: argparse.Namespace, unet, region_model=None) -> int:
    from ..exceptions import SkcardioError

    methods = list(dict.fromkeys(args.method or ["otsu"]))
    predicted = region_model is not None
    regions = not set(methods) <= set(WHOLE_IMAGE_METHODS)
    out = Path(args.out)
    # Before the slow part: a folder squatting on an output name fails now, not after minutes; --out
    # that is an input first, as that is the mistake to name.
    check_outside_inputs(out, source_paths(args.roots))
    check_destinations(out, _output_names(methods, plots=not args.no_plots, regions=regions))
    expert_regions = regions and not predicted
    data, source = load_sources(args.roots, require="o-contour" if expert_regions else None, **source_options(args))
    # Without the expert region, its absence is no fault of the slice.
    flags = _qc_flags(data.frame, regions=expert_regions)
    if predicted and regions:
        _predict_regions(data, region_model, args.region_model)
    keep = np.array([not f for f in flags]) if args.exclude_qc else np.ones(len(flags), bool)
    if not keep.any():
        raise SkcardioError("every slice is QC-flagged: --exclude-qc leaves nothing to evaluate")
    problems = skipped_files(data.skipped) + _without_spacing(data.frame, keep)
    keep &= ~_dicom_without_spacing(data.frame)
    if not keep.any():
        raise SkcardioError("no DICOM slice has a PixelSpacing (0028,0030): nothing to evaluate in mm")
    subset = _Subset(data, keep, flags, regions=regions)
    # From here the images, regions and masks live in the subset only (not twice when some slices are left out).
    frame, data = data.frame, None
    if scored.scored_option(args):
        folds = [(np.arange(0), np.arange(len(subset.y)))]
        cv_label = scored.scored_label(args)
    else:
        folds, cv_label = _folds(subset.groups, args.cv)
        if unet is not None:
            _check_holdouts(unet, folds, subset.groups)

    predictions, fold_of, messages, quality = _predict_all(methods, subset, folds, args, unet)
    # A model trained on some of these slices (the pretrained one on the shared data) scores them in-sample.
    messages = scored.in_sample_warnings(args, subset.frame) + messages
    results = {m: _slice_metrics(subset, predictions[m], m, problems) for m in methods}
    known = np.flatnonzero(subset.known_spacing)
    if non_square := _non_square_message(subset.spacing[known], lambda i: subset.label(known[i])):
        print(f"warning: {non_square}", file=sys.stderr)

    print(_header(source, subset, flags, keep, cv_label, exclude_qc=args.exclude_qc, predicted=bool(predicted)))
    if predicted:
        print(f"Regions: the epicardium predicted by {printable(args.region_model)}, not the expert o-contour.\n")
    _print_tables(results, subset.flagged)
    _print_flags(frame, flags, keep)
    for message in messages:
        print(f"warning: {printable(message)}", file=sys.stderr)

    with staging(out, "evaluate") as stage:
        _write_per_slice(stage / "per_slice.csv", methods, subset, fold_of, results, quality)
        _write_summary(stage / "summary.csv", results, subset.flagged)
        not_drawn = [] if args.no_plots else _plots(stage, methods, subset, predictions, results)
        written = [n for n in _output_names(methods, plots=not args.no_plots, regions=regions) if n not in not_drawn]
        _write_record(stage / RECORD, written)
        # Read with out locked: another run's record, half published, would leave files listed by none.
        publish(stage, out, owned=lambda: _earlier_outputs(out))
    print(f"\nwrote {', '.join(written)} to {printable(out)}", file=sys.stderr)
    report_problems("skipped", problems)
    return 1 if problems else 0


def _predict_regions(data, model, model_path: str) -> None:
    """Replace the expert o-contour regions of ``data`` by the epicardium ``model`` (read from ``model_path``) predicts."""
    from ..exceptions import SkcardioError
    from ..preprocessing import PredictedRegion

    try:
        pairs = PredictedRegion(model).fit_transform(data.images)
    except ValueError as exc:
        raise SkcardioError(f"{model_path}: {exc}") from None
    data.regions = pairs[:, 1] > 0.5
    data.has_region = data.regions.any(axis=(1, 2))


def _dicom_without_spacing(frame) -> np.ndarray:
    """DICOM slices without a pixel spacing (image-folder slices never have one: not counted)."""
    spacing = np.asarray(frame.pixel_spacing, dtype=np.float64)
    dicom = np.array([bool(p) for p in frame.dicom_path]) if "dicom_path" in frame.dtype.names else False
    return dicom & ~np.isfinite(spacing).all(axis=1)


def _without_spacing(frame, keep: np.ndarray) -> list[tuple[str, str]]:
    """``(file, reason)`` of the kept DICOM slices left out for want of a pixel spacing (mm)."""
    missing = keep & _dicom_without_spacing(frame)
    if not missing.any():  # also: an image-folder frame, which has no dicom_path field
        return []
    return [
        (str(path), "no PixelSpacing (0028,0030): distances in mm need it; slice left out")
        for path in frame.dicom_path[missing]
    ]


def _output_names(methods, *, plots: bool, regions: bool) -> list[str]:
    """Files written to --out, in the order they are written (intensity plots need o-contour regions)."""
    names = ["per_slice.csv", "summary.csv"]
    if plots and regions:
        names += ["histograms.png", "thresholds.png"]
    if plots:
        names += [name for m in methods for name in _method_plot_names(m)]
    return [*names, RECORD]


def _write_record(path: Path, written: list[str]) -> None:
    """Write evaluate's record: the files of this run (``written``, the record among them)."""
    with path.open("w", encoding="utf-8") as handle:
        json.dump({"files": written}, handle, indent=1)
        handle.write("\n")


def _earlier_outputs(out: Path) -> list[str]:
    """The files that an earlier evaluate's record in ``out`` lists: the only ones a re-run may remove.

    Only names evaluate writes count: a hand-edited record cannot remove
    the user's other files. Without a readable record nothing is removed
    (an ``--out`` written before evaluate kept one keeps its files).
    """
    possible = set(_output_names(METHODS, plots=True, regions=True))
    return [name for name in record_files(out / RECORD) or [] if name in possible]


def _method_plot_names(method: str) -> tuple[str, str]:
    """Scores and overlays plot names of ``method``."""
    name = method.replace("-", "_")
    return f"scores_{name}.png", f"overlays_{name}.png"


def _print_tables(results, flagged: np.ndarray) -> None:
    """All slices; then flagged and clean slices apart when some are flagged."""
    print(_summary_table(results, np.ones(len(flagged), bool), "all evaluated slices"))
    if flagged.any():
        print()
        print(_summary_table(results, flagged, f"QC-flagged slices only ({int(flagged.sum())})"))
        print(_summary_table(results, ~flagged, f"clean slices only ({int((~flagged).sum())})"))


def _folds(groups: np.ndarray, n_splits: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """Patient-grouped (train, test) index pairs, or one in-sample pair."""
    from sklearn.model_selection import GroupKFold

    n_patients = len(set(groups))
    everything = np.arange(len(groups))
    if n_splits == 0:
        return [(everything, everything)], "in-sample (fit and scored on all slices)"
    if n_patients < 2:
        logger.warning("only %d patient: cannot split by patient; scoring in-sample", n_patients)
        return [(everything, everything)], "in-sample (a single patient)"
    if n_splits > n_patients:
        logger.info("%d folds asked (--cv, default 5) but %d patients: using %d folds", n_splits, n_patients, n_patients)
        n_splits = n_patients
    folds = list(GroupKFold(n_splits=n_splits).split(everything, groups=groups))
    return folds, f"{n_splits}-fold patient-grouped CV ({n_patients} patients)"


def _check_holdouts(unet, folds, groups: np.ndarray) -> None:
    """Refuse a --validation-fraction that leaves some fold no patient to train on, before any training."""
    from ..exceptions import DatasetError

    for k, (train, _) in enumerate(folds):
        try:
            unet._check_split(len(train), groups[train])
        except ValueError as exc:
            raise DatasetError(f"fold {k} ({len(set(groups[train]))} training patient(s)): {exc}") from None


def _make_estimator(method: str, random_state: int):
    from sklearn.pipeline import make_pipeline

    from ..preprocessing import RegionSelector
    from ..segment import (
        KMeansSegmenter,
        RegionGrowingSegmenter,
        ThresholdSegmenter,
        make_classical_pipeline,
    )

    if method == "classical":
        return make_classical_pipeline()
    if method == "kmeans":
        segmenter = KMeansSegmenter(random_state=random_state)
    elif method == "region-growing":
        segmenter = RegionGrowingSegmenter()
    else:
        segmenter = ThresholdSegmenter(method=method)
    return make_pipeline(RegionSelector(), segmenter)


def _predict_all(methods, subset: _Subset, folds, args, unet=None):
    """Out-of-fold masks per method, the fold of each slice, warning texts, and the U-Net's confidence and flags.

    ``unet``: the U-Net template, or a fitted model (``--model``,
    ``--pretrained``) that is only asked to predict (its single fold has no
    training slice). The confidence and flags (None without ``unet``) come
    from the probabilities of the U-Net's masks (:func:`~skcardio.cli._evaluate_unet.predict_unet`).
    """
    from sklearn.base import clone

    predictions = {m: np.zeros(subset.y.shape, bool) for m in methods}
    fold_of = np.zeros(len(subset.y), int)
    messages = []
    quality = scored.unet_quality(len(subset.y)) if "unet" in methods else None
    # A bar on a terminal, a line a minute in a batch job's log.
    with progress_bar(total=len(methods) * len(folds), desc="evaluate", unit="fold", hidden=args.no_progress) as bar:
        for method in methods:
            template = unet if method == "unet" else _make_estimator(method, args.random_state)
            for k, (train, test) in enumerate(folds):
                bar.set_postfix_str(method)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    # The U-Net sees the image only; the others [image, region] (subset.inputs),
                    # built for the fold and let go once used.
                    if len(train) == 0:  # --model: fitted already
                        estimator = template
                    elif method == "unet":
                        estimator = clone(template).fit(
                            subset.inputs(train, method), subset.y[train], groups=subset.groups[train]
                        )
                    else:
                        estimator = clone(template).fit(subset.inputs(train, method), subset.y[train])
                    if method == "unet":  # its masks, confidence and flags from one pass
                        predictions[method][test] = scored.predict_unet(estimator, subset.inputs(test, method),
                                                                        subset.spacing[test], quality, test)
                    else:
                        predictions[method][test] = estimator.predict(subset.inputs(test, method))
                messages += [_fold_message(method, k, w.message, subset, test) for w in caught]
                fold_of[test] = k
                bar.update()
    return predictions, fold_of, messages, quality


def _fold_message(method: str, fold: int, message: Warning, subset: _Subset, test: np.ndarray) -> str:
    """A warning of one fold; failed slices named patient/instance, not by position in the fold."""
    failed = getattr(message, "failed_slices", None)
    if not failed:
        return f"{method}, fold {fold}: {warning_text(message)}"
    listed = ", ".join(f"{subset.label(test[i])} ({reason})" for i, reason in failed.items())
    return f"{method}, fold {fold}: {len(failed)} slice(s) could not be segmented and got empty masks: {listed}"


def _slice_metrics(
    subset: _Subset, y_pred: np.ndarray, method: str = "", problems: list[tuple[str, str]] | None = None
) -> dict[str, np.ndarray]:
    """Every metric of every slice; a slice whose distances cannot be measured gets NaN and a line in ``problems``."""
    from ..metrics import dice_score, iou_score, ks_score

    y = subset.y
    pvalue, statistic = ks_score(y, y_pred, images=subset.region_images(method), per_slice=True, return_statistic=True)
    # Distances in mm only where the pixel spacing is known (not for image folders): NaN elsewhere.
    known = np.flatnonzero(subset.known_spacing)
    apd, hausdorff = np.full(len(y), np.nan), np.full(len(y), np.nan)
    if known.size:
        try:
            apd[known], hausdorff[known] = _distances(subset, y_pred, known)
        except _SLICE_ERRORS:
            # One slice (an outline too long to trace in memory, a contour file changed since it was
            # loaded) must not sink the others' distances: slice by slice, naming the one that fails.
            for i in known:
                try:
                    (apd[i],), (hausdorff[i],) = _distances(subset, y_pred, np.array([i]))
                except _SLICE_ERRORS as exc:
                    where = subset.frame["icontour_path"][i] if "icontour_path" in subset.frame.dtype.names else ""
                    reason = f"{method}: APD and Hausdorff distance of {subset.label(i)} not measured"
                    if problems is not None:
                        problems.append((str(where or subset.label(i)), f"{reason} ({type(exc).__name__}: {exc})"))
    return {
        "iou": iou_score(y, y_pred, per_slice=True),
        "dice": dice_score(y, y_pred, per_slice=True),
        "ks_pvalue": pvalue,
        "ks_statistic": statistic,
        "apd_mm": apd,
        "hausdorff_mm": hausdorff,
        "good_contour": np.where(np.isnan(apd), np.nan, apd < _GOOD_APD_MM),
    }


def _distances(subset: _Subset, y_pred: np.ndarray, index: np.ndarray):
    """APD and Hausdorff distance (mm) of the slices ``index``, against the expert's points.

    The i-contour files y was drawn from, as the challenge; the mask's outline
    where the records name no file.
    """
    from ..io import mask_to_contour, read_contour
    from ..metrics import hausdorff_distance

    paths = subset.frame["icontour_path"] if "icontour_path" in subset.frame.dtype.names else [""] * len(subset.y)
    experts = [read_contour(paths[i]) if paths[i] else mask_to_contour(subset.y[i]) for i in index]
    spacing = subset.spacing[index]
    apd = _apd(experts, y_pred[index], spacing)
    return apd, hausdorff_distance(experts, y_pred[index], spacing=spacing, per_slice=True)


def _apd(experts: list, y_pred: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """Per-slice MICCAI 2009 APD; the exact geometric APD where pixels are not square.

    The challenge's rules measure in pixels, so they need square pixels: one
    anisotropic slice must not sink the whole evaluation (the run names such
    slices once: :func:`_non_square_message`).
    """
    from ..metrics import average_perpendicular_distance
    from ..metrics._distance import square_pixels

    square = square_pixels(spacing)  # the metric's own test: it refuses "miccai2009" for the others
    apd = np.empty(len(y_pred))
    for definition, chosen in (("miccai2009", square), ("geometric", ~square)):
        if chosen.any():
            apd[chosen] = average_perpendicular_distance(
                [experts[i] for i in np.flatnonzero(chosen)],
                y_pred[chosen],
                spacing=spacing[chosen],
                per_slice=True,
                definition=definition,
            )
    return apd


def _non_square_message(spacing: np.ndarray, label) -> str | None:
    """The warning naming the slices whose APD :func:`_apd` measures by the geometric definition, or None.

    Said once for the run, not once per method: the slices are the same for every method.
    ``label(i)`` names slice ``i`` of ``spacing``.
    """
    from ..metrics._distance import square_pixels

    odd = np.flatnonzero(~square_pixels(spacing)) if len(spacing) else np.array([], int)
    if not odd.size:
        return None
    names = ", ".join(printable(label(i)) for i in odd[:5])
    return (
        f"{odd.size} slice(s) with non-square pixels ({names}{', ...' if odd.size > 5 else ''}): APD by the "
        "geometric definition, as the MICCAI 2009 rules measure in square pixels"
    )


def _mean_sd(values: np.ndarray) -> tuple[float, float, int]:
    """Mean and sd of the finite values, and how many were infinite (NaN: not measured)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    n_inf = int(np.isinf(values).sum())
    if finite.size == 0:
        return np.nan, np.nan, n_inf
    return float(finite.mean()), float(finite.std()), n_inf


def _summary_rows(results, selection: np.ndarray) -> list[dict[str, object]]:
    rows = []
    for method, metrics in results.items():
        row: dict[str, object] = {"method": method, "n_slices": int(selection.sum())}
        for name in ("iou", "dice", "ks_pvalue", "apd_mm", "hausdorff_mm"):
            mean, sd, n_inf = _mean_sd(metrics[name][selection])
            row[f"{name}_mean"], row[f"{name}_sd"] = mean, sd
            if name == "apd_mm":
                row["n_empty_predictions"] = n_inf
        row["fraction_iou_above_0.75"] = float(np.mean(metrics["iou"][selection] > _IOU_PASS))
        good = metrics["good_contour"][selection]
        good = good[~np.isnan(good)]  # NaN: no pixel spacing
        row["good_contour_rate"] = float(np.mean(good)) if good.size else np.nan
        rows.append(row)
    return rows


def _summary_table(results, selection: np.ndarray, title: str) -> str:
    header = (
        f"{'method':<15}{'n':>4}  {'IoU':>13}  {'Dice':>13}  {'KS p-value':>17}  "
        f"{'IoU>0.75':>8}  {'APD mm':>13}  {'good<5mm':>8}"
    )
    lines = [f"{title}: mean ± sd over slices", header, "-" * len(header)]
    for row in _summary_rows(results, selection):
        def cell(name, spec=".3f", row=row):  # bound now (ruff B023); "-": nothing measured, as report prints
            mean, sd = row[f"{name}_mean"], row[f"{name}_sd"]
            return "-" if np.isnan(mean) else f"{mean:{spec}} ± {sd:{spec}}"

        apd = cell("apd_mm", ".2f")
        if row["n_empty_predictions"]:
            apd += f" ({row['n_empty_predictions']} empty)"
        good = "-" if np.isnan(row["good_contour_rate"]) else f"{row['good_contour_rate']:.1%}"
        lines.append(
            f"{row['method']:<15}{row['n_slices']:>4}  {cell('iou'):>13}  {cell('dice'):>13}  "
            f"{cell('ks_pvalue', '.2g'):>17}  {row['fraction_iou_above_0.75']:>8.1%}  {apd:>13}  {good:>8}"
        )
    return "\n".join(lines)


def _header(
    source: str, subset: _Subset, flags: list[str], keep: np.ndarray, cv_label: str, *, exclude_qc: bool,
    predicted: bool = False,
) -> str:
    n_flagged = sum(bool(f) for f in flags)
    if not keep.all():
        state = "excluded"
    elif n_flagged or not exclude_qc:
        state = "kept (use --exclude-qc to leave them out)"
    else:
        state = "to exclude"
    qc = f"{n_flagged} QC-flagged slice(s) {state}"
    if predicted:  # --region predicted: every slice with an i-contour, image folders included
        slices, how = ("with an i-contour or label",
                       "Segmentation inside the predicted epicardium, scored against the i-contour or label.")
    elif subset.uses_regions:
        slices, how = "with both contours", "Segmentation inside the expert o-contour, scored against the i-contour."
    else:
        slices, how = "with an i-contour or label", "Segmentation of the whole image, scored against the i-contour or label."
    unknown = int((~subset.known_spacing).sum())
    no_mm = (
        f" {unknown} slice(s) without pixel spacing (image folders): no APD, Hausdorff distance or "
        "good-contour verdict for them (--pixel-spacing MM gives theirs)." if unknown else ""
    )
    return (
        f"{len(subset.y)} slice(s) {slices} from {len(set(subset.groups))} patient(s) "
        f"({printable(source)}); {cv_label}; {qc}\n"
        f"{how} APD: average "
        "perpendicular distance (MICCAI 2009), empty predictions left out of its mean and counted "
        f"as not good.{no_mm}\n"
    )


def _print_flags(frame, flags: list[str], keep: np.ndarray) -> None:
    flagged = [i for i, f in enumerate(flags) if f]
    if not flagged:
        return
    counts = Counter(flag for i in flagged for flag in flags[i].split("; "))
    print(f"\nQC-flagged slices ({len(flagged)}; {', '.join(f'{n} x {printable(f)}' for f, n in counts.items())}):")
    for i in flagged:
        state = "evaluated" if keep[i] else "excluded"
        print(f"  {printable(frame.patient_id[i])}/{frame.instance[i]}: {printable(flags[i])} ({state})")


def _format(value) -> object:
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return value


def _write_per_slice(path: Path, methods, subset: _Subset, fold_of, results, quality=None) -> None:
    """One row per method and slice; ``quality``: the U-Net's confidence and flags (:func:`_predict_all`)."""
    with text_file(path) as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        for method in methods:
            metrics = results[method]
            for i in range(len(subset.y)):
                writer.writerow(
                    [method, subset.frame.patient_id[i], int(subset.frame.instance[i]), int(fold_of[i]),
                     subset.flags[i]]
                    + [_format(metrics[name][i]) for name in _METRIC_FIELDS]
                    + scored.last_cells(subset.frame, quality if method == "unet" else None, i)
                )


def _write_summary(path: Path, results, flagged: np.ndarray) -> None:
    selections = {"all": np.ones(len(flagged), bool), "qc_flagged": flagged, "clean": ~flagged}
    rows = [
        {"slices": name, **row}
        for name, selection in selections.items()
        if selection.any()
        for row in _summary_rows(results, selection)
    ]
    with text_file(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _format(v) for k, v in row.items()} for row in rows)


def _plots(out: Path, methods, subset: _Subset, predictions, results) -> list[str]:
    """Histograms and a thresholds grid (with regions), and per method: scores and overlays; the names not drawn.

    The region plots use the slices whose region is not empty (a predicted
    epicardium may be); with none, they are not drawn (a warning says so).
    """
    from matplotlib.figure import Figure

    from ..analysis import (
        intensity_distributions,
        plot_intensity_histograms,
        plot_overlay,
        plot_slice_scores,
        plot_threshold_grid,
    )

    labels = [subset.label(i) for i in range(len(subset.y))]
    not_drawn = []
    with_region = subset.regions.any(axis=(1, 2))
    if subset.uses_regions and not with_region.any():
        not_drawn = ["histograms.png", "thresholds.png"]
        logger.warning("every region is empty (no epicardium predicted): %s not drawn", " and ".join(not_drawn))
    elif subset.uses_regions:  # intensity plots inside the o-contour
        # Every slice (the usual case): the arrays themselves, not copies made by a boolean index.
        plotted = slice(None) if with_region.all() else with_region
        dist = intensity_distributions(subset.images[plotted], subset.y[plotted], subset.regions[plotted])
        plot_intensity_histograms(dist.blood, dist.myocardium, path=out / "histograms.png",
                                  title="Blood pool vs myocardium, all evaluated slices")
        candidates = np.flatnonzero(with_region)
        worst = int(candidates[np.argmin(np.asarray(results[methods[0]]["iou"])[candidates])])
        plot_threshold_grid(subset.images[worst], subset.regions[worst], true_mask=subset.y[worst],
                            title=f"Thresholds inside the o-contour: {labels[worst]} (lowest {methods[0]} IoU)",
                            path=out / "thresholds.png")
    for method in methods:
        metrics = results[method]
        scores_name, overlays_name = _method_plot_names(method)
        plot_slice_scores(
            {"IoU": metrics["iou"], "Dice": metrics["dice"], "APD mm": metrics["apd_mm"]},
            labels=labels, thresholds={"IoU": _IOU_PASS, "APD mm": _GOOD_APD_MM},
            path=out / scores_name, title=f"{method}: per-slice scores",
        )
        order = np.argsort(metrics["iou"], kind="stable")
        shown = list(dict.fromkeys([*order[:3], *order[-3:]]))  # 3 worst, 3 best
        figure = Figure(figsize=(3.2 * len(shown), 3.6), layout="constrained")
        for ax, i in zip(figure.subplots(1, len(shown), squeeze=False).ravel(), shown):
            plot_overlay(subset.images[i], true_mask=subset.y[i], pred_mask=predictions[method][i],
                         region=subset.regions[i] if subset.uses_regions else None, ax=ax,
                         title=f"{labels[i]} IoU {metrics['iou'][i]:.2f}")
        figure.suptitle(f"{method}: worst and best slices by IoU")
        figure.savefig(out / overlays_name, dpi=100)
    return not_drawn
