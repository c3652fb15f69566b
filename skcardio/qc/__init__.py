"""Quality control: what in the expert data (contoured slices, dataset layout) and in predicted masks is suspect."""

from ._checks import QCReport, SliceQC, check_dataset, check_records
from ._geometry import count_self_crossings, polygon_area
from ._prediction import PREDICTION_FLAGS, assess_predictions

__all__ = [
    "PREDICTION_FLAGS",
    "QCReport",
    "SliceQC",
    "assess_predictions",
    "check_dataset",
    "check_records",
    "count_self_crossings",
    "polygon_area",
]
