"""Read one DICOM slice as a float32 image plus the metadata skcardio needs."""

from __future__ import annotations

import math
import os
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from io import BytesIO

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.filereader import _read_file_meta_info
from pydicom.pixels import apply_modality_lut
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from .._files import picture_format
from .._text import some_named
from ..exceptions import DicomReadError, SkcardioWarning
from ._dicom_damage import (
    _PARSE_ERRORS,
    _REQUIRED,
    _convert_values,
    _corrupt,
    _damaged_file,
    _describe,
    _missing_error,
    _quiet_invalid_uids,
)
from ._fastdicom import scan_header
from ._limits import PATIENT_COORDINATE_MM, PIXEL_SPACING_MM, get_limits, read_regular
from ._values import (
    _check_range,
    _floats,
    _int,
    _name,
    _number,
    _orientation_or_absent,
    _position_or_absent,
    _texts,
)

__all__ = ["DicomSlice", "read_dicom", "read_header"]

PathLike = str | os.PathLike


@dataclass(frozen=True)
class DicomSlice:
    """One DICOM slice: the image and the header fields skcardio uses.

    Made by :func:`read_dicom`; the fields are its attributes.

    Parameters
    ----------
    image : ndarray of shape (rows, columns), float32, or None
        Pixel values indexed ``[row, col]`` (never transposed), with the
        modality transform applied: the ``Modality LUT Sequence`` when
        present, else ``RescaleSlope`` / ``RescaleIntercept``. Always in the
        MONOCHROME2 sense (higher is brighter): a MONOCHROME1 image (lowest
        value displayed white) is inverted, ``v -> T(lo) + T(hi) - v`` where
        ``T`` is the modality transform and ``lo, hi`` the stored range given
        by ``BitsStored`` and ``PixelRepresentation``, so a blood pool that
        looks bright on a viewer is bright here, whatever the source.
        ``None`` when read with ``pixels=False``.
    path : str
        The file the slice was read from.
    patient_id : str
        ``PatientID`` (empty string if absent).
    instance_number : int or None
        ``InstanceNumber``.
    pixel_spacing : tuple of float
        ``(row spacing, column spacing)`` in mm, each within 0.001-50 mm;
        ``(nan, nan)`` if absent (``ImagerPixelSpacing``, measured at a
        projection detector, is not used in its place).
    slice_thickness, slice_location, trigger_time : float
        In mm, mm and ms; NaN if absent.
    image_position : tuple of float
        ``ImagePositionPatient`` (x, y, z) in mm, each within +-1e5 mm; NaNs
        if absent, or out of that range (with a ``SkcardioWarning``).
    image_orientation : tuple of float
        ``ImageOrientationPatient`` (6 direction cosines: the row and the
        column direction, two unit vectors that are not parallel); NaNs if
        absent, or not such vectors (with a ``SkcardioWarning``). A numeric
        element that is present but malformed (not plain decimal numbers, or
        not as many as above) raises :class:`DicomReadError`, as does a pixel
        spacing out of its range (``skcardio.io._limits``: physical bounds,
        docs/security.md).
    rescale_slope, rescale_intercept : float
        The values applied (1 and 0 when the tags are absent, or when a
        Modality LUT Sequence is applied instead).
    shape : tuple of int
        ``(Rows, Columns)`` from the header.
    series_uid : str, default=""
        ``SeriesInstanceUID`` (empty string if absent).
    series_number : int or None, default=None
        ``SeriesNumber``.
    spacing_between_slices : float, default=NaN
        ``SpacingBetweenSlices`` in mm; NaN if absent.
    image_type : tuple of str, default=()
        ``ImageType`` values, e.g. ``('ORIGINAL', 'PRIMARY', 'LOCALIZER')``;
        empty if absent.
    heart_rate : float, default=NaN
        ``HeartRate`` in beats per minute; NaN if absent.
    nominal_interval : float, default=NaN
        ``NominalInterval`` (the R-R interval) in ms; NaN if absent.
    sop_instance_uid : str, default=""
        ``SOPInstanceUID``, which a DICOM SEG references the image by (empty
        string if absent).

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_dicom
    >>> s = read_dicom(get_sample_path() / "dicoms" / "SCD0000101" / "119.dcm")
    >>> s.image.shape, s.pixel_spacing, s.instance_number, s.trigger_time, s.heart_rate
    ((256, 256), (1.367188, 1.367188), 119, 693.75, 80.0)
    """

    image: np.ndarray | None = field(repr=False)
    path: str
    patient_id: str
    instance_number: int | None
    pixel_spacing: tuple[float, float]
    slice_thickness: float
    slice_location: float
    trigger_time: float
    image_position: tuple[float, ...]
    image_orientation: tuple[float, ...]
    rescale_slope: float
    rescale_intercept: float
    shape: tuple[int, int]
    series_uid: str = ""
    series_number: int | None = None
    spacing_between_slices: float = math.nan
    image_type: tuple[str, ...] = ()
    heart_rate: float = math.nan
    nominal_interval: float = math.nan
    sop_instance_uid: str = ""


