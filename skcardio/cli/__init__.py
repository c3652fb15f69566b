"""The ``skcardio`` command-line interface.

Each sub-command lives in its own private module exposing
``register(subparsers)``, which adds an :mod:`argparse` sub-parser whose
``func`` default is called with the parsed arguments and returns an exit code.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
