"""
LV function: the clinical functions on the images the sample holds
===================================================================

:mod:`skcardio.clinical` turns blood-pool masks of a whole cine study
(every slice at every phase, read by :func:`~skcardio.io.read_cine`) into
volumes, EDV, ESV, stroke volume and ejection fraction; ``skcardio report``
does it for folders of studies, after trimming each mask's dark rim
(:func:`~skcardio.segment.trim_dark_boundary`; :doc:`/clinical`).

The embedded sample does **not** hold a whole study: of the 200 to 260
images of each of its three patients' cine studies (10 to 13 slice
positions x 20 phases) it ships 5 of the 18 to 20 that the expert
contoured, namely 4 neighbouring slices at end-diastole and one of them at
end-systole. So no
EDV, ESV or EF can be measured on it. This example runs the same functions
on what is there and names every figure for what it is:

* the blood-pool volume of the **4 slices present** at end-diastole (a part
  of the EDV: the other slices are not in the sample);
* on the one slice present at both phases, its **fractional area change**
  (what :func:`~skcardio.clinical.cardiac_function` calls EF, applied to a
  single slice), not the ventricle's EF.

The automatic masks come from the pretrained U-Net, which was trained on
these three patients among others: agreement with the expert here shows the
calls, not accuracy on unseen hearts (``benchmarks/README.md`` has the
patient-grouped figures, and the EF error on whole studies).
"""

# %%
# Find the images of each patient
# -------------------------------
# The slice records say where each image lies (``slice_location``) and when
# (``trigger_time``, ms after the R wave). The slice position with two images
# is the one contoured at both phases; at every position the later image is
# end-diastole (the expert contoured ED and ES).
from collections import defaultdict

import numpy as np

from skcardio.datasets import load_sample

data = load_sample()
frame = data.frame
studies = {}
for patient in dict.fromkeys(frame.patient_id):
    by_position = defaultdict(list)
    for record in frame[frame.patient_id == patient]:
        by_position[round(float(record.slice_location), 1)].append(record)
    for records in by_position.values():
        records.sort(key=lambda record: record.trigger_time)
    studies[patient] = {
        "diastole": [records[-1] for records in by_position.values()],
        "both phases": next(records for records in by_position.values() if len(records) == 2),
    }
for patient, parts in studies.items():
    print(
        patient,
        "ED images:",
        [int(r.instance) for r in parts["diastole"]],
        "| one slice at ES and ED:",
        [int(r.instance) for r in parts["both phases"]],
    )

# %%
# Read them as cine studies, segment them, rasterise the expert's contours
# ------------------------------------------------------------------------
# :func:`~skcardio.io.read_cine` groups files by slice position and trigger
# time; the 4 ED images make a study of 1 phase x 4 slices, the pair one of
# 2 phases x 1 slice. :func:`~skcardio.clinical.segment_study` runs any
# fitted segmenter on every image; :func:`~skcardio.clinical.expert_masks`
# draws the expert's i-contours, keyed by instance number.
from skcardio.clinical import expert_masks, segment_study
from skcardio.io import read_cine
from skcardio.segment import UNetSegmenter

unet = UNetSegmenter.pretrained()


def read_part(records):
    study = read_cine([record.dicom_path for record in records])
    contours = {int(record.instance): record.icontour_path for record in records}
    return study, contours, segment_study(study, unet), expert_masks(study, contours)[0]


parts = {(patient, name): read_part(records) for patient, p in studies.items() for name, records in p.items()}
study = parts["SCD0000101", "diastole"][0]
print(
    study.images.shape,
    "slice spacing",
    round(study.geometry.slice_spacing, 2),
    "mm,",
    study.geometry.spacing_source,
    "| heart rate",
    study.geometry.heart_rate,
    "bpm",
)

# %%
# Volume of the 4 end-diastolic slices present
# --------------------------------------------
# :func:`~skcardio.clinical.lv_volumes` sums discs: each slice's mask area
# times the slice spacing. On 4 of a study's 10 to 13 slices this is a part
# of the end-diastolic volume, not the EDV.
from skcardio.clinical import lv_volumes, slice_areas

