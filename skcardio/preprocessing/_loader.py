"""DicomLoader: slice records (or DICOM paths) -> image arrays."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._numbers import is_int
from .._stateless import StatelessMixin
from ..io import contour_to_mask, read_contour, read_dicoms
from ..io._parallel import is_cache
from ..utils._validation import check_records, is_records, record_column
from ._image_output import ImageOutputMixin

__all__ = ["DicomLoader"]

_REGIONS = (None, "o-contour", "i-contour")


class DicomLoader(StatelessMixin, ImageOutputMixin, TransformerMixin, BaseEstimator):
    """Load DICOM slices as an image array, optionally with a region channel.

    Stateless transformer: ``fit`` only validates parameters and records,
    ``transform`` validates them too and reads the files of the given slice
    records; it works without ``fit``, like scikit-learn's
    ``FunctionTransformer``.

    Parameters
    ----------
    region : {None, "o-contour", "i-contour"}, default=None
        ``None`` returns images ``(n, H, W)``. A contour name returns
        ``[image, region]`` arrays ``(n, 2, H, W)`` whose channel 1 is that
        contour's mask (1.0 inside, 0.0 outside), ready for
        :class:`RegionSelector`. Records must then have the contour column
        (``ocontour_path`` / ``icontour_path``) filled for every slice.
    n_jobs : int, default=None
        Processes used to read files (see :func:`skcardio.io.read_dicoms`):
        ``None`` or a nonzero int, ``-1`` for every core.
    memory : str, path-like or joblib.Memory, default=None
        Cache for decoded slices (a folder, or a :class:`joblib.Memory` or
        an object with its ``cache`` method); ``None`` disables caching.

    Attributes
    ----------
    n_features_in_ : int
        Always 1: each sample is one slice record.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.preprocessing import DicomLoader
    >>> frame = load_sample(require="o-contour").frame
    >>> DicomLoader().fit_transform(frame).shape
    (12, 256, 256)
    >>> DicomLoader(region="o-contour").fit_transform(frame[:3]).shape
    (3, 2, 256, 256)
    """

    def __init__(self, region=None, n_jobs=None, memory=None):
        self.region = region
        self.n_jobs = n_jobs
        self.memory = memory

    def fit(self, X, y=None):
        """Validate the parameters and the records; nothing is learned from ``X``.

        Parameters
        ----------
        X : structured array, table or sequence of paths
            Slice records such as ``load_dataset(...).frame`` (needs a
            ``dicom_path`` column) or DICOM paths.
        y : None
            Ignored (accepted for pipelines).

        Returns
        -------
        self : DicomLoader
            The fitted transformer.
        """
        self._check_region(X)
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        """Read the slices of ``X``.

        Parameters
        ----------
        X : structured array, table or sequence of paths
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n, H, W) or (n, 2, H, W), float32
            The images, or ``[image, region]`` pairs when ``region`` is set.
        """
        check_is_fitted(self)
        paths = self._check_region(X)
        slices = read_dicoms(paths, n_jobs=self.n_jobs, memory=self.memory)
        images = _stack([s.image for s in slices], paths)
        if self.region is None:
            return images
        column = f"{self.region[0]}contour_path"
        regions = [self._region(path, dicom, images.shape[1:]) for path, dicom in zip(record_column(X, column), paths)]
        return np.stack([images, np.stack(regions)], axis=1)

    def _check_region(self, X) -> list[str]:
        """Check the parameters and the records (before any file is read); the DICOM paths."""
        if self.region not in _REGIONS:
            raise ValueError(f"region must be one of {_REGIONS}, got {self.region!r}")
        if not (self.n_jobs is None or (is_int(self.n_jobs) and self.n_jobs != 0)):
            raise ValueError(
                f"DicomLoader(n_jobs={self.n_jobs!r}): n_jobs must be None or a nonzero int "
                "(processes reading the files, -1 for every core)"
            )
        _check_memory(self.memory)
        paths = check_records(X)
        if self.region is not None and not is_records(X):
            raise ValueError(
                f"region={self.region!r} needs slice records with a contour column, "
                "got plain paths; pass load_dataset(...).frame"
            )
        return paths

    def _region(self, contour_path: str, dicom_path: str, shape) -> np.ndarray:
        if not contour_path:
            raise ValueError(
                f"{dicom_path}: no {self.region} for this slice; keep only slices "
                f"that have it, e.g. load_dataset(root, require={self.region!r})"
            )
        return contour_to_mask(read_contour(contour_path), shape).astype(np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Slice records or paths (1-D), never a numeric 2-D table.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # file paths in, float32 images out
        return tags


def _check_memory(memory) -> None:
    """``memory`` is what :func:`~skcardio.io.read_dicoms` takes (checked without creating the folder)."""
    if not is_cache(memory):
        raise ValueError(
            f"DicomLoader(memory={memory!r}): memory must be None, a cache folder (str or path-like) "
            f"or a joblib.Memory, got type {type(memory).__name__}"
        )


def _stack(images: list[np.ndarray], paths: list[str]) -> np.ndarray:
    if not images:
        raise ValueError("no slices to load: X is empty")
    shape = images[0].shape
    for image, path in zip(images, paths):
        if image.shape != shape:
            raise ValueError(
                f"{path}: image shape {image.shape} differs from {shape} of {paths[0]}; "
                "slices stacked into one array must share a size"
            )
    return np.stack(images).astype(np.float32, copy=False)
