"""skorch glue of :class:`UNetSegmenter`: the net, its callbacks, Ctrl-C and PyTorch's global RNG."""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import contextlib
import threading
from typing import TYPE_CHECKING

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring, LRScheduler, PrintLog, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import Ansi

from ..exceptions import SkcardioError
from ..metrics import dice_score
from ._unet_data import pad_to_multiple
from ._unet_net import SegmentationLoss, UNet, WarmupCosine

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["build_net", "degenerate_predictions"]

#: Training slices predicted by :func:`degenerate_predictions` (evenly spaced).
_DEGENERATE_SAMPLE = 32
#: Fraction of slices found empty (or of the image covered) that makes a model degenerate.
_DEGENERATE_FRACTION = 0.5


def build_net(model: UNetSegmenter, n_train: int, valid_data, workdir, *, n_channels: int, device: str) -> NeuralNet:
    """The skorch net of ``model``'s parameters, with its callbacks (not initialised).

    ``valid_data`` (a skorch ``Dataset``, or None to train without validation)
    adds Dice scoring, the best-epoch checkpoint in ``workdir`` and early stopping.
    """
    steps_per_epoch = -(-n_train // model.batch_size)
    callbacks = [
        (
            "lr_schedule",
            LRScheduler(
                policy=torch.optim.lr_scheduler.LambdaLR,
                lr_lambda=WarmupCosine(model.max_epochs * steps_per_epoch),
                step_every="batch",
            ),
        )
    ]
    if valid_data is not None:
        callbacks.append(
            ("valid_dice", EpochScoring(_dice_scoring, lower_is_better=False, name="valid_dice"))
        )
        callbacks.append(
            (
                "checkpoint",
                _BestCheckpoint(
                    monitor="valid_loss_best",
                    dirname=workdir,
                    f_params="params.pt",
                    f_optimizer=None,
                    f_criterion=None,
                    f_history=None,  # keep the whole history, not the best epoch's
                    load_best=True,
                    sink=print if model.verbose else _silent,
                ),
            )
        )
        if model.patience is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        patience=model.patience,
                        sink=print if model.verbose else _silent,
                    ),
                )
            )
    if model.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    return _InterruptibleNet(
        module=UNet,
        module__in_channels=n_channels,
        module__base_channels=model.base_channels,
        module__depth=model.depth,
        criterion=SegmentationLoss,
        criterion__kind=model.loss,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=model.weight_decay,
        lr=model.learning_rate,
        max_epochs=model.max_epochs,
        batch_size=model.batch_size,
        iterator_train__shuffle=True,
        train_split=predefined_split(valid_data) if valid_data is not None else None,
        callbacks=callbacks,
        callbacks__print_log=_PlainPrintLog(),
        device=device,
        verbose=int(model.verbose > 0),
    )


class _PlainPrintLog(PrintLog):
    """skorch's epoch table (epoch, losses, ``dur`` = seconds) without ANSI colour codes.

    skorch colours the best value of each column, which fills redirected logs
    with escape sequences.
    """

    def format_row(self, row, key, color):
        return super().format_row(row, key, color="").replace(Ansi.ENDC.value, "")


class _FitInterrupted(BaseException):
    """Carries a KeyboardInterrupt past skorch's ``partial_fit``, which swallows it."""

    def __init__(self, interrupt: KeyboardInterrupt):
        super().__init__(interrupt)
        self.interrupt = interrupt


class _InterruptibleNet(NeuralNet):
    """A ``NeuralNet`` whose ``fit`` does not return normally after Ctrl-C.

    ``NeuralNet.partial_fit`` catches ``KeyboardInterrupt`` raised in
    ``fit_loop``, runs ``on_train_end`` (with validation, ``Checkpoint``
    then restores a best epoch that may not exist) and returns the
    half-trained net. Here the interrupt leaves ``fit_loop`` wrapped in
    :class:`_FitInterrupted`, which ``partial_fit`` does not catch;
    :meth:`UNetSegmenter.fit` re-raises the original ``KeyboardInterrupt``.
    """

    def fit_loop(self, *args, **kwargs):
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise _FitInterrupted(exc) from None


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


class _BestCheckpoint(Checkpoint):
    """A ``Checkpoint`` that reports divergence instead of loading a file never written.

    With ``load_best``, skorch loads the best epoch's file when training
    ends; if the validation loss was NaN in every epoch, no epoch was ever
    best, no file was written, and skorch failed with a FileNotFoundError
    naming a temporary file.
    """

    def on_train_end(self, net, **kwargs):
        if not any(row.get("valid_loss_best") for row in net.history):
            raise SkcardioError(
                f"training diverged: the validation loss was never finite ({len(net.history)} "
                f"epoch(s), last {net.history[-1, 'valid_loss']}), so there is no epoch to keep; "
                f"try a lower learning_rate (got {net.lr!r})"
            )
        super().on_train_end(net, **kwargs)


def _check_converged(net: NeuralNet, best_epoch: int) -> None:
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


def _best_epoch(net: NeuralNet) -> int:
    """Epoch whose weights ``net`` holds: the best validated one, else the last."""
    history = net.history
    if "valid_loss_best" in history[0]:
        best = [row["epoch"] for row in history if row.get("valid_loss_best")]
        return int(best[-1])
    return int(history[-1]["epoch"])


def _dice_scoring(net: NeuralNet, X, y) -> float:
    """Mean Dice of thresholded logits over the validation images (skorch scoring)."""
    pred = (net.forward(X) > 0).cpu().numpy()
    return dice_score(np.asarray(y, dtype=bool), pred)  # same empty-mask rule as everywhere


def _silent(*args, **kwargs) -> None:
    """A skorch ``sink`` that prints nothing."""


def degenerate_predictions(net: NeuralNet, images: np.ndarray, masks: np.ndarray, multiple: int) -> str | None:
    """What is useless about a trained net's masks on its own training images, or None.

    One plain pass (no TTA, refinement or post-processing) over up to
    ``_DEGENERATE_SAMPLE`` evenly spaced slices: "finds no blood pool in k
    of the n slices that have one" when more than half are empty, "marks
    x % of every image" when the masks cover more than half of the images
    (a blood pool covers a few per cent).
    """
    pick = np.unique(np.linspace(0, len(images) - 1, min(len(images), _DEGENERATE_SAMPLE)).round().astype(int))
    padded, (height, width) = pad_to_multiple(images[pick], multiple)
    with _RNG_LOCK, torch.random.fork_rng(devices=[]):
        logits = net.forward(torch.from_numpy(np.ascontiguousarray(padded)), training=False, device="cpu")
    found = logits.numpy()[:, :height, :width] > 0
    has_pool = masks[pick].any(axis=(1, 2))
    empty = int((has_pool & ~found.any(axis=(1, 2))).sum())
    if has_pool.any() and empty > _DEGENERATE_FRACTION * has_pool.sum():
        return f"finds no blood pool in {empty} of the {int(has_pool.sum())} slices that have one"
    if found.mean() > _DEGENERATE_FRACTION:
        return f"marks {100 * found.mean():.0f} % of every image as blood pool"
    return None
