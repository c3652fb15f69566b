"""Listing folders without passing over one that cannot be read.

``Path.rglob`` and ``Path.iterdir`` callers either miss a folder they cannot
read (``rglob`` swallows the ``PermissionError``: a study silently loses
slices) or stop with a traceback. Every folder listing of skcardio goes
through :func:`list_folder` (one folder) or :func:`walk_folder` (a folder and
its subfolders), and says what it could not read with :func:`folder_problem`.
:func:`walk_folder` keeps its own stack (no recursion, whatever the depth)
and enters no folder deeper than :data:`MAX_FOLDER_DEPTH`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["folder_problem", "list_folder", "walk_folder", "MAX_FOLDER_DEPTH"]

#: Deepest folder :func:`walk_folder` enters, in levels below the folder walked (a DICOM export nests a
#: few). A deeper one is a folder that could not be read: ``predict`` names its outputs after the
#: folders, and Python's own tree helpers (``Path.mkdir(parents=True)``, ``os.walk`` and
#: ``shutil.rmtree`` before Python 3.12) recurse once per level: 1000 levels raised RecursionError.
MAX_FOLDER_DEPTH = 100


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
    passed over in silence. Links to folders are listed, not entered, and
    so are folders deeper than :data:`MAX_FOLDER_DEPTH` levels below
    ``folder``, each returned as a folder that could not be read.

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
        ``folder`` itself included, the reason from :func:`folder_problem`,
        or ``"folder nested more than 100 levels deep: not read"``.

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
    # An explicit stack, not os.walk: before Python 3.12, os.walk recurses once per level, and 1100
    # nested folders (a 2 KB path) raised RecursionError through predict and report. Popped last-in,
    # first-out with each folder's subfolders pushed in reverse, it visits them in os.walk's order.
    pending = [(os.fspath(folder), 0)]
    while pending:
        top, depth = pending.pop()
        if depth > MAX_FOLDER_DEPTH:
            problems.append((top, f"folder nested more than {MAX_FOLDER_DEPTH} levels deep: not read"))
            continue
        listed = _listing(top, folder, problems)
        if listed is None:
            continue
        folders, files, links = listed
        if not hidden:
            folders = [name for name in folders if not name.startswith(".")]
            files = [name for name in files if not name.startswith(".")]
        entries += [Path(top, name) for name in folders + files]
        # Links to folders are listed, not entered (a link loop is never followed).
        pending += [(os.path.join(top, name), depth + 1) for name in reversed(folders) if name not in links]
    return sorted(entries), sorted(problems)


def _listing(top: str, folder, problems: list[tuple[str, str]]) -> tuple[list[str], list[str], set[str]] | None:
    """``(folders, other entries, the folders that are links)`` of ``top`` in the order listed, as ``os.walk`` splits them.

    None when it cannot be listed, the reason added to ``problems``; a
    listing that fails midway gives no entry, as in ``os.walk``. Whether a
    folder is a link comes from the listing (``DirEntry.is_symlink``, as
    ``os.walk`` asks it), not from another ``lstat`` of each folder.
    """
    folders: list[str] = []
    files: list[str] = []
    links: set[str] = set()
    try:
        with os.scandir(top) as scanner:
            for entry in scanner:
                try:
                    is_folder = entry.is_dir()  # a link to a folder counts as one, as in os.walk
                except OSError:
                    is_folder = False
                (folders if is_folder else files).append(entry.name)
                if is_folder and _is_link(entry):
                    links.add(entry.name)
    except OSError as exc:
        problems.append((exc.filename if exc.filename is not None else os.fspath(folder), folder_problem(exc)))
        return None
    return folders, files, links


def _is_link(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a link; False where that cannot be told (os.path.islink's answer then)."""
    try:
        return entry.is_symlink()
    except OSError:
        return False
