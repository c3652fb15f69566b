"""Outputs written all or nothing, confined to ``--out``: staged in a temporary folder, moved in on success.

A command checks its ``--out`` path while parsing (:func:`out_dir`,
:func:`out_file`), writes every output into :func:`staging`'s fresh hidden
folder inside ``--out`` (so that every move is on one file system, whatever is
mounted there), and calls :func:`publish` last. Until :func:`publish` runs,
the outputs there are untouched, whatever fails or interrupts the command;
:func:`publish` moves everything or, undoing its steps, nothing, with
SIGINT/SIGTERM/SIGHUP held meanwhile and ``--out`` locked (``flock``) from
the reading of the earlier run's record on, so that two runs into one
``--out`` publish one after the other. Nothing is written, replaced or deleted
through a symbolic link inside ``--out``; no output is one of the command's
inputs or lies inside an input folder (:func:`check_outside_inputs`); names
derived from input files go through :func:`safe_name`, and
:func:`unique_names` makes them distinct and short enough for a file system.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import signal
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from .._files import NAME_MAX, new_file
from ..exceptions import SkcardioError

try:
    import fcntl
except ImportError:  # Windows: no flock, so the staging folders of killed runs are left (never published)
    fcntl = None

__all__ = [
    "OutputError", "out_dir", "out_file", "check_destinations", "check_outside_inputs", "staging", "publish",
    "atomic_file", "safe_name", "fit_name", "unique_names", "NAME_MAX", "Interrupted", "catching_signals",
    "deferred_signals", "interruption_state", "reset_record", "STAGE_PREFIX", "KEPT_PREFIX",
]

logger = logging.getLogger("skcardio.cli")

#: The start of the name of :func:`staging`'s folders in ``--out``; no output's first part starts with it.
STAGE_PREFIX = ".skcardio-staging-"
#: The start of the name a staging folder takes when :func:`publish` could not restore ``--out``: it holds the
#: earlier outputs moved aside, so no run removes it (it is not a :data:`STAGE_PREFIX` folder) nor writes into it.
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
        for parent in list(dest.parents)[: len(parts) - 1]:
            if parent.is_symlink():
                raise OutputError(
                    f"{parent} is a symbolic link (to {os.readlink(parent)}): outputs are never written "
                    f"through a link in the output folder; {out} left unchanged"
                )
            if parent.exists() and not parent.is_dir():
                raise OutputError(
                    f"{parent} is a file, expected a directory to hold {dest}; {out} left unchanged"
                )


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

    def holder(path: Path) -> Path | None:
        return next((p for p in (path, *path.parents) if p in given), None)

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


class _Record:
    """Where the running command's outputs stand, for the message after an interruption."""

    def __init__(self) -> None:
        self.out: Path | None = None
        self.state = "none"  # "none", "staged" (out untouched) or "published"


_record = _Record()


def reset_record(out: str | os.PathLike | None = None) -> None:
    """Forget the outputs of an earlier command; ``out`` is the new one's (``main`` calls it first)."""
    global _record
    _record = _Record()
    _record.out = None if out is None else Path(out)


