"""Patient-level LV function metrics: absolute ejection-fraction error."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import make_scorer

from ..utils._validation import check_masks

__all__ = ["ejection_fractions", "ef_absolute_error", "make_ef_scorer"]


def ejection_fractions(masks: ArrayLike, *, groups: ArrayLike, phases: ArrayLike, voxel_ml: ArrayLike) -> dict:
    """Ejection fraction (%) of every patient from a flat stack of masks.

    For each patient (``groups``), the volume of each phase is the sum over
    its images of ``pixels x voxel_ml`` (summation of discs: ``voxel_ml`` =
    row spacing x column spacing x slice spacing / 1000); EF = 100 x
    (largest - smallest) / largest.

    Parameters
    ----------
    masks : array-like of shape (n, H, W), bool
        Blood-pool masks of every image (all slices and phases of every patient).
    groups, phases, voxel_ml : array-like of shape (n,)
        Patient, cardiac phase and voxel volume (mL) of each image.

    Returns
    -------
    dict
        ``{patient: EF}``, patients in order of first appearance.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import ejection_fractions
    >>> masks = np.zeros((2, 8, 8), bool); masks[0, :4] = True; masks[1, :2] = True
    >>> efs = ejection_fractions(masks, groups=["p1", "p1"], phases=[0, 1], voxel_ml=[0.015, 0.015])
    >>> {patient: float(ef) for patient, ef in efs.items()}
    {'p1': 50.0}
    """
    masks = np.asarray(masks)
    groups, phases, voxel_ml = (np.asarray(a) for a in (groups, phases, voxel_ml))
    n = len(masks)
    for name, values in (("groups", groups), ("phases", phases), ("voxel_ml", voxel_ml)):
        if values.shape != (n,):
            raise ValueError(f"{name} must have one value per mask ({n}), got shape {values.shape}")
    volumes = masks.reshape(n, -1).sum(axis=1) * voxel_ml.astype(float)
    # The images are grouped by patient and phase once (a stable sort), not
    # found by comparing every image with each patient and phase, which grew
    # as patients x images (2.1 s for 1,000 patients). Each group's volumes
    # are summed as before (the same values in the same order, one .sum()),
    # so the EFs are the same to the last bit.
    labels = groups.tolist()  # once: a NaN id is found again only as the same object
    patients = list(dict.fromkeys(labels))
    index = {patient: i for i, patient in enumerate(patients)}
    phase_values, phase_code = np.unique(phases, return_inverse=True)
    key = np.fromiter((index[g] for g in labels), np.intp, n) * len(phase_values) + phase_code.reshape(n)
    order = np.argsort(key, kind="stable")  # stable: a group's images stay in their order
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    # A NaN phase equals no phase (phases == NaN found no image): a volume of 0.
    matches_nothing = [value != value for value in phase_values.tolist()]
    phases_of = [[] for _ in patients]  # each patient's phase volumes, in increasing phase
    for run, group in zip(np.split(order, starts[1:]), sorted_key[starts].tolist()):
        patient, phase = divmod(group, len(phase_values))
        phases_of[patient].append(volumes[run[:0] if matches_nothing[phase] else run].sum())
    result = {}
    for patient, per_phase in zip(patients, phases_of):
        if patient != patient:  # a NaN patient id: groups == patient found no image
            per_phase = []
        if len(per_phase) < 2:
            raise ValueError(f"patient {patient!r} has images of {len(per_phase)} phase(s); an EF needs at least 2")
        largest = max(per_phase)
        result[patient] = 100.0 * (largest - min(per_phase)) / largest if largest > 0 else np.nan
    return result


def ef_absolute_error(
    y_true: ArrayLike, y_pred: ArrayLike, *, groups: ArrayLike, phases: ArrayLike, voxel_ml: ArrayLike
) -> float:
    """Mean over patients of the absolute ejection-fraction error, in percentage points.

    Each patient's EF is computed from its own masks (:func:`ejection_fractions`),
    once from ``y_true`` and once from ``y_pred``; the error is averaged over
    patients, not images, so that a patient with many slices weighs as much
    as one with few. With patient-grouped cross-validation every test fold
    holds whole patients; use :func:`make_ef_scorer` in ``cross_validate``.

    A patient whose ``y_pred`` volumes are all 0 has EF NaN and makes the
    result NaN.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W), bool
        Expert and predicted blood-pool masks of every image.
    groups, phases, voxel_ml : array-like of shape (n,)
        Patient, cardiac phase and voxel volume (mL) of each image.

    Returns
    -------
    float
        Mean absolute EF error over the patients, in percentage points.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import ef_absolute_error
    >>> y_true = np.zeros((4, 8, 8), bool); y_true[0, :4] = True; y_true[1, :2] = True  # EF 50 %
    >>> y_pred = np.zeros((4, 8, 8), bool); y_pred[0, :4] = True; y_pred[1, :3] = True  # EF 25 %
    >>> y_true[2:, :4] = y_pred[2:, :4] = True; y_true[3, :1] = False; y_pred[3, :1] = False
    >>> ef_absolute_error(y_true, y_pred, groups=["a", "a", "b", "b"], phases=[0, 1, 0, 1],
    ...                   voxel_ml=np.full(4, 0.015))
    12.5
    """
    check_masks(y_true, y_pred)
    true = ejection_fractions(y_true, groups=groups, phases=phases, voxel_ml=voxel_ml)
    pred = ejection_fractions(y_pred, groups=groups, phases=phases, voxel_ml=voxel_ml)
    return float(np.mean([abs(true[p] - pred[p]) for p in true]))


def make_ef_scorer():
    """A scorer ``(estimator, X, y, *, groups, phases, voxel_ml)`` for grouped CV.

    Returns the *negated* :func:`ef_absolute_error` (greater is better, as
    scikit-learn's ``neg_*`` scorers). It asks for ``groups``, ``phases``
    and ``voxel_ml`` through scikit-learn's metadata routing, which must be
    enabled (``sklearn.set_config(enable_metadata_routing=True)`` or
    ``sklearn.config_context``) when this is called and when it is used;
    ``cross_validate(..., params={"groups": ..., "phases": ..., "voxel_ml": ...})``
    then gives ``groups`` to the splitter and all three, split with the
    images, to the scorer.

    Returns
    -------
    callable
        A scikit-learn scorer, with its metadata requests set.

    Examples
    --------
    Two synthetic patients whose blood pool is a bright square: the
    threshold segmenter finds it exactly, so the EF error is 0.

    >>> import numpy as np, sklearn
    >>> from sklearn.model_selection import GroupKFold, cross_validate
    >>> from skcardio.metrics import make_ef_scorer
    >>> from skcardio.segment import ThresholdSegmenter
    >>> images = np.zeros((8, 32, 32), np.float32); y = np.zeros((8, 32, 32), bool)
    >>> for i, side in enumerate([12, 8, 12, 6, 14, 10, 14, 7]):  # (phase 0, phase 1) x 2 slices x 2 patients
    ...     y[i, 4:4 + side, 4:4 + side] = True
    >>> images[y] = 1.0
    >>> meta = {"groups": np.repeat(["p1", "p2"], 4), "phases": np.tile([0, 1], 4),
    ...         "voxel_ml": np.full(8, 1.5 * 1.5 * 8 / 1000)}
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     scores = cross_validate(ThresholdSegmenter(), images, y, cv=GroupKFold(2),
    ...                             scoring=make_ef_scorer(), params=meta)
    >>> scores["test_score"].round(6)
    array([-0., -0.])
    """
    return make_scorer(ef_absolute_error, greater_is_better=False).set_score_request(
        groups=True, phases=True, voxel_ml=True
    )
