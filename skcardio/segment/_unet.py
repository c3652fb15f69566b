"""UNetSegmenter: a skorch-trained U-Net that segments the blood pool from the whole image."""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import copy
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..exceptions import DegenerateModelWarning, DeviceWarning
from ..utils._validation import (
    check_groups,
    check_holdout,
    check_network_images,
    check_network_labels,
    check_network_masks,
    check_sample_weight,
)
from ._base import DiceScoreMixin
from ._unet_data import AugmentedSlices, pad_to_multiple, robust_scale
from ._unet_file import cpu_fallback, load_model, load_pretrained, save_model
from ._unet_inference import batch_length, network_proba
from ._unet_net import TARGETS, precision_context
from ._unet_offset import measure_label_offset, shift_proba
from ._unet_params import check_network_size, validate_params
from ._unet_split import validation_split
from ._unet_postprocess import keep_main_component as _keep_main_component
from ._unet_refine import refine_small
from ._unet_targets import mean_known_dice
from ._unet_runtime import (
    _best_epoch,
    _check_converged,
    _FitInterrupted,
    _forked_rng,
    Dataset,
    build_net,
    degenerate_message,
    degenerate_predictions,
    resolve_device,
)

__all__ = ["UNetSegmenter"]



class UNetSegmenter(DiceScoreMixin, BaseEstimator):
    """Segment the left-ventricle blood pool with a U-Net trained by skorch.

    The network sees the whole image at prediction time: no region, crop or
    contour is needed, only the image. Training makes that work despite the
    blood pool covering about 2 % of a 256 x 256 slice, and aims at hearts
    unlike the training ones (other sizes, contrasts, pathologies):

    * training on random ``crop_size`` crops, most holding the blood pool at
      a random position; the fully convolutional net then runs on the whole image;
    * soft Dice per sample plus binary cross-entropy, so the rare foreground
      counts, and a small apical pool as much as a large basal one;
    * each image scaled by its own 1st/99th percentiles; random zoom,
      rotation, flips and intensity jitter (gamma, contrast, bias, noise);
    * optionally, the mean over the four flips (``tta``) and a second pass
      zoomed on small pools (``refine``); off by default (no gain on grouped CV);
    * post-processing keeps the connected component with the largest
      probability mass times mean probability (the compact, confident left
      ventricle rather than a larger but patchy bright structure), weighted
      by a broad prior for the image centre and by its circularity (a
      short-axis pool is round), and fills its holes.

    See ``docs/unet.md`` for the reasons and the measured figures.

    With ``target="epicardium"`` or ``"both"`` the same network predicts the
    epicardial region (blood pool plus myocardium), alone or beside the
    blood pool; :func:`skcardio.segment.myocardium_mask` gives the
    myocardium from the two (``docs/epicardium.md``).

    Parameters
    ----------
    target : {"endocardium", "epicardium", "both"}, default="endocardium"
        What is segmented, and the shapes of ``y`` and of :meth:`predict`:

        * ``"endocardium"``: the blood pool; ``y`` and predictions
          ``(n, H, W)``;
        * ``"epicardium"``: the region inside the epicardial contour; ``y``
          and predictions ``(n, H, W)``;
        * ``"both"``: ``y`` and predictions ``(n, 2, H, W)``, channel 0 the
          blood pool, channel 1 the epicardium. A label may be missing: a
          channel of a slice whose values are all ``-1`` (or all NaN in a
          float ``y``) is unknown and takes no part in the loss
          (e.g. slices with an i-contour but no o-contour). Each slice needs
          at least one known channel.
    depth : int, default=4
        Resolution levels of the U-Net (``depth - 1`` poolings), at most 16.
    base_channels : int, default=16
        Feature maps at full resolution, doubled at each level below. With
        ``depth``, the channels of ``X`` and the target, it sets the weights
        of the network, which ``fit`` refuses above the limit
        ``max_model_parameters`` (:func:`skcardio.io.get_limits`, 50
        million by default; the default network has 0.48 million), as
        ``load`` refuses such a model file.
    learning_rate : float, default=3e-3
        Peak learning rate of AdamW: linear warm-up over the first 10 % of
        the steps, then cosine decay to 0.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    max_epochs : int, default=80
        Passes over the training slices (one random crop per slice and pass).
    batch_size : int, default=8
        Crops per training step, at most 2**16 (65536).
    loss : {"dice_bce", "dice", "bce"}, default="dice_bce"
        Soft Dice plus binary cross-entropy, or either alone.
    crop_size : int, default=128
        Side of the square training crops: a multiple of ``2 ** (depth - 1)``
        and at least ``2 ** depth``, so that the bottleneck of a crop is at
        least 2 x 2 pixels (batch norm needs more than one value per channel
        when a batch holds a single crop).
    zoom_range : (float, float), default=(0.5, 1.4)
        Random zoom factors (log-uniform); ``(1, 1)`` disables zooming.
    rotation : float, default=15.0
        Largest random rotation in degrees; 0 disables it.
    flip : bool, default=True
        Random horizontal and vertical flips.
    intensity_jitter : bool, default=True
        Random gamma, contrast, brightness, bias field and noise.
    validation_fraction : float or None, default=None
        Fraction of the training data held out for early stopping and the
        choice of the best epoch (restored at the end). With ``groups`` passed
        to :meth:`fit`, whole patients are held out (``GroupShuffleSplit``),
        so validation never sees a patient used for training. The number of
        held-out patients (slices without ``groups``) is rounded up and must
        leave at least one for training. ``None`` trains on everything for
        ``max_epochs`` and keeps the last weights: with a handful of patients,
        holding one out costs more than early stopping gains.
    patience : int or None, default=30
        With validation, stop after this many epochs without a better
        validation loss; ``None`` never stops early (the best epoch is still
        restored).
    threshold : float, default=0.5
        Probability above which a pixel is blood pool.
    tta : bool, default=False
        Test-time augmentation: average the probabilities predicted for the
        image and its three flips (4x the inference time). Off by default:
        on the 17-patient grouped CV it changed Dice by -0.003 for 3.2x the
        time (docs/unet.md).
    refine : bool, default=False
        Second pass for small blood pools: when the predicted pool is
        smaller than the median training pool (by a linear factor of 1.25 or
        more), a ``crop_size`` window around it is zoomed (up to 3x) so the
        pool has the typical training size and predicted again; inside the
        window the probability is the mean of both passes (a two-scale
        ensemble). Off by default: it cost 0.012 grouped-CV Dice (docs/unet.md).
    postprocess : bool, default=True
        Keep only the connected component with the largest probability mass
        times mean probability, weighted by a broad Gaussian prior for the
        image centre (standard deviation a quarter of the image side) and by
        its circularity, and fill its holes (NaN input pixels stay
        background).
    correct_offset : bool, default=False
        After training, measure the constant displacement of the training
        labels against the network's masks (:meth:`calibrate_offset`) and
        shift every prediction by it (:attr:`label_offset_`). With random
        flips the network cannot learn a contouring convention's offset
        (Sunnybrook epicardium: APD 2.72 -> 2.45 mm, docs/epicardium.md).
    checkpoint_dir : str, path-like or None, default=None
        Where the best-epoch checkpoint is written during ``fit``: a fresh
        temporary directory by default, removed after ``fit``. A given
        directory gets a new unique sub-directory per fit (kept), so parallel
        fits (``GridSearchCV(n_jobs=2)``) never overwrite each other.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where ``fit`` trains: ``"auto"`` uses CUDA when available;
        ``"cuda"`` without CUDA raises. A saved model keeps it (:meth:`load`).
    precision : {"float32", "bfloat16"}, default="float32"
        ``"bfloat16"``: the convolutions compute in bfloat16 (autocast), in
        training and prediction; weights, optimizer and loss stay float32.
        Faster on a CPU with native bfloat16 (AVX-512 BF16, AMX); where it is
        emulated, expected slower. Measured against float32 in docs/unet.md.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, batch order, augmentation and the
        validation split. With an int, two CPU fits give identical
        predictions, also in threads (their seeded parts take turns). PyTorch's
        global random state is left untouched, and so is NumPy's except that
        ``None`` draws the seeds from NumPy's global generator (advancing it).
    verbose : int, default=0
        0 silent, 1 a plain-text row per epoch (epoch, training loss, with
        validation ``valid_loss`` and ``valid_dice``, ``dur`` in seconds);
        2 also a progress bar per epoch.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.history`` holds the losses per epoch.
        A loaded model's net (:meth:`load`, :meth:`pretrained`) is for
        prediction: it builds no optimizer (which would import
        ``torch._dynamo``, one to a few seconds) and refuses to train; ``fit``
        trains a new one. Under ``python -OO``, where skorch cannot be
        imported, a loaded model holds a skorch-free stand-in that predicts
        identically.
    n_channels_ : int
        Channels of the training images.
    best_epoch_ : int
        Epoch whose weights were kept (1-based).
    typical_area_ : float
        Median blood-pool area of the training masks, in pixels (the target
        size of the ``refine`` pass).
    device_ : str
        Device the network is on, ``"cpu"`` or ``"cuda"``: where ``fit``
        trained it, or where :meth:`load` put it.
    depth_ : int
        ``depth`` at fit time: prediction pads images to a multiple of
        ``2 ** (depth_ - 1)``, whatever ``set_params`` changed since.
    base_channels_ : int
        ``base_channels`` at fit time (the width of the trained network).
    crop_size_ : int
        ``crop_size`` at fit time: the side of the ``refine`` window.
    target_ : str
        ``target`` at fit time: what :meth:`predict` returns.
    label_offset_ : ndarray of shape (n_targets, 2)
        Rows and columns (pixels) every prediction is shifted by, per target;
        zeros unless estimated (``correct_offset`` or :meth:`calibrate_offset`).

    Notes
    -----
    Pickle / joblib files of this estimator, like all pickles, can run
    arbitrary code when loaded: only load them from trusted sources. Use
    :meth:`save` and :meth:`load`, which store only tensors and plain
    parameters and load with ``torch.load(weights_only=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import UNetSegmenter
    >>> rng = np.random.default_rng(0)
    >>> rows, cols = np.mgrid[:32, :32]
    >>> centres = rng.uniform(10, 22, size=(8, 2))
    >>> y = np.array([(rows - r) ** 2 + (cols - c) ** 2 < 25 for r, c in centres])
    >>> X = y + rng.normal(0, 0.2, y.shape)
    >>> model = UNetSegmenter(depth=2, base_channels=4, max_epochs=2, crop_size=32,
    ...                       validation_fraction=None, random_state=0).fit(X, y)
    >>> model.predict(X).shape
    (8, 32, 32)
    """

    def __init__(
        self,
        *,
        target: str = "endocardium",
        depth: int = 4,
        base_channels: int = 16,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        max_epochs: int = 80,
        batch_size: int = 8,
        loss: str = "dice_bce",
        crop_size: int = 128,
        zoom_range: tuple[float, float] = (0.5, 1.4),
        rotation: float = 15.0,
        flip: bool = True,
        intensity_jitter: bool = True,
        validation_fraction: float | None = None,
        patience: int | None = 30,
        threshold: float = 0.5,
        tta: bool = False,
        refine: bool = False,
        postprocess: bool = True,
        correct_offset: bool = False,
        checkpoint_dir: str | os.PathLike | None = None,
        device: str = "auto",
        precision: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.target = target
        self.depth = depth
        self.base_channels = base_channels
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.loss = loss
        self.crop_size = crop_size
        self.zoom_range = zoom_range
        self.rotation = rotation
        self.flip = flip
        self.intensity_jitter = intensity_jitter
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.threshold = threshold
        self.tta = tta
        self.refine = refine
        self.postprocess = postprocess
        self.correct_offset = correct_offset
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit

    def fit(self, X, y, groups=None, sample_weight=None):
        """Train the U-Net on images and blood-pool masks.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images of any intensity range (each is scaled by its own
            percentiles). NaN marks pixels outside a region.
        y : array-like of shape (n, H, W), or (n, 2, H, W) for ``target="both"``
            Masks of ``target`` (bool or 0/1); for ``"both"`` channel 0 is
            the blood pool, channel 1 the epicardium, and a channel all
            ``-1`` (or NaN) is an unknown label.
        groups : array-like of shape (n,), default=None
            Patient of each slice, used to hold out whole patients for
            validation. Without it the validation slices are drawn at random
            and may come from training patients (a :class:`SkcardioWarning`
            says so). In ``GridSearchCV`` / ``cross_validate`` enable metadata
            routing and call ``set_fit_request(groups=True)`` to pass it.
        sample_weight : array-like of shape (n,), default=None
            Non-negative weight of each slice. Each epoch then draws as many
            training crops as there are training slices, slice ``i`` with
            probability proportional to ``sample_weight[i]`` (with
            replacement; weight 0 = never drawn), instead of every slice once
            in shuffled order. Use it to give each patient or pathology group
            an equal share of the training, e.g. ``1 / slices of the slice's
            group``. The validation slices (``validation_fraction``) are
            scored unweighted and draw nothing, so shares computed over all
            slices are only approximate when validation holds patients out.
            Weights, even all equal, always draw with replacement: unit
            weights are not the same training as no weights.

        Returns
        -------
        self : UNetSegmenter
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter or input is invalid, or ``validation_fraction``
            would hold out every patient (every slice without ``groups``).
        SkcardioError
            (a ``ValueError``) if training diverged: the validation loss was
            never finite, or the kept weights or training loss are not finite
            (usually a too high ``learning_rate``). The model is left as it was.
        """
        self._validate_params_values()
        if y is None:
            raise ValueError(
                "UNetSegmenter requires y to be passed, but the target y is None; "
                "expected blood-pool masks of shape (n, H, W)"
            )
        X = self._check_images(X)
        check_network_size(self, X.shape[1])  # validated for 1 channel; X may have more
        y = self._check_masks(y, X) if self.target != "both" else check_network_labels(y, X)
        groups = self._check_groups(groups, len(X))
        sample_weight = check_sample_weight(sample_weight, len(X))
        self._check_split(len(X), groups)
        device = self._resolve_device()
        rng = check_random_state(self.random_state)
        torch_seed, data_seed = rng.randint(np.iinfo(np.int32).max, size=2)
        # Everything is built in locals: the fitted attributes are assigned only
        # once training has succeeded, so a failed or interrupted refit leaves
        # the previous model whole.
        multiple = 2 ** (self.depth - 1)
        n_channels = X.shape[1]
        # The refine pass aims at the first target's size (the blood pool for "both").
        areas = ((y if y.ndim == 3 else y[:, 0]) > 0).sum(axis=(1, 2))
        typical_area = float(np.median(areas[areas > 0])) if areas.any() else 0.0
        images = robust_scale(X)
        train, valid = self._split(len(X), groups, rng)
        train_weights = None
        if sample_weight is not None:
            train_weights = sample_weight[train]
            if not train_weights.any():
                held = "" if valid is None else f" left after holding out {len(valid)} validation slices"
                raise ValueError(
                    f"sample_weight is 0 for all {len(train)} training slices{held}; "
                    f"at least one must be positive"
                )
        train_data = AugmentedSlices(
            images[train],
            y[train],
            crop_size=self.crop_size,
            zoom_range=tuple(self.zoom_range),
            rotation=float(self.rotation),
            flip=bool(self.flip),
            intensity_jitter=bool(self.intensity_jitter),
            seed=int(data_seed),
        )
        valid_data = None
        if valid is not None:
            padded, _ = pad_to_multiple(images[valid], multiple)
            masks, _ = pad_to_multiple(y[valid], multiple)
            valid_data = Dataset(padded, masks)
        workdir = self._make_checkpoint_dir() if valid_data is not None else None
        try:
            with _forked_rng(int(torch_seed), device), precision_context(self.precision, device):
                net = build_net(
                    self, len(train), valid_data, workdir, n_channels=n_channels, device=device, weights=train_weights
                )
                try:
                    net.fit(train_data, None)
                except _FitInterrupted as interrupted:
                    # Ctrl-C: skorch would keep the half-trained weights; re-raise
                    # the original KeyboardInterrupt, leaving self as it was.
                    raise interrupted.interrupt from None
        finally:
            if workdir is not None and self.checkpoint_dir is None:
                shutil.rmtree(workdir, ignore_errors=True)
        best_epoch = _best_epoch(net)
        _check_converged(net, best_epoch)
        with precision_context(self.precision, device):
            problem = degenerate_predictions(net.module_, images[train], y[train], multiple, threshold=self.threshold)
        if problem:
            warning = DegenerateModelWarning(degenerate_message(problem, int(self.max_epochs)))
            # For callers that word the advice their own way (skcardio train: --epochs).
            warning.problem, warning.max_epochs = problem, int(self.max_epochs)
            warnings.warn(warning, stacklevel=2)
        offset = None
        if self.correct_offset:  # measured on a copy: self changes only once everything succeeded
            probe = copy.copy(self)
            probe._set_fitted(net, device, n_channels, best_epoch, typical_area)
            offset = measure_label_offset(probe, X[train], y[train])
        self._set_fitted(net, device, n_channels, best_epoch, typical_area, offset)
        return self

    def calibrate_offset(self, X, y) -> UNetSegmenter:
        """Measure how far the labels sit from this model's masks, and shift later predictions by it.

        Sets :attr:`label_offset_` to the median, over the slices, of the
        label's centroid minus the predicted mask's centroid (rows, columns;
        per target, on slices where both are non-empty and the label is
        known), with the model's current prediction options (``threshold``,
        ``tta``, ...; changing them later does not measure again). ``fit``
        does this on its training slices when ``correct_offset=True``; call
        it on the training slices of a model trained without (the network is
        the same): it changes the fitted state outside ``fit``, and
        ``correct_offset`` keeps saying how the model was trained. Why: random flips
        (``flip=True``) turn a label drawn half a pixel below the image's
        edge into one drawn half a pixel above, so the network cannot learn
        a contouring convention's constant displacement.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images, normally the training images.
        y : array-like of shape (n, H, W), or (n, 2, H, W) for ``target="both"``
            Their masks, as for :meth:`fit`.

        Returns
        -------
        self : UNetSegmenter
            The model, with :attr:`label_offset_` set.

        Raises
        ------
        ValueError
            If the measured offset exceeds 8 pixels along an axis: labels
            that far from the masks are misaligned, not a convention.
        """
        check_is_fitted(self, "net_")
        X = self._check_images(X, channels=self.n_channels_)
        y = self._check_masks(y, X) if self.target_ != "both" else check_network_labels(y, X)
        self.label_offset_ = measure_label_offset(self, X, y)
        return self

    def __setstate__(self, state):
        # Pickles of models from before the label offset (and the precision) existed.
        state.setdefault("correct_offset", False)
        state.setdefault("precision", "float32")
        super().__setstate__(state)
        if hasattr(self, "target_") and not hasattr(self, "label_offset_"):
            self.label_offset_ = np.zeros((len(TARGETS[self.target_]), 2))

    def _set_fitted(
        self, net, device: str, n_channels: int, best_epoch: int, typical_area: float, label_offset=None
    ):
        """Assign every fitted attribute at once (after fit succeeded, or in ``load``)."""
        self.net_ = net
        self.device_ = device
        self.n_channels_ = n_channels
        self.typical_area_ = typical_area
        # What predict and save need from the architecture, frozen against later
        # set_params (in fit and load, self's parameters are still the network's).
        self.depth_ = int(self.depth)
        self.base_channels_ = int(self.base_channels)
        self.crop_size_ = int(self.crop_size)
        self.target_ = self.target
        self.best_epoch_ = best_epoch
        self.label_offset_ = np.zeros((len(TARGETS[self.target]), 2)) if label_offset is None else label_offset

    @property
    def _multiple(self) -> int:
        """Padding multiple of the fitted network (``2 ** (depth_ - 1)``)."""
        return 2 ** (self.depth_ - 1)

    def _validate_params_values(self, *, training: bool = True) -> None:
        """Raise ValueError naming the first parameter with an invalid value (see :func:`validate_params`)."""
        validate_params(self, training=training)

    def _resolve_device(self) -> str:
        """Where ``fit`` trains (:func:`~skcardio.segment._unet_runtime.resolve_device`)."""
        return resolve_device(self.device)

    def _check_fitted_params(self) -> None:
        """Fitted, and today's parameters valid: ``set_params`` after ``fit`` (a threshold of 1.5,
        ``postprocess="no"``) would otherwise predict nonsense, or ``save`` a file ``load`` refuses."""
        check_is_fitted(self, "net_")
        self._validate_params_values(training=False)

    def _check_split(self, n: int, groups) -> None:
        check_holdout(self.validation_fraction, n, groups)

    def _split(self, n: int, groups, rng) -> tuple[np.ndarray, np.ndarray | None]:
        """Training and validation indices (:func:`validation_split`)."""
        return validation_split(self.validation_fraction, n, groups, rng)

    def _make_checkpoint_dir(self) -> str:
        if self.checkpoint_dir is None:
            return tempfile.mkdtemp(prefix="skcardio-unet-")
        Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        return tempfile.mkdtemp(prefix="fit-", dir=self.checkpoint_dir)

    # -------------------------------------------------------------- predict

    def predict_proba(self, X) -> np.ndarray:
        """Probability of every pixel to be in the ``target`` (the blood pool by default).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images of any intensity range, with the channels of the training images.

        Returns
        -------
        ndarray of shape (n, H, W), or (n, 2, H, W) for ``target="both"``, float32
            0 where the input is NaN (in any channel).
        """
        self._check_fitted_params()
        return self._proba(self._check_images(X, channels=self.n_channels_))

    def _proba(self, X: np.ndarray) -> np.ndarray:
        """:meth:`predict_proba` of checked images ``(n, C, H, W)``."""
        # Scaled batch by batch as the network takes them, not robust_scale(X)
        # at once: that was a float32 copy of X plus float64 temporaries twice
        # its size (3 times the input on top of it).
        proba = self._network_proba(X, scale=True)
        if self.refine:
            proba = refine_small(self, X, proba)
        proba = shift_proba(proba, self.label_offset_)
        outside = np.isnan(X).any(axis=1)
        proba[outside if proba.ndim == 3 else np.broadcast_to(outside[:, None], proba.shape)] = 0.0
        return proba

    def _network_proba(self, images: np.ndarray, *, scale: bool = False) -> np.ndarray:
        """One pass of the network (with flip TTA) over images ``(n, C, H, W)``, scaled first if ``scale``.

        Without ``scale`` the images are already scaled (:func:`robust_scale`).
        One batch of :func:`network_proba` at a time is scaled, padded,
        flipped and predicted, so no copy of the whole input is made: every
        image is scaled on its own, and a batch of flipped images is the
        flip of the batch, so the probabilities are those of the whole at once.
        """
        height, width = images.shape[-2:]
        per_batch = batch_length(height + -height % self._multiple, width + -width % self._multiple)
        # Test-time augmentation: the mean over the four flips of the image.
        flips = [(), (-2,), (-1,), (-2, -1)] if self.tta else [()]
        proba = None
        with precision_context(self.precision, self.device_):
            for start in range(0, len(images), per_batch):
                batch = images[start : start + per_batch]
                padded, _ = pad_to_multiple(robust_scale(batch) if scale else batch, self._multiple)
                part = self._flipped_proba(padded, flips)[..., :height, :width] / len(flips)
                if proba is None:
                    proba = np.empty((len(images), *part.shape[1:]), part.dtype)
                proba[start : start + len(part)] = part
        return proba

    def _flipped_proba(self, padded: np.ndarray, flips: list[tuple]) -> np.ndarray:
        """Sum of the network's probabilities over ``flips`` of ``padded``, each flipped back."""
        proba = np.float32(0.0)
        for axes in flips:
            # Batch norm folded into the convolutions, no skorch (nor its RNG draw).
            view_proba = network_proba(self.net_.module_, np.flip(padded, axes) if axes else padded)
            proba += np.flip(view_proba, axes) if axes else view_proba
        return proba

    def predict(self, X) -> np.ndarray:
        """Predict masks of the ``target`` (the blood pool by default), of the input's size.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images of any intensity range, with the channels of the training images.

        Returns
        -------
        ndarray of shape (n, H, W), or (n, 2, H, W) for ``target="both"``, bool
            For ``"both"``, channel 0 is the blood pool and channel 1 the
            epicardium (each post-processed on its own; prediction QC,
            :func:`skcardio.qc.check_myocardium`, flags a pool outside the
            epicardium). False wherever the input is NaN (in any channel),
            even inside the blood pool.
        """
        return self.predict_with_proba(X)[0]

    def predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`predict_proba` for the cost of one.

        The probabilities feed :func:`skcardio.qc.assess_predictions`
        (confidence and flags of every mask).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images of any intensity range, with the channels of the training images.

        Returns
        -------
        masks : ndarray of shape (n, H, W) (``(n, 2, H, W)`` for ``target="both"``), bool
            As :meth:`predict`.
        proba : ndarray of the same shape, float32
            As :meth:`predict_proba`.
        """
        self._check_fitted_params()
        X = self._check_images(X, channels=self.n_channels_)
        proba = self._proba(X)
        masks = proba > self.threshold
        if self.postprocess:
            flat, flat_proba = masks.reshape(-1, *masks.shape[-2:]), proba.reshape(-1, *proba.shape[-2:])
            masks = np.array([_keep_main_component(m, p) for m, p in zip(flat, flat_proba)])
            masks = masks.reshape(proba.shape)
        # Filling holes also fills NaN pixels enclosed by the pool: outside
        # the region, they are never blood pool.
        inside = ~np.isnan(X).any(axis=1)
        return masks & (inside if masks.ndim == 3 else inside[:, None]), proba

    def score(self, X, y, sample_weight=None) -> float:
        """Mean Dice of :meth:`predict` against ``y`` (see ``DiceScoreMixin.score``).

        For ``target="both"``, a slice's Dice is the mean over its known
        channels (``y`` as in :meth:`fit`: -1 / NaN marks an unknown one).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images, as for :meth:`predict`.
        y : array-like of shape (n, H, W), or (n, 2, H, W) for ``target="both"``
            Expert masks.
        sample_weight : array-like of shape (n,), default=None
            Weights of the slices in the mean.

        Returns
        -------
        float
            The (weighted) mean Dice over the slices.
        """
        if getattr(self, "target_", self.target) != "both":
            return super().score(X, y, sample_weight)
        check_is_fitted(self, "net_")
        X = self._check_images(X, channels=self.n_channels_)
        return mean_known_dice(check_network_labels(y, X), self.predict(X), sample_weight)

    # ---------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model's weights and parameters to ``path``.

        The file holds only tensors, strings and numbers, so :meth:`load` can
        read it with ``torch.load(weights_only=True)``, which never runs code
        from the file. A ``random_state`` that is a ``RandomState`` instance
        is stored as ``None``.

        ``depth``, ``base_channels`` and ``crop_size`` are stored as at fit
        time (``depth_``...: a ``set_params`` since affects the next fit
        only); the others as they are now (``threshold``, ``tta``, ``refine``,
        ``postprocess`` and ``precision`` act on prediction), so the loaded
        model predicts as this one does. The file is written atomically: if saving fails, no
        partial file is left and an existing file keeps its content.

        Parameters
        ----------
        path : str or path-like
            The model file to write (by convention ``.pt``).

        Raises
        ------
        OSError
            If the file cannot be written (the error names ``path``).
        """
        self._check_fitted_params()
        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str | None = None) -> UNetSegmenter:
        """Load a model written by :meth:`save`, without unpickling code.

        The weights are read onto the CPU, whatever device they were saved
        from, then moved where the model's ``device`` says. The loaded
        model's parameters are the saved ones, ``device`` included, unless
        ``device`` is given: ``clone`` (``cross_validate``,
        ``GridSearchCV``) then trains where the saved model would have.

        Parameters
        ----------
        path : str or path-like
            A model file written by :meth:`save`.
        device : {"auto", "cpu", "cuda"} or None, default=None
            Where to put the network, and the loaded model's ``device``
            parameter. None keeps the saved ``device`` (``"auto"``, CUDA
            when available, for files saved without one); a saved
            ``"cuda"`` where CUDA is not available loads on the CPU with a
            :class:`~skcardio.exceptions.DeviceWarning`, the parameter
            staying ``"cuda"`` (so that fitting the model or a clone there
            raises, as ``fit`` does for ``device="cuda"``).

        Returns
        -------
        UNetSegmenter
            Fitted, ready for :meth:`predict`; ``device_`` is where the
            network is.

        Raises
        ------
        SkcardioError
            (a ``ValueError``) naming the file and the problem if it cannot
            be read, is not a model saved by :meth:`save` (including any
            pickle that would need to run code to load), is damaged, or holds
            weights that do not match the network its parameters describe.
        ValueError
            If ``device`` is not one of the above, or is ``"cuda"`` without
            CUDA.

        Warns
        -----
        DeviceWarning
            If the file says ``device="cuda"``, ``device`` is None and CUDA
            is not available: the model is loaded on the CPU.
        """
        model = load_model(cls, path, device)
        if fallback := cpu_fallback(model, os.fspath(path)):
            warnings.warn(fallback, DeviceWarning, stacklevel=2)
        return model

    @classmethod
    def pretrained(cls, *, device: str | None = None) -> UNetSegmenter:
        """The U-Net shipped with skcardio, trained on the 17 shared Sunnybrook patients.

        Trained by ``benchmarks/train_pretrained.py --epochs 160`` (default
        parameters but ``max_epochs=160``, ``random_state=0``) on all 300
        expert-labelled slices of the shared
        data (5 DICOM and 12 PNG patients). Recipe, seed and the SHA-256 of
        every data file and of the weights are in ``unet_lv_pretrained.json``;
        the weights are loaded with :meth:`load` once their SHA-256 matches.
        Accuracy (patient-grouped CV) and licences: README, "Pretrained U-Net".

        Parameters
        ----------
        device : {"auto", "cpu", "cuda"} or None, default=None
            Where to put the network, and the model's ``device`` parameter,
            as for :meth:`load`: None keeps the shipped model's ``"auto"``
            (CUDA when available).

        Returns
        -------
        UNetSegmenter
            Fitted, ready for :meth:`predict`.

        Raises
        ------
        SkcardioError
            If the shipped file is missing, damaged or not the one recorded.
        ValueError
            If ``device`` is not one of the above, or is ``"cuda"`` without
            CUDA.

        Examples
        --------
        >>> from skcardio.datasets import load_sample
        >>> from skcardio.segment import UNetSegmenter
        >>> model = UNetSegmenter.pretrained()
        >>> model.predict(load_sample().images[:2]).shape
        (2, 256, 256)
        """
        model = load_pretrained(cls, device)
        if fallback := cpu_fallback(model, "the pretrained model"):
            warnings.warn(fallback, DeviceWarning, stacklevel=2)
        return model

    # ------------------------------------------------------------ checking
    # The checks live with all the others in skcardio.utils._validation.
    _check_images = staticmethod(check_network_images)
    _check_masks = staticmethod(check_network_masks)
    _check_groups = staticmethod(check_groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Stacks of 2-D images (n, H, W) or (n, C, H, W), not tables.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True  # NaN marks pixels outside a region
        tags.target_tags.required = True
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags
