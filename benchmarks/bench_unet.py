"""U-Net segmenter: leave-one-patient-out accuracy, training cost, skorch overhead.

Usage::

    python benchmarks/bench_unet.py [ROOT] [--patients all|ID,ID] [--epochs N]
                                    [--overhead-epochs 4] [--repeat 2] [--threads N]
                                    [--json FILE]

ROOT defaults to ``../shared/data/final_data`` beside the repository.

1. **Accuracy.** For each held-out patient (``--patients``, default all: leave
   one patient out), the default ``UNetSegmenter(random_state=0)`` (or
   ``--epochs N``) is fitted on the slices of the other patients (i-contour
   target, whole 256 x 256 images, no region, no crop from the labels) and
   predicts the held-out patient's slices. Per patient: mean per-slice Dice,
   IoU, average perpendicular distance (APD, mm, with each slice's pixel
   spacing) and the good-contour rate (APD < 5 mm), all from
   :mod:`skcardio.metrics`; then the same over all held-out slices. Also the
   fit time (s), the time per epoch and per training slice, and inference
   throughput (slices/s, whole images, post-processing included).
   The same model also predicts simulated domain shifts of the held-out
   patient (``SHIFTS``: images and masks zoomed 0.5x / 0.6x / 0.7x / 1.3x about the centre,
   gamma 0.6 / 1.6, intensities x 10 + 500), a stand-in for the smaller or
   larger hearts and other contrasts of unseen pathology groups.
2. **skorch overhead.** The same network, data, augmentation, loss,
   optimiser and learning-rate schedule trained for ``--overhead-epochs`` epochs
   by ``UNetSegmenter`` (skorch ``NeuralNet``) and by a bare PyTorch loop, in
   the same process, alternating ``--repeat`` times; the minimum time of each
   (the least disturbed by other jobs on a shared machine).

The load average is printed with every timing: on a shared machine, timings
are only comparable within one run. Prints Markdown tables for
``benchmarks/README.md``; ``--json`` also writes every per-slice value.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

# Before PyTorch is imported: OpenMP threads sleep instead of spinning while
# they wait (see skcardio/segment/_unet_env.py); keeps an explicit setting.
import skcardio.segment._unet_env  # noqa: F401, I001
import torch

from skcardio.datasets import load_dataset
from skcardio.metrics import average_perpendicular_distance, dice_score, good_contour_rate, iou_score
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_data import AugmentedSlices, robust_scale
from skcardio.segment._unet_net import SegmentationLoss, UNet, WarmupCosine

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "final_data"


def _zoom_about_centre(images: np.ndarray, zoom: float, order: int) -> np.ndarray:
    """Magnify (zoom > 1) or shrink every slice about the image centre, same size."""
    centre = (np.array(images.shape[1:]) - 1) / 2
    matrix = np.eye(2) / zoom
    return np.array(
        [
            ndimage.affine_transform(im.astype(np.float32), matrix, centre - matrix @ centre, order=order)
            for im in images
        ]
    )


def _gamma(images: np.ndarray, gamma: float) -> np.ndarray:
    top = images.max(axis=(1, 2), keepdims=True)
    return (np.clip(images, 0, None) / np.where(top > 0, top, 1)) ** gamma


#: Simulated domain shifts of the held-out patient: smaller / larger hearts
#: (normal or hypertrophic vs dilated), duller / stronger contrast, another
#: intensity scale. (images, masks) -> (images, masks).
SHIFTS = {
    "zoom 0.5": lambda x, y: (_zoom_about_centre(x, 0.5, 1), _zoom_about_centre(y, 0.5, 1) > 0.5),
    "zoom 0.6": lambda x, y: (_zoom_about_centre(x, 0.6, 1), _zoom_about_centre(y, 0.6, 1) > 0.5),
    "zoom 0.7": lambda x, y: (_zoom_about_centre(x, 0.7, 1), _zoom_about_centre(y, 0.7, 1) > 0.5),
    "zoom 1.3": lambda x, y: (_zoom_about_centre(x, 1.3, 1), _zoom_about_centre(y, 1.3, 1) > 0.5),
    "gamma 0.6": lambda x, y: (_gamma(x, 0.6), y),
    "gamma 1.6": lambda x, y: (_gamma(x, 1.6), y),
    "x 10 + 500": lambda x, y: (10 * x + 500, y),
}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def evaluate_patient(data, patient: str, params: dict) -> dict:
    """Fit on every other patient, predict this one, score per slice."""
    test = data.groups == patient
    model = UNetSegmenter(**params, random_state=0)
    load_before = load_average()
    start = time.perf_counter()
    model.fit(data.images[~test], data.y[~test], groups=data.groups[~test])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(data.images[test])
    predict_s = time.perf_counter() - start
    truth, spacing = data.y[test], data.frame.pixel_spacing[test]
    apd = average_perpendicular_distance(truth, pred, spacing=spacing, per_slice=True)
    epochs = len(model.net_.history)
    shifted = {}
    for name, shift in SHIFTS.items():
        images_shifted, truth_shifted = shift(data.images[test], truth)
        shifted[name] = dice_score(truth_shifted, model.predict(images_shifted))
    return {
        "shifted_dice": shifted,
        "patient": patient,
        "n_train": int((~test).sum()),
        "n_test": int(test.sum()),
        "dice": dice_score(truth, pred, per_slice=True).tolist(),
        "iou": iou_score(truth, pred, per_slice=True).tolist(),
        "apd_mm": apd.tolist(),
        "good_contour": good_contour_rate(truth, pred, spacing=spacing),
        "fit_s": fit_s,
        "epochs": epochs,
        "s_per_epoch": fit_s / epochs,
        "ms_per_slice": 1000 * fit_s / (epochs * int((~test).sum())),
        "predict_slices_per_s": int(test.sum()) / predict_s,
        "load_before": load_before,
        "load_after": load_average(),
    }


def bare_loop(images, masks, params: dict, epochs: int, seed: int = 0) -> float:
    """Train the estimator's network with plain PyTorch; seconds for ``epochs`` epochs."""
    defaults = UNetSegmenter(**params).get_params()
    start = time.perf_counter()
    data = AugmentedSlices(
        robust_scale(images[:, None]),
        masks,
        crop_size=defaults["crop_size"],
        zoom_range=defaults["zoom_range"],
        rotation=defaults["rotation"],
        flip=defaults["flip"],
        intensity_jitter=defaults["intensity_jitter"],
        seed=seed,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = UNet(1, defaults["base_channels"], defaults["depth"])
        criterion = SegmentationLoss(defaults["loss"])
        optimizer = torch.optim.AdamW(
            net.parameters(), lr=defaults["learning_rate"], weight_decay=defaults["weight_decay"]
        )
        loader = torch.utils.data.DataLoader(data, batch_size=defaults["batch_size"], shuffle=True)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupCosine(epochs * len(loader)))
        net.train()
        for _ in range(epochs):
            for x, y in loader:
                optimizer.zero_grad()
                loss = criterion(net(x), y)
                loss.backward()
                optimizer.step()
                schedule.step()
    return time.perf_counter() - start


