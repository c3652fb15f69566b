"""Blood-pool volume per phase by summation of discs, and the LV function derived from it."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._numbers import check_real, is_number
from ..exceptions import SkcardioWarning
from ..io import CineGeometry
from ..utils._validation import check_cine_masks

__all__ = ["CardiacFunction", "slice_areas", "lv_volumes", "volumes_from_areas", "cardiac_function"]


def slice_areas(masks: ArrayLike, geometry: CineGeometry) -> np.ndarray:
    """Blood-pool area of every image in mm², ``(n_phases, n_slices)``.

    ``area = pixels in the mask x row spacing x column spacing``.

    Parameters
    ----------
    masks : array-like of shape (n_phases, n_slices, H, W), bool
        Blood-pool masks of every image of the study.
    geometry : CineGeometry
        The study's geometry (its pixel spacing and number of slices).

    Returns
    -------
    ndarray of shape (n_phases, n_slices)
        Areas in mm².

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.clinical import slice_areas
    >>> from skcardio.io import CineGeometry
    >>> geometry = CineGeometry((1.5, 1.5), np.array([0.0, 8.0]), 8.0, "ImagePositionPatient", "",
    ...                         8.0, (0.0, 0.0, 1.0), np.zeros((1, 2)), np.ones((1, 2), int),
    ...                         np.empty((1, 2), object), ("1",))
    >>> masks = np.zeros((1, 2, 10, 10), bool); masks[0, 0, :4, :5] = True
    >>> slice_areas(masks, geometry)
    array([[45.,  0.]])
    """
    masks = check_cine_masks(masks, geometry.n_slices)
    row, col = geometry.pixel_spacing
    return masks.sum(axis=(2, 3)) * (row * col)


def lv_volumes(
    masks: ArrayLike,
    geometry: CineGeometry,
    *,
    slices: ArrayLike | None = None,
    observed: ArrayLike | None = None,
) -> np.ndarray:
    """Blood-pool volume of every phase in mL, by summation of discs.

    ``V[p] = sum over slices s of A[p, s] x t[s] / 1000`` with ``A`` the
    mask area in mm² (:func:`slice_areas`) and ``t[s]`` the thickness of the
    disc slice ``s`` stands for (:attr:`CineGeometry.disc_thickness`: the
    slice spacing on a regular stack, the mean of the gaps to the neighbours
    otherwise). Each slice is a disc of its measured area through the whole
    spacing (the modified Simpson's rule of cardiac MRI); the partial discs
    beyond the outermost slices are not extrapolated.

    Parameters
    ----------
    masks : array-like of shape (n_phases, n_slices, H, W), bool
        Blood-pool masks (expert, U-Net, classical...).
    geometry : CineGeometry
        The study's geometry (pixel spacing, slice positions).
    slices : array-like of shape (n_slices,), bool, or of slice indices, default=None
        Slices to count (e.g. :attr:`SliceSelection.keep`); all by default.
    observed : array-like of shape (n_phases, n_slices), bool, default=None
        Which images were segmented at all (expert contours exist only on
        some): a phase with no observed slice has volume NaN; unobserved
        slices of other phases count 0.

    Returns
    -------
    ndarray of shape (n_phases,)
        Volumes in mL (1 mL = 1000 mm³).

    Examples
    --------
    A cylinder of radius 10 pixels (1.25 mm each) on 5 slices 8 mm apart:

    >>> import numpy as np
    >>> from skcardio.clinical import lv_volumes
    >>> from skcardio.io import CineGeometry
    >>> geometry = CineGeometry((1.25, 1.25), np.arange(5) * 8.0, 8.0, "ImagePositionPatient", "",
    ...                         8.0, (0.0, 0.0, 1.0), np.zeros((2, 5)), np.ones((2, 5), int),
    ...                         np.empty((2, 5), object), ("1",))
    >>> rr, cc = np.mgrid[:64, :64]
    >>> disc = (rr - 32) ** 2 + (cc - 32) ** 2 <= 10 ** 2
    >>> masks = np.zeros((2, 5, 64, 64), bool); masks[0] = disc; masks[1, 1:4] = disc
    >>> lv_volumes(masks, geometry).round(2)  # 317 pixels x 1.5625 mm² x 8 mm x 5 (or 3) slices
    array([19.81, 11.89])
    """
    return volumes_from_areas(slice_areas(masks, geometry), geometry, slices=slices, observed=observed)


def volumes_from_areas(
    areas: ArrayLike,
    geometry: CineGeometry,
    *,
    slices: ArrayLike | None = None,
    observed: ArrayLike | None = None,
) -> np.ndarray:
    """Volume of every phase in mL from the blood-pool area of every image, by summation of discs.

    The formula of :func:`lv_volumes`, on areas already measured (e.g. the
    expert's polygon areas, :func:`~skcardio.clinical.expert_areas`).

    Parameters
    ----------
    areas : array-like of shape (n_phases, n_slices)
        Areas in mm².
    geometry : CineGeometry
        The study's geometry (slice positions).
    slices : array-like of shape (n_slices,), bool, or of slice indices, default=None
        Slices to count; all by default.
    observed : array-like of shape (n_phases, n_slices), bool, default=None
        Which images were measured: a phase with none has volume NaN.

    Returns
    -------
    ndarray of shape (n_phases,)
        Volumes in mL.

    Examples
    --------
    Two slices 8 mm apart, areas in mm² at two phases:

    >>> import numpy as np
    >>> from skcardio.clinical import volumes_from_areas
    >>> from skcardio.io import CineGeometry
    >>> geometry = CineGeometry((1.25, 1.25), np.array([0.0, 8.0]), 8.0, "ImagePositionPatient", "",
    ...                         8.0, (0.0, 0.0, 1.0), np.zeros((2, 2)), np.ones((2, 2), int),
    ...                         np.empty((2, 2), object), ("1",))
    >>> volumes_from_areas([[1000.0, 500.0], [600.0, 0.0]], geometry)  # (1000 + 500) x 8 / 1000 mL
    array([12. ,  4.8])
    """
    areas = np.asarray(areas, float)
    if areas.ndim != 2 or areas.shape[1] != geometry.n_slices:
        raise ValueError(
            f"areas must have shape (n_phases, n_slices) with the geometry's {geometry.n_slices} slice(s), "
            f"got {areas.shape}"
        )
    weights = geometry.disc_thickness.copy()
    if slices is not None:
        weights = weights * _slice_mask(slices, geometry.n_slices)
    volumes = areas @ weights / 1000.0
    if observed is not None:
        observed = np.asarray(observed, bool)
        if observed.shape != areas.shape:
            raise ValueError(f"observed must have shape {areas.shape}, got {observed.shape}")
        volumes = np.where(observed.any(axis=1), volumes, np.nan)
    return volumes


@dataclass(frozen=True)
class CardiacFunction:
    """Global LV function of one study (made by :func:`cardiac_function`).

    Parameters
    ----------
    edv, esv, sv : float
        End-diastolic, end-systolic and stroke volume in mL (``sv = edv - esv``).
    ef : float
        Ejection fraction in % (``100 x sv / edv``).
    ed_phase, es_phase : int
        Phases (0-based) taken as end-diastole and end-systole.
    heart_rate : float, default=NaN
        Beats per minute (NaN when unknown).
    cardiac_output : float, default=NaN
        ``sv x heart_rate / 1000`` in L/min (NaN when the heart rate is unknown).

    Examples
    --------
    The function of a volume curve (mL per phase) at 70 beats per minute:

    >>> from skcardio.clinical import cardiac_function
    >>> function = cardiac_function([120.0, 100.0, 60.0, 80.0], heart_rate=70)
    >>> function
    CardiacFunction(edv=120.0, esv=60.0, sv=60.0, ef=50.0, ed_phase=0, es_phase=2, heart_rate=70.0, cardiac_output=4.2)
    >>> function.as_dict()["cardiac_output"]  # L/min: 60 mL x 70 / min
    4.2
    """

    edv: float
    esv: float
    sv: float
    ef: float
    ed_phase: int
    es_phase: int
    heart_rate: float = math.nan
    cardiac_output: float = math.nan

    def as_dict(self) -> dict:
        """The attributes as a plain dict (for tables and JSON).

        Returns
        -------
        dict
            ``{field name: value}``, in the order of the fields.
        """
        return asdict(self)


def cardiac_function(
    volumes: ArrayLike,
    *,
    ed_phase: int | None = None,
    es_phase: int | None = None,
    heart_rate: float = math.nan,
) -> CardiacFunction:
    """EDV, ESV, SV, EF (and cardiac output) from the volume of every phase.

    End-diastole is the phase of largest volume and end-systole that of the
    smallest, unless given; NaN volumes (phases not segmented) are ignored.
    With a single finite volume (one phase measured, e.g. a study of selected
    slices) ED and ES are that phase, and SV, EF and cardiac output are NaN
    with a :class:`~skcardio.exceptions.SkcardioWarning`, not an EF of 0.

    Parameters
    ----------
    volumes : array-like of shape (n_phases,)
        Volume of every phase in mL, e.g. from :func:`lv_volumes`.
    ed_phase, es_phase : int, default=None
        Phases to use instead of the largest and smallest volume.
    heart_rate : float, default=NaN
        Beats per minute, e.g. :attr:`CineGeometry.heart_rate`.

    Returns
    -------
    CardiacFunction
        EDV, ESV, SV, EF, the ED and ES phases, heart rate and cardiac output.

    Examples
    --------
    >>> from skcardio.clinical import cardiac_function
    >>> f = cardiac_function([120.0, 100.0, 60.0, 80.0], heart_rate=70)
    >>> f.edv, f.esv, f.sv, f.ef, f.ed_phase, f.es_phase
    (120.0, 60.0, 60.0, 50.0, 0, 2)
    >>> round(f.cardiac_output, 2)  # L/min
    4.2
    """
    volumes = np.asarray(volumes, float)
    if volumes.ndim != 1 or not np.isfinite(volumes).any():
        raise ValueError(f"volumes must be a 1-D array with at least one finite value, got {volumes!r}")
    bad = np.isinf(volumes) | (volumes < 0)
    if bad.any():
        raise ValueError(
            f"volumes must be numbers >= 0 in mL (NaN for a phase not segmented), got {float(volumes[bad][0])!r} "
            f"at phase {int(np.argmax(bad))}"
        )
    if not (is_number(heart_rate) and math.isnan(heart_rate)):  # NaN: unknown
        check_real("heart_rate", heart_rate, "a positive number of beats per minute, or NaN", lambda v: v > 0)
    finite = np.where(np.isfinite(volumes), volumes, np.nan)
    ed = int(np.nanargmax(finite)) if ed_phase is None else _phase(ed_phase, volumes, "ed_phase")
    es = int(np.nanargmin(finite)) if es_phase is None else _phase(es_phase, volumes, "es_phase")
    edv, esv = float(volumes[ed]), float(volumes[es])
    sv = edv - esv
    ef = 100.0 * sv / edv if edv > 0 else math.nan
    if np.isfinite(volumes).sum() < 2:
        # One measured phase makes ED = ES and an EF of exactly 0: a number a
        # cohort table would average in, though nothing was measured.
        warnings.warn(
            f"only 1 of {len(volumes)} phase(s) has a volume, so end-diastole and end-systole "
            f"are the same phase ({ed}); SV, EF and cardiac output are NaN (they need "
            "at least two phases of the cycle)",
            SkcardioWarning,
            stacklevel=2,
        )
        sv = ef = math.nan
    if sv < 0:
        warnings.warn(
            f"the end-systolic volume (phase {es}, {esv:.4g} mL) exceeds the end-diastolic one (phase {ed}, "
            f"{edv:.4g} mL): EF {ef:.3g} %; were ed_phase and es_phase swapped?",
            SkcardioWarning,
            stacklevel=2,
        )
    rate = float(heart_rate)
    output = sv * rate / 1000.0 if math.isfinite(rate) else math.nan
    return CardiacFunction(edv, esv, sv, ef, ed, es, rate, output)


def _slice_mask(slices, n_slices: int) -> np.ndarray:
    """``slices`` as a bool mask of the study's slices: a mask of ``n_slices`` or slice indices."""
    slices = np.asarray(slices)
    if slices.dtype == bool:
        if slices.shape != (n_slices,):
            raise ValueError(f"slices as a bool mask must have shape ({n_slices},), got {slices.shape}")
        return slices
    if slices.size == 0:  # [] reads as float: no slice
        slices = slices.astype(int)
    if not (np.issubdtype(slices.dtype, np.integer) and slices.ndim == 1):
        raise ValueError(f"slices must be a bool mask of {n_slices} slices or slice indices, got {slices!r}")
    if len(slices) == n_slices and np.isin(slices, (0, 1)).all():
        # Before indices were accepted, keep.astype(int) was a mask: refuse rather than reread it.
        raise ValueError(
            f"slices {slices.tolist()} could be a mask of 0/1 or slice indices: pass a bool mask "
            "(slices.astype(bool)) or the indices of the slices to count (np.flatnonzero(slices))"
        )
    if slices.size and not (0 <= slices.min() and slices.max() < n_slices):
        raise ValueError(f"slice indices must be from 0 to {n_slices - 1}, got {slices.tolist()}")
    mask = np.zeros(n_slices, bool)
    mask[slices] = True
    return mask


def _phase(phase, volumes: np.ndarray, name: str) -> int:
    if not (isinstance(phase, (int, np.integer)) and 0 <= phase < len(volumes)):
        raise ValueError(f"{name} must be a phase index from 0 to {len(volumes) - 1}, got {phase!r}")
    if not np.isfinite(volumes[phase]):
        raise ValueError(f"{name}={phase} has no volume (NaN): that phase was not segmented")
    return int(phase)
