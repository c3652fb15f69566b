"""Epicardium, myocardium and LV mass from the image: leave-one-patient-out on the shared data.

Usage::

    python benchmarks/bench_epicardium.py [ROOT] [--png DIR] [--patients ID,ID] [--epochs N]
                                          [--base-channels N] [--epi-repeat K] [--models DIR] [--threads N]
                                          [--png-labels as-given|polygon] [--tta | --no-flip] [--correct-offset]
                                          [--seed N]
                                          [--json FILE]

ROOT defaults to ``../shared/data/final_data`` beside the repository, ``--png``
to ``../shared/data/sunnybrook_train_png``.

Labels. Every shared slice has an expert blood pool: the 96 DICOM slices with
an i-contour and the 204 PNG slices. The epicardium is labelled only on DICOM
slices with an o-contour that ``skcardio.qc.check_records`` leaves unflagged
(SCD0000501's o-contours are another patient's: flagged ``i_outside_o``);
everywhere else its channel is -1 (unknown), so one
``UNetSegmenter(target="both")`` learns both from one dataset, the loss
ignoring the missing labels. Slices with an epicardial label are repeated
``--epi-repeat`` times in the training set (each repeat draws other random
crops), as they are about a tenth of the slices.

Folds. Held out in turn: each DICOM patient with QC-clean o-contours (all
four, or ``--patients``); the model is trained on every other patient (DICOM
and PNG), with the estimator's default schedule (80 epochs, ``base_channels=16``;
``--epochs`` and ``--base-channels`` change it), and saved to ``--models`` (a fold whose file exists
there is loaded instead of retrained). Scored on the held-out patient:

* epicardium Dice and APD (mm, ``skcardio.metrics``, the MICCAI 2009
  rule: to the expert's contour file points, as ``bench_unet.py`` does;
  before 2026-12-07 this script measured to the outline of the expert's
  mask, still printed beside it) on its QC-clean o-contour slices;
  blood-pool Dice and APD on all its i-contour slices;
* Otsu (``ThresholdSegmenter()``) and ``make_classical_pipeline()`` inside
  the predicted epicardium vs inside the expert o-contour (Dice against the
  i-contour, same slices);
* LV myocardial mass (``skcardio.clinical.lv_mass``) on the same QC-clean
  o-contour slices (the end-diastolic slices Sunnybrook contours with both
  contours) from the predicted myocardium vs from the expert contours; slice
  thickness = the DICOM slice spacing of the patient (it cancels in the ratio);
  with ``--trim-boundary LEVEL`` also with the predicted pool's dark rim
  trimmed at LEVEL, as ``skcardio report`` does by default (0.145): the
  rim joins the myocardium.

``--tta`` scores the same models with flip test-time augmentation
(``UNetSegmenter(tta=True)``: the mean of the four flips' probabilities).
``--correct-offset`` shifts each fold model's predictions by the labels'
offset measured on that fold's training slices
(``UNetSegmenter.calibrate_offset``, what ``correct_offset=True`` does at
the end of ``fit``; the network is unchanged, so saved models need no
retraining). ``--no-flip`` trains without random flips (``flip=False``), so that the
network can learn where the expert's outline sits against the image: flips
turn a displacement down into one up (``benchmarks/README.md``, "Label
conventions").

Prints Markdown tables for ``benchmarks/README.md``; ``--json`` writes every
per-slice value.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pydicom
import torch

import skcardio.segment._unet_env  # noqa: F401, I001
from skcardio.cli._arguments import unit_interval
from skcardio.clinical import lv_mass
from skcardio.datasets import load_dataset
from skcardio.metrics import average_perpendicular_distance, dice_score
from skcardio.qc import check_records
from skcardio.segment import ThresholdSegmenter, UNetSegmenter, make_classical_pipeline, myocardium_mask

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_unet import slice_apd  # noqa: E402  (APD to the contour files, as the grouped CV scores it)
from train_pretrained import PNG_LABELS, redraw_png_labels  # noqa: E402


def load_all(root: Path, png: Path, png_labels: str = "as-given"):
    """DICOM slices (with labels and QC) and PNG slices, as one training pool.

    ``png_labels="polygon"`` brings the PNG masks (SegNetCMR's floor-and-fill
    export) into the DICOM masks' centre-inside-polygon convention
    (:func:`skcardio.io.polygon_mask_from_floor_fill`).
    """
    dicom = load_dataset(root)
    report = check_records(dicom.frame)
    clean_o = dicom.has_region & np.array([not s.flags for s in report.slices])
    if png == "none":
        empty = np.zeros((0, *dicom.images.shape[1:]))
        return dicom, clean_o, empty.astype(np.float32), empty.astype(bool), np.array([], dtype=object)
    png = Path(png)
    try:
        from skcardio.datasets import load_image_folder
    except ImportError:  # before the image-folder loader landed
        load_image_folder = None
    if load_image_folder is not None:
        pngs = load_image_folder(png / "images", png / "labels")
        png_images, png_y, png_groups = pngs.images, pngs.y, np.asarray(pngs.groups)
    else:
        png_images, png_y, png_groups = _read_png_folder(png)
    return dicom, clean_o, png_images, redraw_png_labels(png_y, png_labels), png_groups


def _read_png_folder(png: Path):
    import imageio.v3 as iio

    names = sorted(p.name for p in (png / "images").glob("*.png"))
    images = np.array([iio.imread(png / "images" / n)[..., 0] for n in names], dtype=np.float32)
    y = np.array([iio.imread(png / "labels" / n)[..., 0] > 127 for n in names])
    groups = np.array([n.split("-IM-")[0] for n in names], dtype=object)
    return images, y, groups


def training_set(dicom, clean_o, png_images, png_y, png_groups, held_out: str, epi_repeat: int):
    """Images, (n, 2, H, W) int8 labels (-1 unknown) and groups of every patient but ``held_out``."""
    train = np.asarray(dicom.groups) != held_out
    epi = np.where(clean_o[:, None, None], dicom.regions, -1).astype(np.int8)
    labels = np.stack([dicom.y.astype(np.int8), epi], axis=1)[train]
    images = dicom.images[train]
    groups = np.asarray(dicom.groups)[train]
    repeat = np.flatnonzero(clean_o[train])
    for _ in range(epi_repeat - 1):
        images = np.concatenate([images, dicom.images[train][repeat]])
        labels = np.concatenate([labels, labels[repeat]])
        groups = np.concatenate([groups, groups[repeat]])
    png_labels = np.stack([png_y.astype(np.int8), np.full(png_y.shape, -1, np.int8)], axis=1)
    return (
        np.concatenate([images, png_images]),
        np.concatenate([labels, png_labels]),
        np.concatenate([groups, png_groups]),
    )


def slice_spacing(frame) -> float:
    """Distance (mm) between adjacent slice positions, from the DICOM header."""
    header = pydicom.dcmread(frame.dicom_path[0], stop_before_pixels=True)
    spacing = getattr(header, "SpacingBetweenSlices", None) or header.SliceThickness
    return float(spacing)


def fold(dicom, clean_o, pngs, patient: str, args) -> dict:
    models = Path(args.models)
    models.mkdir(parents=True, exist_ok=True)
    path = models / f"{patient}.pt"
    fit_s = None
    # The folder's models were all trained with one kind of PNG label: refuse to mix or mislabel them.
    labels_file = models / "png_labels.txt"
    trained_with = labels_file.read_text().strip() if labels_file.exists() else None
    if trained_with is not None and trained_with != args.png_labels:
        raise SystemExit(f"{labels_file}: the models in {models} were trained with PNG labels "
                         f"{trained_with!r}, this run asks for {args.png_labels!r}; "
                         f"expected the same, or another --models folder")
    if path.exists():
        if trained_with is None and args.png_labels != "as-given":
            raise SystemExit(f"{path}: trained before PNG labels were recorded (as given); "
                             f"this run asks for {args.png_labels!r}: use another --models folder")
        model = UNetSegmenter.load(path)
        if model.random_state != args.seed:
            raise SystemExit(f"{path}: trained with random_state={model.random_state}, this run asks for "
                             f"--seed {args.seed}; expected the same, or another --models folder")
        if model.flip != (not args.no_flip):
            raise SystemExit(f"{path}: trained with flip={model.flip}, this run asks for flip={not args.no_flip}; "
                             f"expected the same, or another --models folder")
    else:
        images, labels, groups = training_set(dicom, clean_o, *pngs, patient, args.epi_repeat)
        model = UNetSegmenter(
            target="both", max_epochs=args.epochs, base_channels=args.base_channels, flip=not args.no_flip,
            correct_offset=args.correct_offset, random_state=args.seed, verbose=1,
        )
        start = time.perf_counter()
        model.fit(images, labels, groups=groups)
        fit_s = time.perf_counter() - start
        model.save(path)
        labels_file.write_text(args.png_labels + "\n")
        print(f"{patient}: fitted on {len(images)} slices in {fit_s:.0f} s", flush=True)
    if args.train_only:
        return {"patient": patient, "fit_s": fit_s}
    if args.tta:  # otherwise the options saved with the model
        model.set_params(tta=True)
    if args.correct_offset:  # what fit(correct_offset=True) does, on the fold's own training slices,
        images, labels, _ = training_set(dicom, clean_o, *pngs, patient, args.epi_repeat)
        model.calibrate_offset(images, labels)  # with the prediction options it is scored with
    from skcardio.analysis import blood_myocardium_ks
    from skcardio.preprocessing import PredictedRegion, RegionSelector
    from skcardio.qc import check_myocardium

    test = np.asarray(dicom.groups) == patient
    start = time.perf_counter()
    masks = model.predict(dicom.images[test])
    predict_s = time.perf_counter() - start
    pool, epi = masks[:, 0], masks[:, 1]
    spacing = dicom.frame.pixel_spacing[test]
    o = clean_o[test]
    truth_pool, truth_epi = dicom.y[test], dicom.regions[test]
    qc = check_myocardium(pool, epi)
    row = {
        "patient": patient,
        "png_labels": args.png_labels,
        "tta": bool(model.tta),
        "flip": bool(model.flip),
        "correct_offset": bool(args.correct_offset or model.correct_offset),
        "n_slices": int(test.sum()),
        "n_epi": int(o.sum()),
        "fit_s": fit_s,
        "predict_slices_per_s": float(test.sum() / predict_s),
        "instances": dicom.frame.instance[test][o].tolist(),
        "epi_dice": dice_score(truth_epi[o], epi[o], per_slice=True).tolist(),
        "label_offset": model.label_offset_.tolist(),
        # APD by the challenge's rule: to the expert's contour file points (as bench_unet.py does) ...
        "epi_apd_mm": slice_apd(truth_epi[o], epi[o], dicom.frame.ocontour_path[test][o], spacing[o]).tolist(),
        "pool_apd_mm": slice_apd(truth_pool, pool, dicom.frame.icontour_path[test], spacing).tolist(),
        # ... and to the outline of the expert's mask, as this script measured before 2026-12-07.
        "epi_apd_mask_mm": average_perpendicular_distance(truth_epi[o], epi[o], spacing=spacing[o],
                                                          per_slice=True).tolist(),
        "pool_dice": dice_score(truth_pool, pool, per_slice=True).tolist(),
        "qc_flags": [list(f) for f in qc.flags[o]],
    }
    # Classical methods inside the predicted vs the expert region (same slices).
    image = dicom.images[test][o]
    for name, make in (("otsu", ThresholdSegmenter), ("classical", make_classical_pipeline)):
        for region_name, region in (("expert", truth_epi[o]), ("predicted", epi[o])):
            X = np.stack([image, region.astype(np.float32)], axis=1)
            segmenter = make()
            if name == "otsu":
                pred = segmenter.fit(RegionSelector().fit_transform(X)).predict(RegionSelector().transform(X))
            else:
                pred = segmenter.fit(X).predict(X)
            row[f"{name}_{region_name}_dice"] = dice_score(truth_pool[o], pred, per_slice=True).tolist()
    # The transformer route gives the same region as predict's channel 1.
    region = PredictedRegion(model).fit_transform(image)
    row["predicted_region_matches"] = bool((region[:, 1] > 0.5).tolist() == epi[o].tolist())
    # Blood pool vs myocardium intensities (KS statistic), from predicted and expert masks.
    row["ks_expert"] = blood_myocardium_ks(image, truth_pool[o], truth_epi[o]).statistic.tolist()
    row["ks_predicted"] = blood_myocardium_ks(image, pool[o], epi[o]).statistic.tolist()
    # LV mass on the QC-clean o-contour slices: predicted vs expert myocardium.
    thickness = slice_spacing(dicom.frame[test])
    row["slice_spacing_mm"] = thickness
    row["mass_expert_g"] = lv_mass(myocardium_mask(truth_pool[o], truth_epi[o]), spacing[o], thickness)
    row["mass_predicted_g"] = lv_mass(myocardium_mask(pool[o], epi[o]), spacing[o], thickness)
    if args.trim_boundary is not None:  # as skcardio report does: the pool's dark rim joins the myocardium
        from skcardio.segment import trim_dark_boundary

        trimmed = trim_dark_boundary(image, pool[o], level=args.trim_boundary)
        row["boundary_level"] = args.trim_boundary
        row["mass_predicted_trimmed_g"] = lv_mass(myocardium_mask(trimmed, epi[o]), spacing[o], thickness)
    return row


def summarise(rows: list[dict]) -> str:
    lines = [
        "| held-out patient | o-contour slices | epi Dice | epi APD (mm): contour files / mask | pool Dice (all) "
        "| pool APD (mm) "
        "| Otsu expert / predicted | classical expert / predicted | KS expert / predicted "
        "| mass expert / predicted (g) | mass error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        err = r["mass_predicted_g"] / r["mass_expert_g"] - 1
        lines.append(
            f"| {r['patient']} | {r['n_epi']} | {np.mean(r['epi_dice']):.3f} "
            f"| {np.mean(r['epi_apd_mm']):.2f} / {np.mean(r['epi_apd_mask_mm']):.2f} "
            f"| {np.mean(r['pool_dice']):.3f} | {np.mean(r['pool_apd_mm']):.2f} "
            f"| {np.mean(r['otsu_expert_dice']):.3f} / {np.mean(r['otsu_predicted_dice']):.3f} "
            f"| {np.mean(r['classical_expert_dice']):.3f} / {np.mean(r['classical_predicted_dice']):.3f} "
            f"| {np.nanmean(r['ks_expert']):.2f} / {np.nanmean(r['ks_predicted']):.2f} "
            f"| {r['mass_expert_g']:.1f} / {r['mass_predicted_g']:.1f} | {100 * err:+.1f} % |"
        )
        if "mass_predicted_trimmed_g" in r:
            lines[-1] += (f" trimmed at {r['boundary_level']:g}: {r['mass_predicted_trimmed_g']:.1f} g, "
                          f"{100 * (r['mass_predicted_trimmed_g'] / r['mass_expert_g'] - 1):+.1f} %")
    numeric = [k for k in rows[0] if k.endswith(("_dice", "_apd_mm", "_apd_mask_mm")) or k.startswith("ks_")]
    cat = {k: np.concatenate([r[k] for r in rows]) for k in numeric}
    lines.append(
        f"| all | {sum(r['n_epi'] for r in rows)} | {cat['epi_dice'].mean():.3f} "
        f"| {cat['epi_apd_mm'].mean():.2f} / {cat['epi_apd_mask_mm'].mean():.2f} "
        f"| {cat['pool_dice'].mean():.3f} | {cat['pool_apd_mm'].mean():.2f} "
        f"| {cat['otsu_expert_dice'].mean():.3f} / {cat['otsu_predicted_dice'].mean():.3f} "
        f"| {cat['classical_expert_dice'].mean():.3f} / {cat['classical_predicted_dice'].mean():.3f} "
        f"| {np.nanmean(cat['ks_expert']):.2f} / {np.nanmean(cat['ks_predicted']):.2f} | | |"
    )
    flagged = sum(bool(f) for r in rows for f in r["qc_flags"])
    lines.append(f"\nPrediction QC (check_myocardium) flagged {flagged} of {len(cat['epi_dice'])} slices.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=SHARED / "final_data")
    parser.add_argument("--png", default=str(SHARED / "sunnybrook_train_png"),
                        help="PNG training folder, or 'none' to train on the DICOM slices only")
    parser.add_argument("--png-labels", choices=PNG_LABELS, default="as-given",
                        help="PNG blood-pool masks as given (floor-and-fill export) or in the DICOM masks' "
                             "polygon convention (skcardio.io.polygon_mask_from_floor_fill)")
    parser.add_argument("--patients", default="all", help="held-out patients, comma-separated (default all with QC-clean o-contours)")
    defaults = UNetSegmenter()
    parser.add_argument("--epochs", type=int, default=defaults.max_epochs,
                        help=f"max_epochs (default {defaults.max_epochs}, the estimator's default)")
    parser.add_argument("--epi-repeat", type=int, default=2)
    parser.add_argument("--base-channels", type=int, default=defaults.base_channels,
                        help=f"default {defaults.base_channels}, the estimator's default")
    parser.add_argument("--models", default="epicardium-models")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--train-only", action="store_true", help="fit and save the fold models, score nothing")
    parser.add_argument("--tta", action="store_true", help="score with flip test-time augmentation (tta=True)")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the fold models trained (default 0)")
    parser.add_argument("--correct-offset", action="store_true",
                        help="shift predictions by the labels' offset measured on the fold's training slices "
                             "(UNetSegmenter.calibrate_offset, what correct_offset=True does in fit)")
    parser.add_argument("--trim-boundary", type=unit_interval, metavar="LEVEL",
                        help="also give the LV mass with the predicted pool's dark rim trimmed at LEVEL "
                             "(trim_dark_boundary; skcardio report's default is 0.145)")
    parser.add_argument("--no-flip", action="store_true",
                        help="train without random flips (flip=False): a network trained with flips cannot learn "
                             "a displacement of the labels against the image (see benchmarks/README.md)")
    args = parser.parse_args()
    if args.no_flip and args.tta:
        parser.error("--tta averages the four flips of each image; a model trained with --no-flip never saw them")
    torch.set_num_threads(args.threads)
    dicom, clean_o, *pngs = load_all(args.root, args.png, args.png_labels)
    candidates = sorted(set(np.asarray(dicom.groups)[clean_o]))
    patients = candidates if args.patients == "all" else args.patients.split(",")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch threads {args.threads}; "
          f"held out: {', '.join(patients)}; epochs {args.epochs}, base channels {args.base_channels}, "
          f"epi-repeat {args.epi_repeat}, PNG labels {args.png_labels}, flip {not args.no_flip}, tta {args.tta}, "
          f"correct offset {args.correct_offset}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for patient in patients:
        rows.append(fold(dicom, clean_o, pngs, patient, args))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        if not args.train_only:
            print(summarise(rows[-1:]), flush=True)
    if not args.train_only:
        print(summarise(rows))


if __name__ == "__main__":
    main()
