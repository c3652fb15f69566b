"""Which files a study sets aside could have been one of its images.

:func:`~skcardio.io.read_cine` reads every file of a study's folder. A file it
cannot read as a grayscale image is either an image lost (cut short, not
decodable: the study may lack it, which ``skcardio report`` must say and fail
on) or something that was never an image of the stack (a ``notes.txt``, a
DICOMDIR, a structured report, a DICOM SEG), which is set aside like a
localiser. When in doubt, a file counts as an image lost: saying so wrongly
costs a warning, keeping silent a slice. The difference is read from the file's content, not
its name: scanners name images ``*.dcm``, ``*.IMA``, by UID or not at all.
"""

from __future__ import annotations

import os
import stat
import warnings
from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.uid import UID

from ._dicom import _check_inflated, _quiet_invalid_uids

__all__ = ["NOT_AN_IMAGE", "UNREADABLE", "non_image_reason", "set_aside_reason"]

#: How the reason of a file set aside as unreadable starts: it may have been an image of the study.
UNREADABLE = "unreadable"
#: How the reason of a file set aside as never an image of the stack starts.
NOT_AN_IMAGE = "not a DICOM image"

#: Bytes read of a file set aside: the preamble, the 'DICM' marker and the header up to the SOP class.
_HEAD = 16384
#: First bytes of a raw (non-Part 10) data set: an element of group 0002 or 0008, little-endian.
_RAW_GROUPS = (b"\x02\x00", b"\x08\x00")
#: Bytes that only DICOM holds: the Part 10 marker, the root of the standard's UIDs, the PixelData tag.
_SIGNATURES = (b"DICM", b"1.2.840.10008.", b"\xe0\x7f\x10\x00")
#: SOPClassUID (0008,0016).
_SOP_CLASS = 0x00080016


def set_aside_reason(path: str | os.PathLike, error: Exception) -> str:
    """Why a file that could not be read as a slice is set aside: ``unreadable: ...`` or ``not a DICOM image: PATH: ...``."""
    why = non_image_reason(path)
    if why is None:
        return f"{UNREADABLE}: {error}"
    return f"{NOT_AN_IMAGE}: {os.fspath(path)}: {why}"  # the reader's error is about images: beside the point


def non_image_reason(path: str | os.PathLike) -> str | None:
    """Why ``path``, which could not be read as a slice, was never an image of the stack; None if it may have been.

    Never an image: an existing entry that is no regular file (a pipe, a
    device, a link to a folder), a DICOMDIR, a file without 'DICM' at byte
    128 and no DICOM inside (a ``notes.txt``, a picture, an archive), and a
    Part 10 file whose SOP class pydicom knows as no image storage class (a
    structured report, a presentation state, a SEG, a DICOMDIR). Everything
    else may have been an image of the study: a broken link, a file gone,
    empty or all zeros (an interrupted copy), a file with DICOM inside but
    its start overwritten, one too short for the marker that is no text, a
    raw data set without its Part 10 header, a header cut short, an image that cannot be decoded, a colour
    or private-class file, and any file this check itself cannot judge. Only
    the first :data:`_HEAD` bytes are read, within the inflation limit.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcardio.io._non_images import non_image_reason
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("acquired on the old scanner")
    >>> _ = (folder / "1.dcm").write_bytes(b"")   # an interrupted copy
    >>> non_image_reason(folder / "notes.txt"), non_image_reason(folder / "1.dcm")
    ("not DICOM, no 'DICM' at byte 128", None)
    """
    try:
        return _reason(Path(path))
    except Exception:  # noqa: BLE001 - what cannot be judged may have been an image: say so
        return None


def _reason(path: Path) -> str | None:
    if not path.exists():
        return None  # a broken link, or a file gone since the folder was listed: an image missing
    if not path.is_file():
        return "not a regular file"
    if path.name.upper() == "DICOMDIR":
        return "a DICOMDIR, the index of a DICOM medium"
    head = _head(path)
    if head is None:
        return "not a regular file"
    if head[128:132] != b"DICM":
        return _not_part10(head)
    return _image_class(path, head)


def _head(path: Path) -> bytes | None:
    """The first :data:`_HEAD` bytes of a regular file; None if it is no longer one (replaced by a pipe...)."""
    # O_NONBLOCK and fstat, as read_regular does: a file swapped for a pipe since is_file() must not block.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return os.read(descriptor, _HEAD)
    finally:
        os.close(descriptor)


def _not_part10(head: bytes) -> str | None:
    """A file without the Part 10 marker: never an image, unless it may be one damaged."""
    if not head.strip(b"\0"):
        return None  # empty or all zeros: an image never written, or overwritten
    if head[:2] in _RAW_GROUPS:
        return None  # starts with a DICOM element of group 0002 or 0008: a data set without its header
    if any(signature in head for signature in _SIGNATURES):
        return None  # DICOM inside: an image whose start was overwritten
    if len(head) < 132 and not _is_text(head):
        return None  # too short to hold the marker: an image cut within its preamble
    return "not DICOM, no 'DICM' at byte 128"


def _is_text(data: bytes) -> bool:
    """UTF-8 without NUL: a note, not the start of a binary file."""
    try:
        return "\0" not in data.decode("utf-8")
    except UnicodeDecodeError:
        return False


def _image_class(path: Path, head: bytes) -> str | None:
    """``'no image class: ...'`` for a Part 10 file of a known non-image SOP class; None otherwise."""
    with _quiet_invalid_uids(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a header cut at _HEAD bytes: pydicom remarks on it
        _check_inflated(os.fspath(path), head)  # a deflated header inflates within the limits, or not at all
        header = pydicom.dcmread(BytesIO(head), stop_before_pixels=True, specific_tags=[_SOP_CLASS])
        sop_class = UID(str(header.get("SOPClassUID") or header.file_meta.get("MediaStorageSOPClassUID", "")))
        known = sop_class.is_valid and sop_class.type == "SOP Class" and sop_class.name != str(sop_class)
    if known and "Image" not in sop_class.name:  # "MR Image Storage", ...
        return f"no image class: {sop_class.name}"
    return None
