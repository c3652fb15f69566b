"""Train the pretrained U-Net shipped in the package, and record how it was made.

Usage::

    python benchmarks/train_pretrained.py [DATA] [--seed 0] [--epochs N] [--threads 2]
                                          [--png-labels as-given|polygon]
                                          [--out skcardio/segment/data/unet_lv_pretrained.pt]

DATA defaults to ``../shared/data`` beside the repository: its ``final_data``
(5 DICOM patients, SC-HF-I-1, -2, -4, -5, -6, expert i-contours) and
``sunnybrook_train_png`` (12 PNG patients of all four Sunnybrook groups) are
read with :func:`skcardio.datasets.load_dataset` and
:func:`skcardio.datasets.load_image_folder` and trained on together, all 300
slices of the 17 patients, with ``UNetSegmenter(random_state=SEED)`` and its
defaults but ``max_epochs=N`` (default: the estimator's 80). The shipped
model was trained with ``--epochs 160`` (benchmarks/README.md, "Longer
training": better small pools, twice the training time of the default).

Writes the model (``UNetSegmenter.save``) and, beside it with the suffix
``.json``, its provenance: the recipe (every parameter), the seed, the
SHA-256 of every data file read (images, DICOMs, contours, labels), the
SHA-256 of the weights file, the versions of Python, PyTorch, skorch, NumPy
and skcardio, the date and the training time. ``UNetSegmenter.pretrained()``
checks the weights against the hash recorded there.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

# Before PyTorch is imported (in main, so that the benchmarks importing this module's data
# helpers do not pay for it): OpenMP threads spin only briefly, freed memory is kept.
import skcardio.segment._unet_env  # noqa: F401, I001
from skcardio.cli._arguments import positive_int

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
#: How the PNG labels are used: the files' pixels, or redrawn as the DICOM masks are.
PNG_LABELS = ("as-given", "polygon")
#: Which training slices calibrate the boundary level of ``--trim-boundary`` (bench_unet, bench_clinical):
#: the DICOM slices, or every slice.
TRIM_SOURCES = ("dicom", "all")
DEFAULT_OUT = REPO / "skcardio" / "segment" / "data" / "unet_lv_pretrained.pt"


def sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folds_path(models: Path) -> Path:
    """``folds.json`` of a grouped CV's models folder: its settings, and each fold's number and held-out patients.

    The layout that ``bench_unet.py --models DIR`` (and ``--merge``) writes, with each fold's model at
    :func:`fold_model_path`, and that ``bench_unet.py --score-only``, bench_unet_postprocess,
    bench_area_bias, ``bench_clinical.py --cv-dir`` and bench_clinical_postprocess read.
    """
    return models / "folds.json"


def load_folds(models: Path) -> dict | list:
    """The record of :func:`folds_path`: ``{"folds": [...], ...}`` (older runs wrote the bare list of folds)."""
    return json.loads(folds_path(models).read_text())


def fold_model_path(models: Path, fold: int | Mapping) -> Path:
    """The saved model of one fold of a grouped CV's models folder (:func:`folds_path`): ``fold_<k>.pt``.

    ``fold``: the number k, or the fold's entry of ``folds.json`` (its ``"fold"``; or the file its
    ``"model"`` names, where an older run's entry names one).
    """
    if not isinstance(fold, Mapping):
        return models / f"fold_{int(fold)}.pt"
    if "model" in fold:
        return models / fold["model"]
    if "fold" not in fold:
        raise ValueError(f"{folds_path(models)}: a fold entry without 'fold' or 'model': {fold!r}; "
                         "expected e.g. {'fold': 0, 'held_out': [...]}")
    return models / f"fold_{int(fold['fold'])}.pt"


def check_png_labels(png_labels: str) -> None:
    if png_labels not in PNG_LABELS:
        raise ValueError(f"png_labels must be one of {PNG_LABELS}, got {png_labels!r}")


def calibration_slices(data: dict, held_out: list[str], source: str) -> np.ndarray:
    """Bool per slice of ``load_training_data``'s ``data``: those that calibrate a fold's boundary level.

    Every slice of the patients the fold did not hold out (``source="all"``), or only their DICOM
    slices (``"dicom"``, those with an i-contour file).
    """
    if source not in TRIM_SOURCES:
        raise ValueError(f"source must be one of {TRIM_SOURCES}, got {source!r}")
    usable = data["icontour"] != "" if source == "dicom" else np.ones(len(data["y"]), bool)
    return usable & ~np.isin(data["groups"], held_out)


def redraw_png_labels(y: np.ndarray, png_labels: str) -> np.ndarray:
    """The PNG masks as given, or redrawn in the DICOM masks' convention (``"polygon"``)."""
    check_png_labels(png_labels)
    if png_labels == "as-given":
        return y
    from skcardio.io import polygon_mask_from_floor_fill

    return polygon_mask_from_floor_fill(y)


