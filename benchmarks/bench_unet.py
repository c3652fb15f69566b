"""U-Net segmenter: patient-grouped CV on the 17 shared patients, ablations, speed, skorch overhead.

Usage::

    python benchmarks/bench_unet.py [DATA] [--folds 3] [--set NAME=VALUE ...] [--dicom-repeat K]
                                    [--balance none|group|patient] [--patient-fraction F] [--models DIR]
                                    [--skip-cv] [--overhead-epochs 4] [--repeat 2]
                                    [--speed-slices 240] [--train-epochs 0] [--threads 2]
                                    [--json FILE]
    python benchmarks/bench_unet.py [DATA] --hold-out dicom|ID,ID,... [--dicom-repeat K] [--models DIR] ...
    python benchmarks/bench_unet.py [DATA] --score-only DIR[,DIR...] [--json FILE]
    python benchmarks/bench_unet.py --merge DIR,DIR,... --models OUT

DATA defaults to ``../shared/data`` beside the repository; both shared sources
are read (``final_data``: 5 DICOM patients; ``sunnybrook_train_png``: 12 PNG
patients), 300 slices of 17 patients in the four Sunnybrook groups
(heart failure with / without infarction, hypertrophy, normal).
``--png-labels polygon`` trains and scores with the PNG labels redrawn in the
DICOM masks' convention (:func:`skcardio.io.polygon_mask_from_floor_fill`;
``folds.json`` records which); ``--score-only`` may score models against the
other kind on purpose and says so.

1. **Grouped CV.** ``StratifiedGroupKFold(--folds, shuffle=True,
   random_state=0)``: whole patients per fold, folds stratified by pathology
   group. Each fold fits ``UNetSegmenter(random_state=0)`` with the defaults
   (or ``--set`` changes, e.g. ``--set rotation=0 --set intensity_jitter=false``
   for an augmentation ablation, ``--set random_state=1`` for another seed:
   the folds stay the same), saves it to ``--models DIR/fold_<k>.pt``
   with ``folds.json`` (held-out patients per fold), and predicts its
   held-out patients' whole images under every combination of the
   prediction-time options ``tta``, ``refine`` and ``postprocess`` (the same
   fold models: inference ablations cost no training). ``--hold-out``
   replaces the folds by leave-one-patient-out ones: one fold per listed
   patient (``dicom``: the five ``final_data`` patients, which
   ``bench_clinical.py --cv-dir`` measures), its model trained on every other
   patient; only the listed patients are scored. ``--dicom-repeat K`` puts the
   training patients' DICOM slices K times in each fold's training set, in
   either kind of fold (their expert drew the contour files these scores and
   ``bench_clinical.py`` compare with). ``--balance group`` (``patient``)
   gives every pathology group (patient) of a fold's training set the same
   share of each epoch's draws, through ``UNetSegmenter.fit``'s
   ``sample_weight``. Per slice: Dice,
   IoU, APD and good contour (APD < 5 mm), from :mod:`skcardio.metrics`.
   APD follows the MICCAI 2009 challenge's code (``definition="miccai2009"``)
   against the expert's i-contour file points on the DICOM slices, with their
   own pixel spacing; the PNG slices have no contour file (the expert outline
   is traced from the label mask, about 0.2 px outside the drawn polygon) and
   no pixel spacing (the DICOMs' 1.3672 mm, ``NOMINAL_SPACING``, is used;
   both stated in every table); and the confidence of
   :func:`skcardio.qc.prediction_confidence` (``assess_predictions``'s), with its AUROC for detecting
   slices of Dice < 0.8. ``--score-only DIR`` re-scores saved fold models
   (``DIR/fold_<k>.pt`` and the held-out patients of ``DIR/folds.json``)
   with their own prediction options, without training, and stops; of
   leave-one-patient-out folds, only their patients are scored.
   ``--score-only DIR1,DIR2,...`` (trainings of the same folds, e.g. two
   seeds) scores their ensemble: the mean of the fold models' probabilities,
   thresholded and post-processed as the first folder's model does.
   ``--merge D0,D1,D2 --models OUT`` gathers folds trained one per run
   (``--fold K --models DK``, e.g. side by side) into one folder that
   ``--score-only OUT`` and ``bench_clinical.py --cv-dir OUT`` read: each
   part's trained fold model copied to ``OUT/fold_<k>.pt``, one
   ``folds.json``; the parts must share their training settings.
2. **Prediction speed.** The fold-0 model (defaults) predicts ``--speed-slices``
   whole 256 x 256 images (the first ones of the data, repeated if needed)
   with the default prediction options, best of 2: slices per second.
3. **skorch overhead.** The same network, data, augmentation, loss,
   optimiser and schedule trained for ``--overhead-epochs`` epochs on all
   300 slices by ``UNetSegmenter`` (skorch) and by a bare PyTorch loop,
   alternating ``--repeat`` times; the minimum of each.
4. **Training epochs.** ``--train-epochs N`` fits the default (``--set``
   changes apply) for N epochs on all 300 slices: seconds (wall and CPU) of
   every epoch, and the default ``max_epochs`` extrapolated from the median
   epoch (labelled as such).

Training the default on all 300 slices is timed by
``benchmarks/train_pretrained.py`` (``--out`` elsewhere than the shipped
model for a timing run). The load
average is printed with every timing: on a shared machine timings are only
comparable within one run. Prints Markdown tables for
``benchmarks/README.md``; ``--json`` writes every per-slice value.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

# Before PyTorch is imported: OpenMP threads spin only briefly while they wait,
# freed memory is kept (see skcardio/segment/_unet_env.py); keeps explicit settings.
import skcardio.segment._unet_env  # noqa: F401, I001
import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from skcardio.exceptions import DegenerateModelWarning
from skcardio.io import read_contour
from skcardio.metrics import average_perpendicular_distance, dice_score, iou_score
from skcardio.qc import prediction_confidence
from skcardio.segment import UNetSegmenter, calibrate_boundary_level, trim_dark_boundary
from skcardio.segment._unet_data import AugmentedSlices, robust_scale
from skcardio.segment._unet_net import SegmentationLoss, UNet, WarmupCosine, precision_context
from skcardio.segment._unet_postprocess import keep_main_component

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_pretrained import (  # noqa: E402
    DEFAULT_DATA,
    PNG_LABELS,
    TRIM_SOURCES,
    calibration_slices,
    fold_model_path,
    folds_path,
    load_folds,
    load_training_data,
)

#: Pixel spacing (mm) assumed for the PNG slices, which have no header: that
#: of the shared DICOMs (1.2891-1.3672 mm); Sunnybrook scans range 1.25-1.56 mm.
NOMINAL_SPACING = 1.3672
#: Prediction-time options scored on every fold model: (tta, refine, postprocess).
INFERENCE = [(t, r, p) for t in (False, True) for r in (False, True) for p in (False, True)]
#: The per-slice scores of every option (lists of one value per slice, NaN where not held out).
PER_SLICE = ("dice", "iou", "apd_mm", "confidence")
#: A slice below this Dice counts as bad for the confidence AUROC.
BAD_DICE = 0.8


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def parse_set(items: list[str]) -> dict:
    """``NAME=VALUE`` strings -> parameters (JSON values; ``1,1`` is a tuple; other text a string)."""
    params = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            value = json.loads(text.lower() if text.lower() in ("true", "false", "null") else text)
        except json.JSONDecodeError:
            try:
                value = tuple(float(v) for v in text.split(","))
            except ValueError:  # precision=bfloat16, loss=dice: a plain string
                value = text
        params[name] = value
    UNetSegmenter(**params)  # unknown names fail here, before any training
    return params


def slice_apd(y: np.ndarray, masks: np.ndarray, contours: np.ndarray, spacing: np.ndarray) -> np.ndarray:
    """MICCAI 2009 APD (mm) per slice: to the expert's contour file points where a slice has one, else its mask.

    ``contours``: a contour file path per slice (``""``: none); ``spacing``: one isotropic value or a
    (row, col) pair per slice.
    """
    apd = np.full(len(y), np.nan)
    has_file = np.asarray(contours) != ""
    spacing = np.asarray(spacing, dtype=float)
    spacing = np.column_stack([spacing, spacing]) if spacing.ndim == 1 else spacing
    expert = [read_contour(path) for path in np.asarray(contours)[has_file]]
    for where, truth in ((has_file, expert), (~has_file, y[~has_file])):
        if where.any():  # contour points and masks are scored in separate calls
            apd[where] = average_perpendicular_distance(
                truth, masks[where], spacing=spacing[where], per_slice=True, definition="miccai2009")
    return apd


def make_folds(groups: np.ndarray, pathology: np.ndarray, n_folds: int, hold_out: list[str] | None = None) -> list[dict]:
    """``{"fold", "held_out", "test_index"}`` of every fold: stratified grouped folds, or one per ``hold_out`` patient."""
    if not hold_out:
        splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=0)
        return [
            {"fold": k, "held_out": sorted(set(groups[test])), "test_index": test.tolist()}
            for k, (_, test) in enumerate(splitter.split(groups, pathology, groups))
        ]
    unknown = sorted(set(hold_out) - set(groups))
    if unknown:
        raise ValueError(f"--hold-out: unknown patients {unknown}; expected some of {sorted(set(groups))}")
    if len(set(hold_out)) < len(hold_out):
        raise ValueError(f"--hold-out: a patient is listed twice in {hold_out}; expected one fold per patient")
    return [{"fold": k, "held_out": [p], "test_index": np.flatnonzero(groups == p).tolist()}
            for k, p in enumerate(hold_out)]


def leave_one_patient_out(folds: list[dict]) -> bool:
    """Whether ``folds`` hold out one patient each (``--hold-out``): they cover only their patients."""
    return all(len(fold["held_out"]) == 1 for fold in folds)


def training_index(n: int, test: np.ndarray, icontour: np.ndarray, dicom_repeat: int = 1) -> np.ndarray:
    """A fold's training slices: all but ``test``; the DICOM ones (with an i-contour file) ``dicom_repeat`` times."""
    train = np.setdiff1d(np.arange(n), test)
    dicom = train[icontour[train] != ""]
    return np.concatenate([train, *[dicom] * (dicom_repeat - 1)])


