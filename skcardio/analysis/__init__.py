"""Exploration of intensities and segmentations.

Blood pool (inside the i-contour) vs myocardium ring (inside the o-contour,
outside the i-contour): per-slice intensity distributions and the KS test
between them, and matplotlib plots saved to files: the two histograms, image
overlays of expert contours and predicted masks, a try-all-thresholds grid
restricted to the region, and per-slice scores; LV function plots (volume
over the cycle, ED/ES overlay sheet, Bland-Altman).
"""

from ._distributions import KS_DTYPE, blood_myocardium_ks, intensity_distributions
from ._function_plots import plot_bland_altman, plot_ed_es_sheet, plot_volume_curve
from ._plots import (
    THRESHOLD_METHODS,
    plot_intensity_histograms,
    plot_overlay,
    plot_slice_scores,
    plot_threshold_grid,
)

__all__ = [
    "KS_DTYPE",
    "THRESHOLD_METHODS",
    "blood_myocardium_ks",
    "intensity_distributions",
    "plot_bland_altman",
    "plot_ed_es_sheet",
    "plot_intensity_histograms",
    "plot_overlay",
    "plot_slice_scores",
    "plot_threshold_grid",
    "plot_volume_curve",
]
