"""Where the outputs may go: ``--out`` checked while parsing, each output name against ``--out`` and the inputs.

A command checks its ``--out`` path while parsing (:func:`out_dir`,
:func:`out_file`): a folder or file that can be created there, tried for real.
Nothing is written, replaced or deleted through a symbolic link inside
``--out`` (:func:`check_destinations`, called by the commands that write into
a folder before their work and by :func:`~skcardio.cli._staging.publish`
again before its moves); no output is one of the command's inputs or lies
inside an input folder (:func:`check_outside_inputs`). Names starting with
:data:`STAGE_PREFIX` or :data:`KEPT_PREFIX` belong to the staging folders of
:mod:`skcardio.cli._staging`, which writes the outputs; names derived from
input files are made by :mod:`skcardio.cli._output_names`.
"""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .._files import new_file
from ..exceptions import SkcardioError

__all__ = [
    "OutputError", "out_dir", "out_file", "check_destinations", "check_outside_inputs", "STAGE_PREFIX", "KEPT_PREFIX",
]

#: The start of the name of :func:`~skcardio.cli._staging.staging`'s folders in ``--out``; no output's first part
#: starts with it.
STAGE_PREFIX = ".skcardio-staging-"
#: The start of the name a staging folder takes when :func:`~skcardio.cli._staging.publish` could not restore
#: ``--out``: it holds the earlier outputs moved aside, so no run removes it (it is not a :data:`STAGE_PREFIX`
#: folder) nor writes into it.
KEPT_PREFIX = ".skcardio-kept-"


class OutputError(SkcardioError):
    """The outputs cannot be written where asked; the message names the path."""


def _existing_ancestor(path: Path) -> Path:
    """``path`` or its nearest parent that exists (``Path.exists`` is False under a file too)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _write_problem(folder: Path) -> str | None:
    """Why no file can be created in the existing folder ``folder`` (tried for real), or None."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in {folder}"
    try:
        handle, probe = new_file(folder, ".skcardio-probe-")
    except OSError as exc:
        return f"cannot create a file in {folder}: {exc.strerror or exc}"
    os.close(handle)
    try:
        probe.unlink()
    except OSError as exc:
        return f"cannot remove a file from {folder}: {exc.strerror or exc}"
    return None


