"""``skcardio predict [MODEL] DICOM_OR_DIR... --out DIR``: segment DICOM slices with a U-Net (the shipped one by default)."""

from __future__ import annotations

import argparse
import csv
import errno
import logging
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .._files import picture_format
from .._folders import walk_folder
from .._text import printable, readable, some_named, text_file
from ._arguments import (
    add_device_argument,
    add_threads_argument,
    apply_threads,
    device_option,
    file_identity,
    positive_int,
    repeated_input,
)
from ._output import check_destinations, check_outside_inputs, out_dir
from ._output_names import safe_name, unique_names
from ._problems import _LISTED, report_problems
from ._progress import PROGRESS_HELP
from ._progress import progress as progress_bar
from ._records import record_column
from ._series import (
    SERIES_CSV,
    SeriesSlices,
    check_extras,
    check_series_index,
    earlier_series_outputs,
    not_written,
    write_series_outputs,
)
from ._series import add_arguments as add_series_arguments
from ._staging import publish, staging
from ._trim_option import add_trim_argument, level_text, trim_level

__all__ = ["register", "collect_dicoms"]

logger = logging.getLogger("skcardio.cli.predict")

#: Columns of ``predictions.csv``: the mask's area, then the confidence and
#: flags of :func:`skcardio.qc.assess_predictions` (flags as 0/1; with
#: ``--trim-boundary`` the confidence is the untrimmed masks',
#: :func:`skcardio.qc.prediction_confidence`), then the level (empty without it).
CSV_FIELDS = (
    "dicom_path", "output_stem", "area_px", "area_mm2", "contour_points",
    "confidence", "empty", "several_components", "touches_border", "implausible_area", "flagged",
    "boundary_level",
)

