"""Scan the ``link.csv`` dataset layout into slice records.

A folder without ``link.csv`` that holds the Sunnybrook download's folders is
read by :mod:`skcardio.datasets._sunnybrook` instead.

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

import csv
import errno
import io
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .._folders import folder_problem, list_folder
from ..exceptions import DatasetError
from ..io import get_limits
from ..io._limits import NotUtf8, quote, read_regular, shorten, special_file, utf8_text

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
    error : bool
        True when a file is at fault (unreadable, refused by a limit of
        :func:`skcardio.io.get_limits`, a link leaving the dataset folder or
        looping, not a regular file): the command-line tools list these at
        the end and exit with status 1. False for what is only not used
        (frames without contours, filtering asked for).

    Examples
    --------
    >>> from skcardio.datasets import Skipped
    >>> Skipped("link.csv:3", "duplicate patient id", "SCD0000101").reason
    'duplicate patient id'
    """

    path: str
    reason: str
    patient_id: str = ""
    error: bool = False


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
        Folder holding ``link.csv``, ``dicoms/`` and ``contourfiles/``; or,
        without ``link.csv``, the Sunnybrook Cardiac Data as downloaded
        (``scd_patientdata.csv``, ``SCD_DeidentifiedImages/`` and
        ``SCD_ManualContours/``, read by
        :func:`skcardio.datasets._sunnybrook.scan_sunnybrook`).

    Returns
    -------
    Layout
        ``slices`` sorted by patient and instance, ``skipped`` with reasons.

    Raises
    ------
    DatasetError
        If ``root`` is not a folder (the ``link.csv`` file itself, say) or
        cannot be read, ``link.csv`` is missing, is not UTF-8 text, is not valid CSV (a
        field over the csv module's size limit) or its header is wrong, or
        it exceeds a limit of :func:`skcardio.io.get_limits`
        (``max_text_bytes``, ``max_line_chars``, ``max_link_rows``).
        A row whose id would leave ``root`` (``..``, absolute paths, path
        separators), linked folders and files that are links leading out of
        ``root`` or looping, and folders that cannot be read (permission
        denied) are skipped as errors (``Skipped.error``), not followed;
        the rest is scanned.

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
    try:
        root = Path(root).resolve()
    except (RuntimeError, OSError) as exc:  # RuntimeError: a link loop (Python < 3.13)
        raise DatasetError(f"{os.fspath(given)}: {_path_problem(Path(given), exc)}") from None
    link = root / "link.csv"
    if root.is_file():
        hint = f" (its folder is {root.parent})" if root.name == "link.csv" else ""
        raise DatasetError(
            f"{os.fspath(given)}: is a file; expected the dataset folder that holds link.csv{hint}"
        )
    if not root.exists():
        raise DatasetError(f"{os.fspath(given)}: no such folder; expected the dataset folder that holds link.csv")
    try:
        list_folder(root)
    except OSError as exc:
        raise DatasetError(f"{os.fspath(given)}: {folder_problem(exc)}; expected the dataset folder that holds link.csv") from None
    kind = layout_kind(root)
    if kind == "sunnybrook":
        from ._sunnybrook import scan_sunnybrook  # the download's own layout

        return scan_sunnybrook(root)
    if not kind:
        hint = ""
        if os.path.isdir(root / "images") and os.path.isdir(root / "labels"):
            hint = f"; {root} holds images/ and labels/: an image folder, read by load_image_folder"
        raise DatasetError(
            f"{root}: no link.csv found, expected {link} (or the Sunnybrook download's "
            f"SCD_DeidentifiedImages/ and SCD_ManualContours/ folders){hint}"
        )
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
            skipped.append(Skipped(where, f"malformed link row {shorten(repr(row))}, expected 'patient_id,original_id'"))
            continue
        ids = {"dicoms": row[0].strip(), "contourfiles": row[1].strip()}
        unsafe = " and ".join(filter(None, map(unsafe_id, ids.values())))
        if unsafe:
            skipped.append(Skipped(where, f"link row {shorten(repr(row))}: {unsafe}", error=True))
            continue
        clash = _already_linked(ids, linked)
        if clash:
            skipped.append(Skipped(where, f"duplicate link row {shorten(repr(row))}: {clash}", ids["dicoms"]))
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
    data = read_regular(os.fspath(link), DatasetError, "link.csv", "max_text_bytes")
    try:
        text = utf8_text(data)  # a UTF-8 byte-order mark (Excel writes one) left out
    except NotUtf8 as exc:
        raise DatasetError(
            f"{link}: is not UTF-8 text: byte 0x{exc.byte:02x} at position {exc.position} (line {exc.line}); "
            f"expected a UTF-8 CSV file 'patient_id,original_id'"
        ) from exc
    limits = get_limits()
    _check_line_lengths(link, text, limits.max_line_chars)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            if len(rows) > limits.max_link_rows + 1:  # + the header
                raise DatasetError(
                    f"{link}, line {start}: " + limits.refusal("max_link_rows", f"more than {limits.max_link_rows} rows")
                )
            # line_num counts physical lines: a quoted cell may span several.
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DatasetError(
            f"{link}, line {reader.line_num}: not valid CSV ({exc}); expected rows 'patient_id,original_id'"
        ) from exc
    return rows


def _check_line_lengths(link: Path, text: str, most: int) -> None:
    """Refuse a line over ``most`` characters, quoting it cut short; cheap when every line is short."""
    if len(text) <= most:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > most:
            raise DatasetError(
                f"{link}, line {number}: {quote(line)}: "
                + get_limits().refusal("max_line_chars", f"a line of {len(line)} characters")
            )


_LOOP = "symbolic link loop (a link that leads back to itself)"


def _path_problem(path: Path, exc: BaseException | None = None) -> str:
    """Why ``path`` is not an existing folder, in words: missing, a link loop, a file..."""
    code, reason = _folder_state(path)
    if code not in ("", "not a folder"):  # os.stat failed: it says why
        return reason
    if isinstance(exc, RuntimeError):  # Path.resolve's loop (Python < 3.13)
        return _LOOP
    return reason or f"cannot be read ({exc})"


def _folder_state(path: Path) -> tuple[str, str]:
    """Why ``path`` is not a folder, as ``(code, words)`` (see :func:`folder_refusal`); ``("", "")`` when it is one."""
    try:
        info = os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "loop", _LOOP
        if error.errno == errno.ENOENT:
            return ("broken", "does not exist (a broken link)") if os.path.islink(path) else ("missing", "does not exist")
        return "unreadable", f"cannot be read ({error.strerror or error})"
    if stat.S_ISDIR(info.st_mode):
        return "", ""
    kind = "is a file" if stat.S_ISREG(info.st_mode) else special_file(info.st_mode)
    return "not a folder", f"{kind}, expected a folder"


def layout_kind(root: str | os.PathLike) -> str:
    """Which DICOM layout the folder ``root`` holds: ``"link.csv"``, ``"sunnybrook"`` (the download's), or ``""``.

    Only the names are looked at (nothing is read): the command line tells
    every ROOT's kind before loading any.
    """
    from ._sunnybrook import is_sunnybrook_layout

    if os.path.isfile(Path(root) / "link.csv"):
        return "link.csv"
    return "sunnybrook" if is_sunnybrook_layout(root) else ""


def refused_folder(root: Path, folder: Path, what: str, patient_id: str = "") -> Skipped | None:
    """The skipped item of a ``folder`` of ``root`` not followed (:func:`folder_refusal`), named ``what``; else None.

    ``what`` starts the reason (``"linked folder is a link leading out of
    the dataset folder (to /x); not followed"``). A folder only missing is
    no fault of the files: not an error item.
    """
    code, reason = folder_refusal(root, folder)
    return refusal_item(folder, code, reason, what, patient_id) if code else None


def refusal_item(folder: Path, code: str, reason: str, what: str, patient_id: str = "") -> Skipped:
    """The skipped item of :func:`folder_refusal`'s ``(code, reason)`` for ``folder``, named ``what``."""
    verb = {"outside": " is", "loop": " is a"}.get(code, "")
    return Skipped(str(folder), f"{what}{verb} {reason}", patient_id, code != "missing")


def folder_refusal(root: Path, path: Path, *, recursive: bool = False) -> tuple[str, str]:
    """Why the folder ``path`` of the dataset folder ``root`` is not followed, as a code and in words.

    The rules :func:`scan_layout` applies to a linked patient folder, shared
    with ``skcardio report``, which reads a dataset's ``dicoms/`` entries.

    Parameters
    ----------
    root : Path
        The dataset folder, resolved (:meth:`pathlib.Path.resolve`).
    path : Path
        A folder under ``root``, or a link in it.
    recursive : bool, default=False
        True where the folder is read with its subfolders (``skcardio
        report`` reads a study so): a link to a folder that holds ``path``
        is then refused too, as it would read ``path`` again
        (``dicoms/LOOP -> ../dicoms`` would report every patient twice).

    Returns
    -------
    code : str
        ``""`` when ``path`` is a folder to follow; else ``"outside"`` (a
        link leading out of ``root``: checked first, so that nothing is read
        or said of what lies there), ``"loop"`` (a link loop), ``"broken"``
        (a broken link), ``"missing"``, ``"unreadable"`` (permission denied),
        ``"not a folder"`` (a file, a pipe...) or, when ``recursive``,
        ``"holder"`` (a link to a folder that holds ``path``).
    reason : str
        The same in words for the caller to put after the folder's name
        (``"does not exist (a broken link)"``); ``""`` when ``code`` is.
    """
    target = _resolved(path)  # once: the holder test below needs it too
    if target is not None and not _inside(root, target):
        return "outside", _leading_out(target)
    code, reason = _folder_state(path)
    if recursive and not code and target is not None and _inside(target, path.parent.resolve()):
        return "holder", f"a link to {target}, a folder that holds it (a loop); not followed"
    return code, reason


def _leading_out(target: Path) -> str:
    """Why a link to ``target``, outside the dataset folder, is not followed: the words for folders and files alike."""
    return f"a link leading out of the dataset folder (to {target}); not followed"


def _outside(root: Path, path: Path) -> Path | None:
    """Where ``path`` leads if that is outside ``root`` (through a link), else None."""
    target = _resolved(path)
    return None if target is None or _inside(root, target) else target


def _resolved(path: Path) -> Path | None:
    """``path`` with every link followed; None for a loop (reported by :func:`_folder_state`)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # RuntimeError: Path.resolve's loop (Python < 3.13)
        return None


def _inside(folder: Path, path: Path) -> bool:
    """Whether the resolved ``path`` is the resolved ``folder`` or lies in it."""
    return path == folder or folder in path.parents


def unsafe_id(value: str) -> str:
    """Why the id ``value`` of a patient table row is refused, or ``""`` when it is a plain folder name.

    An id is joined to the dataset folder as a folder name: anything that
    could point elsewhere (parent folders, absolute paths, drive letters) is
    refused; the row is then skipped as an error item.
    """
    unsafe = (
        value in (".", "..")
        or "/" in value
        or "\\" in value
        or os.path.isabs(value)
        or ":" in value
        or "\x00" in value
    )
    return f"id {shorten(repr(value))} would leave the dataset root; expected a plain folder name" if unsafe else ""


def list_entries(folder: Path, skipped: list[Skipped], patient_id: str = "") -> list[os.DirEntry]:
    """The entries of ``folder`` by name; none when it cannot be read, recorded as an error item naming it."""
    try:
        return list_folder(folder)
    except OSError as exc:
        skipped.append(Skipped(str(folder), folder_problem(exc), patient_id, True))
        return []


def _scan_patient(root: Path, patient_id: str, original_id: str, layout: Layout) -> bool:
    dicom_dir = root / "dicoms" / patient_id
    contour_dir = root / "contourfiles" / original_id
    # A planted link must not make the tools read (or report on) files elsewhere.
    refused = [refused_folder(root, folder, "linked folder", patient_id) for folder in (dicom_dir, contour_dir)]
    if any(refused):
        layout.skipped += [item for item in refused if item]
        return False
    dicoms = _index(root, dicom_dir, DICOM_PATTERN, layout.skipped, patient_id, "DICOM")
    _report_strays(contour_dir, layout.skipped, patient_id)
    contours = {
        kind: _index(root, contour_dir / folder, CONTOUR_PATTERN[kind], layout.skipped, patient_id, "contour")
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
    for entry in list_entries(contour_dir, skipped, patient_id):
        if entry.name not in folders:
            reason = "not an i-contours or o-contours folder, the only entries read here"
        elif not entry.is_dir():
            reason = f"not a folder, expected the folder of {folders[entry.name]}-contour files"
        else:
            continue
        skipped.append(Skipped(entry.path, reason, patient_id))


def _index(
    root: Path, folder: Path, pattern: re.Pattern, skipped: list[Skipped], patient_id: str, what: str
) -> dict[int, str]:
    """Map instance number -> path for files of ``folder`` matching ``pattern``."""
    found: dict[int, str] = {}
    if not os.path.isdir(folder) or _outside(root, folder) is not None:
        return found
    for entry in list_entries(folder, skipped, patient_id):
        problem, error = _entry_problem(root, entry, pattern, what)
        if problem:
            skipped.append(Skipped(entry.path, problem, patient_id, error))
            continue
        instance = int(pattern.fullmatch(entry.name).group(1))
        if instance in found:
            skipped.append(Skipped(entry.path, f"duplicate instance {instance} (also {found[instance]})", patient_id))
            continue
        found[instance] = entry.path
    return found


def _entry_problem(root: Path, entry: os.DirEntry, pattern: re.Pattern, what: str) -> tuple[str, bool]:
    """Why ``entry`` is not a file of ``what`` to read (``""`` when it is one), and whether that is an error."""
    if entry.is_symlink():
        if _folder_state(Path(entry.path))[0] == "loop":
            return f"not a readable file: {_LOOP}", True
        elsewhere = _outside(root, Path(entry.path))
        if elsewhere is not None:
            return _leading_out(elsewhere), True
    if entry.is_dir():
        return f"is a folder, expected {what} files only", False
    if not entry.is_file():
        if entry.is_symlink():
            return f"not a readable file: broken link to {os.readlink(entry.path)}", False
        return "not a regular file (a pipe, socket or device)", True
    if pattern.fullmatch(entry.name) is None:
        return f"name does not match the {what} pattern {pattern.pattern}", False
    return "", False


def _report_unlinked(
    root: Path, pairs: list[tuple[str, str]], rejected: dict[tuple[str, str], int], skipped: list[Skipped]
) -> None:
    linked = {"dicoms": {p for p, _ in pairs}, "contourfiles": {o for _, o in pairs}}
    for sub, names in linked.items():
        folder = root / sub
        if not os.path.isdir(folder):
            skipped.append(Skipped(str(folder), "folder missing"))
            continue
        for entry in list_entries(folder, skipped):
            if entry.name in names:
                continue
            line = rejected.get((sub, entry.name))
            if line is None:
                reason = "not listed in link.csv"
            else:
                # Listed, but only on a row that was refused: say so, not "not listed".
                reason = f"listed in link.csv only on a rejected duplicate link row: line {line}"
            skipped.append(Skipped(entry.path, reason))
