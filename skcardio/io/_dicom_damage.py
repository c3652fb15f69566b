"""Damaged and non-conforming DICOM headers, told as the file's error (:class:`DicomReadError`).

pydicom decodes values lazily and raises its own exceptions (a garbled VR is
``NotImplementedError``, a short value ``BytesLengthException``) at first
use, anywhere; :func:`_convert_values` decodes them all up front, naming the
element, and :func:`_damaged_file` turns whatever else pydicom raises while
a file is read into that file's error. Non-conforming UIDs are read as they
are, pydicom's remark on them silenced (:func:`_quiet_invalid_uids`).
"""

from __future__ import annotations

import logging
import os
import struct
import sys
import warnings
import zlib
from contextlib import contextmanager

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.errors import BytesLengthException

from ..exceptions import DicomReadError, SkcardioError
from ._fastdicom import split_text
from ._values import _name, _tag_name

#: The file meta elements read_dicom reads: MediaStorageSOPClassUID (a SEG without a SOPClassUID is told by it)
#: and TransferSyntaxUID.
_META_TAGS = (0x00020002, 0x00020010)


#: What a file cut short, or with a corrupt element, makes pydicom raise while
#: parsing or converting values (struct.error: an element header cut short;
#: BytesLengthException: a binary value cut to a partial number, e.g. a 1-byte
#: US; zlib.error: a deflated data set cut short; NotImplementedError: a garbled
#: VR; OverflowError: an IS such as 'inf' or '1e400', which pydicom converts
#: with int(float(...)); RecursionError: sequences nested deeper than pydicom's
#: recursive parser reaches).
_PARSE_ERRORS = (
    EOFError, OSError, struct.error, zlib.error, BytesLengthException, NotImplementedError,
    ValueError, KeyError, TypeError, OverflowError, RecursionError,
)


_INVALID_UID = "Invalid value for VR UI"


class _DropInvalidUids(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_INVALID_UID)


@contextmanager
def _quiet_invalid_uids():
    """Non-conformant UIDs (a component with a leading zero, common in anonymised
    data) still identify a series: no remark per file. pydicom both warns and logs
    each one (``warn_and_log``): the warning is ignored, the log record dropped."""
    logger, drop = logging.getLogger("pydicom"), _DropInvalidUids()  # one per call: threads add and remove their own
    logger.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_INVALID_UID, category=UserWarning)
            yield
    finally:
        logger.removeFilter(drop)


def _convert_values(ds: pydicom.Dataset, path: str, *, whole_meta: bool = False, dropped: list | None = None) -> None:
    """Convert every value now, naming the element whose value is corrupt.

    pydicom converts values lazily: without this a corrupt value would fail
    later, at first use (a garbled VR of MediaStorageSOPClassUID when the SOP
    class is looked up), with a bare pydicom exception. The items of a
    sequence are converted too. Of the file meta, only the elements that
    read_dicom reads (:data:`_META_TAGS`), unless ``whole_meta``
    (:func:`read_header`, whose callers copy the whole header): a damaged
    ImplementationClassUID, say, does not make the image unreadable, as an
    element of the data set that read_dicom does not parse does not. With
    ``dropped`` (a list), an element other than those of :data:`_META_TAGS`
    whose value cannot be decoded is deleted and named there instead.
    """
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _convert_dataset(meta, path, "", None if whole_meta else _META_TAGS, dropped)
    _convert_dataset(ds, path, "", None, dropped)


def _convert_dataset(ds: pydicom.Dataset, path: str, within: str, tags=None, dropped: list | None = None) -> None:
    """:func:`_convert_values` for one data set: its ``tags`` (all when None).

    ``within``: the item it is, e.g. `` in ModalityLUTSequence (0028,3000) item 1``.
    """
    chosen = sorted(ds.keys()) if tags is None else [tag for tag in tags if tag in ds]
    for tag in chosen:  # in tag order: BitsAllocated before PixelData
        try:
            element = ds[tag]
        except (AttributeError, *_PARSE_ERRORS) as exc:
            if isinstance(exc, OverflowError) and _keep_as_text(ds, tag):
                continue
            if dropped is not None and tag not in _META_TAGS:
                del ds[tag]  # read_header's copy without it: a SEG need not fail for a damaged Manufacturer
                dropped.append(f"{_tag_name(tag)}{within}")
                continue
            if isinstance(exc, AttributeError):
                raise _unresolved_vr(ds, tag, path, exc, within) from exc
            raise _corrupt(path, exc, f"cannot convert {_tag_name(tag)}{within}") from exc
        if element.VR == "SQ":
            for number, item in enumerate(element.value, 1):
                _convert_dataset(item, path, f" in {_tag_name(tag)} item {number}{within}", None, dropped)


