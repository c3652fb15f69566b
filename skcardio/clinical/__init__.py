"""LV function from a cine study: volumes per phase, ED/ES, EDV, ESV, SV, EF.

Works on any blood-pool masks of shape ``(n_phases, n_slices, H, W)`` (expert,
U-Net, classical) with the study's :class:`~skcardio.io.CineGeometry` (from
:func:`skcardio.io.read_cine`). See ``docs/clinical.md``. LV myocardial mass
from myocardium masks: :func:`lv_mass` (``docs/epicardium.md``).
"""

from ._expert import expert_areas, expert_masks
from ._mass import MYOCARDIUM_DENSITY, lv_mass
from ._measure import StudyMeasurement, measure_study, segment_study
from ._slices import SliceSelection, select_lv_slices
from ._volumes import CardiacFunction, cardiac_function, lv_volumes, slice_areas, volumes_from_areas

__all__ = [
    "MYOCARDIUM_DENSITY",
    "CardiacFunction",
    "SliceSelection",
    "StudyMeasurement",
    "cardiac_function",
    "expert_areas",
    "expert_masks",
    "lv_mass",
    "lv_volumes",
    "measure_study",
    "segment_study",
    "select_lv_slices",
    "slice_areas",
    "volumes_from_areas",
]
