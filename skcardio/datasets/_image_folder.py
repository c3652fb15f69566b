"""load_image_folder: a folder of images and a folder of label masks -> the dataset Bunch."""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._folders import folder_problem, list_folder
from .._optional import import_optional
from .._text import printable, some_named
from ..exceptions import DatasetError
from ..io._limits import quote
from ..utils._validation import check_pixel_spacing
from ._dataset import (
    _TARGETS,
    CITATION,
    PATHOLOGY_GROUPS,
    _as_dataframe,
    _log,
    _reason_counts,
    sunnybrook_pathology,
)
from ._layout import Skipped
from ._pictures import StudyBytes, StudyTooLarge, read_gray

__all__ = ["load_image_folder", "IMAGE_FRAME_DTYPE", "IMAGE_SUFFIXES", "SUNNYBROOK_NAME"]

logger = logging.getLogger("skcardio.datasets")

#: File name endings read as images or labels (compared in lower case).
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg")

#: Values of ``on_error``: a bad file raises, or is skipped (an error item of ``skipped``).
ON_ERROR = ("raise", "skip")

#: Default ``groups`` pattern: Sunnybrook exports such as
#: ``SC-HF-I-40-IM-0001-0028.dcm.png`` -> patient ``SC-HF-I-40``, pathology
#: ``HF-I``, instance 28 (the Sunnybrook image number, as in the DICOM layout).
SUNNYBROOK_NAME = re.compile(
    rf"(?P<patient>SC-(?P<pathology>{'|'.join(PATHOLOGY_GROUPS)})-[0-9]+)-IM-[0-9]+-(?P<instance>[0-9]+)"
)

#: The largest float32: images are held as float32, larger stored values would become inf.
_FLOAT32_MAX = float(np.finfo(np.float32).max)

#: dtype of ``Bunch.frame`` returned by :func:`load_image_folder`.
IMAGE_FRAME_DTYPE = np.dtype(
    [
        ("patient_id", object),
        ("pathology", object),
        ("instance", np.int64),
        ("image_path", object),
        ("label_path", object),
        ("pixel_spacing", np.float64, (2,)),
        ("slice_location", np.float64),
        ("trigger_time", np.float64),
        ("rows", np.int64),
        ("columns", np.int64),
    ]
)

@dataclass
class _Pair:
    name: str
    image_path: str
    label_path: str
    patient_id: str
    pathology: str
    instance: int


