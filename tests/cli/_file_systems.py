"""What the output tests make a file system do: refuse every write (read-only), hold a named pipe."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest


def no_file_system(*args, **kwargs):
    """Raise ``EROFS``, as any write to a read-only file system does: a stand-in for ``new_file``, ``os.replace``..."""
    raise OSError(errno.EROFS, "Read-only file system")


def make_fifo(folder: Path) -> Path:
    """A named pipe ``folder/pipe`` (the test is skipped where there are none)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs POSIX named pipes")
    fifo = folder / "pipe"
    os.mkfifo(fifo)
    return fifo