def read_dicom(path: PathLike, *, pixels: bool = True) -> DicomSlice:
    """Read a single-frame grayscale (MONOCHROME1 or MONOCHROME2) DICOM slice.

    Parameters
    ----------
    path : str or path-like
        The DICOM file.
    pixels : bool, default=True
        If False, return ``image=None`` without decoding the pixels (fast
        header-only read). The file is checked as for a full read (required
        elements present, uncompressed pixel data of one frame, with less
        than a row of padding at most), with the same warnings, so a file
        that passes here fails a full read only if its compressed pixel data
        cannot be decoded into one ``(Rows, Columns)`` frame.

    Returns
    -------
    DicomSlice
        ``.image`` is a float32 array indexed ``[row, col]`` with the modality
        LUT or rescale applied only when the elements exist (a missing slope
        means 1 and a missing intercept 0), and MONOCHROME1 inverted so that
        higher values are brighter (see :class:`DicomSlice`).

    Raises
    ------
    DicomReadError
        If the file is missing, not DICOM, truncated or corrupt (an element
        it reads, the file meta's included, whose value cannot be decoded,
        e.g. a garbled VR: whatever pydicom raises reading the file), lacks
        Rows, Columns, BitsAllocated or PixelData, has uncompressed pixel data that hold
        at least one whole frame of the header's size beyond the first, a
        PixelRepresentation other than 0 or 1 or a HighBit outside
        BitsStored - 1 to BitsAllocated - 1, is not a single-frame grayscale image
        (PhotometricInterpretation other than MONOCHROME1/2, e.g. RGB or
        PALETTE COLOR; float pixel data; a DICOM SEG, by its SOPClassUID or
        its Modality ``SEG``),
        has a malformed numeric element (e.g. a PixelSpacing without exactly
        2 numbers) or a non-physical one (a PixelSpacing beyond 0.001-50 mm,
        an ImagePositionPatient coordinate beyond +-1e5 mm, an
        ImageOrientationPatient whose row and column vectors are zero,
        parallel or not of unit length), uses a compressed transfer syntax
        that no installed decoder handles, or pixel data that decode to
        other than one ``(Rows, Columns)`` frame. The message names the file
        and the cause.

    Warns
    -----
    SkcardioWarning
        For uncompressed pixel data longer than one frame by less than a
        row (excess padding, which DICOM PS3.5 8.1.1 tells readers to
        accept; a row or more is an error): the first frame's bytes are read; the warning names the file
        and the extra bytes. The one padding byte of an odd-length frame is
        no excess. Also for an ImagePositionPatient or ImageOrientationPatient
        read as absent (see :class:`DicomSlice`).

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_dicom
    >>> s = read_dicom(load_sample().frame.dicom_path[0])
    >>> s.image.dtype, s.image.shape
    (dtype('float32'), (256, 256))
    >>> s.pixel_spacing
    (1.367188, 1.367188)
    """
    path = os.fspath(path)
    data = _read_bytes(path)  # once: the pydicom fallback parses these bytes too
    with _damaged_file(path):
        fast = _read_fast(data, path, pixels)
        if fast is not None:
            return fast
        return _read_pydicom(path, pixels, data)