def patient_subset(train: np.ndarray, groups: np.ndarray, pathology: np.ndarray, fraction: float) -> np.ndarray:
    """``train``'s slices of ``ceil(fraction * n)`` of each pathology group's ``n`` patients.

    The patients are the first ones of a seeded permutation per group, so a smaller fraction keeps a
    subset of a larger one's patients (nested training sets: the learning curve's points differ only
    by the patients added).
    """
    rng = np.random.default_rng(0)
    kept = []
    for group in np.unique(pathology[train]):
        patients = np.unique(groups[train][pathology[train] == group])
        kept += rng.permutation(patients)[:math.ceil(fraction * len(patients))].tolist()
    return train[np.isin(groups[train], kept)]


def balance_weights(labels: np.ndarray) -> np.ndarray:
    """One weight per training slice giving each distinct label (group or patient) the same total weight."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def grouped_cv(data: dict, params: dict, n_folds: int, models: Path, only: int | None = None,
               hold_out: list[str] | None = None, png_labels: str = "as-given", dicom_repeat: int = 1,
               balance: str = "none", patient_fraction: float = 1.0) -> dict:
    """Fit one model per fold, save it, score every prediction-time option on its held-out patients.

    ``hold_out`` replaces the stratified folds by leave-one-patient-out folds, one per listed patient,
    each model trained on every other patient. ``dicom_repeat`` > 1 puts the training patients' DICOM
    slices (those with an i-contour file) that many times in each fold's training set. ``balance``
    ("group" or "patient") weights the training slices so that each pathology group or patient gets
    the same share of the draws (``sample_weight``). ``patient_fraction`` < 1 trains each fold on a
    stratified share of its training patients (:func:`patient_subset`) for as many optimiser steps as
    the whole fold would take (``max_epochs`` scaled by the ratio of slices), so the points of a learning
    curve differ in data, not in training length.
    """
    X, y, groups = data["images"], data["y"], data["groups"]
    spacing = data["spacing"]
    models.mkdir(parents=True, exist_ok=True)
    folds = make_folds(groups, data["pathology"], n_folds, hold_out)
    n = len(X)
    scores = {c: {m: np.full(n, np.nan) for m in ("dice", "iou", "apd_mm", "confidence")} for c in INFERENCE}
    seconds = dict.fromkeys(INFERENCE, 0.0)
    for fold in folds:
        if only is not None and fold["fold"] != only:
            continue
        test = np.array(fold["test_index"])
        train = training_index(n, test, data["icontour"], dicom_repeat)
        fold_params = {"random_state": 0, **params}  # --set random_state=N for another seed
        if patient_fraction < 1:
            subset = patient_subset(train, groups, data["pathology"], patient_fraction)
            epochs = fold_params.get("max_epochs", UNetSegmenter().max_epochs)
            fold_params["max_epochs"] = round(epochs * len(train) / len(subset))
            fold.update(train_patients=sorted(set(groups[subset])), max_epochs=fold_params["max_epochs"])
            train = subset
        model = UNetSegmenter(**fold_params)
        load_before = load_average()
        start = time.perf_counter()
        weights = None if balance == "none" else balance_weights(
            (data["pathology"] if balance == "group" else groups)[train])
        model.fit(X[train], y[train], groups=groups[train], sample_weight=weights)
        # n_train counts repeated slices (--dicom-repeat); n_train_distinct does not.
        fold.update(fit_s=time.perf_counter() - start, epochs=len(model.net_.history), n_train=len(train),
                    n_train_distinct=np.unique(train).size, load_before=load_before, load_after=load_average())
        model.save(fold_model_path(models, fold))
        folds_path(models).write_text(json.dumps({"params": params, "png_labels": png_labels,
                                                  "dicom_repeat": dicom_repeat, "balance": balance,
                                                  "patient_fraction": patient_fraction, "folds": folds},
                                                 indent=1, default=list))
        model.predict(X[test[:2]])  # warm-up: oneDNN builds its kernels once
        for option in INFERENCE:
            model.set_params(tta=option[0], refine=option[1], postprocess=option[2])
            start = time.perf_counter()
            masks, proba = model.predict_with_proba(X[test])
            seconds[option] += time.perf_counter() - start
            row = scores[option]
            row["dice"][test] = dice_score(y[test], masks, per_slice=True)
            row["iou"][test] = iou_score(y[test], masks, per_slice=True)
            row["apd_mm"][test] = slice_apd(y[test], masks, data["icontour"][test], spacing[test])
            row["confidence"][test] = prediction_confidence(masks, proba)
        print(f"fold {fold['fold']} {fold['held_out']}: fit {fold['fit_s']:.0f} s, "
              f"Dice {np.mean(scores[INFERENCE[-1]]['dice'][test]):.3f} (all options on); load {load_average()}",
              flush=True)
    return {"params": params, "folds": folds, "options": [
        {"tta": c[0], "refine": c[1], "postprocess": c[2], "predict_s": seconds[c],
         **{m: v.tolist() for m, v in scores[c].items()}} for c in INFERENCE]}


def group_table(data: dict, option: dict) -> str:
    """Per pathology group, all slices, and the DICOM slices alone; APD mean over finite values."""
    dice, iou, apd = (np.asarray(option[m], float) for m in ("dice", "iou", "apd_mm"))
    header = "| group | patients | slices | Dice | IoU | APD (mm), mean / median | good contours (APD < 5 mm) | Dice < 0.8 |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    rows = [(g, data["pathology"] == g) for g in sorted(set(data["pathology"]))] + [("**all**", slice(None))]
    rows.append(("DICOM slices (contour files, true spacing)", data["icontour"] != ""))
    for name, where in rows:
        d, a = dice[where], apd[where]
        empty = int(np.isinf(a).sum())  # one mask empty: APD inf, left out of the mean, never good
        lines.append(
            f"| {name} | {len(set(data['groups'][where]))} | {len(d)} | {d.mean():.3f} | {iou[where].mean():.3f} "
            f"| {np.mean(a[np.isfinite(a)]):.2f} / {np.median(a):.2f}{f' ({empty} empty)' if empty else ''} "
            f"| {100 * np.mean(a < 5):.0f} % | {int((d < BAD_DICE).sum())} |"
        )
    return "\n".join(lines)


#: folds.json settings that the parts of a merge must share.
TRAINING_SETTINGS = ("params", "png_labels", "dicom_repeat", "balance", "patient_fraction")


def merge_folds(parts: list[Path], out: Path) -> dict:
    """Gather the trained folds of ``parts`` (one ``--fold K`` run each) into ``out``: copies and one folds.json."""
    sources, settings = [], None  # (part, trained fold) pairs
    for part in parts:
        saved = load_folds(part)
        mine = {key: saved.get(key) for key in TRAINING_SETTINGS}
        if settings is not None and mine != settings:
            raise ValueError(f"{folds_path(part)} was trained with {mine}, {folds_path(parts[0])} with "
                             f"{settings}; expected the same settings in every part")
        settings = mine
        trained = [fold for fold in saved["folds"] if "fit_s" in fold]
        if not trained:
            raise ValueError(f"{folds_path(part)}: no trained fold (no fit_s); expected one --fold K run")
        sources += [(part, fold) for fold in trained]
    folds = [fold for _, fold in sources]
    numbers = [fold["fold"] for fold in folds]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"folds {sorted(numbers)} of {', '.join(map(str, parts))}: a fold is in several parts")
    out.mkdir(parents=True, exist_ok=True)
    for part, fold in sources:
        # Always to fold_<k>.pt: a part's own "model" name may repeat in another part.
        shutil.copyfile(fold_model_path(part, fold), fold_model_path(out, fold["fold"]))
    folds = [{key: value for key, value in fold.items() if key != "model"} for fold in folds]
    merged = {**settings, "merged_from": [str(part) for part in parts],
              "folds": sorted(folds, key=lambda fold: fold["fold"])}
    folds_path(out).write_text(json.dumps(merged, indent=1, default=list))
    return merged


def ensemble_predict(models: list[UNetSegmenter], images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks and probabilities of the mean of ``models``' probabilities (the first model's threshold and
    post-processing); one model: its own ``predict_with_proba``. Images ``(n, H, W)``, blood-pool models."""
    if len(models) == 1:
        return models[0].predict_with_proba(images)
    for model in models:
        if model.target != "endocardium" or model.n_channels_ != 1 or images.ndim != 3:
            raise ValueError(f"an ensemble here averages one-channel blood-pool models on images (n, H, W); got "
                             f"target={model.target!r}, n_channels_={model.n_channels_}, images {images.shape}")
    proba = np.mean([model.predict_proba(images) for model in models], axis=0)
    first = models[0]
    masks = proba > first.threshold
    if first.postprocess:
        masks = np.array([keep_main_component(m, p) for m, p in zip(masks, proba)])
    return masks & ~np.isnan(images), proba


