"""Quality control of contoured slices and of the dataset layout: what in the expert data is suspect."""

from ._checks import QCReport, SliceQC, check_dataset, check_records
from ._geometry import count_self_crossings, polygon_area

__all__ = [
    "QCReport",
    "SliceQC",
    "check_dataset",
    "check_records",
    "count_self_crossings",
    "polygon_area",
]