def read_header(path: PathLike) -> pydicom.Dataset:
    """Read every header element of a DICOM file, without the pixel data.

    :func:`read_dicom` keeps only the elements skcardio computes with; writers
    of derived objects (a DICOM SEG copies the patient, study and frame of
    reference of its sources) need the whole header.

    Parameters
    ----------
    path : str or path-like
        The DICOM file (a DICOM Part 10 file, as for :func:`read_dicom`).

    Returns
    -------
    pydicom.Dataset
        Every element before the pixel data, values as pydicom reads them.

    Raises
    ------
    DicomReadError
        If the file is missing, not a DICOM Part 10 file, or truncated or
        corrupt before the pixel data (a damaged transfer syntax or SOP
        class in the file meta included); the message names the file (and
        the element).

    Warns
    -----
    SkcardioWarning
        If elements' values cannot be decoded (every value is decoded here,
        not at first use): they are left out of the returned header, named
        in the warning; a damaged ``Manufacturer`` does not stop a DICOM SEG
        of the series, whose images :func:`read_dicom` reads.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_header
    >>> header = read_header(load_sample().frame.dicom_path[0])
    >>> header.Modality, int(header.SeriesNumber)
    ('MR', 300)
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    dropped: list[str] = []
    with _damaged_file(path):
        ds = _parse(path, data, dropped=dropped, stop_before_pixels=True)  # every value: a writer copies them
    if dropped:
        warnings.warn(
            f"{path}: {len(dropped)} header element(s) left out, their values damaged: {some_named(dropped, 3)}; "
            "the header is read without them (a DICOM SEG made from it lacks them)",
            SkcardioWarning,
            stacklevel=2,
        )
    return ds


def _read_bytes(path: str) -> bytes:
    # A regular file of at most max_file_bytes: /dev/zero or a pipe is refused, not read forever.
    return read_regular(path, DicomReadError, "DICOM", "max_file_bytes")


def _check_pixels(path: str, rows: int, cols: int, frames: int = 1, samples: int = 1) -> None:
    """Refuse, before decoding, an image whose header claims more than ``max_image_pixels``.

    A compressed (RLE, deflated...) file of a few KB can claim 65535 x 65535
    pixels: the decoder would allocate them before finding the data short.
    """
    limits = get_limits()
    pixels = rows * cols * max(frames, 1) * max(samples, 1)
    if pixels > limits.max_image_pixels:
        claimed = f"{rows} x {cols}" + (f" x {frames} frames" if frames > 1 else "")
        claimed += f" x {samples} samples" if samples > 1 else ""
        raise DicomReadError(
            f"{path}: the header claims an image of {claimed} pixels: "
            + limits.refusal("max_image_pixels", f"{pixels} pixels")
        )


def _check_inflated(path: str, data: bytes) -> None:
    """Refuse a deflated data set that inflates past ``max_file_bytes``, inflating in bounded pieces.

    pydicom inflates the whole data set at once: a 4 MB file can hold
    gigabytes. Counting the inflated size piece by piece first costs a few
    milliseconds for a real file and never holds more than one piece.
    """
    stream = BytesIO(data)
    try:
        stream.seek(132)
        meta = _read_file_meta_info(stream)
        deflated = meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian  # decoded here: may fail
    except _PARSE_ERRORS + (InvalidDicomError,):
        return  # pydicom reads the meta the same way and reports it
    if not deflated:
        return
    most = get_limits().max_file_bytes
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        total = len(inflater.decompress(memoryview(data)[stream.tell():], _PIECE))
        while inflater.unconsumed_tail and total <= most:
            total += len(inflater.decompress(inflater.unconsumed_tail, _PIECE))
    except zlib.error:
        return  # corrupt: pydicom's inflating fails and is reported
    if total > most:
        raise DicomReadError(
            f"{path}: the deflated data set (a decompression bomb?) "
            + get_limits().refusal("max_file_bytes", f"inflates to more than {most} bytes, which")
        )


#: Bytes inflated at a time by _check_inflated.
_PIECE = 16 << 20


def _read_fast(data: bytes, path: str, pixels: bool) -> DicomSlice | None:
    """The common case without pydicom's full parse; None to fall back."""
    scanned = scan_header(data)
    if scanned is None:
        return None
    header, offset, length = scanned
    _check_not_segmentation(header, path)
    rows, cols, bits = header.get("Rows"), header.get("Columns"), header.get("BitsAllocated")
    stored = bits if header.get("BitsStored") is None else header["BitsStored"]
    single = header.get("SamplesPerPixel") in (None, 1) and header.get("NumberOfFrames") in (None, "", "1")
    # Anything unusual (missing or odd values, pixel data short or longer than
    # one frame and its padding byte, an impossible PixelRepresentation or
    # HighBit) is left to the pydicom path, which checks it, names what is
    # wrong, and warns about excess padding.
    usual = rows and cols and bits in (8, 16, 32) and 0 < stored <= bits and single
    high = header.get("HighBit")
    possible = usual and header.get("PixelRepresentation") in (None, 0, 1) and (high is None or stored - 1 <= high < bits)
    if not (possible and _frame_bytes(rows, cols, bits) <= length <= _padded(rows, cols, bits)):
        return None
    _check_pixels(path, rows, cols)  # before float32 decoding quadruples 8-bit data
    try:
        photometric = _photometric(header, path)  # refused before any decoding
        image = None
        if pixels:
            signed = header.get("PixelRepresentation") == 1
            image = _decode_native(memoryview(data)[offset:], rows, cols, bits, stored, signed, little_endian=True)
        return _make_slice(header, image, path, photometric)
    except DicomReadError:
        # A malformed value: the pydicom path refuses it too, and reports it
        # in its own words (it quotes some malformed values differently, e.g.
        # unstripped), so that the message is the same on both paths.
        return None


