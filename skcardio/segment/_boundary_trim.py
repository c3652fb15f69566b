"""Trim a blood-pool mask's dark rim: boundary pixels that look like myocardium.

A network's blood pool can reach a pixel or so further out than an expert
draws, most of all at end-systole, where the pool is small and the
trabeculae crowd it: a small excess of the end-systolic volume is a large
error of the ejection fraction. These functions put the outline where the
intensity says blood meets myocardium, at a contrast level measured on
expert labels:

* :func:`boundary_contrast` -- each pixel's intensity on the scale
  myocardium 0, blood pool 1, measured around one mask;
* :func:`calibrate_boundary_level` -- the level on that scale that best
  separates the pixels just inside expert outlines from those just outside;
* :func:`trim_dark_boundary` -- removes the mask's rim pixels below a level;
* :class:`BoundaryTrimmer` -- wraps a segmenter: calibrates in ``fit``, trims in ``predict``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage as ndi
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, _routing_enabled, process_routing
from sklearn.utils.validation import check_is_fitted

from .._numbers import check_real, is_nonnegative_int
from ..utils._validation import check_finite_images, check_slice_masks
from ._base import DiceScoreMixin

__all__ = [
    "SUNNYBROOK_BOUNDARY_LEVEL",
    "BoundaryTrimmer",
    "boundary_contrast",
    "calibrate_boundary_level",
    "trim_dark_boundary",
]

#: Width (pixels) of the ring outside a mask whose median is the myocardium's intensity.
MYOCARDIUM_RING = 3
_EIGHT = np.ones((3, 3), bool)  # 8-connectivity, as skcardio's other mask steps

#: The level of the Sunnybrook experts' i-contours: ``calibrate_boundary_level`` on the 96 contoured
#: DICOM slices of the five shared patients (0.14496..., ``band=2``), rounded; ``skcardio report``
#: trims at it by default. tests/segment/test_boundary_trim.py re-measures it when the data is there.
SUNNYBROOK_BOUNDARY_LEVEL = 0.145


def _check_band(band) -> int:
    if not is_nonnegative_int(band) or band < 1:
        raise ValueError(f"band must be an int >= 1 (pixels), got {band!r}")
    return int(band)


#: Why the rim steps need finite pixels, for the message that refuses NaN or infinity.
_FINITE_REASON = (
    "the pool's and the wall's levels are measured on the pixels inside and around each mask "
    "(NaN outside a region, as RegionSelector gives, hides the wall)"
)


def _check_images_and_masks(
    images: ArrayLike, masks: ArrayLike, owner: str
) -> tuple[np.ndarray, np.ndarray]:
    """Images and masks of one shape ``(..., H, W)`` (at least 3-D), as ``(n, H, W)`` float32 and bool.

    ``owner`` is the function or estimator named if the images are not finite.
    """
    images, masks = np.asarray(images), np.asarray(masks)
    if masks.shape != images.shape:
        raise ValueError(f"masks must have the images' shape {images.shape}, got {masks.shape}")
    if images.ndim < 3:
        raise ValueError(f"expected images of shape (..., H, W) with n >= 1 slice, e.g. (n, H, W), got shape {images.shape}")
    images = check_finite_images(images.reshape(-1, *images.shape[-2:]), owner, _FINITE_REASON)
    return images, check_slice_masks(masks.reshape(images.shape), len(images))


def _rim_and_contrast(
    image: np.ndarray, mask: np.ndarray, band: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The hole-filled mask, its interior (``band`` px inside the outline) and the contrast map, or None.

    Holes are filled first so that the pixels around one (a papillary muscle
    inside the pool) count as interior, not as rim.
    """
    filled = ndi.binary_fill_holes(mask)
    interior = ndi.binary_erosion(filled, iterations=band)
    ring = ndi.binary_dilation(filled, iterations=MYOCARDIUM_RING) & ~filled
    pool_pixels = interior & mask
    if not pool_pixels.any() or not ring.any():
        return filled, interior, None
    # float64 throughout: levels are compared with these values, and a float32 scale would
    # round a level between two neighbouring values onto one of them.
    image = image.astype(np.float64)
    pool, wall = np.median(image[pool_pixels]), np.median(image[ring])
    if not pool > wall:
        return filled, interior, None
    return filled, interior, (image - wall) / (pool - wall)