print("volume of the 4 ED slices present (mL)\npatient     U-Net  expert")
partial = {}
for patient in studies:
    study, _, auto, expert = parts[patient, "diastole"]
    partial[patient] = (lv_volumes(auto, study.geometry)[0], lv_volumes(expert, study.geometry)[0])
    print(f"{patient}  {partial[patient][0]:5.1f}  {partial[patient][1]:6.1f}")
areas = slice_areas(parts["SCD0000101", "diastole"][3], parts["SCD0000101", "diastole"][0].geometry)
print("SCD0000101, expert's area of each slice (mm², by slice position):", areas.round(0)[0])

# %%
# One slice at end-systole and end-diastole
# -----------------------------------------
# :func:`~skcardio.clinical.measure_study` measures the automatic masks and,
# with the contours, the expert's. On a single slice its "EF" is the slice's
# fractional area change, ``100 x (A_ED - A_ES) / A_ED``.
from skcardio.analysis import plot_ed_es_sheet
from skcardio.clinical import measure_study

print("fractional area change of one slice (%)\npatient     U-Net  expert")
for patient in studies:
    study, contours, auto, _ = parts[patient, "both phases"]
    measured = measure_study(study, auto, contours=contours)
    print(f"{patient}  {measured.function.ef:5.1f}  {measured.expert.ef:6.1f}")

# The three pairs side by side: phase 1 is ED, phase 0 ES (by trigger time).
pairs = [parts[patient, "both phases"] for patient in studies]
sheet_images = np.concatenate([study.images for study, *_ in pairs], axis=1)
sheet_masks = np.concatenate([auto for _, _, auto, _ in pairs], axis=1)
sheet = plot_ed_es_sheet(
    sheet_images,
    sheet_masks,
    ed_phase=1,
    es_phase=0,
    slice_labels=list(studies),
    title="U-Net masks, one slice per patient at ED and ES",
)

# %%
# The disc volume of that slice over the two phases
# -------------------------------------------------
# :func:`~skcardio.analysis.plot_volume_curve` draws the volume of every
# phase; a whole study gives 20 points per cycle, this slice gives two.
from skcardio.analysis import plot_volume_curve

study, contours, auto, expert = parts["SCD0000101", "both phases"]
curve = plot_volume_curve(
    lv_volumes(auto, study.geometry),
    ed_phase=1,
    es_phase=0,
    others={"expert": lv_volumes(expert, study.geometry)},
    title="SCD0000101: one slice at ES and ED",
)
# The axis names what is drawn: one slice's area x 10 mm, not the LV volume.
curve.axes[0].set_ylabel("disc volume of one slice (mL)")

# %%
# Automatic against expert, image by image
# ----------------------------------------
# :func:`~skcardio.analysis.plot_bland_altman` on the disc volume of each of
# the 15 images (mask area x slice spacing): the bias and limits of
# agreement of the U-Net on its own training patients.
from skcardio.analysis import plot_bland_altman

auto_ml, expert_ml = [], []
for patient in studies:
    study, _, auto, expert = parts[patient, "diastole"]
    auto_ml += list(slice_areas(auto, study.geometry)[0] * study.geometry.slice_spacing / 1000)
    expert_ml += list(slice_areas(expert, study.geometry)[0] * study.geometry.slice_spacing / 1000)
    study, _, auto, expert = parts[patient, "both phases"]  # its ES image (phase 0)
    auto_ml.append(slice_areas(auto, study.geometry)[0, 0] * study.geometry.slice_spacing / 1000)
    expert_ml.append(slice_areas(expert, study.geometry)[0, 0] * study.geometry.slice_spacing / 1000)
agreement = plot_bland_altman(
    expert_ml,
    {"U-Net (training patients)": auto_ml},
    quantity="disc volume (mL)",
    title="15 images of the sample: U-Net vs expert",
)
print(f"{len(auto_ml)} images, mean difference {np.mean(np.subtract(auto_ml, expert_ml)):+.2f} mL")