def _read_pydicom(path: str, pixels: bool, data: bytes | None = None) -> DicomSlice:
    """Everything the fast path declines: other syntaxes, odd or broken files.

    ``data``: the file's bytes when already read (else they are read here).
    """
    ds = _dcmread(path, _read_bytes(path) if data is None else data)
    _check_not_segmentation(ds, path)  # before _check_image, which would name a SEG's frames
    _check_image(ds, path)
    photometric = _photometric(ds, path)  # refused before any decoding
    return _make_slice(ds, _pixels(ds, path) if pixels else None, path, photometric)


def _photometric(ds, path: str) -> str:
    """MONOCHROME1 or MONOCHROME2 (when absent); anything else is refused."""
    texts = _texts(ds, "PhotometricInterpretation")
    if not texts:
        return "MONOCHROME2"
    if texts in (["MONOCHROME1"], ["MONOCHROME2"]):
        return texts[0]
    received = "\\".join(texts)
    raise DicomReadError(
        f"{path}: expected a grayscale image (PhotometricInterpretation MONOCHROME1 or "
        f"MONOCHROME2), got {received!r}"
    )


def _stored_range(ds, path: str) -> tuple[int, int]:
    """The smallest and largest storable value (BitsStored, PixelRepresentation)."""
    bits = _int(ds, "BitsAllocated", 0, path)
    stored = _int(ds, "BitsStored", bits, path)
    if _int(ds, "PixelRepresentation", 0, path) == 1:
        return -(1 << (stored - 1)), (1 << (stored - 1)) - 1
    return 0, (1 << stored) - 1


def _modality_lut(ds, path: str, *, trial: bool):
    """A function applying the Modality LUT Sequence, or None when there is none.

    Only the pydicom path meets one (the fast path declines such files). With
    ``trial`` (``pixels=False``: no image to apply it to) the LUT is tried
    once here, so that a broken one is reported then too.
    """
    if not isinstance(ds, pydicom.Dataset) or not ds.get("ModalityLUTSequence"):
        return None

    def apply(values: np.ndarray) -> np.ndarray:
        try:
            return apply_modality_lut(values.astype(np.int64), ds).astype(np.float32)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError, struct.error) as exc:
            raise DicomReadError(
                f"{path}: cannot apply the Modality LUT Sequence (0028,3000) ({_describe(exc)})"
            ) from exc

    if trial:
        apply(np.zeros(1, np.float32))
    return apply