def boundary_contrast(image: ArrayLike, mask: ArrayLike, *, band: int = 2) -> np.ndarray | None:
    """Rescale one slice's intensities to myocardium 0 and blood pool 1 around ``mask``.

    The blood pool's level is the median of the mask without its outer
    ``band`` pixels (holes filled first, so the pixels around a papillary
    muscle are not rim); the myocardium's, the median of the
    ``MYOCARDIUM_RING`` (3) pixels just outside the mask. Bright-blood (cine
    SSFP) images are assumed: the pool is brighter than the wall.

    Parameters
    ----------
    image : array-like of shape (H, W)
        Finite intensities, any unit (the scale is relative).
    mask : array-like of shape (H, W), bool
        A blood-pool mask (an expert's or a model's).
    band : int, default=2
        Pixels of the mask's rim left out of the pool's level.

    Returns
    -------
    ndarray of shape (H, W) or None
        ``(image - myocardium) / (pool - myocardium)`` (float64); None where
        no level can be measured: the mask has no pixel ``band`` pixels
        inside its outline, or nothing around it, or the pool is not
        brighter than the ring.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import boundary_contrast
    >>> image = np.full((20, 20), 100.0); image[5:15, 5:15] = 300.0
    >>> z = boundary_contrast(image, image > 200)
    >>> float(z[10, 10]), float(z[0, 0])
    (1.0, 0.0)
    """
    band = _check_band(band)
    if np.ndim(image) != 2:
        raise ValueError(f"image must be one (H, W) slice, got shape {np.shape(image)}")
    images, masks = _check_images_and_masks(np.asarray(image)[None], np.asarray(mask)[None], "boundary_contrast")
    return _rim_and_contrast(images[0], masks[0], band)[2]


def calibrate_boundary_level(images: ArrayLike, masks: ArrayLike, *, band: int = 2) -> float:
    """The contrast level at which expert outlines run: the best split of their rim pixels.

    For every slice, the pixels within ``band`` of the expert's outline,
    inside and outside it, are put on the scale of :func:`boundary_contrast`
    (myocardium 0, blood pool 1, measured around the expert's mask). The
    level returned classifies the most of them correctly as "inside if at
    least this bright" (ties: the lowest such level; halfway between the two
    observed values it falls between, or the lowest value when every pixel
    is best called inside). Slices whose level cannot be measured (see
    :func:`boundary_contrast`) are left out.

    Parameters
    ----------
    images : array-like of shape (n, H, W)
        Finite intensities. Only images of one kind should be mixed (e.g.
        scanner-unit DICOMs, not with 8-bit exports windowed otherwise).
    masks : array-like of shape (n, H, W), bool
        The expert's blood-pool masks.
    band : int, default=2
        Width (pixels) of the rim on each side of the outline.

    Returns
    -------
    float
        The level, for :func:`trim_dark_boundary`'s ``level``.

    Raises
    ------
    ValueError
        If the arguments are invalid, or no slice has a measurable level.

    Examples
    --------
    A bright disc whose outline an expert drew through pixels at 40 % of
    the way from wall to pool:

    >>> import numpy as np
    >>> from skcardio.segment import calibrate_boundary_level
    >>> rows, cols = np.mgrid[:40, :40]
    >>> r = np.hypot(rows - 20, cols - 20)
    >>> image = 100 + 200 * np.clip((12 - r) / 4 + 0.4, 0, 1)  # 0.4 at r = 12
    >>> level = calibrate_boundary_level(image[None], (r <= 12)[None])
    >>> bool(0.3 < level < 0.5)
    True
    """
    band = _check_band(band)
    return _calibrate(*_check_images_and_masks(images, masks, "calibrate_boundary_level"), band)


def _calibrate(images: np.ndarray, masks: np.ndarray, band: int) -> float:
    """:func:`calibrate_boundary_level` on checked images and masks."""
    values, inside = [], []
    for image, mask in zip(images, masks):
        filled, interior, z = _rim_and_contrast(image, mask, band)
        if z is None:
            continue
        rim_in = mask & ~interior
        rim_out = ndi.binary_dilation(filled, iterations=band) & ~filled
        values += [z[rim_in], z[rim_out]]
        inside += [np.ones(rim_in.sum(), bool), np.zeros(rim_out.sum(), bool)]
    if not values:
        raise ValueError(
            f"no slice of the {len(images)} given has a measurable pool and wall level "
            f"(a mask with pixels {band} inside its outline, darker pixels around it)"
        )
    return _best_split(np.concatenate(values), np.concatenate(inside))


