"""Whether a folder's ``flock`` is held: how the tests see that a command publishes with ``--out`` locked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skcardio.cli import _staging

needs_flock = pytest.mark.skipif(_staging.fcntl is None, reason="needs flock")


def locked_by_another(folder: Path) -> bool:
    """Whether ``folder``'s exclusive ``flock`` is held by another open descriptor (another run, or this process's).

    A lock belongs to an open file description, so a second ``open`` in the
    same process conflicts with it as another process's would.
    """
    import fcntl

    handle = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)  # releases the lock taken here, if any
    return False
