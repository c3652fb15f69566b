"""A narrow, fast reader for the commonest cine-MRI DICOM layout.

Parsing a whole header with pydicom costs most of the time of loading a
slice, while skcardio needs a dozen tags and the pixel bytes. This module
walks the element headers of uncompressed little-endian files (explicit or
implicit VR), keeps only the values of :data:`WANTED`, and returns ``None``
for anything else so that the caller falls back to pydicom. It never raises
on odd input: every irregularity (an undefined VR code, a wanted element
under another VR than the dictionary's, a US value that is not 2 bytes, an
element out of order after PixelData's tag, a sequence item or an element
after PixelData that is not whole, deep nesting) means "let pydicom handle
it". Text is decoded by pydicom's own functions in the file's
SpecificCharacterSet, and numbers and code strings are split and stripped as
pydicom does, so both paths give the same strings.
"""

from __future__ import annotations

import struct

from pydicom.charset import convert_encodings
from pydicom.values import convert_text

__all__ = ["scan_header", "split_text", "WANTED"]

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
    0x00280102: "HighBit",
    0x00280103: "PixelRepresentation",
    0x00280002: "SamplesPerPixel",
    0x00280008: "NumberOfFrames",
    0x00280004: "PhotometricInterpretation",
    # Grouping a cine study (skcardio.io.read_cine):
    0x00080008: "ImageType",
    0x0020000E: "SeriesInstanceUID",
    0x00200011: "SeriesNumber",
    0x00180088: "SpacingBetweenSlices",
    0x00181088: "HeartRate",
    0x00181062: "NominalInterval",
    # A DICOM SEG references its sources by this:
    0x00080018: "SOPInstanceUID",
    # A DICOM SEG is refused, not read as an image:
    0x00080016: "SOPClassUID",
    0x00080060: "Modality",
}
#: Elements whose presence sends the file to pydicom: Modality LUT Sequence
#: (applied there), Float / Double Float Pixel Data (refused there).
_DECLINE = {0x00283000, 0x7FE00008, 0x7FE00009}
#: The VR each wanted tag has in the data dictionary. An explicit VR file that
#: gives another (e.g. SliceLocation as LO, Rows as SS) is left to pydicom,
#: which converts by the file's VR: decoding by this table would differ.
_VR = {
    0x00080005: b"CS", 0x00100020: b"LO", 0x00200013: b"IS", 0x00280030: b"DS",
    0x00180050: b"DS", 0x00201041: b"DS", 0x00181060: b"DS", 0x00200032: b"DS",
    0x00200037: b"DS", 0x00281053: b"DS", 0x00281052: b"DS", 0x00280010: b"US",
    0x00280011: b"US", 0x00280100: b"US", 0x00280101: b"US", 0x00280102: b"US", 0x00280103: b"US",
    0x00280002: b"US", 0x00280008: b"IS", 0x00280004: b"CS", 0x00080008: b"CS",
    0x0020000E: b"UI", 0x00200011: b"IS", 0x00180088: b"DS", 0x00181088: b"IS",
    0x00181062: b"IS", 0x00080016: b"UI", 0x00080060: b"CS", 0x00080018: b"UI",
}
_LONG_VR = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
#: The other VR codes of PS3.5 6.2 (2-byte length). Any other two bytes are
#: corrupt (PS3.5 7.1.2): reading a length for them would misplace what follows.
_SHORT_VR = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
    b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
}
#: The whitespace float() and int() ignore around a number (in Latin-1):
#: str.strip() also removes U+001C..U+001F, with which they fail.
_NUMBER_SPACE = " \t\n\v\f\r\x85\xa0"
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
#: Stack entries of _skip_sequence (a defined-length item is its end position).
_IN_SEQUENCE, _IN_ITEM = -2, -1
#: Open sequences and items in an undefined-length sequence (one of each per
#: level of nesting) beyond which pydicom decides, so that both paths agree:
#: its recursive parser reads about 190 levels from a shallow call stack and
#: fails beyond (DicomReadError). Real files nest a few levels.
_MAX_DEPTH = 128


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
    pos, syntax, media_class = _file_meta(data, 132)
    if syntax not in (EXPLICIT_LE, IMPLICIT_LE) or data[pos : pos + 2] == b"\0\0":
        # Group 0000 first is a command set, which pydicom reads (and checks)
        # in implicit VR whatever the syntax: pydicom decides.
        raise _Unsupported
    explicit = syntax == EXPLICIT_LE
    # The file meta's SOP class stands in for an absent SOPClassUID (read_dicom refuses a DICOM SEG by it).
    values: dict = {"MediaStorageSOPClassUID": media_class}
    while pos < len(data):
        tag, vr, length, pos = _element_header(data, pos, explicit)
        if tag in _DECLINE:
            raise _Unsupported
        if tag >= PIXEL_DATA:  # in a valid file, the last element read
            return values, pos, _pixel_length(data, pos, tag, vr, length, explicit)
        if length == _UNDEFINED:
            pos = _skip_sequence(data, pos, explicit, vr)
            continue
        if tag in WANTED:
            if explicit and vr != _VR[tag]:
                raise _Unsupported
            values[WANTED[tag]] = _decode(tag, data[pos : pos + length], values)
        pos += length
    raise _Unsupported  # no pixel data