def _best_split(values: np.ndarray, inside: np.ndarray) -> float:
    """The lowest level ``t`` maximising ``#(inside & values >= t) + #(~inside & values < t)``."""
    # float64: the midpoint of two neighbouring float32 values would round to one of them.
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    values, inside = values[order], inside[order]
    # Candidate k puts values[:k] below the level: the outside ones there are
    # right, and so are the inside ones from k on.
    outside_below = np.concatenate([[0], np.cumsum(~inside)])
    inside_above = inside.sum() - np.concatenate([[0], np.cumsum(inside)])
    correct = outside_below + inside_above
    # Only levels between distinct values can be told apart; argmax takes the lowest of ties.
    candidates = np.flatnonzero(np.concatenate([[True], values[1:] > values[:-1], [True]]))
    k = int(candidates[np.argmax(correct[candidates])])
    if k == 0:
        return float(values[0])
    if k == len(values):
        return float(np.nextafter(values[-1], np.inf))
    middle = (values[k - 1] + values[k]) / 2
    return float(values[k] if middle <= values[k - 1] else middle)  # neighbouring doubles: the upper one


def trim_dark_boundary(
    images: ArrayLike, masks: ArrayLike, *, level: float, band: int = 2
) -> np.ndarray:
    """Remove the rim pixels of each mask that are darker than ``level`` on the contrast scale.

    Per slice, the mask's pixels within ``band`` of its outline whose
    :func:`boundary_contrast` is below ``level`` (myocardium 0, blood
    pool 1) are removed, and so are the pieces this cuts off from the
    mask's interior. The interior (``band`` pixels inside the hole-filled
    outline) is never touched: dark papillary muscles inside the pool stay,
    and so do the pixels around them. Nothing is added; a separate piece of
    the mask too thin to have an interior loses its dark pixels only; a
    slice whose levels cannot be measured is returned as it is.

    Parameters
    ----------
    images : array-like of shape (n, H, W) or (..., H, W)
        Finite intensities, e.g. a cine study's ``(n_phases, n_slices, H, W)``.
    masks : array-like of the images' shape, bool
        Blood-pool masks, e.g. a segmenter's ``predict``.
    level : float
        The contrast level, e.g. from :func:`calibrate_boundary_level` on expert
        labels of the same kind of images with the same ``band``, or
        ``SUNNYBROOK_BOUNDARY_LEVEL`` (0.145), the Sunnybrook experts' on the
        shared DICOM patients (measured with ``band=2``).
    band : int, default=2
        Width (pixels) of the rim that may be trimmed.

    Returns
    -------
    ndarray of the masks' shape, bool
        The trimmed masks (a new array).

    Examples
    --------
    A mask one pixel wider than the bright pool loses that dark ring:

    >>> import numpy as np
    >>> from skcardio.segment import trim_dark_boundary
    >>> image = np.full((1, 20, 20), 100.0); image[0, 5:15, 5:15] = 300.0
    >>> mask = np.zeros((1, 20, 20), bool); mask[0, 4:16, 4:16] = True
    >>> trimmed = trim_dark_boundary(image, mask, level=0.15)
    >>> int(mask.sum()), int(trimmed.sum()), bool((trimmed == (image > 200)).all())
    (144, 100, True)
    """
    check_real("level", level, "a finite number (a contrast level)", lambda value: True)
    band = _check_band(band)
    shape = np.shape(masks)
    images, masks = _check_images_and_masks(images, masks, "trim_dark_boundary")
    out = masks.copy()
    for i, (image, mask) in enumerate(zip(images, masks)):
        _, interior, z = _rim_and_contrast(image, mask, band)
        if z is None:
            continue
        kept = mask & ~(~interior & (z < level))
        core = interior & mask  # never removed
        # Rim that the trimming cut off from the interior of its piece goes with it;
        # pieces that had no interior to begin with keep their bright pixels.
        pieces, _ = ndi.label(mask, structure=_EIGHT)
        anchored = np.isin(pieces, np.unique(pieces[core]))
        parts, _ = ndi.label(kept, structure=_EIGHT)
        out[i] = kept & (np.isin(parts, np.unique(parts[core])) | ~anchored)
    return out.reshape(shape)


