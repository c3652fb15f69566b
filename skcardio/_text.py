"""Text from files, written readably: file names that are not UTF-8, and control characters.

On Linux a file name is bytes. Python decodes the bytes that are not UTF-8
into lone surrogates (``b"\\xff"`` becomes ``"\\udcff"``, PEP 383), which UTF-8
cannot encode: writing such a name to a CSV file, or to a terminal whose
standard output is strict, raised ``UnicodeEncodeError`` and lost a whole
run's outputs. The command line writes every file through :func:`text_file`
and prints inside :func:`readable_streams`, both with the error handler
:data:`READABLE`; JSON values go through :func:`readable` (a JSON string
cannot hold a raw backslash escape).

Ids, file names and values read from files may hold control characters
(ESC starts a terminal's colour and cursor sequences, ``\\r`` returns to the
start of the line, a newline starts a line of its own). The console shows
them escaped (:func:`printable`): :func:`printable_streams` escapes every
control character but the newline and the tab in what the command line
prints (a traceback's or another library's lines are kept), and tables,
lists, errors, skcardio's warnings and log lines escape the newlines and tabs
of the values they quote. CSV and JSON outputs keep the true values.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

__all__ = [
    "READABLE", "console_stream", "printable", "printable_streams", "readable", "readable_streams", "some_named", "text_file",
]

#: The codec error handler that writes a byte kept by ``surrogateescape`` as ``\xNN``, any other
#: character the encoding lacks as ``\uNNNN`` (as ``backslashreplace`` does).
READABLE = "skcardio.readable"


def _escape(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_escaped(char) for char in exc.object[exc.start : exc.end]), exc.end


def _escaped(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


codecs.register_error(READABLE, _escape)


def readable(text: str | os.PathLike) -> str:
    """``text`` (a path, a message naming one) as valid UTF-8, each byte that was not written ``\\xNN``.

    Parameters
    ----------
    text : str or path-like
        Text that may hold a file name decoded with ``surrogateescape``.

    Returns
    -------
    str
        The same text where it is valid; a backslash escape for each
        character UTF-8 cannot encode.

    Examples
    --------
    >>> from skcardio._text import readable
    >>> name = b"P\\xff1.dcm".decode("utf-8", "surrogateescape")  # as os.listdir gives it on Linux
    >>> print(readable(name), readable("IM-0001-0048.dcm"))
    P\\xff1.dcm IM-0001-0048.dcm
    """
    return os.fspath(text).encode("utf-8", READABLE).decode("utf-8")


def text_file(path: str | os.PathLike, mode: str = "w") -> IO[str]:
    """``path`` opened for writing text in UTF-8, names that are not UTF-8 written readably.

    ``newline=""``, as :mod:`csv` expects: the writer chooses the line ends.

    Parameters
    ----------
    path : str or path-like
        The file.
    mode : str, default="w"
        ``"w"`` or ``"a"``.

    Returns
    -------
    file object
        The open file; use it in a ``with`` block.
    """
    return open(path, mode, newline="", encoding="utf-8", errors=READABLE)


@contextmanager
def readable_streams() -> Iterator[None]:
    """Inside the block, ``sys.stdout`` and ``sys.stderr`` print names that are not UTF-8 readably.

    A standard output in a UTF-8 locale is strict: printing such a name
    raised ``UnicodeEncodeError``. Only the error handler changes, and it is
    put back after the block; a stream that cannot be reconfigured (a
    ``StringIO``, which takes any text) is left alone.
    """
    changed = []
    for stream in (sys.stdout, sys.stderr):
        try:
            errors = stream.errors
            stream.reconfigure(errors=READABLE)
        except (AttributeError, ValueError, io.UnsupportedOperation):
            continue
        changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in changed:
            try:
                stream.reconfigure(errors=errors)
            except (ValueError, io.UnsupportedOperation):  # closed meanwhile
                pass


#: Characters a terminal acts on instead of showing them: the C0 controls (newline and tab included),
#: DEL, the C1 controls (U+009B is a CSI, as "ESC [" is), the line and paragraph separators, and the
#: bidirectional embedding, override and isolate controls (which reorder the text after them).
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_CONTROLS}]")
#: The same but the newline and the tab, the layout of text written in lines (a traceback, a table).
_CONTROL_BUT_LAYOUT = re.compile(f"(?![\n\t])[{_CONTROLS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_control(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def printable(value: object, *, newlines: bool = False) -> str:
    """``value`` as text for a terminal: each control character written as a backslash escape.

    The console boundary of the command line: ids, file names and messages
    quoting them go through it, so a hostile name cannot recolour the
    terminal, return to the start of a line and overwrite it, or start a
    line of its own. Escapes are those of :func:`repr` (``\\n``, ``\\r``,
    ``\\t``, ``\\x1b``, ``\\x9b``, ``\\u202e``); other characters,
    letters of every script included, are kept. CSV and JSON outputs keep
    the true values: this is for what is printed.

    Parameters
    ----------
    value : object
        Text, a path, or anything :class:`str` takes (an exception).
    newlines : bool, default=False
        Keep newlines and tabs (text laid out in lines, as a whole: what
        reaches the console, a multi-line message); a value quoted in a
        line (an id, a path) has them escaped too.

    Returns
    -------
    str
        The text, each C0 or C1 control character, DEL, U+2028, U+2029 and
        bidirectional control escaped.

    Examples
    --------
    >>> from skcardio._text import printable
    >>> print(printable("X\\x1b[31mRED\\x1b[0m"), printable("A\\nB\\r"), printable("Zoë_01"))
    X\\x1b[31mRED\\x1b[0m A\\nB\\r Zoë_01
    >>> printable("line 1\\nline\\t2\\r", newlines=True)  # newlines and tabs kept, \\r escaped
    'line 1\\nline\\t2\\\\r'
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str):
        text = os.fsdecode(text) if isinstance(text, bytes) else str(text)
    return (_CONTROL_BUT_LAYOUT if newlines else _CONTROL).sub(_escape_control, text)


class _PrintableStream:
    """A text stream whose writes have their control characters, newlines and tabs apart, escaped."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(printable(text, newlines=True))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def console_stream(stream: IO[str]) -> IO[str]:
    """The stream :func:`printable_streams` wraps, for the writer that needs ``\\r`` (a progress bar)."""
    return stream.stream if isinstance(stream, _PrintableStream) else stream


@contextmanager
def printable_streams() -> Iterator[None]:
    """Inside the block, ``sys.stdout`` and ``sys.stderr`` escape control characters, newlines and tabs apart.

    Whatever prints (a table, a warning, a log line, a traceback, another
    library), an ESC, ``\\r`` or C1 control from a file's contents or name
    reaches the terminal as ``\\x1b``, ``\\r``, ``\\x9b`` (:func:`printable`).
    Newlines and tabs pass, so that a traceback, another library's multi-line
    warning or tab-separated columns print as written: those of values quoted
    in a line are escaped where the line is made. The streams are put back
    after the block.
    """
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (s if s is None or isinstance(s, _PrintableStream) else _PrintableStream(s) for s in saved)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def some_named(names: list[str], limit: int, total: int | None = None) -> str:
    """``names`` joined, the first ``limit`` named and the rest counted: ``"a, b, c and 2 more"``.

    All are named when only one would be counted: ``"and 1 more"`` says
    less than the name itself, and the list at the end of a run names it.
    ``total``: how many there are when ``names`` holds only the first
    ``limit + 1`` of them (the rest not worth making into text).

    Examples
    --------
    >>> some_named(["1.dcm", "2.dcm", "3.dcm", "4.dcm"], 3)
    '1.dcm, 2.dcm, 3.dcm, 4.dcm'
    >>> some_named(["1.dcm", "2.dcm", "3.dcm", "4.dcm", "5.dcm"], 3)
    '1.dcm, 2.dcm, 3.dcm and 2 more'
    """
    total = len(names) if total is None else total
    if total <= limit + 1:
        return ", ".join(names[:total])
    return ", ".join(names[:limit]) + f" and {total - limit} more"
