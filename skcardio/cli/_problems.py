"""The list of files a batch command skipped, printed at its end (bounded), and the reason of an unexpected error."""

from __future__ import annotations

import logging
import os
import sys

from .._text import printable

__all__ = ["report_problems", "skipped_files", "unexpected"]

#: Problems listed one by one at the end of a run; the rest are counted.
_LISTED = 50


def report_problems(kind: str, problems: list[tuple[str, str]], label: str | None = None) -> None:
    """Print ``(file, reason)`` pairs to stderr at the end of a run, at most 50 of them.

    ``kind`` is ``"skipped"`` (files left out: the command exits 1) or
    ``"warning"``; ``label`` replaces the heading's words for them
    (``"3 <label>:"``).
    """
    if not problems:
        return
    label = label or ("file(s) skipped" if kind == "skipped" else "warning(s)")
    print(f"{len(problems)} {label}:", file=sys.stderr)
    for path, reason in problems[:_LISTED]:
        # One line each, whatever the name and the message quoting it hold (a newline, ESC).
        print(f"  {printable(path)}: {printable(reason)}", file=sys.stderr)
    if len(problems) > _LISTED:
        print(f"  ... and {len(problems) - _LISTED} more", file=sys.stderr)


def skipped_files(skipped) -> list[tuple[str, str]]:
    """``(path, reason)`` of the :class:`~skcardio.datasets.Skipped` items that are errors."""
    return [(item.path, item.reason) for item in skipped if item.error]


def unexpected(exc: Exception, subject: str | os.PathLike, logger: logging.Logger, *, cannot: str) -> str:
    """Why ``subject`` (a file, a patient's folder) was given up on ``exc``, an exception that is no ``SkcardioError``.

    Out of memory (``MemoryError``, torch's ``OutOfMemoryError``) is said as
    such: ``cannot be <cannot>: out of memory (MemoryError: ...)``; anything
    else is a defect in skcardio (a numpy error on a pathological study...),
    which the traceback helps to fix: ``unexpected ValueError: ... (a defect
    in skcardio; ...)``. The traceback is logged on ``logger`` at debug level
    (``skcardio -v``). The reason is one line, without the subject's name.
    """
    from ..io._limits import shorten

    logger.debug("%s: traceback of the unexpected error", os.fspath(subject), exc_info=exc)
    line = shorten(str(exc).strip().split("\n")[0])
    what = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    torch = sys.modules.get("torch")  # imported by the model, if at all
    out_of_memory = (MemoryError,) + ((torch.OutOfMemoryError,) if hasattr(torch, "OutOfMemoryError") else ())
    if isinstance(exc, out_of_memory):
        return f"cannot be {cannot}: out of memory ({what})"
    return f"unexpected {what} (a defect in skcardio; please report it with the traceback that skcardio -v logs)"
