"""LV function from a cine study: volumes per phase, ED/ES, EDV, ESV, SV, EF.

Works on any blood-pool masks of shape ``(n_phases, n_slices, H, W)`` (expert,
U-Net, classical) with the study's :class:`~skcardio.io.CineGeometry` (from
:func:`skcardio.io.read_cine`). See ``docs/clinical.md``.
"""

from ._expert import expert_masks
from ._measure import StudyMeasurement, measure_study, segment_study
from ._slices import SliceSelection, select_lv_slices
from ._volumes import CardiacFunction, cardiac_function, lv_volumes, slice_areas

__all__ = [
    "CardiacFunction",
    "SliceSelection",
    "StudyMeasurement",
    "cardiac_function",
    "expert_masks",
    "lv_volumes",
    "measure_study",
    "segment_study",
    "select_lv_slices",
    "slice_areas",
]
