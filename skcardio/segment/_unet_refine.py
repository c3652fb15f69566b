"""The ``refine`` pass of :class:`~skcardio.segment.UNetSegmenter`: small blood pools seen again, zoomed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._unet_data import robust_scale, unzoom_window, zoom_crop
from ._unet_postprocess import keep_main_component
from ._unet_targets import _channels

if TYPE_CHECKING:
    from ._unet import UNetSegmenter

__all__ = ["refine_small"]

#: Blood pools needing less zoom than this to reach the typical size are not refined.
_MIN_REFINE_ZOOM = 1.25
#: Largest zoom of the refinement pass (a 10-pixel apex becomes 30 pixels).
_MAX_REFINE_ZOOM = 3.0


def refine_small(model: UNetSegmenter, images: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Predict small blood pools again on a crop zoomed to the typical training size (``refine=True``).

    ``images`` are the checked images ``(n, C, H, W)`` before scaling; only
    those refined are scaled (:func:`robust_scale`, each image on its own).

    The network is most accurate at the scale it saw most in training; a
    blood pool much smaller than the median training one (apical slices,
    small or hypertrophied hearts) is cut out around its centre, zoomed
    by up to ``_MAX_REFINE_ZOOM`` and predicted again, and the
    probabilities inside the crop become the mean of both passes.
    """
    plans = []
    # Planned on the first target (the blood pool for "both"); every target is refined.
    for index, slice_proba in enumerate(proba if proba.ndim == 3 else proba[:, 0]):
        pool = keep_main_component(slice_proba > model.threshold, slice_proba)
        if not pool.any():
            continue
        zoom = min(np.sqrt(model.typical_area_ / pool.sum()), _MAX_REFINE_ZOOM)
        if zoom >= _MIN_REFINE_ZOOM:
            plans.append((index, np.argwhere(pool).mean(axis=0), zoom))
    if not plans:
        return proba
    crops = np.stack([zoom_crop(robust_scale(images[i : i + 1])[0], centre, zoom, model.crop_size_) for i, centre, zoom in plans])
    for (index, centre, zoom), crop_proba in zip(plans, model._network_proba(crops)):
        for target, window in zip(_channels(proba[index]), _channels(crop_proba)):
            back = unzoom_window(window, centre, zoom, target.shape)
            inside = ~np.isnan(back)
            # The mean of both scales, not the zoomed one alone: an apex whose
            # texture the zoomed view does not recognise keeps its first answer.
            target[inside] = (target[inside] + back[inside]) / 2
    return proba
