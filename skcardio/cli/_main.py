"""Entry point of the ``skcardio`` console script."""

from __future__ import annotations

import argparse
import importlib
import logging
import numbers
import signal
import sys
import warnings
from collections.abc import Sequence

from .._text import printable, printable_streams, readable_streams
from ..exceptions import SkcardioError, SkcardioWarning
from ._interruptions import catching_signals, interruption_state, reset_record
from ._unet_options import warning_text

# Sub-command modules, in the order shown by ``skcardio --help``. A module is
# imported lazily only if present so that heavy dependencies (torch) are not
# loaded for ``skcardio qc``.
_COMMANDS: tuple[str, ...] = ("_qc", "_evaluate", "_train", "_predict", "_report")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every available sub-command.

    Returns
    -------
    argparse.ArgumentParser
        The ``skcardio`` parser; each sub-command's ``func`` default runs it.

    Examples
    --------
    >>> from skcardio.cli import build_parser
    >>> args = build_parser().parse_args(["qc", "dataset"])
    >>> args.command, args.root
    ('qc', 'dataset')
    """
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="skcardio",
        description="Left-ventricle segmentation of cardiac MRI DICOM slices.",
    )
    parser.add_argument("--version", action="version", version=f"skcardio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log skcardio's debug messages (other libraries' stay hidden)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skcardio`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after ``skcardio``; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        The process exit code: 0 on success, 1 when some inputs were
        skipped, 2 for bad arguments or input data (one error line on
        stderr), 130 when interrupted.

    Examples
    --------
    >>> from skcardio.cli import main
    >>> main(["qc", "--only-flagged"])  # quality control of the embedded sample
    patient_id    inst  i  o   i_area   o_area  i_out_o  flags
    ----------------------------------------------------------
    SCD0000101     108  y  -   1106.9      nan      nan  missing_ocontour
    SCD0000201     107  y  -   1529.2      nan      nan  missing_ocontour
    SCD0000301      67  y  -   1834.1      nan      nan  missing_ocontour
    <BLANKLINE>
    15 contoured slice(s) checked, 3 flagged; 0 dataset item(s) skipped, not checked
         3 x missing_ocontour
    0
    """
    # Names that are not UTF-8 (undecodable bytes of a file name) print as \xNN, never as a traceback;
    # control characters (ESC, \r, C1) of names and values as escapes, never acted on by the terminal.
    with readable_streams(), printable_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    """:func:`main`, its streams set up."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _set_up_logging(verbose=args.verbose)
    global _command
    _command = args.command
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    reset_record(getattr(args, "out", None) or getattr(args, "csv", None))
    # Only the display changes (not showwarning, not the filters): callers that
    # record warnings or route them to logging still get them.
    # A process-wide setting, as warnings filters are: commands run one at a time per process.
    python_format = warnings.formatwarning
    try:
        warnings.formatwarning = _warning_format(args.command)
        with catching_signals():
            return int(args.func(args) or 0)
    except SkcardioError as exc:
        # Bad input data: one clear line naming the file, not a traceback.
        print(f"skcardio {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # Ctrl-C, SIGTERM or SIGHUP: outputs are staged and published all at
        # once with these signals held, so the output is either as before or
        # complete; say which. One line instead of Python's traceback, and the
        # shell's usual status, 128 + the signal number.
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(f"skcardio {args.command}: interrupted ({name}); {printable(interruption_state())}", file=sys.stderr)
        return 128 + signum
    finally:
        warnings.formatwarning = python_format
        _command = None


#: The running command, named by log lines (None between commands).
_command: str | None = None


def _set_up_logging(*, verbose: bool) -> None:
    """Show skcardio's progress (INFO; DEBUG with ``--verbose``) and every library's warnings.

    One handler on the root logger, as ``logging.basicConfig`` (a caller's
    own set-up, any handler there, is left alone), installed once and pointed
    at each command's ``sys.stderr`` (the one :func:`main` wraps): a later
    command in the same process (a notebook, tests) logs where its warnings
    and errors go, not to the first command's stream. Only the
    ``skcardio`` logger's level is set, never the root's: another library's
    INFO lines (torch's "FakeTensor cache stats" at exit) stay hidden, even
    under a root level set lower elsewhere (:class:`_SkcardioOrWarning`).
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h.formatter, _CommandFormatter)]
    if root.handlers and not ours:
        return
    if not ours:
        handler = logging.StreamHandler()
        handler.setFormatter(_CommandFormatter())
        handler.addFilter(_SkcardioOrWarning())
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        # Not setStream: it flushes the previous command's stream, which may be closed by now.
        with handler.lock:
            handler.stream = sys.stderr
    logging.getLogger("skcardio").setLevel(logging.DEBUG if verbose else logging.INFO)