def load_image_folder(
    images_dir: str | os.PathLike,
    labels_dir: str | os.PathLike | None = None,
    *,
    groups: str | re.Pattern | Callable[[str], str] = SUNNYBROOK_NAME,
    target: str = "i-contour",
    on_error: str = "raise",
    pixel_spacing: float | tuple[float, float] | None = None,
    as_frame: bool = False,
) -> Bunch:
    """Load a folder of 2-D images and a folder of their binary label masks.

    An image and its label have the same file name up to the extension
    (``a.png`` pairs with ``a.png`` or ``a.tif``). PNG, TIFF and JPEG are read
    by the decoder of their extension only (Pillow's PNG or JPEG plugin,
    tifffile), once their first bytes are that format's signature. RGB(A)
    files whose colour channels are equal (and whose alpha, if any, is
    opaque; in an image, no pixel made transparent by a PNG's ``tRNS`` chunk
    either: a label's is ignored, as annotation tools make the background of
    palette labels transparent) become one channel. Intensities are kept as
    stored (8-bit exports are not scanner units). Such files carry no pixel
    spacing: it is NaN, and distances computed from it are NaN too, unless
    ``pixel_spacing`` gives it.

    Parameters
    ----------
    images_dir, labels_dir : str or path-like
        Folders of the images and of the label masks (0 = background, one
        other value such as 1 or 255 = the structure; JPEG's lossy
        compression usually breaks that, so save labels as PNG or TIFF).
        Without ``labels_dir``, ``images_dir`` is a folder that holds both,
        as ``images/`` and ``labels/`` (the ROOT of ``skcardio train ROOT``).
    groups : str, compiled pattern or callable, default=SUNNYBROOK_NAME
        The patient of each image, from its file name, so that
        patient-grouped CV never splits a patient. A regular expression is
        searched in the name: its group ``patient`` (else its first group,
        else the whole match) is the patient id, and the optional groups
        ``pathology`` and ``instance`` fill those columns. A callable gets
        the file name and returns the patient id. The default reads
        Sunnybrook names ``SC-<pathology>-<n>-IM-0001-<nnnn>...``.
    target : {"i-contour", "o-contour"}, default="i-contour"
        What the labels outline (recorded in the Bunch, so that datasets
        of different targets are not mixed): the endocardium (blood pool)
        or the epicardium.
    on_error : {"raise", "skip"}, default="raise"
        What a bad file does (see Raises): ``"raise"`` stops with a
        :class:`DatasetError` naming it; ``"skip"`` leaves out its image
        and label and records it in ``skipped`` as an error item
        (``Skipped.error``), as :func:`load_dataset` does with a bad DICOM
        (``skcardio train`` and ``evaluate`` skip, list these items at the
        end and exit with status 1).
    pixel_spacing : float, (float, float) or None, default=None
        The pixel size in mm, which PNG, TIFF and JPEG files do not carry:
        one number for square pixels, or a ``(row, column)`` pair (the
        distance between rows, then between columns, as DICOM's
        ``PixelSpacing``). It is stored in ``frame.pixel_spacing`` of every
        image, as :func:`load_dataset` stores each DICOM's, so that the
        distance scorers, ``skcardio evaluate``'s APD and Hausdorff distance
        and the quality flags in mm² use it. None: unknown (NaN), no
        distances in mm. Each value must lie within 0.001-50 mm, as a
        DICOM's ``PixelSpacing`` must. The Sunnybrook PNG export does not
        record its DICOMs' spacing: 1.3672 mm, that of most Sunnybrook
        DICOMs (the shared ones have 1.3672 or 1.2891 mm), is the stand-in
        the project's benchmarks use for it.
    as_frame : bool, default=False
        If True, ``frame`` is a pandas DataFrame, as in :func:`load_dataset`.

    Returns
    -------
    Bunch
        Like :func:`load_dataset`, with these attributes.

        frame : numpy.recarray of shape (n,), or pandas.DataFrame
            One record per image, fields in :data:`IMAGE_FRAME_DTYPE`
            (``patient_id``, ``pathology`` (``""`` when unknown),
            ``instance`` (-1 when the name has none), ``image_path``,
            ``label_path``, ``pixel_spacing`` ((row, column) mm: the
            ``pixel_spacing`` argument, NaN without it), ``slice_location``
            and ``trigger_time`` (NaN), ``rows``, ``columns``). Sorted by
            patient, instance and name.
        images : ndarray (n, H, W) float32
            Pixels ``[row, col]``.
        y : ndarray (n, H, W) bool
            The label masks.
        regions : ndarray (n, H, W) bool
            All False: image folders have no o-contour region.
        has_region : ndarray (n,) bool
            All False.
        groups : ndarray (n,) object
            Patient ids.
        skipped : list of Skipped
            Files not read (other extensions, hidden files, folders),
            images whose size differs from the most common one, and with
            ``on_error="skip"`` the bad files (``error`` True).
        summary : str
            Counts of patients, images and skipped files, and the pixel
            spacing (``pixel spacing given: 1.3672 mm`` or ``pixel spacing
            unknown``).
        target : str
            The ``target`` argument (what the labels are taken to be).
        DESCR : str
            Description of the data and citation.

    Raises
    ------
    ValueError
        If ``target``, ``on_error`` or ``pixel_spacing`` is not one of
        the values above (a ``pixel_spacing`` of text, of more than two
        values, or not finite, not positive or beyond 0.001-50 mm), before
        any file is read.
    DatasetError
        Naming the folder: a folder is missing, cannot be read or holds no
        image; with ``on_error="skip"``, no pair is left. Naming the file
        (with ``on_error="raise"``): an image without a label or a label
        without an image; two files with the same name but for the
        extension; a file whose first bytes are not its extension's format;
        a file that cannot be read as one 2-D image (a TIFF of more than one
        page, an animated PNG among them), or whose header claims more than
        ``max_image_pixels``; colour channels that
        differ, a CMYK (or other non-RGB) colour model, a 16-bit RGB, RGBA or
        gray + alpha PNG (Pillow reads its samples cut to 8 bits), transparent pixels
        (an alpha channel, or an image PNG's tRNS chunk); infinite pixel values, or
        values beyond float32's range (they would become infinite); an image and its label
        of different sizes; a label that is not binary (or holds NaN); a
        name that ``groups`` does not match, or whose ``instance`` it finds
        is not a whole number of digits from 0 to 2**63 - 1.
        Whatever ``on_error``, naming the file: the images together (as
        float32) would exceed ``max_study_bytes``, checked from each header
        before decoding.

    Examples
    --------
    >>> import numpy as np, imageio.v3 as iio, tempfile, pathlib
    >>> from skcardio.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for sub in ("images", "labels"):
    ...     (root / sub).mkdir()
    >>> image = np.arange(64, dtype=np.uint8).reshape(8, 8)
    >>> label = np.zeros((8, 8), np.uint8); label[2:5, 2:5] = 255
    >>> iio.imwrite(root / "images" / "SC-N-2-IM-0001-0048.png", image)
    >>> iio.imwrite(root / "labels" / "SC-N-2-IM-0001-0048.png", label)
    >>> data = load_image_folder(root / "images", root / "labels")
    >>> data.images.shape, int(data.y.sum()), data.groups.tolist(), data.frame.pathology.tolist()
    ((1, 8, 8), 9, ['SC-N-2'], ['N'])
    >>> load_image_folder(root).summary == data.summary  # root/images and root/labels
    True
    >>> bool(np.isnan(data.frame.pixel_spacing).all())  # PNG carries no pixel spacing
    True
    >>> given = load_image_folder(root, pixel_spacing=1.3672)  # most Sunnybrook DICOMs' pixel size
    >>> given.frame.pixel_spacing.tolist()
    [[1.3672, 1.3672]]
    >>> given.summary.splitlines()[0].split("; ")[-1]
    'pixel spacing given: 1.3672 mm'
    """
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {_TARGETS}, got {target!r}")
    if labels_dir is None:  # one folder holding images/ and labels/
        images_dir, labels_dir = Path(images_dir) / "images", Path(images_dir) / "labels"
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    spacing = check_pixel_spacing(pixel_spacing)
    pandas = import_optional("pandas", "pandas", "as_frame=True") if as_frame else None
    name_of = _group_function(groups)
    skipped: list[Skipped] = []
    skip = skipped if on_error == "skip" else None
    images = _index(images_dir, "images", skipped, skip)
    labels = _index(labels_dir, "labels", skipped, skip)
    pairs = _pair(images, labels, images_dir, labels_dir, name_of, skip)
    read, study = [], StudyBytes()
    for pair in pairs:
        try:
            image, label = _read_pair(pair, study)
        except StudyTooLarge as exc:  # the limit, whatever on_error: no more files are read
            raise DatasetError(str(exc)) from None
        except DatasetError as exc:
            if skip is None:
                raise
            # Every error of _read_pair starts with the file at fault.
            path = pair.label_path if str(exc).startswith(f"{pair.label_path}: ") else pair.image_path
            _fault(skip, path, str(exc).removeprefix(f"{path}: "), pair.patient_id)
            continue
        study.add(image)
        read.append((pair, image, label))
    if not read:
        raise DatasetError(
            f"{os.fspath(images_dir)}: no usable image with its label; {len(skipped)} item(s) skipped: "
            f"{_reason_counts(skipped)}"
        )
    read = _common_shape(read, skipped)
    bunch = _bunch(read, target, skipped, images_dir, spacing)
    _log(bunch)
    if pandas is not None:
        bunch.frame = _as_dataframe(bunch.frame, pandas)
    return bunch


