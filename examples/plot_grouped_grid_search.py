"""
Tuning a segmenter with a patient-grouped grid search
=====================================================

:class:`~sklearn.model_selection.GridSearchCV` over a whole pipeline, from
slice records to masks, with patient-grouped folds: every candidate is scored
only on patients it was not fitted on. The same search with plain
``KFold`` would put slices of one heart on both sides of a split and
overrate every candidate.
"""

# %%
# The pipeline and the grid
# -------------------------
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from skcardio.datasets import load_sample
from skcardio.metrics import iou_scorer
from skcardio.preprocessing import DicomLoader, RegionSelector
from skcardio.segment import ThresholdSegmenter

data = load_sample(require="o-contour")
pipe = make_pipeline(DicomLoader(region="o-contour"), RegionSelector(), ThresholdSegmenter())
grid = {
    "thresholdsegmenter__method": ["otsu", "li", "mean"],
    "thresholdsegmenter__fill_holes": [False, True],
}
search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=3), scoring=iou_scorer)
search.fit(data.frame, data.y, groups=data.groups)
print(search.best_params_, round(search.best_score_, 3))

# %%
# Every candidate
# ---------------
# Mean and spread of the IoU over the three patient folds.
results = search.cv_results_
for params, mean, sd in zip(results["params"], results["mean_test_score"], results["std_test_score"]):
    print(f"{params['thresholdsegmenter__method']:>5}  fill_holes={params['thresholdsegmenter__fill_holes']!s:<5}  "
          f"IoU {mean:.3f} ± {sd:.3f}")

# %%
# What each threshold selects on one slice
# ----------------------------------------
# :func:`~skcardio.analysis.plot_threshold_grid` runs every method of
# :data:`~skcardio.segment.THRESHOLD_METHODS` inside the o-contour of one
# slice, with the IoU against the expert i-contour in each title.
from skcardio.analysis import plot_threshold_grid

X = DicomLoader(region="o-contour").fit_transform(data.frame[:1])
grid_figure = plot_threshold_grid(X[0, 0], X[0, 1] > 0, true_mask=data.y[0], ncols=5,
                                  title=f"{data.frame.patient_id[0]}/{data.frame.instance[0]}")
