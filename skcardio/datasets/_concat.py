"""concat_datasets: several dataset Bunches (DICOM layouts, image folders) -> one."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.utils import Bunch

from .._text import printable
from ..exceptions import DatasetError, SkcardioWarning

__all__ = ["concat_datasets"]

_ARRAYS = ("images", "y", "regions")


def concat_datasets(
    datasets: Mapping[str, Bunch] | Sequence[Bunch], *, fill_value: float = np.nan
) -> Bunch:
    """Stack datasets from several sources into one, keeping patients apart.

    Parameters
    ----------
    datasets : mapping of name to Bunch, or sequence of Bunch
        Bunches of :func:`load_dataset` or :func:`load_image_folder`, all of
        the same ``target``. The names (``"0"``, ``"1"``... for a sequence)
        fill the frame's ``source`` column.
    fill_value : float, default=NaN
        Value of the pixels added around smaller images (below).

    Returns
    -------
    Bunch
        The keys of the inputs, stacked in the given order:

        frame : numpy.recarray
            ``source``, then every field of the inputs' frames (their
            union, in order of first appearance); a field a source lacks is
            ``""``, NaN or -1 there (``dicom_path`` of an image-folder
            slice is ``""``, for example). ``rows`` and ``columns`` keep each
            slice's size before padding.
        images, y, regions : ndarray (n, H, W)
            Images of different sizes are padded equally on all sides (the
            odd pixel at the bottom/right) to the largest height and width:
            images with ``fill_value`` (NaN: no data, which the segmenters
            treat as outside any region), masks with False. Nothing is
            cropped or resampled: intensities and pixel sizes stay as each
            source stored them (8-bit PNG values beside scanner units;
            :class:`~skcardio.segment.UNetSegmenter` scales every image by its
            own percentiles).
        has_region, groups : ndarray (n,)
            As in the inputs; ``groups`` made unique across sources (below).
        skipped : list of Skipped
            Every source's skipped items.
        summary : str
            One line per source, then the totals.
        target, DESCR : str
            The common target, and a description of the sources.

        A patient id found in more than one source is made ``"<name>:<id>"``
        in ``groups`` and ``frame.patient_id``, so patient-grouped CV keeps
        the sources' patients apart; a :class:`SkcardioWarning` says so, as
        they may be one patient stored twice.

    Raises
    ------
    DatasetError
        If there is no dataset, or their targets differ.

    Examples
    --------
    >>> from skcardio.datasets import concat_datasets, load_sample
    >>> one, two = load_sample(), load_sample(require="o-contour")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # the same patients in both: renamed
    ...     both = concat_datasets({"a": one, "b": two})
    >>> both.images.shape, sorted(set(both.frame.source)), both.groups[0]
    ((27, 256, 256), ['a', 'b'], 'a:SCD0000101')
    """
    named = dict(datasets) if isinstance(datasets, Mapping) else {str(i): d for i, d in enumerate(datasets)}
    if not named:
        raise DatasetError("no dataset to concatenate; expected at least one")
    targets = {name: bunch.target for name, bunch in named.items()}
    if len(set(targets.values())) > 1:
        listed = ", ".join(f"{name!r}: {target}" for name, target in targets.items())
        raise DatasetError(f"datasets of different targets cannot be mixed ({listed}); expected one target")
    height = max(b.images.shape[1] for b in named.values())
    width = max(b.images.shape[2] for b in named.values())
    patients = _patient_ids(named)
    frame = _frame(named, patients)
    padded = {
        key: np.concatenate([_pad(b[key], (height, width), fill_value if key == "images" else False) for b in named.values()])
        for key in _ARRAYS
    }
    bunch = Bunch(
        frame=frame,
        **padded,
        has_region=np.concatenate([b.has_region for b in named.values()]),
        groups=np.asarray(frame.patient_id, dtype=object),
        skipped=[item for b in named.values() for item in b.skipped],
        target=next(iter(targets.values())),
        DESCR="\n\n".join(dict.fromkeys(b.DESCR for b in named.values())),
    )
    bunch.summary = _summary(named, bunch)
    return bunch


def _patient_ids(named: dict[str, Bunch]) -> dict[str, np.ndarray]:
    """Patient ids per source, ``"<name>:<id>"`` for ids found in several sources."""
    owners = Counter(pid for bunch in named.values() for pid in set(bunch.frame.patient_id))
    shared = sorted(pid for pid, n in owners.items() if n > 1)
    if shared:
        warnings.warn(
            f"patient id(s) {', '.join(shared[:5])}{' ...' if len(shared) > 5 else ''} found in several "
            "datasets: kept apart as '<source>:<id>'; if they are the same patient, cross-validation "
            "folds will not keep their slices together",
            SkcardioWarning,
            stacklevel=3,
        )
    return {
        name: np.array([f"{name}:{pid}" if pid in shared else pid for pid in bunch.frame.patient_id], dtype=object)
        for name, bunch in named.items()
    }


def _frame(named: dict[str, Bunch], patients: dict[str, np.ndarray]) -> np.recarray:
    fields = {"source": (np.dtype(object), ())}
    for bunch in named.values():
        for name in bunch.frame.dtype.names:
            dtype = bunch.frame.dtype.fields[name][0]
            base, shape = (dtype.base, dtype.shape)
            if name in fields and fields[name] != (base, shape):
                raise DatasetError(f"frame field {name!r} has different types in the datasets; cannot concatenate")
            fields.setdefault(name, (base, shape))
    dtype = np.dtype([(name, base, shape) for name, (base, shape) in fields.items()])
    parts = []
    for source, bunch in named.items():
        part = np.empty(len(bunch.frame), dtype=dtype)
        for name, (base, _) in fields.items():
            if name == "source":
                part[name] = source
            elif name == "patient_id":
                part[name] = patients[source]
            elif name in bunch.frame.dtype.names:
                part[name] = bunch.frame[name]
            else:
                part[name] = _missing(base)
        parts.append(part)
    return np.concatenate(parts).view(np.recarray)


def _missing(dtype: np.dtype):
    """Value of a frame field a source does not have."""
    if dtype.kind == "O":
        return ""
    if dtype.kind == "f":
        return np.nan
    if dtype.kind in "iu":
        return -1
    return np.zeros((), dtype)[()]


def _pad(arrays: np.ndarray, shape: tuple[int, int], value) -> np.ndarray:
    """Pad (n, h, w) equally on all sides to (n, *shape)."""
    extra = np.subtract(shape, arrays.shape[1:])
    if not extra.any():
        return arrays
    before = extra // 2
    width = [(0, 0), (before[0], extra[0] - before[0]), (before[1], extra[1] - before[1])]
    return np.pad(arrays, width, constant_values=value)


def _summary(named: dict[str, Bunch], bunch: Bunch) -> str:
    lines = []
    for name, part in named.items():
        first, *rest = part.summary.splitlines()
        lines.append(f"{printable(name)}: {first}")
        lines += [f"  {line}" for line in rest]
    shapes = sorted({b.images.shape[1:] for b in named.values()})
    padded = f"; padded from {', '.join(f'{h}x{w}' for h, w in shapes)}" if len(shapes) > 1 else ""
    lines.append(
        f"total: {len(set(bunch.groups))} patient(s), {len(bunch.frame)} slice(s) of "
        f"{bunch.images.shape[1]}x{bunch.images.shape[2]} pixels{padded}"
    )
    return "\n".join(lines)
