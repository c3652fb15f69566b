"""Scan the Sunnybrook Cardiac Data as distributed into slice records.

Layout of the public download (Sunnybrook Cardiac Data, CC0)::

    ROOT/scd_patientdata.csv     PatientID,OriginalID,...   (SCD0000101,SC-HF-I-1,...)
    ROOT/SCD_DeidentifiedImages/<PatientID>/<series folder>/IM-<ssss>-<nnnn>.dcm
    ROOT/SCD_ManualContours/<OriginalID>/contours-manual/IRCCI-expert/IM-0001-<nnnn>-icontour-manual.txt
                                                                    (and -ocontour-, -p1contour-, -p2contour-)

The image number ``nnnn`` of a contour file is the number of an image of the
patient's contoured cine short-axis series (e.g. ``CINESAX_300``): the last
number of the DICOM file's name (``IM-0003-0048.dcm`` is image 48; the first
number counts series in the export and is ignored), which is also its
``InstanceNumber``. The contoured series is the one holding an image for every
contoured number; if several do, the one whose folder name holds ``SAX``.
Contour folders name the patient with a two-digit number (``SC-HF-I-01`` for
``OriginalID`` ``SC-HF-I-1``); both spellings are accepted. Papillary-muscle
contours (``p1``, ``p2``) are not read. Everything not used is recorded as a
:class:`~skcardio.datasets.Skipped` entry with the reason, except files beside
the patient folders of the two top folders (the download's README and licence).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import DatasetError
from ._layout import (
    Layout,
    Skipped,
    SliceFiles,
    _entry_problem,
    _index,
    _link_rows,
    folder_refusal,
    list_entries,
    refusal_item,
    refused_folder,
    unsafe_id,
)

__all__ = ["is_sunnybrook_layout", "scan_sunnybrook"]

IMAGES = "SCD_DeidentifiedImages"
CONTOURS = "SCD_ManualContours"
PATIENT_TABLE = "scd_patientdata.csv"
#: Where a patient's contour files are, below its contour folder.
EXPERT = Path("contours-manual") / "IRCCI-expert"
#: A DICOM file of a series folder; the group is the image number.
SERIES_DICOM = re.compile(r"IM-[0-9]+-([0-9]+)\.dcm")
#: A contour file; groups: image number, kind (i, o; p1 and p2 are papillary muscles).
CONTOUR = re.compile(r"IM-0001-([0-9]{4})-(i|o|p1|p2)contour-manual\.txt")
_ID_NUMBER = re.compile(r"(.*?)([0-9]+)")


def is_sunnybrook_layout(root: str | os.PathLike) -> bool:
    """Whether ``root`` holds the download's ``SCD_DeidentifiedImages`` and ``SCD_ManualContours``."""
    root = Path(root)
    return os.path.isdir(root / IMAGES) and os.path.isdir(root / CONTOURS)


def scan_sunnybrook(root: str | os.PathLike) -> Layout:
    """Find every contoured DICOM slice of the Sunnybrook download under ``root``.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``scd_patientdata.csv``, ``SCD_DeidentifiedImages/``
        and ``SCD_ManualContours/`` (see the module docstring).

    Returns
    -------
    Layout
        ``slices`` sorted by patient and image number (``instance``), with
        ``patient_id`` the ``PatientID`` and ``original_id`` the
        ``OriginalID`` of ``scd_patientdata.csv``; ``skipped`` with reasons.

    Raises
    ------
    DatasetError
        If ``scd_patientdata.csv`` is missing, not UTF-8 CSV, lacks the
        ``PatientID`` or ``OriginalID`` column. A row whose id would leave
        ``root`` and folders that cannot be read are skipped as errors
        (``Skipped.error``).
    """
    root = Path(root).resolve()
    layout = Layout()
    pairs = _read_patients(root / PATIENT_TABLE, layout.skipped)
    layout.n_linked = len(pairs)
    contour_folders = _contour_folders(root / CONTOURS, layout.skipped)
    for patient_id, original_id in pairs:
        folder = contour_folders.get(_id_key(original_id))
        if _scan_patient(root, root / IMAGES / patient_id, folder, patient_id, original_id, layout):
            layout.n_patients += 1
    _report_unlisted(root, pairs, contour_folders, layout.skipped)
    layout.slices.sort(key=lambda s: (s.patient_id, s.instance))
    return layout


