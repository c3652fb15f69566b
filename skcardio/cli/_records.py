"""The records of an earlier run in ``--out``: which files a command wrote there, read with care.

A re-run removes the files of its command's earlier run that it does not
write again (:func:`~skcardio.cli._staging.publish`'s ``owned``), and only
those that the command's own record lists: ``predictions.csv`` and
``series.csv`` for ``predict``, ``report.json`` for ``report``,
``evaluate.json`` for ``evaluate``. A file that no record lists is never
removed, whatever its name. A record is read as the other inputs are
(:func:`~skcardio.io._limits.open_regular`): a bounded regular file, never
through a symbolic link, never blocking on a pipe planted in its place.
One that cannot be trusted is a warning, and the earlier run's files are kept;
so is a ``report.json`` that another program wrote (without ``report``'s
``"written_by"`` mark). The commands read them with ``--out`` locked
(:func:`~skcardio.cli._staging.publish`'s callable ``owned``).

A record grows with the run (``predictions.csv`` a row per slice, about 82
bytes; ``report.json`` an entry per patient, about 7.5 KB), so it is read as
a stream, keeping only the names of the files it lists: at most the
``max_record_bytes`` limit (1 GiB) in all, ``max_text_bytes`` (16 MiB) for one
entry (a CSV row, one item of a JSON list such as a patient of
``report.json``, any other JSON value), and one name per
:data:`RECORD_BYTES_PER_NAME` bytes of ``max_record_bytes``. Memory follows
the names kept and one entry, not the file: a planted multi-gigabyte record
is refused by its size before it is read, one within the limit that lists
names by the million (``a\nb\n...``) when the count passes the bound.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..exceptions import SkcardioError
from ..io._json_stream import JsonStream

__all__ = [
    "RecordError", "open_record", "inside_out", "record_files", "record_column", "kept_warning", "REPORT_WRITTEN_BY",
    "RECORD_BYTES_PER_NAME",
]

#: ``report.json``'s ``"written_by"``: a ``report.json`` of another program, without it, removes nothing
#: and owns no ``series.csv``.
REPORT_WRITTEN_BY = "skcardio report"

#: A record names at most one file per this many bytes of ``max_record_bytes`` (8.4 million at 1 GiB):
#: a row of ``predictions.csv`` takes at least 34 bytes and about 82, a file listed by ``report.json``
#: about 500 (its patient's entry included); a name kept takes about 60 bytes of memory and its length.
RECORD_BYTES_PER_NAME = 128

logger = logging.getLogger("skcardio.cli")


class RecordError(SkcardioError):
    """A record of an earlier run is there but cannot be trusted (a link, a pipe, too large, not UTF-8...)."""


@contextmanager
def open_record(path: Path, what: str) -> Iterator[io.TextIOBase | None]:
    """The record ``path`` of an earlier run, opened as text to be read as a stream; None when there is none.

    Parameters
    ----------
    path : Path
        The record, inside ``--out``.
    what : str
        Its format, for the messages (``"CSV"``, ``"JSON"``).

    Yields
    ------
    text stream or None
        Undecodable bytes are kept as surrogates (as Python represents such
        file names), so names written from them match. Reading past the
        ``max_record_bytes`` limit raises :class:`RecordError`.

    Raises
    ------
    RecordError
        If ``path`` is a symbolic link (never followed: a planted link must
        not decide what is deleted), not a regular file (a FIFO would block),
        or larger than the ``max_record_bytes`` limit.
    """
    from ..io._limits import open_regular

    if not os.path.lexists(path):
        yield None
        return
    if path.is_symlink():
        raise RecordError(f"{path}: a symbolic link to {os.readlink(path)}, never followed")
    with open_regular(str(path), RecordError, what, "max_record_bytes") as handle:
        with io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape", newline="") as text:
            yield text


def inside_out(names: Iterable[object]) -> list[str]:
    """The ``names`` that are relative paths inside ``--out`` (a hand-edited record must not reach elsewhere)."""
    return [name for name in names if isinstance(name, str) and name and _relative_inside(name)]


def _relative_inside(name: str) -> bool:
    """Whether ``name`` is a relative path without ``..`` (as :class:`~pathlib.Path` tells, faster on POSIX)."""
    if os.sep == "/" and os.altsep is None:  # a million names of a large record: string tests, not Paths
        return not name.startswith("/") and ".." not in name.split("/")
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


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
        with open_record(path, "JSON") as text:
            record = {"files": [], "written_by": written_by} if text is None else _JsonRecord(text).read()
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

    Read row by row (each at most ``max_text_bytes`` characters, a quoted
    value spanning lines included), as :class:`csv.DictReader` reads it:
    blank lines are passed over, a row too short for ``column`` has none.

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
        with open_record(path, "CSV") as text:
            values = [] if text is None else _csv_column(path, text, column)
    except (RecordError, csv.Error) as exc:
        kept_warning(path, exc)
        return None
    return inside_out(values)


def _csv_column(path: Path, text: io.TextIOBase, column: str) -> list[str | None]:
    """The values of ``column`` in the CSV ``text``, one per row that is not blank."""
    from ..io import get_limits

    row_start = [0]  # where the row being read starts, in characters
    rows = csv.reader(_csv_lines(path, text, get_limits().max_text_bytes, row_start))
    header = next(rows, None)
    if header is None:
        return []
    row_start[0] = -1
    index = len(header) - 1 - header[::-1].index(column) if column in header else None  # the last, as DictReader
    most = _most_names()
    values: list[str | None] = []
    for row in rows:
        row_start[0] = -1  # read: the next row starts with the next line
        if not row:
            continue
        if len(values) == most:
            raise RecordError(f"{path}: {_too_many('CSV', most)}")
        values.append(row[index] if index is not None and index < len(row) else None)
    return values


def _csv_lines(path: Path, text: io.TextIOBase, most: int, row_start: list[int]) -> Iterator[str]:
    """The lines of ``text`` (each with its ``\\n``) for :func:`csv.reader`, a row of at most ``most`` characters.

    ``row_start[0]`` is set to -1 by the caller once a row is read; a row
    spans lines when a quoted value holds a line break.
    """
    read, rest = 0, ""  # characters read, and the line not over yet
    while True:
        chunk = text.read(_CSV_CHUNK)
        if not chunk:
            if rest:
                yield rest
            return
        lines = (rest + chunk).split("\n")
        rest = lines.pop()
        for line in lines:
            if row_start[0] < 0:
                row_start[0] = read
            read += len(line) + 1
            if read - row_start[0] > most:
                raise RecordError(f"{path}: {_entry_refusal('a CSV row')}")
            yield line + "\n"
        if read + len(rest) - max(row_start[0], read) > most:
            raise RecordError(f"{path}: {_entry_refusal('a CSV row')}")


#: Characters of a CSV record read at once.
_CSV_CHUNK = 1 << 20


class _JsonRecord(JsonStream):
    """A JSON record read as a stream (:class:`~skcardio.io._json_stream.JsonStream`): ``"files"`` kept.

    :meth:`read` gives what :func:`json.loads` would, but for the lists of
    the top-level object: ``"files"`` is kept (at most :func:`_most_names`
    items), any other list is read and dropped (``[]`` in its place), as
    ``report.json``'s ``"patients"``. Each item, and each other value, is
    at most ``max_text_bytes`` characters; only one is held at a time.
    """

    def __init__(self, text: io.TextIOBase) -> None:
        super().__init__(text, RecordError)
        self.most_names = _most_names()

    def keeps(self, key: str) -> bool:
        return key == "files"

    def add(self, items: list, item: Any) -> None:
        if len(items) == self.most_names:
            raise RecordError(_too_many("JSON", self.most_names))
        items.append(item)


def _most_names() -> int:
    from ..io import get_limits

    return max(get_limits().max_record_bytes // RECORD_BYTES_PER_NAME, 1)


def _too_many(what: str, most: int) -> str:
    from ..io import get_limits

    return get_limits().refusal(
        "max_record_bytes", f"a {what} record naming more than {most} files (one per {RECORD_BYTES_PER_NAME} bytes)"
    )


def _entry_refusal(what: str) -> str:
    from ..io import get_limits

    return get_limits().refusal("max_text_bytes", f"{what} of more than {get_limits().max_text_bytes} characters")


def _marked(record: dict, written_by: str, legacy_key: str | None) -> bool:
    """Whether ``record`` carries the mark ``written_by``, or is an unmarked one of before, with ``legacy_key``."""
    if "written_by" in record:
        return record["written_by"] == written_by
    return legacy_key is not None and isinstance(record.get(legacy_key), list)


def kept_warning(path: Path, exc: Exception) -> None:
    """Warn that the record ``path`` is not used (``exc`` says why) and the earlier run's files are kept."""
    reason = str(exc).removeprefix(f"{path}: ")
    logger.warning("%s: not read as the record of an earlier run (%s); the files of that run are kept", path, reason)
