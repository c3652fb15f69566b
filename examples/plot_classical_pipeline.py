"""
The classical pipeline, scored on patients it has never seen
============================================================

From slice records to scores: :class:`~skcardio.preprocessing.DicomLoader`
reads each slice's DICOM and the region inside its expert epicardial
(o-)contour, :func:`~skcardio.segment.make_classical_pipeline` segments the
blood pool inside that region, and
:func:`~sklearn.model_selection.cross_validate` scores it with
patient-grouped folds (:class:`~sklearn.model_selection.GroupKFold`), so that
no patient is both trained and tested on.
"""

# %%
# Load the sample
# ---------------
# ``require="o-contour"`` keeps the 12 slices that have both expert contours:
# the classical methods search inside the o-contour.
from skcardio.datasets import load_sample

data = load_sample(require="o-contour")
print(data.summary)

# %%
# Cross-validate, grouped by patient
# ----------------------------------
# ``DicomLoader(region="o-contour")`` turns the records into ``[image, region]``
# arrays of shape ``(n, 2, H, W)``; the pipeline's ``RegionSelector`` sets the
# pixels outside the region to NaN.
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from skcardio.metrics import apd_scorer, dice_scorer, iou_scorer
from skcardio.preprocessing import DicomLoader
from skcardio.segment import make_classical_pipeline

X = DicomLoader(region="o-contour").fit_transform(data.frame)
print(X.shape)

# The loader inside the pipeline, so that the scorers get the slice records:
# the distance scorer then reads each slice's pixel spacing (APD in mm). On
# the arrays ``X`` alone it would warn and measure in pixels.
scores = cross_validate(
    make_pipeline(DicomLoader(region="o-contour"), make_classical_pipeline()),
    data.frame,
    data.y,
    groups=data.groups,
    cv=GroupKFold(n_splits=3),
    scoring={"iou": iou_scorer, "dice": dice_scorer, "apd": apd_scorer},
)
for name in ("iou", "dice", "apd"):
    print(f"{name}: {scores[f'test_{name}'].round(3)}")  # apd: minus the distance in mm

# %%
# Look at the predictions
# -----------------------
# The worst slice by IoU, slice 5 and the best, each predicted by a model fitted on the other patients
# (:func:`~sklearn.model_selection.cross_val_predict`). Red: prediction;
# green: expert endocardial (i-)contour; dashed yellow: the o-contour region.
from matplotlib.figure import Figure
from sklearn.model_selection import cross_val_predict

from skcardio.analysis import plot_overlay
from skcardio.metrics import iou_score

masks = cross_val_predict(make_classical_pipeline(), X, data.y, groups=data.groups, cv=GroupKFold(n_splits=3))
iou = iou_score(data.y, masks, per_slice=True)

overlays = Figure(figsize=(9, 3.4), layout="constrained")
for ax, i in zip(overlays.subplots(1, 3), [iou.argmin(), 5, iou.argmax()]):
    patient, instance = data.frame.patient_id[i], data.frame.instance[i]
    plot_overlay(X[i, 0], true_mask=data.y[i], pred_mask=masks[i], region=X[i, 1] > 0, ax=ax,
                 title=f"{patient}/{instance}: IoU {iou[i]:.2f}")