def score_only(data: dict, models: Path | list[Path], only: int | None = None, correct_offset: bool = False,
               trim_boundary: str | None = None) -> dict:
    """Re-score saved fold models on their held-out patients (their own prediction options), no training.

    ``only``: score that fold alone (e.g. to compare two trainings of one fold on the same patients).
    Several folders (trainings of the same folds): each fold is predicted by the mean of their fold
    models' probabilities, thresholded and post-processed as the first folder's model does.
    ``correct_offset``: each fold model first measures the labels' offset on its fold's training slices
    (every slice of the patients it did not hold out; ``UNetSegmenter.calibrate_offset``).
    ``trim_boundary`` (``"dicom"`` or ``"all"``): the masks' dark rim is trimmed
    (``skcardio.segment.trim_dark_boundary``) at the contrast level calibrated on the expert labels of the
    fold's training slices (``calibrate_boundary_level``; its DICOM slices, or all of them with the PNG
    labels of ``data``, i.e. ``--png-labels``, which may differ from those the folds were trained on).
    """
    if trim_boundary not in (None, *TRIM_SOURCES):
        raise ValueError(f"trim_boundary must be one of {TRIM_SOURCES} or None, got {trim_boundary!r}")
    folders = [models] if isinstance(models, Path) else list(models)
    models = folders[0]
    records = [load_folds(folder) for folder in folders]
    saved = records[0]
    for other, record in zip(folders[1:], records[1:]):
        held = [fold["held_out"] for fold in record["folds"]]
        if held != [fold["held_out"] for fold in saved["folds"]]:
            raise ValueError(f"{folds_path(other)} holds out {held}, {folds_path(models)} "
                             f"{[fold['held_out'] for fold in saved['folds']]}; an ensemble needs the same folds")
    if only is not None:
        saved["folds"] = [fold for fold in saved["folds"] if fold["fold"] == only]
        if not saved["folds"]:
            raise ValueError(f"{folds_path(models)}: no fold {only}; expected one of its folds' numbers")
    n = len(data["images"])
    scores = {m: np.full(n, np.nan) for m in ("dice", "iou", "apd_mm", "confidence")}
    for fold in saved["folds"]:
        test = np.flatnonzero(np.isin(data["groups"], fold["held_out"]))
        members = [UNetSegmenter.load(fold_model_path(folder, fold)) for folder in folders]
        if correct_offset:  # on the fold's training set as fit saw it (DICOM repeats included)
            train = training_index(len(data["images"]), test, data["icontour"], saved.get("dicom_repeat", 1))
            for member in members:
                member.calibrate_offset(data["images"][train], data["y"][train])
            print(f"fold {fold['fold']}: label offsets {[m.label_offset_.round(2).tolist() for m in members]}")
        model = members[0]
        masks, proba = ensemble_predict(members, data["images"][test])
        if trim_boundary is not None:
            train = calibration_slices(data, fold["held_out"], trim_boundary)
            fold["boundary_level"] = calibrate_boundary_level(data["images"][train], data["y"][train])
            masks = trim_dark_boundary(data["images"][test], masks, level=fold["boundary_level"])
            print(f"fold {fold['fold']}: boundary level {fold['boundary_level']:.3f} from {int(train.sum())} "
                  f"training slices ({trim_boundary})", flush=True)
        y = data["y"][test]
        scores["dice"][test] = dice_score(y, masks, per_slice=True)
        scores["iou"][test] = iou_score(y, masks, per_slice=True)
        scores["apd_mm"][test] = slice_apd(y, masks, data["icontour"][test], data["spacing"][test])
        scores["confidence"][test] = prediction_confidence(masks, proba)
        print(f"fold {fold['fold']} {fold['held_out']}: {len(test)} slices, Dice {scores['dice'][test].mean():.3f} "
              f"(tta={model.tta}, refine={model.refine}, postprocess={model.postprocess}); load {load_average()}",
              flush=True)
    # Leave-one-patient-out folds (--hold-out) score their patients only; other folds every slice.
    if np.isnan(scores["dice"]).any() and only is None and not leave_one_patient_out(saved["folds"]):
        raise ValueError(f"{folds_path(models)}: {int(np.isnan(scores['dice']).sum())} of {n} slices "
                         f"are in no fold's held_out patients; expected every slice held out once")
    # Scoring polygon-trained models against the PNG labels as given (or the reverse) is allowed, on purpose:
    # say which labels trained them and which score them.
    trained, repeat = saved.get("png_labels", "as-given"), saved.get("dicom_repeat", 1)
    balance = saved.get("balance", "none")
    print(f"models trained with PNG labels {trained} (DICOM repeat {repeat}, balance {balance}), "
          f"scored against PNG labels {data.get('png_labels', 'as-given')}", flush=True)
    members = [{"models": str(folder), **{key: record.get(key) for key in TRAINING_SETTINGS}}
               for folder, record in zip(folders, records)]
    return {"models": ",".join(map(str, folders)), "members": members, "correct_offset": correct_offset,
            "trim_boundary": trim_boundary,
            "folds": saved["folds"], "trained_png_labels": trained,
            "trained_dicom_repeat": repeat, "trained_balance": balance,
            **{m: v.tolist() for m, v in scores.items()}}


