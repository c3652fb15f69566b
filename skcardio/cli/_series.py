"""``--dicom-seg/--nifti`` of ``skcardio predict`` and ``report``: the masks of each series as DICOM SEG and NIfTI.

``predict`` notes each slice it stages in a :class:`SeriesSlices` (on disk,
grouped by ``SeriesInstanceUID``) and calls :func:`write_series_outputs` once
every slice is staged: series by series, the masks are read back from the
staged ``STEM_mask.npy`` files and written next to the slice files of the
series, each series freed before the next is read. ``report`` splits each
study's masks with :func:`series_of` and calls :func:`write_series_files`,
writing into the patient's folder. Both list the
files in ``series.csv``; which command's it is decides who may remove or
replace it (:func:`series_index_owner`, :func:`check_series_index`).
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import struct
import tempfile
import warnings
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._text import text_file
from ._output import OutputError
from ._records import REPORT_WRITTEN_BY, record_column, record_files
from ._trim_option import algorithm_name, level_text

__all__ = [
    "SERIES_CSV", "SeriesFailure", "SeriesMasks", "SeriesSlices", "add_arguments", "check_extras", "check_series_index",
    "earlier_series_outputs", "not_written", "series_index_owner", "series_of", "write_series_files",
    "write_series_index", "write_series_outputs",
]

logger = logging.getLogger("skcardio.cli.predict")

#: The index of the series files, in --out.
SERIES_CSV = "series.csv"
#: ``report``'s record of the files it wrote: a ``series.csv`` it lists is ``report``'s, not ``predict``'s.
REPORT_RECORD = "report.json"
#: Its columns; ``phase`` is empty for a file covering every phase of the series.
#: ``boundary_level`` is the ``--trim-boundary`` level the masks were trimmed at (empty: not trimmed).
SERIES_FIELDS = ("series_uid", "series_number", "format", "phase", "slices", "boundary_level", "file")


def add_arguments(parser: argparse.ArgumentParser, *, masks: str = "the masks") -> None:
    """Add ``--dicom-seg`` and ``--nifti`` to a command; ``masks`` says which masks are written."""
    parser.add_argument(
        "--dicom-seg", action="store_true",
        help=f"also write {masks} of each series as a DICOM SEG referencing its images: "
        "FOLDER/seriesN_seg.dcm, or one FOLDER/seriesN_phaseKK_seg.dcm per cardiac phase (KK = 00, 01, ...: phases "
        "in trigger-time order, counted from 0 as in report.csv) when the "
        "series holds several images at one position (needs skcardio[dicomseg])",
    )
    parser.add_argument(
        "--nifti", action="store_true",
        help=f"also write {masks} of each series as one NIfTI volume in scanner coordinates: "
        "FOLDER/seriesN_mask.nii.gz, columns x rows x positions (x phases) (needs skcardio[nifti])",
    )


def check_extras(args: argparse.Namespace) -> str | None:
    """Why the asked formats cannot be written (a library is missing), or None."""
    from .._optional import import_optional

    wanted = [("highdicom", "dicomseg", "--dicom-seg")] * bool(args.dicom_seg)
    wanted += [("nibabel", "nifti", "--nifti")] * bool(args.nifti)
    for module, extra, option in wanted:
        try:
            import_optional(module, extra, option)
        except ImportError as exc:
            return str(exc)
    return None


def write_series_outputs(
    stage: Path, slices: SeriesSlices | None, *, dicom_seg: bool, nifti: bool, boundary_level: float | None = None,
    out: Path | None = None,
) -> list[SeriesFailure]:
    """Write the series files of the staged ``slices`` under ``stage``; return those not written (logged).

    One series at a time: its headers and staged masks are read, its files
    written, and it is freed before the next is read, so that the memory
    does not grow with the number of slices; ``series.csv`` is written as
    the files are. ``boundary_level``: the level the masks were trimmed at
    (``--trim-boundary``), or None. ``out``: where ``stage`` will be
    published, named in the errors (see :func:`write_series_files`).
    """
    if not (dicom_seg or nifti) or slices is None:
        return []
    failures: list[SeriesFailure] = []
    groups = (_staged_series(stage, uid, number, members) for uid, number, members in slices.series())
    write_series_index(stage, _series_files(stage, groups, failures, dicom_seg=dicom_seg, nifti=nifti,
                                            boundary_level=boundary_level, out=out))
    for failure in failures:
        logger.error("%s", failure.message)
    return failures


class SeriesSlices:
    """The slices ``predict`` staged, by series, for :func:`write_series_outputs`: little of them in memory.

    Each slice's DICOM file and output stem are appended to an unnamed
    temporary file in ``folder`` (the staging folder: the file is never
    published, and goes with it); in memory stay an offset into that file
    per slice (8 bytes) and the series met, in order of appearance, keyed
    ``(SeriesInstanceUID, SeriesNumber)`` as the slice's header gives them.
    Use it in a ``with`` block, or :meth:`close` it.
    """

    def __init__(self, folder: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)
        self._offsets: dict[tuple[str, str], array] = {}
        self._end = 0

    def add(self, header, stem: Path) -> None:
        """Note a staged slice: ``header`` its ``DicomSlice`` (pixels or not), ``stem`` its output stem."""
        key = (header.series_uid, "" if header.series_number is None else str(header.series_number))
        offsets = self._offsets.get(key)
        if offsets is None:
            offsets = self._offsets[key] = array("q")
        # Any name, a byte that is not UTF-8 among it (a surrogate): written as it is, read back the same.
        path, name = (os.fspath(text).encode("utf-8", "surrogatepass") for text in (header.path, str(stem)))
        record = struct.pack("<II", len(path), len(name)) + path + name
        self._file.write(record)
        offsets.append(self._end)
        self._end += len(record)

    def __len__(self) -> int:
        """How many slices were added."""
        return sum(len(offsets) for offsets in self._offsets.values())

    def series(self) -> Iterator[tuple[str, str, list[tuple[str, str]]]]:
        """``(uid, number, [(DICOM file, output stem)...])`` of each series, in order of appearance, slices in order."""
        self._file.flush()
        for (uid, number), offsets in self._offsets.items():
            members = []
            for offset in offsets:
                self._file.seek(offset)
                lengths = struct.unpack("<II", self._file.read(8))
                path, stem = (self._file.read(n).decode("utf-8", "surrogatepass") for n in lengths)
                members.append((path, stem))
            yield uid, number, members

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SeriesSlices:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _staged_series(stage: Path, uid: str, number: str, members: list[tuple[str, str]]) -> SeriesMasks:
    """The masks of one series, read back from their staged ``STEM_mask.npy``, with its headers read again.

    Written next to the slice files of its first slice.
    """
    from ..io import read_dicom

    headers = [read_dicom(path, pixels=False) for path, _ in members]
    stems = [Path(stem) for _, stem in members]
    masks = np.stack([np.load(stage / f"{stem}_mask.npy") for stem in stems])
    return SeriesMasks(uid, number, stems[0].parent, masks, headers)


@dataclass(frozen=True)
class SeriesFailure:
    """The files of one format of one series that could not be written.

    ``what`` is the format's name (``"DICOM SEG"``, ``"NIfTI"``; ``"series"``
    when the series themselves could not be told), ``files`` how many files
    were not written (a DICOM SEG per cardiac phase), None when unknown, and
    ``scope`` what one failure covers (a series; a patient for ``report``
    when its series could not be told).
    """

    message: str
    what: str
    files: int | None
    scope: str = "series"


def not_written(failures: list[SeriesFailure]) -> str:
    """What ``failures`` left unwritten, for a command's summary line; ``""`` when nothing.

    >>> not_written([SeriesFailure("...", "DICOM SEG", 20), SeriesFailure("...", "NIfTI", 1)])
    '20 DICOM SEG file(s) of 1 series, 1 NIfTI file(s) of 1 series not written (see the errors above)'
    """
    parts = []
    for what, scope in dict.fromkeys((f.what, f.scope) for f in failures):
        same = [f for f in failures if (f.what, f.scope) == (what, scope)]
        counts = [f.files for f in same]
        files = "" if None in counts else f"{sum(counts)} "
        parts.append(f"{files}{what} file(s) of {len(same)} {scope}")
    return f"{', '.join(parts)} not written (see the errors above)" if parts else ""


@dataclass
class SeriesMasks:
    """The masks of one series and their slices, to be written under ``folder``."""

    uid: str
    number: str
    folder: Path
    masks: np.ndarray
    geometry: list = field(repr=False)


def series_of(folder: Path, masks: np.ndarray, geometry: list) -> list[SeriesMasks]:
    """Split masks ``(n, H, W)`` of slices ``geometry`` (``DicomSlice``) by series, in order of appearance."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, header in enumerate(geometry):
        groups[(header.series_uid, "" if header.series_number is None else str(header.series_number))].append(i)
    return [
        SeriesMasks(uid, number, folder, masks[members], [geometry[i] for i in members])
        for (uid, number), members in groups.items()
    ]


