"""Which files a study sets aside could have been one of its images.

:func:`~skcardio.io.read_cine` reads every file of a study's folder. A file it
cannot read as a grayscale image is either an image lost (cut short, not
decodable: the study may lack it, which ``skcardio report`` must say and fail
on) or something that was never an image of the stack (a ``notes.txt``, a
DICOMDIR, a structured report, a DICOM SEG, a colour screenshot), which is set
aside like a localiser. The difference is read from the file's content, not
its name: scanners name images ``*.dcm``, ``*.IMA``, by UID or not at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.uid import UID

__all__ = ["NOT_AN_IMAGE", "UNREADABLE", "non_image_reason", "set_aside_reason"]

#: How the reason of a file set aside as unreadable starts: it may have been an image of the study.
UNREADABLE = "unreadable"
#: How the reason of a file set aside as never an image of the stack starts.
NOT_AN_IMAGE = "not a DICOM image"

#: Bytes read to find the Part 10 preamble and its 'DICM' marker.
_PREAMBLE = 132
#: Photometric interpretations of the grayscale images a cine stack is made of.
_GRAYSCALE = frozenset({"MONOCHROME1", "MONOCHROME2"})


def set_aside_reason(path: str | os.PathLike, error: Exception) -> str:
    """Why a file that could not be read as a slice is set aside: ``unreadable: ...`` or ``not a DICOM image (...): ...``."""
    why = non_image_reason(path)
    if why is None:
        return f"{UNREADABLE}: {error}"
    return f"{NOT_AN_IMAGE} ({why}): {error}"


def non_image_reason(path: str | os.PathLike) -> str | None:
    """Why ``path``, which could not be read as a slice, was never an image of the stack; None if it may have been.

    Not an image: an entry that is no regular file nor a link to one (a pipe,
    a device, a link to a folder), a file without 'DICM' at byte 128 (not
    DICOM: a ``notes.txt``, a picture, an archive; also an image overwritten
    or cut within its first 132 bytes, which its name cannot tell apart), a
    DICOMDIR, a DICOM object whose SOP class is no image storage class
    (structured reports, presentation states, SEG), a DICOM header without
    ``Rows`` and ``Columns`` and of no stated class, and a colour image.
    Everything else, an image of the study that could not be decoded (cut
    short, a broken link, an unsupported compression), may have been one.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcardio.io._non_images import non_image_reason
    >>> notes = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = notes.write_text("acquired on the old scanner")
    >>> non_image_reason(notes)
    "not DICOM, no 'DICM' at byte 128"
    """
    path = Path(path)
    if not path.exists():
        return None  # a broken link, or a file gone since the folder was listed: an image missing
    if not path.is_file():
        return "not a regular file"
    if path.name.upper() == "DICOMDIR":
        return "a DICOMDIR, the index of a DICOM medium"
    try:
        with open(path, "rb") as handle:
            preamble = handle.read(_PREAMBLE)
    except OSError:
        return None
    if preamble[128:132] != b"DICM":
        return "not DICOM, no 'DICM' at byte 128"
    return _dicom_non_image(path)


def _dicom_non_image(path: Path) -> str | None:
    """The reason a Part 10 file holds no grayscale image, from its header; None if it should hold one."""
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # noqa: BLE001 - a header cut short: an image lost, not a non-image
        return None
    sop_class = header.get("SOPClassUID") or header.get("file_meta", {}).get("MediaStorageSOPClassUID")
    name = UID(str(sop_class)).name if sop_class else ""
    if name and name != str(sop_class):  # a class pydicom knows (a private one is judged by its header)
        if "Image" not in name:  # every image storage class says so: "MR Image Storage", ...
            return f"no image class: {name}"
    elif "Rows" not in header or "Columns" not in header:
        return "no image: no SOP class, no Rows and Columns"
    photometric = str(header.get("PhotometricInterpretation", "")).strip()
    if photometric and photometric not in _GRAYSCALE:
        return f"a colour image, {photometric}"
    return None
