"""The studies ``skcardio report`` measures: which folders its inputs name, each study once, and their output names."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .._folders import folder_problem, list_folder
from .._text import printable
from ._arguments import file_identity, repeated_input
from ._output_names import unique_names
from ._series import SERIES_CSV

__all__ = ["PatientInput", "find_patients", "hidden_note", "SUMMARY_FILES"]

logger = logging.getLogger("skcardio.cli.report")

#: The summary files report writes in ``--out``, beside the patient folders (whose names avoid them).
SUMMARY_FILES = ("report.csv", "report.json", "bland_altman.png")


@dataclass
class PatientInput:
    """One study to report: its DICOM folder, output folder name and expert contours."""

    folder: Path
    name: str
    contours: dict[int, str] = field(default_factory=dict)


def find_patients(
    inputs: list[str], skipped: list[tuple[str, str]] | None = None, *, hidden: list[str] | None = None
) -> list[PatientInput]:
    """The studies named by the command line, in order.

    A folder with ``link.csv`` is a dataset: one study per ``dicoms/<id>``
    folder, with the i-contours of ``contourfiles/``; one such ``dicoms/<id>``
    folder given alone is that patient, with its contours. A folder holding
    DICOM files directly is one study; otherwise each of its subfolders is.
    A dataset's ``dicoms/<id>`` entry that is a symbolic link is followed as
    :func:`~skcardio.datasets.scan_layout` follows one: never out of the
    dataset folder, never round a loop (a link to a folder that holds it);
    such an entry is appended to ``skipped`` as ``(path, reason)``. In a
    folder of patient folders, an entry whose name starts with ``.`` is not
    a patient (``.git``, ``.DS_Store``; :func:`~skcardio.io.read_cine` does
    not enter hidden folders either): its path is appended to ``hidden``,
    for the summary to say. Output folder names are made unique by
    :func:`~skcardio.cli._output_names.unique_names`.

    Raises
    ------
    FileNotFoundError
        If an input is not a folder or holds no study.
    ValueError
        If one study would be reported twice: an input given twice
        (``DIR DIR``, ``DIR ./DIR``); a study's folder given besides a
        folder that holds it (a dataset and its ``dicoms/<id>``); a study
        inside another input's study (``R`` and ``R/P1``, where ``P1`` keeps
        its images in ``P1/cine``: a study is read with its subfolders); or,
        in a folder of patient folders, a link to another of its studies or
        into one (``R/P2 -> P1``). The message names both.
    """
    repeated = repeated_input(inputs)
    if repeated:
        raise ValueError(f"{repeated[0]}: given twice (also as {repeated[1]}); expected each folder once: {_TWICE}")
    patients: list[PatientInput] = []
    origins: list[str] = []  # the input each study comes from
    skipped = [] if skipped is None else skipped
    for text in inputs:
        found = _patients_of(Path(text), skipped, hidden)
        patients += found
        origins += [text] * len(found)
    _check_distinct_studies(patients, origins, datasets={text for text in inputs if _is_dataset(Path(text))})
    return _unique_names(patients)


def _is_dataset(path: Path) -> bool:
    """Whether the folder ``path`` is a ``link.csv`` dataset."""
    return os.path.isfile(path / "link.csv")  # not Path.is_file: it raises inside an unreadable folder


def _patients_of(path: Path, skipped: list[tuple[str, str]], hidden: list[str] | None) -> list[PatientInput]:
    """The studies of one input of :func:`find_patients`."""
    if not path.is_dir():
        raise FileNotFoundError(_not_a_folder(path))
    if _is_dataset(path):
        return _dataset_patients(path, skipped)
    if (root := _dataset_root(path)) is not None:  # ROOT/dicoms/<id>: that patient with its contours
        return [_dataset_patient(path, root)]
    try:
        entries = list_folder(path)
    except OSError as exc:  # the folder given itself cannot be read
        raise FileNotFoundError(f"{path}: {folder_problem(exc)}") from None
    shown = [e for e in entries if not e.name.startswith(".")]
    if any(e.is_file() for e in shown):  # one study: read_cine leaves its hidden entries out
        return [PatientInput(path, path.resolve().name)]
    left_out = [e.path for e in entries if e.name.startswith(".")]
    subfolders = sorted(Path(e.path) for e in shown if e.is_dir())
    if not subfolders:
        also = f" ({hidden_note(left_out)})" if left_out else ""
        raise FileNotFoundError(f"{path}: no file or subfolder, expected DICOM files{also}")
    if hidden is not None:
        hidden += left_out
    return [PatientInput(p, p.name) for p in subfolders]


#: What reporting one study twice does, said by the refusals.
_TWICE = "a study given twice would be measured and reported twice, as two patients"


def _not_a_folder(path: Path) -> str:
    """Why ``path``, given as a study or dataset, is not one: missing, or a file (give the folder that holds it)."""
    if os.path.lexists(path) and not os.path.exists(path):
        return f"{path}: a broken link (expected a dataset root or a DICOM folder)"
    if not os.path.exists(path):
        return f"{path}: no such folder (expected a dataset root or a DICOM folder)"
    from ..io._limits import special_file

    holder = Path(os.path.abspath(path)).parent
    kind = "is a file" if os.path.isfile(path) else special_file(os.stat(path).st_mode)
    return (f"{path}: {kind}; expected a dataset root or a DICOM folder: report measures a whole study, "
            f"give the folder that holds its images ({holder})")


def _check_distinct_studies(patients: list[PatientInput], origins: list[str], datasets: set[str]) -> None:
    """Refuse a study that two of ``patients`` give: one folder, or one inside the other.

    :func:`~skcardio.io.read_cine` reads a study's folder with its
    subfolders (hidden ones left out), so a study folder inside another's
    (``R/P1`` from the input ``R`` and ``R/P1/cine`` from ``R/P1``) holds
    the same images; both are compared resolved, links followed. Within one
    input of ``datasets``, a ``dicoms/<id>`` entry that links to another
    patient's folder stays that patient, as :func:`~skcardio.datasets.scan_layout`
    reads it; within a folder of patient folders, such a link is refused.
    """
    seen: dict[tuple, int] = {}
    for i, patient in enumerate(patients):
        j = seen.setdefault(file_identity(patient.folder), i)
        if j == i or (origins[i] == origins[j] and origins[i] in datasets):
            continue
        if origins[i] != origins[j]:
            raise ValueError(
                f"{patient.folder}: given twice (as a study of {origins[j]} and of {origins[i]}); expected each "
                f"study once: {_TWICE}; leave one of the inputs out"
            )
        raise ValueError(f"{patient.folder}: the same study as {patients[j].folder} {_one_input(origins[i])}")
    resolved: dict[Path, int] = {}
    for i, patient in enumerate(patients):
        resolved.setdefault(Path(os.path.realpath(patient.folder)), i)
    for inner, i in resolved.items():
        for holder in inner.parents:
            j = resolved.get(holder)
            if j is None or (origins[i] == origins[j] and origins[i] in datasets):
                continue
            if any(part.startswith(".") for part in inner.relative_to(holder).parts):
                continue  # in a hidden folder, which read_cine does not enter
            if origins[i] == origins[j]:
                raise ValueError(f"{patients[i].folder}: inside the study {patients[j].folder}, which is read with "
                                 f"its subfolders {_one_input(origins[i])}")
            raise ValueError(
                f"{patients[i].folder}: a study (of the input {origins[i]}) inside the study {patients[j].folder} "
                f"(of the input {origins[j]}), which is read with its subfolders: both hold the same images; "
                f"expected each study once: {_TWICE}; leave one of the inputs out"
            )


def _one_input(origin: str) -> str:
    """How a refusal of two studies with the same images, both of the folder of patient folders ``origin``, ends."""
    return (f"(both in {origin}, one by a link); expected each study once: {_TWICE}; remove the link, or give "
            f"{origin}'s studies one by one, each once")


def hidden_note(hidden: list[str]) -> str:
    """Words on the hidden entries left out (a few named), for the summary; ``""`` when none."""
    if not hidden:
        return ""
    listed = ", ".join(printable(name) for name in hidden[:_LISTED_HIDDEN]) + (", ..." if len(hidden) > _LISTED_HIDDEN else "")
    entries = "entry" if len(hidden) == 1 else "entries"
    return f"{len(hidden)} hidden {entries} (name starting with '.') left out: {listed}"


#: Hidden entries the summary names; the others are counted.
_LISTED_HIDDEN = 3


def _dataset_root(path: Path) -> Path | None:
    """The ``link.csv`` dataset whose ``dicoms/<id>`` folder ``path`` is, or None (``.`` and relative
    names too: the absolute path, links not followed)."""
    absolute = Path(os.path.abspath(path))
    root = absolute.parent.parent
    return root if absolute.parent.name == "dicoms" and (root / "link.csv").is_file() else None


def _dataset_patient(folder: Path, root: Path) -> PatientInput:
    """One patient's ``dicoms/<id>`` folder of ``root`` with its contours; without them if ``root`` cannot be read."""
    from ..exceptions import DatasetError

    name = Path(os.path.abspath(folder)).name
    try:
        contours = _expert_contours(root).get(name, {})
    except DatasetError as exc:  # the folder named is measured all the same
        logger.warning("%s: expert contours not read: %s", folder, exc)
        contours = {}
    return PatientInput(folder, name, contours)


