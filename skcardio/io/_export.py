"""Masks as standard files placed in the scanner: DICOM SEG (highdicom) and NIfTI-1 (nibabel).

A DICOM SEG references its source images, so a DICOM viewer or PACS overlays
it on them; a NIfTI file carries the affine computed from the DICOM geometry
(``ImagePositionPatient``, ``ImageOrientationPatient``, ``PixelSpacing`` and
the spacing of the slice positions), converted from DICOM's LPS patient
coordinates to NIfTI's RAS. highdicom and nibabel are optional:
``pip install "skcardio[dicomseg]"`` or ``"skcardio[nifti]"``.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import re
import warnings
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from .. import __version__
from .._files import replacing
from .._optional import import_optional
from ..exceptions import ExportError, SkcardioWarning
from ..utils._validation import check_slice_masks
from ._cine_order import POSITION_TOLERANCE_MM, duplicate_images, phase_key
from ._dicom import DicomSlice, read_header
from ._limits import SLICE_SPACING_MM

__all__ = ["SEGMENT_LABEL", "group_by_phase", "write_dicom_seg", "write_nifti"]

#: The label of the one segment skcardio writes.
SEGMENT_LABEL = "LV blood pool"
#: Slices closer than this along the normal (mm) are at one position of the exported grid;
#: also the largest in-plane offset at one position and the floor of the gap tolerance.
#: Far below read_cine's ``_cine_order.POSITION_TOLERANCE_MM`` (0.5 mm, which images are one slice
#: of a study) on purpose: the affine written places every voxel, so an image must lie
#: where the grid puts it; images 0.01-0.5 mm apart are refused here, not moved.
GRID_TOLERANCE_MM = 0.01
#: Tolerance of spacings and orientations (as direction cosines).
_TOL_COSINE = 1e-4
#: Relative spread of the gaps between slice positions accepted as one regular grid.
_TOL_GAP = 0.01
#: DICOM's patient coordinates (LPS: x to the left, y to the back) to NIfTI's RAS.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


#: The longest DICOM LO (Long String) value.
_LO_MAX = 64


def _check_text(path, name: str, value, limit: int, where: str, forbidden: str = "", least: int = 0) -> None:
    """Refuse ``value`` unless it is printable ASCII of ``least`` to ``limit`` characters (none of ``forbidden``)."""
    if not (isinstance(value, str) and value.isascii() and value.isprintable() and least <= len(value) <= limit
            and not any(char in value for char in forbidden)):
        banned = f", without {forbidden!r}" if forbidden else ""
        size = f"of {least} to {limit} characters" if least else f"of at most {limit} characters"
        raise ValueError(f"{path}: {name} must be printable ASCII text {size}{banned} ({where}), got {value!r}")


#: A DICOM UID (PS3.5 §9.1): dot-separated numbers without leading zeros, at most 64 characters.
_UID = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def _check_uid(path, name: str, value) -> None:
    if not (isinstance(value, str) and len(value) <= 64 and _UID.fullmatch(value)):
        raise ValueError(f"{path}: {name} must be a DICOM UID (numbers joined by dots, no leading zeros, at most 64 "
                         f"characters, e.g. from pydicom.uid.generate_uid()), got {value!r}")


def write_dicom_seg(
    masks: ArrayLike,
    source_paths: Sequence[str | os.PathLike],
    path: str | os.PathLike,
    *,
    label: str = SEGMENT_LABEL,
    algorithm: str = "skcardio",
    algorithm_family: str = "ArtificialIntelligence",
    series_instance_uid: str | None = None,
    instance_number: int = 1,
    content_description: str | None = None,
) -> Path:
    """Write the masks of slices of one series as one binary DICOM SEG file.

    A SEG holds one frame per plane position (highdicom, like most readers,
    places frames by position), so the sources must lie at different
    positions: split a cine series into its phases first with
    :func:`group_by_phase`. The SEG references every source image
    (``ReferencedSeriesSequence``) and
    copies its patient, study and frame of reference, so viewers place each
    mask frame on its image. One segment, labelled ``label``: the body
    substance *blood* in the anatomic region *left ventricle* (SNOMED CT
    87612001 in 87878005), found by an automatic algorithm.

    Parameters
    ----------
    masks : array-like of shape (n, rows, columns), bool
        One mask per source image, in the order of ``source_paths``,
        indexed ``[row, col]`` like the images.
    source_paths : sequence of str or path-like
        The ``n`` DICOM files the masks were predicted on, all of one series
        (one ``SeriesInstanceUID``), at different positions, and of the
        masks' size.
    path : str or path-like
        The file to write (written atomically: a failure leaves no file).
    label : str, default="LV blood pool"
        The segment's label.
    algorithm : str, default="skcardio"
        The algorithm's name in the segment description. Both are DICOM LO
        values: printable ASCII, 1 to 64 characters, no backslash.
    algorithm_family : str, default="ArtificialIntelligence"
        Its family, a name of DICOM CID 7162 in pydicom's ``codes.cid7162``
        (e.g. ``"HistogramAnalysis"`` for a threshold).
    series_instance_uid : str, default=None
        The SEG's series; a new UID when None. Give the SEG files of one
        source series' phases one UID (and each its ``instance_number``) so
        that viewers and archives list them as one series of several
        instances, not as one series per phase. The SEG series' number is
        the sources' ``SeriesNumber`` + 1000 (1000 without one), as derived
        series are often numbered, and its ``SeriesDescription`` says the
        label and the algorithm.
    instance_number : int, default=1
        The file's ``InstanceNumber`` within that series (1 to 2**31 - 1).
    content_description : str, default=None
        ``ContentDescription`` (a DICOM LO value, at most 64 characters),
        e.g. which cardiac phase the file holds; when None, the label and the
        algorithm.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ImportError
        If highdicom is not installed (``pip install "skcardio[dicomseg]"``).
    DicomReadError
        If a source file cannot be read.
    ExportError
        If the sources span several series, two lie at one position or
        share a ``SOPInstanceUID``, their
        orientations differ by more than 1e-4 (a direction cosine), their
        size differs from the masks', or highdicom refuses them (the message
        names the files).
    ValueError
        If ``label``, ``algorithm`` or ``content_description`` is not a
        valid LO value (above), ``algorithm_family`` is not a name of CID
        7162, ``series_instance_uid`` is not a DICOM UID or
        ``instance_number`` not an integer from 1 to 2**31 - 1.

    Warns
    -----
    SkcardioWarning
        If the sources of the series carry different ``FrameOfReferenceUID``
        values (anonymisers replace them per image, as in the Sunnybrook
        data): the SEG then uses the first one's for all of them.

    Notes
    -----
    Invalid dates (DA, DT, TM values such as ``00000000``, left by
    anonymisation) are written empty in the SEG instead of copied, and
    absent type 2 patient and study elements (e.g. ``PatientName``) empty.
    Sources whose ``ImageOrientationPatient`` values differ by scanner
    rounding (at most 1e-4 per direction cosine, as :func:`write_nifti`
    accepts) are written with the first source's orientation, which
    highdicom requires to be shared exactly; the source files are not changed.

    Examples
    --------
    >>> import highdicom, numpy as np
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import group_by_phase, read_dicom, write_dicom_seg
    >>> data = load_sample()
    >>> patient = data.groups == "SCD0000101"
    >>> slices = [read_dicom(f, pixels=False) for f in data.frame.dicom_path[patient]]
    >>> phases = group_by_phase(slices)
    >>> phases
    [[0, 1, 3, 4], [2]]
    >>> files = [slices[i].path for i in phases[0]]
    >>> masks = data.y[patient][phases[0]]
    >>> path = write_dicom_seg(masks, files, getfixture("tmp_path") / "seg.dcm")
    >>> seg = highdicom.seg.segread(path)
    >>> seg.SegmentSequence[0].SegmentLabel
    'LV blood pool'
    >>> back = seg.get_pixels_by_source_instance(
    ...     [highdicom.imread(f).SOPInstanceUID for f in files], segment_numbers=[1])
    >>> bool((back[..., 0] == masks).all())
    True
    """
    hd = import_optional("highdicom", "dicomseg", "writing a DICOM SEG")
    from pydicom.sr.codedict import codes

    source_paths = [os.fspath(p) for p in source_paths]
    masks = check_slice_masks(masks, len(source_paths))
    for name, value in (("label", label), ("algorithm", algorithm)):
        # Both are required (Type 1) values of the segment: not empty.
        _check_text(path, name, value, _LO_MAX, "a DICOM LO value (SegmentLabel, SegmentAlgorithmName)", "\\", 1)
    if content_description is not None:
        _check_text(path, "content_description", content_description, _LO_MAX, "a DICOM LO value (ContentDescription)",
                    "\\", 1)
    if isinstance(instance_number, bool) or not isinstance(instance_number, (int, np.integer)) or not (
            1 <= instance_number < 2**31):
        raise ValueError(f"{path}: instance_number must be an integer from 1 to 2**31 - 1 (a DICOM IS value), "
                         f"got {instance_number!r}")
    if series_instance_uid is not None:
        _check_uid(path, "series_instance_uid", series_instance_uid)
    if not hasattr(codes.cid7162, algorithm_family):
        raise ValueError(
            f"{path}: algorithm_family must be a name of DICOM CID 7162 (e.g. 'ArtificialIntelligence', "
            f"'HistogramAnalysis'), got {algorithm_family!r}"
        )
    with _quiet_source_warnings():
        seg = _build_seg(hd, codes, masks, source_paths, path, label, algorithm, algorithm_family,
                         series=(series_instance_uid, int(instance_number), content_description))
    with replacing(path, "wb") as handle:
        seg.save_as(handle, enforce_file_format=True)
    return Path(path)


#: Added to the sources' SeriesNumber for the SEG series' number (a derived series' convention).
_SEG_SERIES_OFFSET = 1000


def _seg_series_number(source) -> int:
    """The sources' ``SeriesNumber`` + 1000, or 1000: not the number of a series of the study itself (often 1)."""
    try:
        number = int(source.get("SeriesNumber"))
    except (TypeError, ValueError):
        return _SEG_SERIES_OFFSET
    return number + _SEG_SERIES_OFFSET if 0 <= number < 2**31 - _SEG_SERIES_OFFSET else _SEG_SERIES_OFFSET


