"""What :class:`UNetSegmenter` runs without skorch: PyTorch's RNG, checks of a trained net, skorch on demand.

skorch (1.4) cannot be imported under ``python -OO``: ``skorch/__init__.py``
imports ``skorch.classifier``, whose ``NeuralNetClassifier`` builds its
docstring from ``NeuralNet.__doc__`` at class creation, and ``-OO`` makes
that ``None`` (``AttributeError: 'NoneType' object has no attribute
'split'``). So skorch is imported only where a skorch net is built
(:func:`build_net`: ``fit`` and ``load``); importing skcardio never needs
it, and under ``-OO`` a loaded model predicts through :class:`InferenceNet`,
which runs the same network on the same batches without skorch. Training
under ``-OO`` fails with an ImportError that says so.
"""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import contextlib
import functools
import importlib
import sys
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..exceptions import SkcardioError
from ._unet_data import pad_to_multiple
from ._unet_inference import network_proba

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = [
    "Dataset",
    "InferenceNet",
    "build_net",
    "build_loaded_net",
    "degenerate_message",
    "degenerate_predictions",
    "loaded_device",
    "resolve_device",
]

#: Training slices predicted by :func:`degenerate_predictions` (evenly spaced).
_DEGENERATE_SAMPLE = 32
#: Fraction of slices found empty (or of the image covered) that makes a model degenerate.
_DEGENERATE_FRACTION = 0.5


def resolve_device(device: str) -> str:
    """The device a ``device`` parameter puts the network on, for ``fit`` and for an explicit request.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` is ``"cuda"`` when CUDA is available, else ``"cpu"``.

    Returns
    -------
    str
        ``"cpu"`` or ``"cuda"``.

    Raises
    ------
    ValueError
        For ``"cuda"`` where CUDA is not available.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available")
    return device


def loaded_device(device: str) -> str:
    """Where a model file saved with ``device`` is loaded: as :func:`resolve_device`, but ``"cuda"``
    without CUDA gives ``"cpu"`` (the caller warns), so that any model file loads on a CPU-only machine."""
    if device == "cuda" and not torch.cuda.is_available():
        return "cpu"
    return resolve_device(device)


def degenerate_message(problem: str, max_epochs: int, setting: str = "max_epochs") -> str:
    """The text of a :class:`~skcardio.exceptions.DegenerateModelWarning`.

    ``max_epochs`` is the fit's, which the advice says to raise; ``setting``
    names it as the caller knows it: ``"max_epochs"`` for the Python API,
    ``"--epochs"`` on the command line. The advice asks for more epochs than
    that (``train longer (--epochs 2)`` read as "use 2"): more than the fit
    allowed, not than it ran, which early stopping may have cut short.
    """
    return (
        f"the trained model {problem} on its own training images: it is useless as it is; "
        f"train longer ({setting} above {max_epochs}) or on more data, or check the masks"
    )


def import_skorch(module: str = "skcardio.segment._unet_skorch"):
    """Import ``module``, which needs skorch; under ``python -OO`` an ImportError says why it fails."""
    try:
        return importlib.import_module(module)
    except AttributeError as exc:
        if sys.flags.optimize < 2:
            raise
        raise ImportError(
            "training or building a UNetSegmenter needs skorch, which cannot be imported under "
            "python -OO (skorch builds docstrings at import, and -OO removes them: "
            f"{type(exc).__name__}: {exc}); run Python without -OO (-O is fine) to train. "
            "Loading a saved or the pretrained model and predicting work under -OO."
        ) from exc


@functools.cache
def skorch_available() -> bool:
    """Whether skorch can be imported (not under ``python -OO``); asked once per process."""
    try:
        import_skorch()
    except ImportError:
        if sys.flags.optimize < 2:
            raise
        return False
    return True


def build_net(*args, **kwargs):
    """:func:`skcardio.segment._unet_skorch.build_net`, importing skorch on first use."""
    return import_skorch().build_net(*args, **kwargs)


def Dataset(X, y):  # noqa: N802  (stands for the class it returns an instance of)
    """``skorch.dataset.Dataset(X, y)``, importing skorch on first use."""
    return import_skorch("skorch.dataset").Dataset(X, y)


class _History(list):
    """Epoch records of a net loaded without skorch (the subset of ``skorch.History`` used here)."""

    def to_list(self) -> list:
        return list(self)


class InferenceNet:
    """A loaded U-Net that predicts without skorch (``python -OO``), in place of a skorch net.

    Offers what prediction and :meth:`UNetSegmenter.save` use of a skorch
    ``NeuralNet``: ``module_`` (prediction calls it directly, through
    :func:`skcardio.segment._unet_inference.network_proba`, whichever net
    holds it) and ``history``.
    """

    def __init__(self, module: torch.nn.Module, *, device: str):
        self.module_ = module.to(device)
        self.history = _History()

    def initialize(self) -> InferenceNet:
        return self


def build_loaded_net(model: UNetSegmenter, *, n_channels: int, device: str):
    """The net a model file is loaded into: skorch's, or an :class:`InferenceNet` under ``-OO``."""
    if skorch_available():
        return build_net(model, 1, None, None, n_channels=n_channels, device=device, loaded=True).initialize()
    from ._unet_net import TARGETS, UNet

    module = UNet(
        in_channels=n_channels,
        base_channels=model.base_channels,
        depth=model.depth,
        out_channels=len(TARGETS[model.target]),
    )
    return InferenceNet(module, device=device)


