"""KMeansSegmenter: k-means on region intensities, brightest cluster = blood pool."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from .._numbers import is_int
from ._base import BaseSegmenter, DegenerateSliceError, fill_doc

__all__ = ["KMeansSegmenter"]

_FIT_MODES = ("per_slice", "global")
_SEED_MAX = np.iinfo(np.int32).max


@fill_doc
class KMeansSegmenter(BaseSegmenter):
    """Blood pool = region pixels of the brightest k-means intensity cluster.

    :class:`sklearn.cluster.KMeans` clusters the region's (pre-processed)
    intensities; pixels assigned to the brightest centre form the mask, then
    post-processing applies. In 1-D this is a threshold half-way between the
    two brightest centres.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of intensity clusters (>= 2), e.g. 3 for blood pool,
        myocardium and partial-volume / papillary pixels.
    fit_mode : {"per_slice", "global"}, default="per_slice"
        ``"per_slice"``: cluster each slice's region at ``predict`` (``fit``
        learns nothing). ``"global"``: ``fit`` learns the cluster centres
        from the region pixels of all training slices and ``predict`` assigns
        each pixel to the nearest; use a normalisation so that intensities
        of different scans are comparable.
    n_init : "auto" or int, default="auto"
        Passed to :class:`~sklearn.cluster.KMeans`.
    random_state : int, RandomState instance or None, default=None
        Seeds k-means initialisation (``check_random_state`` in ``fit``). An
        int gives reproducible masks; a fitted estimator gives the same masks
        at every ``predict`` call in both modes.
    {preprocess_params}
    {postprocess_params}

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters,) or None
        Global mode: the learned centres in increasing order (in the units
        of the pre-processed intensities). ``None`` in per-slice mode.

    See Also
    --------
    ThresholdSegmenter : Otsu and the other global thresholds.

    Notes
    -----
    {post_steps}

    {degenerate} In per-slice mode, a slice needs at least ``n_clusters``
    distinct intensities in its region.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import KMeansSegmenter
    >>> image = np.full((1, 7, 7), np.nan)
    >>> image[0, 1:6, 1:6] = 10.0
    >>> image[0, 2:5, 2:5] = 50.0
    >>> seg = KMeansSegmenter(random_state=0).fit(image)
    >>> int(seg.predict(image).sum())
    9
    >>> seg = KMeansSegmenter(fit_mode="global", random_state=0).fit(image)
    >>> seg.cluster_centers_.round(2)
    array([-0.75,  1.33])
    """

    def __init__(
        self,
        n_clusters=2,
        *,
        fit_mode="per_slice",
        n_init="auto",
        random_state=None,
        contrast=None,
        normalize="zscore",
        sigma=0.0,
        border_margin=0,
        opening=0,
        keep_largest=False,
        fill_holes=False,
        convex_hull=False,
        dilation=0,
    ):
        self.n_clusters = n_clusters
        self.fit_mode = fit_mode
        self.n_init = n_init
        self.random_state = random_state
        self.contrast = contrast
        self.normalize = normalize
        self.sigma = sigma
        self.border_margin = border_margin
        self.opening = opening
        self.keep_largest = keep_largest
        self.fill_holes = fill_holes
        self.convex_hull = convex_hull
        self.dilation = dilation

    def _validate_own_params(self) -> None:
        if not (is_int(self.n_clusters) and self.n_clusters >= 2):
            raise ValueError(f"n_clusters must be an int >= 2, got {self.n_clusters!r}")
        if self.fit_mode not in _FIT_MODES:
            raise ValueError(f"fit_mode must be one of {_FIT_MODES}, got {self.fit_mode!r}")
        # Checked here, not left to KMeans: per-slice k-means only runs in predict.
        auto = isinstance(self.n_init, str) and self.n_init == "auto"
        if not auto and not (is_int(self.n_init) and self.n_init >= 1):
            raise ValueError(f'n_init must be "auto" or an int >= 1, got {self.n_init!r}')

    def _fit(self, images: np.ndarray) -> None:
        random_state = check_random_state(self.random_state)
        # One seed drawn here makes every later predict call reproducible.
        self._seed = int(random_state.randint(_SEED_MAX))
        if self.fit_mode == "per_slice":
            self.cluster_centers_ = None
            return
        values = np.concatenate([self._region_values(image) for image in images])
        if np.unique(values).size < self.n_clusters:
            raise ValueError(
                f"global k-means needs at least n_clusters={self.n_clusters} distinct "
                f"region intensities in the training images, got {np.unique(values).size}"
            )
        self.cluster_centers_ = np.sort(self._kmeans_centres(values))

    def _region_values(self, image: np.ndarray) -> np.ndarray:
        try:
            _, pre, region = self._preprocessed_region(image)
        except DegenerateSliceError:
            return np.empty(0)  # degenerate training slice: nothing to learn from
        return pre[region]

    def _kmeans_centres(self, values: np.ndarray) -> np.ndarray:
        kmeans = KMeans(self.n_clusters, n_init=self.n_init, random_state=self._seed)
        return kmeans.fit(values.reshape(-1, 1)).cluster_centers_.ravel()

    def predict(self, X):
        # set_params(fit_mode="global") after a per-slice fit: no centres were
        # learned, and indexing None would fail with a bare TypeError.
        if self.fit_mode == "global" and getattr(self, "cluster_centers_", False) is None:
            raise NotFittedError(
                "fit_mode='global' predicts with the cluster centres learned by fit, but this "
                "KMeansSegmenter was fitted with fit_mode='per_slice' (no centres): call fit again "
                "after set_params"
            )
        return super().predict(X)

    predict.__doc__ = BaseSegmenter.predict.__doc__

    def _slice_loop_context(self):
        # A slice has a few thousand 1-D values: OpenMP threads only add
        # start-up and contention costs (10x slower on 2 busy cores).
        return threadpool_limits(limits=1, user_api="openmp")

    def _segment_slice(self, image: np.ndarray, region: np.ndarray) -> np.ndarray:
        if self.fit_mode == "global":
            centres = self.cluster_centers_
        else:
            values = image[region]
            n_distinct = np.unique(values).size
            if n_distinct < self.n_clusters:
                raise DegenerateSliceError(
                    f"{n_distinct} distinct intensities for n_clusters={self.n_clusters}"
                )
            centres = np.sort(self._kmeans_centres(values))
        # Nearest-centre assignment in 1-D: the brightest cluster is everything
        # above the midpoint of the two brightest centres.
        return (image > (centres[-2] + centres[-1]) / 2) & region