def scored_part(data: dict, scores: dict, scored: np.ndarray | None = None) -> tuple[dict, dict]:
    """``data`` and ``scores`` (per-slice lists) on the slices with a Dice (those some fold held out)."""
    if scored is None:
        scored = ~np.isnan(np.asarray(scores["dice"], float))
    return ({k: (v[scored] if isinstance(v, np.ndarray) else v) for k, v in data.items()},
            {k: (list(np.asarray(v)[scored]) if k in PER_SLICE else v) for k, v in scores.items()})


def patient_dice(data: dict, option: dict) -> str:
    dice = np.asarray(option["dice"])
    return ", ".join(f"{p} {dice[data['groups'] == p].mean():.3f}" for p in sorted(set(data["groups"])))


def ablation_table(data: dict, cv: dict) -> str:
    lines = ["| tta | refine | postprocess | Dice | " + " | ".join(sorted(set(data["pathology"])))
             + " | predict (slices/s) |", "|---|---|---|---:|" + "---:|" * (len(set(data["pathology"])) + 1)]
    n = len(data["images"])
    for o in cv["options"]:
        dice = np.asarray(o["dice"])
        groups = " | ".join(f"{dice[data['pathology'] == g].mean():.3f}" for g in sorted(set(data["pathology"])))
        lines.append(f"| {'on' if o['tta'] else 'off'} | {'on' if o['refine'] else 'off'} "
                     f"| {'on' if o['postprocess'] else 'off'} | {dice.mean():.3f} | {groups} | {n / o['predict_s']:.1f} |")
    return "\n".join(lines)