def _fault(skip: list[Skipped] | None, path: str, reason: str, patient_id: str = "") -> None:
    """A bad file: a ``DatasetError`` naming it, or (``on_error="skip"``) an error item of ``skip``."""
    if skip is None:
        raise DatasetError(f"{path}: {reason}")
    skip.append(Skipped(path, reason, patient_id, True))


def _group_function(groups) -> Callable[[str], tuple[str, str, int]]:
    """``name -> (patient_id, pathology, instance)`` from the ``groups`` argument.

    Its ``DatasetError`` gives the reason only: the caller puts the file's path first.
    """
    if callable(groups) and not isinstance(groups, re.Pattern):
        def from_callable(name: str) -> tuple[str, str, int]:
            patient = groups(name)
            if not isinstance(patient, str) or not patient:
                raise DatasetError(f"groups({name!r}) returned {patient!r}; expected a non-empty patient id string")
            return patient, sunnybrook_pathology(patient), -1
        return from_callable
    if isinstance(groups, str):
        try:
            groups = re.compile(groups)
        except re.error as exc:
            raise ValueError(f"groups: invalid regular expression {groups!r}: {exc}") from None
    if not isinstance(groups, re.Pattern):
        raise TypeError(f"groups must be a regular expression or a callable, got {type(groups).__name__}")
    pattern = groups

    def from_pattern(name: str) -> tuple[str, str, int]:
        match = pattern.search(name)
        if match is None:
            raise DatasetError(
                f"name does not match the groups pattern {pattern.pattern!r}; expected a pattern (groups=, "
                "or --groups REGEX on the command line) or a function that finds the patient in every file name"
            )
        found = match.groupdict()
        patient = found.get("patient") or (match.group(1) if pattern.groups else match.group(0))
        if not patient:
            raise DatasetError(f"the groups pattern {pattern.pattern!r} matched an empty patient id")
        pathology = found.get("pathology") or sunnybrook_pathology(patient)
        return patient, pathology, _instance(found.get("instance"), pattern)

    return from_pattern


