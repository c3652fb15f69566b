"""The records of an earlier run in ``--out``: which files a command wrote there, read with care.

A re-run removes the files of its command's earlier run that it does not
write again (:func:`~skcardio.cli._staging.publish`'s ``owned``), and only
those that the command's own record lists: ``predictions.csv`` and
``series.csv`` for ``predict``, ``report.json`` for ``report``,
``evaluate.json`` for ``evaluate``. A file that no record lists is never
removed, whatever its name. A record is read as the other inputs are
(:func:`~skcardio.io._limits.read_regular`): a bounded regular file, never
through a symbolic link, never blocking on a pipe planted in its place.
One that cannot be trusted is a warning, and the earlier run's files are kept;
so is a ``report.json`` that another program wrote (without ``report``'s
``"written_by"`` mark). The commands read them with ``--out`` locked
(:func:`~skcardio.cli._staging.publish`'s callable ``owned``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ..exceptions import SkcardioError

__all__ = [
    "RecordError", "read_record", "inside_out", "record_files", "record_column", "kept_warning", "REPORT_WRITTEN_BY",
]

#: ``report.json``'s ``"written_by"``: a ``report.json`` of another program, without it, removes nothing
#: and owns no ``series.csv``.
REPORT_WRITTEN_BY = "skcardio report"

logger = logging.getLogger("skcardio.cli")


class RecordError(SkcardioError):
    """A record of an earlier run is there but cannot be trusted (a link, a pipe, too large, not UTF-8...)."""


def read_record(path: Path, what: str) -> str | None:
    """The text of the record ``path`` of an earlier run; None when there is none.

    Parameters
    ----------
    path : Path
        The record, inside ``--out``.
    what : str
        Its format, for the messages (``"CSV"``, ``"JSON"``).

    Returns
    -------
    str or None
        The text; undecodable bytes are kept as surrogates (as Python
        represents such file names), so names written from them match.

    Raises
    ------
    RecordError
        If ``path`` is a symbolic link (never followed: a planted link must
        not decide what is deleted), not a regular file (a FIFO would block),
        or larger than the ``max_text_bytes`` limit.
    """
    from ..io._limits import read_regular

    if not os.path.lexists(path):
        return None
    if path.is_symlink():
        raise RecordError(f"{path}: a symbolic link to {os.readlink(path)}, never followed")
    data = read_regular(str(path), RecordError, what, "max_text_bytes")
    return data.decode("utf-8", "surrogateescape")


def inside_out(names: Iterable[object]) -> list[str]:
    """The ``names`` that are relative paths inside ``--out`` (a hand-edited record must not reach elsewhere)."""
    return [
        name for name in names
        if isinstance(name, str) and name and not Path(name).is_absolute() and ".." not in Path(name).parts
    ]


def record_files(path: Path, *, written_by: str | None = None, legacy_key: str | None = None) -> list[str] | None:
    """The files a JSON record (``report.json``, ``evaluate.json``) lists under ``"files"``, inside ``--out``.

    Parameters
    ----------
    path : Path
        The record, inside ``--out``.
    written_by : str, optional
        The mark the record must carry under ``"written_by"``: a file of that
        name written by another tool does not decide what is removed.
    legacy_key : str, optional
        A record without any ``"written_by"`` (written before the mark was)
        is taken if it holds a list under this key.

    Returns
    -------
    list of str or None
        ``[]`` when there is no record; None when there is one that cannot
        be read, holds no list of files or lacks the mark (a warning says so:
        the caller keeps every file).
    """
    try:
        text = read_record(path, "JSON")
        record = {"files": [], "written_by": written_by} if text is None else json.loads(text)
        names = record.get("files") if isinstance(record, dict) else None
        if not isinstance(names, list):
            raise ValueError("no list under 'files'")
        if written_by is not None and not _marked(record, written_by, legacy_key):
            raise ValueError(f'no "written_by": "{written_by}": written by another program')
    except (RecordError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        kept_warning(path, exc)
        return None
    return inside_out(names)


def record_column(path: Path, column: str) -> list[str] | None:
    """The values of ``column`` in a CSV record (``predictions.csv``, ``series.csv``) that lie inside ``--out``.

    Parameters
    ----------
    path : Path
        The record, inside ``--out``.
    column : str
        The column naming the files (``"output_stem"``, ``"file"``).

    Returns
    -------
    list of str or None
        ``[]`` when there is no record; None when there is one that cannot
        be trusted (a warning says so: the caller keeps every file).
    """
    try:
        text = read_record(path, "CSV")
        values = [] if text is None else [row.get(column) for row in csv.DictReader(io.StringIO(text, newline=""))]
    except (RecordError, csv.Error) as exc:
        kept_warning(path, exc)
        return None
    return inside_out(values)


def _marked(record: dict, written_by: str, legacy_key: str | None) -> bool:
    """Whether ``record`` carries the mark ``written_by``, or is an unmarked one of before, with ``legacy_key``."""
    if "written_by" in record:
        return record["written_by"] == written_by
    return legacy_key is not None and isinstance(record.get(legacy_key), list)


def kept_warning(path: Path, exc: Exception) -> None:
    """Warn that the record ``path`` is not used (``exc`` says why) and the earlier run's files are kept."""
    reason = str(exc).removeprefix(f"{path}: ")
    logger.warning("%s: not read as the record of an earlier run (%s); the files of that run are kept", path, reason)
