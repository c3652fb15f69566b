"""Read many DICOM slices at once, on several cores, with optional caching."""

from __future__ import annotations

import os
from collections.abc import Sequence

from joblib import Memory, Parallel, delayed

from ._dicom import DicomSlice, read_dicom

__all__ = ["read_dicoms"]


def read_dicoms(
    paths: Sequence[str | os.PathLike],
    *,
    n_jobs: int | None = None,
    memory: str | os.PathLike | Memory | None = None,
    pixels: bool = True,
) -> list[DicomSlice]:
    """Read DICOM slices in parallel, optionally caching them on disk.

    Parameters
    ----------
    paths : sequence of str or path-like
        DICOM files.
    n_jobs : int, default=None
        Processes used by :class:`joblib.Parallel` (``None`` means 1 unless in
        a :func:`joblib.parallel_config` context, ``-1`` means all cores).
    memory : str, path-like or joblib.Memory, default=None
        Cache folder (or :class:`joblib.Memory`). Entries are keyed on each
        file's path, size and modification time, so an edited file is read
        again. ``None`` disables caching.
    pixels : bool, default=True
        If False, read headers only (``image=None``).

    Returns
    -------
    list of DicomSlice
        In the order of ``paths``.

    Raises
    ------
    DicomReadError
        For the first file that cannot be read, naming it.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_dicoms
    >>> slices = read_dicoms(load_sample().frame.dicom_path[:2])
    >>> [s.image.shape for s in slices]
    [(256, 256), (256, 256)]
    """
    paths = [os.fspath(p) for p in paths]
    reader = _cached_reader(memory)
    # Group files into a few large batches: a process round-trip per file
    # costs more than parsing it.
    return Parallel(n_jobs=n_jobs, batch_size="auto")(
        delayed(reader)(path, *_signature(path), pixels) for path in paths
    )


def _read(path: str, size: int, mtime_ns: int, pixels: bool) -> DicomSlice:
    # size and mtime_ns are unused here: they are the cache key that makes an
    # edited file miss the cache.
    return read_dicom(path, pixels=pixels)


def _signature(path: str) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1)  # read_dicom reports the missing file
    return (stat.st_size, stat.st_mtime_ns)


def _cached_reader(memory):
    if memory is None:
        return _read
    if not isinstance(memory, Memory):
        memory = Memory(location=os.fspath(memory), verbose=0)
    return memory.cache(_read)
