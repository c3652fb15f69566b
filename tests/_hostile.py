"""Hostile and broken input files, written small (or streamed) for the tests and benchmarks/bench_hostile.py.

Each writer takes a path and returns it. None holds a large file in memory:
bombs are streamed through zlib, so the tests that write them stay cheap.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def write_dicom(*args, **kwargs) -> Path:
    """tests/conftest.py's writer (loaded by path: tests/segment has a conftest.py of its own)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_skcardio_tests_conftest", Path(__file__).with_name("conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_dicom(*args, **kwargs)


#: The Deflated Explicit VR Little Endian transfer syntax.
_DEFLATED = "1.2.840.10008.1.2.1.99"


def _meta_end(data: bytes) -> int:
    """Where the meta group ends: after (0002,0000) UL group length at byte 132."""
    assert data[132:138] == b"\x02\x00\x00\x00UL"
    return 144 + struct.unpack_from("<I", data, 140)[0]


def rle_bomb(path: Path, rows: int = 65535, cols: int = 65535) -> Path:
    """An RLE Lossless DICOM of about 2 KB whose header claims ``rows`` x ``cols`` 8-bit pixels."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    segment = bytes([0x81, 0]) * 1000  # runs of 128 zeros: far fewer than claimed
    frame = struct.pack("<16I", 1, 64, *([0] * 14)) + segment
    write_dicom(path, np.zeros((1, 1), np.uint16), syntax=RLELossless, pixel_data=False,
                Rows=rows, Columns=cols, BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0)
    import pydicom

    ds = pydicom.dcmread(path)
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def deflate_bomb(path: Path, inflated_bytes: int) -> Path:
    """A deflated DICOM (a valid 8 x 8 slice) whose data set inflates to about ``inflated_bytes``.

    The bytes are trailing padding (FFFC,FFFC) of zeros: about 1000:1, so a
    1 GB bomb is a 1 MB file. Compressed in 16 MB pieces.
    """
    from pydicom.uid import ExplicitVRLittleEndian

    plain = write_dicom(Path(path).with_suffix(".plain"), np.zeros((8, 8), np.int16), syntax=ExplicitVRLittleEndian)
    data = plain.read_bytes()
    plain.unlink()
    end = _meta_end(data)
    meta = _with_syntax(data[:end], _DEFLATED)
    body = data[end:]
    padding = max(inflated_bytes - len(body), 0)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as handle:
        handle.write(meta)
        handle.write(deflater.compress(body + struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, padding)))
        piece = bytes(16 << 20)
        for start in range(0, padding, len(piece)):
            handle.write(deflater.compress(piece[: min(len(piece), padding - start)]))
        handle.write(deflater.flush())
    return path


def _with_syntax(meta: bytes, syntax: str) -> bytes:
    """The meta group with its TransferSyntaxUID (0002,0010) replaced, group length fixed."""
    pos, out = 144, bytearray(meta[:144])
    while pos < len(meta):
        tag = struct.unpack_from("<HH", meta, pos)
        vr = meta[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"UN", b"UT", b"SQ"):
            length, head = struct.unpack_from("<I", meta, pos + 8)[0], 12
        else:
            length, head = struct.unpack_from("<H", meta, pos + 6)[0], 8
        element = meta[pos : pos + head + length]
        if tag == (0x0002, 0x0010):
            value = syntax.encode() + (b"\0" if len(syntax) % 2 else b"")
            element = struct.pack("<HH2sH", 2, 0x10, b"UI", len(value)) + value
        out += element
        pos += head + length
    struct.pack_into("<I", out, 140, len(out) - 144)
    return bytes(out)


def deflated_slice(path: Path, pixels) -> Path:
    """A valid deflated DICOM slice (pydicom writes it)."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    return write_dicom(path, pixels, syntax=DeflatedExplicitVRLittleEndian)


def garbled_vr(path: Path, tag: bytes = b"\x02\x00\x02\x00", vr: bytes = b"UI") -> Path:
    """Change one byte of an element's VR in place: ``UI`` becomes ``U\\xf6``, an unknown VR, as one corrupt byte makes it.

    ``tag``: the element's tag as written (little endian), by default the file
    meta's MediaStorageSOPClassUID (0002,0002), which pydicom decodes only at
    first use: any explicit VR file, real or written by ``write_dicom``.
    """
    data = bytearray(Path(path).read_bytes())
    at = data.index(tag + vr)
    data[at + 5] = 0xF6
    Path(path).write_bytes(bytes(data))
    return Path(path)


def large_slice(path: Path, side: int = 4096) -> Path:
    """A valid ``side`` x ``side`` 16-bit slice (32 MB at 4096)."""
    rows, cols = np.mgrid[:side, :side]
    pixels = (((rows - side / 2) ** 2 + (cols - side / 2) ** 2 < (side / 6) ** 2) * 800 + 100).astype(np.uint16)
    return write_dicom(path, pixels)


def many_points_contour(path: Path, n_points: int) -> Path:
    """A contour file of ``n_points`` points (written in pieces)."""
    with open(path, "w") as handle:
        for start in range(0, n_points, 100_000):
            handle.write("".join(f"{i % 200}.50 {i % 100}.25\n" for i in range(start, min(n_points, start + 100_000))))
    return path


def long_line_contour(path: Path, n_chars: int) -> Path:
    """A contour file whose second line is ``n_chars`` characters of junk."""
    with open(path, "w") as handle:
        handle.write("1 1\n")
        for start in range(0, n_chars, 1 << 24):
            handle.write("9" * min(1 << 24, n_chars - start))
        handle.write("\n2 2\n3 1\n")
    return path


