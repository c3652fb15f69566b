"""``bench_unet.py`` with group normalisation in place of batch normalisation.

Usage::

    python benchmarks/bench_unet_groupnorm.py [bench_unet.py's arguments]

Every ``BatchNorm2d`` of the U-Net (two per convolution block) becomes
``GroupNorm(gcd(8, channels), channels)`` (``min(8, channels)`` for every width measured): statistics per image and group of
channels instead of per batch, so a slice is normalised the same way in
training and prediction, whatever the other crops of its batch (the argument
made for instance and group normalisation in MONAI's and nnU-Net's defaults).
The weights keep their number (a scale and a shift per channel); the rest of
the recipe and of ``bench_unet.py`` is unchanged. A model trained here holds
group-norm weights, so it loads only through this script (``--score-only``),
not with ``UNetSegmenter.load``. Measured 2026-12-07 (benchmarks/README.md,
"Group normalisation instead of batch normalisation"): worse, not adopted.
"""

from __future__ import annotations

import math
import runpy
import sys
from pathlib import Path

from torch import nn

from skcardio.segment import _unet_net

#: Largest number of channel groups per normalisation (16 channels: 8 groups of 2).
GROUPS = 8


def _groups(channels: int) -> int:
    # GroupNorm needs the channels to divide evenly (base_channels=12: 4 groups of 3).
    return math.gcd(GROUPS, channels)


def group_norm_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """``_unet_net._conv_block`` with ``GroupNorm`` where it has ``BatchNorm2d``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.GroupNorm(_groups(out_channels), out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.GroupNorm(_groups(out_channels), out_channels),
        nn.ReLU(inplace=True),
    )


def use_group_norm() -> None:
    """Make every ``UNet`` built from now on in this process use :func:`group_norm_block`."""
    _unet_net._conv_block = group_norm_block


def main(argv: list[str] | None = None) -> None:
    use_group_norm()
    sys.argv = [str(Path(__file__).with_name("bench_unet.py")), *(sys.argv[1:] if argv is None else argv)]
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