def confidence_auroc(option: dict) -> tuple[float, int]:
    bad = np.asarray(option["dice"]) < BAD_DICE
    if bad.all() or not bad.any():
        return float("nan"), int(bad.sum())
    # Low confidence should rank bad slices first.
    return float(roc_auc_score(bad, -np.asarray(option["confidence"]))), int(bad.sum())


def predict_speed(model: UNetSegmenter, images: np.ndarray, count: int) -> dict:
    stack = np.resize(images, (count, *images.shape[1:]))
    model.predict(stack[:4])
    times, cpu = [], []
    for _ in range(2):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.predict(stack)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"slices": count, "seconds": times, "cpu_seconds": cpu, "slices_per_s": count / min(times),
            "load": load_average()}


def train_epochs(images, masks, params: dict, epochs: int) -> dict:
    """Seconds of each of ``epochs`` epochs of the default fit on every slice; the full fit extrapolated."""
    model = UNetSegmenter(**{"random_state": 0, **params, "max_epochs": epochs})
    load_before = load_average()
    start, start_cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateModelWarning)  # a few epochs are not a full training
        model.fit(images, masks)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    durations = [float(d) for d in model.net_.history[:, "dur"]]
    full = UNetSegmenter(**params).max_epochs
    return {"epochs": epochs, "epoch_s": durations, "fit_s": wall, "fit_cpu_s": cpu, "max_epochs": full,
            "extrapolated_fit_s": full * float(np.median(durations)), "loads": [load_before, load_average()]}


