"""
The U-Net: whole-image segmentation
===================================

:class:`~skcardio.segment.UNetSegmenter` needs no o-contour at prediction
time: it segments the whole image.
:meth:`UNetSegmenter.pretrained() <skcardio.segment.UNetSegmenter.pretrained>`
loads the U-Net shipped with skcardio (trained on the 17 shared Sunnybrook
patients; its patient-grouped CV accuracy is in ``benchmarks/README.md``).
The embedded sample's three patients were among its training patients, so
the Dice below shows the calls, not accuracy on unseen hearts.
"""

# %%
# Predict with the pretrained model, with confidence and flags
# ------------------------------------------------------------
import warnings

import numpy as np

from skcardio.datasets import load_sample
from skcardio.metrics import dice_score
from skcardio.qc import assess_predictions
from skcardio.segment import UNetSegmenter

data = load_sample()  # 15 slices with an i-contour
pretrained = UNetSegmenter.pretrained()
masks, proba = pretrained.predict_with_proba(data.images)
print(masks.shape, masks.dtype)
print(f"Dice on the sample (training patients): {dice_score(data.y, masks):.3f}")
quality = assess_predictions(masks, proba, pixel_spacing=data.frame.pixel_spacing)
print("lowest confidence:", np.round(np.sort(quality["confidence"])[:3], 3))

# %%
# Train your own: two patients, predict the third
# ------------------------------------------------
# Two epochs on 10 slices do not make a useful model, and ``fit`` says so
# with a :class:`~skcardio.exceptions.DegenerateModelWarning` when the model
# finds no blood pool, or too much, on its own training images (the default
# trains 80 epochs).
test = data.groups == data.groups[-1]
model = UNetSegmenter(max_epochs=2, random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model.fit(data.images[~test], data.y[~test], groups=data.groups[~test])
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
masks = model.predict(data.images[test])
print(f"Dice on the unseen patient after 2 epochs: {dice_score(data.y[test], masks):.3f}")

# %%
# Save and reload
# ---------------
# The model file holds weights and parameters only; loading it runs no code
# (``torch.load(weights_only=True)``).
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as folder:
    model.save(Path(folder) / "unet.pt")
    reloaded = UNetSegmenter.load(Path(folder) / "unet.pt")
print(np.array_equal(reloaded.predict(data.images[test]), masks))

# %%
# Probabilities
# -------------
# ``predict_proba`` gives the blood-pool probability of every pixel.
from matplotlib.figure import Figure

# After two epochs it is close to uniform: the model has not learnt yet.
proba = model.predict_proba(data.images[test][:1])[0]
proba_figure = Figure(figsize=(7, 3.4), layout="constrained")
image_ax, proba_ax = proba_figure.subplots(1, 2)
image_ax.imshow(data.images[test][0], cmap="gray")
image_ax.set_title("image")
shown = proba_ax.imshow(proba, cmap="magma", vmin=0, vmax=1)
proba_ax.set_title("P(blood pool) after 2 epochs")
proba_figure.colorbar(shown, ax=proba_ax, shrink=0.8)
for ax in (image_ax, proba_ax):
    ax.set_axis_off()
