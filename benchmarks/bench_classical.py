"""Classical segmentation: the method table and the cost of a grouped grid search.

Usage::

    python benchmarks/bench_classical.py [ROOT] [--repeat 3] [--skip-nested]

ROOT defaults to ``../shared/data/final_data`` beside the repository.

1. **Method table.** Every classical method on the slices that have both
   contours (input: image with NaN outside the o-contour; target: the
   i-contour mask), predicted for each patient by a model that never saw
   that patient (``GroupKFold`` with one fold per patient = leave one patient
   out). Per-slice Dice and IoU, mean ± sd, the fraction of slices with
   IoU > 0.75, and the MICCAI 2009 APD (mean ± sd, mm) and good-contour rate
   (APD < 5 mm) against the expert's i-contour points, on all slices and on
   the slices that pass quality control
   (``skcardio.qc``: no ``i_outside_o`` flag). The "grouped grid search" row
   is nested: for each held-out patient, a ``GridSearchCV`` with
   ``GroupKFold`` over the other patients picks the configuration
   (patient groups reach it through metadata routing).
2. **Timing.** The same grid search
   (``GridSearchCV(make_pipeline(RegionSelector(), ThresholdSegmenter()),
   grid, cv=GroupKFold(5), scoring=iou_scorer)``) against a bare loop of
   scikit-image / scipy calls doing the same work (same configurations, same
   folds, same pixels, same IoU), in the same run; the median of ``--repeat``
   runs of each, and a check that both find the same scores.

Prints Markdown tables (pasted into ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import sklearn
from scipy import ndimage as ndi
from skimage import filters
from skimage.measure import label
from skimage.morphology import convex_hull_image, disk
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline

from skcardio.datasets import load_dataset
from skcardio.io import read_contour
from skcardio.metrics import average_perpendicular_distance, dice_score, iou_score, iou_scorer
from skcardio.preprocessing import RegionSelector
from skcardio.qc import check_records
from skcardio.segment import (
    KMeansSegmenter,
    RegionGrowingSegmenter,
    ThresholdSegmenter,
    make_classical_pipeline,
)

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "final_data"
SHAPE = dict(keep_largest=True, fill_holes=True)


# --------------------------------------------------------------------------- methods


def method_table_estimators() -> dict[str, object]:
    """Name -> unfitted estimator on ``[image, region]`` pairs."""

    def on_region(segmenter):
        return make_pipeline(RegionSelector(), segmenter)

    methods = {"Otsu (original analysis)": on_region(ThresholdSegmenter())}
    for name in ("li", "yen", "isodata", "mean", "minimum", "triangle"):
        methods[name.capitalize()] = on_region(ThresholdSegmenter(name))
    methods["multi-Otsu, 3 classes (brightest)"] = on_region(ThresholdSegmenter("multiotsu"))
    methods["Otsu + largest + fill holes"] = on_region(ThresholdSegmenter(**SHAPE))
    methods["Li + largest + fill holes"] = on_region(ThresholdSegmenter("li", **SHAPE))
    methods["Li + contrast (2, 98) + sigma 1 + largest + fill"] = on_region(
        ThresholdSegmenter("li", contrast=(2, 98), sigma=1.0, **SHAPE)
    )
    methods["Li + largest + fill + convex hull"] = on_region(
        ThresholdSegmenter("li", convex_hull=True, **SHAPE)
    )
    methods["k-means k=2, per slice"] = on_region(KMeansSegmenter(random_state=0))
    methods["k-means k=2, global centres (z-score)"] = on_region(
        KMeansSegmenter(fit_mode="global", random_state=0)
    )
    methods["k-means k=2 + largest + fill + hull + dilation 1"] = on_region(
        KMeansSegmenter(random_state=0, convex_hull=True, dilation=1, **SHAPE)
    )
    methods["region growing, tolerance 2 sd"] = on_region(RegionGrowingSegmenter(2.0))
    methods["region growing + Canny walls"] = on_region(RegionGrowingSegmenter(2.0, edges=True))
    methods["region growing + largest + fill + hull + dilation 1"] = on_region(
        RegionGrowingSegmenter(2.0, sigma=1.0, convex_hull=True, dilation=1, **SHAPE)
    )
    methods["**make_classical_pipeline()**"] = make_classical_pipeline()
    return methods


def search_space() -> list[dict]:
    """The grouped grid search over the original analysis's ideas (nested row)."""
    post = {
        "segmenter__opening": [0, 1],
        "segmenter__convex_hull": [False, True],
        "segmenter__dilation": [0, 1],
        "segmenter__border_margin": [0, 2],
    }
    return [
        {
            "segmenter": [ThresholdSegmenter(**SHAPE)],
            "segmenter__method": ["otsu", "li", "mean"],
            "segmenter__contrast": [None, (2, 98)],
            "segmenter__sigma": [0.0, 1.0],
            **post,
        },
        {
            "segmenter": [KMeansSegmenter(random_state=0, **SHAPE)],
            "segmenter__fit_mode": ["per_slice", "global"],
            "segmenter__convex_hull": [False, True],
            "segmenter__dilation": [0, 1],
        },
        {
            "segmenter": [RegionGrowingSegmenter(sigma=1.0, **SHAPE)],
            "segmenter__tolerance": [1.5, 2.0, 2.5],
            "segmenter__edges": [False, True],
            "segmenter__convex_hull": [False, True],
            "segmenter__dilation": [0, 1],
        },
    ]


