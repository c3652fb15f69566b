"""``--trim-boundary [LEVEL]`` of ``skcardio predict`` and ``report``, and how the outputs record it."""

from __future__ import annotations

import argparse
import math

from ._arguments import unit_interval

__all__ = ["add_trim_argument", "trim_level", "algorithm_name", "level_text"]

#: ``--trim-boundary`` without a level, and no option where trimming is the default:
#: skcardio.segment.SUNNYBROOK_BOUNDARY_LEVEL, looked up when used (importing skcardio.segment would
#: slow every command's start). ``--no-trim-boundary``: no trimming. Each a distinct object, not a
#: string (argparse would pass a string ``const`` through ``type``) nor None: argparse tells that
#: two options of a mutually exclusive group were both given only by values that are not the default.
_EXPERT_LEVEL, _DEFAULT_LEVEL, _NO_TRIM = object(), object(), object()
#: The algorithm named in the DICOM SEG files and NIfTI headers.
ALGORITHM = "skcardio UNetSegmenter"


def add_trim_argument(parser: argparse.ArgumentParser, *, default: bool = False, note: str = "") -> None:
    """Add ``--trim-boundary [LEVEL]``; ``note`` ends its help (what else it changes).

    ``default=True``: the masks are trimmed at the experts' level unless
    ``--no-trim-boundary`` (also added, exclusive of ``--trim-boundary``) is given.
    """
    group = parser.add_mutually_exclusive_group() if default else parser
    group.add_argument(
        "--trim-boundary", nargs="?", type=unit_interval, const=_EXPERT_LEVEL, metavar="LEVEL",
        default=_DEFAULT_LEVEL if default else None,
        help="trim each blood-pool mask's rim pixels darker than LEVEL (0 to 1) on the scale myocardium 0, blood "
        "pool 1 (skcardio.segment.trim_dark_boundary); without LEVEL, where the Sunnybrook experts' i-contours "
        "run (skcardio.segment.SUNNYBROOK_BOUNDARY_LEVEL, 0.145); before the inputs, write "
        f"--trim-boundary=LEVEL. The level is written to the CSV files and named in the SEG and NIfTI files. {note}"
        + ("Default: trimmed at 0.145" if default else "Default: no trimming"),
    )
    if default:
        group.add_argument(
            "--no-trim-boundary", dest="trim_boundary", action="store_const", const=_NO_TRIM,
            default=_DEFAULT_LEVEL, help="do not trim: the masks as the model draws them",
        )


def trim_level(args: argparse.Namespace) -> float | None:
    """The level the options ask for, or None for no trimming."""
    if args.trim_boundary is _EXPERT_LEVEL or args.trim_boundary is _DEFAULT_LEVEL:
        from ..segment import SUNNYBROOK_BOUNDARY_LEVEL

        return SUNNYBROOK_BOUNDARY_LEVEL
    return None if args.trim_boundary is _NO_TRIM else args.trim_boundary


def level_text(level: float | None) -> str:
    """The level as written in the CSV files: empty without trimming, else 6 significant digits."""
    return "" if level is None or not math.isfinite(level) else f"{level:.6g}"


def algorithm_name(level: float | None) -> str:
    """The algorithm's name in the exported files, saying whether and where the masks were trimmed.

    At most 64 characters (a DICOM LO value): ``"skcardio UNetSegmenter, dark
    rim trimmed at 0.145"``.
    """
    return ALGORITHM if level is None else f"{ALGORITHM}, dark rim trimmed at {level_text(level)}"