def write_series_files(
    stage: Path, groups: Iterable[SeriesMasks], *, dicom_seg: bool, nifti: bool, boundary_level: float | None = None,
    out: Path | None = None,
) -> tuple[list[dict], list[SeriesFailure]]:
    """Write each series' NIfTI and/or DICOM SEG files under ``stage``.

    The files name the algorithm, and say whether the masks were trimmed at
    ``boundary_level`` (``--trim-boundary``): the SEG's algorithm name and
    the NIfTI header's ``descrip``. Returns the rows of ``series.csv`` and a
    :class:`SeriesFailure` per format of a series that could not be written,
    its message naming the series and a file of it, and how many files were
    not written (a series' DICOM SEG files are written all or none). A message names an
    output by its path in ``out``, where ``stage`` is published (relative to
    ``out`` when None), not in ``stage``, which is gone when the message is read.
    """
    failures: list[SeriesFailure] = []
    index = list(_series_files(stage, groups, failures, dicom_seg=dicom_seg, nifti=nifti,
                               boundary_level=boundary_level, out=out))
    return index, failures


def _series_files(
    stage: Path, groups: Iterable[SeriesMasks], failures: list[SeriesFailure], *, dicom_seg: bool, nifti: bool,
    boundary_level: float | None = None, out: Path | None = None,
) -> Iterator[dict]:
    """:func:`write_series_files`, the rows of ``series.csv`` given as each series is written.

    A series of ``groups`` is let go before the next is taken: given one at
    a time (predict's), at most one series' masks are in memory.
    """
    from ..exceptions import DicomReadError, ExportError

    taken: set[Path] = set()
    writers = ([_write_nifti] if nifti else []) + ([_write_segs] if dicom_seg else [])
    algorithm = algorithm_name(boundary_level)
    for group in groups:
        base = _unique_base(group.folder / (f"series{group.number}" if group.number else "series"), taken)
        for writer in writers:
            try:
                entries = writer(stage, base, group.masks, group.geometry, algorithm)
            except (ExportError, DicomReadError) as exc:
                message = (f"series {group.uid or '?'} ({len(group.geometry)} slice(s), e.g. {group.geometry[0].path}): "
                           + _as_published(str(exc), stage, out))
                failures.append(SeriesFailure(message, *_planned(writer, group.geometry)))
                continue
            for entry in entries:
                yield {"series_uid": group.uid, "series_number": group.number, **entry, "boundary_level": boundary_level}
        del group  # before the next series is read


