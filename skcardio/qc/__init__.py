"""Quality control of contoured slices and of the dataset layout: what in the expert data is suspect;
and of predictions: :func:`check_myocardium` flags implausible predicted myocardium."""

from ._checks import QCReport, SliceQC, check_dataset, check_records
from ._geometry import count_self_crossings, polygon_area
from ._myocardium import MYOCARDIUM_FLAGS, check_myocardium

__all__ = [
    "MYOCARDIUM_FLAGS",
    "QCReport",
    "SliceQC",
    "check_dataset",
    "check_myocardium",
    "check_records",
    "count_self_crossings",
    "polygon_area",
]