def _long_string(*candidates: str) -> str:
    """The first of ``candidates`` that fits a DICOM LO value (64 characters); the last one fits."""
    return next(text for text in candidates if len(text) <= _LO_MAX)


def _build_seg(hd, codes, masks, source_paths, path, label, algorithm, algorithm_family, series=(None, 1, None)):
    series_uid, instance_number, content = series
    # read_header gives fresh datasets: what is changed below is highdicom's copy, never the source files.
    sources = [_conformed(read_header(p)) for p in source_paths]
    _check_seg_sources(sources, source_paths, masks.shape[1:])
    _share_orientation(sources, source_paths, path)
    frames = {str(ds.get("FrameOfReferenceUID", "")) for ds in sources}
    if len(frames) > 1:
        first = sources[0].FrameOfReferenceUID
        warnings.warn(
            f"the {len(sources)} images of series {sources[0].SeriesInstanceUID} (first "
            f"{source_paths[0]}) carry {len(frames)} different FrameOfReferenceUIDs, as "
            f"anonymisers leave them; the SEG uses the first one's ({first}) for all",
            SkcardioWarning,
            stacklevel=3,  # the caller of write_dicom_seg
        )
        for ds in sources:
            ds.FrameOfReferenceUID = first
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label=label,
        segmented_property_category=codes.cid7150.BodySubstance,
        segmented_property_type=codes.SCT.Blood,
        anatomic_regions=[codes.SCT.LeftVentricle],
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name=algorithm, version=__version__, family=getattr(codes.cid7162, algorithm_family)
        ),
    )
    try:
        return hd.seg.Segmentation(
            source_images=sources,
            pixel_array=masks,
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=[description],
            series_instance_uid=series_uid or hd.UID(),
            series_number=_seg_series_number(sources[0]),
            series_description=_long_string(f"{label} by {algorithm}", label),
            sop_instance_uid=hd.UID(),
            instance_number=instance_number,
            manufacturer="skcardio",
            manufacturer_model_name=algorithm,
            software_versions=__version__,
            device_serial_number="none",
            content_label="LVBLOODPOOL",
            content_description=content or _long_string(f"{label} masks by {algorithm}", f"{label} masks", label),
            # A frame per source image, empty or not: readers get every slice back.
            omit_empty_frames=False,
        )
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        hint = ""
        if "duplicates" in str(exc):
            hint = " (two sources at one position: split a cine series with group_by_phase, one SEG per phase)"
        raise ExportError(
            f"{path}: highdicom cannot build a SEG of the {len(sources)} slice(s) of "
            f"{source_paths[0]} ...: {exc}{hint}"
        ) from exc


