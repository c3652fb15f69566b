"""Fast inference of the trained U-Net: batch norm folded into the convolutions, no autograd, no skorch.

In evaluation mode a batch norm is a fixed per-channel affine map, so it can
be folded into the weights and bias of the convolution before it
(``torch.nn.utils.fusion.fuse_conv_bn_eval``): the network computes the same
function with one elementwise pass fewer per convolution. The folded copy
is built for prediction only and kept beside the trained module, not on the
estimator (never saved or pickled); it is reused only while the trained
module's weights and statistics are equal to those it was folded from
(compared value by value, about 1 ms, against 10-15 ms to fold again), so it
cannot go stale. The trained module itself (what
:meth:`UNetSegmenter.save` writes) is not changed. Probabilities agree with
the unfolded network's to float rounding (at most 7e-6 on the 240 slices of
``benchmarks/bench_unet.py``; ``tests/segment/test_unet_inference.py``).

Calling the module directly, rather than skorch's ``forward``, also skips
skorch's ``DataLoader``, which draws a seed from PyTorch's global random
generator on every call: prediction touches no global random state.
"""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import copy
import threading
import weakref

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["fold_batch_norm", "folded", "network_proba", "batch_length", "BATCH_PIXELS"]

#: Pixels per inference batch: 2 images of 256 x 256 (smaller images go more
#: per batch). Measured on 2 cores (docs/unet.md): 120 images took 4.1-5.1 s
#: of CPU in batches of 1 or 2, 4.6-5.0 s in 4 and 5.6-5.9 s in 8 (skorch's
#: batch size); small batches keep every tensor below glibc's 32 MB mmap
#: threshold (``_unet_env``) and in cache.
BATCH_PIXELS = 2 * 256 * 256


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """An evaluation-mode copy of ``module`` with every conv + batch norm pair folded into one conv.

    Folds a ``Conv2d`` directly followed by a ``BatchNorm2d`` (with running
    statistics) inside an ``nn.Sequential``, replacing the batch norm by
    ``nn.Identity``; everything else is copied as it is. ``module`` is left
    unchanged.

    Parameters
    ----------
    module : torch.nn.Module

    Returns
    -------
    torch.nn.Module
        In evaluation mode, without gradients, channels-last like the U-Net.

    Examples
    --------
    >>> import torch
    >>> from skcardio.segment._unet_net import UNet
    >>> from skcardio.segment._unet_inference import fold_batch_norm
    >>> net = UNet(base_channels=4, depth=2).eval()
    >>> folded = fold_batch_norm(net)
    >>> sum(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    0
    >>> x = torch.rand(1, 1, 16, 16)
    >>> bool(torch.allclose(net(x), folded(x), atol=1e-5))
    True
    """
    folded = copy.deepcopy(module).eval()
    for sequence in folded.modules():
        if not isinstance(sequence, nn.Sequential):
            continue
        for index in range(len(sequence) - 1):
            conv, norm = sequence[index], sequence[index + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d) and norm.track_running_stats:
                sequence[index] = fuse_conv_bn_eval(conv, norm)
                sequence[index + 1] = nn.Identity()
    folded.requires_grad_(False)
    return folded.to(memory_format=torch.channels_last)


def network_proba(module: nn.Module, images: np.ndarray) -> np.ndarray:
    """Sigmoid of ``module``'s logits for ``images`` (n, C, H, W), as float32 on the CPU.

    The batch norms are folded (:func:`folded`) and the images go
    through in batches of about :data:`BATCH_PIXELS` pixels, under
    ``torch.inference_mode``, on the device of ``module``'s weights.
    """
    net = folded(module)
    device = next(module.parameters()).device
    per_batch = batch_length(*images.shape[-2:])
    parts = []
    with torch.inference_mode():
        for start in range(0, len(images), per_batch):
            batch = torch.from_numpy(np.ascontiguousarray(images[start : start + per_batch])).to(device)
            parts.append(torch.sigmoid(net(batch)).cpu().numpy())
    return np.concatenate(parts)


def batch_length(height: int, width: int) -> int:
    """Images of ``height`` x ``width`` per batch of :func:`network_proba` (about :data:`BATCH_PIXELS` pixels).

    A caller that feeds :func:`network_proba` one batch of this length at a
    time gets the batches it would have made of the whole.

    Parameters
    ----------
    height, width : int
        Size of the (padded) images the network takes.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from skcardio.segment._unet_inference import batch_length
    >>> batch_length(256, 256), batch_length(128, 128), batch_length(1024, 1024)
    (2, 8, 1)
    """
    return max(1, BATCH_PIXELS // (height * width))


#: Trained module -> (its tensors when folded, the folded copy); an entry goes with its module.
_FOLDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FOLDED_LOCK = threading.Lock()


def folded(module: nn.Module) -> nn.Module:
    """:func:`fold_batch_norm` of ``module``, reused while ``module``'s tensors keep their values.

    Every parameter and buffer is compared with a copy taken when it was
    folded, so any change (training, ``load_state_dict``, an in-place edit
    even through ``.data``) folds again.
    """
    tensors = [t.detach() for t in (*module.parameters(), *module.buffers())]
    with _FOLDED_LOCK:
        entry = _FOLDED.get(module)
    if entry is not None:
        seen, cached = entry
        if len(seen) == len(tensors) and all(
            a.shape == b.shape and a.device == b.device and torch.equal(a, b) for a, b in zip(seen, tensors)
        ):
            return cached
    cached = fold_batch_norm(module)
    with _FOLDED_LOCK:
        _FOLDED[module] = ([t.clone() for t in tensors], cached)
    return cached
