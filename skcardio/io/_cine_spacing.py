"""The slice spacing and heart rate of a cine study, from its positions and header (:func:`~skcardio.io.read_cine`).

Split out of :mod:`skcardio.io._cine`: what the geometry's ``slice_spacing``, ``spacing_source``,
``spacing_check``, ``slice_thickness`` and ``heart_rate`` are, and the notes (warnings) on the way.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..exceptions import StudyError
from ._cine_order import _files
from ._dicom import DicomSlice
from ._limits import HEART_RATE_BPM, SLICE_SPACING_MM, PhysicalRange

#: A gap between neighbouring slices differing from the median gap by more
#: than this fraction (and 0.5 mm) is irregular; so is a SpacingBetweenSlices
#: differing from the measured spacing by more than this fraction.
GAP_TOLERANCE = 0.1


def _check_gaps(positions: np.ndarray, first: list[DicomSlice], use_positions: bool, where: str) -> None:
    """Refuse neighbouring slices further apart than any heart (positions of 1e300 mm, two stacks)."""
    gaps = np.diff(positions)
    far = [i for i, gap in enumerate(gaps) if gap not in SLICE_SPACING_MM]
    if far:
        i, source = far[0], "ImagePositionPatient" if use_positions else "SliceLocation"
        raise StudyError(
            f"{where}: neighbouring slice positions {positions[i]:.6g} mm ({Path(first[i].path).name}) and "
            f"{positions[i + 1]:.6g} mm ({Path(first[i + 1].path).name}) lie {gaps[i]:.6g} mm apart along "
            f"the stack normal ({source}): {SLICE_SPACING_MM.expected()}"
        )


def _screened(flat, attribute: str, plausible: PhysicalRange, to_range=None) -> tuple[list[float], list[DicomSlice]]:
    """The present values of an optional element within ``plausible`` (through ``to_range``), and the files out of it."""
    present = [s for s in flat if math.isfinite(getattr(s, attribute))]
    convert = to_range or (lambda value: value)
    inside = [convert(getattr(s, attribute)) in plausible for s in present]
    kept = [getattr(s, attribute) for s, ok in zip(present, inside) if ok]
    return kept, [s for s, ok in zip(present, inside) if not ok]


def _found(element: str, odd: list[DicomSlice], attribute: str, unit: str, n_files: int) -> str:
    """``'HeartRate 1e+09 bpm in 3 of 20 file(s) (1.dcm, ...)'``: the values out of range and their files."""
    values = sorted({getattr(s, attribute) for s in odd})
    listed = ", ".join(f"{v:g}" for v in values[:3]) + (" ..." if len(values) > 3 else "")
    return f"{element} {listed} {unit} in {len(odd)} of {n_files} file(s) ({_files(odd)})"


def _header_distance(
    flat, attribute: str, element: str, used: bool, where: str, notes: list[str], size=None
) -> float:
    """Median SpacingBetweenSlices or SliceThickness in mm (NaN if absent), within ``SLICE_SPACING_MM``.

    Values out of range are an error when ``used`` (they would be the slice
    spacing), else left out with a note. ``size`` (e.g. ``abs``) maps a
    value to the distance it stands for before both.
    """
    values, odd = _screened(flat, attribute, SLICE_SPACING_MM, size)
    values = [size(v) for v in values] if size else values
    if odd:
        found = _found(element, odd, attribute, "mm", len(flat))
        if used:
            raise StudyError(
                f"{where}: one slice position, whose slice spacing would be {found}: {SLICE_SPACING_MM.expected()}"
            )
        notes.append(f"{found} ignored: {SLICE_SPACING_MM.expected()}")
    return _median(values)


def _median(values) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.median(finite)) if finite else math.nan


def _spacing(positions, header_gap, thickness, first, use_positions, notes) -> tuple[float, str, str]:
    """The slice spacing used, its source, and how the header agrees (irregular gaps noted)."""
    if len(positions) < 2:
        if math.isfinite(header_gap):
            return header_gap, "SpacingBetweenSlices", "one slice position: SpacingBetweenSlices used"
        return thickness, "SliceThickness", "one slice position and no SpacingBetweenSlices: SliceThickness used"
    gaps = np.diff(positions)
    spacing = float(np.median(gaps))
    irregular = np.flatnonzero(np.abs(gaps - spacing) > max(GAP_TOLERANCE * spacing, 0.5))
    for i in irregular[:3]:
        notes.append(
            f"irregular slice gap: {gaps[i]:.2f} mm between positions {positions[i]:.2f} mm "
            f"({Path(first[i].path).name}) and {positions[i + 1]:.2f} mm ({Path(first[i + 1].path).name}), "
            f"median gap {spacing:.2f} mm; each slice's disc spans half the gaps to its neighbours"
        )
    if not use_positions:
        header = _over_slice_location(spacing, header_gap, thickness, notes)
        if header is not None:
            return header
    source = "ImagePositionPatient" if use_positions else "SliceLocation"
    if math.isfinite(header_gap):
        if abs(header_gap - spacing) > GAP_TOLERANCE * spacing:
            check = (
                f"SpacingBetweenSlices {header_gap:g} mm disagrees with the {spacing:.2f} mm between positions; "
                "positions used"
            )
            notes.append(check)
        else:
            check = f"SpacingBetweenSlices {header_gap:g} mm agrees with the {spacing:.2f} mm between positions"
    elif math.isfinite(thickness):
        check = f"no SpacingBetweenSlices; SliceThickness {thickness:g} mm, {spacing:.2f} mm between positions"
    else:
        check = "no SpacingBetweenSlices or SliceThickness to compare with"
    return spacing, source, check


#: Why a header distance wins over the steps of SliceLocation (docs/clinical.md).
_SLICE_LOCATION_STEPS = (
    "without ImagePositionPatient/ImageOrientationPatient, SliceLocation, a scanner coordinate that need not "
    "step by the distance between slices (on the shared studies it is the spacing times one component of the "
    "slice normal: 6.72 mm for 10 mm), only orders the slices"
)


def _over_slice_location(spacing, header_gap, thickness, notes) -> tuple[float, str, str] | None:
    """The header's slice spacing where the steps of SliceLocation disagree with it, else None.

    ``SpacingBetweenSlices`` when it differs by more than ``GAP_TOLERANCE``;
    without it, a ``SliceThickness`` larger by as much (slices that thick
    would overlap at SliceLocation's steps). A note says which and why.
    """
    if math.isfinite(header_gap):
        if abs(header_gap - spacing) <= GAP_TOLERANCE * spacing:
            return None
        used, source = header_gap, "SpacingBetweenSlices"
        said = f"SpacingBetweenSlices {header_gap:g} mm disagrees with the {spacing:.2f} mm steps of SliceLocation"
    elif math.isfinite(thickness) and thickness > (1 + GAP_TOLERANCE) * spacing:
        used, source = thickness, "SliceThickness"
        said = (
            f"no SpacingBetweenSlices, and the {spacing:.2f} mm steps of SliceLocation are less than the "
            f"SliceThickness {thickness:g} mm (the slices would overlap)"
        )
    else:
        return None
    check = f"{said}: {source} used ({_SLICE_LOCATION_STEPS})"
    notes.append(check)
    return used, source, check


def _heart_rate(flat, notes: list[str]) -> tuple[float, str]:
    """Median HeartRate, else 60000 / median NominalInterval; values beyond ``HEART_RATE_BPM`` left out with a note.

    0 (written by scanners without ECG) means unknown, as an absent element.
    """
    rates, odd = _screened([s for s in flat if s.heart_rate != 0], "heart_rate", HEART_RATE_BPM)
    if odd:
        notes.append(f"{_found('HeartRate', odd, 'heart_rate', 'bpm', len(flat))} ignored: {HEART_RATE_BPM.expected()}")
    if rates:
        return _median(rates), "HeartRate"
    known = [s for s in flat if s.nominal_interval != 0]
    intervals, odd = _screened(known, "nominal_interval", HEART_RATE_BPM, lambda interval: 60000.0 / interval)
    if odd:
        found = _found("NominalInterval", odd, "nominal_interval", "ms (R-R interval)", len(flat))
        shortest, longest = 60000.0 / HEART_RATE_BPM.high, 60000.0 / HEART_RATE_BPM.low
        notes.append(f"{found} ignored: {HEART_RATE_BPM.expected()}, an interval of {shortest:g}-{longest:g} ms")
    if intervals:
        return 60000.0 / _median(intervals), "NominalInterval"
    return math.nan, ""
