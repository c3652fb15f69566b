"""Dataset arguments shared by ``train`` and ``evaluate``: any mix of DICOM layouts and image folders."""

from __future__ import annotations

import argparse
import logging
import os
import re
from pathlib import Path

__all__ = ["add_source_arguments", "load_sources", "source_options", "source_paths", "ROOT_HELP"]

ROOT_HELP = (
    "dataset folder, repeatable: a DICOM layout (link.csv, dicoms/, contourfiles/) or an image folder "
    "(images/ and labels/ of PNG/TIFF/JPEG files with the same names); several are used together, "
    "each patient its own group (default: the embedded sample)"
)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ROOT ...`` positionals, ``--groups`` and ``--pixel-spacing`` (:func:`source_options` reads them)."""
    parser.add_argument("roots", nargs="*", metavar="ROOT", help=ROOT_HELP)
    parser.add_argument(
        "--groups", type=_pattern, metavar="REGEX",
        help="where the patient id is in image-folder file names: a regular expression whose group "
        "'patient' (else its first group, else the whole match) is the id (default: Sunnybrook names "
        "SC-<pathology>-<n>-IM-0001-<nnnn>...)",
    )
    parser.add_argument(
        "--pixel-spacing", type=_pixel_spacing, metavar="MM",
        help="pixel size of the image folders' pictures in mm, which PNG, TIFF and JPEG do not carry: one "
        "number (square pixels) or ROW,COL, each within 0.001-50 (e.g. 1.3672, that of most Sunnybrook DICOMs); "
        "evaluate measures their APD, Hausdorff distance and mask areas with it (train only logs it: the U-Net "
        "learns from pixels). Image folders only, refused without one: DICOMs carry their own (default: "
        "unknown, no distances in mm for image folders)",
    )


def source_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`load_sources` from the options of :func:`add_source_arguments`."""
    return {"groups": args.groups, "pixel_spacing": args.pixel_spacing}


def _pixel_spacing(text: str) -> tuple[float, float]:
    """``--pixel-spacing`` value: ``MM`` or ``ROW,COL``, in the range a DICOM's PixelSpacing is held to."""
    from ..utils._validation import check_pixel_spacing

    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2):
        raise argparse.ArgumentTypeError(f"got {text!r}; expected one number of mm (square pixels) or ROW,COL")
    try:
        return check_pixel_spacing(values[0] if len(values) == 1 else tuple(values), "--pixel-spacing")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--pixel-spacing ")) from None


def _pattern(text: str) -> re.Pattern:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {exc}") from None


def is_image_folder(root: str | os.PathLike) -> bool:
    """A folder holding ``images/`` and ``labels/`` and no ``link.csv``."""
    root = Path(root)
    return (root / "images").is_dir() and (root / "labels").is_dir() and not (root / "link.csv").exists()


def source_paths(roots: list[str]) -> list[str]:
    """The folders that :func:`load_sources` reads for ``roots``: the ROOTs, or the embedded sample without any."""
    from ..datasets import get_sample_path

    return list(roots) or [str(get_sample_path())]


def load_sources(
    roots: list[str],
    *,
    require: str | None = None,
    groups: re.Pattern | None = None,
    pixel_spacing: tuple[float, float] | None = None,
):
    """Load every ROOT and concatenate them: ``(bunch, description)``.

    Without ROOT, the embedded sample. ``require`` is passed to
    :func:`~skcardio.datasets.load_dataset`; image folders have no
    o-contour, so ``require="o-contour"`` refuses them (``DatasetError``);
    their bad files are skipped (``on_error="skip"``), as a layout's.
    ``groups`` and ``pixel_spacing`` are passed to
    :func:`~skcardio.datasets.load_image_folder` for the image folders.
    Every ROOT's kind is checked before any is loaded: a folder given twice
    (its patients would count twice), one that is neither kind, an image
    folder where ``require`` asks for contours, and ``groups`` or
    ``pixel_spacing`` without an image folder (they would be silently
    ignored) are refused first.
    """
    from ..datasets import concat_datasets, get_sample_path, load_dataset, load_image_folder

    if not roots:
        _check_groups(roots, [], groups)
        _check_pixel_spacing(roots, [], pixel_spacing)
        return load_dataset(get_sample_path(), require=require), "embedded sample"
    _check_distinct(roots)
    images = {root: _is_images(root, require) for root in roots}
    _check_groups(roots, [root for root in roots if images[root]], groups)
    _check_pixel_spacing(roots, [root for root in roots if images[root]], pixel_spacing)
    loaded = {}
    for root in roots:
        if images[root]:
            kwargs = {} if groups is None else {"groups": groups}
            # A bad file is an error item (listed at the end, exit 1), as a bad DICOM of a layout.
            loaded[root] = load_image_folder(
                Path(root) / "images", Path(root) / "labels", on_error="skip", pixel_spacing=pixel_spacing, **kwargs
            )
        else:
            loaded[root] = load_dataset(root, require=require)
    if len(loaded) == 1:
        return loaded[roots[0]], os.fspath(roots[0])
    data = concat_datasets(loaded)
    logging.getLogger("skcardio.datasets").info(data.summary)  # the message: its lines are kept (names escaped)
    return data, ", ".join(os.fspath(r) for r in roots)


