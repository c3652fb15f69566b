"""One patient's DICOM files -> a cine study: images ``(phase, slice, H, W)`` plus geometry."""

from __future__ import annotations

import math
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._folders import walk_folder
from .._text import some_named
from ..exceptions import DicomReadError, SkcardioWarning, StudyError
from ._cine_order import (
    POSITION_TOLERANCE_MM,
    _files,
    _instance,
    _normal,
    _position,
    check_phase_order,
    duplicate_images,
    in_phase_order,
    slice_columns,
    slice_position,
    untimed_note,
)
from ._cine_spacing import _check_gaps, _header_distance, _heart_rate, _spacing
from ._dicom import DicomSlice
from ._non_images import UNREADABLE, set_aside_reason
from ._parallel import read_dicoms_or_errors

__all__ = ["CineGeometry", "CineStudy", "SetAside", "find_dicom_files", "read_cine"]

#: Largest difference between direction cosines of one stack (about 0.6 degree).
ORIENTATION_TOLERANCE = 0.01
#: ImageType values that mark a localiser (scout) image.
LOCALISER_TYPES = frozenset({"LOCALIZER", "LOCALISER", "SCOUT"})
#: Files set aside as unreadable that the warning of :func:`read_cine` names; the others are counted.
_LISTED_UNREADABLE = 3


@dataclass(frozen=True)
class SetAside:
    """A file of the folder not used in the study, and why (:attr:`CineStudy.set_aside`).

    Parameters
    ----------
    path : str
        The file.
    reason : str
        Why it was set aside (unreadable, a localiser, another orientation
        or series...).

    Examples
    --------
    A folder with two images of one slice and a copy of a third cut short:

    >>> import shutil
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> sample, folder = get_sample_path() / "dicoms" / "SCD0000101", getfixture("tmp_path")
    >>> for name in ("108.dcm", "119.dcm"):
    ...     _ = shutil.copy(sample / name, folder)
    >>> _ = (folder / "cut.dcm").write_bytes((sample / "99.dcm").read_bytes()[:400])
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     study = read_cine(folder)
    >>> [w.category.__name__ for w in caught], "1 of 3 file(s) cannot be read" in str(caught[0].message)
    (['SkcardioWarning'], True)
    >>> study.images.shape, [a.path == str(folder / "cut.dcm") for a in study.set_aside]
    ((2, 1, 256, 256), [True])
    >>> study.set_aside[0].reason.split(": ")[0], "missing required element(s) Rows" in study.set_aside[0].reason
    ('unreadable', True)
    >>> study.set_aside[0].unreadable
    True
    """

    path: str
    reason: str

    @property
    def unreadable(self) -> bool:
        """Whether the file could not be read as a DICOM image (its reason starts with ``"unreadable"``).

        The others were read and left out by the grouping rules (a
        localiser, another orientation or series...): the study is whole
        without them. An unreadable file may have been one of its images.
        """
        return self.reason.startswith(UNREADABLE)


