"""File names that are not valid UTF-8, written readably: each such byte as ``\\xNN``.

On Linux a file name is bytes. Python decodes the bytes that are not UTF-8
into lone surrogates (``b"\\xff"`` becomes ``"\\udcff"``, PEP 383), which UTF-8
cannot encode: writing such a name to a CSV file, or to a terminal whose
standard output is strict, raised ``UnicodeEncodeError`` and lost a whole
run's outputs. The command line writes every file through :func:`text_file`
and prints inside :func:`readable_streams`, both with the error handler
:data:`READABLE`; JSON values go through :func:`readable` (a JSON string
cannot hold a raw backslash escape).
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

__all__ = ["READABLE", "readable", "readable_streams", "text_file"]

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
