"""Outputs written all or nothing: staged in a temporary folder, moved in on success.

A command checks its ``--out`` path while parsing (:func:`out_dir`,
:func:`out_file`), writes every output into :func:`staging`'s fresh folder next
to the destination, and calls :func:`publish` last. Until :func:`publish` runs,
the destination is untouched, whatever fails or interrupts the command.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .._files import new_file
from ..exceptions import SkcardioError

__all__ = [
    "OutputError", "out_dir", "out_file", "check_destinations", "staging", "publish", "atomic_file",
]

logger = logging.getLogger("skcardio.cli")


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


def _folder_problem(path: Path, *, staged: bool = False) -> str | None:
    """Why ``path`` cannot be (or become) a writable folder, or None.

    A file is created and removed where the outputs will go (and, if
    ``staged``, where :func:`staging` puts its folder, next to ``path``), so
    that a read-only or special file system fails now, not once the work is
    done.
    """
    if path.exists() and not path.is_dir():
        return "exists and is not a directory"
    ancestor = _existing_ancestor(path)
    if not ancestor.is_dir():
        return f"{ancestor} is a file, expected a directory"
    folders = [ancestor]
    if staged:
        folders.insert(0, _existing_ancestor(path.absolute().parent))
    for folder in dict.fromkeys(folders):
        problem = _write_problem(folder)
        if problem:
            return problem
    return None


def out_dir(text: str) -> str:
    """argparse ``type`` of a ``--out DIR``: an existing folder or one that can be created."""
    problem = _folder_problem(Path(text), staged=True)
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    return text


def out_file(text: str) -> str:
    """argparse ``type`` of an output file: not a folder, in a folder that exists or can be created."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: is a directory, expected a file name")
    problem = _folder_problem(path.absolute().parent)
    if problem:
        raise argparse.ArgumentTypeError(f"{text}: folder {path.parent}: {problem}")
    return text


def check_destinations(out: Path, names: Iterable[str | os.PathLike]) -> None:
    """Raise :class:`OutputError` if an output cannot replace what is at its place in ``out``."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a directory")
    for name in names:
        dest = out / name
        if dest.is_dir():
            raise OutputError(
                f"{dest} is a directory, expected a file that can be replaced; {out} left unchanged"
            )
        for parent in list(dest.parents)[: len(Path(name).parts) - 1]:
            if parent.exists() and not parent.is_dir():
                raise OutputError(
                    f"{parent} is a file, expected a directory to hold {dest}; {out} left unchanged"
                )


@contextmanager
def staging(out: Path, command: str) -> Iterator[Path]:
    """A fresh temporary folder next to ``out`` (same file system), always removed at the end.

    An ``OSError`` inside the block (disk full, ...) becomes an
    :class:`OutputError`; ``out`` is then as before.
    """
    parent = _existing_ancestor(out.absolute().parent)
    try:
        stage = Path(tempfile.mkdtemp(dir=parent, prefix=f".skcardio-{command}-"))
    except OSError as exc:
        raise OutputError(
            f"cannot create a temporary folder in {parent} for the outputs of {out}: {exc.strerror or exc}"
        ) from exc
    try:
        yield stage
    except OSError as exc:
        raise OutputError(f"writing the outputs failed, {out} left unchanged: {exc}") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(stage: Path, out: Path, *, owned: Iterable[str | os.PathLike] = ()) -> list[str]:
    """Move every file of ``stage`` into ``out`` and delete the stale ones; return the names moved.

    ``owned`` lists the files (relative to ``out``) that the command writes
    under some options; those present in ``out`` but not produced this time
    are left from an earlier run and removed, so that ``out`` never mixes two
    runs. Files not in ``owned`` are never touched.
    """
    names = sorted(p.relative_to(stage) for p in stage.rglob("*") if not p.is_dir())
    # Every destination is checked before anything moves: a clash leaves out unchanged.
    check_destinations(out, names)
    for i, name in enumerate(names):
        dest = out / name
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, dest)
        except OSError as exc:
            raise OutputError(
                f"moving {dest} into place failed after {i} of {len(names)} file(s): {exc}"
            ) from exc
    produced = set(names)
    for name in sorted({Path(n) for n in owned} - produced):
        if (out / name).is_file():
            try:
                (out / name).unlink()
            except OSError as exc:
                raise OutputError(
                    f"removing {out / name}, left by an earlier run, failed: {exc.strerror or exc}"
                ) from exc
            logger.info("removed %s, left in %s by an earlier run", name, out)
    return [str(name) for name in names]


@contextmanager
def atomic_file(path: Path, command: str) -> Iterator[Path]:
    """A temporary file next to ``path``, moved onto it when the block succeeds, else deleted.

    Missing folders above ``path`` are created only on success. The file
    gets the permissions of a normally created one (0666 less the umask).
    """
    folder = path.absolute().parent
    parent = _existing_ancestor(folder)
    try:
        # A suffix: torch.save rejects a name that is all extension (".skcardio-train-x").
        handle, tmp = new_file(parent, f".skcardio-{command}-", path.suffix or ".tmp")
    except OSError as exc:
        raise OutputError(f"writing {path} failed: cannot create a file in {parent}: {exc.strerror or exc}") from exc
    os.close(handle)
    try:
        yield Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"writing {path} failed, left unchanged: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
