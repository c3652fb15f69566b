"""load_dataset: the ``link.csv`` layout -> arrays ready for training."""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from sklearn.utils import Bunch

from .._optional import import_optional
from .._text import printable
from ..exceptions import DatasetError, DicomReadError, SkcardioError
from ..io import contour_to_mask, read_contour
from ..io._parallel import read_dicoms_or_errors
from ._layout import Skipped, SliceFiles, scan_layout

__all__ = ["load_dataset", "sunnybrook_pathology", "FRAME_DTYPE", "CITATION", "PATHOLOGY_GROUPS"]

logger = logging.getLogger("skcardio.datasets")

CITATION = (
    "Radau P, Lu Y, Connelly K, Paul G, Dick AJ, Wright GA. Evaluation Framework for "
    "Algorithms Segmenting Short Axis Cardiac MRI. The MIDAS Journal - Cardiac MR Left "
    "Ventricle Segmentation Challenge, 2009. http://hdl.handle.net/10380/3070"
)

#: Sunnybrook pathology groups: heart failure with and without infarction,
#: hypertrophy, normal (the ``<group>`` of ``SC-<group>-<n>`` patient ids).
PATHOLOGY_GROUPS = ("HF-I", "HF-NI", "HYP", "N")

_SUNNYBROOK_ID = re.compile(rf"SC-({'|'.join(PATHOLOGY_GROUPS)})-[0-9]+")

#: dtype of ``Bunch.frame`` (one record per contoured slice).
FRAME_DTYPE = np.dtype(
    [
        ("patient_id", object),
        ("original_id", object),
        ("pathology", object),
        ("instance", np.int64),
        ("dicom_path", object),
        ("icontour_path", object),
        ("ocontour_path", object),
        ("pixel_spacing", np.float64, (2,)),
        ("slice_location", np.float64),
        ("trigger_time", np.float64),
        ("rows", np.int64),
        ("columns", np.int64),
    ]
)

_TARGETS = ("i-contour", "o-contour")
_REQUIRE = (None, "i-contour", "o-contour")
_KEY = {"i-contour": "icontour_path", "o-contour": "ocontour_path"}


@dataclass
class _Slice:
    files: SliceFiles
    image: np.ndarray
    meta: object
    masks: dict