def _make_slice(ds, image: np.ndarray | None, path: str, photometric: str) -> DicomSlice:
    """Build a DicomSlice from a pydicom Dataset or a dict of header values."""
    lut = _modality_lut(ds, path, trial=image is None)
    if lut is None:
        slope = _number(ds, "RescaleSlope", 1.0, path)
        intercept = _number(ds, "RescaleIntercept", 0.0, path)
        _check_rescale(ds, slope, intercept, path)

        def modality(values):
            if slope == 1.0 and intercept == 0.0:
                return values
            return values * np.float32(slope) + np.float32(intercept)
    else:
        slope, intercept, modality = 1.0, 0.0, lut
    if image is not None:
        image = modality(image)
        if photometric == "MONOCHROME1":
            # Inverse grey scale: reflect within the output range so that
            # brighter on a viewer is higher here (as for MONOCHROME2).
            image = modality(np.array(_stored_range(ds, path), np.float32)).sum() - image
    spacing = _floats(ds, "PixelSpacing", 2, path)
    position = _floats(ds, "ImagePositionPatient", 3, path)
    orientation = _floats(ds, "ImageOrientationPatient", 6, path)
    # Areas of 0 or 1e400 mm²: no physical sense, refused here, once. A position or orientation
    # without one is read as absent (warned): one slice is segmented without them.
    _check_range(ds, "PixelSpacing", spacing, PIXEL_SPACING_MM, path)
    position = _position_or_absent(ds, position, PATIENT_COORDINATE_MM, path)
    orientation = _orientation_or_absent(ds, orientation, path)
    return DicomSlice(
        image=image,
        path=path,
        patient_id=str(ds.get("PatientID", "") or ""),
        instance_number=_int(ds, "InstanceNumber", None, path),
        pixel_spacing=(spacing[0], spacing[1]),
        slice_thickness=_number(ds, "SliceThickness", math.nan, path),
        slice_location=_number(ds, "SliceLocation", math.nan, path),
        trigger_time=_number(ds, "TriggerTime", math.nan, path),
        image_position=position,
        image_orientation=orientation,
        rescale_slope=slope,
        rescale_intercept=intercept,
        shape=(_int(ds, "Rows", 0, path), _int(ds, "Columns", 0, path)),
        series_uid="\\".join(_texts(ds, "SeriesInstanceUID")),
        series_number=_int(ds, "SeriesNumber", None, path),
        spacing_between_slices=_number(ds, "SpacingBetweenSlices", math.nan, path),
        image_type=tuple(_texts(ds, "ImageType")),
        heart_rate=_number(ds, "HeartRate", math.nan, path),
        nominal_interval=_number(ds, "NominalInterval", math.nan, path),
        sop_instance_uid="\\".join(_texts(ds, "SOPInstanceUID")),
    )


#: Largest modality value (in magnitude) accepted: sums and squares of a
#: whole image's float32 values stay finite below it. A RescaleSlope of 1e36
#: would turn stored values into inf (a file error, not an image).
_MAX_VALUE = 1e15


def _check_rescale(ds, slope: float, intercept: float, path: str) -> None:
    """Refuse a rescale whose results over the stored range are huge or non-finite, before decoding."""
    if slope == 1.0 and intercept == 0.0:
        return
    ends = [value * slope + intercept for value in _stored_range(ds, path)]
    if not all(abs(end) <= _MAX_VALUE for end in ends):  # NaN and inf fail too
        raise DicomReadError(
            f"{path}: {_name('RescaleSlope')} {slope!r} and {_name('RescaleIntercept')} {intercept!r} map "
            f"the stored values to [{ends[0]:.3g}, {ends[1]:.3g}]: expected values within "
            f"+-{_MAX_VALUE:.0e} (no physical quantity of an MR image is larger)"
        )


_TAGS = [
    "PatientID", "InstanceNumber", "PixelSpacing", "SliceThickness", "SliceLocation",
    "TriggerTime", "ImagePositionPatient", "ImageOrientationPatient", "RescaleSlope",
    "RescaleIntercept", "Rows", "Columns", "BitsAllocated", "BitsStored",
    "PixelRepresentation", "SamplesPerPixel", "NumberOfFrames", "PhotometricInterpretation",
    "PlanarConfiguration", "HighBit", "PixelData", "ModalityLUTSequence",
    "FloatPixelData", "DoubleFloatPixelData", "ImageType", "SeriesInstanceUID", "SeriesNumber",
    "SpacingBetweenSlices", "HeartRate", "NominalInterval", "SOPClassUID", "Modality", "SOPInstanceUID",
]
#: SOP classes of files that hold a segmentation, not an image: Segmentation
#: Storage (a DICOM SEG, as ``--dicom-seg`` writes) and its label-map form.
_SEGMENTATIONS = {
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation Storage",
    "1.2.840.10008.5.1.4.1.1.66.7": "Label Map Segmentation Storage",
}
#: Uncompressed transfer syntaxes: PixelData holds rows * columns samples as is.
_NATIVE = {ImplicitVRLittleEndian, ExplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian}


def _dcmread(path: str, data: bytes) -> pydicom.Dataset:
    # specific_tags: parse only what DicomSlice needs, about 3x faster
    # than a full parse of these headers.
    return _parse(path, data, specific_tags=_TAGS)