def _check_groups(roots: list[str], image_folders: list[str], groups: re.Pattern | None) -> None:
    """Refuse ``--groups`` when no ROOT is an image folder: DICOM layouts take the patient from link.csv."""
    from ..exceptions import DatasetError

    if groups is not None and not image_folders:
        given = ", ".join(map(os.fspath, roots)) or "the embedded sample"
        raise DatasetError(
            f"--groups '{groups.pattern}': finds the patient in image-folder file names, but no ROOT is an "
            f"image folder ({given}); DICOM layouts take the patient from link.csv: leave --groups out"
        )


def _check_pixel_spacing(roots: list[str], image_folders: list[str], spacing: tuple[float, float] | None) -> None:
    """Refuse ``--pixel-spacing`` when no ROOT is an image folder: DICOMs carry their own (PixelSpacing)."""
    from ..exceptions import DatasetError

    if spacing is not None and not image_folders:
        given = ", ".join(map(os.fspath, roots)) or "the embedded sample"
        shown = f"{spacing[0]:g}" if spacing[0] == spacing[1] else f"{spacing[0]:g},{spacing[1]:g}"
        raise DatasetError(
            f"--pixel-spacing {shown}: gives the pixel size of image-folder pictures, but no ROOT is an image "
            f"folder ({given}); DICOMs carry their own spacing (PixelSpacing (0028,0030)): leave --pixel-spacing out"
        )


def _is_images(root: str, require: str | None) -> bool:
    """Whether ``root`` is an image folder (else a DICOM layout); a ROOT of neither kind, or unusable, refused."""
    from ..datasets._layout import layout_kind
    from ..exceptions import DatasetError

    _check_readable(root)
    if is_image_folder(root):
        if require is not None:
            raise DatasetError(
                f"{root}: an image folder has labels only, no {require}; expected a DICOM layout "
                "with link.csv (the classical methods segment inside the o-contour: use --method unet)"
            )
        return True
    if not layout_kind(root):
        raise DatasetError(
            f"{root}: neither a DICOM dataset folder (no link.csv, nor the Sunnybrook download's "
            "SCD_DeidentifiedImages/ and SCD_ManualContours/) nor an image folder (no images/ and labels/ "
            "folders); expected one of them"
        )
    return False


def _check_readable(root: str) -> None:
    """Refuse a ROOT that is missing, a file, or a folder that cannot be listed, naming it.

    First of the checks: telling an unreadable folder's kind would raise PermissionError.
    """
    from .._folders import folder_problem, list_folder
    from ..exceptions import DatasetError

    try:
        list_folder(root)
    except (FileNotFoundError, NotADirectoryError):
        from ..datasets import scan_layout

        scan_layout(root)  # refuses a missing ROOT or a file at once, in its words (link.csv given: its folder named)
    except OSError as exc:
        raise DatasetError(f"{root}: {folder_problem(exc)}; expected a dataset folder") from None


def _check_distinct(roots: list[str]) -> None:
    from ..exceptions import DatasetError

    seen: dict[str, str] = {}
    for root in roots:
        key = os.path.realpath(root)
        if key in seen:
            raise DatasetError(f"{root}: given twice (also as {seen[key]}); expected each dataset folder once")
        seen[key] = root