def _read_patients(table: Path, skipped: list[Skipped]) -> list[tuple[str, str]]:
    """``(PatientID, OriginalID)`` of every row of the patient table."""
    if not os.path.isfile(table):
        raise DatasetError(
            f"{table.parent}: no {PATIENT_TABLE} found, expected {table} (PatientID,OriginalID,... "
            "as shipped with the download; save the .xlsx version as CSV)"
        )
    rows = _link_rows(table)
    header = [cell.strip() for cell in rows[0][1]] if rows else []
    if "PatientID" not in header or "OriginalID" not in header:
        raise DatasetError(
            f"{table}, line 1: expected a header with PatientID and OriginalID columns, "
            f"got {header if rows else 'an empty file'!r}"
        )
    at = header.index("PatientID"), header.index("OriginalID")
    pairs, seen = [], {}
    for number, row in rows[1:]:
        where = f"{table}:{number}"
        if not any(cell.strip() for cell in row):
            continue
        ids = [row[i].strip() if i < len(row) else "" for i in at]
        if not all(ids):
            skipped.append(Skipped(where, f"row {row!r} lacks a PatientID or OriginalID"))
            continue
        unsafe = " and ".join(filter(None, map(unsafe_id, ids)))
        if unsafe:
            skipped.append(Skipped(where, f"row {row!r}: {unsafe}", error=True))
            continue
        if ids[0] in seen:
            skipped.append(Skipped(where, f"duplicate row for PatientID {ids[0]!r} (first on line {seen[ids[0]]})", ids[0]))
            continue
        seen[ids[0]] = number
        pairs.append((ids[0], ids[1]))
    return pairs


def _id_key(original_id: str) -> str:
    """``SC-HF-I-01`` and ``SC-HF-I-1`` alike: the final number without leading zeros."""
    match = _ID_NUMBER.fullmatch(original_id)
    return f"{match.group(1)}{int(match.group(2))}" if match else original_id


def _contour_folders(folder: Path, skipped: list[Skipped]) -> dict[str, Path]:
    """Contour folders by :func:`_id_key` of their names (none, recorded, if ``folder`` cannot be read)."""
    return {_id_key(entry.name): Path(entry.path) for entry in list_entries(folder, skipped) if _is_dir(entry)}


def _is_dir(entry) -> bool:
    """``entry.is_dir()``, True for a link loop (which raises): the patient scan then reports it by name."""
    try:
        return entry.is_dir()
    except OSError:
        return True


@dataclass
class _Series:
    folder: Path
    images: dict[int, str] = field(default_factory=dict)


def _scan_patient(
    root: Path, patient_dir: Path, contour_dir: Path | None, patient_id: str, original_id: str, layout: Layout
) -> bool:
    skipped = layout.skipped
    expert = contour_dir / EXPERT if contour_dir else Path(patient_dir.parents[1], CONTOURS, original_id)
    for folder in (patient_dir, expert):
        # As scan_layout: a planted link must not make the tools read files elsewhere.
        refused = refused_folder(root, folder, "linked folder", patient_id)
        if refused:
            skipped.append(refused)
            return False
    contours = _contour_files(root, expert, skipped, patient_id)
    numbers = set(contours["i"]) | set(contours["o"])
    series = _series_of(root, patient_dir, skipped, patient_id)
    chosen = _contoured_series(series, numbers, patient_dir, skipped, patient_id)
    if chosen is None:
        return True
    for number in sorted(numbers):
        if number not in chosen.images:
            for kind in ("i", "o"):
                if number in contours[kind]:
                    skipped.append(Skipped(
                        contours[kind][number],
                        f"contour without a DICOM (no image {number} in {chosen.folder})", patient_id,
                    ))
            continue
        layout.slices.append(SliceFiles(
            patient_id=patient_id, original_id=original_id, instance=number,
            dicom_path=chosen.images[number],
            icontour_path=contours["i"].get(number, ""), ocontour_path=contours["o"].get(number, ""),
        ))
    uncontoured = len(set(chosen.images) - numbers)
    if uncontoured:
        skipped.append(Skipped(str(chosen.folder), f"{uncontoured} DICOM(s) without any contour", patient_id))
    return True