def load_dataset(
    root: str | os.PathLike,
    *,
    target: str = "i-contour",
    require: str | None = None,
    n_jobs: int | None = None,
    memory=None,
    as_frame: bool = False,
) -> Bunch:
    """Load every contoured slice of a dataset folder.

    Parameters
    ----------
    root : str or path-like
        Folder with ``link.csv``, ``dicoms/<patient_id>/<n>.dcm`` and
        ``contourfiles/<original_id>/{i,o}-contours/IM-0001-<nnnn>-{i,o}contour-manual.txt``;
        or the Sunnybrook Cardiac Data as downloaded: ``scd_patientdata.csv``,
        ``SCD_DeidentifiedImages/<PatientID>/<series>/IM-*-<nnnn>.dcm`` and
        ``SCD_ManualContours/<OriginalID>/contours-manual/IRCCI-expert/IM-0001-<nnnn>-{i,o}contour-manual.txt``
        (see ``docs/data.md``).
    target : {"i-contour", "o-contour"}, default="i-contour"
        Contour that becomes ``y``: the endocardium (blood pool) or the
        epicardium. Only slices that have it, readable, are returned.
    require : {None, "i-contour", "o-contour"}, default=None
        Keep only slices that also have this contour, readable;
        ``require="o-contour"`` with the default target keeps slices with
        both contours.
    n_jobs : int, default=None
        Processes used to read DICOMs (as in :func:`skcardio.io.read_dicoms`:
        their warnings reach the caller all the same).
    memory : str, path-like or joblib.Memory, default=None
        Cache for decoded DICOMs (a DICOM it serves warns as its first
        reading did).
    as_frame : bool, default=False
        If True, ``frame`` is a pandas DataFrame (pandas is optional:
        ``pip install "skcardio[pandas]"``), as with scikit-learn's loaders;
        every skcardio estimator and scorer takes either form.

    Returns
    -------
    Bunch
        Dictionary-like object with these attributes:

        frame : numpy.recarray of shape (n,), or pandas.DataFrame
            One record (row) per slice, fields in :data:`FRAME_DTYPE`
            (``patient_id``, ``original_id``, ``pathology`` (Sunnybrook
            group from ``original_id``, see :func:`sunnybrook_pathology`),
            ``instance``, ``dicom_path``,
            ``icontour_path``, ``ocontour_path`` (``""`` if absent),
            ``pixel_spacing`` (row, col) mm, ``slice_location``,
            ``trigger_time``, ``rows``, ``columns``). In a DataFrame,
            ``pixel_spacing`` holds one array of 2 values per row.
        images : ndarray (n, H, W) float32
            Pixels ``[row, col]``.
        y : ndarray (n, H, W) bool
            Masks of ``target``.
        regions : ndarray (n, H, W) bool
            o-contour masks; all False where the slice has none.
        has_region : ndarray (n,) bool
            Whether the slice has an o-contour.
        groups : ndarray (n,) object
            Patient ids, for ``GroupKFold``.
        skipped : list of Skipped
            Everything not used, with the reason (also logged).
        summary : str
            Counts of patients, slices and skipped items.
        target : str
            The ``target`` argument.
        DESCR : str
            Description and data citation.

    Raises
    ------
    DatasetError
        If ``link.csv`` (or the Sunnybrook download's ``scd_patientdata.csv``)
        is missing, not UTF-8 text, not valid CSV or malformed in its header,
        an id would leave ``root``, or no slice is left.
    ImportError
        If ``as_frame=True`` and pandas is not installed.

    Warns
    -----
    SkcardioWarning
        What :func:`skcardio.io.read_dicom` says of a DICOM it reads (excess
        padding, a position read as absent...), whatever ``n_jobs``, and
        again when ``memory`` serves the file. Items skipped are logged, not
        warned about.

    Examples
    --------
    >>> from skcardio.datasets import load_dataset, get_sample_path
    >>> data = load_dataset(get_sample_path(), require="o-contour")
    >>> data.images.shape[1:], data.y.dtype
    ((256, 256), dtype('bool'))
    >>> bool(data.has_region.all())
    True
    >>> load_dataset(get_sample_path(), as_frame=True).frame[["patient_id", "instance"]].head(2)
       patient_id  instance
    0  SCD0000101        99
    1  SCD0000101       108
    """
    if target not in _TARGETS:
        raise ValueError(f"target must be one of {_TARGETS}, got {target!r}")
    if require not in _REQUIRE:
        raise ValueError(f"require must be one of {_REQUIRE}, got {require!r}")
    pandas = import_optional("pandas", "pandas", "as_frame=True") if as_frame else None
    layout = scan_layout(root)
    skipped = list(layout.skipped)
    needed = [target] + ([require] if require and require != target else [])
    wanted = _select(layout.slices, needed, skipped)
    slices = _read(wanted, needed, n_jobs, memory, skipped)
    slices = _common_shape(slices, skipped)
    if not slices:
        raise DatasetError(
            f"{root}: no usable slice with {' and '.join(needed)} found; "
            f"{len(skipped)} item(s) skipped: {_reason_counts(skipped)}"
        )
    bunch = _bunch(slices, target, skipped, layout.n_linked)
    _log(bunch)
    if pandas is not None:
        bunch.frame = _as_dataframe(bunch.frame, pandas)
    return bunch


def _as_dataframe(frame: np.recarray, pandas):
    """The records as a DataFrame: one column per field, 2-value fields as one array per row."""
    columns = {
        name: list(frame[name]) if frame.dtype[name].shape else frame[name]
        for name in frame.dtype.names
    }
    return pandas.DataFrame(columns)


def sunnybrook_pathology(patient_id: str) -> str:
    """Pathology group of a Sunnybrook patient id, ``""`` for any other id.

    Parameters
    ----------
    patient_id : str
        Such as ``SC-HF-I-1`` or ``SC-HYP-03``.

    Returns
    -------
    str
        One of :data:`PATHOLOGY_GROUPS` (``HF-I`` heart failure with
        infarction, ``HF-NI`` without, ``HYP`` hypertrophy, ``N`` normal), or
        ``""``.

    Examples
    --------
    >>> from skcardio.datasets import sunnybrook_pathology
    >>> sunnybrook_pathology("SC-HF-NI-34"), sunnybrook_pathology("SCD0000101")
    ('HF-NI', '')
    """
    match = _SUNNYBROOK_ID.fullmatch(str(patient_id))
    return match.group(1) if match else ""


