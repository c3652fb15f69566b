"""JSON read as a stream within the limits: one value at a time, never ``RecursionError``.

:func:`json.loads` holds the whole document, and raises ``RecursionError``
(not a ``ValueError``) on ``[[[[...`` nested some thousands deep, which
callers catching ``ValueError`` let through as a traceback. :class:`JsonStream`
reads a document from a text stream: the values of its top-level object
one by one, each of its lists item by item, each value or item at most
``max_text_bytes`` characters, nesting refused as a ``ValueError``. The
records of an earlier run in ``--out`` (``skcardio.cli._records``) and the
provenance records of model files (:func:`read_json`) are read through it.
"""

from __future__ import annotations

import io
import json
import os
import re
from typing import Any

from ._limits import get_limits, open_regular

__all__ = ["JsonStream", "read_json"]

#: The characters a JSON number is made of (its remainder when a chunk ends inside it).
_NUMBER_CHARS = set("0123456789.eE+-")


class JsonStream:
    """A JSON document read from a text stream: its top-level values, each list item by item.

    :meth:`read` gives what :func:`json.loads` would, except for the lists of
    the top-level object that :meth:`keeps` declines: they are read and
    dropped (``[]`` in their place). Each item, and each other value, is at
    most ``max_text_bytes`` characters; only one is held at a time besides
    what is kept.

    Parameters
    ----------
    text : text stream
        The document.
    error : type of Exception
        Raised, with the limit's refusal, for a value or an item over
        ``max_text_bytes``.

    Raises
    ------
    ValueError
        From :meth:`read`, for text that is not JSON or nests too deeply
        (``"Nested too deeply: character 14"``), with the character it
        stopped at.
    """

    _CHUNK = 1 << 20
    _SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, text: io.TextIOBase, error: type[Exception]) -> None:
        self.text, self.error, self.most = text, error, get_limits().max_text_bytes
        self.buffer, self.at, self.offset, self.ended = "", 0, 0, False
        self.decoder = json.JSONDecoder()

    def keeps(self, key: str) -> bool:
        """Whether the list under ``key`` of the top-level object is kept (all are, here)."""
        return True

    def add(self, items: list, item: Any) -> None:
        """Keep ``item`` of a kept list (a subclass may bound their number)."""
        items.append(item)

    def read(self) -> Any:
        """The document, as :func:`json.loads` reads it but for the lists dropped."""
        if self._peek() != "{":
            record = self._value()
        else:
            self.at += 1
            record = {}
            if self._peek() == "}":
                self.at += 1
            else:
                while True:
                    if self._peek() != '"':
                        raise self._error("Expecting property name enclosed in double quotes")
                    key = self._value()
                    self._expect(":", "Expecting ':' delimiter")
                    record[key] = self._list(keep=self.keeps(key)) if self._peek() == "[" else self._value()
                    if self._next_of(",}", "Expecting ',' delimiter") == "}":
                        break
        if self._peek() != "":
            raise self._error("Extra data")
        return record

    def _list(self, *, keep: bool) -> list:
        self.at += 1
        items: list = []
        if self._peek() == "]":
            self.at += 1
            return items
        while True:
            item = self._value()
            if keep:
                self.add(items, item)
            if self._next_of(",]", "Expecting ',' delimiter") == "]":
                return items

    def _value(self) -> Any:
        """The JSON value at the current position (spaces skipped)."""
        self._peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.at)
                if end - self.at > self.most:
                    raise self.error(self._entry_refusal())
                # A number at the very end of the buffer may go on in the next chunk; so may one cut after
                # its "." or "e" ("0." decodes as 0, the "." left over).
                cut = (isinstance(value, (int, float)) and not isinstance(value, bool)
                       and set(self.buffer[end:]) <= _NUMBER_CHARS)
                if (end < len(self.buffer) and not cut) or self.ended:
                    self.at = end
                    return value
            except json.JSONDecodeError as exc:
                if self.ended:
                    raise self._error(exc.msg, exc.pos) from None
            except RecursionError:  # [[[[...: json.loads raised it, a traceback
                raise self._error("Nested too deeply") from None
            if len(self.buffer) - self.at > self.most:  # the value is not over yet
                raise self.error(self._entry_refusal())
            self._more()

    def _expect(self, char: str, message: str) -> None:
        self._next_of(char, message)

    def _next_of(self, chars: str, message: str) -> str:
        char = self._peek()
        if char == "" or char not in chars:
            raise self._error(message)
        self.at += 1
        return char

    def _peek(self) -> str:
        """The next character that is not a space, ``""`` at the end."""
        while True:
            self.at = self._SPACE.match(self.buffer, self.at).end()
            if self.at < len(self.buffer) or self.ended:
                return self.buffer[self.at: self.at + 1]
            self._more()

    def _more(self) -> None:
        """Read on: the characters already read are dropped, the pending ones kept (at least doubled)."""
        self.offset += self.at
        self.buffer, self.at = self.buffer[self.at:], 0
        chunk = self.text.read(max(self._CHUNK, len(self.buffer)))
        self.ended = not chunk
        self.buffer += chunk

    def _error(self, message: str, at: int | None = None) -> ValueError:
        return ValueError(f"{message}: character {self.offset + (self.at if at is None else at)}")

    def _entry_refusal(self) -> str:
        return get_limits().refusal("max_text_bytes", f"a JSON value of more than {self.most} characters")


def read_json(path: str | os.PathLike, error: type[Exception], limit: str = "max_text_bytes") -> Any:
    """The JSON file ``path``, read as a bounded regular file through :class:`JsonStream`.

    Parameters
    ----------
    path : str or path-like
        The file (a link is followed, as for any input).
    error : type of Exception
        Raised, naming the file, for a file that cannot be read, is not a
        regular file or exceeds ``limit``, or a value over ``max_text_bytes``.
    limit : str, default "max_text_bytes"
        The limit of :class:`~skcardio.io.Limits` on the file's size.

    Returns
    -------
    object
        What :func:`json.loads` gives (every list kept).

    Raises
    ------
    error
        Also, naming the file, for bytes that are not UTF-8 (a leading
        byte-order mark is left out), text that is not JSON, or JSON nested
        too deeply (``"a.json: not JSON: Nested too deeply: character 0"``),
        which ``json.loads`` raised as ``RecursionError``.
    """
    path = os.fspath(path)
    with open_regular(path, error, "JSON", limit) as handle:
        with io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
            try:
                return JsonStream(text, error).read()
            except error as exc:
                # The stream's refusals do not know the file's name; the file's own errors name it.
                if str(exc).startswith(f"{path}: "):
                    raise
                raise error(f"{path}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise error(f"{path}: not UTF-8 text: {exc.reason}, expected JSON") from None
            except ValueError as exc:
                raise error(f"{path}: not JSON: {exc}") from None
