"""Transformers that turn slice records into images ready for segmenters."""

from ._loader import DicomLoader
from ._region import RegionSelector

__all__ = ["DicomLoader", "RegionSelector"]