def skorch_fit(images, masks, params: dict, epochs: int) -> float:
    start = time.perf_counter()
    UNetSegmenter(**{**params, "max_epochs": epochs}, random_state=0).fit(images, masks)
    return time.perf_counter() - start


def overhead(data, params: dict, epochs: int, repeat: int) -> dict:
    images, masks = data.images, data.y
    bare, skorch = [], []
    bare_loop(images[:16], masks[:16], params, 1)  # warm-up: oneDNN builds its kernels once
    loads = [load_average()]
    for _ in range(repeat):
        bare.append(bare_loop(images, masks, params, epochs))
        skorch.append(skorch_fit(images, masks, params, epochs))
        loads.append(load_average())
    n = len(images)
    return {
        "epochs": epochs,
        "n_slices": n,
        "bare_s": bare,
        "skorch_s": skorch,
        "bare_s_per_epoch": min(bare) / epochs,
        "skorch_s_per_epoch": min(skorch) / epochs,
        "bare_ms_per_slice": 1000 * min(bare) / (epochs * n),
        "skorch_ms_per_slice": 1000 * min(skorch) / (epochs * n),
        "ratio": min(skorch) / min(bare),
        "loads": loads,
    }


def summarise(rows: list[dict]) -> str:
    lines = [
        "| held-out patient | slices | Dice | IoU | APD (mm) | good contours | fit (s) | epochs | s/epoch "
        "| ms/slice | predict (slices/s) | load before/after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        apd = np.asarray(r["apd_mm"])
        lines.append(
            f"| {r['patient']} | {r['n_test']} | {np.mean(r['dice']):.3f} | {np.mean(r['iou']):.3f} "
            f"| {_mean_finite(apd)} | {100 * r['good_contour']:.0f} % | {r['fit_s']:.0f} | {r['epochs']} "
            f"| {r['s_per_epoch']:.2f} | {r['ms_per_slice']:.1f} | {r['predict_slices_per_s']:.1f} "
            f"| {r['load_before']}/{r['load_after']} |"
        )
    dice = np.concatenate([r["dice"] for r in rows])
    iou = np.concatenate([r["iou"] for r in rows])
    apd = np.concatenate([r["apd_mm"] for r in rows])
    good = np.mean(apd < 5.0)
    per_patient = np.mean([np.mean(r["dice"]) for r in rows])
    lines.append(
        f"| **all {len(dice)} slices** | {len(dice)} | **{dice.mean():.3f}** | {iou.mean():.3f} "
        f"| {_mean_finite(apd)} | {100 * good:.0f} % | {np.mean([r['fit_s'] for r in rows]):.0f} (mean) "
        f"| | | | | |"
    )
    lines.append("")
    lines.append(f"Mean of the per-patient Dice: {per_patient:.3f}; median slice Dice {np.median(dice):.3f}; "
                 f"slices with Dice < 0.5: {int((dice < 0.5).sum())}.")
    return "\n".join(lines)


def summarise_shifts(rows: list[dict]) -> str:
    names = list(rows[0]["shifted_dice"])
    lines = [
        "| held-out patient | none | " + " | ".join(names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for r in rows:
        values = " | ".join(f"{r['shifted_dice'][n]:.3f}" for n in names)
        lines.append(f"| {r['patient']} | {np.mean(r['dice']):.3f} | {values} |")
    means = " | ".join(f"{np.mean([r['shifted_dice'][n] for r in rows]):.3f}" for n in names)
    lines.append(f"| **mean of patients** | {np.mean([np.mean(r['dice']) for r in rows]):.3f} | {means} |")
    return "\n".join(lines)


def _mean_finite(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    text = f"{finite.mean():.2f}" if finite.size else "—"
    missing = len(values) - finite.size
    return text + (f" ({missing} empty)" if missing else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", default=str(DEFAULT_ROOT))
    parser.add_argument("--patients", default="all", help="'all' or comma-separated patient ids to hold out")
    parser.add_argument("--epochs", type=int, help="max_epochs (default: the estimator's default)")
    parser.add_argument("--overhead-epochs", type=int, default=4, help="epochs of the overhead comparison (0: skip)")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions of the overhead comparison")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's choice)")
    parser.add_argument("--json", help="write all results, per slice, to this file")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    params = {} if args.epochs is None else {"max_epochs": args.epochs}
    data = load_dataset(args.root)
    patients = sorted(set(data.groups)) if args.patients == "all" else args.patients.split(",")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), CUDA available: {torch.cuda.is_available()}; "
        f"{len(data.y)} slices of {len(set(data.groups))} patients; params {params or 'defaults'}; "
        f"load {load_average()}",
        flush=True,
    )
    results: dict = {"params": params, "threads": torch.get_num_threads()}
    if args.overhead_epochs:
        results["overhead"] = cost = overhead(data, params, args.overhead_epochs, args.repeat)
        print(
            "\n| trainer | s/epoch | ms/slice |\n|---|---:|---:|\n"
            f"| bare PyTorch loop | {cost['bare_s_per_epoch']:.2f} | {cost['bare_ms_per_slice']:.1f} |\n"
            f"| UNetSegmenter (skorch) | {cost['skorch_s_per_epoch']:.2f} | {cost['skorch_ms_per_slice']:.1f} |\n"
            f"\nskorch / bare: {cost['ratio']:.2f}x ({cost['epochs']} epochs on {cost['n_slices']} slices, "
            f"best of {args.repeat}; load {cost['loads']})",
            flush=True,
        )
    rows = []
    for patient in patients:
        rows.append(evaluate_patient(data, patient, params))
        r = rows[-1]
        print(
            f"{patient}: Dice {np.mean(r['dice']):.3f}, fit {r['fit_s']:.0f} s, load {r['load_before']}->{r['load_after']}",
            flush=True,
        )
        if args.json:
            Path(args.json).write_text(json.dumps({**results, "patients": rows}, indent=1))
    print()
    print(summarise(rows))
    print()
    print(summarise_shifts(rows))


if __name__ == "__main__":
    main()
