"""Which slices of a fully automatic segmentation hold the left ventricle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..io import CineGeometry
from ._volumes import slice_areas

__all__ = ["SliceSelection", "select_lv_slices"]


@dataclass(frozen=True)
class SliceSelection:
    """The outcome of :func:`select_lv_slices`: which slices count, and why.

    Parameters
    ----------
    keep : ndarray of shape (n_slices,), bool
        Slices counted in the volumes.
    reasons : tuple of str
        Per slice, why it was kept or excluded (one sentence).
    phases_found : ndarray of shape (n_slices,), int
        Phases in which the slice's blood pool reaches ``min_area_mm2``.
    max_area_mm2 : ndarray of shape (n_slices,)
        Largest blood-pool area of the slice over the cycle.
    offset_mm : ndarray of shape (n_slices,)
        Distance of the slice's pool centre from the LV axis (NaN if never found).

    Examples
    --------
    The 4 end-diastolic slices of the embedded sample, with the expert's
    masks, and the first slice's pool left out as if it had been missed:

    >>> from skcardio.clinical import expert_masks, select_lv_slices
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()
    >>> numbers = (99, 119, 139, 159)
    >>> study = read_cine([root / f"dicoms/SCD0000101/{n}.dcm" for n in numbers])
    >>> folder = root / "contourfiles/SC-HF-I-1/i-contours"
    >>> masks, _ = expert_masks(study, {n: folder / f"IM-0001-{n:04d}-icontour-manual.txt" for n in numbers})
    >>> masks[:, 0] = False
    >>> selection = select_lv_slices(masks, study.geometry)
    >>> selection.keep.tolist(), selection.reasons[0]
    ([False, True, True, True], 'excluded: blood pool found in 0 of 1 phases (< 50 %)')
    >>> selection.max_area_mm2.round(0).tolist(), selection.offset_mm.round(1).tolist()
    ([0.0, 2858.0, 2705.0, 2839.0], [nan, 1.2, 3.3, 3.3])
    """

    keep: np.ndarray
    reasons: tuple[str, ...]
    phases_found: np.ndarray
    max_area_mm2: np.ndarray
    offset_mm: np.ndarray

    def table(self, geometry: CineGeometry) -> list[dict]:
        """One row per slice: index, position, kept, reason, phases found, largest area.

        Parameters
        ----------
        geometry : CineGeometry
            The study's geometry (for the slice positions).

        Returns
        -------
        list of dict
            One dict per slice with the keys ``slice``, ``position_mm``,
            ``kept``, ``reason``, ``phases_found`` and ``max_area_mm2``.
        """
        return [
            {
                "slice": i,
                "position_mm": round(float(geometry.slice_positions[i]), 2),
                "kept": bool(self.keep[i]),
                "reason": self.reasons[i],
                "phases_found": int(self.phases_found[i]),
                "max_area_mm2": round(float(self.max_area_mm2[i]), 1),
            }
            for i in range(len(self.keep))
        ]


def select_lv_slices(
    masks: ArrayLike,
    geometry: CineGeometry,
    *,
    min_area_mm2: float = 20.0,
    min_phase_fraction: float = 0.5,
    max_offset_mm: float = 25.0,
) -> SliceSelection:
    """Decide which slices of an automatically segmented study hold the LV.

    A segmenter run on every image also answers on slices above the base
    (atria, outflow tract) and below the apex, where any blood pool it finds
    is wrong. The rule, applied in this order:

    1. **found**: the slice's pool covers at least ``min_area_mm2`` in at
       least ``min_phase_fraction`` of the phases (a true LV slice shows the
       cavity most of the cycle; a stray detection flickers);
    2. **on the axis**: the median centre of its pool over the phases lies
       within ``max_offset_mm`` of the LV axis (the area-weighted median of
       those centres over the slices found), so that an atrium or right
       ventricle picked up beyond the base is dropped;
    3. **contiguous**: only the longest run of neighbouring slices passing 1
       and 2 is kept: the LV is one stack of slices.

    In the slices kept, every phase's mask counts as predicted (an apex
    empty at end-systole counts 0).

    Parameters
    ----------
    masks : array-like of shape (n_phases, n_slices, H, W), bool
        Automatic blood-pool masks of every image of the study.
    geometry : CineGeometry
        The study's geometry (pixel spacing, slice positions).
    min_area_mm2 : float, default=20
        Smallest pool area (mm²) that counts as found in a phase (rule 1).
    min_phase_fraction : float, default=0.5
        Fraction of the phases in which a slice's pool must be found (rule 1).
    max_offset_mm : float, default=25
        Largest distance of a slice's pool centre from the LV axis (rule 2).

    Returns
    -------
    SliceSelection
        The slices kept, with the reason for every slice.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.clinical import select_lv_slices
    >>> from skcardio.io import CineGeometry
    >>> geometry = CineGeometry((1.0, 1.0), np.arange(4) * 8.0, 8.0, "ImagePositionPatient", "",
    ...                         8.0, (0.0, 0.0, 1.0), np.zeros((4, 4)), np.ones((4, 4), int),
    ...                         np.empty((4, 4), object), ("1",))
    >>> masks = np.zeros((4, 4, 64, 64), bool)
    >>> masks[:, 1:3, 20:30, 20:30] = True   # the LV on slices 1 and 2
    >>> masks[0, 3, 50:60, 50:60] = True      # a flicker on slice 3
    >>> selection = select_lv_slices(masks, geometry)
    >>> selection.keep
    array([False,  True,  True, False])
    >>> selection.reasons[3]
    'excluded: blood pool found in 1 of 4 phases (< 50 %)'
    """
    areas = slice_areas(masks, geometry)
    masks = np.asarray(masks)
    n_phases, n_slices = areas.shape
    present = areas >= min_area_mm2
    found = present.sum(axis=0)
    reasons = [""] * n_slices
    keep = found >= min_phase_fraction * n_phases
    for s in np.flatnonzero(~keep):
        reasons[s] = (
            f"excluded: blood pool found in {found[s]} of {n_phases} phases (< {min_phase_fraction * 100:g} %)"
        )
    centres = _centres(masks, present, geometry)
    offsets = np.full(n_slices, np.nan)
    if keep.any():
        weights = areas.max(axis=0)[keep]
        axis = np.array([_weighted_median(centres[keep, k], weights) for k in range(2)])
        offsets = np.linalg.norm(centres - axis, axis=1)
        far = keep & (offsets > max_offset_mm)
        for s in np.flatnonzero(far):
            reasons[s] = f"excluded: pool centre {offsets[s]:.0f} mm from the LV axis (> {max_offset_mm:g} mm)"
        keep &= ~far
    run = _longest_run(keep)
    for s in np.flatnonzero(keep & ~run):
        reasons[s] = "excluded: separated from the LV stack by an excluded slice"
    keep = run
    for s in np.flatnonzero(keep):
        reasons[s] = f"kept: blood pool in {found[s]} of {n_phases} phases, {offsets[s]:.0f} mm from the LV axis"
    return SliceSelection(keep, tuple(reasons), found, areas.max(axis=0), offsets)


def _centres(masks: np.ndarray, present: np.ndarray, geometry: CineGeometry) -> np.ndarray:
    """Median pool centre (row, col) in mm of each slice over the phases where it is found."""
    spacing = np.asarray(geometry.pixel_spacing, float)
    centres = np.full((masks.shape[1], 2), np.nan)
    for s in range(masks.shape[1]):
        points = [np.argwhere(masks[p, s]).mean(axis=0) for p in np.flatnonzero(present[:, s])]
        if points:
            centres[s] = np.median(points, axis=0) * spacing
    return centres


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _longest_run(keep: np.ndarray) -> np.ndarray:
    """The longest run of consecutive True (the first one on a tie)."""
    best, start, result = 0, None, np.zeros_like(keep)
    for i, value in enumerate(list(keep) + [False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if i - start > best:
                best, result = i - start, np.zeros_like(keep)
                result[start:i] = True
            start = None
    return result
