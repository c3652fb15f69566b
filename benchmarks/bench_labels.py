"""How the two shared label sources were drawn, and where they sit on the image.

Usage::

    python benchmarks/bench_labels.py [DATA]

DATA defaults to ``../shared/data`` beside the repository. Prints two tables
for ``benchmarks/README.md``:

1. **Rasterisation.** Every expert contour of ``final_data`` (96 i-contours,
   46 o-contours) drawn as SegNetCMR drew the PNG labels (the pixel
   ``[int(y), int(x)]`` of every point, outline filled) against
   :func:`skcardio.io.contour_to_mask`, before and after
   :func:`skcardio.io.polygon_mask_from_floor_fill`: mean area ratio, Dice
   and centre offset.
2. **Position against the image.** For every expert outline, the distance
   along the outward normal from the outline to the strongest image edge
   (gradient magnitude, Gaussian sigma 1 pixel, searched within 3 pixels),
   fitted per slice as ``radial + row * n_row + col * n_col``: ``radial`` is
   how far outside the edge the outline runs, ``row`` / ``col`` how far it
   is displaced as a whole. Medians over slices, for the DICOM contour files,
   the DICOM masks' outlines and the PNG labels' outlines (the PNGs have no
   contour file: outlines traced with :func:`skcardio.io.mask_to_contour`).
   The translation cannot be learned by a network trained with random flips:
   a flip turns a displacement down into one up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from skcardio.io import contour_to_mask, mask_to_contour, polygon_mask_from_floor_fill, read_contour
from skcardio.metrics import dice_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_pretrained import DEFAULT_DATA, load_training_data  # noqa: E402

#: Offsets (pixels) searched along each normal for the strongest edge.
SEARCH = np.arange(-3.0, 3.01, 0.1)


def floor_fill(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """SegNetCMR's drawing: mark ``[int(y), int(x)]`` of every point, fill the outline."""
    outline = np.zeros(shape, bool)
    outline[np.floor(points[:, 1]).astype(int), np.floor(points[:, 0]).astype(int)] = True
    return ndimage.binary_fill_holes(outline)


def rasterisation_row(paths: list[Path]) -> str:
    rows = []
    for path in paths:
        points = read_contour(path)
        reference = contour_to_mask(points, (256, 256))
        mask = floor_fill(points, (256, 256))
        corrected = polygon_mask_from_floor_fill(mask)
        centre = np.array(ndimage.center_of_mass(reference))
        rows.append([mask.sum() / reference.sum(), dice_score(reference, mask),
                     *(np.array(ndimage.center_of_mass(mask)) - centre),
                     corrected.sum() / reference.sum(), dice_score(reference, corrected),
                     *(np.array(ndimage.center_of_mass(corrected)) - centre)])
    m = np.mean(rows, axis=0)
    return (f"| {m[0]:.4f} | {m[1]:.4f} | {m[2]:+.2f}, {m[3]:+.2f} "
            f"| {m[4]:.4f} | {m[5]:.4f} | {m[6]:+.2f}, {m[7]:+.2f} |")


def edge_fit(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(radial, row, col): the outline's offset from the strongest edge, in pixels (outline minus edge)."""
    points = np.asarray(points, float)
    gradient = ndimage.gaussian_gradient_magnitude(image.astype(float), 1.0)
    tangent = np.roll(points, -3, axis=0) - np.roll(points, 3, axis=0)
    normal = np.c_[tangent[:, 1], -tangent[:, 0]]
    normal /= np.linalg.norm(normal, axis=1)[:, None] + 1e-12
    if np.sum((points - points.mean(axis=0)) * normal) < 0:  # point outwards
        normal = -normal
    x = points[:, :1] + normal[:, :1] * SEARCH
    y = points[:, 1:] + normal[:, 1:] * SEARCH
    values = ndimage.map_coordinates(gradient, [y.ravel(), x.ravel()], order=1).reshape(x.shape)
    edge = SEARCH[values.argmax(axis=1)]
    design = np.c_[np.ones(len(edge)), normal[:, 1], normal[:, 0]]  # radial, row (y), col (x)
    return -np.linalg.lstsq(design, edge, rcond=None)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    root = Path(args.data).resolve()
    print("Rasterisation: SegNetCMR's floor-and-fill vs contour_to_mask, before | after polygon_mask_from_floor_fill\n")
    print("| contours | area ratio | Dice | centre offset (row, col) px | area ratio | Dice | centre offset (row, col) px |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in ("i", "o"):
        paths = sorted(root.glob(f"final_data/contourfiles/*/{kind}-contours/*.txt"))
        print(f"| {len(paths)} {kind}-contours {rasterisation_row(paths)}")
    data = load_training_data(root)
    dicom = np.flatnonzero(data["icontour"] != "")
    png = np.flatnonzero(data["icontour"] == "")
    sources = (
        ("DICOM i-contour files", dicom, lambda i: read_contour(data["icontour"][i])),
        ("DICOM masks (contour_to_mask), outline", dicom, lambda i: mask_to_contour(data["y"][i])),
        ("PNG labels as given, outline", png, lambda i: mask_to_contour(data["y"][i])),
        ("PNG labels, polygon_mask_from_floor_fill, outline", png,
         lambda i: mask_to_contour(polygon_mask_from_floor_fill(data["y"][i]))),
    )
    print("\nOutline minus strongest image edge (pixels; + = outside / down / right), median over slices\n")
    print("| outlines | slices | radial | row | col |")
    print("|---|---:|---:|---:|---:|")
    for name, index, outline in sources:
        fits = np.array([edge_fit(data["images"][i], outline(i)) for i in index])
        radial, row, col = np.median(fits, axis=0)
        print(f"| {name} | {len(index)} | {radial:+.2f} | {row:+.2f} | {col:+.2f} |")


if __name__ == "__main__":
    main()
