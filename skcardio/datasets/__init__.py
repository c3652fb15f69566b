"""Dataset layouts (``link.csv``, the Sunnybrook download, image folders), the embedded sample, and training batches.

Data: Sunnybrook Cardiac Data (CC0), Radau et al., "Evaluation Framework for
Algorithms Segmenting Short Axis Cardiac MRI", The MIDAS Journal, 2009.
"""

from ._batches import BatchIterator, iter_batches
from ._concat import concat_datasets
from ._dataset import CITATION, FRAME_DTYPE, PATHOLOGY_GROUPS, load_dataset, sunnybrook_pathology
from ._image_folder import IMAGE_FRAME_DTYPE, IMAGE_SUFFIXES, SUNNYBROOK_NAME, load_image_folder
from ._layout import Skipped, scan_layout
from ._sample import get_sample_path, load_sample

__all__ = [
    "CITATION",
    "FRAME_DTYPE",
    "IMAGE_FRAME_DTYPE",
    "IMAGE_SUFFIXES",
    "PATHOLOGY_GROUPS",
    "SUNNYBROOK_NAME",
    "BatchIterator",
    "Skipped",
    "concat_datasets",
    "get_sample_path",
    "iter_batches",
    "load_dataset",
    "load_image_folder",
    "load_sample",
    "scan_layout",
    "sunnybrook_pathology",
]