def _pixel_length(data: bytes, pos: int, tag: int, vr: bytes | None, length: int, explicit: bool) -> int:
    """PixelData's length, once checked: native, whole, last or followed by whole elements."""
    if tag != PIXEL_DATA:
        # Out of order, e.g. an item tag (FFFE,E000) outside any sequence,
        # which pydicom reads otherwise: pydicom decides.
        raise _Unsupported
    if length == _UNDEFINED or pos + length > len(data) or (explicit and vr not in (b"OB", b"OW")):
        raise _Unsupported  # encapsulated, truncated or odd: pydicom decides
    if pos + length < len(data):  # e.g. Data Set Trailing Padding (FFFC,FFFC)
        _check_trailing(data, pos + length, explicit)
    return length


def _check_trailing(data: bytes, pos: int, explicit: bool) -> None:
    """Check that the elements after PixelData are whole, as pydicom parses them too.

    A file cut in the middle of one of them is refused by pydicom: so that
    both paths agree, the fast path declines it.
    """
    while pos < len(data):
        _, vr, length, pos = _element_header(data, pos, explicit)
        pos = _skip_sequence(data, pos, explicit, vr) if length == _UNDEFINED else pos + length
    if pos != len(data):
        raise _Unsupported


def _file_meta(data: bytes, pos: int) -> tuple[int, str, str]:
    """The position after the file meta group, its transfer syntax and its MediaStorageSOPClassUID."""
    syntax, media_class = None, ""
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
        tag, _, length, pos = _element_header(data, pos, True)
        if tag in (0x00020002, 0x00020010):
            text = data[pos : pos + length].decode("ascii").rstrip("\0 ")
            syntax, media_class = (text, media_class) if tag == 0x00020010 else (syntax, text)
        pos += length
    if syntax is None:
        raise _Unsupported
    return pos, syntax, media_class


def _element_header(data: bytes, pos: int, explicit: bool):
    group, element = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | element
    if group == 0xFFFE or not explicit:  # item delimiters never carry a VR
        return tag, None, struct.unpack_from("<I", data, pos + 4)[0], pos + 8
    vr = data[pos + 4 : pos + 6]
    if vr in _SHORT_VR:
        return tag, vr, struct.unpack_from("<H", data, pos + 6)[0], pos + 8
    if vr in _LONG_VR:
        return tag, vr, struct.unpack_from("<I", data, pos + 8)[0], pos + 12
    raise _Unsupported


