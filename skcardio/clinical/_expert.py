"""Expert blood-pool masks of a cine study from its i-contour files."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from ..exceptions import StudyError
from ..io import CineStudy, contour_to_mask, read_contour

__all__ = ["expert_masks"]


def expert_masks(study: CineStudy, contours: Mapping[int, str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise expert contours onto the study's images.

    Parameters
    ----------
    study : CineStudy
        The study the contours were drawn on (from :func:`skcardio.io.read_cine`).
    contours : mapping of int to path
        Contour file (``x y`` per line, x = column) of each contoured
        image, keyed by its DICOM ``InstanceNumber``.

    Returns
    -------
    masks : ndarray of shape (n_phases, n_slices, H, W), bool
        The contours' masks (:func:`skcardio.io.contour_to_mask`); False
        elsewhere.
    observed : ndarray of shape (n_phases, n_slices), bool
        Which images have a contour: pass it to
        :func:`~skcardio.clinical.lv_volumes` so that the expert's volumes
        use their own phases and slices.

    Raises
    ------
    StudyError
        If a contour's instance number is not an image of the study.
    ContourReadError
        If a contour file is malformed (naming the file and line).

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()  # one slice of SCD0000101 at two phases (ES, ED)
    >>> study = read_cine([root / "dicoms/SCD0000101/108.dcm", root / "dicoms/SCD0000101/119.dcm"])
    >>> folder = root / "contourfiles/SC-HF-I-1/i-contours"
    >>> contours = {n: folder / f"IM-0001-{n:04d}-icontour-manual.txt" for n in (108, 119)}
    >>> from skcardio.clinical import expert_masks
    >>> masks, observed = expert_masks(study, contours)
    >>> masks.shape, observed.ravel().tolist(), masks.sum(axis=(2, 3)).ravel().tolist()
    ((2, 1, 256, 256), [True, True], [1131, 1447])
    """
    instances = study.geometry.instance_numbers
    masks = np.zeros(study.images.shape, bool)
    observed = np.zeros(instances.shape, bool)
    for instance, path in sorted(contours.items()):
        where = np.argwhere(instances == instance)
        if len(where) != 1:
            raise StudyError(
                f"{path}: contour of instance {instance}, which is not an image of the study "
                f"(instances {instances.min()}-{instances.max()})"
            )
        phase, slice_ = where[0]
        masks[phase, slice_] = contour_to_mask(read_contour(path), study.images.shape[2:])
        observed[phase, slice_] = True
    return masks, observed
