"""Argument types shared by the subcommands, and the one declaration of ``--threads`` and of ``--device``.

Each type raises ``argparse.ArgumentTypeError`` (or ``ValueError``), which argparse
reports as a one-line usage error with exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os

from .._methods import DEVICES

#: Seeds accepted by ``numpy.random.RandomState`` (``random_state``).
SEED_LIMIT = 2**32
#: Most PyTorch CPU threads ``--threads`` accepts: far above any machine's
#: cores, far below the C int (2**31 - 1) past which ``torch.set_num_threads``
#: fails with a traceback.
MAX_THREADS = 1024


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1 (argparse reports anything else as a usage error)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def threads(text: str) -> int:
    """``argparse`` type of ``--threads``: an integer from 1 to :data:`MAX_THREADS`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer number of threads, got {text}") from None
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"expected a number of threads from 1 to {MAX_THREADS}, got {text}")
    return value


def add_threads_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = "") -> None:
    """Add ``--threads`` (:func:`threads`), the one declaration every command uses.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argparse._ArgumentGroup
        Where the option goes.
    note : str, default=""
        Appended to the help, for a command where the option does not always
        apply (``"; with --method unet only"``).
    """
    # "PyTorch's choice", not a number: it depends on the machine and on the environment (OMP_NUM_THREADS).
    parser.add_argument(
        "--threads",
        type=threads,
        metavar="N",
        help=f"PyTorch CPU threads, 1 to {MAX_THREADS} (default: PyTorch's choice){note}",
    )


def apply_threads(count: int | None) -> None:
    """Give PyTorch ``count`` CPU threads (a ``--threads`` value); None leaves PyTorch's choice."""
    if count:
        import torch

        torch.set_num_threads(count)


def add_device_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = "") -> None:
    """Add ``--device``, the one declaration every command that trains or loads a U-Net uses.

    Left out, the value is None: the command uses ``"auto"`` (:func:`device_option`), and
    ``evaluate`` can tell the option given from its default.

    Parameters
    ----------
    parser : argparse.ArgumentParser or argparse._ArgumentGroup
        Where the option goes.
    note : str, default=""
        Appended to the help, for a command where the option does not always apply.
    """
    parser.add_argument(
        "--device", choices=DEVICES,
        help=f"where PyTorch runs the U-Net: auto (CUDA when available), cpu or cuda (default auto){note}",
    )


def device_option(args: argparse.Namespace) -> str:
    """The ``--device`` of ``args``, ``"auto"`` when left out.

    Raises
    ------
    ValueError
        ``argument --device: ...`` in the estimator's words, for ``cuda``
        where CUDA is not available: the command reports it (exit 2) before
        reading any data or model.
    """
    device = args.device or "auto"
    if device == "cuda":
        from ..segment._unet_runtime import resolve_device

        try:
            resolve_device(device)
        except ValueError as exc:
            raise ValueError(f"argument --device: {exc}") from None
    return device


def positive_float(text: str) -> float:
    """``argparse`` type: a finite number > 0."""
    value = _float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def fraction(text: str) -> float:
    """``argparse`` type: a number strictly between 0 and 1 (NaN is refused)."""
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text}")
    return value


def unit_interval(text: str) -> float:
    """``argparse`` type: a number from 0 to 1, both included (NaN is refused)."""
    value = _float(text, "a number between 0 and 1")
    if not 0 <= value <= 1:  # NaN fails too
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (inclusive), got {text}")
    return value


def seed(text: str) -> int:
    """``argparse`` type: an integer seed, 0 <= seed < 2**32."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text}") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"expected an integer seed with 0 <= seed < 2**32, got {text}")
    return value


def _float(text: str, expected: str = "a number") -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}") from None


def file_identity(path: str | os.PathLike) -> tuple:
    """What ``path`` is, to tell two names of one file or folder: its device and inode (links, ``DIR`` and
    ``./DIR``, hard links alike), else (a broken link, a loop: no file) the link itself, by its absolute
    path with its folder resolved: two links to one missing target are not one file."""
    try:
        info = os.stat(path)
    except OSError:
        folder, name = os.path.split(os.path.abspath(path))
        return ("path", os.path.join(os.path.realpath(folder), name))
    return ("inode", info.st_dev, info.st_ino)


def repeated_input(inputs: list[str]) -> tuple[str, str] | None:
    """The first input that names the same file or folder as an earlier one, with that one; None if none.

    Inputs that lead to no file (missing, a broken link, a loop) are passed over: each command says so
    in its words.
    """
    seen: dict[tuple, str] = {}
    for text in inputs:
        if not os.path.exists(text):
            continue
        key = file_identity(text)
        if key in seen:
            return text, seen[key]
        seen[key] = text
    return None