def _skip_sequence(data: bytes, pos: int, explicit: bool, vr: bytes | None) -> int:
    """Walk an undefined-length sequence as pydicom parses it; return the position after it.

    pydicom parses such a sequence item by item, and each item element by
    element (defined-length ones too), so a corrupt item makes it refuse the
    file: the walk checks the same structure, and declines (pydicom decides)
    at anything out of place. A loop with a stack of the open sequences and
    items, not recursion, so that no nesting (legal, and free to forge) can
    overflow Python's stack; beyond :data:`_MAX_DEPTH` of them pydicom decides.
    """
    if explicit and vr not in (b"SQ", b"UN"):
        raise _Unsupported  # pydicom searches such a value's bytes for a delimiter
    open_ = [_IN_SEQUENCE]  # innermost last; a defined-length item is its end position
    while open_:
        inner = open_[-1]
        if inner >= 0 and pos >= inner:  # the end of a defined-length item
            if pos > inner:
                raise _Unsupported  # an element ran past it
            open_.pop()
            continue
        tag, vr, length, pos = _element_header(data, pos, explicit)
        if inner == _IN_SEQUENCE and tag != _SEQ_END:
            open_.append(_item(tag, length, pos))
        elif (inner, tag) in ((_IN_SEQUENCE, _SEQ_END), (_IN_ITEM, _ITEM_END)):
            open_.pop()
        elif tag >> 16 == 0xFFFE:
            raise _Unsupported  # an item or delimiter where an element belongs
        elif length == _UNDEFINED:
            if explicit and vr not in (b"SQ", b"UN"):
                raise _Unsupported
            open_.append(_IN_SEQUENCE)
        else:
            pos += length
        if pos > len(data) or len(open_) > _MAX_DEPTH:
            raise _Unsupported
    return pos


def _item(tag: int, length: int, pos: int) -> int:
    """The stack entry of an item that starts at ``pos``: its end, or _IN_ITEM."""
    if tag != _ITEM:
        raise _Unsupported  # pydicom would read anything here as an item
    return _IN_ITEM if length == _UNDEFINED else pos + length


def _decode(tag: int, raw: bytes, values: dict):
    vr = _VR[tag]
    if vr == b"US":
        # One 2-byte value (VM 1); empty means absent, as for pydicom. Other
        # lengths (a byte short, two values) are left to pydicom, which names them.
        if len(raw) == 2:
            return raw[0] | raw[1] << 8
        if raw:
            raise _Unsupported
        return None
    if vr == b"LO":
        # pydicom's own decoder, in the character set(s) declared earlier in
        # the file (0008,0005 precedes every text tag we read): the same
        # string as the pydicom path for UTF-8, ISO 2022 escapes, etc.
        return convert_text(raw, convert_encodings(values.get("SpecificCharacterSet")))
    value = split_text(raw, vr)
    if tag == 0x00080005:
        # pydicom looks the character sets up on reading them and refuses the
        # file when that fails (ValueError for an embedded NUL): so do we.
        convert_encodings(value)
    return value


def split_text(raw: bytes, vr: bytes):
    """A DS, IS or CS value as pydicom gives it: a str, or a list for several.

    pydicom strips all whitespace (tab, NBSP...) around a whole DS, then for
    every VR removes trailing spaces and NULs and splits at '\\'; each DS or
    IS part is stripped of whitespace unless blank (kept as is), CS parts are
    not. ``str()`` of pydicom's values gives these strings. A part that
    float() refuses (pydicom keeps the element as text then) is kept whole,
    to be refused alike.
    """
    text = raw.decode("latin-1")
    if vr == b"DS":
        text = text.strip()
    text = text.rstrip(" \0")
    if vr == b"CS":
        return text.split("\\") if "\\" in text else text
    if "\\" not in text:  # the usual single value: no list to build
        return text.strip(_NUMBER_SPACE) or text
    return [part.strip(_NUMBER_SPACE) or part for part in text.split("\\")]
