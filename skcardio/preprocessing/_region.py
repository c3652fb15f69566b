"""RegionSelector: [image, region] arrays -> images with NaN outside the region."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._numbers import is_number
from .._stateless import StatelessMixin
from ..utils._validation import check_image_region_pairs
from ._image_output import ImageOutputMixin

__all__ = ["RegionSelector"]


class RegionSelector(StatelessMixin, ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Keep only the pixels inside a region; set the others to ``fill_value``.

    The original analysis's ``select_region``: thresholds are then computed
    from the region's pixels only (e.g. inside the epicardial o-contour).
    Stateless: ``fit`` only checks the input's shape, and ``transform``
    works without it, like scikit-learn's ``FunctionTransformer``.

    Parameters
    ----------
    fill_value : float, default=nan
        Value of pixels outside the region (a number float32 can hold;
        checked in ``fit`` and ``transform``). Segmenters treat NaN as
        "outside the region".

    Attributes
    ----------
    n_features_in_ : int
        Number of channels seen in ``fit`` (2).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.preprocessing import RegionSelector
    >>> X = np.zeros((1, 2, 3, 3)); X[0, 0] = 5.0; X[0, 1, 1, 1] = 1.0
    >>> RegionSelector().fit_transform(X)[0]
    array([[nan, nan, nan],
           [nan,  5., nan],
           [nan, nan, nan]], dtype=float32)
    """

    def __init__(self, fill_value=np.nan):
        self.fill_value = fill_value

    def fit(self, X, y=None):
        """Check ``fill_value`` and that ``X`` is ``(n, 2, H, W)``.

        Parameters
        ----------
        X : array-like of shape (n, 2, H, W)
            Channel 0 is the image, channel 1 the region: > 0.5 inside (e.g. 1), 0 outside.
        y : None
            Ignored (accepted for pipelines).

        Returns
        -------
        self : RegionSelector
            The fitted transformer.
        """
        _check_fill_value(self.fill_value)
        X = check_image_region_pairs(X)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        """Set the pixels outside the region to ``fill_value``.

        Parameters
        ----------
        X : array-like of shape (n, 2, H, W)
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n, H, W), float32
            The images, ``fill_value`` outside the region.
        """
        check_is_fitted(self)
        _check_fill_value(self.fill_value)  # also here: stateless, transform needs no fit
        X = check_image_region_pairs(X)
        # Fill, then copy the region's pixels in place: 2.5x faster than
        # np.where, and a pipeline in a grid search runs this on every fold.
        out = np.full((X.shape[0], *X.shape[2:]), self.fill_value, dtype=np.float32)
        np.copyto(out, X[:, 0], where=X[:, 1] > 0.5, casting="unsafe")
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # [image, region] arrays (n, 2, H, W), never a 2-D table.
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        # Any real dtype in, float32 out (NaN marks the outside): only float32 is kept.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _check_fill_value(value) -> None:
    # float32 output: a value it cannot hold would silently become inf.
    if not is_number(value) or (np.isfinite(value) and abs(float(value)) > float(np.finfo(np.float32).max)):
        raise ValueError(
            f"fill_value must be a number that float32 can hold (NaN allowed), got {value!r}"
        )
