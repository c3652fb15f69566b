"""A narrow, fast reader for the commonest cine-MRI DICOM layout.

Parsing a whole header with pydicom costs most of the time of loading a
slice, while skcardio needs a dozen tags and the pixel bytes. This module
walks the element headers of uncompressed little-endian files (explicit or
implicit VR), keeps only the values of :data:`WANTED`, and returns ``None``
for anything else so that the caller falls back to pydicom. It never raises
on odd input: every irregularity means "let pydicom handle it". Text is
decoded by pydicom's own functions in the file's SpecificCharacterSet, so
both paths give the same strings.
"""

from __future__ import annotations

import struct

from pydicom.charset import convert_encodings
from pydicom.values import convert_text

__all__ = ["scan_header", "WANTED"]

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
PIXEL_DATA = 0x7FE00010
#: Tags read: (group << 16 | element) -> keyword.
WANTED = {
    0x00080005: "SpecificCharacterSet",
    0x00100020: "PatientID",
    0x00200013: "InstanceNumber",
    0x00280030: "PixelSpacing",
    0x00180050: "SliceThickness",
    0x00201041: "SliceLocation",
    0x00181060: "TriggerTime",
    0x00200032: "ImagePositionPatient",
    0x00200037: "ImageOrientationPatient",
    0x00281053: "RescaleSlope",
    0x00281052: "RescaleIntercept",
    0x00280010: "Rows",
    0x00280011: "Columns",
    0x00280100: "BitsAllocated",
    0x00280101: "BitsStored",
    0x00280103: "PixelRepresentation",
    0x00280002: "SamplesPerPixel",
    0x00280008: "NumberOfFrames",
    0x00280004: "PhotometricInterpretation",
}
#: Elements whose presence sends the file to pydicom: Modality LUT Sequence
#: (applied there), Float / Double Float Pixel Data (refused there).
_DECLINE = {0x00283000, 0x7FE00008, 0x7FE00009}
_US = {0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280103, 0x00280002}
#: Text whose bytes depend on SpecificCharacterSet (numbers are always ASCII).
_TEXT = {0x00100020}
_LONG_VR = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_UNDEFINED = 0xFFFFFFFF
_ITEM_END, _SEQ_END = 0xFFFEE00D, 0xFFFEE0DD


class _Unsupported(Exception):
    """Internal: the file is outside the fast path."""


def scan_header(data: bytes) -> tuple[dict, int, int] | None:
    """Return ``(values, pixel_offset, pixel_length)`` or None to fall back.

    ``values`` maps keywords of :data:`WANTED` to decoded values (str for
    text, int for US, a list of str for multi-valued text).
    """
    try:
        return _scan(data)
    except (_Unsupported, struct.error, IndexError, LookupError, ValueError):
        # ValueError includes UnicodeDecodeError; LookupError an unknown codec.
        return None


def _scan(data: bytes):
    if data[128:132] != b"DICM":
        raise _Unsupported
    pos, syntax = _file_meta(data, 132)
    if syntax not in (EXPLICIT_LE, IMPLICIT_LE):
        raise _Unsupported
    explicit = syntax == EXPLICIT_LE
    values: dict = {}
    while pos < len(data):
        tag, vr, length, pos = _element_header(data, pos, explicit)
        if tag in _DECLINE:
            raise _Unsupported
        if tag == PIXEL_DATA:
            if length == _UNDEFINED or pos + length > len(data):
                raise _Unsupported  # encapsulated or truncated: pydicom decides
            return values, pos, length
        if length == _UNDEFINED:
            pos = _skip_undefined(data, pos, explicit)
            continue
        if tag in WANTED:
            values[WANTED[tag]] = _decode(tag, data[pos : pos + length], values)
        pos += length
    raise _Unsupported  # no pixel data


def _file_meta(data: bytes, pos: int) -> tuple[int, str]:
    syntax = None
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
        tag, _, length, pos = _element_header(data, pos, True)
        if tag == 0x00020010:
            syntax = data[pos : pos + length].decode("ascii").rstrip("\0 ")
        pos += length
    if syntax is None:
        raise _Unsupported
    return pos, syntax


def _element_header(data: bytes, pos: int, explicit: bool):
    group, element = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | element
    if group == 0xFFFE or not explicit:  # item delimiters never carry a VR
        return tag, None, struct.unpack_from("<I", data, pos + 4)[0], pos + 8
    vr = data[pos + 4 : pos + 6]
    if vr in _LONG_VR:
        return tag, vr, struct.unpack_from("<I", data, pos + 8)[0], pos + 12
    return tag, vr, struct.unpack_from("<H", data, pos + 6)[0], pos + 8


def _skip_undefined(data: bytes, pos: int, explicit: bool) -> int:
    """Skip a sequence or item of undefined length; return the position after it."""
    while True:
        tag, _, length, pos = _element_header(data, pos, explicit)
        if tag in (_SEQ_END, _ITEM_END):
            return pos
        pos = _skip_undefined(data, pos, explicit) if length == _UNDEFINED else pos + length
        if pos > len(data):
            raise _Unsupported


def _decode(tag: int, raw: bytes, values: dict):
    if tag in _US:
        return struct.unpack_from("<H", raw)[0] if len(raw) >= 2 else None
    if tag in _TEXT:
        # pydicom's own decoder, in the character set(s) declared earlier in
        # the file (0008,0005 precedes every text tag we read): the same
        # string as the pydicom path for UTF-8, ISO 2022 escapes, etc.
        return convert_text(raw, convert_encodings(values.get("SpecificCharacterSet")))
    text = raw.decode("latin-1").strip("\0 ")
    return [part.strip() for part in text.split("\\")] if "\\" in text else text