#: The largest instance number: the frame's ``instance`` field is an int64.
_MAX_INSTANCE = int(np.iinfo(np.int64).max)


def _instance(text: str | None, pattern: re.Pattern) -> int:
    """The ``instance`` group's digits as a number (-1 without one); a ``DatasetError`` (the reason only) if not one.

    A name's digit run of 20 or more overflowed the frame's int64 field
    (OverflowError, even with ``on_error="skip"``), and a pattern whose group
    matches other characters failed at ``int()`` (ValueError).
    """
    if not text:
        return -1
    # isdecimal: digits only, of any script (as int() reads them), no sign, space or "_"; a bound on
    # their count first, as int() of thousands of digits is refused (and slow).
    value = int(text) if text.isdecimal() and len(text) <= 100 else None
    if value is None or value > _MAX_INSTANCE:
        raise DatasetError(
            f"the groups pattern {pattern.pattern!r} found the instance {quote(text)}; expected a whole number "
            f"of digits from 0 to {_MAX_INSTANCE}"
        )
    return value


def _index(folder, what: str, skipped: list[Skipped], skip: list[Skipped] | None) -> dict[str, str | None]:
    """Map file name without extension -> path, for the image files of ``folder``.

    A name held by several files (``a.png`` and ``a.jpg``) is bad (see
    :func:`_fault`); when they are skipped, it maps to None.
    """
    path = Path(folder)
    try:
        entries = list_folder(path)
    except NotADirectoryError:
        raise DatasetError(f"{os.fspath(folder)}: is not a folder; expected the folder of {what}") from None
    except FileNotFoundError:
        raise DatasetError(f"{os.fspath(folder)}: no such folder; expected the folder of {what}") from None
    except OSError as exc:
        raise DatasetError(f"{os.fspath(folder)}: {folder_problem(exc)}; expected the folder of {what}") from None
    by_stem: dict[str, list[str]] = {}
    for entry in entries:
        stem, suffix = os.path.splitext(entry.name)
        if entry.name.startswith(".") or suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(Skipped(entry.path, f"not a {'/'.join(IMAGE_SUFFIXES)} file"))
            continue
        if not entry.is_file():
            skipped.append(Skipped(entry.path, "not a regular file (a pipe, socket or device)", error=True))
            continue
        by_stem.setdefault(stem, []).append(entry.path)
    if not by_stem:
        raise DatasetError(f"{path}: no {what} found; expected {'/'.join(IMAGE_SUFFIXES)} files")
    found: dict[str, str | None] = {}
    for stem, paths in by_stem.items():
        if len(paths) == 1:
            found[stem] = paths[0]
            continue
        found[stem] = None  # every one of them is bad: which one is meant?
        for path in reversed(paths):  # the error of on_error="raise" names the later one, beside the first
            others = ", ".join(other for other in paths if other != path)
            _fault(skip, path, f"same name as {others} but for the extension; expected one file per {what[:-1]}")
    return found