def write_nifti(
    masks: ArrayLike, geometry: Sequence[DicomSlice], path: str | os.PathLike, *, description: str = ""
) -> Path:
    """Write the masks of slices of one series as a NIfTI-1 volume in scanner coordinates.

    The slices must share one orientation and lie on a regular grid: their
    positions along the slice normal are evenly spaced, and every position
    holds as many images (cardiac phases) as the others. The volume is
    ``(columns, rows, positions)``, or ``(columns, rows, positions, phases)``
    when positions hold several images (phases ordered by ``TriggerTime``,
    then ``InstanceNumber``; by ``InstanceNumber`` at a position where only
    some images have a ``TriggerTime``, as :func:`~skcardio.io.read_cine`
    ranks them), with positions in increasing order along the
    normal (row direction x column direction) and voxel ``(i, j, k)`` the
    pixel ``[row=j, col=i]`` of position ``k``. The affine (qform and sform,
    code 1 *scanner*) maps voxels to RAS millimetres; DICOM gives LPS, so x
    and y change sign. A single slice is a one-slice volume whose third axis
    is ``SliceThickness`` long (1 mm when unknown).

    Parameters
    ----------
    masks : array-like of shape (n, rows, columns), bool
        One mask per slice, in the order of ``geometry``.
    geometry : sequence of DicomSlice
        The ``n`` slices the masks were predicted on
        (:func:`~skcardio.io.read_dicom`, ``pixels=False`` is enough): their
        ``image_position``, ``image_orientation``, ``pixel_spacing``,
        ``slice_thickness``, ``trigger_time`` and ``instance_number``.
    path : str or path-like
        ``.nii`` or ``.nii.gz`` (gzip-compressed) file, written atomically.
    description : str, default=""
        Stored in the header's ``descrip`` field (e.g. the algorithm that
        drew the masks): printable ASCII, at most 80 characters.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ImportError
        If nibabel is not installed (``pip install "skcardio[nifti]"``).
    ExportError
        If a slice lacks its position, orientation or spacing, or the slices
        do not form one regular grid (different orientations, a direction
        cosine more than 1e-4 from the first slice's, or spacings,
        uneven gaps, shifted in plane, positions with different numbers of
        images), or two are one image twice (one position and
        ``TriggerTime``, as :func:`group_by_phase` refuses them); the
        message names the files and values.
    ValueError
        If ``description`` is not printable ASCII of at most 80 characters.

    Examples
    --------
    >>> import nibabel, numpy as np
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_dicom, write_nifti
    >>> data = load_sample()
    >>> first = data.frame[0]
    >>> path = write_nifti(data.y[:1], [read_dicom(first.dicom_path, pixels=False)],
    ...                    getfixture("tmp_path") / "mask.nii.gz")
    >>> volume = nibabel.load(path)
    >>> volume.shape
    (256, 256, 1)
    >>> bool((np.asarray(volume.dataobj)[:, :, 0].T == data.y[0]).all())
    True
    """
    nib = import_optional("nibabel", "nifti", "writing NIfTI")
    _check_text(path, "description", description, 80, "the NIfTI header's descrip field")
    geometry = list(geometry)
    masks = check_slice_masks(masks, len(geometry))
    grid = _grid(geometry, masks.shape[1:])
    data = masks[grid.order].transpose(3, 2, 0, 1).astype(np.uint8)  # (W, H, positions, phases)
    if data.shape[3] == 1:
        data = data[..., 0]
    image = nib.Nifti1Image(data, grid.affine)
    image.set_qform(grid.affine, code=1)
    image.set_sform(grid.affine, code=1)
    image.header.set_xyzt_units("mm", "msec")
    image.header["descrip"] = description
    if data.ndim == 4 and math.isfinite(grid.phase_step):
        image.header.set_zooms(image.header.get_zooms()[:3] + (grid.phase_step,))
    payload = image.to_bytes()
    if Path(path).name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    with replacing(path, "wb") as handle:
        handle.write(payload)
    return Path(path)