def grouped_search(n_splits: int) -> GridSearchCV:
    pipe = Pipeline([("regionselector", RegionSelector()), ("segmenter", ThresholdSegmenter())])
    return GridSearchCV(
        pipe, search_space(), cv=GroupKFold(n_splits=n_splits), scoring=iou_scorer,
        error_score="raise",
    )


def summarise(y, pred, clean, experts, spacing) -> dict[str, str]:
    dice = dice_score(y, pred, per_slice=True)
    iou = iou_score(y, pred, per_slice=True)
    # MICCAI 2009 APD against the expert's points (inf for an empty prediction: left out of the mean, not good).
    apd = average_perpendicular_distance(experts, pred, spacing=spacing, per_slice=True)
    row = {}
    for name, keep in (("all", slice(None)), ("QC", clean)):
        row[f"Dice {name}"] = f"{dice[keep].mean():.3f} ± {dice[keep].std():.3f}"
        row[f"IoU {name}"] = f"{iou[keep].mean():.3f} ± {iou[keep].std():.3f}"
        row[f"IoU>0.75 {name}"] = f"{np.mean(iou[keep] > 0.75):.0%}"
        finite = apd[keep][np.isfinite(apd[keep])]
        row[f"APD mm {name}"] = f"{finite.mean():.2f} ± {finite.std():.2f}"
        row[f"good {name}"] = f"{np.mean(apd[keep] < 5):.0%}"
    return row


def method_table(pairs, y, groups, clean, nested: bool, experts, spacing) -> list[tuple[str, dict]]:
    outer = GroupKFold(n_splits=len(np.unique(groups)))
    rows = []
    for name, estimator in method_table_estimators().items():
        pred = cross_val_predict(estimator, pairs, y, groups=groups, cv=outer)
        rows.append((name, summarise(y, pred, clean, experts, spacing)))
        print(f"  {name}: {rows[-1][1]['Dice all']} / QC {rows[-1][1]['Dice QC']}", flush=True)
    per_patient = dice_score(y, pred, per_slice=True)  # the last row: make_classical_pipeline
    print("  make_classical_pipeline() Dice per held-out patient: " + ", ".join(
        f"{g} {per_patient[groups == g].mean():.3f}" for g in np.unique(groups)))
    if nested:
        start = time.perf_counter()
        search = grouped_search(n_splits=len(np.unique(groups)) - 1)
        with sklearn.config_context(enable_metadata_routing=True):
            pred = cross_val_predict(search, pairs, y, cv=outer, params={"groups": groups})
        name = "grouped grid search (nested: inner GroupKFold per held-out patient)"
        rows.append((name, summarise(y, pred, clean, experts, spacing)))
        print(f"  {name}: {rows[-1][1]['Dice all']} ({time.perf_counter() - start:.0f} s)")
        for data, label_ in ((slice(None), "all slices"), (clean, "QC-clean slices")):
            search.fit(pairs[data], y[data], groups=groups[data])
            print(f"  best on {label_} (GroupKFold {search.cv.n_splits}): "
                  f"{search.best_score_:.3f} IoU, {search.best_params_}")
    return rows


