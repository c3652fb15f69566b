"""Atomic writes: ``new_file`` (a fresh, uniquely named file that follows the umask) and ``replacing``;
``picture_format``, which tells a picture file (PNG, JPEG, TIFF) given where DICOM is read, and
``picture_signature``, the format its first bytes say."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["NAME_MAX", "PICTURE_SUFFIXES", "new_file", "picture_format", "picture_signature", "replacing"]

#: The longest file name, in bytes, that common file systems accept (ext4, APFS, NTFS: 255).
NAME_MAX = 255

_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def new_file(folder: str | os.PathLike, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new empty file with a random name in ``folder``: ``(descriptor, path)``.

    Outputs are written to such a file and then moved onto their name, so a
    failure never leaves a half-written output. Unlike ``tempfile.mkstemp``
    (always mode 0600), the file gets mode 0666 less the umask (and the
    folder's default ACL), like any file opened with ``open(path, "w")``.

    Raises
    ------
    OSError
        If the file cannot be created (the folder is missing, read-only...).
    """
    folder = Path(folder)
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, _FLAGS, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name {prefix}*{suffix}")


@contextmanager
def replacing(path: str | os.PathLike, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Write ``path`` atomically: a file opened on a temporary beside it, moved onto it on success.

    If the block fails, the temporary file is removed and ``path`` keeps its
    old content (or stays absent). ``mode`` and ``open_kwargs`` go to
    :func:`open`.

    Raises
    ------
    OSError
        If the temporary file cannot be created; the error names ``path``.
    """
    path = Path(path)
    try:
        fd, tmp = new_file(path.parent, f".{_temporary_start(path.name)}.", ".tmp")
    except OSError as exc:  # name the file asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from None
    try:
        with open(fd, mode, **open_kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


#: Bytes that :func:`replacing` adds around a name for its temporary file: ``.NAME.<12 hex digits>.tmp``.
_TEMPORARY_EXTRA = len(".") + len(".") + 12 + len(".tmp")


def _temporary_start(name: str) -> str:
    """``name``, cut so that the temporary file named after it fits in :data:`NAME_MAX` bytes (a name that fits can be written)."""
    while len(os.fsencode(name)) + _TEMPORARY_EXTRA > NAME_MAX:
        name = name[:-1]
    return name


#: The first bytes of picture files (PNG, JPEG, TIFF and BigTIFF in either byte order).
_PICTURE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"),
)
#: Their file name extensions (those :func:`~skcardio.datasets.load_image_folder` reads).
PICTURE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}


def picture_format(head: bytes, name: str | os.PathLike = "") -> str | None:
    """``"PNG"``, ``"JPEG"`` or ``"TIFF"`` when a file is a picture, not DICOM; else None.

    ``head`` is the file's first bytes (132 tell a DICOM Part 10 file: with
    ``DICM`` at byte 128 it is DICOM, whatever its preamble, which may be a
    TIFF header); a picture is told by its signature, or, when the bytes
    say nothing, by the extension of ``name`` (``.png``, ``.jpg``, ``.jpeg``,
    ``.tif``, ``.tiff``, any case).

    Examples
    --------
    >>> from skcardio._files import picture_format
    >>> picture_format(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(24), "SC-N-2-IM-0001-0048.dcm.png")
    'PNG'
    >>> picture_format(bytes(128) + b"DICM", "scan.png") is None
    True
    """
    if head[128:132] == b"DICM":
        return None
    return picture_signature(head) or PICTURE_SUFFIXES.get(os.path.splitext(os.fspath(name))[1].lower())


def picture_signature(head: bytes) -> str | None:
    """``"PNG"``, ``"JPEG"`` or ``"TIFF"`` when ``head`` starts with that format's signature; else None.

    The bytes alone, unlike :func:`picture_format`: what a file named ``.png``
    holds, whatever its name says.

    Examples
    --------
    >>> from skcardio._files import picture_signature
    >>> picture_signature(b"II*\\x00\\x08\\x00\\x00\\x00"), picture_signature(b"%!PS-Adobe-3.0 EPSF-3.0")
    ('TIFF', None)
    """
    return next((kind for signature, kind in _PICTURE_SIGNATURES if head.startswith(signature)), None)
