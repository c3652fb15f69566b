"""Shared fixtures: the real Sunnybrook data beside the repository."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "final_data"
SHARED_PNG = SHARED_DATA.parent / "sunnybrook_train_png"


@pytest.fixture(scope="session")
def shared_data_root() -> Path:
    """Root of the shared Sunnybrook data (``link.csv`` layout); skip if absent."""
    if not (SHARED_DATA / "link.csv").is_file():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_png_root() -> Path:
    """The shared Sunnybrook PNG export (``images/`` and ``labels/``); skip if absent."""
    if not (SHARED_PNG / "images").is_dir():
        pytest.skip(f"shared PNG data not found at {SHARED_PNG}")
    return SHARED_PNG


@pytest.fixture(scope="module")
def one_torch_thread():
    """One PyTorch thread for a test module (CI runs ``pytest -n 2`` on 2 cores)."""
    import torch  # here, not at the top: most tests never import PyTorch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_dicom(path, pixels, *, slope=None, intercept=None, spacing=(0.7, 0.8), instance=1,
                patient_id="SYN001", syntax=None, pixel_data=True, **tags):
    """Write a small synthetic MR slice with pydicom and return its path.

    ``pixels`` is written as-is (int16 or uint16, ``[row, col]``); ``syntax``
    overrides the transfer syntax UID (its pixel bytes are then left as given).
    ``HighBit`` follows ``BitsStored`` (``BitsStored - 1``) unless given.
    """
    import numpy as np
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    pixels = np.asarray(pixels)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MR"
    ds.PatientID = patient_id
    ds.InstanceNumber = instance
    ds.PixelSpacing = list(spacing)
    ds.SliceThickness = 8
    ds.SliceLocation = -12.5
    ds.TriggerTime = 40.0
    ds.ImagePositionPatient = [1.0, 2.0, 3.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if slope is not None:
        ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    for key, value in tags.items():
        setattr(ds, key, value)
    if "HighBit" not in tags and isinstance(ds.BitsStored, int):
        ds.HighBit = ds.BitsStored - 1  # as the standard now requires
    if pixel_data:
        ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path


@pytest.fixture
def make_dicom():
    """Factory fixture: ``make_dicom(path, pixels, **kw)`` writes a synthetic DICOM."""
    return write_dicom


def write_contour_text(path, points):
    """Write ``x y`` lines exactly as the contour files do."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x:.2f} {y:.2f}\n" for x, y in points))
    return path


@pytest.fixture
def make_layout(tmp_path):
    """Factory fixture building a small synthetic ``link.csv`` dataset.

    ``make_layout({"P1": ("O1", {5: {"i": square, "o": big}})})`` writes
    ``dicoms/P1/5.dcm`` (32x32) and the listed contours; returns the root.
    """
    import numpy as np

    def build(patients, link_rows=None, shape=(32, 32)):
        root = tmp_path / "data"
        rows = link_rows if link_rows is not None else [f"{p},{o}" for p, (o, _) in patients.items()]
        root.mkdir(exist_ok=True)
        (root / "link.csv").write_text("patient_id,original_id\n" + "".join(r + "\n" for r in rows))
        for patient, (original, slices) in patients.items():
            (root / "dicoms" / patient).mkdir(parents=True, exist_ok=True)
            (root / "contourfiles" / original / "i-contours").mkdir(parents=True, exist_ok=True)
            (root / "contourfiles" / original / "o-contours").mkdir(parents=True, exist_ok=True)
            for instance, contours in slices.items():
                image = (np.arange(np.prod(shape)).reshape(shape) % 50).astype(np.int16)
                if contours.get("dicom", True):
                    write_dicom(root / "dicoms" / patient / f"{instance}.dcm", image, instance=instance, patient_id=patient)
                for kind in ("i", "o"):
                    if kind in contours:
                        name = f"IM-0001-{instance:04d}-{kind}contour-manual.txt"
                        write_contour_text(root / "contourfiles" / original / f"{kind}-contours" / name, contours[kind])
        return root

    return build