def _contour_files(root: Path, folder: Path, skipped: list[Skipped], patient_id: str) -> dict[str, dict[int, str]]:
    """i- and o-contour files by image number; p1/p2 files counted into one entry."""
    found: dict[str, dict[int, str]] = {"i": {}, "o": {}}
    papillary = 0
    for entry in list_entries(folder, skipped, patient_id):
        problem, error = _entry_problem(root, entry, CONTOUR, "contour")
        if problem:
            skipped.append(Skipped(entry.path, problem, patient_id, error))
            continue
        number, kind = CONTOUR.fullmatch(entry.name).groups()
        if kind in found:
            found[kind][int(number)] = entry.path
        else:
            papillary += 1
    if papillary:
        skipped.append(Skipped(str(folder), f"{papillary} papillary-muscle contour file(s) (p1, p2) not read", patient_id))
    return found


def _series_of(root: Path, patient_dir: Path, skipped: list[Skipped], patient_id: str) -> list[_Series]:
    """The series folders of a patient with their images by number; stray entries recorded."""
    series = []
    for entry in list_entries(patient_dir, skipped, patient_id):
        folder = Path(entry.path)
        code, reason = folder_refusal(root, folder)
        if code == "not a folder":
            skipped.append(Skipped(entry.path, "not a series folder, the only entries read here", patient_id))
        elif code:  # linked out, a loop, broken
            skipped.append(refusal_item(folder, code, reason, "series folder", patient_id))
        else:
            series.append(_Series(folder, _index(root, folder, SERIES_DICOM, skipped, patient_id, "DICOM")))
    return series


def _contoured_series(series: list[_Series], numbers: set[int], patient_dir: Path, skipped, patient_id: str):
    """The series the contours' image numbers refer to; None (recorded) when none or several fit."""
    if not numbers:
        for s in series:
            skipped.append(Skipped(str(s.folder), f"{len(s.images)} DICOM(s) without any contour", patient_id))
        return None
    complete = [s for s in series if numbers <= set(s.images)]
    if len(complete) > 1:
        complete = [s for s in complete if "SAX" in s.folder.name.upper()] or complete
    if len(complete) == 1:
        chosen = complete[0]
    elif not complete and series:
        # None holds every number: the one holding most (the rest are reported as missing).
        best = max(len(numbers & set(s.images)) for s in series)
        complete = [s for s in series if len(numbers & set(s.images)) == best]
        chosen = complete[0] if len(complete) == 1 and best else None
    else:
        chosen = None
    if chosen is None:
        names = ", ".join(s.folder.name for s in complete) or "none"
        skipped.append(Skipped(
            str(patient_dir),
            f"cannot tell which series the contours' image numbers refer to (candidates: {names}); "
            "keep only the contoured cine short-axis series folder",
            patient_id,
        ))
        return None
    for s in series:
        if s is not chosen:
            skipped.append(Skipped(str(s.folder), f"series not contoured (contours refer to {chosen.folder.name})", patient_id))
    return chosen


def _report_unlisted(root: Path, pairs, contour_folders: dict[str, Path], skipped: list[Skipped]) -> None:
    patients = {p for p, _ in pairs}
    originals = {_id_key(o) for _, o in pairs}
    for entry in list_entries(root / IMAGES, skipped):
        if _is_dir(entry) and entry.name not in patients:
            skipped.append(Skipped(entry.path, f"not listed in {PATIENT_TABLE}"))
    for key, folder in sorted(contour_folders.items()):
        if key not in originals:
            skipped.append(Skipped(str(folder), f"not listed in {PATIENT_TABLE}"))
