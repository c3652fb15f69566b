"""Expert blood-pool masks and areas of a cine study from its i-contour files."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._numbers import is_int
from ..exceptions import SkcardioWarning, StudyError
from ..io import CineStudy, contour_to_mask, read_contour
from ..io._mask import outside_image, polygon_area

__all__ = ["expert_masks", "expert_areas"]


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
        and the model's area on that image to the model's. So is a contour
        with a point beyond the image's edge (quality control's
        ``points_outside_image``): its polygon's area, the expert's volume,
        is not that of its mask on the image, the model's.

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
        For each contour left out as enclosing no pixel of its image or
        going beyond its edge, naming the file, the image size and how many
        points lie outside; and once when the expert
        contoured some slice at only some of the contoured phases (naming
        the slices, images and phases): that slice counts 0 in the volume of
        a phase without its contour.

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
    masks, _, observed = read_expert(study, contours)
    return masks, observed


def expert_areas(study: CineStudy, contours: Mapping[int, str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
    """Measure the expert's contours: their areas in mm², as the expert drew them.

    The area of each contour's polygon (shoelace formula) x row x column
    pixel spacing: what the expert's volumes are made of
    (:func:`~skcardio.clinical.volumes_from_areas`). The masks of
    :func:`expert_masks` count every pixel whose centre is inside or on the
    polygon, about half a boundary pixel more (1.8-2.8 % of the volumes on
    the shared studies, more at end-systole than at end-diastole); the
    polygon is the expert's own measurement.

    Parameters
    ----------
    study : CineStudy
        The study the contours were drawn on (from :func:`skcardio.io.read_cine`).
    contours : mapping of int to path
        Contour file (``x y`` per line, x = column) of each contoured
        image, keyed by its DICOM ``InstanceNumber``.

    Returns
    -------
    areas : ndarray of shape (n_phases, n_slices)
        The contour's area in mm² on each contoured image, 0 elsewhere.
    observed : ndarray of shape (n_phases, n_slices), bool
        Which images have a contour, as :func:`expert_masks` gives it (a
        contour enclosing no pixel of its image, or with a point beyond its
        edge, is left out, with a warning).

    Raises
    ------
    ValueError, StudyError, ContourReadError
        As :func:`expert_masks`.

    Warns
    -----
    SkcardioWarning
        As :func:`expert_masks`.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()  # one slice of SCD0000101 at two phases (ES, ED)
    >>> study = read_cine([root / "dicoms/SCD0000101/108.dcm", root / "dicoms/SCD0000101/119.dcm"])
    >>> folder = root / "contourfiles/SC-HF-I-1/i-contours"
    >>> contours = {n: folder / f"IM-0001-{n:04d}-icontour-manual.txt" for n in (108, 119)}
    >>> from skcardio.clinical import expert_areas
    >>> areas, observed = expert_areas(study, contours)
    >>> areas.round(1).ravel().tolist()  # mm²: (1.3672 mm)² x the polygons' 1106.9 and 1419.2 px²
    [2069.0, 2652.9]
    >>> expert_masks(study, contours)[0].sum(axis=(2, 3)).ravel().tolist()  # their masks: pixels
    [1131, 1447]
    """
    _, areas, observed = read_expert(study, contours)
    return areas, observed


def read_expert(
    study: CineStudy, contours: Mapping[int, str | os.PathLike]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks, polygon areas (mm²) and ``observed`` of the contours, each file read once.

    Warns (:class:`SkcardioWarning`) for each contour enclosing no pixel
    or beyond the image's edge (left out, :func:`_left_out`), and once when the contoured slices differ between the
    contoured phases (:func:`_coverage_warning`).
    """
    instances = study.geometry.instance_numbers
    masks = np.zeros(study.images.shape, bool)
    areas = np.zeros(instances.shape)
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
        # A point beyond the image's edge: the polygon's area (the expert's volume) is not that of the
        # image's mask (the model's), and a contour 1e5 px across gave an EDV of 7.5e8 mL.
        problem = _left_out(points, mask)
        if problem:
            warnings.warn(f"{path}: {problem}", SkcardioWarning, stacklevel=3)
            continue
        masks[phase, slice_] = mask
        areas[phase, slice_] = polygon_area(points)
        observed[phase, slice_] = True
    row, col = study.geometry.pixel_spacing
    message = _coverage_warning(study, observed)
    if message:
        warnings.warn(message, SkcardioWarning, stacklevel=3)
    return masks, areas * (row * col), observed


def _coverage_warning(study: CineStudy, observed: np.ndarray) -> str:
    """Say which slices the expert contoured at some of the contoured phases but not at others ("" if none).

    Such a slice counts 0 in the volume of a phase without its contour (a missing mid-ventricular
    contour of SCD0000101 moves its expert EF from 26.2 to 37.7 %), and nothing else would tell.
    """
    phases = np.flatnonzero(observed.any(axis=1))
    seen = observed[phases]
    uneven = np.flatnonzero(seen.any(axis=0) & ~seen.all(axis=0))
    if not len(uneven):
        return ""
    instances = study.geometry.instance_numbers
    where = "; ".join(
        f"slice {s} at phase(s) {phases[seen[:, s]].tolist()} (instance(s) "
        f"{instances[phases[seen[:, s]], s].tolist()}), not at {phases[~seen[:, s]].tolist()}"
        for s in uneven[:5]
    ) + ("; ..." if len(uneven) > 5 else "")
    name = study.patient_id or str(Path(str(study.geometry.paths[0, 0])).parent)
    return (
        f"{name}: the expert contoured {len(uneven)} slice(s) at some of the contoured phases "
        f"{phases.tolist()} but not at others: {where}. Each counts 0 in the expert's volume of a phase "
        f"without its contour; expected the same slices at every contoured phase"
    )


def _left_out(points: np.ndarray, mask: np.ndarray) -> str:
    """Why a contour is left out of the expert's images and volumes, ``""`` if it is not.

    Points beyond the image's edge (:func:`~skcardio.io._mask.outside_image`, the test of quality control's
    ``points_outside_image`` flag), or no pixel centre enclosed.
    """
    shape = mask.shape
    outside = int(np.count_nonzero(outside_image(points, shape)))
    if outside:
        why = f"{outside} of its {len(points)} point(s) lie outside the {shape[0]}x{shape[1]} image"
        if mask.any():
            return (f"the contour goes beyond its image ({why}; polygon area {polygon_area(points):.3g} px², "
                    f"{int(mask.sum())} pixel(s) inside the image): {_LEFT_OUT}")
    elif not mask.any():
        why = f"it encloses no pixel centre of the {shape[0]}x{shape[1]} image (area {polygon_area(points):.3g} px²)"
    else:
        return ""
    return f"the contour encloses no pixel of its image ({why}): {_LEFT_OUT}"


#: What happens to a contour :func:`_left_out` gives a reason for.
_LEFT_OUT = "left out of the expert's images and volumes"
