"""Quality control: what in the expert data (contoured slices, dataset layout) and in predicted masks is suspect.

Predictions: :func:`assess_predictions` (blood-pool confidence and flags;
:func:`prediction_confidence`, the confidence alone) and
:func:`check_myocardium` (implausible predicted myocardium)."""

from ._checks import QCReport, SliceQC, check_dataset, check_records
from ._geometry import count_self_crossings, polygon_area
from ._myocardium import MYOCARDIUM_FLAGS, check_myocardium
from ._prediction import PREDICTION_FLAGS, assess_predictions, prediction_confidence

__all__ = [
    "MYOCARDIUM_FLAGS",
    "PREDICTION_FLAGS",
    "QCReport",
    "SliceQC",
    "assess_predictions",
    "check_dataset",
    "check_myocardium",
    "check_records",
    "count_self_crossings",
    "polygon_area",
    "prediction_confidence",
]
