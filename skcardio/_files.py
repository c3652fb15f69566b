"""new_file: a fresh, uniquely named file that follows the umask (for atomic writes)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["new_file"]

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def new_file(folder: str | os.PathLike, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new empty file with a random name in ``folder``: ``(descriptor, path)``.

    Outputs are written to such a file and then moved onto their name, so a
    failure never leaves a half-written output. Unlike ``tempfile.mkstemp``
    (always mode 0600), the file gets mode 0666 less the umask (and the
    folder's default ACL), like any file opened with ``open(path, "w")``.

    Raises
    ------
    OSError
        If the file cannot be created (the folder is missing, read-only...).
    """
    folder = Path(folder)
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name {prefix}*{suffix}")
