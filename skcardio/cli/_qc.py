"""``skcardio qc ROOT``: quality control of a dataset's contours."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._text import printable
from ._arguments import unit_interval
from ._output import check_outside_inputs, out_file
from ._problems import report_problems, skipped_files
from ._staging import atomic_file

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``qc`` sub-command."""
    parser = subparsers.add_parser(
        "qc",
        help="check every contoured slice of a dataset folder",
        description="Check contours: i-contour outside o-contour, points outside the image, "
        "degenerate polygons, size mismatches, slices with only one contour; and list what "
        "the dataset layout could not use (malformed link.csv rows, missing or unlinked "
        "folders, contours without a DICOM, misnamed or stray files and folders).",
    )
    parser.add_argument("root", nargs="?", help="dataset folder with link.csv (default: the embedded sample)")
    parser.add_argument("--csv", type=out_file, metavar="FILE", help="also write the per-slice table as CSV (outside the dataset folder)")
    parser.add_argument("--only-flagged", action="store_true", help="print only slices with a flag")
    parser.add_argument(
        "--max-outside", type=unit_interval, default=0.01, metavar="FRACTION",
        help="fraction (0 to 1) of i-contour pixels allowed outside the o-contour (default 0.01)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run QC and print the tables and the summary; exit code 0, 1 when files were unreadable (listed at the end)."""
    from ..datasets import get_sample_path
    from ..qc import check_dataset

    root = args.root or get_sample_path()
    # --csv was tried for writing when the options were parsed (out_file); inside the dataset it is refused
    # (OutputError, exit 2): it could replace link.csv or a contour file.
    if args.csv:
        check_outside_inputs(args.csv, [root], option="--csv")
    report = check_dataset(root, max_outside_fraction=args.max_outside)
    print(report.format_table(only_flagged=args.only_flagged))
    if report.skipped:
        print()
        print(report.format_skipped())
    print()
    print(report.summary())
    if args.csv:
        # Through a temporary file: a failure leaves no partial CSV (OutputError, exit 2).
        with atomic_file(Path(args.csv), "qc") as tmp:
            report.to_csv(tmp)
        print(f"wrote {printable(args.csv)}", file=sys.stderr)
    problems = skipped_files(report.skipped) + [
        (s.dicom_path, flag) for s in report.slices for flag in s.flags if flag.startswith("unreadable_")
    ]
    report_problems("skipped", problems)
    return 1 if problems else 0
