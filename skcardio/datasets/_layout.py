"""Scan the ``link.csv`` dataset layout into slice records.

Layout (Sunnybrook-style)::

    ROOT/link.csv                      patient_id,original_id
    ROOT/dicoms/<patient_id>/<n>.dcm   n = DICOM instance number
    ROOT/contourfiles/<original_id>/i-contours/IM-0001-<nnnn>-icontour-manual.txt
    ROOT/contourfiles/<original_id>/o-contours/IM-0001-<nnnn>-ocontour-manual.txt

Nothing is dropped silently: every file or row that is not used is recorded
as a :class:`Skipped` entry with the reason.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import DatasetError

__all__ = ["Skipped", "SliceFiles", "scan_layout"]

logger = logging.getLogger("skcardio.datasets")

LINK_HEADER = ("patient_id", "original_id")
DICOM_PATTERN = re.compile(r"^(\d+)\.dcm$")
CONTOUR_PATTERN = {
    "i": re.compile(r"^IM-0001-(\d{4})-icontour-manual\.txt$"),
    "o": re.compile(r"^IM-0001-(\d{4})-ocontour-manual\.txt$"),
}


@dataclass(frozen=True)
class Skipped:
    """Something in the dataset folder that was not used, and why.

    Attributes
    ----------
    path : str
        File or folder concerned (``link.csv:<line>`` for link rows).
    reason : str
        Why it was skipped.
    patient_id : str
        Patient concerned, ``""`` when unknown.
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
    n_patients: int = 0


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
        ``link.csv`` is missing or its header is wrong, or an id in it
        would leave ``root`` (``..``, absolute paths, path separators).
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
    pairs = _read_link(link, layout.skipped)
    for patient_id, original_id in pairs:
        if _scan_patient(root, patient_id, original_id, layout):
            layout.n_patients += 1
    _report_unlinked(root, pairs, layout.skipped)
    layout.slices.sort(key=lambda s: (s.patient_id, s.instance))
    return layout


def _read_link(link: Path, skipped: list[Skipped]) -> list[tuple[str, str]]:
    with link.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(c.strip() for c in rows[0]) != LINK_HEADER:
        got = rows[0] if rows else "an empty file"
        raise DatasetError(f"{link}, line 1: expected header 'patient_id,original_id', got {got!r}")
    pairs: list[tuple[str, str]] = []
    seen_patients: Counter[str] = Counter()
    seen_originals: Counter[str] = Counter()
    for number, row in enumerate(rows[1:], start=2):
        where = f"{link}:{number}"
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            skipped.append(Skipped(where, f"malformed link row {row!r}, expected 'patient_id,original_id'"))
            continue
        patient_id, original_id = row[0].strip(), row[1].strip()
        for value in (patient_id, original_id):
            _check_safe_id(value, where)
        if seen_patients[patient_id] or seen_originals[original_id]:
            skipped.append(Skipped(where, f"duplicate link row {row!r}: id already linked", patient_id))
            continue
        seen_patients[patient_id] += 1
        seen_originals[original_id] += 1
        pairs.append((patient_id, original_id))
    return pairs


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
    contours = {
        kind: _index(contour_dir / f"{kind}-contours", CONTOUR_PATTERN[kind], layout.skipped, patient_id, "contour")
        for kind in ("i", "o")
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


def _index(folder: Path, pattern: re.Pattern, skipped: list[Skipped], patient_id: str, what: str) -> dict[int, str]:
    """Map instance number -> path for files of ``folder`` matching ``pattern``."""
    found: dict[int, str] = {}
    if not folder.is_dir():
        return found
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        match = pattern.match(entry.name)
        if not entry.is_file() or match is None:
            skipped.append(Skipped(entry.path, f"name does not match the {what} pattern {pattern.pattern}", patient_id))
            continue
        instance = int(match.group(1))
        if instance in found:
            skipped.append(Skipped(entry.path, f"duplicate instance {instance} (also {found[instance]})", patient_id))
            continue
        found[instance] = entry.path
    return found


def _report_unlinked(root: Path, pairs: list[tuple[str, str]], skipped: list[Skipped]) -> None:
    linked = {"dicoms": {p for p, _ in pairs}, "contourfiles": {o for _, o in pairs}}
    for sub, names in linked.items():
        folder = root / sub
        if not folder.is_dir():
            skipped.append(Skipped(str(folder), "folder missing"))
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.name not in names:
                skipped.append(Skipped(entry.path, "not listed in link.csv"))
