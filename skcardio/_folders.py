"""Listing folders without passing over one that cannot be read.

``Path.rglob`` and ``Path.iterdir`` callers either miss a folder they cannot
read (``rglob`` swallows the ``PermissionError``: a study silently loses
slices) or stop with a traceback. Every folder listing of skcardio goes
through :func:`list_folder` (one folder) or :func:`walk_folder` (a folder and
its subfolders), and says what it could not read with :func:`folder_problem`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["folder_problem", "list_folder", "walk_folder"]


def folder_problem(exc: OSError) -> str:
    """Why a folder could not be listed, in words: ``"cannot read folder: permission denied"``.

    Parameters
    ----------
    exc : OSError
        The error of listing it.

    Returns
    -------
    str
        The reason, without the folder's name (the caller puts it first).

    Examples
    --------
    >>> import errno
    >>> from skcardio._folders import folder_problem
    >>> folder_problem(PermissionError(errno.EACCES, "Permission denied"))
    'cannot read folder: permission denied'
    """
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot read folder: {text[:1].lower()}{text[1:]}"


def list_folder(folder: str | os.PathLike) -> list[os.DirEntry]:
    """The entries of ``folder``, sorted by name.

    Parameters
    ----------
    folder : str or path-like
        The folder.

    Returns
    -------
    list of os.DirEntry
        Its entries, hidden ones included.

    Raises
    ------
    OSError
        If it cannot be listed (missing, not a folder, permission denied):
        :func:`folder_problem` words it.
    """
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def walk_folder(folder: str | os.PathLike, *, hidden: bool = True) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every entry below ``folder``, and the folders that could not be read.

    Like ``Path(folder).rglob("*")``, but a folder that cannot be listed
    (permission denied...) is returned with the reason instead of being
    passed over in silence. Links to folders are listed, not entered.

    Parameters
    ----------
    folder : str or path-like
        The folder, searched recursively.
    hidden : bool, default=True
        Whether entries whose name starts with ``.`` are listed; without
        them, hidden folders are not entered either.

    Returns
    -------
    entries : list of pathlib.Path
        Files, folders and other entries below ``folder`` (``folder``
        joined with their relative path), sorted.
    problems : list of (str, str)
        ``(folder, reason)`` for each folder that could not be listed,
        ``folder`` itself included, the reason from :func:`folder_problem`.

    Examples
    --------
    >>> from skcardio._folders import walk_folder
    >>> from skcardio.datasets import get_sample_path
    >>> entries, problems = walk_folder(get_sample_path() / "contourfiles" / "SC-HF-I-1")
    >>> [p.name for p in entries][:2], problems
    (['i-contours', 'IM-0001-0099-icontour-manual.txt'], [])
    """
    entries: list[Path] = []
    problems: list[tuple[str, str]] = []

    def unreadable(exc: OSError) -> None:
        problems.append((exc.filename if exc.filename is not None else os.fspath(folder), folder_problem(exc)))

    for top, folders, files in os.walk(folder, onerror=unreadable):
        if not hidden:
            folders[:] = [name for name in folders if not name.startswith(".")]
            files = [name for name in files if not name.startswith(".")]
        entries += [Path(top, name) for name in folders + files]
    return sorted(entries), sorted(problems)