class BoundaryTrimmer(DiceScoreMixin, MetaEstimatorMixin, BaseEstimator):
    """A segmenter's blood pools with their dark rim trimmed at a level learnt from the labels.

    ``fit`` fits a clone of ``estimator`` (a segmenter) and measures, on the same expert
    masks, the contrast level at which their outlines run
    (:func:`calibrate_boundary_level`); ``predict`` trims the segmenter's
    masks there (:func:`trim_dark_boundary`). Inside grouped
    cross-validation the level is thus measured on each fold's training
    patients only. An already fitted segmenter is kept as it is when
    wrapped in :class:`sklearn.frozen.FrozenEstimator`.

    ``X`` goes to the segmenter as it is; the rim is measured on its
    images, which must be finite: whole images ``(n, H, W)``, or
    ``(n, C, H, W)`` arrays whose channel 0 is the image, such as the
    ``[image, region]`` pairs of ``DicomLoader(region="o-contour")`` and
    ``PredictedRegion`` (for a classical pipeline that starts with
    ``RegionSelector``). Not images with NaN outside a region (the wall
    around each mask must be seen), nor slice records (load them first).

    Parameters
    ----------
    estimator : estimator
        A segmenter of ``X`` into blood-pool masks ``(n, H, W)``: e.g.
        :class:`UNetSegmenter` on whole images, or
        ``make_classical_pipeline()`` on ``[image, region]`` pairs.
    level : "calibrate" or float, default="calibrate"
        ``"calibrate"``: measured on ``fit``'s ``y``; a number: used as it
        is (e.g. ``SUNNYBROOK_BOUNDARY_LEVEL``).
    band : int, default=2
        Width (pixels) of the rim, for calibration and trimming.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    level_ : float
        The level the masks are trimmed at.

    See Also
    --------
    trim_dark_boundary : The trimming, on masks already predicted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skcardio.segment import BoundaryTrimmer
    >>> class Wide(BaseEstimator):  # stands in for a segmenter that draws too far out
    ...     def fit(self, X, y):
    ...         return self
    ...     def predict(self, X):
    ...         return X > 110
    >>> rows, cols = np.mgrid[:32, :32]
    >>> r = np.hypot(rows - 16, cols - 16)
    >>> X = (100 + 200 * np.clip((9 - r) / 4 + 0.3, 0, 1))[None]  # outline drawn at 0.3
    >>> y = r[None] <= 9
    >>> trimmer = BoundaryTrimmer(Wide()).fit(X, y)
    >>> from skcardio.metrics import dice_score
    >>> round(trimmer.level_, 2), round(dice_score(y, Wide().predict(X)), 3), trimmer.score(X, y)
    (0.29, 0.907, 1.0)
    """

    def __init__(self, estimator, *, level: str | float = "calibrate", band: int = 2):
        self.estimator = estimator
        self.level = level
        self.band = band

    def fit(self, X: ArrayLike, y: ArrayLike, **fit_params) -> BoundaryTrimmer:
        """Fit a clone of the segmenter on ``(X, y)`` and set the level.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Finite images, or arrays whose channel 0 is the (finite) image,
            e.g. ``[image, region]`` pairs.
        y : array-like of shape (n, H, W), bool
            Expert blood-pool masks.
        **fit_params : dict
            Passed to the segmenter's ``fit`` (e.g. ``groups``). With
            scikit-learn's metadata routing enabled, only what the segmenter
            requested (``set_fit_request(groups=True)``) reaches it, as in
            ``cross_validate(..., params={"groups": groups})``.

        Returns
        -------
        BoundaryTrimmer
            This estimator, fitted.
        """
        band = _check_band(self.band)
        if not (isinstance(self.level, str) and self.level == "calibrate"):
            check_real("level", self.level, '"calibrate" or a finite number (a contrast level)', lambda v: True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; "
                "expected the expert's masks (n, H, W)"
            )
        # The level first (it validates X and y): cheap, and labels without one should fail
        # before a long training.
        images, masks = _check_images_and_masks(self._images(X), y, type(self).__name__)
        level = _calibrate(images, masks, band) if isinstance(self.level, str) else float(self.level)
        if _routing_enabled():
            fit_params = process_routing(self, "fit", **fit_params).estimator.fit
        self.estimator_, self.level_ = clone(self.estimator).fit(X, y, **fit_params), level
        return self

    def get_metadata_routing(self) -> MetadataRouter:
        """How ``fit``'s metadata (e.g. ``groups``) reaches the wrapped segmenter.

        Returns
        -------
        MetadataRouter
            ``fit``'s metadata routed to the segmenter's ``fit``.
        """
        # add_self_request: its own requests (score's sample_weight) are kept as well.
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(estimator=self.estimator, method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        )

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The segmenter's masks of ``X`` with their dark rim trimmed at ``level_``.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            As in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n, H, W), bool
            The trimmed masks.
        """
        check_is_fitted(self)
        images = self._images(X)  # before the segmenter runs: NaN would fail only after it
        return trim_dark_boundary(images, self.estimator_.predict(X), level=self.level_, band=self.band)

    def _images(self, X) -> np.ndarray:
        """The finite images ``(n, H, W)`` the rim is measured on: ``X``, or channel 0 of ``(n, C, H, W)``."""
        return check_finite_images(X, type(self).__name__, _FINITE_REASON, channels=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        return tags
