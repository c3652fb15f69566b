"""Progress of a long command: a bar on a terminal, a line now and then in a batch job's log.

tqdm shows nothing when stderr is not a terminal (``disable=None``): a
cohort's ``report`` or ``predict`` run under a scheduler, its stderr a log
file, said nothing for hours. There :func:`progress` writes one plain line
every :data:`LOG_INTERVAL` seconds (done, total, rate, time left), no
``\\r`` and no line per item, so a log stays readable and short; a run
shorter than the interval writes none.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO

from .._text import console_stream, printable

__all__ = ["progress", "LOG_INTERVAL", "PROGRESS_HELP"]

#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 60.0
#: The ``--no-progress`` option's help, the same for every command.
PROGRESS_HELP = ("no progress: neither the bar shown on a terminal nor the line written every "
                 f"{LOG_INTERVAL:.0f} s when stderr is not a terminal (a batch job's log)")


def progress(*, total: int, unit: str, desc: str, hidden: bool = False, stream: IO[str] | None = None,
             interval: float | None = None, clock: Callable[[], float] = time.monotonic):
    """A progress indicator with tqdm's ``update``, ``set_postfix_str`` and ``close`` (and ``with``).

    Parameters
    ----------
    total : int
        Items to do.
    unit : str
        What an item is (``"slice"``, ``"patient"``, ``"fold"``).
    desc : str
        The command, leading each line.
    hidden : bool, default=False
        ``--no-progress``: nothing at all.
    stream : text stream, default=None
        Where to write; ``sys.stderr`` (as the console sees it) when None.
    interval : float, default=None
        Seconds between two lines when ``stream`` is not a terminal;
        :data:`LOG_INTERVAL` when None.
    clock : callable, default=time.monotonic
        Seconds now (a test's clock).

    Returns
    -------
    tqdm or _LogLines
        tqdm's bar on a terminal (or a disabled one when ``hidden``), else
        the log lines.

    Examples
    --------
    >>> import io
    >>> now = iter([0.0, 61.0, 62.0]).__next__
    >>> log = io.StringIO()
    >>> with progress(total=4, unit="patient", desc="report", stream=log, clock=now) as bar:
    ...     bar.update()
    >>> print(log.getvalue().strip())
    report: 1/4 patient(s) (25 %) in 0:01:01, 61.0 s/patient, about 0:03:03 left
    """
    from tqdm.auto import tqdm

    stream = console_stream(sys.stderr) if stream is None else stream
    if hidden:
        return tqdm(total=total, disable=True)
    if _is_terminal(stream):
        # The bar writes "\r" itself: to the stream under printable_streams().
        return tqdm(total=total, unit=unit, desc=desc, file=stream)
    return _LogLines(total, unit, desc, stream, LOG_INTERVAL if interval is None else interval, clock)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _LogLines:
    """tqdm's few methods that the commands use, writing a plain line at most every ``interval`` seconds."""

    def __init__(self, total: int, unit: str, desc: str, stream, interval: float, clock: Callable[[], float]):
        self.total, self.unit, self.desc, self.stream = total, unit, desc, stream
        self.interval, self.clock = interval, clock
        self.done, self.postfix = 0, ""
        self.start = self.last = clock()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._write(now - self.start)

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        """Nothing to close: the command's own summary ends the run's output."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _write(self, elapsed: float) -> None:
        line = f"{self.desc}: {self.done}/{self.total} {self.unit}(s)"
        if self.total:
            line += f" ({100 * self.done / self.total:.0f} %)"
        line += f" in {_duration(elapsed)}"
        if self.done:
            per_item = elapsed / self.done
            rate = f"{per_item:.1f} s/{self.unit}" if per_item >= 1 else f"{1 / per_item:.1f} {self.unit}(s)/s"
            line += f", {rate}, about {_duration(per_item * max(self.total - self.done, 0))} left"
        if self.postfix:
            line += f" (last: {self.postfix})"
        print(printable(line), file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    """``h:mm:ss``."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