def _pair(images: dict, labels: dict, images_dir, labels_dir, name_of, skip: list[Skipped] | None) -> list[_Pair]:
    """Pair images and labels by name; a file without its partner is bad (see :func:`_fault`)."""
    for mine, theirs, folder, what in ((images, labels, labels_dir, "label"), (labels, images, images_dir, "image")):
        alone = sorted(stem for stem in set(mine) - set(theirs) if mine[stem] is not None)
        if alone and skip is None:
            listed = some_named([mine[stem] for stem in alone], 3)
            raise DatasetError(f"{listed}: no {what} with the same name in {os.fspath(folder)}")
        for stem in alone:
            _fault(skip, mine[stem], f"no {what} with the same name in {os.fspath(folder)}")
        for stem in sorted(stem for stem in set(mine) & set(theirs) if mine[stem] is not None and theirs[stem] is None):
            _fault(skip, mine[stem], f"not used: its {what} is ambiguous (several files named {stem} but for the "
                   f"extension in {os.fspath(folder)})")
    pairs = []
    for stem in images:
        if images[stem] is None or labels.get(stem) is None:
            continue
        name = os.path.basename(images[stem])
        try:
            patient, pathology, instance = name_of(name)
        except DatasetError as exc:
            _fault(skip, images[stem], str(exc))
            continue
        pairs.append(_Pair(name, images[stem], labels[stem], patient, pathology, instance))
    pairs.sort(key=lambda p: (p.patient_id, p.instance, p.name))
    return pairs


def _read_pair(pair: _Pair, study: StudyBytes) -> tuple[np.ndarray, np.ndarray]:
    """The image (float32) and label mask of a pair; a ``DatasetError`` starting with the file at fault.

    The image must not bring the images of ``study`` beyond ``max_study_bytes`` (:class:`StudyTooLarge`).
    """
    stored = read_gray(pair.image_path, study=study)
    with np.errstate(over="ignore"):  # a value beyond float32's range becomes inf: refused below
        image = stored.astype(np.float32)
    if stored.dtype.kind == "f":
        # Checked after the cast: float64 values of 1e300 are finite, and were inf once held as float32.
        infinite = int(np.isinf(stored).sum())
        beyond = int(np.isinf(image).sum()) - infinite
        if infinite or beyond:
            found = [f"{infinite} infinite pixel value(s)"] * bool(infinite) + [
                f"{beyond} pixel value(s) beyond {_FLOAT32_MAX:.4g} in size, the range of the float32 images"
            ] * bool(beyond)
            raise DatasetError(
                f"{pair.image_path}: {' and '.join(found)}; expected finite intensities"
                + (" within that range" if beyond else "") + " (NaN marks pixels without data)"
            )
    del stored
    label = read_gray(pair.label_path, label=True)
    if label.dtype.kind == "f" and not np.isfinite(label).all():
        raise DatasetError(
            f"{pair.label_path}: label holds {int((~np.isfinite(label)).sum())} non-finite value(s) (NaN or inf); "
            "expected 0 and one other value (1 or 255)"
        )
    if label.shape != image.shape:
        raise DatasetError(
            f"{pair.label_path}: label of {label.shape[0]}x{label.shape[1]} pixels, its image {pair.image_path} "
            f"has {image.shape[0]}x{image.shape[1]}; expected the same size"
        )
    return image, _binary(label, pair.label_path)


