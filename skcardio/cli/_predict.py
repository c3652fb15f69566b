"""``skcardio predict [MODEL] DICOM_OR_DIR... --out DIR``: segment DICOM slices with a U-Net (the shipped one by default)."""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
from pathlib import Path

import numpy as np

from ._arguments import positive_int
from ._output import out_dir, publish, staging

__all__ = ["register", "collect_dicoms"]

logger = logging.getLogger("skcardio.cli.predict")

#: Columns of ``predictions.csv``: the mask's area, then the confidence and
#: flags of :func:`skcardio.qc.assess_predictions` (flags as 0/1).
CSV_FIELDS = (
    "dicom_path", "output_stem", "area_px", "area_mm2", "contour_points",
    "confidence", "empty", "several_components", "touches_border", "implausible_area", "flagged",
)

#: What follows an output stem in the name of each file written for a slice.
_SUFFIXES = ("_mask.npy", "_mask.png", "_contour.txt", "_overlay.png")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` sub-command."""
    parser = subparsers.add_parser(
        "predict",
        help="segment the blood pool of DICOM slices (the shipped pretrained U-Net, or a model from 'skcardio train')",
        description=(
            "Segment the left-ventricle blood pool of every DICOM file given (folders are "
            "searched recursively for *.dcm) with the pretrained U-Net shipped with skcardio "
            "(UNetSegmenter.pretrained()), or with a model written by 'skcardio train' given as "
            "--model FILE or as a first argument ending in .pt. For "
            "each slice, writes to --out: STEM_mask.png (0/255), STEM_mask.npy (bool), "
            "STEM_contour.txt (one 'x y' point per line, x = column, y = row, like the "
            "expert contour files; not written for an empty mask) and STEM_overlay.png; and "
            "predictions.csv with the area, the confidence (0-1) and the flags (empty, "
            "several_components, touches_border, implausible_area, flagged) of every mask. Files inside a folder argument "
            "keep the folder's name and their path inside it (e.g. SCD0000101/48_mask.png). --out is written only once every slice "
            "is done; the slice files listed by an earlier predictions.csv there and not "
            "written again are removed."
        ),
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="DICOM_OR_DIR",
        help="DICOM files or folders; a first argument ending in .pt is the model file (as --model)",
    )
    parser.add_argument(
        "--model", metavar="FILE",
        help="model file written by 'skcardio train' (default: the shipped pretrained U-Net)",
    )
    parser.add_argument("--out", required=True, type=out_dir, metavar="DIR", help="output folder (created)")
    parser.add_argument("--batch-size", type=positive_int, default=16, metavar="N", help="slices per batch (default 16)")
    parser.add_argument("--no-overlay", action="store_true", help="do not write overlay images")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (there is none when stderr is not a terminal)")
    parser.add_argument(
        "--threads", type=positive_int, metavar="N", help="PyTorch CPU threads (default: PyTorch's choice)"
    )
    parser.set_defaults(func=run)


def collect_dicoms(inputs: list[str]) -> list[tuple[Path, Path]]:
    """``(dicom file, output stem)`` pairs for files and folders, in a stable order.

    A file ``a/b/48.dcm`` given directly has the stem ``48``; inside a folder
    argument ``d``, ``d/x/48.dcm`` has the stem ``d/x/48`` (``d`` being the
    folder's name), so slices of different patients never share an output.

    Raises
    ------
    FileNotFoundError
        If an input does not exist or a folder has no ``*.dcm`` file.
    ValueError
        If two inputs would write to the same output stem.
    """
    pairs: list[tuple[Path, Path]] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            files = sorted(path.rglob("*.dcm"), key=_natural_key)
            if not files:
                raise FileNotFoundError(f"{path}: folder has no *.dcm file")
            root = path.resolve()
            pairs += [(f, Path(root.name) / f.resolve().relative_to(root).with_suffix("")) for f in files]
        elif path.is_file():
            pairs.append((path, Path(path.stem)))
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    stems: dict[Path, Path] = {}
    for file, stem in pairs:
        if stem in stems:
            raise ValueError(
                f"{file} and {stems[stem]} would both write outputs named {stem}; "
                "pass their folders instead, or run them separately"
            )
        stems[stem] = file
    return pairs


def _natural_key(path: Path) -> tuple:
    """Sort ``2.dcm`` before ``10.dcm``, and any names together (``1.dcm``, ``a.dcm``, ``IM-0001-0048.dcm``)."""
    # Each part becomes [text, number, text, ...], always starting with text,
    # so numbers are only ever compared with numbers (int < str raised TypeError).
    return tuple(
        [int(chunk) if i % 2 else chunk for i, chunk in enumerate(re.split(r"(\d+)", part))]
        for part in path.with_suffix("").parts
    )


def run(args: argparse.Namespace) -> int:
    """Predict and write the outputs; exit code 1 if some files could not be read."""
    from ..segment import UNetSegmenter

    inputs, model_file = list(args.inputs), args.model
    if model_file is None and inputs[0].endswith(".pt"):  # the form 'predict MODEL.pt DICOM...'
        model_file = inputs.pop(0)
    if not inputs:
        print("skcardio predict: error: no DICOM file or folder given after the model", file=sys.stderr)
        return 2
    try:
        pairs = collect_dicoms(inputs)
    except (FileNotFoundError, ValueError) as exc:
        print(f"skcardio predict: error: {exc}", file=sys.stderr)
        return 2
    model = UNetSegmenter.pretrained() if model_file is None else UNetSegmenter.load(model_file)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    with staging(out, "predict") as stage:
        rows, failed = _predict_into(stage, pairs, model, args)
        _write_csv(stage / "predictions.csv", rows)
        publish(stage, out, owned=_earlier_outputs(out))
    print(f"segmented {len(rows)} slice(s) into {out}" + (f"; {failed} unreadable" if failed else ""))
    return 1 if failed else 0


def _predict_into(
    stage: Path, pairs: list[tuple[Path, Path]], model, args: argparse.Namespace
) -> tuple[list[dict], int]:
    """Write the outputs of every readable slice under ``stage``; CSV rows and the unreadable count."""
    from tqdm.auto import tqdm

    from ..exceptions import DicomReadError
    from ..io import read_dicom
    from ..qc import assess_predictions

    failed, rows = 0, []
    # disable=None: tqdm shows no bar when stderr is not a terminal (redirected logs).
    progress = tqdm(total=len(pairs), unit="slice", disable=True if args.no_progress else None, desc="predict")
    for begin in range(0, len(pairs), args.batch_size):
        batch = []
        for file, stem in pairs[begin : begin + args.batch_size]:
            try:
                batch.append((read_dicom(file), stem))
            except DicomReadError as exc:
                failed += 1
                logger.error("%s", exc)
                progress.update()
        # Slices of one batch are stacked only with others of the same size.
        for shape in {dicom.image.shape for dicom, _ in batch}:
            same = [(dicom, stem) for dicom, stem in batch if dicom.image.shape == shape]
            masks, proba = model.predict_with_proba(np.stack([dicom.image for dicom, _ in same]))
            quality = assess_predictions(masks, proba, pixel_spacing=[dicom.pixel_spacing for dicom, _ in same])
            for index, ((dicom, stem), mask) in enumerate(zip(same, masks)):
                row = _write_outputs(stage, stem, dicom, mask, overlay=not args.no_overlay)
                row.update({name: _csv_value(values[index]) for name, values in quality.items()})
                rows.append(row)
                progress.update()
    progress.close()
    return rows, failed


def _csv_value(value) -> str | int:
    """A flag as 0/1, the confidence with three decimals."""
    return int(value) if isinstance(value, (bool, np.bool_)) else f"{float(value):.3f}"


def _earlier_outputs(out: Path) -> list[str]:
    """Slice files that the ``predictions.csv`` of an earlier run in ``out`` lists."""
    path = out / "predictions.csv"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            stems = [row.get("output_stem") for row in csv.DictReader(handle)]
    except FileNotFoundError:
        return []
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        logger.warning("%s: unreadable (%s); files of the earlier run are kept", path, exc)
        return []
    # Only stems inside out: a hand-edited CSV must not delete files elsewhere.
    stems = [s for s in stems if s and not Path(s).is_absolute() and ".." not in Path(s).parts]
    return [f"{stem}{suffix}" for stem in stems for suffix in _SUFFIXES]


def _write_outputs(out: Path, stem: Path, dicom, mask: np.ndarray, *, overlay: bool) -> dict:
    from PIL import Image

    from ..io import mask_to_contour, write_contour

    base = out / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    np.save(f"{base}_mask.npy", mask)
    Image.fromarray(mask.astype(np.uint8) * 255).save(f"{base}_mask.png")
    points = mask_to_contour(mask)
    if len(points) >= 3:
        write_contour(f"{base}_contour.txt", points)
    else:
        logger.warning("%s: no blood pool found, no contour written", dicom.path)
    if overlay:
        Image.fromarray(_overlay(dicom.image, mask)).save(f"{base}_overlay.png")
    area_mm2 = float(mask.sum() * np.prod(dicom.pixel_spacing))
    return {
        "dicom_path": str(dicom.path),
        "output_stem": str(stem),
        "area_px": int(mask.sum()),
        "area_mm2": f"{area_mm2:.1f}" if np.isfinite(area_mm2) else "",
        "contour_points": len(points),
    }


def _overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Grey image (1st-99th percentile stretched) with the mask's outline in red, uint8 RGB."""
    from skimage.segmentation import find_boundaries

    low, high = np.percentile(image, (1, 99))
    grey = np.clip((image - low) / max(high - low, 1e-6), 0, 1)
    rgb = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=-1)
    rgb[find_boundaries(mask, mode="inner")] = (255, 0, 0)
    return rgb


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