def interruption_state() -> str:
    """What an interruption leaves in the output: one phrase for ``main``'s message."""
    if _record.state == "published":
        return f"{_record.out} already holds this run's complete outputs (published before the interruption)"
    if _record.out is not None:
        return f"{_record.out} left unchanged (nothing of this run was written there)"
    return "nothing was written"


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP received: raised so that clean-up code runs (``finally``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_deferring = 0
_pending: int | None = None
_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _on_signal(signum: int, frame) -> None:
    global _pending
    if _deferring:
        _pending = signum  # raised once the moves (or the clean-up) are over
        return
    raise Interrupted(signum)


@contextmanager
def catching_signals() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` inside the block (main thread only).

    Without it SIGTERM and SIGHUP end the process at once, leaving the
    staging folder behind. A signal that the caller ignores (``nohup``) stays ignored.
    """
    installed = {}
    if threading.current_thread() is threading.main_thread():
        for name in _SIGNALS:
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
                installed[signum] = signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block is over, then raise :class:`Interrupted`."""
    global _deferring, _pending
    _deferring += 1
    try:
        yield
    except BaseException:
        _deferring -= 1
        raise
    _deferring -= 1
    if not _deferring and _pending is not None:
        signum, _pending = _pending, None
        raise Interrupted(signum)


def _drop_pending_signal() -> None:
    global _pending
    _pending = None


@contextmanager
def staging(out: Path, command: str) -> Iterator[Path]:
    """A fresh hidden folder inside ``out`` (created if missing), removed at the end.

    Inside ``out``, not beside it: :func:`publish`'s moves stay on one file
    system even when ``out`` is a mount (a Docker bind mount, ``/dev/shm``),
    and only ``out`` needs to be writable. Its name starts with
    :data:`STAGE_PREFIX`; it is locked while the command runs, so that the
    folders that killed runs (SIGKILL) left are told apart and removed here.

    An ``OSError`` inside the block (disk full, ...) becomes an
    :class:`OutputError`; ``out`` is then as before, and removed again if this
    call created it and nothing was published. The folder is removed with
    signals held, so that a second Ctrl-C cannot leave it behind; it is kept
    only when :func:`publish` could not restore ``out``, as it then holds
    earlier outputs (renamed :data:`KEPT_PREFIX`..., named in the error).
    """
    made = _make_out(out)
    try:
        stage, lock = _new_stage(out, command)
    except BaseException as exc:
        _remove_if_empty(made)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot create a temporary folder in {out} for its outputs: {exc.strerror or exc}") from exc
        raise
    _record.out, _record.state = out, "staged"
    kept = None
    try:
        yield stage
    except _NotRestored as exc:
        kept = exc.kept  # it holds earlier outputs that publish could not put back: never deleted
        # A Ctrl-C held during those moves must not turn this error, which names the kept folder,
        # into "interrupted: out left unchanged".
        _drop_pending_signal()
        raise
    except OSError as exc:
        raise OutputError(f"writing the outputs failed, {out} left unchanged: {exc}") from exc
    finally:
        with deferred_signals():
            if kept is None:
                shutil.rmtree(stage, ignore_errors=True)
            _unlock(lock)
            _remove_if_empty(made)


def _make_out(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; return the folders created, deepest last."""
    missing = []
    folder = out
    while not os.path.lexists(folder):
        missing.append(folder)
        folder = folder.parent
    made: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except OSError as exc:
            _remove_if_empty(made)
            raise OutputError(f"cannot create the output folder {folder}: {exc.strerror or exc}") from exc
        made.append(folder)
    return made


def _remove_if_empty(made: list[Path]) -> None:
    """Remove the folders of ``made`` that are (still) empty, deepest first: a run that published nothing."""
    for folder in reversed(made):
        try:
            folder.rmdir()  # fails on a folder that holds something: this run's outputs, or another's
        except OSError:
            break


def _is_stage_name(name: str) -> bool:
    return name.startswith(STAGE_PREFIX)


def _is_reserved_name(name: str) -> bool:
    """Whether ``name`` is a staging folder's, or a kept one's: never an output, never removed as stale."""
    return name.startswith((STAGE_PREFIX, KEPT_PREFIX))


def _new_stage(out: Path, command: str) -> tuple[Path, int | None]:
    """A fresh staging folder in ``out`` and the descriptor locking it, after the stale ones are removed."""
    # out is locked meanwhile: another run clearing stale folders never sees ours before it is locked.
    out_lock = _lock(out, wait=True)
    try:
        _remove_stale_stages(out)
        stage = Path(tempfile.mkdtemp(dir=out, prefix=f"{STAGE_PREFIX}{command}-"))
        return stage, _lock_stage(stage, required=out_lock is not None)
    finally:
        _unlock(out_lock)


def _lock_stage(stage: Path, *, required: bool) -> int | None:
    """The descriptor locking the new ``stage``; None where locks do not work.

    Where ``out`` could be locked (``required``), locks work there: a stage
    left unlocked (no descriptor left, EMFILE) would be taken for a killed
    run's and removed by a concurrent run, so that is an :class:`OutputError`.
    """
    try:
        return _flock(stage, wait=False)
    except OSError as exc:
        if not required:
            return None
        with suppress(OSError):
            stage.rmdir()  # still empty; rmtree would need a descriptor, which may be what is missing
        raise OutputError(
            f"cannot lock the staging folder {stage}: {exc.strerror or exc}; unlocked, a concurrent run into "
            f"{stage.parent} could remove it; {stage.parent} left unchanged"
        ) from exc


def _lock(folder: Path, *, wait: bool) -> int | None:
    """A descriptor of ``folder`` holding its exclusive ``flock``; None where it is held or cannot be taken.

    The system releases the lock when the process ends, even by SIGKILL: a
    staging folder that nobody holds is a killed run's.
    """
    try:
        return _flock(folder, wait=wait)
    except OSError:  # held by a running command; a file system without flock (some NFS); no descriptor left
        return None


def _flock(folder: Path, *, wait: bool) -> int | None:
    """A descriptor of ``folder`` holding its exclusive ``flock`` (None without ``fcntl``); OSError if it cannot."""
    if fcntl is None:
        return None
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise
            # Another command is publishing into the same folder: say why nothing seems to happen.
            logger.warning("waiting for another skcardio command that is writing to %s", folder)
            fcntl.flock(handle, fcntl.LOCK_EX)
    except BaseException:  # an interruption while waiting, too: the descriptor is not leaked
        os.close(handle)
        raise
    return handle


@contextmanager
def _holding(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock in the block; where it cannot be taken (no ``flock``), go on without it."""
    lock = _lock(out, wait=True)
    try:
        yield
    finally:
        _unlock(lock)


def _unlock(handle: int | None) -> None:
    if handle is not None:
        os.close(handle)  # releases the flock


def _remove_stale_stages(out: Path) -> None:
    """Remove the staging folders in ``out`` that no running command holds: left by killed runs.

    Only real folders named :data:`STAGE_PREFIX`... whose lock this process
    gets; where locks are unsupported, none (they are never published).
    """
    try:
        with os.scandir(out) as entries:
            stale = [Path(e.path) for e in entries if _is_stage_name(e.name) and e.is_dir(follow_symlinks=False)]
    except OSError:  # out writable but not listable: they stay, harmless
        return
    for folder in stale:
        lock = _lock(folder, wait=False)
        if lock is None:
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            logger.debug("removed %s, left by a killed run", folder)
        finally:
            _unlock(lock)


_Owned = Iterable[str | os.PathLike]


def publish(stage: Path, out: Path, *, owned: _Owned | Callable[[], _Owned] = ()) -> list[str]:
    """Move every file of ``stage`` into ``out`` and delete the stale ones, all or nothing; return the names moved.

    Parameters
    ----------
    stage : Path
        The folder of this run's outputs (:func:`staging`'s).
    out : Path
        Where they go.
    owned : iterable of path-like, or callable returning one
        The files (relative to ``out``) that the command writes under some
        options; those present in ``out`` but not produced this time are left
        from an earlier run and removed, so that ``out`` never mixes two runs.
        Files not in ``owned`` are never touched; neither is anything reached
        through a symbolic link in ``out`` (a stale name on such a path, or
        that is itself a link, is left with a warning), nor a stale name that
        is the same file as an output (``P1/x.png`` and ``p1/x.png`` on a file
        system that ignores case). A callable, which reads the earlier run's
        record, is called with ``out`` locked.

    Returns
    -------
    list of str
        The names of the files moved in, relative to ``out``.

    Notes
    -----
    ``out`` is locked (``flock``) from the reading of the earlier record to
    the last move: a run publishing into the same ``out`` waits, then reads
    the record this one wrote, so no file is left listed by no record. Where
    locks do not work, it goes on unlocked. The files replaced or removed are
    first moved aside: if a move fails, every step is undone and ``out`` is
    as before (:class:`OutputError`); if a step cannot be undone, the staging
    folder, which holds the earlier files, is kept (renamed
    :data:`KEPT_PREFIX`...) and named. SIGINT, SIGTERM and SIGHUP are held
    from the first move to the last, so an interruption leaves either the
    earlier outputs or this run's, never a mix.
    """
    names = sorted(_files_under(stage))
    with _holding(out):
        # Every destination is checked before anything moves: a clash leaves out unchanged.
        check_destinations(out, names)
        stale = _stale_files(out, owned() if callable(owned) else owned, set(names))
        with deferred_signals():
            stale = _Mover(stage, out).run(names, stale)
            _record.out, _record.state = out, "published"
            _remove_emptied_folders(out, stale)
    if stale:  # one line, not one per file: a re-run can remove thousands
        first = sorted(stale)[0]
        more = f" ({first} and {len(stale) - 1} more)" if len(stale) > 1 else f" ({first})"
        logger.info("removed %d file(s) left in %s by an earlier run%s", len(stale), out, more)
    for name in stale:
        logger.debug("removed %s", name)
    return [str(name) for name in names]


def _remove_emptied_folders(out: Path, stale: list[Path]) -> None:
    """Remove the folders below ``out`` that held stale files and are now empty (never ``out`` itself)."""
    for name in stale:
        for folder in list((out / name).parents)[: len(name.parts) - 1]:  # deepest first
            try:
                folder.rmdir()  # fails on a folder that still holds something
            except OSError:
                break


def _files_under(folder: Path) -> list[Path]:
    """Every file below ``folder``, relative to it (links are not followed)."""
    found = []
    for top, _, files in os.walk(folder):
        found += [(Path(top) / name).relative_to(folder) for name in files]
    return found


def _stale_files(out: Path, owned: Iterable[str | os.PathLike], produced: set[Path]) -> list[Path]:
    """The owned names not produced this time that are regular files reached without a link.

    Never one in a staging folder (this run's, another running command's)
    or a kept one: an earlier run's list of outputs is read from ``out``, and
    may be edited.
    """
    stale = []
    for name in sorted({Path(n) for n in owned} - produced):
        parts = name.parts
        if name.is_absolute() or any(part in ("", ".", "..") for part in parts) or _is_reserved_name(parts[0]):
            continue
        dest = out / name
        if not os.path.lexists(dest):
            continue
        links = [p for p in [dest, *list(dest.parents)[: len(name.parts) - 1]] if p.is_symlink()]
        if links:
            logger.warning("%s: left in place: %s is a symbolic link, never followed or removed", dest, links[-1])
        elif dest.is_file():
            stale.append(name)
    return stale


class _NotRestored(OutputError):
    """:func:`publish` failed and could not restore ``out``; ``kept`` holds the earlier files it had moved aside."""

    def __init__(self, message: str, kept: Path) -> None:
        super().__init__(message)
        self.kept = kept


def _fold(name: Path) -> str:
    """``name`` as a file system that ignores case (and Unicode normalisation) compares it."""
    return unicodedata.normalize("NFC", str(name)).casefold()


class _Mover:
    """The moves of :func:`publish`, undone in reverse order if one fails."""

    def __init__(self, stage: Path, out: Path) -> None:
        self.stage, self.out = stage, out
        self.aside = Path(tempfile.mkdtemp(dir=stage, prefix=".replaced-"))  # listed names are known
        self.done: list[tuple[Path, Path | None, Path | None]] = []  # (dest, moved aside to, came from)
        self.created: list[Path] = []

    def run(self, names: list[Path], stale: list[Path]) -> list[Path]:
        """Move ``names`` in and the ``stale`` files aside; return those removed (no output among them)."""
        step = ""
        try:
            for i, name in enumerate(names):
                dest = self.out / name
                step = f"moving {dest} into place failed after {i} of {len(names)} file(s)"
                self._make_folders(dest.parent)
                previous = self._move_aside(dest, f"{i}")
                self.done.append((dest, previous, self.stage / name))
                os.replace(self.stage / name, dest)
            # Checked once the outputs are in: only then is a name that ignores case the new file.
            folded = {_fold(name): name for name in names}
            stale = [name for name in stale if not self._is_output(name, folded)]
            for i, name in enumerate(stale):
                dest = self.out / name
                step = f"removing {dest}, left by an earlier run, failed"
                self.done.append((dest, self._move_aside(dest, f"stale{i}"), None))
        except OSError as exc:
            raise self._failed(f"{step}: {exc.strerror or exc}") from exc
        return stale

    def _is_output(self, name: Path, folded: dict[str, Path]) -> bool:
        """Whether the stale ``name`` is a file just moved in under another case (``folded``: by :func:`_fold`)."""
        output = folded.get(_fold(name))
        try:
            return output is not None and os.path.samefile(self.out / name, self.out / output)
        except OSError:  # gone, or unreadable: not known to be an output, removed as before
            return False

    def _failed(self, what: str) -> OutputError:
        """The error after a failed move: every step undone, else the staging folder kept and named."""
        failures = self._undo()
        if not failures:
            return OutputError(f"{what}; {self.out} restored as it was")
        kept, note = self._keep()
        listed = ", ".join(
            f"{dest} ({reason})" if previous is None
            else f"{dest} ({reason}; its earlier version is {kept / previous.relative_to(self.stage)})"
            for dest, reason, previous in failures
        )
        return _NotRestored(f"{what}; {self.out} could not be fully restored: {listed}; the files moved aside "
                            f"and this run's outputs are kept in {kept}{note}", kept)

    def _keep(self) -> tuple[Path, str]:
        """Rename the staging folder so that no run removes it; return where it is, and a note if not renamed."""
        kept = self.stage.with_name(KEPT_PREFIX + self.stage.name.removeprefix(STAGE_PREFIX))
        try:
            os.rename(self.stage, kept)
        except OSError as exc:
            return self.stage, (f" (it could not be renamed {kept.name}: {exc.strerror or exc}; a later run into "
                                f"{self.stage.parent} removes it: move it elsewhere first)")
        return kept, ""

    def _move_aside(self, dest: Path, key: str) -> Path | None:
        if not os.path.lexists(dest):
            return None
        aside = self.aside / key
        os.replace(dest, aside)  # a link is moved itself, never followed
        return aside

    def _make_folders(self, folder: Path) -> None:
        missing = []
        while not os.path.lexists(folder):
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self.created.append(path)

    def _undo(self) -> list[tuple[Path, str, Path | None]]:
        """Undo the steps done, last first; return ``(path, why, its earlier version aside)`` of each that failed."""
        failures = []
        for dest, previous, source in reversed(self.done):
            try:
                if source is not None and os.path.lexists(dest) and not os.path.lexists(source):
                    os.replace(dest, source)
                if previous is not None:
                    os.replace(previous, dest)
            except OSError as exc:
                failures.append((dest, exc.strerror or str(exc), previous))
        for folder in reversed(self.created):
            try:
                folder.rmdir()
            except OSError as exc:
                failures.append((folder, exc.strerror or str(exc), None))
        return failures


def safe_name(name: str) -> str:
    """``name`` made safe as one path component of an output: no separator, control character, ``.`` or ``..``.

    Separators (``/``, ``\\``), ``:`` and control characters become ``_``;
    a name of dots only (``.``, ``..``, the stem of ``..dcm``) gets its dots
    replaced too, so that no output lands beside ``--out``, and so does the
    first dot of a name starting with :data:`STAGE_PREFIX` or :data:`KEPT_PREFIX`.

    Examples
    --------
    >>> safe_name(".."), safe_name("a/b"), safe_name("x\\ny"), safe_name("IM-0001-0048")
    ('__', 'a_b', 'x_y', 'IM-0001-0048')
    """
    cleaned = "".join("_" if ch in _UNSAFE or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)
    if cleaned.strip(".") == "":
        cleaned = "_" * max(len(cleaned), 1)
    if _is_reserved_name(cleaned):  # would be taken for a staging folder (and removed by the next run) or a kept one
        cleaned = "_" + cleaned[1:]
    return cleaned


_UNSAFE = set("/\\:")

#: What :func:`fit_name` puts after the start of a name it shortens: ``~`` and 8 hexadecimal digits.
_DIGEST_CHARS = 9


def fit_name(name: str, room: int = 0) -> str:
    """``name`` if it and ``room`` more bytes fit in :data:`NAME_MAX` bytes, else its start, ``~`` and a hash.

    The hash (8 hexadecimal digits of the SHA-1 of the whole name) keeps two
    long names with the same start apart, and gives the same name on every
    run. ``room`` is kept for what the caller appends (``_overlay.png``).

    Examples
    --------
    >>> fit_name("48"), len(fit_name("L" * 300)), fit_name("L" * 300)[-9:]
    ('48', 255, '~5ef107de')
    >>> len(fit_name("L" * 300, room=12).encode()) + 12
    255
    """
    limit = NAME_MAX - room
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    start, used = 0, 0
    while used + len(name[start].encode("utf-8", "surrogateescape")) <= limit - _DIGEST_CHARS:  # whole characters
        used += len(name[start].encode("utf-8", "surrogateescape"))
        start += 1
    return f"{name[:start]}~{digest}"


def unique_names(
    names: Sequence[Path], *, room: int = 0, taken: Iterable[str] = ()
) -> list[tuple[Path, str]]:
    """Output names for ``names`` (relative paths): each fits a file system, no two are the same file.

    Every part goes through :func:`fit_name` (the last part keeping ``room``
    bytes for the caller's suffixes). Names are compared ignoring case (``X``
    and ``x`` are one file on macOS and Windows); the first of equal names
    keeps it, each later one gets ``_2``, ``_3``... on its last part: the
    first free one, a name of the list or of ``taken`` counting as used even
    when it comes later, so a folder really called ``x_2`` keeps its name.

    Returns
    -------
    list of (Path, str)
        The name for each of ``names``, in order, and why it differs from the
        name given (``""`` when it does not).

    Examples
    --------
    >>> [str(n) for n, _ in unique_names([Path("x_y"), Path("x_y"), Path("x_y_2")])]
    ['x_y', 'x_y_3', 'x_y_2']
    >>> name, why = unique_names([Path("P1/1"), Path("p1/1")])[1]
    >>> str(name), why
    ('p1/1_2', 'p1/1 is already the name of another output')
    """
    fitted = [Path(*(fit_name(part, room if i == len(name.parts) - 1 else 0) for i, part in enumerate(name.parts)))
              for name in names]
    keys = [str(name).lower() for name in fitted]
    reserved = {name.lower() for name in taken}
    used = set(keys) | reserved
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    result = []
    for i, (name, fit, key) in enumerate(zip(names, fitted, keys)):
        if first[key] == i and key not in reserved:
            result.append((fit, "" if fit == name else f"the name is too long for a file system (at most {NAME_MAX} bytes)"))
            continue
        k = 2
        while True:
            suffix = f"_{k}"
            candidate = fit.parent / (fit_name(name.name, room + len(suffix)) + suffix)
            if str(candidate).lower() not in used:
                break
            k += 1
        used.add(str(candidate).lower())
        result.append((candidate, f"{fit} is already the name of another output"))
    return result


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
    _record.out, _record.state = path, "staged"
    try:
        yield Path(tmp)
        # Checked while parsing (out_file); again here, as the work may take hours.
        problem = _special_file_problem(path)
        if problem:
            raise OutputError(f"{path}: {problem}; nothing written")
        with deferred_signals():
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
            _record.state = "published"
    except OSError as exc:
        raise OutputError(f"writing {path} failed, left unchanged: {exc}") from exc
    finally:
        with deferred_signals():
            Path(tmp).unlink(missing_ok=True)