def _binary(label: np.ndarray, path: str) -> np.ndarray:
    values = np.unique(label)
    foreground = values[values != 0]
    if len(foreground) > 1:
        shown = ", ".join(str(v.item()) for v in foreground[:5]) + (" ..." if len(foreground) > 5 else "")
        raise DatasetError(
            f"{path}: label is not binary: {len(foreground)} non-zero values ({shown}); expected 0 and one "
            "other value (1 or 255); a JPEG label is rarely binary, save labels as PNG"
        )
    return label != 0


def _common_shape(read: list, skipped: list[Skipped]) -> list:
    """Drop images whose size differs from the most common one (as load_dataset does)."""
    shape, _ = Counter(image.shape for _, image, _ in read).most_common(1)[0]
    for pair, image, _ in read:
        if image.shape != shape:
            skipped.append(Skipped(pair.image_path, f"image shape {image.shape} differs from the dataset's {shape}", pair.patient_id))
    return [item for item in read if item[1].shape == shape]


def _bunch(read: list, target: str, skipped: list[Skipped], images_dir, spacing) -> Bunch:
    frame = np.rec.array(
        [
            (p.patient_id, p.pathology, p.instance, p.image_path, p.label_path, spacing or (np.nan, np.nan),
             np.nan, np.nan, *image.shape)
            for p, image, _ in read
        ],
        dtype=IMAGE_FRAME_DTYPE,
    )
    n = len(read)
    shape = read[0][1].shape
    bunch = Bunch(
        frame=frame,
        images=np.stack([image for _, image, _ in read]),
        y=np.stack([label for _, _, label in read]),
        regions=np.zeros((n, *shape), bool),
        has_region=np.zeros(n, bool),
        groups=np.asarray(frame.patient_id, dtype=object),
        skipped=skipped,
        target=target,
        DESCR=_descr(),
    )
    bunch.summary = _summary(bunch, images_dir, spacing)
    return bunch


def _summary(bunch: Bunch, images_dir, spacing: tuple[float, float] | None) -> str:
    pathologies = Counter(printable(p) or "unknown" for p in dict(zip(bunch.groups, bunch.frame.pathology)).values())
    lines = [
        f"{len(set(bunch.groups))} patient(s) ({', '.join(f'{n} {p}' for p, n in sorted(pathologies.items()))}), "
        f"{len(bunch.frame)} labelled image(s) ({bunch.target}) from {printable(images_dir)}; "
        + _spacing_text(spacing),
        f"{len(bunch.skipped)} item(s) skipped" + (f": {_reason_counts(bunch.skipped)}" if bunch.skipped else ""),
    ]
    return "\n".join(lines)


def _spacing_text(spacing: tuple[float, float] | None) -> str:
    """The summary's words on the pixel spacing."""
    if spacing is None:
        return "pixel spacing unknown (NaN): no distances in mm"
    row, column = spacing
    if row == column:
        return f"pixel spacing given: {row:g} mm"
    return f"pixel spacing given: {row:g} x {column:g} mm (row x column)"


def _descr() -> str:
    return (
        "2-D images with binary label masks read from two folders (PNG, TIFF or JPEG). "
        "No slice position or trigger time (NaN); the pixel spacing is NaN unless given (pixel_spacing=).\n"
        "Pixel arrays are [row, col].\n"
        f"Data source, if the Sunnybrook Cardiac Data (CC0), e.g. the SegNetCMR PNG export: {CITATION}"
    )