# --------------------------------------------------------------------------- timing

TIMING_GRID = {
    "method": ["otsu", "li", "mean", "isodata"],
    "convex_hull": [False, True],
    "dilation": [0, 1],
    "border_margin": [0, 2],
}


# Built once per radius, as a careful hand-written loop would (and as
# skcardio's post-processing does): the comparison is then about the search
# machinery, not about rebuilding the same footprints.
footprint = functools.lru_cache(maxsize=None)(disk)


def bare_segment(image, region, method, convex_hull, dilation, border_margin, crop=True):
    """Threshold + shape steps with scikit-image / scipy calls, no skcardio."""
    if crop:  # the region's bounding box, 1 pixel wider: what ThresholdSegmenter does
        rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
        box = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
        out = np.zeros(region.shape, bool)
        out[box] = bare_segment(image[box], region[box], method, convex_hull, dilation,
                                border_margin, crop=False)
        return out
    mask = region & (image > getattr(filters, f"threshold_{method}")(image[region]))
    if border_margin:
        mask &= ndi.binary_erosion(region, footprint(border_margin))
    labels = label(mask, connectivity=2)
    if labels.max():
        mask = labels == np.argmax(np.bincount(labels.ravel())[1:]) + 1
    mask = ndi.binary_fill_holes(mask)
    if convex_hull and mask.any():
        mask = convex_hull_image(mask)
    if dilation:
        mask = ndi.binary_dilation(mask, footprint(dilation))
    return mask & region


def bare_grid_search(images, regions, y, groups, crop=True):
    """Mean test IoU of every configuration over the GroupKFold folds, like GridSearchCV."""
    folds = list(GroupKFold(n_splits=5).split(images, y, groups))
    scores = {}
    for values in itertools.product(*TIMING_GRID.values()):
        params = dict(zip(TIMING_GRID, values))
        fold_scores = []
        for _, test in folds:
            pred = np.stack(
                [bare_segment(images[i], regions[i], **params, crop=crop) for i in test]
            )
            # Per-slice count_nonzero, as skcardio's metrics count pixels.
            inter = np.array([np.count_nonzero(p & t) for p, t in zip(pred, y[test])])
            union = np.array([np.count_nonzero(p | t) for p, t in zip(pred, y[test])])
            fold_scores.append(np.mean(np.where(union == 0, 1.0, inter / np.maximum(union, 1))))
        scores[values] = np.mean(fold_scores)
    return scores


class MachineryOnly(BaseEstimator):
    """An estimator that does no work: what GridSearchCV itself costs.

    Takes the grid's parameters and predicts empty masks, so a search over it
    times only scikit-learn's machinery around the segmentation: splitting
    (copying) ``X`` and ``y`` for every candidate and fold, cloning, and
    scoring with ``iou_scorer``.
    """

    def __init__(self, method="otsu", convex_hull=False, dilation=0, border_margin=0):
        self.method = method
        self.convex_hull = convex_hull
        self.dilation = dilation
        self.border_margin = border_margin

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return np.zeros((len(X), *X.shape[-2:]), dtype=bool)


def sklearn_grid_search(X, y, groups, estimator=None):
    """GridSearchCV over TIMING_GRID; ``X``: pairs (pipeline with RegionSelector) or NaN images."""
    prefix = ""
    if estimator is None:
        segmenter = ThresholdSegmenter(**SHAPE)
        if X.ndim == 4:
            estimator, prefix = make_pipeline(RegionSelector(), segmenter), "thresholdsegmenter__"
        else:
            estimator = segmenter
    grid = {prefix + k: v for k, v in TIMING_GRID.items()}
    search = GridSearchCV(
        estimator, grid, cv=GroupKFold(n_splits=5), scoring=iou_scorer, error_score="raise"
    )
    search.fit(X, y, groups=groups)
    return {
        tuple(p[prefix + k] for k in TIMING_GRID): s
        for p, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])
    }