def bare_loop(images, masks, params: dict, epochs: int, seed: int = 0) -> float:
    """Train the estimator's network with plain PyTorch; seconds for ``epochs`` epochs."""
    p = UNetSegmenter(**params).get_params()
    start = time.perf_counter()
    data = AugmentedSlices(robust_scale(images[:, None]), masks, crop_size=p["crop_size"],
                           zoom_range=tuple(p["zoom_range"]), rotation=p["rotation"], flip=p["flip"],
                           intensity_jitter=p["intensity_jitter"], seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = UNet(1, p["base_channels"], p["depth"])
        criterion = SegmentationLoss(p["loss"])
        optimizer = torch.optim.AdamW(net.parameters(), lr=p["learning_rate"], weight_decay=p["weight_decay"])
        loader = torch.utils.data.DataLoader(data, batch_size=p["batch_size"], shuffle=True)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(epochs * len(loader)))
        net.train()
        # The estimator's precision (bfloat16 autocast or not), so both loops compute the same.
        with precision_context(p["precision"], "cpu"):
            _bare_epochs(net, loader, criterion, optimizer, schedule, epochs)
    return time.perf_counter() - start


def _bare_epochs(net, loader, criterion, optimizer, schedule, epochs: int) -> None:
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(net(x), y)
            loss.backward()
            optimizer.step()
            schedule.step()


def skorch_fit(images, masks, params: dict, epochs: int) -> float:
    start = time.perf_counter()
    UNetSegmenter(**{"random_state": 0, **params, "max_epochs": epochs}).fit(images, masks)
    return time.perf_counter() - start


def overhead(images, masks, params: dict, epochs: int, repeat: int) -> dict:
    bare, skorch = [], []
    bare_loop(images[:16], masks[:16], params, 1)  # warm-up
    loads = [load_average()]
    for _ in range(repeat):
        bare.append(bare_loop(images, masks, params, epochs))
        skorch.append(skorch_fit(images, masks, params, epochs))
        loads.append(load_average())
    n = len(images)
    return {"epochs": epochs, "n_slices": n, "bare_s": bare, "skorch_s": skorch,
            "bare_ms_per_slice": 1000 * min(bare) / (epochs * n),
            "skorch_ms_per_slice": 1000 * min(skorch) / (epochs * n),
            "ratio": min(skorch) / min(bare), "loads": loads}