def _folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a writable folder, or None.

    A file is created and removed in ``path``, or in the nearest existing
    folder above it where ``path`` will be created: all that the outputs need,
    since :func:`staging` puts its folder inside ``path``. A read-only or
    special file system fails now, not once the work is done.
    """
    if path.exists() and not path.is_dir():
        return "exists and is not a directory"
    if path.is_symlink() and not path.exists():
        return f"is a symbolic link to {os.readlink(path)}, which does not exist"
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        return f"{ancestor} is a file, expected a directory"
    return _write_problem(ancestor)


def _dotdot_problem(path: Path) -> str | None:
    """Why a ``..`` in ``path`` cannot be followed, or None.

    The system resolves ``o/..`` only once ``o`` exists, and ``Path`` keeps
    the ``..`` (after a link, it is not the link's folder): ``o/../o2`` with
    ``o`` missing would fail only when the outputs are moved in.
    """
    parts = path.parts
    for i, part in enumerate(parts):
        if part == ".." and i and not os.path.exists(Path(*parts[:i])):
            return (f"{Path(*parts[:i])} does not exist, so the '..' after it cannot be followed; "
                    "expected a path without '..' after a missing folder")
    return None


#: What a path that is not a regular file is, for :func:`_special_file_problem`.
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"),
)


def _special_file_problem(path: Path) -> str | None:
    """What ``path`` is if it exists and is neither a regular file nor a link to one, else None.

    An output file is moved onto its name: that would replace a device
    (``/dev/null``), a FIFO or a socket by a regular file, or fail only at the
    end through a link such as ``/proc/self/fd/1``. A missing name, or a link
    to nothing, is fine: only the link itself is replaced.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    kind = next((word for test, word in _KINDS if test(mode)), "not a regular file")
    if path.is_symlink():
        return f"is a symbolic link to {os.readlink(path)}, which is {kind}; expected a regular file or a new name"
    return f"is {kind}; expected a regular file or a new name"


def _check_not_empty(text: str, expected: str) -> None:
    # Path("") is ".": an empty argument (an unset shell variable) would write into the current folder.
    if not text:
        raise argparse.ArgumentTypeError(f"an empty path; expected {expected}")


def out_dir(text: str) -> str:
    """argparse ``type`` of a ``--out DIR``: an existing folder or one that can be created (not ``""``)."""
    _check_not_empty(text, "the name of the output folder")
    problem = _dotdot_problem(Path(text)) or _folder_problem(Path(text))
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    return text


def out_file(text: str) -> str:
    """argparse ``type`` of an output file: a new name or a regular file, in a folder that exists or can be created.

    Refused: ``""``, a name ending in a separator, ``.`` or ``..`` (``Path``
    would drop the ``/`` of ``newdir/`` and write a file ``newdir``), a
    folder, and a device, FIFO or socket (or a link to one), which the moved
    file would replace.
    """
    _check_not_empty(text, "the name of the output file")
    path = Path(text)
    last = os.path.basename(text)
    if not last:
        raise argparse.ArgumentTypeError(f"{text}: ends with a path separator, which names a folder; expected a file name")
    if last in (".", ".."):
        raise argparse.ArgumentTypeError(f"{text}: names a folder, expected a file name")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a directory, expected a file name")
    problem = _special_file_problem(path) or _dotdot_problem(path)
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    problem = _folder_problem(path.absolute().parent)
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: folder {path.parent}: {problem}")
    return text


def check_destinations(out: Path, names: Iterable[str | os.PathLike]) -> None:
    """Raise :class:`OutputError` if an output cannot replace what is at its place in ``out``.

    Every name must stay inside ``out`` (relative, no ``.`` or ``..`` part),
    and no folder on its way below ``out`` may be a symbolic link: outputs
    are never written through a link planted in ``out``.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory")
    checked: set[Path] = set()  # folders found fine: a cohort's million outputs share a few thousand
    for name in names:
        parts = Path(name).parts
        if Path(name).is_absolute() or not parts or any(part in (".", "..") for part in parts):
            raise OutputError(f"{name!r}: an output name must stay inside {out}; {out} left unchanged")
        if _is_reserved_name(parts[0]):
            prefix = STAGE_PREFIX if _is_stage_name(parts[0]) else KEPT_PREFIX
            raise OutputError(f"{name!r}: {prefix}* is reserved for skcardio's staging folders; {out} left unchanged")
        dest = out / name
        if dest.is_dir() and not dest.is_symlink():
            raise OutputError(
                f"{dest} is a directory, expected a file that can be replaced; {out} left unchanged"
            )
        parent = dest
        for _ in parts[1:]:
            parent = parent.parent
            if parent in checked:
                break  # and so were the folders above it
            if parent.is_symlink():
                raise OutputError(
                    f"{parent} is a symbolic link (to {os.readlink(parent)}): outputs are never written "
                    f"through a link in the output folder; {out} left unchanged"
                )
            if parent.exists() and not parent.is_dir():
                raise OutputError(
                    f"{parent} is a file, expected a directory to hold {dest}; {out} left unchanged"
                )
            checked.add(parent)


def check_outside_inputs(
    out: str | os.PathLike, inputs: Iterable[str | os.PathLike], names: Iterable[str | os.PathLike] = (),
    *, option: str = "--out",
) -> None:
    """Raise :class:`OutputError` if an output would replace an input or land inside an input folder.

    ``out`` (the ``--out`` folder or file) must not be one of ``inputs`` nor
    lie inside one, and no output ``names`` (relative to the folder ``out``)
    may either: a command must never change what it reads (a dataset's
    ``link.csv``, an input image), nor read its own outputs back on the next
    run. Paths are compared after resolving symbolic links; ``out`` holding an
    input (``predict in/1.dcm --out in``) is fine as long as no output is one.
    """
    real_out = Path(os.path.realpath(out))
    given: dict[Path, str] = {}
    for text in inputs:
        given.setdefault(Path(os.path.realpath(text)), os.fspath(text))

    holders: dict[Path, Path | None] = {}  # of the folders seen: a cohort's million outputs share a few thousand

    def holder(path: Path) -> Path | None:
        passed, found, folder = [], None, path
        while True:
            if folder in given:
                found = folder
                break
            if folder in holders:
                found = holders[folder]
                break
            passed.append(folder)
            if folder.parent == folder:
                break
            folder = folder.parent
        holders.update(dict.fromkeys(passed[1:], found))
        return found

    found = holder(real_out)
    if found is not None:
        where = "is the input" if found == real_out else "lies inside the input folder"
        raise OutputError(
            f"{option} {os.fspath(out)}: {where} {given[found]}; the outputs would change what the command reads "
            "(or be read back as inputs next time): expected a path outside every input"
        )
    for name in names:
        found = holder(real_out / name)
        if found is not None:
            where = "would replace the input" if found == real_out / name else "would be written inside the input folder"
            raise OutputError(
                f"{Path(out) / name}: {where} {given[found]}; expected an {option} whose outputs stay "
                f"outside every input; {os.fspath(out)} left unchanged"
            )


def _is_stage_name(name: str) -> bool:
    return name.startswith(STAGE_PREFIX)


def _is_reserved_name(name: str) -> bool:
    """Whether ``name`` is a staging folder's, or a kept one's: never an output, never removed as stale."""
    return name.startswith((STAGE_PREFIX, KEPT_PREFIX))
