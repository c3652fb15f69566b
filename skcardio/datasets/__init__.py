"""Dataset layouts (``link.csv``, the Sunnybrook download), the embedded sample, and training batches.

Data: Sunnybrook Cardiac Data (CC0), Radau et al., "Evaluation Framework for
Algorithms Segmenting Short Axis Cardiac MRI", The MIDAS Journal, 2009.
"""

from ._batches import BatchIterator, iter_batches
from ._dataset import CITATION, FRAME_DTYPE, load_dataset
from ._layout import Skipped, scan_layout
from ._sample import get_sample_path, load_sample

__all__ = [
    "CITATION",
    "FRAME_DTYPE",
    "BatchIterator",
    "Skipped",
    "get_sample_path",
    "iter_batches",
    "load_dataset",
    "load_sample",
    "scan_layout",
]
