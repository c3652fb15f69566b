"""LV volumes and ejection fraction of the shared DICOM patients against the expert.

Usage::

    python benchmarks/bench_clinical.py [ROOT] --cv-dir DIR [--tta | --no-tta] [--threshold T] [--threads 2]
                                        [--trim-boundary dicom|all|LEVEL] [--curve-harmonics K]
                                        [--out FILE.json]
    python benchmarks/bench_clinical.py [ROOT] --pretrained [--tta | --no-tta] [--threshold T] [--threads 2]
                                        [--trim-boundary dicom|all|LEVEL] [--out FILE.json]
    python benchmarks/bench_clinical.py [ROOT] --expert-only

For every DICOM patient of ROOT (default ../shared/data/final_data), the
whole cine study is read (``skcardio.io.read_cine``) and its i-contours give
the expert's EDV, ESV and EF on their own phases and slices. With
``--cv-dir`` (``fold_<k>.pt`` models and ``folds.json`` naming each fold's
held-out patients, original or DICOM ids, as written by the grouped
cross-validation of the pretrained-model recipe), each patient is segmented
by the one fold model that never saw it, and the script reports

* (a) the model's masks on exactly the expert's images (bar: EF within 4
  points of the expert's, EDV and ESV within 10 %), and
* (b) the fully automatic path: every image of the study, slices chosen by
  ``select_lv_slices``, ED/ES from the volume curve (bar: EF within 6 points),

with the seconds each study took from its folder to the figures (reading,
segmentation of every image, measurement), CPU seconds beside the wall
clock, and where they went: reading, segmenting (of which the network's
passes, timed by wrapping the one function prediction runs the network
through, ``network_proba``, as ``skcardio.segment._unet`` calls it),
measuring. With
``--pretrained``, every patient is segmented by the U-Net shipped with
skcardio (``UNetSegmenter.pretrained()``, trained on patients that include
these five: a check that figures reproduce and a timing, not an accuracy
claim). ``--tta`` and ``--threshold T`` change the models' prediction
options (flip test-time augmentation; probability threshold, default the
model's 0.5) for a sensitivity check; every row says which were used.
``--trim-boundary`` trims every mask's dark rim
(``skcardio.segment.trim_dark_boundary``) at a contrast level calibrated,
for each fold model, on the expert labels of that fold's training patients
only (``calibrate_boundary_level``; ``dicom``: their DICOM slices,
``all``: their PNG slices too, with the labels the fold was trained on;
``--pretrained`` calibrates on all five DICOM patients), or at a given
LEVEL (0 to 1); the rows give the level used. ``--curve-harmonics K`` adds
the automatic EF of the volume curve smoothed to its first K Fourier
harmonics (a sensitivity check of the max/min choice of ED and ES on a
noisy curve; ``skcardio`` does not smooth). The rows of ``--out`` hold each
automatic volume curve (``volumes_ml``). ROOT
may also be one patient's DICOM folder. Data: Sunnybrook
Cardiac Data (CC0), Radau et al. 2009.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path

from skcardio.cli._arguments import unit_interval
from skcardio.cli._report import find_patients
from skcardio.clinical import measure_study, segment_study
from skcardio.io import read_cine
from skcardio.segment import calibrate_boundary_level, trim_dark_boundary

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_pretrained import (  # noqa: E402
    TRIM_SOURCES,
    calibration_slices,
    fold_model_path,
    load_folds,
    load_training_data,
)

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "final_data"
BARS = {"model_on_expert_ef": 4.0, "model_on_expert_volume_pct": 10.0, "auto_ef": 6.0}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def timing_network():
    """Yield ``[wall, cpu]``: seconds the U-Net's network passes take inside the block (a benchmark probe).

    Every prediction (TTA views and refinement crops included) runs the
    network through ``network_proba`` (``skcardio.segment._unet_inference``),
    called from ``skcardio.segment._unet``; the probe wraps that name there
    for the block, whichever model predicts. (``net_.forward``, skorch's,
    is no longer called by prediction.)
    """
    from skcardio.segment import _unet

    spent = [0.0, 0.0]
    run = _unet.network_proba

    def timed(*args, **kwargs):
        start, cpu = time.perf_counter(), cpu_seconds()
        try:
            return run(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
            spent[1] += cpu_seconds() - cpu

    _unet.network_proba = timed
    try:
        yield spent
    finally:
        _unet.network_proba = run


def read_folds(cv_dir: Path, root: Path) -> tuple[dict[str, Path], dict[str, list[str]], str]:
    """DICOM patient id -> the fold model that held it out, and -> that fold's held-out patients; PNG labels."""
    links = {row["original_id"]: row["patient_id"] for row in csv.DictReader((root / "link.csv").open())}
    saved = load_folds(cv_dir)
    folds = saved["folds"] if isinstance(saved, dict) else saved
    models, held_out = {}, {}
    for fold in folds:
        for name in fold["held_out"]:
            patient = links.get(name, name)
            models[patient] = fold_model_path(cv_dir, fold)
            held_out[patient] = list(fold["held_out"])
    return models, held_out, saved.get("png_labels", "as-given") if isinstance(saved, dict) else "as-given"


