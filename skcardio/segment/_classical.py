"""make_classical_pipeline: the best classical configuration, ready to fit."""

from __future__ import annotations

from sklearn.pipeline import Pipeline, make_pipeline

from ..preprocessing import RegionSelector
from ._threshold import ThresholdSegmenter

__all__ = ["make_classical_pipeline"]


def make_classical_pipeline() -> Pipeline:
    """Unfitted pipeline ``RegionSelector -> ThresholdSegmenter`` with the best classical settings.

    The settings are those that a patient-grouped grid search selects among
    the original analysis's ideas -- threshold method, contrast stretching,
    smoothing, opening, largest object, hole filling, convex hull, dilation,
    border margin, k-means and region growing (both z-score normalised) --
    on the shared Sunnybrook slices that have both contours (see
    ``benchmarks/bench_classical.py`` and ``docs/segmentation.md``). Each
    step is a general property of short-axis blood pools rather than a fit
    to those five patients:

    * ``method="li"`` -- Li's minimum cross-entropy threshold sits lower
      than Otsu's and keeps the darker blood near the wall;
    * ``contrast=(2, 98)`` -- clipping the region's intensities to their
      2nd-98th percentiles keeps a few very bright or dark pixels (flow
      artefacts, fat at the contour) from shifting the threshold;
    * ``border_margin=2`` -- the myocardium separates the blood pool from
      the epicardial contour, so bright pixels within 2 pixels of it are not
      blood pool (this stops leaks through thin walls);
    * ``keep_largest=True, fill_holes=True`` -- one blood pool, no holes;
    * ``convex_hull=True`` -- expert endocardial contours include the dark
      papillary muscles and trabeculae; the hull adds them back;
    * ``dilation=1`` -- boundary pixels are partial volumes, darker than the
      threshold, yet inside expert contours.

    The pipeline learns nothing (``fit`` only validates), so it can be
    used at once on new patients; clone it and change any step's
    parameters with ``set_params`` as for any pipeline.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``regionselector`` and ``thresholdsegmenter``. Input:
        ``[image, region]`` arrays of shape ``(n, 2, H, W)`` (channel 1: 1
        inside the o-contour, 0 outside), e.g. from
        ``DicomLoader(region="o-contour")``;
        output: bool masks ``(n, H, W)``, never True outside the region.

    See Also
    --------
    ThresholdSegmenter : The segmenter and its parameters.

    Notes
    -----
    Measured with leave-one-patient-out cross-validation on the 46 shared
    slices with both contours (``python benchmarks/bench_classical.py``):
    mean Dice 0.917 on the 37 slices that pass quality control and 0.874 on
    all 46 (the 9 slices of one patient have an o-contour that does not
    contain the i-contour, QC flag ``i_outside_o``); plain Otsu scores
    0.847 and 0.792. A nested grouped grid search scores 0.913 and 0.871.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment import make_classical_pipeline
    >>> rows, cols = np.indices((40, 40))
    >>> distance = np.hypot(rows - 20, cols - 20)
    >>> image = np.where(distance < 9, 200.0, 60.0)      # blood pool in myocardium
    >>> region = (distance < 16).astype(float)           # o-contour mask
    >>> X = np.stack([image, region])[np.newaxis]        # (1, 2, H, W)
    >>> pipe = make_classical_pipeline().fit(X)
    >>> mask = pipe.predict(X)[0]
    >>> mask.shape, bool(mask[20, 20]), bool(mask[20, 33])
    ((40, 40), True, False)
    """
    return make_pipeline(
        RegionSelector(),
        ThresholdSegmenter(
            method="li",
            contrast=(2, 98),
            border_margin=2,
            keep_largest=True,
            fill_holes=True,
            convex_hull=True,
            dilation=1,
        ),
    )
