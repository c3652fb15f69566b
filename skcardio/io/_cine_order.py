"""Which images of a cine study share a slice position, and in which order its phases come.

Split out of :mod:`skcardio.io._cine` (the grouping of :func:`~skcardio.io.read_cine`); the DICOM
SEG and NIfTI exports (:mod:`skcardio.io._export`) rank the phases of a position by the same rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .._text import some_named
from ..exceptions import StudyError
from ._dicom import DicomSlice

#: Neighbouring images (ranked by position along the stack normal) closer than this share a slice
#: position (mm). Loose on purpose: it decides which images are one slice of a study, whose slices
#: lie 5-10 mm apart, and scanners round or recompute positions (one series per slice), so the
#: images of one slice may be jittered by a few tenths of a millimetre. Writing masks on a voxel
#: grid asks another question, with 0.01 mm (``_export.GRID_TOLERANCE_MM``; docs/data.md).
POSITION_TOLERANCE_MM = 0.5
#: Largest spread along the normal of the images of one slice position (mm). Neighbours within
#: ``POSITION_TOLERANCE_MM`` chain; past this spread the chain is no slice but a stack of thin
#: ones (images 0.4 mm apart), which is refused rather than read as one slice of many phases.
POSITION_SPREAD_MM = 2.0


def _normal(s: DicomSlice) -> np.ndarray:
    row, col = np.array(s.image_orientation[:3]), np.array(s.image_orientation[3:])
    normal = np.cross(row, col)
    return normal / np.linalg.norm(normal)


def _position(s: DicomSlice, normal: np.ndarray | None) -> float:
    return float(np.dot(s.image_position, normal)) if normal is not None else s.slice_location


def _files(slices, describe=None, limit: int = 4) -> str:
    return some_named([Path(s.path).name + (f" ({describe(s)})" if describe else "") for s in slices], limit)


def _timed(s: DicomSlice) -> bool:
    return math.isfinite(s.trigger_time)


def _instance(s: DicomSlice) -> int:
    return -1 if s.instance_number is None else s.instance_number


def slice_columns(slices: Sequence[DicomSlice], normal: np.ndarray | None, where: str) -> list[list[DicomSlice]]:
    """The images of each slice position, positions ascending (phases not yet ordered).

    Images are ranked by position; a gap of more than :data:`POSITION_TOLERANCE_MM`
    to the previous image starts a new position. Measured from the previous image,
    not the position's first: images jittered by ±0.3 mm (scanners round or recompute
    positions) would otherwise fall apart into positions of a few phases each
    ("a phase is missing") though none is. A position whose images spread over more
    than :data:`POSITION_SPREAD_MM` is a ``StudyError`` naming its first and last file.
    """
    ranked = sorted(slices, key=lambda s: _position(s, normal))
    columns: list[list[DicomSlice]] = []
    previous = math.nan
    for s in ranked:
        here = _position(s, normal)
        if columns and here - previous <= POSITION_TOLERANCE_MM:
            columns[-1].append(s)
        else:
            columns.append([s])
        previous = here
    for column in columns:
        low, high = _position(column[0], normal), _position(column[-1], normal)
        if high - low > POSITION_SPREAD_MM:
            source = "ImagePositionPatient" if normal is not None else "SliceLocation"
            raise StudyError(
                f"{where}: {len(column)} images from {low:.2f} mm ({Path(column[0].path).name}) to {high:.2f} mm "
                f"({Path(column[-1].path).name}) along the stack normal ({source}), each within "
                f"{POSITION_TOLERANCE_MM} mm of the next, spread over {high - low:.2f} mm: more than the "
                f"{POSITION_SPREAD_MM} mm of one slice position; expected slices millimetres apart, the images of "
                "each at one position (within a few tenths of a millimetre)"
            )
    return columns


def slice_position(column: Sequence[DicomSlice], normal: np.ndarray | None) -> float:
    """The position of a slice: the median of its images' (equal but for jitter)."""
    return float(np.median([_position(s, normal) for s in column]))


def _by_instance(images: Sequence[DicomSlice]) -> bool:
    """Whether the phases of ``images`` (one position) are ranked by InstanceNumber, not TriggerTime.

    So they are when some image lacks a TriggerTime and every one has an
    InstanceNumber: ranked by time, one without would be put last (or first),
    moving every later phase of the slice by one.
    """
    return not all(map(_timed, images)) and all(s.instance_number is not None for s in images)