def _parse(path: str, data: bytes, *, dropped: list | None = None, **options) -> pydicom.Dataset:
    """``pydicom.dcmread`` of ``data`` (the file at ``path``, with ``options``), every value decoded now.

    The checks pydicom lacks come first (the Part 10 marker, a deflated data
    set's inflated size); its errors are the file's :class:`DicomReadError`.
    With ``dropped``, the whole file meta is decoded and an element whose
    value cannot be is left out, named there (:func:`read_header`).
    """
    _check_part10(path, data)
    _check_inflated(path, data)
    try:
        ds = pydicom.dcmread(BytesIO(data), **options)
    except InvalidDicomError as exc:
        raise DicomReadError(f"{path}: not a DICOM file ({exc})") from exc
    except _PARSE_ERRORS as exc:
        raise _corrupt(path, exc) from exc
    with _quiet_invalid_uids():
        _convert_values(ds, path, whole_meta=dropped is not None, dropped=dropped)
    return ds


def _check_part10(path: str, data: bytes) -> None:
    """Refuse files without the DICOM Part 10 header ('DICM' at byte 128).

    pydicom refuses them too (we never pass force=True: without the marker
    any bytes parse as *something*); checking first gives a message that says
    what was expected rather than pydicom's hint about ``force=True``. A
    picture (PNG, JPEG, TIFF: :func:`skcardio._files.picture_format`) is named as such, with
    where pictures are read, not told to be re-saved as DICOM.
    """
    head = data[:132]
    if head[128:132] != b"DICM":
        found = f"{len(head)} byte(s) in all" if len(head) < 132 else f"{head[128:132]!r}"
        picture = picture_format(head, path)
        if picture:
            raise DicomReadError(
                f"{path}: not a DICOM file but a {picture} image: expected 'DICM' at byte 128 (DICOM Part 10 "
                f"file), got {found}; pictures with label masks are read with skcardio.datasets.load_image_folder"
            )
        raise DicomReadError(
            f"{path}: not a DICOM file: expected 'DICM' at byte 128 (DICOM Part 10 file), got {found}; "
            + _no_marker_hint(data)
        )


def _no_marker_hint(data: bytes) -> str:
    """What a file without the Part 10 marker may be: empty, cut short, overwritten, or a raw data set."""
    if not data:
        return "the file is empty (an interrupted copy?)"
    if not data.strip(b"\0"):
        return "every byte is 0 (an interrupted copy?)"
    if len(data) < 132:
        return "the file is shorter than a Part 10 header: cut short, or not DICOM"
    return "an image whose start was overwritten, or a raw data set without that header (re-save it as a Part 10 file)"


def _check_not_segmentation(header, path: str) -> None:
    """Refuse a DICOM SEG: its pixel data are a mask (often 1-bit, several frames), not an image.

    ``header``: a pydicom Dataset or the fast path's dict of values. Without
    a SOPClassUID, the file meta's MediaStorageSOPClassUID says the class.
    """
    meta = getattr(header, "file_meta", None)
    media_class = (meta if meta is not None else header).get("MediaStorageSOPClassUID")
    sop_class = str(header.get("SOPClassUID") or media_class or "").strip()
    modality = header.get("Modality") or ""
    if sop_class in _SEGMENTATIONS or (isinstance(modality, str) and modality.strip().upper() == "SEG"):
        what = _SEGMENTATIONS.get(sop_class, "Modality SEG")
        raise DicomReadError(
            f"{path}: a DICOM SEG ({what}), not an image: expected an MR image (a segmentation, "
            f"such as skcardio's --dicom-seg output, cannot be read as one)"
        )


def _check_image(ds: pydicom.Dataset, path: str) -> None:
    """Check, before decoding, that the header describes one complete grayscale frame."""
    floats = [k for k in ("FloatPixelData", "DoubleFloatPixelData") if k in ds]
    if floats and "PixelData" not in ds:
        raise DicomReadError(
            f"{path}: float pixel data ({_name(floats[0])}) is not supported: expected "
            f"integer PixelData (7FE0,0010), with RescaleSlope/RescaleIntercept for real values"
        )
    missing = [_name(k) for k in _REQUIRED if k not in ds or ds[k].is_empty]
    if missing:
        raise _missing_error(path, missing)
    rows, cols, bits = (_int(ds, k, 0, path) for k in ("Rows", "Columns", "BitsAllocated"))
    samples, frames = _int(ds, "SamplesPerPixel", 1, path), _int(ds, "NumberOfFrames", 1, path)
    _check_pixels(path, rows, cols, frames, samples)
    if samples != 1 or frames != 1:
        raise DicomReadError(
            f"{path}: expected a single-frame grayscale slice, got "
            f"SamplesPerPixel={samples}, NumberOfFrames={frames}"
        )
    stored = _int(ds, "BitsStored", bits, path)
    if min(rows, cols, bits) < 1 or not 0 < stored <= bits:
        raise DicomReadError(
            f"{path}: expected Rows, Columns, BitsAllocated >= 1 and 1 <= BitsStored <= BitsAllocated, "
            f"got Rows={rows}, Columns={cols}, BitsAllocated={bits}, BitsStored={stored}"
        )
    _check_bit_layout(ds, stored, bits, path)
    expected = _frame_bytes(rows, cols, bits)
    syntax = _syntax(ds, path)
    if syntax in _NATIVE and ds["PixelData"].is_undefined_length:
        # PS3.5 A.4: only encapsulated (compressed) pixel data has an undefined
        # length; read as native, its item tags would be decoded as pixels.
        raise DicomReadError(
            f"{path}: undefined-length (encapsulated) pixel data under the native transfer syntax "
            f"{syntax} ({syntax.name}): expected {expected} bytes of defined length for {rows}x{cols} "
            f"at {bits} bits (was the transfer syntax UID of a compressed file rewritten?)"
        )
    if syntax in _NATIVE:
        _check_native_length(ds, path, rows, cols, bits)