def load_training_data(root: Path, png_labels: str = "as-given") -> dict:
    """Both shared sources as one training set.

    ``png_labels="polygon"`` redraws the PNG labels (SegNetCMR's floor-and-fill
    export) in the DICOM masks' convention
    (:func:`skcardio.io.polygon_mask_from_floor_fill`); ``"as-given"`` keeps
    the files' pixels.

    Returns a dict: ``images`` (n, H, W) float32, ``y`` masks, ``groups``
    (Sunnybrook patient ids), ``pathology`` (group of each slice),
    ``spacing`` (row pixel spacing in mm, NaN for the PNG slices),
    ``icontour`` (the expert i-contour file of each DICOM slice, ``""`` for
    the PNG slices, which have none) and ``files`` (every data file read, sorted).
    """
    from skcardio.datasets import load_dataset, load_image_folder

    check_png_labels(png_labels)
    dicom = load_dataset(root / "final_data")
    png = load_image_folder(root / "sunnybrook_train_png" / "images", root / "sunnybrook_train_png" / "labels")
    png_y = redraw_png_labels(png.y, png_labels)
    # Sunnybrook ids for both sources, one spelling: link.csv writes SC-HF-I-1,
    # the PNG names SC-HF-NI-03 (the grouped CV's folds depend on the ids).
    ids = np.concatenate([dicom.frame.original_id, png.groups])
    files = sorted(
        {str(p) for p in dicom.frame.dicom_path}
        | {str(p) for p in dicom.frame.icontour_path if p}
        | {str(p) for p in png.frame.image_path}
        | {str(p) for p in png.frame.label_path}
    )
    return {
        "images": np.concatenate([dicom.images, png.images]).astype(np.float32),
        "y": np.concatenate([dicom.y, png_y]),
        "groups": np.array([re.sub(r"-0+(?=[0-9])", "-", str(g)) for g in ids]),
        "pathology": np.concatenate([dicom.frame.pathology, png.frame.pathology]).astype(str),
        "spacing": np.concatenate([np.asarray(dicom.frame.pixel_spacing, float)[:, 0],
                                   np.asarray(png.frame.pixel_spacing, float).reshape(len(png.y), -1)[:, 0]]),
        "icontour": np.array([str(p) if p else "" for p in dicom.frame.icontour_path] + [""] * len(png.y)),
        "files": files,
        "png_labels": png_labels,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="folder holding final_data and sunnybrook_train_png")
    parser.add_argument("--seed", type=int, default=0, help="random_state of the fit (default 0)")
    parser.add_argument("--epochs", type=positive_int, help="max_epochs of the fit (default: UNetSegmenter's, 80)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--png-labels", choices=PNG_LABELS, default="as-given",
                        help="PNG labels as given or redrawn as the DICOM masks (default as-given)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="model file to write (provenance: same name, .json)")
    args = parser.parse_args(argv)

    import skorch
    import torch

    import skcardio
    from skcardio.segment import UNetSegmenter

    torch.set_num_threads(args.threads)
    root = Path(args.data).resolve()
    data = load_training_data(root, args.png_labels)
    images, masks, groups, pathology, files = (data[k] for k in ("images", "y", "groups", "pathology", "files"))
    patients = sorted(set(groups))
    print(f"{len(images)} slices of {len(patients)} patients, PNG labels {args.png_labels}; load {os.getloadavg()[0]:.2f}", flush=True)
    model = UNetSegmenter(random_state=args.seed, verbose=1)
    if args.epochs is not None:
        model.set_params(max_epochs=args.epochs)
    start = time.perf_counter()
    model.fit(images, masks, groups=groups)
    fit_s = time.perf_counter() - start
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.set_params(verbose=0)  # the shipped file prints nothing when refitted
    model.save(out)
    params = model.get_params()
    provenance = {
        "model": out.name,
        "weights_sha256": sha256(out),
        "weights_bytes": out.stat().st_size,
        "recipe": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
        "seed": args.seed,
        "png_labels": args.png_labels,
        "training": {
            "slices": int(len(images)),
            "patients": patients,
            "slices_per_pathology": {g: int((pathology == g).sum()) for g in sorted(set(pathology))},
            "fit_seconds": round(fit_s, 1),
            "epochs": len(model.net_.history),
            "final_train_loss": float(model.net_.history[-1, "train_loss"]),
            "threads": torch.get_num_threads(),
            "load_average_after": round(os.getloadavg()[0], 2),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s), no GPU"
            if not torch.cuda.is_available()
            else f"{platform.machine()}, CUDA {torch.cuda.get_device_name()}",
        },
        "data": {
            "sources": ["final_data (Sunnybrook DICOM, CC0)", "sunnybrook_train_png (Sunnybrook PNG, CC0 images; SegNetCMR MIT export)"],
            "files_sha256": {os.path.relpath(f, root): sha256(f) for f in files},
        },
        "versions": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "skorch": skorch.__version__,
            "numpy": np.__version__,
            "skcardio": skcardio.__version__,
        },
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/train_pretrained.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
    }
    provenance_path = out.with_suffix(".json")
    provenance_path.write_text(json.dumps(provenance, indent=1) + "\n", encoding="utf-8")
    print(
        f"fit {fit_s:.0f} s ({len(model.net_.history)} epochs); wrote {out} "
        f"({out.stat().st_size / 1e6:.2f} MB, sha256 {provenance['weights_sha256'][:12]}...) and {provenance_path}"
    )


if __name__ == "__main__":
    main()