def _select(slices, needed, skipped):
    """Keep slices having the target (and required) contour; record the rest."""
    kept = []
    for files in slices:
        missing = [name for name in needed if not getattr(files, _KEY[name])]
        if missing:
            skipped.append(Skipped(files.dicom_path, f"no {' or '.join(missing)} for this slice", files.patient_id))
            continue
        kept.append(files)
    return kept


def _read(files_list, needed, n_jobs, memory, skipped) -> list[_Slice]:
    """Read DICOMs and contours; keep slices whose needed contours all read."""
    # One pass: a bad file is skipped, not fatal; the images together stay within max_study_bytes.
    try:
        # stacklevel 4: the caller of load_dataset (read_dicoms_or_errors, this function, load_dataset).
        read = read_dicoms_or_errors(
            [f.dicom_path for f in files_list], n_jobs=n_jobs, memory=memory, stacklevel=4
        )
    except DicomReadError as exc:  # the limit: no more files read
        raise DatasetError(str(exc)) from None
    slices = []
    for files, meta in zip(files_list, read):
        if isinstance(meta, DicomReadError):
            skipped.append(Skipped(files.dicom_path, f"unreadable DICOM: {meta}", files.patient_id, True))
            continue
        masks = _read_masks(files, meta.image.shape, needed, skipped)
        # An unreadable target or required contour makes the slice unusable
        # (its contour file is in `skipped` with the error).
        if all(name in masks for name in needed):
            # The header without the pixels: the image is held once, by the
            # _Slice, so that _bunch can let it go once copied.
            slices.append(_Slice(files, meta.image, replace(meta, image=None), masks))
    return slices


def _read_masks(files: SliceFiles, shape, needed, skipped) -> dict:
    """Masks of the slice's readable contours; unreadable ones are recorded and cleared."""
    masks = {}
    for name, key in _KEY.items():
        path = getattr(files, key)
        if not path:
            continue
        try:
            masks[name] = contour_to_mask(read_contour(path), shape)
        except SkcardioError as exc:
            effect = "slice dropped" if name in needed else "slice kept without it"
            skipped.append(Skipped(path, f"unreadable contour ({effect}): {exc}", files.patient_id, True))
            setattr(files, key, "")
    return masks


def _common_shape(slices: list[_Slice], skipped) -> list[_Slice]:
    """Drop slices whose image size differs from the most common one."""
    if not slices:
        return slices
    shape, _ = Counter(s.image.shape for s in slices).most_common(1)[0]
    for s in slices:
        if s.image.shape != shape:
            skipped.append(
                Skipped(s.files.dicom_path, f"image shape {s.image.shape} differs from the dataset's {shape}", s.files.patient_id)
            )
    return [s for s in slices if s.image.shape == shape]


def _bunch(slices: list[_Slice], target: str, skipped, n_linked: int) -> Bunch:
    """The arrays and records of the slices; the slices' own pixels and masks are released."""
    shape = slices[0].image.shape
    frame = np.rec.array(
        [
            (
                s.files.patient_id, s.files.original_id, sunnybrook_pathology(s.files.original_id),
                s.files.instance, s.files.dicom_path,
                s.files.icontour_path, s.files.ocontour_path, s.meta.pixel_spacing,
                s.meta.slice_location, s.meta.trigger_time, *shape,
            )
            for s in slices
        ],
        dtype=FRAME_DTYPE,
    )
    has_region = np.array(["o-contour" in s.masks for s in slices])
    # Filled slice by slice, not np.stack(...).astype(np.float32): that made a
    # stacked copy and then a float32 copy of it (the images are float32
    # already), 2.3 times the result at the peak on a cohort. Each slice's
    # image and masks are dropped once copied: nothing else holds them, and
    # the allocator can reuse them while the rest is filled.
    images = np.empty((len(slices), *shape), np.float32)
    y = np.empty((len(slices), *shape), bool)
    regions = np.zeros((len(slices), *shape), bool)  # all False where a slice has no o-contour
    for i, s in enumerate(slices):
        images[i] = s.image
        y[i] = s.masks[target]
        if "o-contour" in s.masks:
            regions[i] = s.masks["o-contour"]
        s.image, s.masks = None, {}
    bunch = Bunch(
        frame=frame,
        images=images,
        y=y,
        regions=regions,
        has_region=has_region,
        groups=np.asarray(frame.patient_id, dtype=object),
        skipped=skipped,
        target=target,
        DESCR=_descr(),
    )
    bunch.summary = _summary(bunch, n_linked)
    return bunch