def phase_key(images: Sequence[DicomSlice]) -> Callable[[DicomSlice], tuple]:
    """The sort key that ranks ``images`` (all at one slice position) in phase order.

    ``TriggerTime``, then ``InstanceNumber``; by ``InstanceNumber`` alone when
    some image lacks a ``TriggerTime`` and all have an ``InstanceNumber``
    (:func:`check_phase_order` says when that order cannot be trusted).
    """
    if _by_instance(images):
        return lambda s: (s.instance_number,)
    return lambda s: (s.trigger_time if _timed(s) else math.inf, _instance(s))


def in_phase_order(images: Sequence[DicomSlice]) -> list[DicomSlice]:
    """``images`` (all at one slice position) ranked by :func:`phase_key`, then path."""
    key = phase_key(images)
    return sorted(images, key=lambda s: (*key(s), s.path))


def check_phase_order(column: Sequence[DicomSlice], position: float, where: str, study_timed: bool) -> list[DicomSlice]:
    """The images of ``column`` without a TriggerTime; a ``StudyError`` where their phases cannot be told.

    In a study where some images have a ``TriggerTime`` (``study_timed``), a
    position with images without one is ranked by ``InstanceNumber``
    (:func:`phase_key`): the error names the files when one of its images
    lacks that too (they would be ranked by file name), or when the instance
    numbers of its timed images do not follow their trigger times (then
    neither order is sure). Without any ``TriggerTime`` in the study,
    InstanceNumber (then the file name) is the order, as it always was.
    """
    untimed = [s for s in column if not _timed(s)]
    if not untimed or not study_timed:
        return untimed
    said = (
        f"{where}: no TriggerTime in {len(untimed)} of the {len(column)} images at slice position "
        f"{position:.2f} mm ({_files(untimed)}), unlike the others"
    )
    nameless = [s for s in column if s.instance_number is None]
    if nameless:
        raise StudyError(
            f"{said}, and no InstanceNumber in {_files(nameless)} to rank them by: their phases cannot be "
            "told; expected a TriggerTime in every image of a slice position, or an InstanceNumber"
        )
    timed = sorted((s for s in column if _timed(s)), key=lambda s: (s.instance_number, s.path))
    for a, b in zip(timed, timed[1:]):
        if b.trigger_time < a.trigger_time:
            raise StudyError(
                f"{said}, and the InstanceNumbers of the others do not follow their trigger times "
                f"({Path(a.path).name}: InstanceNumber {a.instance_number}, {a.trigger_time:g} ms; "
                f"{Path(b.path).name}: InstanceNumber {b.instance_number}, {b.trigger_time:g} ms): the phases "
                "of the images without a TriggerTime cannot be told; expected a TriggerTime in every image of "
                "a slice position"
            )
    return untimed


def untimed_note(untimed: list[DicomSlice], n_images: int, positions: list[float]) -> str:
    """The warning of a study where some images have no TriggerTime: which, and how they were ranked."""
    where = ", ".join(f"{p:.2f}" for p in positions[:4]) + (" ..." if len(positions) > 4 else "")
    return (
        f"no TriggerTime in {len(untimed)} of {n_images} file(s) ({_files(untimed)}), unlike the others: the "
        f"phases of their {len(positions)} slice position(s) ({where} mm) are ranked by InstanceNumber instead "
        "(their trigger_times are NaN)"
    )


def duplicate_images(images: Sequence[DicomSlice], position: float, name=lambda s: s.path) -> str:
    """Why two of ``images`` (all at one slice position) are one image twice, or "" when none are.

    Two images at one position with one trigger time (or, when one of them
    has none, one instance number) are one phase twice: a copy. The one test
    of duplicates, for :func:`read_cine` and the DICOM SEG and NIfTI exports
    (``skcardio.io._export``); the reason names the two files by ``name``
    and the ``position`` (mm).
    """
    timed = sorted(filter(_timed, images), key=lambda s: (s.trigger_time, _instance(s), s.path))
    pairs = list(zip(timed, timed[1:]))
    # Equal instance numbers lie side by side in this order, so each image without a trigger time
    # meets one that shares its InstanceNumber, whether that one has a time or not.
    ranked = sorted(images, key=lambda s: (_instance(s), s.path))
    pairs += [(a, b) for a, b in zip(ranked, ranked[1:]) if not (_timed(a) and _timed(b))]
    for a, b in pairs:
        timed_pair = _timed(a) and _timed(b)
        if (a.trigger_time == b.trigger_time) if timed_pair else (a.instance_number == b.instance_number):
            shared = (f"trigger time {a.trigger_time:g} ms" if timed_pair
                      else f"InstanceNumber {a.instance_number} (no trigger time tells them apart)")
            return (
                f"duplicate images: {name(a)} and {name(b)} share slice position {position:.2f} mm and {shared}; "
                "expected one image per position and phase (remove the copy)"
            )
    return ""