def fold_models(cv_dir: Path, root: Path) -> dict[str, Path]:
    """DICOM patient id -> the fold model that held it out."""
    return read_folds(cv_dir, root)[0]


def trim_boundary_choice(text: str) -> str | float:
    """``argparse`` type of ``--trim-boundary``: ``dicom`` or ``all`` (``TRIM_SOURCES``), or a LEVEL from 0 to 1.

    The level is checked as the other benchmarks' and the CLI's levels are (``unit_interval``).
    """
    if text in TRIM_SOURCES:
        return text
    try:
        return unit_interval(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected {' or '.join(TRIM_SOURCES)}, or a level between 0 and 1 (inclusive), got {text}"
        ) from None


def trim_levels(how: str | float | None, patients: list[str], held_out: dict[str, list[str]] | None, data_root: Path,
                png_labels: str) -> dict[str, float]:
    """Patient -> the contrast level its masks are trimmed at.

    ``held_out`` (from ``folds.json``): each patient's level is calibrated without its fold's held-out
    patients, whose names must be training-data patients; a patient of no fold gets none. ``None``
    (the shipped model, trained on every patient): calibrated on all of them.
    """
    if how is None:
        return {}
    if how not in TRIM_SOURCES:
        return dict.fromkeys(patients, float(how))
    data = load_training_data(data_root, png_labels)
    levels = {}
    for patient in patients:
        if held_out is not None and patient not in held_out:
            continue  # no fold model holds it out: not segmented
        names = [] if held_out is None else held_out[patient]
        unknown = sorted(set(names) - set(data["groups"]))
        if unknown:  # another spelling of a patient would leave its slices in the calibration
            raise ValueError(f"{patient}: its fold holds out {unknown}, which name none of the training data's "
                             f"patients (e.g. {sorted(set(data['groups']))[:3]}); the level would see them")
        train = calibration_slices(data, names, how)
        levels[patient] = calibrate_boundary_level(data["images"][train], data["y"][train])
        print(f"{patient}: boundary level {levels[patient]:.3f} from {int(train.sum())} training slices "
              f"({how}, held out {names})", flush=True)
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=DEFAULT_ROOT, type=Path)
    parser.add_argument("--cv-dir", type=Path, help="folder with fold_<k>.pt and folds.json")
    parser.add_argument("--expert-only", action="store_true", help="expert volumes only (no model)")
    parser.add_argument("--pretrained", action="store_true", help="segment every patient with the shipped U-Net")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--out", type=Path, help="write every figure to this JSON file (after each patient)")
    tta = parser.add_mutually_exclusive_group()
    tta.add_argument("--no-tta", action="store_true", help="one network pass per image (as report --no-tta)")
    tta.add_argument("--tta", action="store_true", help="flip test-time augmentation (tta=True)")
    parser.add_argument("--threshold", type=float, help="probability threshold of the masks (default: the model's)")
    parser.add_argument("--trim-boundary", type=trim_boundary_choice, metavar="dicom|all|LEVEL",
                        help="trim the masks' dark rim at a level calibrated on each fold's training labels "
                             "(dicom: DICOM slices; all: PNG slices too) or at LEVEL, 0 to 1")
    parser.add_argument("--curve-harmonics", type=int, metavar="K",
                        help="also the automatic EF of the volume curve kept to its first K Fourier harmonics")
    args = parser.parse_args()
    if args.curve_harmonics is not None and args.curve_harmonics < 1:
        parser.error(f"--curve-harmonics must be at least 1, got {args.curve_harmonics}")
    if sum(map(bool, (args.cv_dir, args.expert_only, args.pretrained))) != 1:
        parser.error("give one of --cv-dir DIR, --pretrained or --expert-only")
    if args.expert_only and (args.tta or args.no_tta or args.threshold is not None):
        parser.error("--tta, --no-tta and --threshold change a model's predictions; --expert-only uses none")
    if args.threshold is not None and not 0 < args.threshold < 1:
        parser.error(f"--threshold must be between 0 and 1 (exclusive), got {args.threshold}")
    if args.expert_only and args.trim_boundary is not None:
        parser.error("--trim-boundary trims a model's masks; --expert-only uses none")
    print(f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)
    import torch

    torch.set_num_threads(args.threads)
    from skcardio.segment import UNetSegmenter

    models, held_out, png_labels = read_folds(args.cv_dir, args.root) if args.cv_dir else ({}, {}, "as-given")
    shipped = UNetSegmenter.pretrained() if args.pretrained else None
    patients = list(find_patients([str(args.root)]))
    # The training data beside ROOT when ROOT is a dataset folder, else the shared data.
    data_root = (args.root if (args.root / "link.csv").is_file() else DEFAULT_ROOT).parent
    levels = trim_levels(args.trim_boundary, [p.name for p in patients], held_out if args.cv_dir else None,
                         data_root, png_labels)
    rows = []
    for patient in patients:
        start, cpu = time.perf_counter(), cpu_seconds()
        study = read_cine(patient.folder)
        stages = {}
        if args.expert_only:
            masks = study.images > float("inf")  # no model: the automatic part is empty
        else:
            if shipped is None and not models.get(patient.name, Path("/nonexistent")).is_file():
                print(f"{patient.name}: no fold model held it out ({models.get(patient.name)}), skipped")
                continue
            model = shipped if shipped is not None else UNetSegmenter.load(models[patient.name])
            if args.no_tta or args.tta:
                model.set_params(tta=args.tta)
            if args.threshold is not None:
                model.set_params(threshold=args.threshold)
            start, cpu = time.perf_counter(), cpu_seconds()  # the model file is read once per process in a report
            study = read_cine(patient.folder)
            stages["read"] = time.perf_counter() - start
            with timing_network() as network:
                masks = segment_study(study, model)
            stages["segment"] = time.perf_counter() - start - stages["read"]
            stages["network"], stages["network_cpu"] = network
            if patient.name in levels:
                trim_start = time.perf_counter()
                masks = trim_dark_boundary(study.images, masks, level=levels[patient.name])
                stages["trim"] = time.perf_counter() - trim_start
        m = measure_study(study, masks, contours=patient.contours)
        row = m.row()
        row.update(model="pretrained" if shipped is not None else str(models.get(patient.name, "")),
                   images=int(study.images.shape[0] * study.images.shape[1]),
                   seconds=time.perf_counter() - start, cpu_seconds=cpu_seconds() - cpu,
                   **{f"{name}_seconds": value for name, value in stages.items()}, load=os.getloadavg()[0])
        # The prediction options the masks were made with (none without a model).
        row.update(dict.fromkeys(("tta", "refine", "threshold")) if args.expert_only else
                   dict(tta=bool(model.tta), refine=bool(model.refine), threshold=float(model.threshold)))
        row["boundary_level"] = levels.get(patient.name)
        row["volumes_ml"] = [round(float(v), 3) for v in m.volumes]
        if args.curve_harmonics is not None:
            row.update(smoothed_ef(m.volumes, args.curve_harmonics, row["expert_ef_pct"]))
        rows.append(row)
        print_row(row, args.expert_only)
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1, default=float))
    summarise(rows, args.expert_only)


