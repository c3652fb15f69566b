"""Transformers that turn slice records into images ready for segmenters."""

from ._loader import DicomLoader
from ._predicted_region import PredictedRegion
from ._region import RegionSelector

__all__ = ["DicomLoader", "PredictedRegion", "RegionSelector"]