def group_by_phase(geometry: Sequence[DicomSlice]) -> list[list[int]]:
    """Split slices into sets with one image per position: the phases of a cine series.

    Slices are at one position when their ``ImagePositionPatient`` values
    lie within 0.01 mm along the normal of the first slice's orientation
    (stricter than :func:`~skcardio.io.read_cine`'s 0.5 mm: see ``docs/data.md``).
    At each position, images are ranked by ``TriggerTime`` (then
    ``InstanceNumber``; by ``InstanceNumber`` where only some have a
    ``TriggerTime``, as :func:`~skcardio.io.read_cine` ranks them); set ``k`` holds the ``k``-th image of every position
    that has one. A stack without repeated positions is one set.

    Parameters
    ----------
    geometry : sequence of DicomSlice
        Slices of one series (:func:`~skcardio.io.read_dicom`, ``pixels=False``
        is enough).

    Returns
    -------
    list of list of int
        Indices into ``geometry``, one list per phase, each in the order given.

    Raises
    ------
    ExportError
        If a slice lacks its ``ImagePositionPatient`` or ``ImageOrientationPatient``,
        or, in a series with several images at a position, two positions lie
        0.01-0.5 mm apart: one slice for :func:`~skcardio.io.read_cine`, whose
        images could not be ranked into phases together. If two slices are
        one image twice (at one position with one ``TriggerTime``, or without
        one, one ``InstanceNumber``: a copy, refused as ``read_cine`` refuses
        it, instead of ranked as a phase of its own that shifts the later
        ones) or share a ``SOPInstanceUID`` (by which a DICOM SEG references
        its sources); the message names both files.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import group_by_phase, read_dicom
    >>> frame = load_sample().frame
    >>> slices = [read_dicom(f, pixels=False) for f in frame.dicom_path[:5]]
    >>> [int(frame.instance[i]) for i in group_by_phase(slices)[1]]
    [119]
    """
    geometry = list(geometry)
    if not geometry:
        return []
    for s in geometry:
        if not (np.isfinite(s.image_position).all() and np.isfinite(s.image_orientation).all()):
            raise ExportError(
                f"{s.path}: no ImagePositionPatient or ImageOrientationPatient: "
                "slices are grouped by position with these"
            )
    normal = np.cross(geometry[0].image_orientation[:3], geometry[0].image_orientation[3:])
    positions = _positions(geometry, normal, check=False)
    if any(len(group) > 1 for group in positions):  # a cine: a position's images are its phases
        _check_apart(geometry, positions, normal)
    _check_distinct_uids((s.sop_instance_uid, s.path) for s in geometry)
    phases: list[list[int]] = []
    for group in positions:
        for rank, i in enumerate(_phases(geometry, group)):
            if rank == len(phases):
                phases.append([])
            phases[rank].append(i)
    return [sorted(phase) for phase in phases]