@dataclass(frozen=True)
class CineGeometry:
    """Where each image of a cine study lies, and when (:attr:`CineStudy.geometry`).

    Parameters
    ----------
    pixel_spacing : (float, float)
        ``(row spacing, column spacing)`` in mm.
    slice_positions : ndarray of shape (n_slices,)
        Position of each slice along the stack normal in mm,
        ``dot(ImagePositionPatient, normal)`` with ``normal`` the cross
        product of the row and column directions of
        ``ImageOrientationPatient`` (the median of the slice's images);
        ascending. ``SliceLocation`` only when no image has position and
        orientation (see ``position_source``).
    slice_spacing : float
        Distance between neighbouring slices in mm used for volumes: the
        median gap between ``slice_positions``; with a single slice position,
        ``SpacingBetweenSlices`` or else ``SliceThickness``. With positions
        from ``SliceLocation`` (a scanner coordinate, which need not step by
        the distance between slices: it orders them), a
        ``SpacingBetweenSlices`` that differs from its median gap by more
        than 10 %, or without one a ``SliceThickness`` over 10 % larger (the
        slices would overlap), with a warning.
    spacing_source : str
        Which of ``"ImagePositionPatient"``, ``"SliceLocation"``,
        ``"SpacingBetweenSlices"``, ``"SliceThickness"`` gave ``slice_spacing``.
    spacing_check : str
        How the header's ``SpacingBetweenSlices`` / ``SliceThickness``
        compare with the measured spacing (one sentence).
    slice_thickness : float
        Median ``SliceThickness`` in mm (NaN if absent; values outside
        0.001-100 mm are left out, with a warning).
    normal : (float, float, float)
        Unit normal of the stack (NaNs without orientation).
    trigger_times : ndarray of shape (n_phases, n_slices)
        ``TriggerTime`` in ms of each image (NaN if absent).
    instance_numbers : ndarray of shape (n_phases, n_slices), int
        ``InstanceNumber`` of each image (-1 if absent).
    paths : ndarray of shape (n_phases, n_slices), object
        The file of each image.
    series : tuple of str
        The series used (``SeriesInstanceUID``, else ``#SeriesNumber``).
    heart_rate : float, default=NaN
        Beats per minute: median ``HeartRate`` of the images, else 60000 /
        median ``NominalInterval`` (R-R interval, ms); NaN if neither.
        Values outside 10-1000 bpm (an interval of 60-6000 ms) are left
        out, with a warning; 0 means unknown.
    heart_rate_source : str, default=""
        ``"HeartRate"``, ``"NominalInterval"`` or ``""``.
    position_source : str, default="ImagePositionPatient"
        ``"ImagePositionPatient"`` or ``"SliceLocation"``.

    Attributes
    ----------
    n_phases, n_slices : int
        Phases and slices of the study.
    disc_thickness : ndarray of shape (n_slices,)
        Thickness in mm of the disc each slice stands for.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> folder = get_sample_path() / "dicoms" / "SCD0000101"  # 4 slices at one phase (and 1 more)
    >>> study = read_cine([folder / f"{n}.dcm" for n in (99, 119, 139, 159)])
    >>> g = study.geometry
    >>> g.n_phases, g.n_slices, round(g.slice_spacing, 2), g.spacing_source
    (1, 4, 10.0, 'ImagePositionPatient')
    >>> g.pixel_spacing, g.heart_rate, g.instance_numbers.tolist()
    ((1.367188, 1.367188), 79.0, [[159, 139, 119, 99]])
    """

    pixel_spacing: tuple[float, float]
    slice_positions: np.ndarray
    slice_spacing: float
    spacing_source: str
    spacing_check: str
    slice_thickness: float
    normal: tuple[float, float, float]
    trigger_times: np.ndarray
    instance_numbers: np.ndarray
    paths: np.ndarray
    series: tuple[str, ...]
    heart_rate: float = math.nan
    heart_rate_source: str = ""
    position_source: str = "ImagePositionPatient"

    @property
    def n_phases(self) -> int:
        """Number of phases (images per slice position)."""
        return self.trigger_times.shape[0]

    @property
    def n_slices(self) -> int:
        """Number of slice positions."""
        return self.trigger_times.shape[1]

    @property
    def disc_thickness(self) -> np.ndarray:
        """Thickness in mm of the disc each slice stands for, ``(n_slices,)``.

        The mean of the gaps to its two neighbours (the one gap for the end
        slices): ``slice_spacing`` everywhere on a regular stack. Where a
        header distance overruled ``SliceLocation`` (``position_source`` and
        ``spacing_source`` differ), the gaps are scaled so that their median
        is ``slice_spacing``.
        """
        positions = np.asarray(self.slice_positions, float)
        if len(positions) < 2:
            return np.full(len(positions), self.slice_spacing)
        gaps = np.diff(positions)
        if self.position_source == "SliceLocation" and self.spacing_source != "SliceLocation":
            # SliceLocation ordered the slices but its steps were not their distance (the header's
            # slice_spacing was used): the gaps keep their proportions, scaled to that spacing.
            gaps = gaps * (self.slice_spacing / np.median(gaps))
        return (np.concatenate([gaps[:1], gaps]) + np.concatenate([gaps, gaps[-1:]])) / 2