def _expert_contours(root: Path) -> dict[str, dict[int, str]]:
    """Patient id -> {instance number: i-contour file} of a ``link.csv`` dataset."""
    from ..datasets import scan_layout

    layout = scan_layout(root)
    for item in layout.skipped:
        logger.debug("dataset layout: %s: %s", item.path, item.reason)
    contours: dict[str, dict[int, str]] = {}
    for files in layout.slices:
        if files.icontour_path:
            contours.setdefault(files.patient_id, {})[files.instance] = files.icontour_path
    return contours


def _dataset_patients(root: Path, skipped: list[tuple[str, str]]) -> list[PatientInput]:
    """Every ``dicoms/<id>`` folder of the dataset ``root``; links out of it or looping are put in ``skipped``."""
    contours = _expert_contours(root)
    folders, refused = [], []
    if os.path.isdir(root / "dicoms"):
        try:
            entries = [Path(e.path) for e in list_folder(root / "dicoms")]
        except OSError as exc:
            raise FileNotFoundError(f"{root / 'dicoms'}: {folder_problem(exc)}") from None
        resolved = root.resolve()  # once, not per entry
        for entry in entries:
            problem = _link_problem(resolved, entry)
            if problem:
                refused.append((str(entry), problem))
            elif entry.is_dir():
                folders.append(entry)
    skipped += refused
    if not folders:
        also = f" ({len(refused)} entr(ies) skipped: {refused[0][0]}: {refused[0][1]}...)" if refused else ""
        raise FileNotFoundError(f"{root}: no dicoms/<patient> folder{also}")
    return [PatientInput(p, p.name, contours.get(p.name, {})) for p in folders]


