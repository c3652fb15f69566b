"""Slice records (a table or structured array of slices with a ``dicom_path`` column) or plain DICOM paths.

Part of the one set of input checks (:mod:`skcardio.utils._validation`,
which re-exports these): :func:`is_records`, :func:`record_names`,
:func:`check_records`, :func:`record_column`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import numpy as np

__all__ = ["check_records", "is_records", "record_column", "record_names"]


def is_records(X) -> bool:
    """True for slice records: a structured array or a table with columns."""
    if isinstance(X, np.ndarray):
        return X.dtype.names is not None
    return hasattr(X, "columns") or isinstance(X, Mapping)


def record_names(X) -> tuple[str, ...]:
    """Field names of slice records ``X`` (see :func:`is_records`)."""
    if isinstance(X, np.ndarray):
        return X.dtype.names or ()
    return tuple(X.keys()) if isinstance(X, Mapping) else tuple(X.columns)


def check_records(X) -> list[str]:
    """Return the DICOM paths of ``X``; ValueError unless it is non-empty slice records or paths."""
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError("sparse input is not supported: expected slice records or DICOM paths")
    if isinstance(X, np.void) and X.dtype.names is not None:
        raise ValueError(
            f"expected slice records, got a single record ({type(X).__name__}); "
            "select it as a slice of records, e.g. frame[i:i + 1]"
        )
    if is_records(X):
        paths = record_column(X, "dicom_path")
        if isinstance(X, Mapping):
            _check_column_lengths(X, len(paths))
    else:
        _check_plain_paths(X)
        paths = record_column(X, "dicom_path")
    if not paths:
        raise ValueError("found 0 sample(s): X holds no slice record")
    for i, path in enumerate(paths):
        if not path:
            raise ValueError(f"record {i} has no dicom_path (empty or missing); every record needs its DICOM file")
    return paths


def _check_column_lengths(X: Mapping, n: int) -> None:
    """Every column of a mapping holds ``n`` values (scalars and strings are shared by all)."""
    for name, column in X.items():
        if isinstance(column, (str, bytes, os.PathLike)):
            continue
        try:
            size = len(column)
        except TypeError:  # a scalar shared by every record
            continue
        if size != n:
            raise ValueError(
                f"slice records have columns of different lengths: {name!r} has {size} "
                f"value(s) but 'dicom_path' has {n}"
            )


def _check_plain_paths(X) -> None:
    """``X`` is a 1-D sequence of paths (not one path, not numbers)."""
    if isinstance(X, (str, os.PathLike)):
        raise ValueError(f"expected a sequence of DICOM paths, got a single path {str(os.fspath(X))!r}")
    values = np.asarray(X, dtype=object)
    bad = [v for v in values.ravel() if not isinstance(v, (str, os.PathLike))][:1]
    if values.ndim != 1 or bad:
        holding = f" holding {type(bad[0]).__name__}" if bad else ""
        raise ValueError(
            "expected slice records (e.g. load_dataset(...).frame) or a 1-D sequence of "
            f"DICOM paths, got {type(X).__name__} of shape {values.shape}{holding}"
        )


def record_column(X, name: str, *, required: bool = True) -> list[str] | None:
    """Return column ``name`` of records ``X`` as a list of strings.

    Plain sequences of paths are treated as a ``dicom_path`` column.
    """
    if not is_records(X):
        if name != "dicom_path":
            if required:
                raise ValueError(
                    f"column {name!r} is needed but X is a plain list of paths; pass "
                    "slice records such as load_dataset(...).frame"
                )
            return None
        values = np.asarray(X, dtype=object).ravel() if not isinstance(X, (str, os.PathLike)) else [X]
        return [os.fspath(v) for v in values]
    names = record_names(X)
    if name not in names:
        if required:
            raise ValueError(f"slice records lack the column {name!r}; got columns {list(names)}")
        return None
    column = X[name]
    if isinstance(column, (str, os.PathLike)) and isinstance(X, Mapping):
        # One path shared by every record, as _check_column_lengths allows.
        column = [column] * len(np.asarray(X["dicom_path"], dtype=object).ravel())
    return [os.fspath(v) if not _missing(v) else "" for v in np.asarray(column, dtype=object).ravel()]


def _missing(value) -> bool:
    """None, NaN, or pandas' NA: what tables read from CSV hold for an empty cell."""
    if value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return True
    # pandas.NA (nullable string columns, frame.convert_dtypes()), without importing pandas.
    pandas = sys.modules.get("pandas")
    return pandas is not None and value is getattr(pandas, "NA", None)