def median_time(function, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timing(pairs, y, groups, repeat: int) -> dict[str, float]:
    images = pairs[:, 0].astype(np.float64)
    regions = pairs[:, 1] > 0.5
    selected = RegionSelector().fit_transform(pairs)  # stateless: once, outside the search
    t_pipe, pipe_scores = median_time(lambda: sklearn_grid_search(pairs, y, groups), repeat)
    t_seg, seg_scores = median_time(lambda: sklearn_grid_search(selected, y, groups), repeat)
    t_null3, _ = median_time(
        lambda: sklearn_grid_search(selected, y, groups, MachineryOnly()), repeat
    )
    t_null4, _ = median_time(lambda: sklearn_grid_search(pairs, y, groups, MachineryOnly()), repeat)
    t_bare, bare_scores = median_time(lambda: bare_grid_search(images, regions, y, groups), repeat)
    t_full, _ = median_time(lambda: bare_grid_search(images, regions, y, groups, crop=False), 1)
    for scores in (pipe_scores, seg_scores):
        worst = max(abs(scores[k] - bare_scores[k]) for k in bare_scores)
        assert worst < 1e-12, f"grid search and bare loop disagree by {worst}"
    return {
        "GridSearchCV(make_pipeline(RegionSelector(), ThresholdSegmenter()))": t_pipe,
        "GridSearchCV(ThresholdSegmenter()) on RegionSelector output": t_seg,
        "GridSearchCV(MachineryOnly()) on [image, region] pairs (no work)": t_null4,
        "GridSearchCV(MachineryOnly()) on RegionSelector output (no work)": t_null3,
        "bare loop (scikit-image / scipy, region bounding box)": t_bare,
        "bare loop, whole 256x256 images": t_full,
    }


# --------------------------------------------------------------------------- main


def markdown(rows: list[tuple[str, dict]]) -> str:
    columns = list(rows[0][1])
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(row[c] for c in columns) + " |" for name, row in rows]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=DEFAULT_ROOT, type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="timing runs (median)")
    parser.add_argument("--skip-nested", action="store_true", help="skip the nested search row")
    parser.add_argument("--timing-only", action="store_true", help="skip the method table")
    parser.add_argument("--table-only", action="store_true", help="skip the timing")
    args = parser.parse_args(argv)

    data = load_dataset(args.root, require="o-contour")
    pairs = np.stack([data.images, data.regions.astype(np.float32)], axis=1)
    y, groups = data.y, data.groups
    clean = ~check_records(data.frame).flagged
    print(f"{len(y)} slices with both contours, {len(np.unique(groups))} patients, "
          f"{clean.sum()} pass QC; scikit-learn {sklearn.__version__}, "
          f"Python {platform.python_version()}")

    if not args.timing_only:
        experts = [read_contour(path) for path in data.frame.icontour_path]
        spacing = np.asarray(data.frame.pixel_spacing, dtype=np.float64)
        rows = method_table(pairs, y, groups, clean, not args.skip_nested, experts, spacing)
        print("\n" + markdown(rows) + "\n")
    if args.table_only:
        return

    times = timing(pairs, y, groups, args.repeat)
    n_configs = np.prod([len(v) for v in TIMING_GRID.values()])
    print(f"Timing: {n_configs} configurations x 5 folds x {len(y)} slices, "
          f"median of {args.repeat} runs (whole images: 1 run)")
    print("| run | time | vs bare loop |\n|---|---:|---:|")
    bare = times["bare loop (scikit-image / scipy, region bounding box)"]
    for name, seconds in times.items():
        print(f"| {name} | {seconds:.2f} s | {seconds / bare:.2f}× |")
    # What no segmenter can beat inside GridSearchCV: the search's own cost
    # (no-work rows) plus the segmentation work itself (bare loop).
    for data in ("[image, region] pairs", "RegionSelector output"):
        machinery = times[f"GridSearchCV(MachineryOnly()) on {data} (no work)"]
        print(f"Lower bound on {data} (no-work search + bare loop): "
              f"{(machinery + bare) / bare:.2f}× the bare loop")


if __name__ == "__main__":
    main()
