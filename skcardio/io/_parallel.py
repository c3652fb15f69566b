"""Read many DICOM slices at once, on several cores, with optional caching."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import partial

from joblib import Memory, Parallel, delayed

from ..exceptions import DicomReadError
from ._dicom import DicomSlice, read_dicom
from ._limits import Limits, get_limits, limits_context

__all__ = ["read_dicoms", "read_dicoms_or_errors"]


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
        DICOM files. A single path is refused (a string would be read
        character by character): pass ``[path]``, or use :func:`read_dicom`.
    n_jobs : int, default=None
        Processes used by :class:`joblib.Parallel` (``None`` means 1 unless in
        a :func:`joblib.parallel_config` context, ``-1`` means all cores).
    memory : str, path-like or joblib.Memory, default=None
        Cache folder (or :class:`joblib.Memory`, or an object with its
        ``cache`` method, as scikit-learn's ``Pipeline`` takes). Entries are keyed on each
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
    TypeError
        If ``paths`` is a single path rather than a sequence of them, or
        ``memory`` is none of the above.
    DicomReadError
        For the first file that cannot be read, naming it; or, naming the
        file that crossed it, when the decoded images together exceed
        ``max_study_bytes`` (:func:`skcardio.io.get_limits`): no more files
        are read then.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_dicoms
    >>> slices = read_dicoms(load_sample().frame.dicom_path[:2])
    >>> [s.image.shape for s in slices]
    [(256, 256), (256, 256)]
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError(
            f"read_dicoms takes a sequence of DICOM paths, got a single path {str(os.fsdecode(paths))!r}; "
            "pass [path], or read one slice with read_dicom(path)"
        )
    return list(_read_each(paths, n_jobs, memory, pixels, keep_going=False))


def read_dicoms_or_errors(
    paths: Sequence[str | os.PathLike],
    *,
    n_jobs: int | None = None,
    memory: str | os.PathLike | Memory | None = None,
) -> list[DicomSlice | DicomReadError]:
    """Read DICOM slices as :func:`read_dicoms` does, a file that cannot be read giving its error instead.

    For readers that set a bad file aside and go on (:func:`~skcardio.io.read_cine`,
    :func:`~skcardio.datasets.load_dataset`): one pass, in parallel, with the
    running total of the images read checked against ``max_study_bytes``
    as :func:`read_dicoms` checks it. Exceeding it is not one bad file: it
    stops the reading.

    Returns
    -------
    list of DicomSlice or DicomReadError
        In the order of ``paths``: the slice, or the error naming the file.

    Raises
    ------
    DicomReadError
        Naming the file that crossed it, when the images read together
        exceed ``max_study_bytes``: no more files are read then.
    """
    return list(_read_each(paths, n_jobs, memory, True, keep_going=True))


def _read_each(paths, n_jobs, memory, pixels: bool, *, keep_going: bool) -> Iterator[DicomSlice | DicomReadError]:
    """The slices of ``paths`` in order (or, with ``keep_going``, the error of a file that cannot be read),
    the running total of their images checked against ``max_study_bytes``."""
    paths = [os.fspath(p) for p in paths]
    reader = _cached_reader(memory)
    task = partial(_read_or_error, reader) if keep_going else reader
    limits = get_limits()  # passed on: worker processes do not share set_limits
    # Group files into a few large batches: a process round-trip per file
    # costs more than parsing it. As a generator, so that the study's size is
    # checked as the slices come, not once all are in memory.
    total = 0
    for dicom in Parallel(n_jobs=n_jobs, batch_size="auto", return_as="generator")(
        delayed(task)(path, *_signature(path), pixels, limits) for path in paths
    ):
        if isinstance(dicom, DicomSlice):
            total += 0 if dicom.image is None else dicom.image.nbytes
            check_study_bytes(total, dicom.path)
        yield dicom


def _read_or_error(reader, path: str, *args) -> DicomSlice | DicomReadError:
    """``reader``'s slice, or its error: a bad file is one result, not the end of the pass."""
    try:
        return reader(path, *args)
    except DicomReadError as exc:
        return exc


def check_study_bytes(total: int, path: str) -> None:
    """Refuse a set of images whose decoded size, ``path``'s included, exceeds ``max_study_bytes``."""
    limits = get_limits()
    if total > limits.max_study_bytes:
        raise DicomReadError(
            f"{path}: with this image, the images read take {total} bytes: "
            + limits.refusal("max_study_bytes", "their size")
        )


def _read(path: str, size: int, mtime_ns: int, pixels: bool, limits: Limits) -> DicomSlice:
    # size and mtime_ns are unused here: they are the cache key that makes an
    # edited file miss the cache.
    with limits_context(**vars(limits)):
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
    if isinstance(memory, (str, os.PathLike)):
        memory = Memory(location=os.fspath(memory), verbose=0)
    elif not is_cache(memory):
        raise TypeError(
            "memory must be None, a cache folder (str or path-like) or a joblib.Memory, "
            f"got {memory!r} ({type(memory).__name__})"
        )
    return memory.cache(_read)


def is_cache(memory) -> bool:
    """Whether ``memory`` is a ``memory`` argument :func:`read_dicoms` takes: None, a cache folder (str or
    path-like), or an object with a ``cache`` method (:class:`joblib.Memory`, as scikit-learn's ``Pipeline``
    takes). Nothing is created: :class:`~skcardio.preprocessing.DicomLoader` checks its parameter in ``fit``."""
    return memory is None or isinstance(memory, (str, os.PathLike)) or callable(getattr(memory, "cache", None))