def _check_native_length(ds: pydicom.Dataset, path: str, rows: int, cols: int, bits: int) -> None:
    """Check the length of uncompressed pixel data against one frame of the header's size.

    Shorter is truncated. A whole frame more, or beyond, means a header that
    does not describe the data (128 rows of 256-row data, 8 bits of 16-bit
    data would give part of the image, or its bytes interleaved, as an
    image): refused, and so is a whole row more, zeros or not (a Columns of
    60 on 64-column data would give a sheared image). Less than a row more is
    excess padding, which PS3.5 8.1.1 tells receivers to accept (pydicom
    does, with a warning): the first frame's bytes are decoded, with a
    warning naming the extra bytes (none for the one padding byte of an
    odd-length frame). The excess is cut off here,
    so that pydicom's decoder (1-bit data) sees one frame and says nothing more.
    """
    expected, actual = _frame_bytes(rows, cols, bits), len(ds.PixelData)
    padded = _padded(rows, cols, bits)
    if actual < expected:
        raise DicomReadError(
            f"{path}: truncated pixel data: {actual} bytes, expected {expected} for {rows}x{cols} at {bits} bits"
        )
    if actual <= padded:
        return
    extra = actual - expected
    padding = " (and the one padding byte to even length)" if expected % 2 else ""
    longer = (
        f"{path}: pixel data longer than the header declares: {actual} bytes, expected {expected}{padding} for "
        f"one frame of Rows={rows}, Columns={cols}, BitsAllocated={bits}, SamplesPerPixel=1, NumberOfFrames=1"
    )
    row = max(_frame_bytes(1, cols, bits), 1)
    if extra >= row:
        # Zeros cannot be told from padding: MR images often end in zero rows, and Columns - 1 on such
        # data gives the same bytes as a row of zeros appended.
        whole = "a whole frame or more" if extra >= expected else f"a whole row ({row} bytes) or more"
        raise DicomReadError(
            f"{longer}; the {extra} bytes beyond it hold {whole}: the header does not describe "
            "these pixel data (were Rows, Columns or BitsAllocated changed?)"
        )
    # 5: the caller of read_dicom (this check, _check_image, _read_pydicom, read_dicom).
    warnings.warn(
        f"{longer}; the {extra} extra byte(s), less than a row, are taken for padding and ignored",
        SkcardioWarning,
        stacklevel=5,
    )
    ds.PixelData = ds.PixelData[:padded]


def _frame_bytes(rows: int, cols: int, bits: int) -> int:
    """The bytes of one native frame of one sample (1-bit pixels packed)."""
    return (rows * cols * bits + 7) // 8


def _padded(rows: int, cols: int, bits: int) -> int:
    """The most native pixel data one such frame may hold: DICOM pads an odd length with one byte."""
    expected = _frame_bytes(rows, cols, bits)
    return expected + expected % 2


