"""Does a small U-Net learn the unit tests' synthetic discs in float32 and in bfloat16?

Usage::

    python benchmarks/bench_precision_discs.py [--epochs 20 60] [--seeds 0 1 2]

Trains ``UNetSegmenter`` with the unit tests' small configuration
(``tests/segment/_unet_discs.py``: ``TINY``, 32 discs of 64 x 64) for each
precision, seed and number of epochs, and for five variants at 20 epochs
(16 feature maps, depth 4, BCE loss alone, learning rate 1e-3, no intensity
jitter), then prints the Dice on 16 other discs and the last training loss.
Measured 2026-12-07 (benchmarks/README.md, "bfloat16"): bfloat16 training
did not learn these discs at all.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "segment"))
from _unet_discs import TINY, make_discs  # noqa: E402

from skcardio.exceptions import DegenerateModelWarning  # noqa: E402
from skcardio.metrics import dice_score  # noqa: E402
from skcardio.segment import UNetSegmenter  # noqa: E402

VARIANTS = {
    "16 feature maps": {"base_channels": 16},
    "depth 4": {"depth": 4},
    "BCE loss alone": {"loss": "bce"},
    "learning rate 1e-3": {"learning_rate": 1e-3},
    "no intensity jitter": {"intensity_jitter": False},
}


def disc_dice(precision: str, epochs: int, **params) -> tuple[float, float]:
    """Dice on held-out discs and the last training loss of one small training."""
    X, y = make_discs(32, seed=0)
    X_test, y_test = make_discs(16, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateModelWarning)  # the point is to see it fail
        model = UNetSegmenter(**{**TINY, **params}, max_epochs=epochs, validation_fraction=None,
                              precision=precision).fit(X, y)
    return dice_score(y_test, model.predict(X_test)), float(model.net_.history[-1, "train_loss"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[20, 60])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    print("precision | setting | Dice | last loss")
    for precision in ("float32", "bfloat16"):
        for seed in args.seeds:
            for epochs in args.epochs:
                dice, loss = disc_dice(precision, epochs, random_state=seed)
                print(f"{precision} | seed {seed}, {epochs} epochs | {dice:.3f} | {loss:.3f}", flush=True)
        for name, params in VARIANTS.items():
            dice, loss = disc_dice(precision, 20, **params)
            print(f"{precision} | {name}, seed 0, 20 epochs | {dice:.3f} | {loss:.3f}", flush=True)


if __name__ == "__main__":
    main()
