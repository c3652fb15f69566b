"""PredictedRegion: images -> [image, region] arrays, the region predicted by a fitted epicardium model."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .._estimators import predicting_estimator
from .._stateless import StatelessMixin
from ..utils._validation import check_finite_images
from ._image_output import ImageOutputMixin

__all__ = ["PredictedRegion"]

#: ``target`` of a U-Net -> the channel of its ``predict`` that is the epicardium.
_EPICARDIUM_CHANNEL = {"epicardium": None, "both": 1}


class PredictedRegion(StatelessMixin, ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Add the epicardial region predicted by a fitted model to each image.

    The classical segmenters threshold inside the epicardial region (the
    expert o-contour, ``DicomLoader(region="o-contour")``); on a new patient
    there is no contour. This transformer takes plain images and returns
    ``[image, region]`` arrays with the region predicted by a fitted
    :class:`~skcardio.segment.UNetSegmenter` of ``target="epicardium"`` or
    ``"both"``, so ``make_pipeline(PredictedRegion(model), RegionSelector(),
    ThresholdSegmenter())`` and ``make_pipeline(PredictedRegion(model),
    make_classical_pipeline())`` segment images without contours.

    The model is used as given: ``fit`` does not train it (the ``y`` of the
    pipeline are blood-pool masks, not epicardia), it only checks that it is
    fitted and predicts the epicardium. Train it on other patients than the
    ones the pipeline is scored on.

    ``cross_validate``, ``GridSearchCV`` and any other ``clone`` of the
    pipeline copy the model's parameters, not its weights: the copy is not
    fitted and ``fit`` raises ``NotFittedError``. Wrap the fitted model in
    :class:`sklearn.frozen.FrozenEstimator`,
    ``PredictedRegion(FrozenEstimator(model))``, and clones keep it as it is.

    Parameters
    ----------
    model : UNetSegmenter
        Fitted, with ``target="epicardium"`` or ``"both"`` (e.g.
        ``UNetSegmenter.load(path)``), or such a model wrapped in
        :class:`sklearn.frozen.FrozenEstimator` (needed under
        cross-validation). Any fitted estimator whose ``predict`` returns
        epicardium masks ``(n, H, W)`` works too if it says so with a
        ``target`` (or ``target_``) attribute of ``"epicardium"``, and so do
        a fitted ``Pipeline`` or search (``GridSearchCV``...) whose final or
        best estimator is such a model: the ``target`` checked is the
        innermost estimator's. An estimator without a ``target`` is refused:
        the blood-pool segmenters (``ThresholdSegmenter``,
        ``KMeansSegmenter``...) have none, and their masks are no epicardium.

    Attributes
    ----------
    n_features_in_ : int
        1 (one image channel).

    Examples
    --------
    A stand-in model whose "epicardium" is the bright disc:

    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skcardio.preprocessing import PredictedRegion
    >>> class Bright(BaseEstimator):
    ...     target = "epicardium"
    ...     def fit(self, X, y=None):
    ...         self.fitted_ = True
    ...         return self
    ...     def predict(self, X):
    ...         return np.asarray(X) > 0.5
    >>> X = np.zeros((1, 4, 4)); X[0, 1:3, 1:3] = 1.0
    >>> pairs = PredictedRegion(Bright().fit(X)).fit_transform(X)
    >>> pairs.shape, pairs.dtype, float(pairs[0, 1].sum())
    ((1, 2, 4, 4), dtype('float32'), 4.0)

    Frozen, the fitted model survives ``clone`` (as in cross-validation):

    >>> from sklearn.base import clone
    >>> from sklearn.frozen import FrozenEstimator
    >>> clone(PredictedRegion(FrozenEstimator(Bright().fit(X)))).fit_transform(X).shape
    (1, 2, 4, 4)
    """

    def __init__(self, model):
        self.model = model

    def fit(self, X, y=None):
        """Check the model (fitted, predicts the epicardium) and the images.

        Parameters
        ----------
        X : array-like of shape (n, H, W)
            Images, any intensity range.
        y : None
            Ignored; present for the ``Pipeline`` API.

        Returns
        -------
        self : PredictedRegion
            This transformer.
        """
        self._check_model()
        check_finite_images(X, "PredictedRegion", _FINITE_REASON)
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        """Stack each image with the model's predicted epicardium as its region.

        Parameters
        ----------
        X : array-like of shape (n, H, W)
            Images, any intensity range.

        Returns
        -------
        ndarray of shape (n, 2, H, W), float32
            ``[image, region]`` pairs; the region is 1 inside the predicted
            epicardium, 0 outside.
        """
        channel = self._check_model()
        images = check_finite_images(X, "PredictedRegion", _FINITE_REASON)
        masks = np.asarray(self.model.predict(images))
        region = masks if channel is None else masks[:, channel]
        if region.shape != images.shape:
            raise ValueError(
                f"PredictedRegion needs epicardium masks of shape {images.shape} from the model's "
                f"predict, got shape {masks.shape} from a {type(self.model).__name__}"
            )
        return np.stack([images, region.astype(np.float32)], axis=1)

    def _check_model(self) -> int | None:
        """The epicardium channel of the model's predictions (None: they are the epicardium)."""
        try:
            check_is_fitted(self.model)
        except NotFittedError as error:
            raise NotFittedError(self._not_fitted_message(error)) from None
        final = _final_estimator(self.model)
        target = getattr(final, "target_", getattr(final, "target", None))
        if target is None:
            # A blood-pool segmenter (ThresholdSegmenter, KMeansSegmenter) has no target: its masks
            # are no epicardium, and taken as one they would make the blood pool the region.
            raise ValueError(
                f"PredictedRegion needs a model that predicts the epicardium "
                f"(target='epicardium' or 'both'), got a {_described(self.model, final)} without a target, "
                "which is not known to predict it (the classical segmenters predict the blood pool); "
                "a custom estimator whose predict returns epicardium masks (n, H, W) says so with a "
                "target attribute: target = 'epicardium'"
            )
        if target not in _EPICARDIUM_CHANNEL:
            raise ValueError(
                f"PredictedRegion needs a model that predicts the epicardium "
                f"(target='epicardium' or 'both'), got a {_described(self.model, final)} with target={target!r}"
            )
        return _EPICARDIUM_CHANNEL[target]

    def _not_fitted_message(self, error: NotFittedError) -> str:
        """Why the model is not fitted, and what to do: fit it, or freeze it if ``clone`` unfitted it."""
        name = type(self.model).__name__
        if getattr(self, "_model_unfitted_by_clone", False):
            return (
                f"This {name} instance is not fitted yet: this PredictedRegion is a clone of one whose "
                f"{name} was fitted, and clone() (used by cross_validate, GridSearchCV, ...) copies a "
                "model's parameters, not its weights. Wrap the fitted model in "
                "sklearn.frozen.FrozenEstimator so that clones keep it: "
                "PredictedRegion(FrozenEstimator(model))."
            )
        return (
            f"PredictedRegion needs a fitted model: {error} Fit it first (on other patients than "
            "those the pipeline is scored on) or load one (UNetSegmenter.load(path)); a fitted model "
            "inside cross-validation goes in sklearn.frozen.FrozenEstimator, "
            "PredictedRegion(FrozenEstimator(model))."
        )

    def __sklearn_clone__(self):
        # clone() makes an unfitted copy of a fitted model: note it (also through clones of
        # clones, as GridSearchCV makes) so that the NotFittedError can say why.
        copy = super().__sklearn_clone__()
        copy._model_unfitted_by_clone = getattr(self, "_model_unfitted_by_clone", False) or (
            _is_fitted(self.model) and not _is_fitted(copy.model)
        )
        return copy

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags



#: Why PredictedRegion needs finite images, for the message that refuses NaN or infinity.
_FINITE_REASON = (
    "it predicts the region itself from whole images: give it the images, not images with NaN "
    "outside a region (RegionSelector's output)"
)


def _is_fitted(model) -> bool:
    try:
        check_is_fitted(model)
    except (NotFittedError, TypeError):  # TypeError: not an estimator
        return False
    return True


def _final_estimator(model):
    """The estimator that predicts inside searches, ``FrozenEstimator`` and pipelines."""
    model = predicting_estimator(model)
    while isinstance(model, Pipeline):
        model = predicting_estimator(model[-1])
    return model


def _described(model, final) -> str:
    """``UNetSegmenter``, or ``Pipeline whose final estimator is a UNetSegmenter``."""
    if final is model:
        return type(model).__name__
    return f"{type(model).__name__} whose final estimator is a {type(final).__name__}"