def _planned(writer, geometry: list) -> tuple[str, int | None]:
    """The format ``writer`` writes, and how many files it writes for ``geometry`` (None: cannot be told)."""
    from ..exceptions import ExportError
    from ..io import group_by_phase

    if writer is _write_nifti:
        return "NIfTI", 1
    try:
        return "DICOM SEG", len(group_by_phase(geometry))  # one per phase
    except ExportError:
        return "DICOM SEG", None


def _as_published(text: str, stage: Path, out: Path | None) -> str:
    """``text`` with each path inside ``stage`` named where it is published: in ``out``, or relative to it."""
    return text.replace(f"{stage}{os.sep}", "" if out is None else f"{out}{os.sep}")


def write_series_index(stage: Path, index: Iterable[dict]) -> None:
    """Write ``series.csv``, the list of the series files, in ``stage`` (the level as text, empty for None).

    ``index`` is read as the file is written: it may be an iterator.
    """
    with text_file(stage / SERIES_CSV) as handle:
        writer = csv.DictWriter(handle, fieldnames=SERIES_FIELDS)
        writer.writeheader()
        writer.writerows({**row, "boundary_level": level_text(row.get("boundary_level"))} for row in index)


def series_index_owner(out: Path) -> str | None:
    """Which command's list of series files ``out/series.csv`` is.

    Both commands write a ``series.csv``. ``report`` lists it in
    ``report.json``, its record of every file it wrote; ``predict`` keeps no
    other record. So a ``series.csv`` that ``report.json`` lists is
    ``report``'s, and any other is ``predict``'s (as every ``series.csv``
    was taken to be before: records of earlier versions keep working).

    Returns
    -------
    str or None
        ``"report"``, ``"predict"``, ``"unknown"`` when a ``report.json`` is
        there but cannot be read or was not written by ``report`` (a warning
        says so: neither command then removes or replaces it), or None when
        there is no ``series.csv``.
    """
    if not os.path.lexists(out / SERIES_CSV):
        return None
    # Only a report.json that report wrote: another program's must not make report replace predict's index.
    listed = record_files(out / REPORT_RECORD, written_by=REPORT_WRITTEN_BY, legacy_key="patients")
    if listed is None:
        return "unknown"
    return "report" if SERIES_CSV in listed else "predict"


