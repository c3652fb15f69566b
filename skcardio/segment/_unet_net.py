"""The PyTorch U-Net, its loss and its learning-rate schedule, used by :class:`UNetSegmenter`."""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "UNet", "SegmentationLoss", "WarmupCosine", "TARGETS", "MAX_DEPTH", "n_parameters", "autocast_dtype",
    "precision_context",
]

#: ``UNetSegmenter(target=...)`` values -> the masks predicted, in channel order.
TARGETS = {
    "endocardium": ("blood pool",),
    "epicardium": ("epicardium",),
    "both": ("blood pool", "epicardium"),
}

#: Deepest U-Net that ``UNetSegmenter`` trains and that a model file may
#: describe: ``2 ** (depth - 1)`` must divide the image size, and 16 levels
#: already need images of 32768 pixels a side.
MAX_DEPTH = 16


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The dtype the network's convolutions compute in for ``precision`` (None: float32, no autocast).

    Examples
    --------
    >>> from skcardio.segment._unet_net import autocast_dtype
    >>> autocast_dtype("float32") is None
    True
    >>> autocast_dtype("bfloat16")
    torch.bfloat16
    """
    return torch.bfloat16 if precision == "bfloat16" else None


def precision_context(precision: str, device: str) -> torch.autocast:
    """``torch.autocast`` for ``precision`` on ``device`` (disabled for float32).

    Around training and prediction alike: the convolutions compute in
    bfloat16 while the weights, the optimizer, the loss and the returned
    logits stay float32 (:meth:`UNet.forward` returns float32).

    Without autocast's cache of bfloat16 weight copies: the cache lives
    until the outermost autocast block ends, so around a whole ``fit`` every
    step would run on the copies of the first step's weights (the network
    never learned, only its batch norms did).
    """
    dtype = autocast_dtype(precision)
    return torch.autocast(
        device_type=device, dtype=dtype or torch.bfloat16, enabled=dtype is not None, cache_enabled=False
    )


def n_parameters(in_channels: int, base_channels: int, depth: int, out_channels: int = 1) -> int:
    """Weights (trainable parameters) of ``UNet(in_channels, base_channels, depth, out_channels)``, without building it.

    Exact, in closed form: a network of 10**8 channels is counted without
    allocating it, so that it can be refused first.

    Parameters
    ----------
    in_channels, base_channels, depth, out_channels : int
        As for :class:`UNet`.

    Returns
    -------
    int
        ``sum(p.numel() for p in UNet(...).parameters())``.

    Examples
    --------
    >>> from skcardio.segment._unet_net import n_parameters
    >>> n_parameters(1, 16, 4)  # the default network
    482449
    """

    def block(inputs: int, outputs: int) -> int:  # two 3x3 convolutions without bias, two batch norms
        return 9 * inputs * outputs + 9 * outputs * outputs + 4 * outputs

    widths = [base_channels * 2**level for level in range(depth)]
    total, channels = 0, in_channels
    for width in widths:
        total, channels = total + block(channels, width), width
    for width in reversed(widths[:-1]):  # transposed 2x2 convolution with bias, then a block
        total, channels = total + 4 * channels * width + width + block(2 * width, width), width
    return total + channels * out_channels + out_channels  # the 1x1 head, with bias


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """A 2-D U-Net (Ronneberger et al. 2015) that outputs one logit per pixel.

    Fully convolutional: trained on crops, it runs on whole images whose
    height and width are multiples of ``2 ** (depth - 1)``.

    Parameters
    ----------
    in_channels : int, default=1
        Channels of the input images.
    base_channels : int, default=16
        Feature maps at full resolution; doubled at every level below.
    depth : int, default=4
        Resolution levels (``depth - 1`` poolings). ``depth=1`` is a plain
        two-convolution network.
    out_channels : int, default=1
        Logit maps: one gives ``(n, H, W)``, more give ``(n, out_channels, H, W)``.

    Examples
    --------
    >>> import torch
    >>> from skcardio.segment._unet_net import UNet
    >>> net = UNet(base_channels=4, depth=3)
    >>> net(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 32, 32])
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 16, depth: int = 4, out_channels: int = 1):
        super().__init__()
        self.out_channels = out_channels
        widths = [base_channels * 2**level for level in range(depth)]
        self.encoders = nn.ModuleList()
        channels = in_channels
        for width in widths:
            self.encoders.append(_conv_block(channels, width))
            channels = width
        self.upsamplers = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.upsamplers.append(nn.ConvTranspose2d(channels, width, 2, stride=2))
            self.decoders.append(_conv_block(2 * width, width))
            channels = width
        self.head = nn.Conv2d(channels, out_channels, 1)
        # Channels-last convolutions are about 1.5x faster on CPU (oneDNN).
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, H, W)`` (or ``(n, out_channels, H, W)``) for input ``(n, C, H, W)``."""
        x = x.contiguous(memory_format=torch.channels_last)
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level:
                x = F.max_pool2d(x, 2)
            x = encoder(x)
            skips.append(x)
        skips.pop()  # the bottleneck output is not a skip connection
        for upsample, decoder in zip(self.upsamplers, self.decoders):
            x = decoder(torch.cat([upsample(x), skips.pop()], dim=1))
        # Float32 even under bfloat16 autocast (precision_context): the loss and the sigmoid stay precise.
        logits = self.head(x).float()
        return logits[:, 0] if self.out_channels == 1 else logits


class SegmentationLoss(nn.Module):
    """Soft Dice, binary cross-entropy, or their sum, on logits.

    The Dice term is computed per sample and averaged over the samples that
    contain foreground, so a small apical blood pool counts as much as a
    large basal one (as in the mean per-slice Dice used for evaluation), and
    the 2 % foreground is not drowned by the background as it is with
    cross-entropy alone. Crops without foreground only get the cross-entropy
    term.

    Several targets (logits and target of shape ``(n, K, H, W)``) are scored
    as ``n * K`` single-target maps; a map whose target holds a negative
    value (``-1``: label unknown, e.g. a slice without an epicardial
    contour) is left out of both terms, so partly labelled slices train
    only the outputs they have labels for.

    Parameters
    ----------
    kind : {"dice_bce", "dice", "bce"}, default="dice_bce"
    smooth : float, default=1.0
        Added to the Dice numerator and denominator.

    Examples
    --------
    >>> import torch
    >>> from skcardio.segment._unet_net import SegmentationLoss
    >>> target = torch.zeros(1, 8, 8); target[:, 2:6, 2:6] = 1
    >>> good, bad = 20 * (2 * target - 1), -20 * (2 * target - 1)
    >>> loss = SegmentationLoss()
    >>> bool(loss(good, target) < 0.01 < loss(bad, target))
    True
    >>> unknown = torch.full((1, 8, 8), -1.0)  # a second target without label
    >>> both = torch.stack([target, unknown], dim=1)
    >>> float(loss(torch.stack([good, bad], dim=1), both)) == float(loss(good, target))
    True
    """

    KINDS = ("dice_bce", "dice", "bce")

    def __init__(self, kind: str = "dice_bce", smooth: float = 1.0):
        super().__init__()
        if kind not in self.KINDS:
            raise ValueError(f"loss must be one of {self.KINDS}, got {kind!r}")
        self.kind = kind
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        target = target.to(logits.dtype)
        if logits.ndim == 3:  # one target: (n, H, W) -> (n, 1, H, W)
            logits, target = logits[:, None], target[:, None]
        # A negative value marks a sample's channel whose label is unknown
        # (e.g. no epicardial contour): it takes no part in either term.
        known = (target >= 0).flatten(2).all(dim=2)
        loss = logits.sum() * 0  # keeps the graph when no term applies
        if not known.any():
            return loss
        logits, target = logits[known], target[known]  # (m, H, W): labelled sample-channels
        if self.kind in ("dice_bce", "bce"):
            loss = loss + F.binary_cross_entropy_with_logits(logits, target)
        present = target.sum(dim=(1, 2)) > 0
        if self.kind in ("dice_bce", "dice") and present.any():
            prob = torch.sigmoid(logits[present])
            truth = target[present]
            overlap = (prob * truth).sum(dim=(1, 2))
            total = prob.sum(dim=(1, 2)) + truth.sum(dim=(1, 2))
            dice = (2 * overlap + self.smooth) / (total + self.smooth)
            loss = loss + (1 - dice).mean()
        return loss


class WarmupCosine:
    """Learning-rate factor: linear warm-up over 10 % of the steps, then cosine decay to 0.

    A picklable ``lr_lambda`` for :class:`torch.optim.lr_scheduler.LambdaLR`,
    stepped once per batch. Unlike ``OneCycleLR`` it is defined for any
    number of steps, including a single one.

    Parameters
    ----------
    total_steps : int
        Optimiser steps of the whole training.
    warmup_fraction : float, default=0.1

    Examples
    --------
    >>> from skcardio.segment._unet_net import WarmupCosine
    >>> schedule = WarmupCosine(100)
    >>> [round(schedule(step), 2) for step in (0, 9, 10, 55, 99)]
    [0.1, 1.0, 1.0, 0.5, 0.0]
    """

    def __init__(self, total_steps: int, warmup_fraction: float = 0.1):
        self.total_steps = max(int(total_steps), 1)
        self.warmup = max(round(warmup_fraction * self.total_steps), 1)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        decay = self.total_steps - self.warmup
        progress = min((step - self.warmup) / max(decay, 1), 1.0)
        return 0.5 * (1 + math.cos(math.pi * progress))
