"""Scan the ``link.csv`` dataset layout into slice records.

Layout (Sunnybrook-style)::

    ROOT/link.csv                      patient_id,original_id
    ROOT/dicoms/<patient_id>/<n>.dcm   n = DICOM instance number
    ROOT/contourfiles/<original_id>/i-contours/IM-0001-<nnnn>-icontour-manual.txt
    ROOT/contourfiles/<original_id>/o-contours/IM-0001-<nnnn>-ocontour-manual.txt

Nothing is dropped silently: every file or row that is not used is recorded
as a :class:`Skipped` entry with the reason, hidden files such as
``.DS_Store`` included.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import DatasetError

__all__ = ["Skipped", "SliceFiles", "scan_layout"]

logger = logging.getLogger("skcardio.datasets")

LINK_HEADER = ("patient_id", "original_id")
# Used with fullmatch: "$" would also accept a name ending in a newline. [0-9],
# not \d: \d takes any script's digits, and int() reads "\u0661\u0660\u0668" as 108.
DICOM_PATTERN = re.compile(r"([0-9]+)\.dcm")
CONTOUR_PATTERN = {
    "i": re.compile(r"IM-0001-([0-9]{4})-icontour-manual\.txt"),
    "o": re.compile(r"IM-0001-([0-9]{4})-ocontour-manual\.txt"),
}
#: The only entries read in ``contourfiles/<original_id>/``.
CONTOUR_FOLDERS = {"i": "i-contours", "o": "o-contours"}


@dataclass(frozen=True)
class Skipped:
    """Something in the dataset folder that was not used, and why.

    Parameters
    ----------
    path : str
        File or folder concerned (``link.csv:<line>`` for link rows).
    reason : str
        Why it was skipped.
    patient_id : str, default=""
        Patient concerned, ``""`` when unknown.

    Examples
    --------
    >>> from skcardio.datasets import Skipped
    >>> Skipped("link.csv:3", "duplicate patient id", "SCD0000101").reason
    'duplicate patient id'
    """

    path: str
    reason: str
    patient_id: str = ""


@dataclass
class SliceFiles:
    """The files of one DICOM slice that has at least one contour."""

    patient_id: str
    original_id: str
    instance: int
    dicom_path: str
    icontour_path: str = ""
    ocontour_path: str = ""


@dataclass
class Layout:
    """Result of :func:`scan_layout`."""

    slices: list[SliceFiles] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: Patients whose linked folders both exist (scanned).
    n_patients: int = 0
    #: Patients linked by accepted link.csv rows (some may lack a folder).
    n_linked: int = 0


def scan_layout(root: str | os.PathLike) -> Layout:
    """Find every contoured DICOM slice under ``root``.

    Parameters
    ----------
    root : str or path-like
        Folder holding ``link.csv``, ``dicoms/`` and ``contourfiles/``.

    Returns
    -------
    Layout
        ``slices`` sorted by patient and instance, ``skipped`` with reasons.

    Raises
    ------
    DatasetError
        If ``root`` is not a folder (the ``link.csv`` file itself, say),
        ``link.csv`` is missing, is not UTF-8 text, is not valid CSV (a
        field over the csv module's size limit) or its header is wrong, or
        an id in it would leave ``root`` (``..``, absolute paths, path
        separators).

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path, scan_layout
    >>> layout = scan_layout(get_sample_path())
    >>> len(layout.slices), layout.skipped
    (15, [])
    >>> layout.slices[0].patient_id, layout.slices[0].instance
    ('SCD0000101', 99)
    """
    given = root
    root = Path(root).resolve()
    link = root / "link.csv"
    if root.is_file():
        hint = f" (its folder is {root.parent})" if root.name == "link.csv" else ""
        raise DatasetError(
            f"{os.fspath(given)}: is a file; expected the dataset folder that holds link.csv{hint}"
        )
    if not root.exists():
        raise DatasetError(f"{os.fspath(given)}: no such folder; expected the dataset folder that holds link.csv")
    if not link.is_file():
        raise DatasetError(f"{root}: no link.csv found, expected {link}")
    layout = Layout()
    pairs, rejected = _read_link(link, layout.skipped)
    layout.n_linked = len(pairs)
    for patient_id, original_id in pairs:
        if _scan_patient(root, patient_id, original_id, layout):
            layout.n_patients += 1
    _report_unlinked(root, pairs, rejected, layout.skipped)
    layout.slices.sort(key=lambda s: (s.patient_id, s.instance))
    return layout


def _read_link(link: Path, skipped: list[Skipped]) -> tuple[list[tuple[str, str]], dict[tuple[str, str], int]]:
    """Linked ``(patient_id, original_id)`` pairs, and ``rejected``.

    ``rejected`` maps ``("dicoms", patient_id)`` and ``("contourfiles",
    original_id)`` to the line of a rejected duplicate row that named them,
    so that their folders are not reported as "not listed in link.csv".
    """
    rows = _link_rows(link)
    if not rows or tuple(c.strip() for c in rows[0][1]) != LINK_HEADER:
        got = rows[0][1] if rows else "an empty file"
        raise DatasetError(f"{link}, line 1: expected header 'patient_id,original_id', got {got!r}")
    pairs: list[tuple[str, str]] = []
    linked: dict[str, dict[str, int]] = {"dicoms": {}, "contourfiles": {}}  # id -> its line
    rejected: dict[tuple[str, str], int] = {}
    for number, row in rows[1:]:
        where = f"{link}:{number}"
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            skipped.append(Skipped(where, f"malformed link row {row!r}, expected 'patient_id,original_id'"))
            continue
        ids = {"dicoms": row[0].strip(), "contourfiles": row[1].strip()}
        for value in ids.values():
            _check_safe_id(value, where)
        clash = _already_linked(ids, linked)
        if clash:
            skipped.append(Skipped(where, f"duplicate link row {row!r}: {clash}", ids["dicoms"]))
            for sub, value in ids.items():
                rejected.setdefault((sub, value), number)
            continue
        for sub, value in ids.items():
            linked[sub][value] = number
        pairs.append((ids["dicoms"], ids["contourfiles"]))
    return pairs, rejected


def _already_linked(ids: dict[str, str], linked: dict[str, dict[str, int]]) -> str:
    """Why a row is a duplicate (``patient_id 'P1' already linked on line 2``); ``""`` if it is not."""
    names = {"dicoms": "patient_id", "contourfiles": "original_id"}
    return " and ".join(
        f"{names[sub]} {value!r} already linked on line {linked[sub][value]}"
        for sub, value in ids.items()
        if value in linked[sub]
    )


def _link_rows(link: Path) -> list[tuple[int, list[str]]]:
    """``(line, cells)`` of each CSV row, ``line`` being where the row starts."""
    data = link.read_bytes()
    # A UTF-8 byte-order mark (Excel writes one) is not data.
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    try:
        # Decoded whole, not through open(): a stream decodes in chunks, so
        # the error's position would be within a chunk, not within the file.
        text = data[len(bom):].decode("utf-8")
    except UnicodeDecodeError as exc:
        position = len(bom) + exc.start
        line = data.count(b"\n", 0, position) + 1
        raise DatasetError(
            f"{link}: is not UTF-8 text: byte 0x{data[position]:02x} at position {position} (line {line}); "
            f"expected a UTF-8 CSV file 'patient_id,original_id'"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            # line_num counts physical lines: a quoted cell may span several.
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DatasetError(
            f"{link}, line {reader.line_num}: not valid CSV ({exc}); expected rows 'patient_id,original_id'"
        ) from exc
    return rows


def _check_safe_id(value: str, where: str) -> None:
    # An id is joined to root as a folder name: refuse anything that could
    # point elsewhere (parent folders, absolute paths, drive letters).
    unsafe = (
        value in (".", "..")
        or "/" in value
        or "\\" in value
        or os.path.isabs(value)
        or ":" in value
        or "\x00" in value
    )
    if unsafe:
        raise DatasetError(
            f"{where}: id {value!r} would leave the dataset root; expected a plain folder name"
        )


def _scan_patient(root: Path, patient_id: str, original_id: str, layout: Layout) -> bool:
    dicom_dir = root / "dicoms" / patient_id
    contour_dir = root / "contourfiles" / original_id
    missing = [d for d in (dicom_dir, contour_dir) if not d.is_dir()]
    if missing:
        for folder in missing:
            layout.skipped.append(Skipped(str(folder), "linked folder does not exist", patient_id))
        return False
    dicoms = _index(dicom_dir, DICOM_PATTERN, layout.skipped, patient_id, "DICOM")
    _report_strays(contour_dir, layout.skipped, patient_id)
    contours = {
        kind: _index(contour_dir / folder, CONTOUR_PATTERN[kind], layout.skipped, patient_id, "contour")
        for kind, folder in CONTOUR_FOLDERS.items()
    }
    contoured = sorted(set(contours["i"]) | set(contours["o"]))
    for instance in contoured:
        if instance not in dicoms:
            for kind in ("i", "o"):
                if instance in contours[kind]:
                    layout.skipped.append(
                        Skipped(contours[kind][instance], f"contour without a DICOM ({dicom_dir}/{instance}.dcm missing)", patient_id)
                    )
            continue
        layout.slices.append(
            SliceFiles(
                patient_id=patient_id,
                original_id=original_id,
                instance=instance,
                dicom_path=dicoms[instance],
                icontour_path=contours["i"].get(instance, ""),
                ocontour_path=contours["o"].get(instance, ""),
            )
        )
    uncontoured = len(set(dicoms) - set(contoured))
    if uncontoured:
        # One entry per patient: listing each of ~1000 frames would drown the report.
        layout.skipped.append(Skipped(str(dicom_dir), f"{uncontoured} DICOM(s) without any contour", patient_id))
    return True


def _report_strays(contour_dir: Path, skipped: list[Skipped], patient_id: str) -> None:
    """Record every entry of ``contour_dir`` other than the two contour folders.

    A misnamed folder (``o-contour``, ``O-contours``) or contour files left
    beside the folders would otherwise make contours vanish without a word.
    """
    folders = {name: kind for kind, name in CONTOUR_FOLDERS.items()}
    for entry in sorted(os.scandir(contour_dir), key=lambda e: e.name):
        if entry.name not in folders:
            reason = "not an i-contours or o-contours folder, the only entries read here"
        elif not entry.is_dir():
            reason = f"not a folder, expected the folder of {folders[entry.name]}-contour files"
        else:
            continue
        skipped.append(Skipped(entry.path, reason, patient_id))


def _index(folder: Path, pattern: re.Pattern, skipped: list[Skipped], patient_id: str, what: str) -> dict[int, str]:
    """Map instance number -> path for files of ``folder`` matching ``pattern``."""
    found: dict[int, str] = {}
    if not folder.is_dir():
        return found
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        problem = _entry_problem(entry, pattern, what)
        if problem:
            skipped.append(Skipped(entry.path, problem, patient_id))
            continue
        instance = int(pattern.fullmatch(entry.name).group(1))
        if instance in found:
            skipped.append(Skipped(entry.path, f"duplicate instance {instance} (also {found[instance]})", patient_id))
            continue
        found[instance] = entry.path
    return found


def _entry_problem(entry: os.DirEntry, pattern: re.Pattern, what: str) -> str:
    """Why ``entry`` is not a file of ``what`` to read; ``""`` when it is one."""
    if entry.is_dir():
        return f"is a folder, expected {what} files only"
    if not entry.is_file():
        if entry.is_symlink():
            return f"not a readable file: broken link to {os.readlink(entry.path)}"
        return "not a regular file (a pipe, socket or device)"
    if pattern.fullmatch(entry.name) is None:
        return f"name does not match the {what} pattern {pattern.pattern}"
    return ""


def _report_unlinked(
    root: Path, pairs: list[tuple[str, str]], rejected: dict[tuple[str, str], int], skipped: list[Skipped]
) -> None:
    linked = {"dicoms": {p for p, _ in pairs}, "contourfiles": {o for _, o in pairs}}
    for sub, names in linked.items():
        folder = root / sub
        if not folder.is_dir():
            skipped.append(Skipped(str(folder), "folder missing"))
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name in names:
                continue
            line = rejected.get((sub, entry.name))
            if line is None:
                reason = "not listed in link.csv"
            else:
                # Listed, but only on a row that was refused: say so, not "not listed".
                reason = f"listed in link.csv only on a rejected duplicate link row: line {line}"
            skipped.append(Skipped(entry.path, reason))