def _link_problem(root: Path, entry: Path) -> str:
    """Why the ``dicoms/`` entry ``entry`` of ``root`` (resolved), a symbolic link, is not followed (``""``: it is).

    The rules :func:`~skcardio.datasets.scan_layout` applies to a linked
    folder (:func:`~skcardio.datasets._layout.folder_refusal`): no link
    leading out of the dataset folder, no link loop, no broken link; and, as
    a study is read with its subfolders (``recursive``), no link to a folder
    that holds the entry (``dicoms/LOOP -> ../dicoms`` would report every
    patient again).
    """
    from ..datasets._layout import folder_refusal

    if not entry.is_symlink():
        return ""
    code, reason = folder_refusal(root, entry, recursive=True)
    if code in ("outside", "holder"):
        return reason
    if code and code != "not a folder":  # a link to a file is left out as a file is, not refused
        return f"not a readable folder: {reason}"
    return ""


def _unique_names(patients: list[PatientInput]) -> list[PatientInput]:
    """Output folder names: safe characters, made unique with a suffix (``x_y``, ``x_y_2``...).

    A name already taken (by an earlier patient, by a later patient's own
    folder name, by a summary file) is never given twice.
    """
    bases = [Path(re.sub(r"[^A-Za-z0-9._-]", "_", p.name).lstrip(".") or "patient") for p in patients]
    for patient, (name, _) in zip(patients, unique_names(bases, taken=[*SUMMARY_FILES, SERIES_CSV])):
        patient.name = str(name)
    return patients