def smoothed_ef(volumes, harmonics: int, expert_ef: float) -> dict:
    """EF (and its difference to the expert's) of the cyclic volume curve kept to its first harmonics.

    The curve's maximum and minimum are ED and ES, as ``cardiac_function``
    takes them; on a noisy curve they are biased apart, which smoothing undoes,
    but smoothing also flattens a true, sharp end-systole.
    """
    import numpy as np

    volumes = np.asarray(volumes, dtype=float)
    if not np.isfinite(volumes).all():  # a phase without volume: no cyclic curve to smooth
        return {f"ef_pct_harmonics_{harmonics}": float("nan"), f"auto_ef_diff_points_harmonics_{harmonics}": float("nan")}
    spectrum = np.fft.rfft(volumes)
    spectrum[harmonics + 1:] = 0
    curve = np.fft.irfft(spectrum, len(volumes))
    ef = 100 * (curve.max() - curve.min()) / curve.max()
    return {f"ef_pct_harmonics_{harmonics}": ef, f"auto_ef_diff_points_harmonics_{harmonics}": ef - expert_ef}


def print_row(r: dict, expert_only: bool) -> None:
    text = (f"{r['patient_id']}: expert EDV {r['expert_edv_ml']:.1f} ESV {r['expert_esv_ml']:.1f} mL "
            f"EF {r['expert_ef_pct']:.1f} % (phases {r['expert_ed_phase']}/{r['expert_es_phase']}, "
            f"{r['expert_images']} images)")
    if not expert_only:
        text += f" | tta {r['tta']}, threshold {r['threshold']}, boundary level {r.get('boundary_level')}"
        text += (f" | model on expert images EDV {r['model_on_expert_edv_ml']:.1f} ({r['model_on_expert_edv_diff_pct']:+.1f} %) "
                 f"ESV {r['model_on_expert_esv_ml']:.1f} ({r['model_on_expert_esv_diff_pct']:+.1f} %) "
                 f"EF {r['model_on_expert_ef_pct']:.1f} ({r['model_on_expert_ef_diff_points']:+.1f}) "
                 f"| automatic EDV {r['edv_ml']:.1f} ({r['auto_edv_diff_pct']:+.1f} %) ESV {r['esv_ml']:.1f} "
                 f"({r['auto_esv_diff_pct']:+.1f} %) EF {r['ef_pct']:.1f} ({r['auto_ef_diff_points']:+.1f}), "
                 f"ED/ES {r['ed_phase']}/{r['es_phase']}, {r['slices_kept']}/{r['n_slices']} slices kept")
    smoothed = [k for k in r if k.startswith("auto_ef_diff_points_harmonics_")]
    for key in smoothed:
        text += f" | smoothed to {key.rsplit('_', 1)[1]} harmonics: EF error {r[key]:+.2f}"
    text += f" | {r['images']} images in {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s CPU"
    if "segment_seconds" in r:
        text += (f" (read {r['read_seconds']:.1f} s, segment {r['segment_seconds']:.1f} s of which the network "
                 f"{r['network_seconds']:.1f} s wall / {r['network_cpu_seconds']:.1f} s CPU; load {r['load']:.1f})")
    print(text, flush=True)


def summarise(rows: list[dict], expert_only: bool) -> None:
    rows = [r for r in rows if r["expert_ef_pct"] == r["expert_ef_pct"]]  # NaN without contours
    if expert_only or not rows:
        return
    worst_ef = max(abs(r["model_on_expert_ef_diff_points"]) for r in rows)
    worst_volume = max(max(abs(r["model_on_expert_edv_diff_pct"]), abs(r["model_on_expert_esv_diff_pct"])) for r in rows)
    worst_auto = max(abs(r["auto_ef_diff_points"]) for r in rows)
    print(f"(a) model on the expert's images: worst |EF error| {worst_ef:.1f} points (bar {BARS['model_on_expert_ef']}), "
          f"worst |EDV/ESV error| {worst_volume:.1f} % (bar {BARS['model_on_expert_volume_pct']})")
    print(f"(b) fully automatic: worst |EF error| {worst_auto:.1f} points (bar {BARS['auto_ef']})")


if __name__ == "__main__":
    main()