def _summary(bunch: Bunch, n_linked: int) -> str:
    reasons = Counter(reason_kind(s.reason) for s in bunch.skipped)
    lines = [
        f"{len(set(bunch.groups))} patient(s) with slices ({n_linked} linked in link.csv), "
        f"{len(bunch.frame)} slice(s) with an {bunch.target}, "
        f"{int(bunch.has_region.sum())} with an o-contour",
        f"{len(bunch.skipped)} item(s) skipped" + (":" if bunch.skipped else ""),
    ]
    # Text to print: a reason's control characters escaped (it may quote a name), its lines kept.
    lines += [f"  {count:4d} x {printable(reason)}" for reason, count in reasons.most_common()]
    return "\n".join(lines)


def _reason_counts(skipped) -> str:
    """'3 x unreadable DICOM, 1 x no o-contour for this slice': why items were skipped."""
    reasons = Counter(reason_kind(s.reason) for s in skipped)
    return ", ".join(f"{count} x {printable(reason)}" for reason, count in reasons.most_common()) or "none"


def reason_kind(reason: str) -> str:
    """The wording shared by skipped items of one kind (for the loader's log and :class:`skcardio.qc.QCReport`)."""
    # Group "17 DICOM(s) without any contour", "contour without a DICOM
    # (/data/dicoms/P1/119.dcm missing)" and the like by their wording: numbers
    # and parenthesised details with a path or a number differ per item, while
    # "(slice dropped)" is part of the wording.
    text = re.sub(r"\s*\([^()]*[/\\0-9][^()]*\)", "", reason.split(":")[0])
    # Quoted values ("malformed link row ['x']") differ per item too.
    text = re.sub(r"\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\")", "", text)
    return " ".join(w for w in text.split() if not w.isdigit())


#: Skipped items logged one by one per kind of reason; the rest are counted
#: (Bunch.skipped lists them all): a link.csv of 100,000 bad rows must not
#: print 100,000 lines.
_LOGGED_PER_REASON = 20


def _log(bunch: Bunch) -> None:
    logged: Counter = Counter()
    for item in bunch.skipped:
        # Filtering the user asked for (require=...), unlabelled frames and
        # papillary-muscle contours are expected: counted in the summary
        # only. Anything else is a fault in the data worth a line of its own
        # (up to _LOGGED_PER_REASON per kind of fault).
        if _expected(item.reason):
            continue
        kind = reason_kind(item.reason)
        logged[kind] += 1
        if logged[kind] <= _LOGGED_PER_REASON:
            logger.warning("skipped %s: %s", item.path, item.reason)
    for kind, count in logged.items():
        if count > _LOGGED_PER_REASON:
            logger.warning("... and %d more skipped: %s (listed in the result's skipped)", count - _LOGGED_PER_REASON, kind)
    # The summary is the message, not a "%s" value: the command line escapes the values of a log
    # line, newlines included, and keeps the lines of its message (the summary's are escaped already).
    logger.info(bunch.summary)


def _expected(reason: str) -> bool:
    return (
        "without any contour" in reason
        or reason.startswith("no ")
        or "papillary-muscle" in reason
        or reason.startswith("series not contoured")
    )


def _descr() -> str:
    return (
        "Cardiac cine short-axis MRI slices with expert left-ventricle contours "
        "(i-contour = endocardium / blood pool, o-contour = epicardium).\n"
        "Pixel arrays are [row, col]; contour points are (x, y) = (col, row).\n"
        f"Data source, if Sunnybrook Cardiac Data (CC0): {CITATION}"
    )
