"""``skcardio qc ROOT``: quality control of a dataset's contours."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._output import out_file

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``qc`` sub-command."""
    parser = subparsers.add_parser(
        "qc",
        help="check every contoured slice of a dataset folder",
        description="Check contours: i-contour outside o-contour, points outside the image, "
        "degenerate polygons, size mismatches, slices with only one contour.",
    )
    parser.add_argument("root", nargs="?", help="dataset folder with link.csv (default: the embedded sample)")
    parser.add_argument("--csv", type=out_file, metavar="FILE", help="also write the per-slice table as CSV")
    parser.add_argument("--only-flagged", action="store_true", help="print only slices with a flag")
    parser.add_argument(
        "--max-outside", type=float, default=0.01, metavar="FRACTION",
        help="fraction of i-contour pixels allowed outside the o-contour (default 0.01)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run QC and print the table and the summary; exit code 0."""
    from ..datasets import get_sample_path
    from ..qc import check_dataset

    report = check_dataset(args.root or get_sample_path(), max_outside_fraction=args.max_outside)
    print(report.format_table(only_flagged=args.only_flagged))
    print()
    print(report.summary())
    if args.csv:
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)  # out_file allows a new folder
        report.to_csv(args.csv)
        print(f"wrote {args.csv}", file=sys.stderr)
    return 0