class _SkcardioOrWarning(logging.Filter):
    """skcardio's records, and other libraries' warnings and errors (not their INFO or DEBUG lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _is_skcardio(record) or record.levelno >= logging.WARNING


def _is_skcardio(record: logging.LogRecord) -> bool:
    return record.name == "skcardio" or record.name.startswith("skcardio.")


class _CommandFormatter(logging.Formatter):
    """Log lines in the form of the command's warnings and errors: ``skcardio COMMAND: warning: ...``.

    Progress (INFO) reads ``skcardio COMMAND: ...``; with ``--verbose`` a
    debug line also names its logger, for the developer it is meant for.
    """

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"skcardio {_command}" if _command else "skcardio"
        message = _printable_message(record)
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if not _is_skcardio(record):  # another library's: not taken for skcardio's
            message = f"{record.name}: {message}"
        if record.levelno >= logging.WARNING:
            return f"{prefix}: {record.levelname.lower()}: {message}"
        if record.levelno < logging.INFO:
            return f"{prefix}: debug: {record.name}: {message}"
        return f"{prefix}: {message}"


def _printable_message(record: logging.LogRecord) -> str:
    """The record's message, the values put into it (``%s`` arguments: ids, paths) with every
    control character escaped, newlines included; the message's own lines are kept."""
    args = record.args
    if isinstance(args, tuple):
        args = tuple(a if isinstance(a, numbers.Number) else printable(a) for a in args)
    elif isinstance(args, dict):  # logger.info("%(name)s", {"name": ...})
        args = {k: v if isinstance(v, numbers.Number) else printable(v) for k, v in args.items()}
    try:
        message = str(record.msg) % args if args else str(record.msg)
    except (TypeError, ValueError, KeyError):  # as the record would: logging reports the call's error
        message = record.getMessage()
    return printable(message, newlines=True)


def _warning_format(command: str):
    """``warnings.formatwarning`` for the command line: a line naming the command, as its errors do.

    Python's own format adds the warning's source file, line and code, which
    speak to a developer, not to the user of ``skcardio COMMAND``; a warning
    that is not skcardio's keeps its category's name, so it is not taken for one,
    and its own lines (a traceback under scikit-learn's ``FitFailedWarning``).
    skcardio's warnings are one line each: the newlines of the names they quote
    are escaped.
    Advice in the Python API's terms is given in the command line's
    (:func:`~skcardio.cli._unet_options.warning_text`: ``--epochs``, not ``max_epochs``).
    """

    def format_warning(message, category, filename, lineno, line=None) -> str:
        if issubclass(category, SkcardioWarning):
            # skcardio's own: one line, quoting ids and file names whose newlines and tabs are escaped.
            return f"skcardio {command}: warning: {printable(warning_text(message))}\n"
        # Another library's keeps its lines (scikit-learn's FitFailedWarning and its tracebacks);
        # ESC, \r and the other controls are escaped all the same.
        return f"skcardio {command}: warning: {category.__name__}: {printable(warning_text(message), newlines=True)}\n"

    return format_warning


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