def _scored_models(score_only: str | None) -> str:
    """The header's words before the parameters: whose parameters they are."""
    if not score_only:
        return ""
    return "scored models (the first folder's) trained with " if "," in score_only else "scored models trained with "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--fold", type=int, help="run (or with --score-only, score) only this fold")
    parser.add_argument("--hold-out", help="leave-one-patient-out instead: comma-separated patient ids, "
                        "one fold each, or 'dicom' for the five final_data patients")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="change a parameter")
    parser.add_argument("--models", default="unet_cv", help="folder for fold_<k>.pt and folds.json")
    parser.add_argument("--score-only", metavar="DIR[,DIR...]", help="re-score DIR/fold_<k>.pt on DIR/folds.json's "
                        "held-out patients (no training) and stop; several DIRs (trainings of the same folds): "
                        "the mean of their fold models' probabilities")
    parser.add_argument("--skip-cv", action="store_true", help="only speed and overhead (fold 0 model from --models)")
    parser.add_argument("--overhead-epochs", type=int, default=4, help="0: skip the skorch/bare comparison")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--speed-slices", type=int, default=240, help="0: skip the prediction speed")
    parser.add_argument("--train-epochs", type=int, default=0, help="time this many epochs of the default fit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--png-labels", choices=PNG_LABELS, default="as-given",
                        help="train and score with the PNG labels as given or redrawn in the DICOM masks' "
                             "polygon convention (skcardio.io.polygon_mask_from_floor_fill)")
    parser.add_argument("--dicom-repeat", type=int, default=1, metavar="K",
                        help="put the training patients' DICOM slices K times in each fold's training set")
    parser.add_argument("--balance", choices=("none", "group", "patient"), default="none",
                        help="give each pathology group (patient) of a training set the same share of the draws")
    parser.add_argument("--patient-fraction", type=float, default=1.0, metavar="F",
                        help="learning curve: train each fold on ceil(F * n) of each group's n training patients, "
                             "for the whole fold's number of optimiser steps")
    parser.add_argument("--correct-offset", action="store_true", help="with --score-only: each fold model first "
                        "measures the labels' offset on its training slices (UNetSegmenter.calibrate_offset)")
    parser.add_argument("--trim-boundary", choices=TRIM_SOURCES, help="with --score-only: trim the masks' dark "
                        "rim at the level calibrated on each fold's training labels (its DICOM slices, or all)")
    parser.add_argument("--merge", metavar="DIR,DIR,...", help="gather the trained folds of these --fold K runs "
                        "into --models and stop")
    parser.add_argument("--json", help="write all results, per slice, to this file")
    args = parser.parse_args()
    if args.merge:
        merged = merge_folds([Path(part) for part in args.merge.split(",")], Path(args.models))
        print(f"{args.models}: folds {[fold['fold'] for fold in merged['folds']]} of {args.merge}")
        return
    if args.dicom_repeat < 1:
        parser.error(f"--dicom-repeat must be >= 1, got {args.dicom_repeat}")
    for flag, value in (("--correct-offset", args.correct_offset), ("--trim-boundary", args.trim_boundary)):
        if value and not args.score_only:
            parser.error(f"{flag} re-scores saved fold models; it needs --score-only DIR")
    if not 0 < args.patient_fraction <= 1:
        parser.error(f"--patient-fraction must be in (0, 1], got {args.patient_fraction}")
    if args.balance != "none" and args.dicom_repeat != 1:
        parser.error("--balance weights each group's (patient's) slices to one share, which undoes --dicom-repeat; "
                     "give one of them")
    for flag, value, default in (("--dicom-repeat", args.dicom_repeat, 1), ("--balance", args.balance, "none"),
                                 ("--patient-fraction", args.patient_fraction, 1.0)):
        if value != default and (args.score_only or args.skip_cv):
            parser.error(f"{flag} changes the cross-validation's training; it does nothing with --score-only "
                         "or --skip-cv")

    if args.set and args.score_only:
        parser.error("--set changes the training; --score-only scores saved models with their own parameters")

    torch.set_num_threads(args.threads)
    params = parse_set(args.set)
    if args.score_only:  # the header names the scored models' own training parameters
        record = load_folds(Path(args.score_only.split(",")[0]))
        params = record.get("params", {}) if isinstance(record, dict) else {}
    data = load_training_data(Path(args.data).resolve(), args.png_labels)
    images, y, groups = data["images"], data["y"], data["groups"]
    # PNG slices (no header) get the nominal spacing, the DICOMs their own.
    data["spacing"] = np.where(np.isnan(data["spacing"]), NOMINAL_SPACING, data["spacing"])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads); {len(images)} slices of {len(set(groups))} patients; "
          f"{_scored_models(args.score_only)}params {params or 'defaults'}; "
          f"PNG labels {args.png_labels}"
          + ("" if args.score_only else f"; DICOM repeat {args.dicom_repeat}; balance {args.balance}; "
                                        f"patient fraction {args.patient_fraction}")
          + f"; load {load_average()}", flush=True)
    results: dict = {"params": params, "png_labels": args.png_labels, "threads": torch.get_num_threads(),
                     "date": time.strftime("%Y-%m-%d")}
    if not args.score_only:  # score-only records the scored models' own (trained_*)
        results["dicom_repeat"], results["balance"] = args.dicom_repeat, args.balance
        results["patient_fraction"] = args.patient_fraction
    models = Path(args.models)
    if args.score_only:
        folders = [Path(folder) for folder in args.score_only.split(",")]
        results["score_only"] = scored = score_only(data, folders, args.fold, args.correct_offset, args.trim_boundary)
        # Leave-one-patient-out folds score their patients only: the tables cover those.
        data, scored = scored_part(data, scored)
        groups = data["groups"]
        auroc, bad = confidence_auroc(scored)
        print(f"\nSaved fold models re-scored; APD: MICCAI 2009 definition, DICOM slices to the expert's contour "
              f"files at their own spacing, PNG slices to the label mask's outline at {NOMINAL_SPACING} mm:\n\n"
              f"{group_table(data, scored)}\n\nPer patient Dice: {patient_dice(data, scored)}\n"
              f"Mean of patients' Dice {np.mean([np.mean(np.asarray(scored['dice'])[groups == p]) for p in set(groups)]):.3f}, "
              f"median slice Dice {np.median(scored['dice']):.3f}; confidence AUROC for Dice < {BAD_DICE}: "
              f"{auroc:.3f} ({bad} bad slices)", flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, default=list))
        return
    if not args.skip_cv:
        hold_out = args.hold_out and args.hold_out.split(",")
        if hold_out == ["dicom"]:
            hold_out = sorted(set(groups[data["icontour"] != ""]))
        results["cv"] = cv = grouped_cv(data, params, args.folds, models, args.fold, hold_out, args.png_labels,
                                        args.dicom_repeat, args.balance, args.patient_fraction)
        # With --fold or --hold-out, only the held-out slices are scored: the tables cover those.
        scored = ~np.isnan(np.asarray(cv["options"][0]["dice"]))
        data = scored_part(data, cv["options"][0])[0]
        cv = {**cv, "options": [scored_part({}, o, scored)[1] for o in cv["options"]]}
        scheme = (f"Leave-one-patient-out ({len(hold_out)} patients, each model trained on all others)" if hold_out
                  else f"Grouped CV ({args.folds} folds)")
        default = UNetSegmenter(**params)
        chosen = next(o for o in cv["options"]
                      if (o["tta"], o["refine"], o["postprocess"]) == (default.tta, default.refine, default.postprocess))
        auroc, bad = confidence_auroc(chosen)
        print(f"\n{scheme}, prediction options of the parameters (APD: MICCAI 2009, "
              f"DICOM slices to the contour files, PNG slices to the label mask at {NOMINAL_SPACING} mm):\n\n{group_table(data, chosen)}\n")
        print(f"Confidence AUROC for Dice < {BAD_DICE}: {auroc:.3f} ({bad} bad slices)\n")
        print(ablation_table(data, cv), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=list))
    if args.speed_slices:
        model = UNetSegmenter.load(fold_model_path(models, 0))
        model.set_params(**{k: v for k, v in params.items() if k in ("tta", "refine", "postprocess", "threshold", "precision")})
        results["speed"] = speed = predict_speed(model, images, args.speed_slices)
        print(f"\npredict: {speed['slices_per_s']:.1f} slices/s ({speed['slices']} whole images, "
              f"best of 2: {[round(s, 2) for s in speed['seconds']]} s, CPU "
              f"{[round(s, 2) for s in speed['cpu_seconds']]} s; load {speed['load']})", flush=True)
    if args.train_epochs:
        results["train"] = fit = train_epochs(images, y, params, args.train_epochs)
        print(f"\ntraining: {fit['epochs']} epochs on {len(images)} slices in {fit['fit_s']:.1f} s (CPU "
              f"{fit['fit_cpu_s']:.1f} s), epochs {[round(d, 1) for d in fit['epoch_s']]} s; "
              f"{fit['max_epochs']} epochs extrapolated from the median epoch: {fit['extrapolated_fit_s']:.0f} s; "
              f"load {fit['loads']}", flush=True)
    if args.overhead_epochs:
        results["overhead"] = cost = overhead(images, y, params, args.overhead_epochs, args.repeat)
        print(f"\nskorch / bare: {cost['ratio']:.2f}x ({cost['skorch_ms_per_slice']:.1f} vs "
              f"{cost['bare_ms_per_slice']:.1f} ms/slice; {cost['epochs']} epochs on {cost['n_slices']} slices, "
              f"best of {args.repeat}; load {cost['loads']})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=list))


if __name__ == "__main__":
    main()
