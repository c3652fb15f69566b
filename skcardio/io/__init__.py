"""Reading DICOM slices and contour files within resource limits; polygons <-> masks; masks as DICOM SEG and NIfTI.

Pixel arrays are indexed ``[row, col]``; contour points are ``(x, y) =
(col, row)``.
"""

from ._cine import CineGeometry, CineStudy, SetAside, find_dicom_files, read_cine
from ._contour import read_contour, write_contour
from ._dicom import DicomSlice, read_dicom, read_header
from ._export import group_by_phase, write_dicom_seg, write_nifti
from ._limits import Limits, get_limits, limits_context, set_limits
from ._mask import contour_to_mask, mask_to_contour, polygon_mask_from_floor_fill
from ._parallel import read_dicoms

__all__ = [
    "CineGeometry",
    "CineStudy",
    "DicomSlice",
    "Limits",
    "SetAside",
    "contour_to_mask",
    "find_dicom_files",
    "get_limits",
    "group_by_phase",
    "limits_context",
    "mask_to_contour",
    "polygon_mask_from_floor_fill",
    "read_cine",
    "read_contour",
    "read_dicom",
    "read_dicoms",
    "read_header",
    "set_limits",
    "write_contour",
    "write_dicom_seg",
    "write_nifti",
]
