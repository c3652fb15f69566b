"""The slices ``skcardio evaluate`` scores: images, regions, expert masks, spacing, ids and QC flags, held once."""

from __future__ import annotations

import os

import numpy as np

from .._text import readable

__all__ = ["Subset", "qc_flags", "WHOLE_IMAGE_METHODS"]

#: Methods that segment the whole image, needing no o-contour region.
WHOLE_IMAGE_METHODS = ("unet",)


class Subset:
    """The evaluated slices: images, region and expert masks, spacing, ids, flags.

    The images, regions and masks are the data's own arrays when every
    slice is kept, else the kept slices' (one copy). The float32
    ``[image, region]`` stacks the region methods take are built for each
    fold (:meth:`inputs`), and the images NaN outside the region when the
    metrics need them (:meth:`region_images`): a stack of the whole subset,
    a second copy of the images and the data kept beside them made
    ``skcardio evaluate`` hold 5.7 times the data it loaded.
    """

    def __init__(self, data, keep: np.ndarray, flags: list[str], *, regions: bool = True) -> None:
        self.frame = data.frame[keep]
        self.uses_regions = regions
        every = keep.all()  # then no copy: the data's arrays themselves

        def kept(array):
            return array if every else array[keep]

        # The dtype np.stack([images, regions.astype(np.float32)]) gave the stacks (float32 for float32 images).
        self.images = kept(data.images).astype(np.result_type(data.images.dtype, np.float32), copy=False)
        self.y = kept(data.y)
        self.regions = kept(data.regions)
        self.groups = np.asarray(data.groups)[keep]
        self.spacing = np.asarray(self.frame.pixel_spacing, dtype=np.float64)
        self.flags = [f for f, k in zip(flags, keep) if k]
        self.flagged = np.array([bool(f) for f in self.flags])
        # Image folders have no pixel spacing: no distances in mm there.
        self.known_spacing = np.isfinite(self.spacing).all(axis=1)

    def inputs(self, index: np.ndarray, method: str) -> np.ndarray:
        """What ``method`` is fitted on and predicts for the slices ``index``.

        The image alone for the U-Net; for the others ``(n, 2, H, W)``
        ``[image, region]`` pairs, the region as 0.0 / 1.0 (filled slice by
        slice: no temporary of the images' size beside the stack).
        """
        if method in WHOLE_IMAGE_METHODS:
            return self.images[index]
        pairs = np.empty((len(index), 2, *self.images.shape[1:]), self.images.dtype)
        for row, i in enumerate(index):
            pairs[row, 0] = self.images[i]
            pairs[row, 1] = self.regions[i]  # True -> 1.0, as .astype(np.float32)
        return pairs

    def region_images(self, method: str) -> np.ndarray:
        """The intensities ``method`` sees (its KS compares them): NaN outside the region, whole images for the U-Net.

        Each method's own, so that its KS does not depend on the other methods
        of the run (the U-Net's was measured inside the regions whenever a
        classical method ran beside it). A new array at each call (the metrics
        of one method use it), not one kept beside the images for the whole run.
        """
        if method in WHOLE_IMAGE_METHODS or not self.uses_regions:
            return self.images
        return np.where(self.regions, self.images, np.nan)

    def label(self, i: int) -> str:
        """``patient/instance`` of slice ``i``, readable (plots cannot draw a file name that is not UTF-8)."""
        instance = int(self.frame.instance[i])
        if instance < 0:  # an image-folder name without an instance number
            return readable(f"{self.frame.patient_id[i]}/{os.path.basename(self.frame.image_path[i])}")
        return readable(f"{self.frame.patient_id[i]}/{instance}")


def qc_flags(frame, *, regions: bool = True) -> list[str]:
    """QC flags of each slice joined by '; ' ("" for a clean slice).

    Only DICOM slices are checked (image folders have no contour files); a
    missing o-contour matters only to methods that segment inside it.
    """
    from ..qc import check_records

    flags = [""] * len(frame)
    if "dicom_path" not in frame.dtype.names:
        return flags
    dicom = np.flatnonzero(np.asarray(frame.dicom_path, dtype=object) != "")
    report = check_records(frame[dicom])
    for i, s in zip(dicom, report.slices):
        kinds = [flag.split(":")[0] for flag in s.flags]
        flags[i] = "; ".join(k for k in kinds if regions or k != "missing_ocontour")
    return flags
