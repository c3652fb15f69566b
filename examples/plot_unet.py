"""
The U-Net: whole-image segmentation
===================================

:class:`~skcardio.segment.UNetSegmenter` needs no o-contour at prediction
time: it segments the whole image. Here it trains for 2 epochs on two
patients of the sample and predicts the third, to show the calls; two epochs
on 10 slices do not make a useful model (the default trains 150 epochs; the
figures on the full data are in ``benchmarks/README.md``).

.. note::
   Once a pretrained model ships with the package
   (``UNetSegmenter.pretrained()``), this example will predict with it
   instead of training.
"""

# %%
# Train on two patients, predict the third
# ----------------------------------------
import numpy as np

from skcardio.datasets import load_sample
from skcardio.metrics import dice_score
from skcardio.segment import UNetSegmenter

data = load_sample()  # 15 slices with an i-contour
test = data.groups == data.groups[-1]
model = UNetSegmenter(max_epochs=2, random_state=0)
model.fit(data.images[~test], data.y[~test], groups=data.groups[~test])
masks = model.predict(data.images[test])
print(masks.shape, masks.dtype)
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

proba = model.predict_proba(data.images[test][:1])[0]
proba_figure = Figure(figsize=(4, 4), layout="constrained")
ax = proba_figure.add_subplot()
shown = ax.imshow(proba, cmap="magma", vmin=0, vmax=1)
proba_figure.colorbar(shown, ax=ax, shrink=0.8, label="P(blood pool)")
ax.set_axis_off()