#: What follows an output stem in the name of each file written for a slice.
_SUFFIXES = ("_mask.npy", "_mask.png", "_contour.txt", "_overlay.png")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` sub-command."""
    parser = subparsers.add_parser(
        "predict",
        help="segment the blood pool of DICOM slices (the shipped pretrained U-Net, or a model from 'skcardio train')",
        description=(
            "Segment the left-ventricle blood pool of every DICOM file given (folders are "
            "searched recursively for *.dcm; name files without that extension directly; each file once: one reached "
            "twice is refused; pictures such as PNG are not read: see UNetSegmenter.predict) with the pretrained U-Net "
            "shipped with skcardio "
            "(UNetSegmenter.pretrained()), or with a model written by 'skcardio train' given as "
            "--model FILE or as a first argument ending in .pt. For "
            "each slice, writes to --out: STEM_mask.png (0/255), STEM_mask.npy (bool), "
            "STEM_contour.txt (one 'x y' point per line, x = column, y = row, like the "
            "expert contour files; not written for an empty mask) and STEM_overlay.png; and "
            "predictions.csv with the area, the confidence (0-1) and the flags (empty, "
            "several_components, touches_border, implausible_area, flagged) of every mask. "
            "With --dicom-seg and --nifti, also the masks of each series in these standard "
            "formats, placed by the DICOM geometry and listed in series.csv. Files inside a folder argument "
            "keep the folder's name and their path inside it (e.g. SCD0000101/48_mask.png); folder arguments "
            "of one name (compared ignoring case) keep as many of their parent folders' names as tell them apart, "
            "the same number for each (cohort/P001/DICOM and cohort/P002/DICOM: P001/DICOM/48_mask.png, "
            "P002/DICOM/48_mask.png), and so do files of one name given directly (a/P1/1.dcm and b/P1/1.dcm: "
            "a/P1/1_mask.png, b/P1/1_mask.png). A file whose "
            "name another's outputs still take (compared ignoring case: X.dcm and X.DCM) gets _2, _3..., a name "
            "too long for a file name is shortened with a hash, said in a warning (several: one line, "
            "counting them). A DICOM SEG is skipped (not an "
            "image). --out must lie outside the input folders; a folder where an output file goes is refused "
            "before any slice is segmented. --out is written only once every slice "
            "is done; the slice files listed by an earlier predictions.csv there and not "
            "written again are removed, and so are the series files of an earlier predict's series.csv "
            "(never those of a series.csv that skcardio report's report.json lists); no other file. When no "
            "slice could be segmented, --out is left as it was."
        ),
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="DICOM_OR_DIR",
        help="DICOM files or folders; a first argument ending in .pt is the model file (as --model), "
        "and a second model file is refused",
    )
    parser.add_argument(
        "--model", metavar="FILE",
        help="model file written by 'skcardio train' (default: the shipped pretrained U-Net)",
    )
    parser.add_argument(
        "--out", required=True, type=out_dir, metavar="DIR", help="output folder (created), outside the input folders"
    )
    parser.add_argument("--batch-size", type=positive_int, default=16, metavar="N", help="slices per batch (default 16)")
    parser.add_argument("--no-overlay", action="store_true", help="do not write overlay images")
    add_series_arguments(parser)
    add_trim_argument(
        parser, note="Masks, contours, areas and flags are the trimmed ones; the confidence is the untrimmed mask's "
        "(the one its ranking of bad slices was measured on). ",
    )
    parser.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
    add_device_argument(parser)
    add_threads_argument(parser)
    parser.set_defaults(func=run)


def collect_dicoms(
    inputs: list[str], notes: list[tuple[str, str]] | None = None, *, unreadable: list[tuple[str, str]] | None = None
) -> list[tuple[Path, Path]]:
    """``(dicom file, output stem)`` pairs for files and folders, in a stable order.

    A file ``a/b/48.dcm`` given directly has the stem ``48``; inside a folder
    argument ``d``, ``d/x/48.dcm`` has the stem ``d/x/48`` (``d`` being the
    folder's name), so slices of different patients never share an output.
    Folder arguments of one name (``cohort/P001/DICOM``, ``cohort/P002/DICOM``),
    and files of one name given directly, keep as many of their parent
    folders' names as tell them apart (``P001/DICOM/48``, ``P002/DICOM/48``;
    :func:`_input_tails`).
    Each part of a stem goes through :func:`~skcardio.cli._output_names.safe_name`
    (``..dcm`` gives ``_``, control characters become ``_``, a byte of a name that is
    not UTF-8 ``_xNN``), so no output
    lands outside ``--out``. Stems are then made distinct, ignoring case, and
    short enough for a file name by :func:`~skcardio.cli._output_names.unique_names`:
    a later file whose stem is still taken (``X.dcm`` and ``X.DCM`` of one
    folder both give ``X``) gets ``X_2``, and a name too long gets its start
    and a hash; each such change is appended to ``notes`` as ``(file, what)``. A folder that cannot be read
    (permission denied, at any depth) is appended to ``unreadable`` as
    ``(folder, reason)``; the files of the others are listed.

    Raises
    ------
    FileNotFoundError
        If an input does not exist or a folder has no ``*.dcm`` file (a
        folder's other files, outputs of an earlier run among them, are not
        read: files without the extension are named directly).
    ValueError
        If a file given is a picture (PNG, JPEG, TIFF, by its signature or
        name) or a folder holds pictures and no ``*.dcm`` file: the message
        says where pictures are read and segmented. If one file would be
        read twice: an input given twice (``DIR DIR``, ``DIR ./DIR``), a file
        given besides the folder that holds it, or two names of one file
        (links); it would be segmented twice and counted as another cardiac
        phase of its position. The message names both paths.
    OSError
        If a folder cannot be read and ``unreadable`` is None.
    """
    _check_distinct_inputs(inputs)
    listed: list[tuple[Path, list[Path] | None]] = []  # each input, and the files of a folder
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            # *.dcm in any case; a folder named so is listed too, to be reported, not passed over.
            entries, problems = walk_folder(path)
            if problems and unreadable is None:
                raise OSError(f"{problems[0][0]}: {problems[0][1]}")
            if problems:
                unreadable += problems
            files = sorted((f for f in entries if f.name.lower().endswith(".dcm")), key=_natural_key)
            if not files and not problems:
                pictures = [f for f in entries if picture_format(b"", f.name) and f.is_file()]
                if pictures:
                    raise ValueError(
                        f"{path}: folder has no *.dcm file but {len(pictures)} picture(s) (PNG/JPEG/TIFF, e.g. "
                        f"{pictures[0].name}): {_PICTURES}"
                    )
                raise FileNotFoundError(
                    f"{path}: folder has no *.dcm file; name DICOM files without that extension one by one, "
                    "or use skcardio report, which reads every file of a study's folder"
                )
            listed.append((path, files))
        elif path.exists():
            picture = _picture(path)
            if picture:
                raise ValueError(f"{path}: a {picture} image, not a DICOM file: {_PICTURES}")
            listed.append((path, None))
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    pairs: list[tuple[Path, Path]] = []
    origins: list[str] = []  # the input each file comes from
    for text, (path, files), tail in zip(inputs, listed, _input_tails(listed)):
        if files is None:
            pairs.append((path, _stem(*tail)))
        else:
            # relative_to the path given, not resolved: a linked file may lead anywhere.
            pairs += [(f, _stem(*tail, *f.relative_to(path).parent.parts, _without_dcm(f.name))) for f in files]
        origins += [text] * (1 if files is None else len(files))
    _check_distinct_files([file for file, _ in pairs], origins)
    room = max(len(suffix) for suffix in _SUFFIXES)
    holders = {}  # the first file of each stem, named when a later one is renamed
    for file, stem in pairs:
        holders.setdefault(str(stem).lower(), file)
    named = []
    for (file, stem), (unique, why) in zip(pairs, unique_names([stem for _, stem in pairs], room=room)):
        if why and notes is not None:
            holder = holders[str(stem).lower()]
            why += f" ({holder})" if holder != file else ""
            notes.append((str(file), f"outputs named {unique}: {why}"))
        named.append((file, unique))
    return named


#: Where pictures go instead, said when predict is given one (or a folder of them).
_PICTURES = (
    "predict reads DICOM files only. Segment pictures in Python with UNetSegmenter.pretrained().predict(images), "
    "the images read with skcardio.datasets.load_image_folder (a folder of images/ and labels/ of the same names; "
    "docs/data.md, 'Image folders') or, without labels, with imageio; 'skcardio evaluate ROOT --method unet "
    "--model FILE' scores a model on such a ROOT"
)


def _picture(path: Path) -> str | None:
    """The picture format of the file ``path`` (:func:`skcardio._files.picture_format`), or None.

    Only a regular file is opened (a pipe would wait for a writer); one that
    cannot be read, or another kind of file, is None here: reading it says why.
    """
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return None
    return picture_format(head, path.name)


#: What reading one file twice does, said by the refusals.
_TWICE = ("an image given twice would be segmented twice, and its series files (--dicom-seg, --nifti) would "
          "count it as another cardiac phase")


def _check_distinct_inputs(inputs: list[str]) -> None:
    """Refuse an input that names the same file or folder as an earlier one (``DIR DIR``, ``DIR ./DIR``)."""
    repeated = repeated_input(inputs)
    if repeated:
        raise ValueError(
            f"{repeated[0]}: given twice (also as {repeated[1]}); expected each DICOM file or folder once: {_TWICE}"
        )


def _check_distinct_files(files: list[Path], origins: list[str]) -> None:
    """Refuse two of ``files`` that are one file (a file given besides its folder, two links to it)."""
    seen: dict[tuple, int] = {}
    for i, file in enumerate(files):
        key = file_identity(file)
        if key not in seen:
            seen[key] = i
            continue
        j = seen[key]
        if origins[i] == origins[j]:
            where, fix = f"both in {origins[i]}", "name the files of the folder one by one, each once"
        else:
            where, fix = f"from the inputs {origins[j]} and {origins[i]}", "leave one of the inputs out"
        raise ValueError(f"{file}: the same file as {files[j]} ({where}); expected each DICOM file once: {_TWICE}; {fix}")


def _input_tails(listed: list[tuple[Path, list[Path] | None]]) -> list[tuple[str, ...]]:
    """The first parts of the stems of each input: a folder's name, a file's name without ``.dcm``.

    Inputs whose stems would start alike (folders of one name, ignoring
    case: ``cohort/P001/DICOM`` and ``cohort/P002/DICOM``; files of one
    name given directly: ``a/P1/1.dcm`` and ``b/P1/1.dcm``) keep as many of
    their last folders' names (of the resolved path) as tell them apart,
    the same number for all of them: ``P001/DICOM`` and ``P002/DICOM``,
    ``a/P1/1`` and ``b/P1/1``. Folders and files are apart anyway (a
    folder's outputs lie inside a folder, a file's beside it). Paths that
    no number of names tells apart (``X.dcm`` and ``X.DCM`` in one folder)
    keep as few as tell apart the others, and are left to
    :func:`~skcardio.cli._output_names.unique_names`.
    """
    folders = {i: path.resolve() for i, (path, files) in enumerate(listed) if files is not None}
    lasts = [(files is not None, _key(folders[i].name if files is not None else _without_dcm(path.name)))
             for i, (path, files) in enumerate(listed)]
    counts = Counter(lasts)
    resolved_parents: dict[Path, tuple[str, ...]] = {}  # many files of one folder given directly
    paths = []
    for i, ((path, files), last) in enumerate(zip(listed, lasts)):
        if files is not None:
            paths.append(_parts(folders[i]) if counts[last] > 1 else (folders[i].name,))
        elif counts[last] > 1:
            if path.parent not in resolved_parents:
                resolved_parents[path.parent] = _parts(path.parent.resolve())
            paths.append((*resolved_parents[path.parent], _without_dcm(path.name)))
        else:
            paths.append((_without_dcm(path.name),))
    # Folders and files in separate groups: the last part of a file's path is its stem, not a folder.
    return _distinct_tails(paths, kinds=[folder for folder, _ in lasts])


def _distinct_tails(paths: list[tuple[str, ...]], kinds: list | None = None) -> list[tuple[str, ...]]:
    """The last part of each of ``paths``, or, for paths of one last part (and kind), as many as tell them apart.

    Parts are compared as the output names they give, ignoring case. A group
    of paths takes the fewest last parts that tell apart as many of them as
    their whole paths do (see :func:`_input_tails`).
    Examples
    --------
    >>> _distinct_tails([("c", "P1", "DICOM"), ("c", "P2", "DICOM"), ("c", "P1", "other")])
    [('P1', 'DICOM'), ('P2', 'DICOM'), ('other',)]
    >>> _distinct_tails([("a", "x", "P1", "D"), ("b", "x", "P1", "D"), ("P2", "D")])
    [('a', 'x', 'P1', 'D'), ('b', 'x', 'P1', 'D'), ('P2', 'D')]
    """

    keys = [tuple(_key(part) for part in parts) for parts in paths]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        groups[(None if kinds is None else kinds[i], key[-1:])].append(i)
    tails = [parts[-1:] for parts in paths]
    for members in groups.values():
        if len(members) < 2:
            continue
        apart = len({keys[i] for i in members})  # as far apart as they get
        depth = 1
        while len({keys[i][-depth:] for i in members}) < apart:
            depth += 1
        for i in members:
            tails[i] = paths[i][-depth:]
    return tails


def _parts(resolved: Path) -> tuple[str, ...]:
    """The names of ``resolved``'s folders, the root (``/``, ``C:\\``) left out; ``("",)`` for the root itself."""
    parts = resolved.parts[1:] if resolved.anchor else resolved.parts
    return parts or ("",)


def _key(part: str) -> str:
    """``part`` as an output name compares with others: made safe (see :func:`_stem`), ignoring case."""
    return safe_name(readable(part)).lower()


def _stem(*parts: str) -> Path:
    """An output stem from its parts, each made readable, then safe (see :func:`safe_name`).

    Parts as strings, not a Path: ``Path("d") / "."`` (the stem of ``..dcm``) would drop the part.
    A byte that is not UTF-8 becomes ``_xNN`` (:func:`readable`'s ``\\xNN``, its backslash made ``_``),
    so that ``predictions.csv`` names the output files as they are.
    """
    return Path(*(safe_name(readable(part)) for part in parts))


def _without_dcm(name: str) -> str:
    """A file name without its ``.dcm`` (any case) only: ``1.2.840.1`` and ``1.2.840.10`` stay apart."""
    stem = Path(name)
    return stem.stem if stem.suffix.lower() == ".dcm" else name


def _natural_key(path: Path) -> tuple:
    """Sort ``2.dcm`` before ``10.dcm``, and any names together (``1.dcm``, ``a.dcm``, ``IM-0001-0048.dcm``)."""
    # Each part becomes [text, number, text, ...], always starting with text,
    # so numbers are only ever compared with numbers (int < str raised TypeError).
    natural = tuple(
        [int(chunk) if i % 2 else chunk for i, chunk in enumerate(re.split(r"(\d+)", part))]
        for part in (*path.parts[:-1], _without_dcm(path.name))
    )
    return natural, path.parts  # 01.dcm and 1.dcm: by name, not by the file system's listing order


def _refused_target(target: str, dicom_seg: bool, trim: bool = False) -> str | None:
    """Why a model of ``target`` cannot give this command's outputs, or None.

    The outputs are one mask per image, and a DICOM SEG's segment is coded as
    the LV blood pool; the trim's contrast scale runs from myocardium to
    blood pool, so it applies to blood-pool masks only.
    """
    if target == "both":
        return ("a model of target 'both' gives two masks per image (blood pool, epicardium); predict "
                "writes one: use 'skcardio report' or UNetSegmenter.predict")
    if target == "epicardium" and dicom_seg:
        return ("a model of target 'epicardium': --dicom-seg writes the segment as the LV blood pool; "
                "leave --dicom-seg out")
    if target == "epicardium" and trim:
        return ("a model of target 'epicardium': --trim-boundary trims a blood pool's dark rim, and an "
                "epicardial mask's rim is the myocardium; leave --trim-boundary out")
    return None


def run(args: argparse.Namespace) -> int:
    """Predict and write the outputs; exit code 1 if some files were skipped (listed at the end) or none
    could be segmented (--out then left as it was), 2 for unusable inputs, model or --out, and for a
    second model file (an input ending in .pt besides --model or a first .pt argument)."""
    from ..segment import UNetSegmenter

    try:
        device = device_option(args)  # --device cuda without CUDA: refused before anything is read
    except ValueError as exc:
        print(f"skcardio predict: error: {printable(exc)}", file=sys.stderr)
        return 2
    inputs, model_file = list(args.inputs), args.model
    if model_file is None and inputs[0].endswith(".pt"):  # the form 'predict MODEL.pt DICOM...'
        model_file = inputs.pop(0)
    second = next((text for text in inputs if text.endswith(".pt")), None)
    if model_file is not None and second is not None:  # it would be read as a DICOM and skipped
        given = "--model" if args.model is not None else "the first argument"
        print(
            f"skcardio predict: error: {printable(second)}: a second model file; the model is {printable(model_file)} ({given}), "
            "and predict takes one model file, then DICOM files or folders",
            file=sys.stderr,
        )
        return 2
    if not inputs:
        print("skcardio predict: error: no DICOM file or folder given after the model", file=sys.stderr)
        return 2
    renamed: list[tuple[str, str]] = []
    unreadable: list[tuple[str, str]] = []  # folders: reported with the files skipped
    try:
        pairs = collect_dicoms(inputs, renamed, unreadable=unreadable)
    except (FileNotFoundError, ValueError) as exc:  # a missing input, one file given twice
        print(f"skcardio predict: error: {printable(exc)}", file=sys.stderr)
        return 2
    # --out inside an input folder: the next run would segment this one's outputs (OutputError: exit 2).
    out = Path(args.out)
    # Names generated, not listed: a list of them all would take ~400 bytes a slice.
    check_outside_inputs(out, inputs, (f"{stem}{suffix}" for _, stem in pairs for suffix in _SUFFIXES))
    # Before the slow part, as report and evaluate: a folder squatting on an output name fails now.
    check_destinations(out, _output_names(pairs, args))
    missing = check_extras(args)
    if missing:
        print(f"skcardio predict: error: {printable(missing)}", file=sys.stderr)
        return 2
    # Another command's series.csv must not be replaced: its series files would be tracked by nobody.
    check_series_index(out, "predict", writes=args.dicom_seg or args.nifti)
    if model_file is None:
        model = UNetSegmenter.pretrained(device=device)
    else:
        model = UNetSegmenter.load(model_file, device=device)
    refused = _refused_target(getattr(model, "target_", "endocardium"), args.dicom_seg, args.trim_boundary is not None)
    if refused:
        print(f"skcardio predict: error: {printable(model_file)}: {printable(refused)}", file=sys.stderr)
        return 2
    apply_threads(args.threads)
    level = trim_level(args)
    series_failed = []
    # Listed at the end, at most _LISTED of each: the others are counted (a cohort's files may all be skipped).
    failed, notes = _FirstOnes(unreadable), _FirstOnes(_renames(renamed))  # renamed outputs said in one line
    with staging(out, "predict") as stage:
        with _Staged(stage, series=args.dicom_seg or args.nifti) as staged:
            _predict_into(staged, pairs, model, args, level, failed=failed, notes=notes)
            staged.close_rows()
            if staged.rows:  # nothing segmented: --out keeps the earlier run's outputs
                series_failed = write_series_outputs(stage, staged.series, dicom_seg=args.dicom_seg, nifti=args.nifti,
                                                     boundary_level=level, out=out)
        if staged.rows:
            publish(stage, out, owned=lambda: _owned_now(out, writes_series=args.dicom_seg or args.nifti))
    rows = staged.rows
    print(
        (f"segmented {rows} slice(s) into {printable(out)}" if rows else f"segmented no slice: {printable(out)} left unchanged")
        + (f"; {len(failed)} skipped" if failed else "")
        + (f"; {not_written(series_failed)}" if series_failed else "")
    )
    report_problems("skipped", failed)
    report_problems("warning", notes)
    return 1 if failed or series_failed or not rows else 0


#: Renamed outputs that the warning summing them up names; the others are counted.
_RENAMES_NAMED = 3


def _renames(renamed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The warnings of outputs renamed by :func:`collect_dicoms`: itself for one, else one line summing them up.

    Examples
    --------
    >>> _renames([("a/X.DCM", "outputs named a/X_2: a/X is already the name of another output (a/X.dcm)")])
    [('a/X.DCM', 'outputs named a/X_2: a/X is already the name of another output (a/X.dcm)')]
    >>> _renames([(f"{k}/1.dcm", f"outputs named 1_{k}: 1 is already the name of another output (0/1.dcm)")
    ...           for k in range(2, 7)])[0][1]  # doctest: +NORMALIZE_WHITESPACE
    "outputs renamed (5 as their name was another's, ignoring case; 0 as too long for a file system);
    predictions.csv maps each file to its output_stem: 2/1.dcm as 1_2, 3/1.dcm as 1_3, 4/1.dcm as 1_4 and 2 more"
    """
    if len(renamed) < 2:
        return renamed
    too_long = sum("too long for a file system" in what for _, what in renamed)
    shown = [f"{file} as {what.removeprefix('outputs named ').split(': ', 1)[0]}"
             for file, what in renamed[:_RENAMES_NAMED + 1]]
    listed = some_named(shown, _RENAMES_NAMED, total=len(renamed))
    return [(f"{len(renamed)} files", (
        f"outputs renamed ({len(renamed) - too_long} as their name was another's, ignoring case; {too_long} as too "
        f"long for a file system); predictions.csv maps each file to its output_stem: {listed}"
    ))]


def _output_names(pairs: list[tuple[Path, Path]], args: argparse.Namespace) -> Iterator[str]:
    """The files predict may write in ``--out`` (not the series files, named once their headers are read).

    Given one by one, not listed: a list of them all would take ~400 bytes a slice.
    """
    suffixes = [suffix for suffix in _SUFFIXES if not (args.no_overlay and suffix == "_overlay.png")]
    yield "predictions.csv"
    yield from (f"{stem}{suffix}" for _, stem in pairs for suffix in suffixes)
    if args.dicom_seg or args.nifti:
        yield SERIES_CSV


class _FirstOnes:
    """``(file, reason)`` pairs as :func:`report_problems` lists them: the first :data:`_LISTED` kept, all counted.

    ``len`` is the count of all appended; indexing and iterating see the
    ones kept. One pair a slice at most, but as many as the slices.
    """

    def __init__(self, first: Iterable[tuple[str, str]] = ()) -> None:
        self._kept: list[tuple[str, str]] = []
        self._count = 0
        for item in first:
            self.append(item)

    def append(self, item: tuple[str, str]) -> None:
        if len(self._kept) < _LISTED:
            self._kept.append(item)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._kept)

    def __getitem__(self, index):
        return self._kept[index]


class _Staged:
    """What predict has staged, as it goes: ``predictions.csv`` and the slices of the series files.

    Each row of ``predictions.csv`` is written to the staged file as it
    comes, and the file flushed after every batch (:meth:`flush`); with
    ``series`` (``--dicom-seg``, ``--nifti``) each slice is noted in a
    :class:`~skcardio.cli._series.SeriesSlices` (on disk). In memory stays
    the count of rows, ``rows``. Use it in a ``with`` block.
    """

    def __init__(self, stage: Path, *, series: bool) -> None:
        self.stage, self.rows = stage, 0
        self._handle = text_file(stage / "predictions.csv")
        self._writer = csv.DictWriter(self._handle, fieldnames=CSV_FIELDS)
        self._writer.writeheader()
        self.series = None
        try:
            self.series = SeriesSlices(stage) if series else None
        except BaseException:
            self._handle.close()
            raise

    def add(self, row: dict, dicom, stem: Path) -> None:
        """Write ``row``, the slice of the ``DicomSlice`` ``dicom`` staged as ``stem``."""
        self._writer.writerow(row)
        self.rows += 1
        if self.series is not None:
            self.series.add(dicom, stem)

    def flush(self) -> None:
        self._handle.flush()

    def close_rows(self) -> None:
        """Close ``predictions.csv``: it is complete (the series slices stay)."""
        self._handle.close()

    def __enter__(self) -> _Staged:
        return self

    def __exit__(self, *exc_info) -> None:
        self._handle.close()
        if self.series is not None:
            self.series.close()


def _predict_into(
    staged: _Staged, pairs: list[tuple[Path, Path]], model, args: argparse.Namespace, level: float | None = None,
    *, failed: list[tuple[str, str]] | _FirstOnes, notes: list[tuple[str, str]] | _FirstOnes,
) -> None:
    """Write the outputs of every usable slice under ``staged.stage``, and its row of ``predictions.csv``.

    Batch by batch, nothing of a slice kept once it is written: its files,
    its row (``staged.add``) and, for the series files, where its mask is.
    A file that cannot be read, is larger than ``max_predict_pixels`` or
    cannot be segmented (out of memory...) is skipped, its reason appended
    to ``failed``; the others are all written. Warnings are appended to
    ``notes``. ``level``: the masks' dark rim is trimmed there
    (``--trim-boundary``, resolved by :func:`trim_level`), or not at all.
    """
    from ..qc import assess_predictions, prediction_confidence

    stage = staged.stage
    # A bar on a terminal, a line a minute in a batch job's log.
    progress = progress_bar(total=len(pairs), unit="slice", desc="predict", hidden=args.no_progress)
    for begin in range(0, len(pairs), args.batch_size):
        batch = []
        for file, stem in pairs[begin : begin + args.batch_size]:
            dicom, problem = _read(file)
            if problem:
                failed.append((str(file), problem))
                logger.debug("%s: %s", file, problem)  # listed at the end
                progress.update()
            else:
                batch.append((dicom, stem))
        # Slices of one batch are stacked only with others of the same size.
        for shape in dict.fromkeys(dicom.image.shape for dicom, _ in batch):
            same = [(dicom, stem) for dicom, stem in batch if dicom.image.shape == shape]
            done = _segment(model, same, failed)
            untrimmed = [mask for _, mask, _ in done]
            if done and level is not None:
                done, untrimmed = _trim(done, level, failed)
            if done:
                masks = np.stack([mask for _, mask, _ in done])
                proba = np.stack([p for _, _, p in done])
                spacing = [dicom.pixel_spacing for (dicom, _), _, _ in done]
                quality = assess_predictions(masks, proba, pixel_spacing=spacing)
                if level is not None:
                    # The confidence of the network's own masks: the one whose ranking of bad slices was
                    # measured (a trimmed mask drops its least probable pixels and looks surer).
                    quality["confidence"] = prediction_confidence(np.stack(untrimmed), proba)
            for index, ((dicom, stem), mask, _) in enumerate(done):
                try:
                    row = _write_outputs(stage, stem, dicom, mask, overlay=not args.no_overlay, notes=notes)
                except OSError as exc:
                    if exc.errno != errno.ENAMETOOLONG:
                        raise  # disk full...: the whole run fails, --out unchanged
                    _remove_outputs(stage, stem)  # this slice, not the batch
                    failed.append((str(dicom.path), f"its output path {stem}_... is too long for the file system "
                                                    f"({exc.strerror}); give a shorter folder"))
                    continue
                row.update({name: _csv_value(values[index]) for name, values in quality.items()})
                row["boundary_level"] = level_text(level)
                staged.add(row, dicom, stem)
            progress.update(len(same))
        staged.flush()  # a batch's rows are on disk before the next is segmented
    progress.close()


def _read(file: Path):
    """``(DicomSlice, "")``, or ``(None, reason)`` for a file predict cannot segment (a DICOM SEG among them).

    A damaged file is a ``DicomReadError``; any other exception met reading
    one file (a defect in skcardio, out of memory) skips that file too, its
    traceback logged (``-v``), rather than end the run.
    """
    from ..exceptions import SkcardioError
    from ..io import get_limits, read_dicom
    from ._problems import unexpected

    try:
        dicom = read_dicom(file)
    except SkcardioError as exc:
        return None, str(exc).removeprefix(f"{file}: ")
    except Exception as exc:  # a defect met on this file, out of memory: skipped, not the run's end
        return None, unexpected(exc, file, logger, cannot="read")
    limits = get_limits()
    if dicom.image.size > limits.max_predict_pixels:
        rows, cols = dicom.image.shape
        return None, "an image of " + limits.refusal("max_predict_pixels", f"{rows} x {cols} = {dicom.image.size} pixels")
    return dicom, ""


def _segment(model, same: list, failed: list[tuple[str, str]]):
    """``((dicom, stem), mask, proba)``; a batch that fails is retried slice by slice, failures skipped."""
    try:
        masks, proba = model.predict_with_proba(np.stack([dicom.image for dicom, _ in same]))
        return list(zip(same, masks, proba))
    except (MemoryError, RuntimeError, ValueError) as exc:
        if len(same) > 1:
            return [pair for item in same for pair in _segment(model, [item], failed)]
        failed.append((str(same[0][0].path), f"cannot be segmented ({type(exc).__name__}: {_first_line(exc)})"))
        logger.debug("%s: cannot be segmented (%s)", same[0][0].path, _first_line(exc))
        return []


def _trim(done: list, level: float, failed: list[tuple[str, str]]) -> tuple[list, list[np.ndarray]]:
    """``done`` with each mask's dark rim trimmed at ``level``, and the untrimmed masks of those kept.

    A slice that cannot be trimmed is skipped with its reason.
    """
    from ..segment import trim_dark_boundary

    kept, untrimmed = [], []
    for (dicom, stem), mask, proba in done:
        try:
            trimmed = trim_dark_boundary(dicom.image[None], mask[None], level=level)[0]
        except ValueError as exc:  # e.g. a non-finite pixel: this slice, not the batch
            failed.append((str(dicom.path), f"cannot be trimmed ({_first_line(exc)})"))
            logger.debug("%s: cannot be trimmed (%s)", dicom.path, _first_line(exc))
            continue
        kept.append(((dicom, stem), trimmed, proba))
        untrimmed.append(mask)
    return kept, untrimmed


def _first_line(exc: BaseException) -> str:
    from ..io._limits import shorten

    return shorten(str(exc).strip().split("\n")[0])


def _csv_value(value) -> str | int:
    """A flag as 0/1, the confidence with three decimals."""
    return int(value) if isinstance(value, (bool, np.bool_)) else f"{float(value):.3f}"


def _owned_now(out: Path, *, writes_series: bool) -> list[str]:
    """The files of an earlier predict in ``out`` (:func:`publish` calls it with ``out`` locked).

    ``series.csv`` is checked again: a report into the same ``out`` may
    have published one since the check before the slow part.
    """
    check_series_index(out, "predict", writes=writes_series)
    return _earlier_outputs(out) + earlier_series_outputs(out)


def _earlier_outputs(out: Path) -> list[str]:
    """Slice files that the ``predictions.csv`` of an earlier run in ``out`` lists (none if it cannot be trusted)."""
    stems = record_column(out / "predictions.csv", "output_stem") or []
    return [f"{stem}{suffix}" for stem in stems for suffix in _SUFFIXES]


def _remove_outputs(stage: Path, stem: Path) -> None:
    """Delete the files of ``stem`` already written in ``stage`` (a slice whose outputs failed part-way)."""
    for suffix in _SUFFIXES:
        try:
            (stage / f"{stem}{suffix}").unlink(missing_ok=True)
        except OSError:
            pass  # a path too long was never created


def _write_outputs(out: Path, stem: Path, dicom, mask: np.ndarray, *, overlay: bool, notes: list | None = None) -> dict:
    from PIL import Image

    from ..io import mask_to_contour, write_contour

    base = out / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    np.save(f"{base}_mask.npy", mask)
    Image.fromarray(mask.astype(np.uint8) * 255).save(f"{base}_mask.png")
    points = mask_to_contour(mask)
    if len(points) >= 3:
        write_contour(f"{base}_contour.txt", points)
    else:
        logger.warning("%s: no blood pool found, no contour written", dicom.path)
    if overlay:
        Image.fromarray(_overlay(dicom.image, mask)).save(f"{base}_overlay.png")
    area_mm2 = float(mask.sum() * np.prod(dicom.pixel_spacing))
    if not np.isfinite(area_mm2) and notes is not None:
        notes.append((str(dicom.path), "no PixelSpacing (0028,0030): area_mm2 left blank"))
    return {
        "dicom_path": str(dicom.path),
        "output_stem": str(stem),
        "area_px": int(mask.sum()),
        "area_mm2": f"{area_mm2:.1f}" if np.isfinite(area_mm2) else "",
        "contour_points": len(points),
    }


def _overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Grey image (1st-99th percentile stretched) with the mask's outline in red, uint8 RGB."""
    from skimage.segmentation import find_boundaries

    low, high = np.percentile(image, (1, 99))
    grey = np.clip((image - low) / max(high - low, 1e-6), 0, 1)
    rgb = np.repeat((grey * 255).astype(np.uint8)[..., None], 3, axis=-1)
    rgb[find_boundaries(mask, mode="inner")] = (255, 0, 0)
    return rgb
