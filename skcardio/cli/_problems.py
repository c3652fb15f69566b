"""The list of files a batch command skipped, printed at its end (bounded)."""

from __future__ import annotations

import sys

from .._text import printable

__all__ = ["report_problems", "skipped_files"]

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