def _keep_as_text(ds: pydicom.Dataset, tag) -> bool:
    """Keep an IS value such as 'inf' or '1e400' as its text; False if not an IS.

    pydicom keeps a value it cannot convert (ValueError) as text, but lets
    the OverflowError of int(float('inf')) escape. As text (split as the fast
    path does) the checks report it as any malformed number, as for a file
    read by the fast path: 'InstanceNumber (0020,0013) must hold 1 finite
    decimal number(s) ..., got 1 value(s): 'inf''.
    """
    raw = ds.get_item(tag)
    vr = raw.VR if raw.VR not in (None, "UN") else dictionary_VR(tag)  # as pydicom converts it
    if vr != "IS":  # no other conversion is known to overflow: reported as corrupt
        return False
    ds[tag] = DataElement(tag, "SH", split_text(raw.value, b"IS"))
    return True


def _unresolved_vr(ds: pydicom.Dataset, tag, path: str, exc: AttributeError, within: str = "") -> DicomReadError:
    """The error for pydicom's failure to resolve an ambiguous VR.

    PixelData read with implicit VR in a file whose meta says explicit VR is
    'OB or OW' until pydicom looks up BitsAllocated, which fails when that is
    absent: report the missing element, as for any other file.
    """
    if tag == 0x7FE00010 and not within:  # everything before it is converted: checking those is safe
        missing = [_name(k) for k in _REQUIRED[:-1] if k not in ds or ds[k].is_empty]
        if missing:
            return _missing_error(path, missing)
    return _corrupt(path, exc, f"cannot resolve the VR of {_tag_name(tag)}{within}")


#: What pydicom may raise on a damaged file, beyond :data:`_PARSE_ERRORS`, while decoding a value or the pixel
#: data on first use (AttributeError: a value of the wrong kind, IndexError: a LUT shorter than its descriptor,
#: BytesLengthException: a binary value cut to a partial number; ArithmeticError: ZeroDivisionError...).
#: MemoryError is not among them: what a file claims is bounded by the limits before it is allocated, so
#: running out of memory is the machine's state, not the file's damage.
_DAMAGE_ERRORS = _PARSE_ERRORS + (AttributeError, LookupError, ArithmeticError, RuntimeError, EOFError)
_PYDICOM = os.path.dirname(pydicom.__file__) + os.sep


@contextmanager
def _damaged_file(path: str):
    """Turn an exception that pydicom raises while reading ``path`` into a :class:`DicomReadError` naming it.

    pydicom parses lazily: an element is decoded on first access, wherever
    that is (a garbled VR raises NotImplementedError there), and a file's
    damage can surface in any reading step. The steps name what they know
    (:func:`_convert_values`, :func:`_pixels`); this guard, around the whole
    reading of a file, catches what they do not. Only an exception raised in
    pydicom (its traceback passes through pydicom's code) is the file's: one
    raised by skcardio's own code is a defect, and leaves unchanged, with its
    traceback. ``SkcardioError`` (a ``ValueError``) passes through as it is.
    """
    try:
        yield
    except SkcardioError:
        raise
    except _DAMAGE_ERRORS as exc:
        if not _raised_in_pydicom(exc):
            raise
        raise _corrupt(path, exc) from exc


def _raised_in_pydicom(exc: BaseException) -> bool:
    """Whether ``exc`` was raised in pydicom's code (or in what pydicom called), by its traceback."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_PYDICOM):
            return True
        tb = tb.tb_next
    return False


def _corrupt(path: str, exc: BaseException, where: str = "") -> DicomReadError:
    """'truncated or corrupt DICOM' with the cause (and the element, when known)."""
    where = f": {where}" if where else ""
    if isinstance(exc, RecursionError):
        return DicomReadError(
            f"{path}: sequences nested too deeply for pydicom to parse{where} ({_describe(exc)}): "
            f"expected nesting within Python's recursion limit ({sys.getrecursionlimit()} frames)"
        )
    return DicomReadError(f"{path}: truncated or corrupt DICOM{where} ({_describe(exc)})")


def _describe(exc: BaseException) -> str:
    """'struct.error: unpack requires ...': the qualified name says where it came from."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: {exc}"


#: Elements an image cannot be decoded without.
_REQUIRED = ("Rows", "Columns", "BitsAllocated", "PixelData")


def _missing_error(path: str, missing: list[str]) -> DicomReadError:
    return DicomReadError(
        f"{path}: missing required element(s) {', '.join(missing)}: a slice needs "
        f"{', '.join(_REQUIRED)} (the file may be cut short, or hold no image)"
    )