@dataclass(frozen=True)
class CineStudy:
    """A short-axis cine study: images, geometry and what was set aside (:func:`read_cine`).

    Parameters
    ----------
    images : ndarray of shape (n_phases, n_slices, H, W), float32
        ``images[p, s]`` is phase ``p`` (by trigger time) of slice ``s`` (by
        position along the normal), indexed ``[row, col]``.
    geometry : CineGeometry
        Where and when each image was taken.
    patient_id : str
        ``PatientID`` of the files.
    set_aside : tuple of SetAside, default=()
        Files of the folder that are not in the study (localisers, other
        orientations or series, unreadable files), with the reason.
    notes : tuple of str, default=()
        Irregularities that did not stop the reading (also warned about).

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> folder = get_sample_path() / "dicoms" / "SCD0000101"  # 4 slices at one phase (and 1 more)
    >>> study = read_cine([folder / f"{n}.dcm" for n in (99, 119, 139, 159)])
    >>> study.images.shape, study.patient_id, study.set_aside
    ((1, 4, 256, 256), 'SCD0000101', ())
    """

    images: np.ndarray = field(repr=False)
    geometry: CineGeometry
    patient_id: str
    set_aside: tuple[SetAside, ...] = ()
    notes: tuple[str, ...] = ()


def find_dicom_files(folder: str | os.PathLike) -> list[Path]:
    """The DICOM files of a folder and its subfolders, in a stable order.

    Every entry that is not hidden (name starting with ``.``) nor a folder,
    whatever its name: scanners write ``*.dcm``, ``*.IMA``, names without
    an extension, and one study may mix them (a name was never a sign of
    what a file holds). Entries that are no regular file (pipes, devices,
    broken links, links to folders, which are not entered) are listed too,
    so that :func:`read_cine` names them, set aside as unreadable, instead
    of passing over them in silence; so is any file that is not DICOM (a
    ``notes.txt``). Hidden entries are left out and hidden folders not
    entered.

    Parameters
    ----------
    folder : str or path-like
        The folder, searched recursively.

    Returns
    -------
    list of pathlib.Path
        The files, sorted by path.

    Raises
    ------
    StudyError
        If ``folder`` is not a folder or holds no file, or if it or one of
        its subfolders cannot be read (permission denied...): the study
        would be incomplete. The message names the folder.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import find_dicom_files
    >>> [p.name for p in find_dicom_files(get_sample_path() / "dicoms" / "SCD0000101")]
    ['108.dcm', '119.dcm', '139.dcm', '159.dcm', '99.dcm']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise StudyError(f"{folder}: not a folder")
    entries, problems = walk_folder(folder, hidden=False)
    if problems:
        unreadable, reason = problems[0]
        more = f" (and {len(problems) - 1} more folder(s))" if len(problems) > 1 else ""
        raise StudyError(
            f"{unreadable}: {reason}{more}; expected every folder of the study {folder} to be readable "
            "(its images would be missing)"
        )
    # Folders are walked (links to folders are listed, not entered): every other entry is a file to read.
    files = [p for p in entries if p.is_symlink() or not p.is_dir()]
    if not files:
        raise StudyError(f"{folder}: no file found, expected the DICOM files of one cine study")
    return files


def read_cine(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    n_jobs: int | None = None,
    memory=None,
) -> CineStudy:
    """Group one patient's DICOM files into a cine study.

    Images are grouped by slice position along the stack normal (from
    ``ImagePositionPatient`` and ``ImageOrientationPatient``; an image
    within :data:`POSITION_TOLERANCE_MM` of the previous one, ranked by
    position, joins its slice, whose images may spread over at most
    ``POSITION_SPREAD_MM``, 2 mm) and ordered by trigger time at each
    position: phase ``p`` is the ``p``-th image in time of every slice. A
    position where only some images have a ``TriggerTime`` is ordered by
    ``InstanceNumber`` instead, with a warning (ranked by time, an image
    without one would be put last, moving every later phase).

    Set aside (and listed in ``set_aside``): unreadable files (with a
    warning: they may have been images of the study), files that never
    were an image of the stack (a ``notes.txt``, a DICOMDIR, a structured
    report, a SEG; reason starting ``"not a DICOM
    image"``, no warning), localisers
    (``ImageType`` containing LOCALIZER or SCOUT), images of another
    orientation than the largest series, and other series that repeat the
    slice positions of the largest one. A series of the same orientation at
    other positions (scanners that write one series per slice) joins it.

    Parameters
    ----------
    source : folder, or sequence of files
        A folder of one patient's DICOM files (see :func:`find_dicom_files`)
        or the files themselves.
    n_jobs : int, default=None
        Processes reading the files, as for :func:`read_dicoms` (their
        warnings reach the caller all the same).
    memory : str, path-like or joblib.Memory, default=None
        Cache of the files read, as for :func:`read_dicoms`.

    Returns
    -------
    CineStudy
        The images ``(n_phases, n_slices, H, W)``, their geometry and the
        files set aside.

    Raises
    ------
    DicomReadError
        If the images together exceed ``max_study_bytes``
        (:func:`skcardio.io.get_limits`), naming the file that crossed it:
        no more files are read then.
    StudyError
        If the files hold several patients, no usable image, slice positions
        with different numbers of phases (a missing or extra phase), a slice
        position whose images spread over more than 2 mm, images without a
        ``TriggerTime`` beside timed ones that cannot be placed (without an
        ``InstanceNumber``, or where the others' instance numbers do not
        follow their trigger times),
        duplicate images (same position and trigger time), mixed image sizes
        or pixel spacings, files without ``PixelSpacing``, neighbouring
        slice positions more than 100 mm apart, or (one slice position) a
        ``SliceThickness`` outside 0.001-100 mm where it would be the
        spacing (an out-of-range ``SpacingBetweenSlices`` is ignored with a
        warning, and ``SliceThickness`` used); the message names the files.

    Warns
    -----
    SkcardioWarning
        Files that cannot be read (set aside: counted, the first named with
        the reason), irregular gaps between slices, a ``SpacingBetweenSlices`` that
        disagrees with the positions (the positions are used; with positions
        from ``SliceLocation``, the header's distance is used: see
        :class:`CineGeometry`), images without a ``TriggerTime`` beside
        timed ones (their positions ordered by ``InstanceNumber``), or header
        values outside their physical range, ignored (``SpacingBetweenSlices``
        and ``SliceThickness`` beside several positions, ``HeartRate``,
        ``NominalInterval``; ``docs/security.md``). Also what
        :func:`read_dicom` says of a file it reads (excess padding, a
        position read as absent...), whatever ``n_jobs``, and again when
        ``memory`` serves the file (see :func:`read_dicoms`).

    Examples
    --------
    >>> from skcardio.io import read_cine
    >>> study = read_cine("/work/shared/data/final_data/dicoms/SCD0000101")  # doctest: +SKIP
    >>> study.images.shape, study.geometry.slice_spacing  # doctest: +SKIP
    ((20, 12, 256, 256), 10.0)
    """
    if isinstance(source, (str, os.PathLike)):
        paths = find_dicom_files(source)
        where = os.fspath(source)
    else:
        paths = [Path(p) for p in source]
        where = os.fspath(Path(paths[0]).parent) if paths else "(no files)"
    if not paths:
        raise StudyError("no DICOM file given")
    slices, set_aside = _read_all(paths, n_jobs, memory)
    if not slices:
        raise StudyError(f"{where}: no readable DICOM image among {len(paths)} file(s): {_reasons(set_aside)}")
    unreadable = [a for a in set_aside if a.unreadable]
    notes: list[str] = [_unreadable_note(unreadable, len(paths))] if unreadable else []
    _check_one_patient(slices, where)
    slices = _drop_localisers(slices, set_aside)
    slices, use_positions = _drop_unplaced(slices, set_aside)
    slices = _main_stack(slices, set_aside, use_positions, where)
    _check_uniform(slices, where)
    grid = _grid(slices, set_aside, use_positions, where, notes)
    geometry = _geometry(grid, use_positions, notes, where)
    images = np.stack([np.stack([s.image for s in row]) for row in grid]).astype(np.float32, copy=False)
    for note in notes:
        warnings.warn(f"{where}: {note}", SkcardioWarning, stacklevel=2)
    return CineStudy(images, geometry, slices[0].patient_id, tuple(set_aside), tuple(notes))


def _read_all(paths: list[Path], n_jobs, memory) -> tuple[list[DicomSlice], list[SetAside]]:
    """The slices of ``paths``; a file that cannot be read is set aside, the images together within ``max_study_bytes``."""
    slices, set_aside = [], []
    # stacklevel 4: the caller of read_cine (read_dicoms_or_errors, this function, read_cine).
    for path, item in zip(paths, read_dicoms_or_errors(paths, n_jobs=n_jobs, memory=memory, stacklevel=4)):
        if isinstance(item, DicomReadError):
            set_aside.append(SetAside(os.fspath(path), set_aside_reason(path, item)))
        else:
            slices.append(item)
    return slices, set_aside


def _why(item: SetAside) -> str:
    """The reason ``item`` was set aside, without its prefix and its path."""
    return item.reason.removeprefix(f"{UNREADABLE}: ").removeprefix(f"{item.path}: ")


def _unreadable_note(unreadable: list[SetAside], n_files: int) -> str:
    """``'2 of 240 file(s) cannot be read as DICOM images, set aside: 1.dcm (...), 7.dcm; ...'``."""
    first = unreadable[0]
    names = [f"{Path(first.path).name} ({_why(first)})"]
    names += [Path(a.path).name for a in unreadable[1:]]
    return (
        f"{len(unreadable)} of {n_files} file(s) cannot be read as DICOM images, set aside: "
        f"{some_named(names, _LISTED_UNREADABLE)} "
        "(set_aside lists each with its reason); the study is read without them, and may lack images"
    )


def _reasons(set_aside: list[SetAside]) -> str:
    return "; ".join(f"{item.reason}" for item in set_aside[:3]) + (" ..." if len(set_aside) > 3 else "")


def _check_one_patient(slices: list[DicomSlice], where: str) -> None:
    patients = Counter(s.patient_id for s in slices)
    if len(patients) > 1:
        counts = ", ".join(f"{pid or '(no PatientID)'}: {n} file(s)" for pid, n in patients.most_common())
        raise StudyError(f"{where}: files of {len(patients)} patients ({counts}); expected one patient per folder")


def _drop_localisers(slices, set_aside):
    kept = []
    for s in slices:
        if LOCALISER_TYPES & {t.upper() for t in s.image_type}:
            kinds = "\\".join(s.image_type)
            set_aside.append(SetAside(s.path, f"localiser (ImageType {kinds})"))
        else:
            kept.append(s)
    return kept


def _placed(s: DicomSlice) -> bool:
    return all(map(math.isfinite, s.image_position + s.image_orientation))


def _drop_unplaced(slices, set_aside) -> tuple[list[DicomSlice], bool]:
    """Images without position/orientation are set aside, unless none has them (SliceLocation then)."""
    placed = [s for s in slices if _placed(s)]
    if not placed:
        return slices, False
    for s in slices:
        if not _placed(s):
            set_aside.append(SetAside(s.path, "no ImagePositionPatient/ImageOrientationPatient, unlike the others"))
    return placed, True


def _series_key(s: DicomSlice) -> str:
    if s.series_uid:
        return s.series_uid
    return f"#{s.series_number}" if s.series_number is not None else ""


def _main_stack(slices, set_aside, use_positions, where) -> list[DicomSlice]:
    """The largest series, with other series of the same orientation at other positions."""
    by_series: dict[str, list[DicomSlice]] = {}
    for s in slices:
        by_series.setdefault(_series_key(s), []).append(s)
    order = sorted(by_series, key=lambda k: -len(by_series[k]))
    main = by_series[order[0]]
    if use_positions:
        # The most common orientation of the largest series is the stack's.
        reference = np.array(Counter(tuple(np.round(s.image_orientation, 2)) for s in main).most_common(1)[0][0])
        reference = next(np.array(s.image_orientation) for s in main if _same_orientation(s, reference))
        main = _keep_oriented(main, reference, set_aside)
        normal = _normal(main[0])
    else:
        normal = None
    taken = [_position(s, normal) for s in main]
    for key in order[1:]:
        other = by_series[key]
        if use_positions:
            other = _keep_oriented(other, reference, set_aside)
        overlap = any(_near(_position(s, normal), taken) for s in other)
        if overlap or (other and other[0].shape != main[0].shape):
            why = "repeats slice positions of" if overlap else "has another image size than"
            for s in other:
                reason = f"another series ({_series_name(s)}) that {why} the main series ({_series_name(main[0])})"
                set_aside.append(SetAside(s.path, reason))
        else:
            main = main + other
            taken += [_position(s, normal) for s in other]
    if not main:
        raise StudyError(
            f"{where}: no image left once {len(set_aside)} file(s) were set aside: {_reasons(set_aside)}"
        )
    return main


def _same_orientation(s: DicomSlice, reference: np.ndarray) -> bool:
    return np.abs(np.array(s.image_orientation) - reference).max() <= ORIENTATION_TOLERANCE


def _keep_oriented(slices, reference, set_aside) -> list[DicomSlice]:
    kept = []
    for s in slices:
        if _same_orientation(s, reference):
            kept.append(s)
        else:
            set_aside.append(SetAside(s.path, _orientation_reason(s, reference)))
    return kept


def _near(position: float, taken: list[float]) -> bool:
    return any(abs(position - t) <= POSITION_TOLERANCE_MM for t in taken)


def _names(items: list[SetAside]) -> str:
    return ", ".join(Path(a.path).name for a in items)


def _series_name(s: DicomSlice) -> str:
    if s.series_number is not None:
        return f"SeriesNumber {s.series_number}"
    return f"SeriesInstanceUID {s.series_uid or '(none)'}"


def _orientation_reason(s: DicomSlice, reference: np.ndarray) -> str:
    found = "\\".join(f"{v:g}" for v in s.image_orientation)
    expected = "\\".join(f"{v:g}" for v in reference)
    return f"another orientation (ImageOrientationPatient {found}, the stack's {expected})"


def _check_uniform(slices, where) -> None:
    """One image size and one pixel spacing in the stack, or an error naming the odd files."""
    unknown = [s for s in slices if not all(map(math.isfinite, s.pixel_spacing))]
    if unknown:  # NaN != NaN: counted below, each would be a spacing of its own
        which = "any file" if len(unknown) == len(slices) else f"{len(unknown)} of {len(slices)} files: {_files(unknown)}"
        raise StudyError(
            f"{where}: no PixelSpacing (0028,0030) in {which}; areas and volumes in mm need the pixel spacing "
            "of every image"
        )
    checks = (("image size", lambda s: s.shape), ("pixel spacing", lambda s: tuple(round(v, 4) for v in s.pixel_spacing)))
    for name, value in checks:
        counts = Counter(value(s) for s in slices)
        if len(counts) > 1:
            common = counts.most_common(1)[0][0]
            odd = [s for s in slices if value(s) != common]
            raise StudyError(
                f"{where}: mixed {name}s in the stack: {common} in {counts[common]} file(s), other values in "
                f"{len(odd)}: {_files(odd, value)}; expected one {name} for every image of a cine study"
            )


# Most positions holding one image: selected slices (e.g. the contoured ones of the embedded
# sample), not a cine study; say so, as "a phase is missing" alone sends the user looking for one.
_SELECTED_SLICES = (
    "; most positions hold a single image, so these look like selected slices, not a complete cine "
    "study (every cardiac phase at every slice position)"
)


def _grid(slices, set_aside, use_positions, where, notes: list[str]) -> list[list[DicomSlice]]:
    """``grid[phase][slice]``: positions clustered and ascending, phases by trigger time (see ``_cine_order``)."""
    normal = _normal(slices[0]) if use_positions else None
    if not use_positions and not all(math.isfinite(s.slice_location) for s in slices):
        missing = [s for s in slices if not math.isfinite(s.slice_location)]
        raise StudyError(
            f"{where}: cannot place the images: no ImagePositionPatient/ImageOrientationPatient, and no "
            f"SliceLocation in {_files(missing)}"
        )
    columns = slice_columns(slices, normal, where)
    timed = any(math.isfinite(s.trigger_time) for s in slices)
    untimed, untimed_at = [], []
    for column in columns:
        position = slice_position(column, normal)
        _check_duplicates(column, position, where)
        missing = check_phase_order(column, position, where, timed)
        column[:] = in_phase_order(column)
        if missing:
            untimed += missing
            untimed_at.append(position)
    if untimed and timed:  # none with a TriggerTime: InstanceNumber is the order, as ever, without a word
        notes.append(untimed_note(untimed, len(slices), untimed_at))
    counts = Counter(len(c) for c in columns)
    n_phases = counts.most_common(1)[0][0]
    odd = [c for c in columns if len(c) != n_phases]
    if odd:
        unreadable = [a for a in set_aside if a.unreadable]
        details = "; ".join(
            f"position {slice_position(c, normal):.2f} mm has {len(c)} ({_files(c)})" for c in odd[:3]
        )
        raise StudyError(
            f"{where}: {len(odd)} slice position(s) do not have the {n_phases} phase(s) of the other "
            f"{len(columns) - len(odd)}: {details}; a phase is missing or extra"
            + (f" (unreadable file(s) in the folder: {_names(unreadable)}; the first: {_why(unreadable[0])})"
               if unreadable else "")
            + (_SELECTED_SLICES if n_phases == 1 else "")
        )
    return [[column[p] for column in columns] for p in range(n_phases)]


def _check_duplicates(column, position, where) -> None:
    """Refuse two images of one phase at one position (see :func:`duplicate_images`)."""
    found = duplicate_images(column, position, lambda s: Path(s.path).name)
    if found:
        raise StudyError(f"{where}: {found}")


def _geometry(grid, use_positions, notes: list[str], where: str) -> CineGeometry:
    first = grid[0]
    normal = _normal(first[0]) if use_positions else None
    # Each slice's images lie at one position but for jitter (within POSITION_SPREAD_MM): the median,
    # so that one jittered image does not move its slice (and the gaps, the discs) by its jitter.
    positions = np.array([slice_position([row[i] for row in grid], normal) for i in range(len(first))])
    _check_gaps(positions, first, use_positions, where)
    flat = [s for row in grid for s in row]
    # One slice position: the header's distance (SpacingBetweenSlices, else SliceThickness) is the
    # slice spacing, and one out of range an error; with several, the positions are (only noted).
    one = len(positions) < 2
    # SpacingBetweenSlices is never an error: out of range it is noted and SliceThickness used instead
    # (some vendors write it negative: its size is the spacing).
    header_gap = _header_distance(flat, "spacing_between_slices", "SpacingBetweenSlices", False, where, notes, abs)
    used = one and not math.isfinite(header_gap)
    thickness = _header_distance(flat, "slice_thickness", "SliceThickness", used, where, notes)
    spacing, source, check = _spacing(positions, header_gap, thickness, first, use_positions, notes)
    heart_rate, hr_source = _heart_rate(flat, notes)
    return CineGeometry(
        pixel_spacing=tuple(float(v) for v in first[0].pixel_spacing),
        slice_positions=positions,
        slice_spacing=spacing,
        spacing_source=source,
        spacing_check=check,
        slice_thickness=thickness,
        normal=tuple(normal) if normal is not None else (math.nan,) * 3,
        trigger_times=np.array([[s.trigger_time for s in row] for row in grid]),
        instance_numbers=np.array([[_instance(s) for s in row] for row in grid]),
        paths=np.array([[s.path for s in row] for row in grid], dtype=object),
        series=tuple(dict.fromkeys(_series_key(s) for s in flat)),
        heart_rate=heart_rate,
        heart_rate_source=hr_source,
        position_source="ImagePositionPatient" if use_positions else "SliceLocation",
    )
