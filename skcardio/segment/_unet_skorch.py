"""skorch glue of :class:`UNetSegmenter`: the net and its callbacks (Ctrl-C, divergence, plain logs).

Imported only when a net is built (``fit``, ``load``): skorch cannot be
imported under ``python -OO`` (see :mod:`skcardio.segment._unet_runtime`).
"""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
from typing import TYPE_CHECKING

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring, LRScheduler, PrintLog, ProgressBar
from skorch.helper import predefined_split
from skorch.utils import Ansi
from torch.utils.data import WeightedRandomSampler

from ..exceptions import SkcardioError
from ..metrics import dice_score
from ._unet_net import TARGETS, SegmentationLoss, UNet, WarmupCosine
from ._unet_runtime import _FitInterrupted

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["build_net"]


def build_net(
    model: UNetSegmenter,
    n_train: int,
    valid_data,
    workdir,
    *,
    n_channels: int,
    device: str,
    weights=None,
    loaded: bool = False,
) -> NeuralNet:
    """The skorch net of ``model``'s parameters, with its callbacks (not initialised).

    ``valid_data`` (a skorch ``Dataset``, or None to train without validation)
    adds Dice scoring, the best-epoch checkpoint in ``workdir`` and early stopping.
    ``weights`` (one per training slice, or None) draws each epoch's
    ``n_train`` slices with replacement in proportion to them, from PyTorch's
    global generator (seeded by the caller), instead of shuffling.
    ``loaded=True``: a net for saved weights, for prediction only: no
    optimizer is built (:class:`_LoadedNet`).
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
                        patience=int(model.patience),
                        sink=print if model.verbose else _silent,
                    ),
                )
            )
    if model.verbose >= 2:
        callbacks.append(("progress", ProgressBar()))
    return (_LoadedNet if loaded else _InterruptibleNet)(
        module=UNet,
        module__in_channels=n_channels,
        module__base_channels=int(model.base_channels),
        module__depth=int(model.depth),
        module__out_channels=len(TARGETS[model.target]),
        criterion=SegmentationLoss,
        criterion__kind=model.loss,
        optimizer=torch.optim.AdamW,
        # A loaded net builds no optimizer, and skorch refuses arguments of one it never built.
        **({} if loaded else {"optimizer__weight_decay": model.weight_decay}),
        lr=model.learning_rate,
        max_epochs=int(model.max_epochs),
        # Python ints: torch's BatchSampler refuses a NumPy integer (e.g. from a grid
        # given as an array), which validate_params accepts.
        batch_size=int(model.batch_size),
        **_train_order(weights, n_train),
        train_split=predefined_split(valid_data) if valid_data is not None else None,
        callbacks=callbacks,
        callbacks__print_log=_PlainPrintLog(),
        device=device,
        verbose=int(model.verbose > 0),
    )


def _train_order(weights, n_train: int) -> dict:
    """skorch's training-iterator arguments: shuffled slices, or weighted draws with replacement."""
    if weights is None:
        return {"iterator_train__shuffle": True}
    sampler = WeightedRandomSampler(torch.as_tensor(weights, dtype=torch.float64), n_train, replacement=True)
    return {"iterator_train__shuffle": False, "iterator_train__sampler": sampler}


class _PlainPrintLog(PrintLog):
    """skorch's epoch table (epoch, losses, ``dur`` = seconds) without ANSI colour codes.

    skorch colours the best value of each column, which fills redirected logs
    with escape sequences.
    """

    def format_row(self, row, key, color):
        return super().format_row(row, key, color="").replace(Ansi.ENDC.value, "")


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


class _LoadedNet(_InterruptibleNet):
    """The net a model file is loaded into, for prediction: it has no optimizer.

    Prediction never steps an optimizer, and building one (any
    ``torch.optim`` optimizer) imports ``torch._dynamo``: one to a few
    seconds of every ``skcardio predict`` or ``report`` call. ``optimizer_`` is None;
    training it directly is refused (:meth:`UNetSegmenter.fit` trains a new net).
    """

    def initialize_optimizer(self, triggered_directly=None):
        self.optimizer_ = None
        return self

    def fit(self, *args, **kwargs):
        # Before skorch's fit re-initialises (and so replaces) the loaded weights.
        self._refuse_training()

    def partial_fit(self, *args, **kwargs):
        self._refuse_training()

    @staticmethod
    def _refuse_training():
        raise SkcardioError(
            "this skorch net holds weights loaded from a model file, for prediction only (it has no "
            "optimizer); to train, call UNetSegmenter.fit, which builds a new net"
        )


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


def _dice_scoring(net: NeuralNet, X, y) -> float:
    """Mean Dice of thresholded logits over the validation images (skorch scoring)."""
    pred = (net.forward(X) > 0).cpu().numpy()
    y = np.asarray(y)
    if y.ndim == 4:  # several targets: score the labelled (slice, target) maps only
        known = (y >= 0).all(axis=(2, 3))
        if not known.any():
            return float("nan")
        y, pred = y[known], pred[known]
    return dice_score(y.astype(bool), pred)  # same empty-mask rule as everywhere


def _silent(*args, **kwargs) -> None:
    """A skorch ``sink`` that prints nothing."""
