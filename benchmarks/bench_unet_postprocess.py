"""U-Net post-processing, ablated on the out-of-fold probabilities of saved grouped-CV fold models.

Usage::

    python benchmarks/bench_unet_postprocess.py [DATA] --models DIR [--cache FILE.npz] [--threads 2]

``DIR`` holds ``fold_<k>.pt`` and ``folds.json`` as written by
``benchmarks/bench_unet.py`` (held-out patients per fold). Every slice of the
17 shared patients is predicted once by the fold model that never saw its
patient, for each combination of ``tta`` and ``refine`` (the refine pass is
planned with the package's current ranking); the probabilities are kept in
``--cache`` (about 300 MB for the 4 combinations; reused when present). No
training. Then, on those probabilities, Dice against the expert mask (per
pathology group, per fold) of:

* no post-processing (``proba > 0.5``);
* the ranking before circularity (mass x mean probability x centre prior);
* the package's ranking (``keep_main_component``: x circularity);

with the slices each change improves or worsens, the confidence AUROC of
:func:`skcardio.qc.prediction_confidence` (the confidence of
``assess_predictions``) for slices of Dice < 0.8, the
exponent of circularity chosen on two folds and scored on the third (all
three rotations), both rankings at thresholds 0.2-0.9, and an oracle that
knows the expert mask (best single component at the best of eight thresholds),
the most any such post-processing could reach. Prints Markdown for
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from skcardio.metrics import dice_score
from skcardio.qc import prediction_confidence
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_postprocess import _circularity, _fill_holes, component_scores

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_pretrained import (  # noqa: E402
    DEFAULT_DATA,
    fold_model_path,
    folds_path,
    load_folds,
    load_training_data,
)

OPTIONS = [(tta, refine) for tta in (False, True) for refine in (False, True)]
EXPONENTS = (0, 0.5, 1, 2, 3, 4)
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BAD_DICE = 0.8


def out_of_fold(data: dict, models: Path, cache: Path | None) -> dict:
    """Probabilities of every slice by the fold model that did not see its patient, per (tta, refine)."""
    if cache is not None and cache.exists():
        stored = np.load(cache)
        return {option: stored[f"tta{int(option[0])}_refine{int(option[1])}"] for option in OPTIONS} | {
            "fold": stored["fold"]}
    saved = load_folds(models)
    n = len(data["images"])
    proba = {option: np.zeros(data["images"].shape, np.float32) for option in OPTIONS}
    fold_of = np.full(n, -1)
    for fold in saved["folds"]:
        test = np.flatnonzero(np.isin(data["groups"], fold["held_out"]))
        fold_of[test] = fold["fold"]
        model = UNetSegmenter.load(fold_model_path(models, fold))
        for option in OPTIONS:
            start = time.perf_counter()
            proba[option][test] = model.set_params(tta=option[0], refine=option[1]).predict_proba(
                data["images"][test])
            print(f"fold {fold['fold']} tta={option[0]} refine={option[1]}: {len(test)} slices, "
                  f"{time.perf_counter() - start:.0f} s; load {os.getloadavg()[0]:.1f}", flush=True)
    if (fold_of < 0).any():
        raise ValueError(f"{folds_path(models)}: {int((fold_of < 0).sum())} slices are in no fold's held_out")
    if cache is not None:
        np.savez(cache, fold=fold_of, **{f"tta{int(t)}_refine{int(r)}": p for (t, r), p in proba.items()})
    return proba | {"fold": fold_of}


def keep(mask: np.ndarray, proba: np.ndarray, exponent: float = 1.0) -> np.ndarray:
    """``keep_main_component`` with circularity raised to ``exponent`` (0: the ranking before circularity)."""
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    shape = _circularity(labels, count)
    score = component_scores(labels, proba) / shape * shape**exponent
    return _fill_holes(labels == 1 + int(np.argmax(score)))


def masks_of(proba: np.ndarray, rule, threshold: float = 0.5) -> np.ndarray:
    return proba > threshold if rule is None else np.array([rule(p > threshold, p) for p in proba])


def row(name: str, dice: np.ndarray, pathology: np.ndarray, extra: str = "") -> str:
    groups = " | ".join(f"{dice[pathology == g].mean():.3f}" for g in sorted(set(pathology)))
    return (f"| {name} | {dice.mean():.3f} | {groups} | {int((dice < BAD_DICE).sum())} "
            f"| {int((dice == 0).sum())} | {extra} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--models", required=True, help="folder with fold_<k>.pt and folds.json")
    parser.add_argument("--cache", type=Path, help="keep (or reuse) the out-of-fold probabilities here")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch  # after skcardio.segment, which sets PyTorch's OpenMP environment first

    torch.set_num_threads(args.threads)
    data = load_training_data(Path(args.data).resolve())
    y, pathology = data["y"], data["pathology"]
    proba = out_of_fold(data, Path(args.models), args.cache)
    fold = proba.pop("fold")

    def dice(masks):
        return dice_score(y, masks, per_slice=True)

    print("\n| probabilities | post-processing | Dice | " + " | ".join(sorted(set(pathology)))
          + " | slices < 0.8 | slices at Dice 0 | confidence AUROC (Dice < 0.8) |")
    print("|---|---|---:|" + "---:|" * (len(set(pathology)) + 3))
    for option in OPTIONS:
        name = {(False, False): "one pass (default)", (False, True): "refine", (True, False): "4-flip TTA",
                (True, True): "TTA + refine"}[option]
        scores = {}
        for label, rule in (("none", None), ("mass x mean x centre (before)", lambda m, p: keep(m, p, 0)),
                            ("x circularity (now)", keep)):
            masks = masks_of(proba[option], rule)
            scores[label] = d = dice(masks)
            auroc = "" if rule is None else f"{roc_auc_score(d < BAD_DICE, -prediction_confidence(masks, proba[option])):.3f}"
            print(row(f"{name} | {label}", d, pathology, auroc))
        change = scores["x circularity (now)"] - scores["mass x mean x centre (before)"]
        print(f"|  | slices better / worse with circularity: {int((change > 1e-9).sum())} / "
              f"{int((change < -1e-9).sum())} |" + " |" * (len(set(pathology)) + 4))

    default = proba[(False, False)]
    by_exponent = {e: dice(masks_of(default, lambda m, p, e=e: keep(m, p, e))) for e in EXPONENTS}
    print("\nCircularity exponent (one pass, threshold 0.5): " + ", ".join(
        f"{e}: {d.mean():.4f}" for e, d in by_exponent.items()))
    nested = np.zeros(len(y))
    for k in sorted(set(fold)):
        train, test = fold != k, fold == k
        # Ties go to the exponent nearest 1 (the parameter-free choice).
        best = max(EXPONENTS, key=lambda e: (round(by_exponent[e][train].mean(), 6), -abs(e - 1)))
        nested[test] = by_exponent[best][test]
        print(f"fold {k}: exponent {best} chosen on the other folds; Dice {by_exponent[best][test].mean():.4f} "
              f"(without circularity {by_exponent[0][test].mean():.4f}, exponent 1 {by_exponent[1][test].mean():.4f})")
    print(f"nested (exponent chosen on two folds, scored on the third): {nested.mean():.4f}")

    print("\n| threshold | " + " | ".join(str(t) for t in THRESHOLDS) + " |\n|---|" + "---:|" * len(THRESHOLDS))
    for exponent, label in ((0, "before"), (1, "now")):
        print(f"| {label} | " + " | ".join(
            f"{dice(masks_of(default, lambda m, p, e=exponent: keep(m, p, e), t)).mean():.3f}" for t in THRESHOLDS) + " |")

    oracle = np.zeros(len(y))
    for i, p in enumerate(default):
        for t in THRESHOLDS:
            labels, count = ndimage.label(p > t)
            for k in range(1, count + 1):
                oracle[i] = max(oracle[i], dice_score(y[i], ndimage.binary_fill_holes(labels == k)))
    print("\nOracle (knows the expert mask: best single component at the best of the thresholds):\n")
    print(row("oracle | -", oracle, pathology))


if __name__ == "__main__":
    main()