def _check_distinct_uids(images) -> None:
    """Refuse two images, ``(SOPInstanceUID, path)`` pairs, with one UID ("": unknown, not compared).

    A DICOM SEG references its sources by SOPInstanceUID: a viewer would lay
    a mask on whichever image of that UID it holds.
    """
    seen: dict[str, str] = {}
    for uid, path in images:
        if uid and uid in seen:
            raise ExportError(
                f"duplicate images: {seen[uid]} and {path} share SOPInstanceUID {uid}: expected one image per "
                "SOPInstanceUID, by which a DICOM SEG references its sources (remove the copy, or give each "
                "image its own UID)"
            )
        seen.setdefault(uid, path)


def _check_apart(slices: list[DicomSlice], positions: list[list[int]], normal: np.ndarray) -> None:
    """Refuse neighbouring positions of a cine within ``POSITION_TOLERANCE_MM``: their phases would mix.

    read_cine takes such images for one slice; ranked at two positions, an
    image moved by a fraction of a millimetre would start a phase of its own
    and shift every later one, so nothing is guessed.
    """
    depths = _depths(slices, positions, normal)
    for k in range(1, len(positions)):
        gap = depths[k] - depths[k - 1]
        if gap <= POSITION_TOLERANCE_MM:
            raise ExportError(
                f"{slices[positions[k][0]].path}: ImagePositionPatient lies {gap:.3f} mm along the normal from "
                f"that of {slices[positions[k - 1][0]].path}: more than the {GRID_TOLERANCE_MM} mm of one "
                f"position, within the {POSITION_TOLERANCE_MM} mm of one slice (read_cine), so the images of "
                "these positions cannot be split into phases; correct the positions or pass one phase"
            )