class _FitInterrupted(BaseException):
    """Carries a KeyboardInterrupt past skorch's ``partial_fit``, which swallows it."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__(interrupt)
        self.interrupt = interrupt


#: Serialises the sections that fork and restore PyTorch's global RNG (see
#: :func:`_forked_rng`); re-entrant, so a seeded section may enter another.
_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def _forked_rng(seed: int, device: str):
    """Seed PyTorch inside a fork of its RNG; the global state is restored after.

    Holds :data:`_RNG_LOCK` throughout: PyTorch has one random generator per
    process, so two fits in threads (joblib's threading backend) would draw
    from and restore it over each other, and a fixed ``random_state`` would
    no longer give identical models.
    """
    devices = [torch.cuda.current_device()] if device == "cuda" else []
    with _RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _check_converged(net, best_epoch: int) -> None:
    """Raise SkcardioError if the kept epoch's weights or loss are not finite (training diverged)."""
    row = net.history[best_epoch - 1]
    name = "valid_loss" if "valid_loss" in row else "train_loss"
    # Buffers (batch-norm statistics) count too. The loss alone is not enough:
    # at learning_rate=1e6 the training loss stayed finite (1e18) while the
    # weights were not, and the model marked every pixel as blood pool.
    finite = all(v.isfinite().all() for v in net.module_.state_dict().values() if v.is_floating_point())
    if finite and np.isfinite(row[name]):
        return
    problem = f"{name} = {row[name]}" if finite else "non-finite weights"
    raise SkcardioError(
        f"training diverged: epoch {best_epoch}, whose weights would be kept, ended with {problem}; "
        f"try a lower learning_rate (got {net.lr!r})"
    )


def _best_epoch(net) -> int:
    """Epoch whose weights ``net`` holds: the best validated one, else the last."""
    history = net.history
    if "valid_loss_best" in history[0]:
        best = [row["epoch"] for row in history if row.get("valid_loss_best")]
        return int(best[-1])
    return int(history[-1]["epoch"])


def degenerate_predictions(
    module: torch.nn.Module, images: np.ndarray, masks: np.ndarray, multiple: int, *, threshold: float
) -> str | None:
    """What is useless about a trained network's masks on its own training images, or None.

    One plain pass (no TTA, refinement or post-processing) over up to
    ``_DEGENERATE_SAMPLE`` evenly spaced slices, through the path every
    prediction takes (:func:`~skcardio.segment._unet_inference.network_proba`,
    masks where the probability exceeds ``threshold``): "finds no blood pool
    in k of the n slices that have one" when more than half are empty,
    "marks x % of every image" when the masks cover more than half of the
    images (a blood pool covers a few per cent).
    """
    pick = np.unique(np.linspace(0, len(images) - 1, min(len(images), _DEGENERATE_SAMPLE)).round().astype(int))
    padded, (height, width) = pad_to_multiple(images[pick], multiple)
    found, truth = network_proba(module, padded)[..., :height, :width] > threshold, masks[pick]
    if found.ndim == 4:  # several targets: every labelled (slice, target) map on its own
        known = (truth >= 0).all(axis=(2, 3))
        found, truth = found[known], truth[known] > 0
    has_pool = truth.any(axis=(1, 2))
    empty = int((has_pool & ~found.any(axis=(1, 2))).sum())
    if has_pool.any() and empty > _DEGENERATE_FRACTION * has_pool.sum():
        return f"finds no blood pool in {empty} of the {int(has_pool.sum())} slices that have one"
    if found.mean() > _DEGENERATE_FRACTION:
        return f"marks {100 * found.mean():.0f} % of every image as blood pool"
    return None
