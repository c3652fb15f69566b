"""``evaluate --method unet`` beyond training per fold: the trained model scored (``--model``,
``--pretrained``), whether it was trained on the slices it is scored on, and the confidence and flags
of its masks; and the columns of ``per_slice.csv`` that name each slice's file.

Kept apart from :mod:`skcardio.cli._evaluate`, which runs the evaluation.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from pathlib import Path

import numpy as np

from ._unet_options import OptionError

__all__ = [
    "LAST_FIELDS",
    "PATH_FIELDS",
    "QUALITY_FIELDS",
    "add_model_arguments",
    "in_sample_warnings",
    "last_cells",
    "load_scored_model",
    "predict_unet",
    "scored_label",
    "scored_option",
    "unet_quality",
]

logger = logging.getLogger("skcardio.cli.evaluate")

#: Columns of ``per_slice.csv`` for the U-Net's masks, named as in ``predict``'s ``predictions.csv``
#: (:func:`skcardio.qc.assess_predictions`, ``PREDICTION_FLAGS`` between the confidence and ``flagged``);
#: blank for the other methods.
QUALITY_FIELDS = ("confidence", "empty", "several_components", "touches_border", "implausible_area", "flagged")
#: Columns of ``per_slice.csv`` naming the slice's image file, as the dataset's ``frame`` does: the DICOM
#: file (``predictions.csv``'s ``dicom_path``) or the image of an image folder; the other one is blank.
PATH_FIELDS = ("dicom_path", "image_path")
#: The last columns of ``per_slice.csv``, after the scores (:func:`last_cells`).
LAST_FIELDS = (*QUALITY_FIELDS, *PATH_FIELDS)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--model FILE`` and ``--pretrained``, which exclude each other."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--model", metavar="FILE",
        help="with --method unet alone: score this model file (from 'skcardio train') on every slice, "
        "no training, no folds; when FILE with the suffix .json is its provenance record (as "
        "benchmarks/train_pretrained.py writes; 'skcardio train' writes none), a warning counts the slices "
        "it was trained on, as for --pretrained",
    )
    group.add_argument(
        "--pretrained", action="store_true",
        help="with --method unet alone: score the U-Net shipped with skcardio (UNetSegmenter.pretrained(), "
        "the default model of predict and report) on every slice, no training, no folds. It was trained on "
        "all 17 shared Sunnybrook patients, the embedded sample among them: a warning counts the slices "
        "that were in its training data (the same image file, by SHA-256), whose scores are in-sample",
    )


def scored_option(args: argparse.Namespace) -> str | None:
    """``"--model"`` or ``"--pretrained"`` when a trained model is scored without folds; else None."""
    if args.model:
        return "--model"
    return "--pretrained" if args.pretrained else None


def scored_label(args: argparse.Namespace) -> str:
    """How the header names the model scored (the CV label's place)."""
    if args.pretrained:
        return "no training: the pretrained model (UNetSegmenter.pretrained()) scored on every slice"
    return f"no training: model {args.model} scored on every slice"


def load_scored_model(args: argparse.Namespace, device: str):
    """The fitted model of ``--model`` or ``--pretrained``, on ``device``.

    OptionError for a model of another target than the blood pool;
    SkcardioError for a model file that cannot be read.
    """
    from ..segment import UNetSegmenter

    if args.pretrained:
        return UNetSegmenter.pretrained(device=device)  # of target "endocardium"
    model = UNetSegmenter.load(args.model, device=device)
    if model.target_ != "endocardium":
        raise OptionError(
            f"argument --model: {args.model}: a model of target {model.target_!r}; evaluate scores the "
            "blood pool against the i-contour: expected a model of target 'endocardium'"
        )
    return model


def in_sample_warnings(args: argparse.Namespace, frame) -> list[str]:
    """The warning that some slices of ``frame`` were in the training data of the model scored; [] if none.

    Empty without ``--model`` or ``--pretrained`` (the U-Net trained per fold
    never sees its test patients).

    The model's provenance record (the pretrained model's
    ``unet_lv_pretrained.json``; for ``--model FILE``, ``FILE`` with the
    suffix ``.json`` when it is there and records ``FILE``'s SHA-256, as
    ``benchmarks/train_pretrained.py`` writes) lists the SHA-256 of every
    training file; a slice counts when its image file's SHA-256 is among them.
    """
    from ..segment._unet_file import PRETRAINED

    if not scored_option(args):
        return []
    training = _training_hashes(PRETRAINED if args.pretrained else Path(args.model))
    if not training:
        return []
    paths = [dicom or image for dicom, image in (path_cells(frame, i) for i in range(len(frame)))]
    seen = sum(bool(path) and _sha256(path) in training for path in paths)
    if not seen:
        return []
    whose = "the pretrained model's" if args.pretrained else f"model {args.model}'s"
    return [
        f"{seen} of {len(paths)} slices were in {whose} training data: the scores are in-sample, "
        "not an estimate on unseen patients"
    ]


def _training_hashes(weights: Path) -> frozenset[str]:
    """SHA-256 of the training files that the provenance record of the model file ``weights`` lists (none: empty)."""
    from ..exceptions import SkcardioError
    from ..io._json_stream import read_json

    record = weights.with_suffix(".json")
    if record == weights or not record.exists():
        return frozenset()
    try:
        # Streamed, as the records of an earlier run: json.loads raised RecursionError on [[[[... (a traceback).
        provenance = read_json(record, SkcardioError)
        files = provenance["data"]["files_sha256"]
        if provenance["weights_sha256"] != _sha256(weights):
            # Another model's (the file was replaced since): it says nothing of this one. Said, not logged at
            # INFO: a stale record would silently drop the in-sample warning.
            logger.warning("%s: not the provenance of %s (another SHA-256): its training data are unknown, "
                           "so no slice is counted as in-sample", record, weights)
            return frozenset()
        return frozenset(value for value in files.values() if isinstance(value, str))
    except (SkcardioError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # Said, as a stale record is: a record there but unusable silently dropped the in-sample warning.
        reason = f"no {exc} entry" if isinstance(exc, KeyError) else str(exc).removeprefix(f"{record}: ")
        logger.warning("%s: not read as the provenance record of %s (%s): its training data are unknown, so no "
                       "slice is counted as in-sample", record, weights, reason)
        return frozenset()


def _sha256(path: str | Path) -> str | None:
    """SHA-256 of the regular file ``path`` (bounded by ``max_file_bytes``); None when it cannot be read."""
    from ..exceptions import SkcardioError
    from ..io._limits import read_regular

    try:
        return hashlib.sha256(read_regular(str(path), SkcardioError, "input", "max_file_bytes")).hexdigest()
    except SkcardioError:
        return None


def unet_quality(n: int) -> dict[str, np.ndarray]:
    """Room for the confidence and flags (:data:`QUALITY_FIELDS`) of ``n`` slices, filled by :func:`predict_unet`."""
    return {name: np.zeros(n, float if name == "confidence" else bool) for name in QUALITY_FIELDS}


def predict_unet(model, images: np.ndarray, spacing: np.ndarray, quality: dict[str, np.ndarray], index) -> np.ndarray:
    """The masks of a fitted U-Net, their confidence and flags put in ``quality`` at ``index``: one pass of the network.

    :func:`skcardio.qc.assess_predictions` of the probabilities the masks were
    thresholded from (``predict_with_proba``), as ``predict`` computes them;
    ``spacing`` (NaN where unknown) decides ``implausible_area``.
    """
    from ..qc import assess_predictions

    masks, proba = model.predict_with_proba(images)
    assessed = assess_predictions(masks, proba, pixel_spacing=spacing)
    for name in QUALITY_FIELDS:
        quality[name][index] = assessed[name]
    return masks


def last_cells(frame, quality: dict[str, np.ndarray] | None, i: int) -> list[object]:
    """The :data:`LAST_FIELDS` cells of slice ``i`` of ``frame``.

    The confidence and flags as ``predictions.csv`` writes them (blank
    without ``quality``: not a U-Net's mask), then the slice's file.
    """
    if quality is None:
        cells: list[object] = [""] * len(QUALITY_FIELDS)
    else:
        cells = [f"{float(quality['confidence'][i]):.3f}", *(int(quality[name][i]) for name in QUALITY_FIELDS[1:])]
    return cells + path_cells(frame, i)


def path_cells(frame, i: int) -> list[str]:
    """The :data:`PATH_FIELDS` cells of record ``i`` of a dataset's ``frame`` ("" where it has none)."""
    return [str(frame[name][i] or "") if name in frame.dtype.names else "" for name in PATH_FIELDS]
