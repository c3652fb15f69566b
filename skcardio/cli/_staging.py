"""Outputs written all or nothing, confined to ``--out``: staged in a temporary folder, moved in on success.

A command, its ``--out`` path checked while parsing
(:func:`~skcardio.cli._output.out_dir`), writes every output into
:func:`staging`'s fresh hidden folder inside ``--out`` (so that every move is
on one file system, whatever is mounted there), and calls :func:`publish`
last. Until :func:`publish` runs, the outputs there are untouched, whatever
fails or interrupts the command; :func:`publish` moves everything or, undoing
its steps, nothing, with SIGINT/SIGTERM/SIGHUP held meanwhile
(:func:`~skcardio.cli._interruptions.deferred_signals`) and ``--out`` locked
(``flock``) from the reading of the earlier run's record on, so that two runs
into one ``--out`` publish one after the other. A single output file
(``train``'s model, ``qc``'s CSV) is written by :func:`atomic_file`.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .._files import new_file
from . import _interruptions
from ._interruptions import _drop_pending_signal, deferred_signals
from ._output import (
    KEPT_PREFIX,
    STAGE_PREFIX,
    OutputError,
    _existing_ancestor,
    _is_reserved_name,
    _is_stage_name,
    _special_file_problem,
    check_destinations,
)

try:
    import fcntl
except ImportError:  # Windows: no flock, so the staging folders of killed runs are left (never published)
    fcntl = None

__all__ = ["staging", "publish", "atomic_file"]

logger = logging.getLogger("skcardio.cli")


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
    _interruptions._record.out, _interruptions._record.state = out, "staged"
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

    The names are kept as strings, and each step undone is told from a
    name's index: ~150 bytes a file (paths and a record of each move took
    ~900, 3.5 KB a slice of ``predict`` on a cohort of millions of files).
    """
    names = _files_under(stage)
    names.sort(key=_path_order)  # as Paths sort, without a Path a file
    with _holding(out):
        # Every destination is checked before anything moves: a clash leaves out unchanged.
        check_destinations(out, names)
        stale = _stale_files(out, owned() if callable(owned) else owned, names)
        with deferred_signals():
            stale = _Mover(stage, out).run(names, stale)
            _interruptions._record.out, _interruptions._record.state = out, "published"
            _remove_emptied_folders(out, stale)
    if stale:  # one line, not one per file: a re-run can remove thousands
        first = sorted(stale)[0]
        more = f" ({first} and {len(stale) - 1} more)" if len(stale) > 1 else f" ({first})"
        logger.info("removed %d file(s) left in %s by an earlier run%s", len(stale), out, more)
    for name in stale:
        logger.debug("removed %s", name)
    return names


def _remove_emptied_folders(out: Path, stale: list[Path]) -> None:
    """Remove the folders below ``out`` that held stale files and are now empty (never ``out`` itself)."""
    for name in stale:
        for folder in list((out / name).parents)[: len(name.parts) - 1]:  # deepest first
            try:
                folder.rmdir()  # fails on a folder that still holds something
            except OSError:
                break


def _files_under(folder: Path) -> list[str]:
    """Every file below ``folder``, relative to it, as ``str(Path)`` names it (links are not followed)."""
    found = []
    root = os.fspath(folder)
    for top, _, files in os.walk(root):
        where = os.path.relpath(top, root)
        found += files if where == os.curdir else [os.path.join(where, name) for name in files]
    return found


def _path_order(name: str) -> str:
    """A key sorting names as their Paths sort: part by part (so ``a/b`` before ``a.b/c``), case folded where Paths are."""
    return os.path.normcase(name).replace(os.sep, "\0")


def _stale_files(out: Path, owned: Iterable[str | os.PathLike], produced: list[str]) -> list[Path]:
    """The owned names not produced this time that are regular files reached without a link.

    Never one in a staging folder (this run's, another running command's)
    or a kept one: an earlier run's list of outputs is read from ``out``, and
    may be edited.
    """
    stale, earlier, made = [], set(), None
    for path in map(Path, owned):
        if made is None:  # only when there is an earlier run: a set of every name is ~50 bytes a file
            made = {os.path.normcase(name) for name in produced}  # as Paths compare (the names, where case counts)
        if os.path.normcase(os.fspath(path)) not in made:
            earlier.add(path)
    for name in sorted(earlier):
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
        # The outputs' moves, told by their index in names (a file's earlier version goes aside as "i"):
        # whether each had one; a byte each, not three paths.
        self.names: list[str] = []
        self.replaced = bytearray()
        self.done: list[tuple[Path, Path | None]] = []  # stale files: (path, moved aside to)
        self.created: list[Path] = []

    def run(self, names: list[str], stale: list[Path]) -> list[Path]:
        """Move ``names`` in and the ``stale`` files aside; return those removed (no output among them)."""
        step = ""
        self.names = names
        try:
            for i, name in enumerate(names):
                dest = self.out / name
                step = f"moving {dest} into place failed after {i} of {len(names)} file(s)"
                self._make_folders(dest.parent)
                self.replaced.append(self._move_aside(dest, f"{i}") is not None)
                os.replace(self.stage / name, dest)
            if stale:
                # Checked once the outputs are in: only then is a name that ignores case the new file.
                folded = {_fold(name): name for name in names}
                stale = [name for name in stale if not self._is_output(name, folded)]
            for i, name in enumerate(stale):
                dest = self.out / name
                step = f"removing {dest}, left by an earlier run, failed"
                self.done.append((dest, self._move_aside(dest, f"stale{i}")))
        except OSError as exc:
            raise self._failed(f"{step}: {exc.strerror or exc}") from exc
        return stale

    def _is_output(self, name: Path, folded: dict[str, str]) -> bool:
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

    def _output_steps(self) -> Iterator[tuple[Path, Path | None, Path]]:
        """``(dest, its earlier version aside or None, source)`` of each output's move begun, last first."""
        for i in reversed(range(len(self.replaced))):
            name = self.names[i]
            yield self.out / name, self.aside / f"{i}" if self.replaced[i] else None, self.stage / name

    def _undo(self) -> list[tuple[Path, str, Path | None]]:
        """Undo the steps done, last first; return ``(path, why, its earlier version aside)`` of each that failed."""
        failures = []
        steps = [(dest, previous, None) for dest, previous in reversed(self.done)]
        for dest, previous, source in itertools.chain(steps, self._output_steps()):
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
    _interruptions._record.out, _interruptions._record.state = path, "staged"
    try:
        yield Path(tmp)
        # Checked while parsing (out_file); again here, as the work may take hours.
        problem = _special_file_problem(path)
        if problem:
            raise OutputError(f"{path}: {problem}; nothing written")
        with deferred_signals():
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
            _interruptions._record.state = "published"
    except OSError as exc:
        raise OutputError(f"writing {path} failed, left unchanged: {exc}") from exc
    finally:
        with deferred_signals():
            Path(tmp).unlink(missing_ok=True)
