"""Read many DICOM slices at once, on several cores, with optional caching."""

from __future__ import annotations

import os
import threading
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial

import pydicom
from joblib import Memory, Parallel, delayed

from .. import __version__ as skcardio_version
from ..exceptions import DicomReadError
from ._dicom import DicomSlice, read_dicom
from ._limits import Limits, check_study_bytes, get_limits, limits_context

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
        file's path, size and modification time and on the versions of
        skcardio and pydicom, so an edited file, or any file after an
        upgrade, is read again. ``None`` disables caching.
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

    Warns
    -----
    SkcardioWarning
        As :func:`read_dicom` warns (excess padding, a position read as
        absent...), file by file in the order of ``paths``, with the same
        category and message whatever ``n_jobs``: the warnings of a worker
        process are said again in the caller's, pointing at the call of
        ``read_dicoms``, under the caller's warning filters (an ``"error"``
        filter raises the warning there, as with one process). The cache
        keeps a file's warnings with its slice: a file it serves warns as its
        first reading did.

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
    return list(_read_each(paths, n_jobs, memory, pixels, keep_going=False, stacklevel=2))


def read_dicoms_or_errors(
    paths: Sequence[str | os.PathLike],
    *,
    n_jobs: int | None = None,
    memory: str | os.PathLike | Memory | None = None,
    stacklevel: int = 2,
) -> list[DicomSlice | DicomReadError]:
    """Read DICOM slices as :func:`read_dicoms` does, a file that cannot be read giving its error instead.

    For readers that set a bad file aside and go on (:func:`~skcardio.io.read_cine`,
    :func:`~skcardio.datasets.load_dataset`): one pass, in parallel, with the
    running total of the images read checked against ``max_study_bytes``
    as :func:`read_dicoms` checks it. Exceeding it is not one bad file: it
    stops the reading. The warnings of reading the files (a file set aside
    included) reach the caller as :func:`read_dicoms`'s do.

    Parameters
    ----------
    paths : sequence of str or path-like
        As for :func:`read_dicoms`.
    n_jobs : int, default=None
        As for :func:`read_dicoms`.
    memory : str, path-like or joblib.Memory, default=None
        As for :func:`read_dicoms`.
    stacklevel : int, default=2
        Where the warnings said again (those of a worker process, or kept by
        the cache) point, as :func:`warnings.warn`'s ``stacklevel`` counted
        from this function: 2 is its caller; a public function's helper
        passes the number that reaches the public function's caller.

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
    return list(_read_each(paths, n_jobs, memory, True, keep_going=True, stacklevel=stacklevel))


def _read_each(
    paths, n_jobs, memory, pixels: bool, *, keep_going: bool, stacklevel: int
) -> Iterator[DicomSlice | DicomReadError]:
    """The slices of ``paths`` in order (or, with ``keep_going``, the error of a file that cannot be read),
    the running total of their images checked against ``max_study_bytes``.

    The warnings a file's reading gave in a worker process, or that the cache kept, are said here, in
    the caller's process, before the file's slice or error: at ``stacklevel`` counted from the caller
    of this generator (its frame's caller is the function that iterates it)."""
    paths = [os.fspath(p) for p in paths]
    task = partial(_read_task, _cached_reader(memory), _this_process())
    limits = get_limits()  # passed on: worker processes do not share set_limits
    # Group files into a few large batches: a process round-trip per file
    # costs more than parsing it. As a generator, so that the study's size is
    # checked as the slices come, not once all are in memory.
    results = Parallel(n_jobs=n_jobs, batch_size="auto", return_as="generator")(
        delayed(task)(path, *_signature(path), pixels, limits) for path in paths
    )
    total = 0
    try:
        for dicom, said in results:
            for category, message in said:
                warnings.warn(message, category, stacklevel=stacklevel + 1)
            if isinstance(dicom, DicomReadError):
                if not keep_going:
                    raise dicom
            else:
                total += 0 if dicom.image is None else dicom.image.nbytes
                check_study_bytes(total, dicom.path, DicomReadError)
            yield dicom
    except BaseException as exc:
        _stop(results, exc)
        raise


def _stop(results, exc: BaseException) -> None:
    """Stop the pass on ``exc`` (an unreadable file, the study's size limit...): no more files are read.

    Thrown into joblib's generator of ``results``, it stops the pass as a task's own error does; closed,
    or left to the garbage collector, the generator would add joblib's advice on the tasks cancelled.
    """
    traceback = exc.__traceback__
    try:
        results.throw(exc)
    except BaseException as raised:
        if raised is not exc:
            raise
    exc.with_traceback(traceback)  # without joblib's frames, which it passed through


#: A warning said reading a file: its category and message, to be said again in the caller's process.
_Said = tuple[type[Warning], str]
#: A file's slice (or its error) and the warnings its reading gave that the caller would not see otherwise.
_Read = tuple[DicomSlice | DicomReadError, tuple[_Said, ...]]


def _read_task(cached, caller: tuple[int, str], path: str, *args) -> _Read:
    """One file's slice, or its error (a bad file is one result, not the end of the pass), and the
    warnings of its reading that are to be said again in the caller's process.

    In the caller's own process (``n_jobs=1``, or joblib's threading backend) read_dicom's warnings
    reach the caller as they are said, as they always did: they are not recorded (recording swaps the
    process's warning functions, which threads reading at once could leave crossed), except by the
    cache, which keeps them. A worker process's warnings would never reach the caller: all are recorded.
    """
    if _this_process() == caller:
        return _read_here(cached, path, *args)
    with _recording() as caught:
        dicom, said = _read_here(cached, path, *args)
    return dicom, (*said, *_said(caught))  # caught: those of the cache itself (e.g. one it cannot write)


def _read_here(cached, path: str, *args) -> _Read:
    """The file read through ``cached`` (the cached :func:`_read_warned`), or, when None, by :func:`_read`:
    its warnings are said as they come then."""
    try:
        if cached is None:
            return _read(path, *args), ()
        return cached(path, *args)
    except DicomReadError as exc:
        return exc, ()
    except _Unreadable as unreadable:
        return unreadable.error, unreadable.said


def _read_warned(
    path: str, size: int, mtime_ns: int, versions: tuple[str, str], pixels: bool, limits: Limits
) -> tuple[DicomSlice, tuple[_Said, ...]]:
    """The function the cache keeps: :func:`_read`'s slice and the warnings it gave, said again on a hit.

    Its name is the cache's key for it (joblib's folder ``joblib/skcardio/io/_parallel/_read_warned``):
    the entries of the cached function before it, ``_read``, which returned the slice alone, are never
    looked up, let alone unpacked as a slice and its warnings. Rename it whenever what it returns changes.
    An unreadable file is not cached (joblib keeps no exception): its error leaves with its warnings, as
    an :class:`_Unreadable`.
    """
    with _recording() as caught:
        try:
            dicom = _read(path, size, mtime_ns, versions, pixels, limits)
        except DicomReadError as exc:
            raise _Unreadable(exc, _said(caught)) from None
    return dicom, _said(caught)


class _Unreadable(Exception):
    """A file's :class:`DicomReadError` and the warnings said before it, from :func:`_read_warned`
    (through the cache) to :func:`_read_here`, in the same process."""

    def __init__(self, error: DicomReadError, said: tuple[_Said, ...]):
        super().__init__(error, said)
        self.error, self.said = error, said


#: One recording at a time in a process: threads each swapping the warning functions in and out could
#: leave another's in place, and every later warning of the process going to its list.
_RECORDING = threading.RLock()


@contextmanager
def _recording() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning said in the block, whatever the filters: the caller's, in its process, decide."""
    with _RECORDING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _said(caught: list[warnings.WarningMessage]) -> tuple[_Said, ...]:
    return tuple((w.category, str(w.message)) for w in caught)


#: With the process id, tells this process from one of the same id on another machine (a dask
#: worker's); a forked child, which shares it, has an id of its own.
_PROCESS_TOKEN = uuid.uuid4().hex


def _this_process() -> tuple[int, str]:
    return os.getpid(), _PROCESS_TOKEN


def _read(
    path: str, size: int, mtime_ns: int, versions: tuple[str, str], pixels: bool, limits: Limits
) -> DicomSlice:
    # size, mtime_ns and versions are unused here: they are the cache key that
    # makes an edited file, or a slice read by another skcardio or pydicom
    # (whose DicomSlice or reading may differ), miss the cache.
    with limits_context(**vars(limits)):
        return read_dicom(path, pixels=pixels)


def _signature(path: str) -> tuple[int, int, tuple[str, str]]:
    """The cache key of ``path`` beside its name: its size, its modification time and :data:`_VERSIONS`."""
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1, _VERSIONS)  # read_dicom reports the missing file
    return (stat.st_size, stat.st_mtime_ns, _VERSIONS)


#: The versions of the code that makes a cached slice: an upgrade reads every file again.
_VERSIONS = (skcardio_version, pydicom.__version__)


def _cached_reader(memory):
    """``memory``'s cached :func:`_read_warned`, or None without a cache."""
    if memory is None:
        return None
    if isinstance(memory, (str, os.PathLike)):
        memory = Memory(location=os.fspath(memory), verbose=0)
    elif not is_cache(memory):
        raise TypeError(
            "memory must be None, a cache folder (str or path-like) or a joblib.Memory, "
            f"got {memory!r} ({type(memory).__name__})"
        )
    return memory.cache(_read_warned)


def is_cache(memory) -> bool:
    """Whether ``memory`` is a ``memory`` argument :func:`read_dicoms` takes: None, a cache folder (str or
    path-like), or an object with a ``cache`` method (:class:`joblib.Memory`, as scikit-learn's ``Pipeline``
    takes). Nothing is created: :class:`~skcardio.preprocessing.DicomLoader` checks its parameter in ``fit``."""
    return memory is None or isinstance(memory, (str, os.PathLike)) or callable(getattr(memory, "cache", None))
