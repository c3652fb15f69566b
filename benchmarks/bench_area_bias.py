"""How far the grouped-CV blood pools are from the expert's in area, per pathology group, trimmed or not.

Usage::

    python benchmarks/bench_area_bias.py DIR [DATA] [--level 0.145] [--threads 1] [--json FILE]

DIR holds ``fold_<k>.pt`` and ``folds.json`` of a patient-grouped CV on the
17 shared patients (``bench_unet.py --models DIR``). Each fold model
predicts its held-out slices (whole images, its own prediction options);
the masks are then trimmed at LEVEL (``skcardio.segment.trim_dark_boundary``;
default ``SUNNYBROOK_BOUNDARY_LEVEL``, the level ``skcardio report`` uses).
Per pathology group, the summed predicted area over the summed expert
area, untrimmed and trimmed, against two sets of labels:

* ``as-given``: the DICOM slices' i-contour masks and the PNG label files;
* ``dicom-convention``: the same with the PNG labels redrawn in the DICOM
  masks' convention (``skcardio.io.polygon_mask_from_floor_fill``), the
  convention in which the DICOM experts drew (and the trim's level was
  measured);

over all slices, over the small pools (expert area below the group's
median: the end-systolic and apical slices, where an excess moves the
end-systolic volume and so the ejection fraction most) and over the large
ones. A ratio above 1 is
an overestimate. The PNG slices have no cine study, so this is how the
volume bias of the groups without DICOMs (hypertrophy, normal, heart
failure without infarction) can be seen here at all. Data: Sunnybrook
Cardiac Data (CC0), Radau et al. 2009.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_pretrained import (  # noqa: E402
    DEFAULT_DATA,
    fold_model_path,
    folds_path,
    load_folds,
    load_training_data,
    redraw_png_labels,
)

from skcardio.cli._arguments import unit_interval  # noqa: E402

#: Label sets compared against, and the slices each ratio is over.
LABELS = ("as-given", "dicom-convention")
PARTS = ("all", "small", "large")


def area_ratios(pred: np.ndarray, labels: np.ndarray, pathology: np.ndarray) -> dict:
    """``{group: {part: ratio}}``: summed predicted over summed label area, per pathology group and ``"all"``.

    ``part`` ``"small"``: the slices whose label area is below the group's
    median label area; ``"large"``: the others.
    """
    pred, labels, pathology = np.asarray(pred, bool), np.asarray(labels, bool), np.asarray(pathology)
    if pred.shape != labels.shape or pred.ndim != 3 or len(pathology) != len(pred):
        raise ValueError(f"expected masks (n, H, W) of one shape and n groups, got {pred.shape}, "
                         f"{labels.shape} and {len(pathology)}")
    if "all" in pathology.tolist():
        raise ValueError("a pathology group named 'all' would clash with the overall ratios; expected other names")
    out = {}
    for group in [*sorted(set(pathology.tolist())), "all"]:
        chosen = np.ones(len(pred), bool) if group == "all" else pathology == group
        area = labels[chosen].sum(axis=(1, 2))
        small = area < np.median(area)
        parts = {"all": np.ones(len(area), bool), "small": small, "large": ~small}
        out[group] = {part: float(pred[chosen][m].sum() / labels[chosen][m].sum()) for part, m in parts.items()}
    return out


def predict_held_out(data: dict, models: Path) -> np.ndarray:
    """Every slice's mask from the fold model of ``models`` that held its patient out."""
    from skcardio.segment import UNetSegmenter

    saved = load_folds(models)
    pred = np.zeros(data["y"].shape, bool)
    done = np.zeros(len(pred), bool)
    for fold in saved["folds"]:
        test = np.isin(data["groups"], fold["held_out"])
        pred[test] = UNetSegmenter.load(fold_model_path(models, fold)).predict(data["images"][test])
        done |= test
    if not done.all():
        raise ValueError(f"{folds_path(models)}: {int((~done).sum())} slices are in no fold's held-out "
                         "patients; expected a grouped CV that holds every patient out once")
    return pred


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", type=Path, help="folder with fold_<k>.pt and folds.json")
    parser.add_argument("root", nargs="?", default=DEFAULT_DATA, type=Path, help="folder holding final_data and sunnybrook_train_png")
    parser.add_argument("--level", type=unit_interval, help="trim level, 0 to 1 (default SUNNYBROOK_BOUNDARY_LEVEL)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the ratios to this file")
    args = parser.parse_args(argv)

    import torch

    from skcardio.segment import SUNNYBROOK_BOUNDARY_LEVEL, trim_dark_boundary

    torch.set_num_threads(args.threads)
    level = SUNNYBROOK_BOUNDARY_LEVEL if args.level is None else args.level
    data = load_training_data(args.root)
    labels = {"as-given": data["y"], "dicom-convention": redraw_png_labels(data["y"], "polygon")}
    dicom = data["icontour"] != ""
    labels["dicom-convention"][dicom] = data["y"][dicom]  # the DICOM slices are in that convention already
    untrimmed = predict_held_out(data, args.models)
    masks = {"untrimmed": untrimmed, "trimmed": trim_dark_boundary(data["images"], untrimmed, level=level)}
    result = {"models": str(args.models), "level": level, "ratios": {
        f"{name}/{label}": area_ratios(pred, labels[label], data["pathology"])
        for label in LABELS for name, pred in masks.items()
    }}
    print(f"{args.models}: predicted / expert area, untrimmed -> trimmed at {level:.3g}")
    print("| labels | group | all slices | small pools | large pools |\n|---|---|---:|---:|---:|")
    for label in LABELS:
        before, after = result["ratios"][f"untrimmed/{label}"], result["ratios"][f"trimmed/{label}"]
        for group in before:
            cells = " | ".join(f"{before[group][p]:.3f} → {after[group][p]:.3f}" for p in PARTS)
            print(f"| {label} | {group} | {cells} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
