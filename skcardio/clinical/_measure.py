"""One study, three measurements: fully automatic, expert, and the model on the expert's images."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..exceptions import StudyError
from ..io import CineGeometry, CineStudy
from ._expert import read_expert
from ._slices import SliceSelection, select_lv_slices
from ._volumes import CardiacFunction, cardiac_function, lv_volumes, volumes_from_areas

__all__ = ["StudyMeasurement", "segment_study", "measure_study"]


def segment_study(
    study: CineStudy, segmenter, *, batch_size: int = 20, progress: Callable[[int], object] | None = None
) -> np.ndarray:
    """Blood-pool masks of every image of the study, ``(n_phases, n_slices, H, W)`` bool.

    ``segmenter`` is any fitted estimator whose ``predict`` takes images
    ``(n, H, W)`` and returns masks of the same shape (e.g.
    :class:`~skcardio.segment.UNetSegmenter`), or ``(n, K, H, W)`` (a
    ``target="both"`` U-Net: blood pool and epicardium), which gives
    ``(n_phases, n_slices, K, H, W)``.

    Parameters
    ----------
    study : CineStudy
        The study (from :func:`skcardio.io.read_cine`).
    segmenter : estimator
        Fitted; its ``predict`` segments images ``(n, H, W)``.
    batch_size : int, default=20
        Images passed to ``predict`` at a time (bounds the memory used).
    progress : callable, default=None
        ``progress(n)`` is called after each batch of ``n`` images.

    Returns
    -------
    ndarray of shape (n_phases, n_slices, H, W) or (n_phases, n_slices, K, H, W), bool
        The masks of every image, in the study's order.

    Examples
    --------
    A stand-in segmenter that marks the brightest pixels:

    >>> import numpy as np
    >>> from skcardio.clinical import segment_study
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()
    >>> study = read_cine([root / "dicoms/SCD0000101/108.dcm", root / "dicoms/SCD0000101/119.dcm"])
    >>> class Bright:
    ...     def predict(self, images):
    ...         return images > np.percentile(images, 99, axis=(1, 2), keepdims=True)
    >>> segment_study(study, Bright()).shape
    (2, 1, 256, 256)
    """
    flat = study.images.reshape(-1, *study.images.shape[2:])
    masks = None
    for begin in range(0, len(flat), batch_size):
        batch = np.asarray(segmenter.predict(flat[begin : begin + batch_size]))
        if masks is None:  # the first batch tells the shape of a prediction
            masks = np.zeros((len(flat), *batch.shape[1:]), bool)
        masks[begin : begin + batch_size] = batch
        if progress is not None:
            progress(len(batch))
    if masks is None:  # no image
        masks = np.zeros(flat.shape, bool)
    return masks.reshape(*study.images.shape[:2], *masks.shape[1:])


@dataclass(frozen=True)
class StudyMeasurement:
    """LV function of one study, automatic and (where contours exist) expert.

    Made by :func:`measure_study`.

    Parameters
    ----------
    patient_id : str
        ``PatientID`` of the study.
    geometry : CineGeometry
        The study's geometry.
    masks : ndarray (n_phases, n_slices, H, W), bool
        The automatic masks of every image.
    selection : SliceSelection
        Which slices the automatic volumes count.
    volumes : ndarray (n_phases,)
        Automatic volumes in mL.
    function : CardiacFunction
        Automatic EDV, ESV, SV, EF (ED/ES = largest/smallest volume).
    expert_observed : ndarray (n_phases, n_slices) bool or None, default=None
        Images with an expert contour.
    expert_masks : ndarray (n_phases, n_slices, H, W) bool or None, default=None
        The expert's masks (:func:`expert_masks`), False where not contoured.
    expert_volumes : ndarray (n_phases,) or None, default=None
        Volumes from the expert's contours (their polygons' areas,
        :func:`expert_areas`) on their own phases and slices (NaN at phases
        without any contour).
    expert : CardiacFunction or None, default=None
        The expert's function (ED/ES = the contoured phases of largest and
        smallest volume).
    model_on_expert_volumes : ndarray (n_phases,) or None, default=None
        Volumes from the automatic masks of exactly the expert's images.
    model_on_expert : CardiacFunction or None, default=None
        The model's function on the expert's images, at the expert's ED and ES.

    Examples
    --------
    See :func:`measure_study`.

    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()  # one slice of SCD0000101 at two phases (ES, ED)
    >>> study = read_cine([root / "dicoms/SCD0000101/108.dcm", root / "dicoms/SCD0000101/119.dcm"])
    >>> folder = root / "contourfiles/SC-HF-I-1/i-contours"
    >>> contours = {n: folder / f"IM-0001-{n:04d}-icontour-manual.txt" for n in (108, 119)}
    >>> from skcardio.clinical import expert_masks, measure_study
    >>> measurement = measure_study(study, expert_masks(study, contours)[0], contours=contours)
    >>> measurement.row()["expert_images"], measurement.selection.keep.tolist()
    (2, [True])
    """

    patient_id: str
    geometry: CineGeometry
    masks: np.ndarray = field(repr=False)
    selection: SliceSelection
    volumes: np.ndarray
    function: CardiacFunction
    expert_observed: np.ndarray | None = None
    expert_masks: np.ndarray | None = field(default=None, repr=False)
    expert_volumes: np.ndarray | None = None
    expert: CardiacFunction | None = None
    model_on_expert_volumes: np.ndarray | None = None
    model_on_expert: CardiacFunction | None = None

    def row(self) -> dict:
        """A flat record for tables (CSV, JSON): NaN where not available.

        Returns
        -------
        dict
            Study size, slices kept, and the automatic, expert and
            model-on-expert EDV, ESV, SV, EF (with their differences from
            the expert's), heart rate and cardiac output, by column name.
        """
        g = self.geometry
        row = {
            "patient_id": self.patient_id,
            "n_phases": g.n_phases,
            "n_slices": g.n_slices,
            "slices_kept": int(self.selection.keep.sum()),
            "slice_spacing_mm": round(g.slice_spacing, 3),
            "spacing_source": g.spacing_source,
        }
        row.update(_function_fields("", self.function))
        row["heart_rate_bpm"] = self.function.heart_rate
        row["cardiac_output_l_min"] = self.function.cardiac_output
        row.update(_function_fields("expert_", self.expert))
        row["expert_images"] = int(self.expert_observed.sum()) if self.expert_observed is not None else 0
        row.update(_function_fields("model_on_expert_", self.model_on_expert))
        for prefix, other in (("auto", self.function), ("model_on_expert", self.model_on_expert)):
            for name in ("edv", "esv"):
                row[f"{prefix}_{name}_diff_pct"] = _relative(_get(other, name), _get(self.expert, name))
            row[f"{prefix}_ef_diff_points"] = _get(other, "ef") - _get(self.expert, "ef")
        return row


def _function_fields(prefix: str, function: CardiacFunction | None) -> dict:
    names = {"ed_phase": "ed_phase", "es_phase": "es_phase", "edv": "edv_ml", "esv": "esv_ml", "sv": "sv_ml", "ef": "ef_pct"}
    return {f"{prefix}{label}": _get(function, name) for name, label in names.items()}


def _get(function: CardiacFunction | None, name: str) -> float:
    """An attribute of a function, NaN when there is none."""
    return math.nan if function is None else getattr(function, name)


def _relative(value: float, reference: float) -> float:
    return 100.0 * (value - reference) / reference if reference else math.nan


def measure_study(
    study: CineStudy,
    masks: np.ndarray,
    *,
    contours: Mapping[int, str | os.PathLike] | None = None,
    **selection_params,
) -> StudyMeasurement:
    """Measure LV function from the automatic masks of every image, and against the expert.

    The automatic volumes count the slices chosen by
    :func:`select_lv_slices`. With
    ``contours`` (instance number -> i-contour file), the expert's volumes
    are computed on their own phases and slices from the polygons' areas
    (:func:`expert_areas`: as drawn, not the masks, which count about half a
    boundary pixel more), and the automatic masks of
    exactly those images give the "model on the expert's images" volumes,
    whose ED and ES are the expert's phases.

    Parameters
    ----------
    study : CineStudy
        The study (from :func:`skcardio.io.read_cine`).
    masks : ndarray of shape (n_phases, n_slices, H, W), bool
        Automatic masks of every image, e.g. from :func:`segment_study`.
    contours : mapping of int to path, default=None
        The expert's i-contour file of each contoured image, keyed by its
        ``InstanceNumber`` (as :func:`expert_masks` takes them).
    **selection_params : dict
        ``min_area_mm2``, ``min_phase_fraction``, ``max_offset_mm`` of
        :func:`select_lv_slices`.

    Returns
    -------
    StudyMeasurement
        Automatic volumes and function, and the expert's where contours were given.

    Raises
    ------
    StudyError
        If a contour's instance number is not an image of the study, or no
        contour is left once those enclosing no pixel of their image or going
        beyond its edge are left out (by :func:`expert_masks`, each with a
        warning).
    ContourReadError
        If a contour file is malformed.

    Examples
    --------
    The two contoured phases of one slice of the embedded sample, with the
    expert's masks standing for a segmenter's (a single slice: the "EF" is
    that slice's fractional area change, not the ventricle's EF):

    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.io import read_cine
    >>> root = get_sample_path()  # one slice of SCD0000101 at two phases (ES, ED)
    >>> study = read_cine([root / "dicoms/SCD0000101/108.dcm", root / "dicoms/SCD0000101/119.dcm"])
    >>> folder = root / "contourfiles/SC-HF-I-1/i-contours"
    >>> contours = {n: folder / f"IM-0001-{n:04d}-icontour-manual.txt" for n in (108, 119)}
    >>> from skcardio.clinical import expert_masks, measure_study
    >>> masks, _ = expert_masks(study, contours)
    >>> measurement = measure_study(study, masks, contours=contours)
    >>> measurement.volumes.round(1).tolist()  # mL, area x 10 mm slice spacing
    [21.1, 27.0]
    >>> round(measurement.function.ef, 1), measurement.function.ed_phase
    (21.8, 1)
    """
    geometry = study.geometry
    selection = select_lv_slices(masks, geometry, **selection_params)
    volumes = lv_volumes(masks, geometry, slices=selection.keep)
    if not selection.keep.any():
        volumes = np.full(geometry.n_phases, np.nan)
    rate = geometry.heart_rate
    function = cardiac_function(volumes, heart_rate=rate) if np.isfinite(volumes).any() else _no_function(rate)
    expert = {}
    if contours:
        truth, areas, observed = read_expert(study, contours)
        if not observed.any():  # each left out with a warning: no expert volume to compare with
            first = sorted(contours.items())[0][1]
            raise StudyError(
                f"{study.patient_id or 'the study'} ({Path(study.geometry.paths[0, 0]).parent}): none of the "
                f"{len(contours)} expert contour(s) lies within its image and encloses a pixel of it (each left "
                f"out with a warning), e.g. {first}"
            )
        # The expert's volumes from the polygons as drawn (not their masks, which count half a
        # boundary pixel more); the model's from its masks on the same images.
        expert_volumes = volumes_from_areas(areas, geometry, observed=observed)
        reference = cardiac_function(expert_volumes, heart_rate=rate)
        model_volumes = lv_volumes(masks & observed[:, :, None, None], geometry, observed=observed)
        expert = dict(
            expert_observed=observed,
            expert_masks=truth,
            expert_volumes=expert_volumes,
            expert=reference,
            model_on_expert_volumes=model_volumes,
            model_on_expert=cardiac_function(
                model_volumes, ed_phase=reference.ed_phase, es_phase=reference.es_phase, heart_rate=rate
            ),
        )
    return StudyMeasurement(study.patient_id, geometry, masks, selection, volumes, function, **expert)


def _no_function(rate: float) -> CardiacFunction:
    """No slice kept: nothing to measure (NaN everywhere)."""
    return CardiacFunction(math.nan, math.nan, math.nan, math.nan, -1, -1, rate, math.nan)