def check_series_index(out: Path, command: str, *, writes: bool) -> None:
    """Raise :class:`~skcardio.cli._output.OutputError` if ``command`` would replace another's ``series.csv``.

    Replacing it would leave the series files it lists untracked (never
    removed by a later run) while the other command's record still names
    it. Called before the slow part; ``writes``: whether this run writes a
    ``series.csv`` (``--dicom-seg`` or ``--nifti``).
    """
    owner = series_index_owner(out) if writes else None
    if owner in (None, command):
        return
    path, record = out / SERIES_CSV, out / REPORT_RECORD
    if owner == "unknown":
        whose = f"whose list of series files it is cannot be told ({record} cannot be read, see the warning above)"
    elif owner == "report":
        whose = f"it lists the series files of an earlier 'skcardio report' ({record} names it)"
    else:
        whose = f"no {record} lists it: it lists the series files of an earlier 'skcardio predict' (or is not skcardio's)"
    raise OutputError(
        f"{path}: {whose}; {command} --dicom-seg/--nifti would replace it: expected another --out; {out} left unchanged"
    )


def earlier_series_outputs(out: Path) -> list[str]:
    """The series files (and ``series.csv``) that an earlier ``predict``'s ``series.csv`` in ``out`` lists.

    Nothing when ``series.csv`` is ``report``'s or of unknown origin
    (:func:`series_index_owner`), or cannot be trusted (a link, a pipe, too
    large: a warning): the files are then kept.
    """
    if series_index_owner(out) != "predict":
        return []
    files = record_column(out / SERIES_CSV, "file")
    return [] if files is None else [SERIES_CSV, *files]


def _unique_base(base: Path, taken: set) -> Path:
    """``base``, or ``base-2``, ``base-3``... when series of one folder share a number."""
    candidate, k = base, 1
    while candidate in taken:
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    taken.add(candidate)
    return candidate


def _write_nifti(stage: Path, base: Path, masks: np.ndarray, geometry: list, algorithm: str) -> list[dict]:
    from ..io import write_nifti

    name = f"{base}_mask.nii.gz"
    (stage / name).parent.mkdir(parents=True, exist_ok=True)
    write_nifti(masks, geometry, stage / name, description=algorithm)
    return [{"format": "nifti", "phase": "", "slices": len(masks), "file": name}]


def _write_segs(stage: Path, base: Path, masks: np.ndarray, geometry: list, algorithm: str) -> list[dict]:
    from pydicom.uid import generate_uid

    from ..io import group_by_phase, write_dicom_seg

    phases = group_by_phase(geometry)
    series_uid = generate_uid()  # the phases' files: one SEG series of several instances, as their source is
    entries = []
    try:
        # One SEG per phase: a remark about the series (anonymised FrameOfReferenceUIDs...) would come
        # once per phase, 20 near-identical lines for a cine series; said once, with the count.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # Counted from 0, as report.csv's ed_phase / es_phase and the volume curve count them.
            for k, phase in enumerate(phases):
                name = f"{base}_seg.dcm" if len(phases) == 1 else f"{base}_phase{k:02d}_seg.dcm"
                (stage / name).parent.mkdir(parents=True, exist_ok=True)
                write_dicom_seg(
                    masks[phase], [geometry[i].path for i in phase], stage / name,
                    algorithm=algorithm, series_instance_uid=series_uid, instance_number=k + 1,
                    content_description=_phase_description(k, len(phases), [geometry[i] for i in phase]),
                )
                entries.append(
                    {"format": "dicom-seg", "phase": k if len(phases) > 1 else "", "slices": len(phase), "file": name}
                )
    except Exception:
        for entry in entries:  # all phases of the series or none
            (stage / entry["file"]).unlink(missing_ok=True)
        raise
    finally:
        _say_once(caught)
    return entries


def _phase_description(k: int, n_phases: int, slices: list) -> str | None:
    """``ContentDescription`` of phase ``k``'s SEG: ``"LV blood pool, phase 7 of 20 (312 ms)"`` (the median
    trigger time); None (write_dicom_seg's own) for a series of one phase."""
    if n_phases == 1:
        return None
    times = [s.trigger_time for s in slices if np.isfinite(s.trigger_time)]
    when = f" ({np.median(times):.0f} ms)" if times else ""
    return f"LV blood pool, phase {k} of {n_phases}{when}"  # counted from 0, as report.csv's ed_phase


def _say_once(caught: list) -> None:
    """Warn each remark of the phases' SEGs once; one made for several phases says how many."""
    alike: dict[tuple, list] = {}
    for remark in caught:
        # The images and UIDs named in parentheses differ from phase to phase; the remark does not.
        key = (remark.category, re.sub(r"\([^)]*\)", "", str(remark.message)))
        alike.setdefault(key, []).append(remark)
    for (category, _), remarks in alike.items():
        count = f" (said of {len(remarks)} phases' SEGs alike)" if len(remarks) > 1 else ""
        warnings.warn(f"{remarks[0].message}{count}", category, stacklevel=3)
