"""Expert blood-pool masks of a cine study from its i-contour files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping

import numpy as np

from .._numbers import is_int
from ..exceptions import SkcardioWarning, StudyError
from ..io import CineStudy, contour_to_mask, read_contour
from ..io._mask import outside_image, polygon_area

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
        use their own phases and slices. A contour that encloses no pixel
        of its image (drawn outside it, or of zero area) is left out, with a
        warning: counted, it would add an area of 0 to the expert's volume
        and the model's area on that image to the model's.

    Raises
    ------
    ValueError
        If a key is not an int (e.g. the string ``"108"``).
    StudyError
        If a contour's instance number is not an image of the study.
    ContourReadError
        If a contour file is malformed (naming the file and line).

    Warns
    -----
    SkcardioWarning
        For each contour left out as enclosing no pixel of its image, naming
        the file, the image size and why.

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
    for instance, path in contours.items():
        if not is_int(instance):  # "108" never equals an instance number: say so, not "not an image"
            raise ValueError(
                f"{path}: contours must be keyed by the image's InstanceNumber as an int, got {instance!r}"
            )
    for instance, path in sorted(contours.items()):
        where = np.argwhere(instances == instance)
        if len(where) != 1:
            raise StudyError(
                f"{path}: contour of instance {instance}, which is not an image of the study "
                f"(instances {instances.min()}-{instances.max()})"
            )
        phase, slice_ = where[0]
        points = read_contour(path)
        mask = contour_to_mask(points, study.images.shape[2:])
        if not mask.any():
            warnings.warn(f"{path}: {_no_pixel(points, mask.shape)}", SkcardioWarning, stacklevel=2)
            continue
        masks[phase, slice_] = mask
        observed[phase, slice_] = True
    return masks, observed


def _no_pixel(points: np.ndarray, shape: tuple[int, int]) -> str:
    """Why a contour encloses no pixel of its image (the tests of quality control), and that it is left out."""
    outside = int(np.count_nonzero(outside_image(points, shape)))
    if outside:
        why = f"{outside} of its {len(points)} point(s) lie outside the {shape[0]}x{shape[1]} image"
    else:
        why = f"it encloses no pixel centre of the {shape[0]}x{shape[1]} image (area {polygon_area(points):.3g} px²)"
    return f"the contour encloses no pixel of its image ({why}): left out of the expert's images and volumes"
