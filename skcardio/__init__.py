"""skcardio: scikit-learn compatible left-ventricle segmentation of cardiac MRI.

Subpackages
-----------
io             read DICOM slices and contour files, polygons <-> masks
datasets       the ``link.csv`` dataset layout, the embedded sample, batches
qc             quality control of contoured slices
preprocessing  ``DicomLoader`` and ``RegionSelector`` transformers
segment        threshold, k-means, region-growing and U-Net segmenters
metrics        IoU, Dice, KS, distance metrics and scorers
analysis       intensity distributions and plots
cli            the ``skcardio`` command line

Data: the embedded sample and the tests use the Sunnybrook Cardiac Data (CC0),
Radau et al., "Evaluation Framework for Algorithms Segmenting Short Axis
Cardiac MRI", The MIDAS Journal, 2009.
"""

__version__ = "0.1.0"