def _one_orientation(orientation, reference) -> bool:
    """Whether two ``ImageOrientationPatient`` values are one orientation: no direction cosine more than
    ``_TOL_COSINE`` apart (scanner rounding). The one test of :func:`write_nifti` and :func:`write_dicom_seg`,
    so that ``--nifti --dicom-seg`` never writes one and refuses the other."""
    return bool(np.abs(np.subtract(orientation, reference, dtype=np.float64)).max() <= _TOL_COSINE)


def _depths(slices: list[DicomSlice], positions: list[list[int]], normal: np.ndarray) -> np.ndarray:
    """Position of each group along ``normal`` (mm), from its first slice."""
    return np.array([np.dot(slices[group[0]].image_position, normal) for group in positions], dtype=np.float64)


@dataclass(frozen=True)
class _Grid:
    #: Indices of the slices, shape (positions, phases).
    order: np.ndarray
    #: Voxel (i = column, j = row, k = position) -> RAS mm.
    affine: np.ndarray
    #: Median TriggerTime step between phases (ms); NaN if unknown.
    phase_step: float


def _grid(slices: list[DicomSlice], shape: tuple[int, int]) -> _Grid:
    """Order the slices on one regular grid and compute its affine, or say why they are not on one."""
    for s in slices:
        _check_geometry(s, shape)
    first = slices[0]
    orientation = np.array(first.image_orientation)
    spacing = np.array(first.pixel_spacing)
    for s in slices[1:]:
        if not _one_orientation(s.image_orientation, orientation):
            raise ExportError(
                f"{s.path}: ImageOrientationPatient {tuple(s.image_orientation)} differs from "
                f"{tuple(orientation.tolist())} of {first.path} by more than the {_TOL_COSINE:g} tolerance (direction "
                "cosines): one NIfTI volume needs one orientation"
            )
        if not np.allclose(s.pixel_spacing, spacing, atol=_TOL_COSINE):
            raise ExportError(
                f"{s.path}: PixelSpacing {s.pixel_spacing} differs from {first.pixel_spacing} "
                f"of {first.path}: one NIfTI volume needs one pixel spacing"
            )
    row_dir, col_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, col_dir)
    positions = _positions(slices, normal)
    order = np.array([_phases(slices, group) for group in positions])
    depths = _depths(slices, positions, normal)
    step = _slice_step(slices, positions, depths)
    affine = np.eye(4)
    affine[:3, 0] = row_dir * spacing[1]  # i: along a row, one column further
    affine[:3, 1] = col_dir * spacing[0]  # j: down a column, one row further
    affine[:3, 2] = normal * step
    affine[:3, 3] = slices[order[0, 0]].image_position
    times = np.array([slices[i].trigger_time for i in order[0]])
    phase_step = float(np.median(np.diff(times))) if len(times) > 1 else math.nan
    return _Grid(order, _LPS_TO_RAS @ affine, phase_step)


