"""Interruptions: SIGINT, SIGTERM and SIGHUP raised, held while outputs move, and what they leave in the outputs.

``main`` forgets the earlier command's outputs (:func:`reset_record`) and runs
the command inside :func:`catching_signals`, so that SIGTERM and SIGHUP, like
Ctrl-C, run the clean-up code. :mod:`skcardio.cli._staging` holds the signals
(:func:`deferred_signals`) while it moves files into ``--out`` or removes its
staging folder, and notes where the outputs stand: :func:`interruption_state`
words that for ``main``'s message after an interruption.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Interrupted", "catching_signals", "deferred_signals", "interruption_state", "reset_record"]


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
