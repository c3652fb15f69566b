"""Synthetic short-axis cine studies written as DICOM files with pydicom (edge-case tests only).

``write_study`` takes the ``make_dicom`` fixture of tests/conftest.py as its
writer (``from conftest import`` would pick whichever conftest pytest
imported first).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

#: Oblique short-axis orientation (unit row and column directions, orthogonal).
ROW = np.array([0.6, 0.8, 0.0])
COL = np.array([0.0, 0.0, -1.0])
NORMAL = np.cross(ROW, COL)


def radius(phase: int, slice_: int, n_phases: int, n_slices: int) -> float:
    """Pool radius in pixels: largest at phase 0, smallest mid-cycle, tapering to the apex."""
    cycle = 0.5 + 0.5 * np.cos(2 * np.pi * phase / n_phases)  # 1 at ED, 0 mid-cycle
    taper = 1.0 - 0.5 * slice_ / max(n_slices - 1, 1)
    return (6 + 4 * cycle) * taper


def phantom(phase: int, slice_: int, n_phases: int, n_slices: int, shape=(48, 48), centre=(24, 24)) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    disc = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius(phase, slice_, n_phases, n_slices) ** 2
    image = np.full(shape, 100, np.int16)
    image[disc] = 1000
    return image


def write_study(
    write_dicom,
    folder: Path,
    *,
    n_phases: int = 6,
    n_slices: int = 4,
    spacing: float = 8.0,
    shape=(48, 48),
    patient_id: str = "SYN001",
    series_number: int = 5,
    gaps: list[float] | None = None,
    skip: set[tuple[int, int]] = frozenset(),
    heart_rate: int | None = 60,
    **tags,
) -> dict[tuple[int, int], Path]:
    """Write ``n_phases x n_slices`` files ``<instance>.dcm``; return {(phase, slice): path}.

    Instance numbers run slice by slice (``slice * n_phases + phase + 1``).
    ``gaps`` overrides the distances between consecutive slices; ``skip``
    leaves images out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = generate_uid()
    positions = np.concatenate([[0.0], np.cumsum(gaps if gaps is not None else [spacing] * (n_slices - 1))])
    origin = np.array([10.0, -20.0, 30.0])
    files = {}
    for s in range(n_slices):
        for p in range(n_phases):
            if (p, s) in skip:
                continue
            instance = s * n_phases + p + 1
            extra = dict(tags)
            if heart_rate is not None:
                extra["HeartRate"] = heart_rate
            files[p, s] = write_dicom(
                folder / f"{instance}.dcm",
                phantom(p, s, n_phases, n_slices, shape),
                instance=instance,
                patient_id=patient_id,
                spacing=(1.5, 1.5),
                ImagePositionPatient=list(origin + positions[s] * NORMAL),
                ImageOrientationPatient=[*ROW, *COL],
                TriggerTime=p * 50.0 + 5,
                SliceThickness=spacing,
                SpacingBetweenSlices=spacing,
                SeriesInstanceUID=series_uid,
                SeriesNumber=series_number,
                ImageType=["ORIGINAL", "PRIMARY", "OTHER"],
                **extra,
            )
    return files


def set_tags(files, **tags) -> None:
    """Set (None: delete) header elements in every file of ``files`` (a list or write_study's dict)."""
    import pydicom

    for path in files.values() if isinstance(files, dict) else files:
        ds = pydicom.dcmread(path)
        for keyword, value in tags.items():
            if value is None:
                ds.pop(keyword, None)
            else:
                setattr(ds, keyword, value)
        ds.save_as(path)


def expected_volumes(n_phases: int, n_slices: int, spacing: float = 8.0, shape=(48, 48)) -> np.ndarray:
    """Volumes (mL) of the phantom by pixel counting, per phase."""
    areas = np.array([[(phantom(p, s, n_phases, n_slices, shape) == 1000).sum() for s in range(n_slices)] for p in range(n_phases)])
    return areas.sum(axis=1) * 1.5 * 1.5 * spacing / 1000


class BrightDisc:
    """A stand-in for the pretrained U-Net: the phantom's bright disc (> 500), found without training a model."""

    def predict(self, images):
        return np.asarray(images) > 500

    def predict_with_proba(self, images):
        masks = self.predict(images)
        return masks, masks.astype("float32")
