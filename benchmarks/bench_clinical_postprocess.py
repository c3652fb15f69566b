"""Does the component ranking of U-Net post-processing change the LV-function figures of whole studies?

Usage::

    python benchmarks/bench_clinical_postprocess.py [ROOT] [--cv-dir DIR] [--threads 1]

For every DICOM patient of ROOT (default ../shared/data/final_data), the
whole cine study is read and its images predicted once (``predict_proba``)
by the shipped U-Net and, with ``--cv-dir``, by the grouped-CV fold model
that never saw the patient (as ``bench_clinical.py --cv-dir``). The masks
are then made from those probabilities by both rankings (before
circularity: the function as it was, copied below; today's
``keep_main_component``), exactly as ``predict`` makes them,
and measured with ``measure_study`` against the expert's contours. Prints,
per study and model, how many masks differ, every figure of
``StudyMeasurement.row()`` that differs, and the CPU seconds of each
ranking over the study's masks (best of 3). No training.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clinical import DEFAULT_ROOT, fold_models  # noqa: E402
from scipy import ndimage  # noqa: E402

from skcardio.cli._report import find_patients  # noqa: E402
from skcardio.clinical import measure_study  # noqa: E402
from skcardio.io import read_cine  # noqa: E402
from skcardio.segment import UNetSegmenter  # noqa: E402
from skcardio.segment._unet_postprocess import keep_main_component  # noqa: E402


def keep_before(mask: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``_keep_main_component`` of segment/_unet.py before circularity (commit 444a1c4), for its cost too."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    index = np.arange(1, count + 1)
    score = ndimage.sum_labels(proba, labels, index) * ndimage.mean(proba, labels, index)
    centres = np.array(ndimage.center_of_mass(proba, labels, index)).reshape(count, 2)
    offset = centres - (np.array(mask.shape) - 1) / 2
    sigma = 0.25 * min(mask.shape)
    score = score * np.exp(-(offset**2).sum(axis=1) / (2 * sigma**2))
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(score)))


RULES = {"before": keep_before, "now": keep_main_component}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def same(a, b) -> bool:
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return both_nan or a == b


def compare(study, contours, model) -> None:
    flat = study.images.reshape(-1, *study.images.shape[2:])
    proba = np.concatenate([model.predict_proba(flat[i : i + 20]) for i in range(0, len(flat), 20)])
    thresholded = proba > model.threshold
    masks, rows, seconds = {}, {}, {}
    for name, rule in RULES.items():
        times = []
        for _ in range(3):
            start = cpu_seconds()
            kept = np.array([rule(m, p) for m, p in zip(thresholded, proba)])
            times.append(cpu_seconds() - start)
        masks[name] = kept & ~np.isnan(flat)  # as predict: NaN pixels are never blood pool
        rows[name] = measure_study(study, masks[name].reshape(study.images.shape), contours=contours).row()
        seconds[name] = min(times)
    differ = int((masks["before"] != masks["now"]).any(axis=(1, 2)).sum())
    changed = [f"{k}: {rows['before'][k]} -> {rows['now'][k]}" for k in rows["now"] if not same(rows["before"][k], rows["now"][k])]
    print(f"  masks that differ: {differ} of {len(flat)}; figures that differ: {changed or 'none'}; "
          f"ranking CPU-s before {seconds['before']:.2f}, now {seconds['now']:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=DEFAULT_ROOT, type=Path)
    parser.add_argument("--cv-dir", type=Path, help="folder with fold_<k>.pt and folds.json")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (default 1)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    shipped = UNetSegmenter.pretrained()
    folds = fold_models(args.cv_dir, args.root) if args.cv_dir else {}
    for patient in find_patients([str(args.root)]):
        study = read_cine(patient.folder)
        models = {"shipped": shipped}
        if patient.name in folds:
            models["fold"] = UNetSegmenter.load(folds[patient.name])
        for name, model in models.items():
            print(f"{patient.name}, {name} model:", flush=True)
            compare(study, patient.contours, model)


if __name__ == "__main__":
    main()