def many_rows_link(path: Path, n_rows: int) -> Path:
    """A link.csv of ``n_rows`` malformed rows (each one a skipped item if read)."""
    with open(path, "w") as handle:
        handle.write("patient_id,original_id\n")
        for start in range(0, n_rows, 100_000):
            handle.write("".join(f"row{i}\n" for i in range(start, min(n_rows, start + 100_000))))
    return path


def rewrite_model(source: Path, path: Path, *, params=None, state=None, n_channels=None) -> Path:
    """A copy of the model file ``source`` with some entries changed (params: a dict of updates)."""
    import torch

    payload = torch.load(source, weights_only=True)
    if params:
        payload["params"] = json.dumps({**json.loads(payload["params"]), **params})
    if state:
        payload["state_dict"] = {**payload["state_dict"], **state}
    if n_channels is not None:
        payload["n_channels"] = n_channels
    torch.save(payload, path)
    return path


def zip_bomb_model(source: Path, path: Path, record_bytes: int) -> Path:
    """A copy of the model file ``source`` with one more record: ``record_bytes`` zeros, deflated."""
    import zipfile

    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as bomb:
        for record in original.infolist():
            bomb.writestr(record, original.read(record), compress_type=zipfile.ZIP_STORED)
        prefix = original.infolist()[0].filename.split("/")[0]
        info = zipfile.ZipInfo(f"{prefix}/data/1000")
        info.compress_type = zipfile.ZIP_DEFLATED
        with bomb.open(info, "w", force_zip64=True) as handle:
            piece = bytes(16 << 20)
            for start in range(0, record_bytes, len(piece)):
                handle.write(piece[: min(len(piece), record_bytes - start)])
    return path


def png_bomb(path: Path, side: int = 8000) -> Path:
    """A grayscale PNG of ``side`` x ``side`` zeros: about 1000:1, so 64 MB of pixels in a 64 KB file."""
    import zlib as _zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", _zlib.crc32(kind + body))

    deflater = _zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte 0, then the pixels
    idat = b"".join(deflater.compress(row) for _ in range(side)) + deflater.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


@contextmanager
def nested_folders(root: Path, depth: int = 1100) -> Iterator[Path]:
    """``depth`` folders, each in the one before, below ``root`` (``d/d/d/...``, 2 bytes a level): the deepest.

    1100 levels: beyond Python's recursion limit (1000), well within a path's (4096 bytes). Made one
    level at a time (``os.makedirs`` recurses once per missing folder), and removed so on leaving,
    whatever the test put in them: pytest removes old temporary folders with ``shutil.rmtree``,
    recursive before Python 3.12, whose RecursionError on such a tree stopped later test sessions.
    """
    import os

    folders = []
    try:
        folder = root
        for _ in range(depth):
            folder = folder / "d"
            folder.mkdir()
            folders.append(folder)
        yield folder
    finally:
        for folder in reversed(folders):  # the deepest first: each is empty of folders when reached
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        os.rmdir(entry.path)  # a folder the test made in the deepest one, empty
                    else:
                        os.unlink(entry.path)
            folder.rmdir()


def deny_folders(monkeypatch, *folders) -> None:
    """Make each of ``folders`` behave as a folder of mode 000 does for a user other than root.

    ``os.scandir`` and ``os.listdir`` (behind ``os.walk``, ``Path.iterdir`` and ``Path.rglob``) raise
    ``PermissionError`` for them, and ``os.stat`` / ``os.lstat`` (behind ``Path.is_dir``,
    ``os.path.isdir``...) for anything inside them, so the tests see unreadable folders when
    run as root too.
    """
    import errno
    import os

    denied = {os.path.abspath(folder) for folder in folders}

    def refused(path, inside: bool) -> bool:
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False  # a file descriptor
        path = os.path.abspath(os.fsdecode(path))
        return any(path.startswith(folder + os.sep) for folder in denied) or (not inside and path in denied)

    def guard(function, inside: bool):
        def guarded(path=".", *args, **kwargs):
            if refused(path, inside):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return function(path, *args, **kwargs)

        return guarded

    monkeypatch.setattr(os, "scandir", guard(os.scandir, inside=False))
    monkeypatch.setattr(os, "listdir", guard(os.listdir, inside=False))  # Path.iterdir before Python 3.13
    monkeypatch.setattr(os, "stat", guard(os.stat, inside=True))
    monkeypatch.setattr(os, "lstat", guard(os.lstat, inside=True))


@contextmanager
def planted_fifo(path: Path, patience: float = 60.0) -> Iterator[dict]:
    """A FIFO planted at ``path``; yields ``{"released": bool}``, True if a reader blocked on it had to be freed.

    A command that opens the FIFO to read would wait for a writer forever.
    After ``patience`` seconds (longer than the command takes), a reader
    still waiting is let go (an empty write end is opened and closed), so
    a failing test ends instead of hanging.
    """
    import os
    import threading

    os.mkfifo(path)
    state = {"released": False}
    done = threading.Event()

    def release() -> None:
        if done.wait(patience):
            return
        while not done.is_set():
            try:  # succeeds only while a reader has the FIFO open
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                state["released"] = True
            except OSError:  # nobody reading (ENXIO), or the FIFO replaced (ENOENT)
                done.wait(0.2)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        done.set()
        thread.join()