def _check_geometry(s: DicomSlice, shape: tuple[int, int]) -> None:
    missing = [
        name
        for name, value in (
            ("ImagePositionPatient", s.image_position),
            ("ImageOrientationPatient", s.image_orientation),
            ("PixelSpacing", s.pixel_spacing),
        )
        if not np.isfinite(value).all()
    ]
    if missing:
        raise ExportError(
            f"{s.path}: no {' or '.join(missing)}: placing a mask in a NIfTI volume needs "
            "ImagePositionPatient, ImageOrientationPatient and PixelSpacing"
        )
    if tuple(s.shape) != tuple(shape):
        raise ExportError(f"{s.path}: image of {s.shape[0]}x{s.shape[1]} pixels, but its mask is {shape[0]}x{shape[1]}")


def _positions(slices: list[DicomSlice], normal: np.ndarray, *, check: bool = True) -> list[list[int]]:
    """Indices of the slices at each position along ``normal``, positions in increasing order.

    With ``check``, the slices must form a grid (no in-plane shift, as many
    images at every position).
    """
    depth = np.array([np.dot(s.image_position, normal) for s in slices])
    ranked = np.argsort(depth, kind="stable")
    groups: list[list[int]] = [[int(ranked[0])]]
    for i in ranked[1:]:
        if depth[i] - depth[groups[-1][0]] > GRID_TOLERANCE_MM:
            groups.append([])
        groups[-1].append(int(i))
    for group in groups:  # a copy would be ranked as a phase of its own, shifting the later ones
        found = duplicate_images([slices[i] for i in group], float(depth[group[0]]))
        if found:
            raise ExportError(found)
    if not check:
        return groups
    for group in groups:
        anchor = slices[group[0]]
        for i in group[1:]:
            if not np.allclose(slices[i].image_position, anchor.image_position, atol=GRID_TOLERANCE_MM, rtol=0):
                raise ExportError(
                    f"{slices[i].path}: ImagePositionPatient {tuple(slices[i].image_position)} is shifted "
                    f"in plane from {tuple(anchor.image_position)} of {anchor.path} at the same "
                    "position along the normal: one NIfTI volume needs one grid"
                )
    counts = {len(g) for g in groups}
    if len(counts) > 1:
        listed = ", ".join(f"{np.dot(slices[g[0]].image_position, normal):.2f} mm: {len(g)}" for g in groups)
        raise ExportError(
            f"{slices[groups[0][0]].path} ...: slice positions hold different numbers of images "
            f"({listed}); a NIfTI volume needs every position at every phase: pass complete phases"
        )
    return groups


def _phases(slices: list[DicomSlice], group: list[int]) -> list[int]:
    """The images of one position in phase order: TriggerTime, then InstanceNumber, as read_cine ranks them.

    By InstanceNumber where only some images of the position have a
    TriggerTime (``_cine_order.phase_key``): ranked by time, one without
    would be put last and the phases of the SEG files would not be
    report's.
    """
    key = phase_key([slices[i] for i in group])
    return sorted(group, key=lambda i: (*key(slices[i]), i))


def _slice_step(slices: list[DicomSlice], positions: list[list[int]], depths: np.ndarray) -> float:
    """The regular gap between positions (mm); the slice thickness for one position (1 mm if absent or not physical)."""
    if len(positions) == 1:
        thickness = slices[positions[0][0]].slice_thickness
        return thickness if thickness in SLICE_SPACING_MM else 1.0
    gaps = np.diff(depths)
    step = float(gaps.mean())
    if np.abs(gaps - step).max() > max(GRID_TOLERANCE_MM, _TOL_GAP * step):
        raise ExportError(
            f"{slices[positions[0][0]].path} ...: slice positions are not evenly spaced (gaps "
            f"{', '.join(f'{g:.2f}' for g in gaps)} mm): a NIfTI volume needs a regular grid; "
            "export the positions of each regular run separately"
        )
    return step


#: Type 2 elements (present, possibly empty) of the patient and study modules a SEG copies.
_TYPE2 = (
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
    "ReferringPhysicianName", "StudyID", "AccessionNumber",
)


def _conformed(ds):
    """The header as a SEG can copy it: invalid dates (``00000000``) and absent type 2 elements empty."""
    from pydicom.valuerep import DA, DT, TM

    for keyword in _TYPE2:
        if keyword not in ds:
            setattr(ds, keyword, None)
    parse = {"DA": DA, "DT": DT, "TM": TM}
    # elements() leaves the others raw: converting every value cost more than building the SEG.
    dated = [element.tag for element in ds.elements() if _vr(element) in parse]
    for tag in dated:
        element = ds[tag]
        if element.value:
            try:
                parse[element.VR](element.value)
            except (ValueError, TypeError):
                element.value = None
    return ds