def _check_bit_layout(ds, stored: int, bits: int, path: str) -> None:
    """Refuse a PixelRepresentation or HighBit no sample can have: the pixels would be misread.

    The decoders (skcardio's and pydicom's) take the stored bits as the lowest
    ``BitsStored`` bits, signed only for PixelRepresentation 1, and ignore
    HighBit. The standard now requires HighBit = BitsStored - 1, but older
    editions allowed the stored bits higher in the sample ("12 bits stored,
    high bit 15"), which older scanners wrote with the values in the low
    bits: such a HighBit is read as pydicom reads it. Only a HighBit that
    leaves no room for the stored bits (below BitsStored - 1) or lies outside
    the sample (BitsAllocated or more) is refused.
    """
    representation = _int(ds, "PixelRepresentation", 0, path)
    if representation not in (0, 1):
        raise DicomReadError(
            f"{path}: PixelRepresentation (0028,0103) {representation}: expected 0 (unsigned) or 1 (two's complement)"
        )
    high = _int(ds, "HighBit", stored - 1, path)
    if not stored - 1 <= high < bits:
        raise DicomReadError(
            f"{path}: HighBit (0028,0102) {high} with BitsStored {stored} and BitsAllocated {bits}: expected "
            f"BitsStored - 1 <= HighBit < BitsAllocated ({stored - 1} to {bits - 1}; the {stored} stored bits "
            "must fit below the high bit, within the sample)"
        )


def _syntax(ds: pydicom.Dataset, path: str):
    """The TransferSyntaxUID (a UID, or None when absent)."""
    file_meta = getattr(ds, "file_meta", None)
    syntax = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    if syntax is not None and not isinstance(syntax, str):  # e.g. a garbled value with a '\\'
        received = "\\".join(map(str, syntax))
        raise DicomReadError(
            f"{path}: TransferSyntaxUID (0002,0010) must hold 1 UID, got {len(syntax)} value(s): {received!r}"
        )
    return syntax


def _pixels(ds: pydicom.Dataset, path: str) -> np.ndarray:
    syntax = _syntax(ds, path)
    bits = _int(ds, "BitsAllocated", 0, path)
    # Big endian 8-bit pixels in an OW element are byte-swapped in 16-bit
    # words: pydicom's decoder undoes that.
    swapped = bits == 8 and syntax == ExplicitVRBigEndian and ds["PixelData"].VR == "OW"
    if syntax in _NATIVE and bits in (8, 16, 32) and not swapped:
        return _decode_native(
            ds.PixelData, _int(ds, "Rows", 0, path), _int(ds, "Columns", 0, path), bits,
            _int(ds, "BitsStored", bits, path), _int(ds, "PixelRepresentation", 0, path) == 1,
            little_endian=syntax != ExplicitVRBigEndian,
        )
    try:
        # Compressed (or unusual) layouts go through pydicom's handlers.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            image = ds.pixel_array
    except (NotImplementedError, RuntimeError) as exc:
        raise DicomReadError(
            f"{path}: cannot decode pixel data with transfer syntax "
            f"{syntax} ({getattr(syntax, 'name', '?')}): {exc}"
        ) from exc
    except (ValueError, AttributeError, EOFError, struct.error, TypeError, KeyError, IndexError) as exc:
        raise DicomReadError(f"{path}: corrupt pixel data ({_describe(exc)})") from exc
    said = "; ".join(str(w.message) for w in caught)
    shape = (_int(ds, "Rows", 0, path), _int(ds, "Columns", 0, path))
    if image.shape != shape:  # e.g. compressed data of several frames: pydicom returns them all
        raise DicomReadError(
            f"{path}: the pixel data decode to an array of shape {image.shape}, expected one frame of "
            f"(Rows, Columns) = {shape} (BitsAllocated {bits})" + (f"; pydicom: {said}" if said else "")
        )
    for w in caught:  # pydicom's words, with the file they are about
        warnings.warn(f"{path}: {w.message}", SkcardioWarning, stacklevel=2)
    return np.asarray(image, dtype=np.float32)


def _decode_native(data, rows: int, cols: int, bits: int, bits_stored: int, signed: bool, little_endian: bool) -> np.ndarray:
    """Decode uncompressed native pixel data straight from the bytes.

    Faster than ``ds.pixel_array`` (no handler dispatch or copies) for the
    only layout cine slices use: one frame, one sample, 8/16/32-bit integers.
    """
    dtype = np.dtype(f"{'<' if little_endian else '>'}{'i' if signed else 'u'}{bits // 8}")
    image = np.frombuffer(data, dtype=dtype, count=rows * cols).reshape(rows, cols)
    if bits_stored < bits:
        image = _mask_bits(image, bits_stored, signed)
    return image.astype(np.float32)


def _mask_bits(image: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    # Bits above BitsStored may hold overlay data; drop them (and sign-extend).
    image = image.astype(np.int64) & ((1 << bits_stored) - 1)
    if signed:
        sign = 1 << (bits_stored - 1)
        image = (image ^ sign) - sign
    return image
