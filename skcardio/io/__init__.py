"""Reading DICOM slices and contour files; polygons <-> masks.

Pixel arrays are indexed ``[row, col]``; contour points are ``(x, y) =
(col, row)``.
"""

from ._cine import CineGeometry, CineStudy, SetAside, find_dicom_files, read_cine
from ._contour import read_contour, write_contour
from ._dicom import DicomSlice, read_dicom
from ._mask import contour_to_mask, mask_to_contour
from ._parallel import read_dicoms

__all__ = [
    "CineGeometry",
    "CineStudy",
    "DicomSlice",
    "SetAside",
    "contour_to_mask",
    "find_dicom_files",
    "mask_to_contour",
    "read_cine",
    "read_contour",
    "read_dicom",
    "read_dicoms",
    "write_contour",
]