def _vr(element) -> str | None:
    """The VR of a (raw) element; an implicit-VR file's raw elements carry none: the dictionary's."""
    from pydicom.datadict import dictionary_VR

    if element.VR:
        return element.VR
    try:
        return dictionary_VR(element.tag)
    except KeyError:  # a private or unknown tag
        return None


def _check_seg_sources(sources, paths: list[str], shape: tuple[int, int]) -> None:
    first = sources[0]
    _check_distinct_uids((str(ds.get("SOPInstanceUID", "") or ""), path) for ds, path in zip(sources, paths))
    for ds, path in zip(sources, paths):
        missing = [k for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID") if not ds.get(k)]
        if missing:
            raise ExportError(f"{path}: no {', '.join(missing)}: a DICOM SEG references its sources by these")
        if ds.SeriesInstanceUID != first.SeriesInstanceUID:
            raise ExportError(
                f"{path}: series {ds.SeriesInstanceUID}, but {paths[0]} is of series "
                f"{first.SeriesInstanceUID}: one DICOM SEG covers one series; write one per series"
            )
        size = (int(ds.get("Rows", 0)), int(ds.get("Columns", 0)))
        if size != tuple(shape):
            raise ExportError(f"{path}: image of {size[0]}x{size[1]} pixels, but its mask is {shape[0]}x{shape[1]}")


def _orientation(ds) -> np.ndarray | None:
    """``ImageOrientationPatient`` as 6 finite floats, or None when absent or not so."""
    try:
        value = np.asarray([float(v) for v in ds.ImageOrientationPatient], dtype=np.float64)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return value if value.shape == (6,) and np.isfinite(value).all() else None


def _share_orientation(sources, paths: list[str], path) -> None:
    """Give every source the first one's ``ImageOrientationPatient`` when all lie within ``_TOL_COSINE`` of it.

    highdicom requires one orientation and compares the values exactly,
    while scanners round each image's direction cosines on their own
    (-0.307716 and -0.307715 in the series of two shared patients);
    :func:`write_nifti` takes images within that tolerance for one
    orientation (read_cine too, within ``ORIENTATION_TOLERANCE``), so the
    SEG does too, by the same test (:func:`_one_orientation`). Only highdicom's copies of the headers change. Orientations
    further apart are refused, naming the tolerance; sources without a
    usable orientation are left to highdicom.
    """
    first = _orientation(sources[0])
    if first is None:
        return
    for ds, source in zip(sources[1:], paths[1:]):
        value = _orientation(ds)
        if value is None:
            return
        if not _one_orientation(value, first):
            raise ExportError(
                f"{path}: no DICOM SEG of sources in different orientations: ImageOrientationPatient "
                f"{tuple(value.tolist())} of {source} differs from {tuple(first.tolist())} of {paths[0]} by "
                f"{np.abs(value - first).max():.2g}, more than the {_TOL_COSINE:g} tolerance (direction cosines) "
                "within which one SEG takes them for one orientation"
            )
    for ds in sources[1:]:
        ds.ImageOrientationPatient = list(sources[0].ImageOrientationPatient)


@contextmanager
def _quiet_source_warnings():
    """Silence pydicom and highdicom remarks on the sources' values (e.g. UIDs with a
    leading zero, one-part patient names): faults of the input that the SEG copies as is.
    highdicom's INFO lines (nine per source image: "copy attributes of module ...") too."""
    from pydicom import config

    mode = config.settings.reading_validation_mode
    # pydicom both warns and logs invalid values: IGNORE silences both.
    config.settings.reading_validation_mode = config.IGNORE
    highdicom_log = logging.getLogger("highdicom")
    level = highdicom_log.level
    highdicom_log.setLevel(max(logging.WARNING, highdicom_log.getEffectiveLevel()))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person name", category=UserWarning)
            yield
    finally:
        config.settings.reading_validation_mode = mode
        highdicom_log.setLevel(level)
