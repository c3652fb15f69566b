"""Synthetic discs for the U-Net tests (``test_unet.py``, ``test_unet_file.py``)."""

from __future__ import annotations

import numpy as np

#: Settings that train in well under a second on 64 x 64 images.
TINY = dict(depth=3, base_channels=8, crop_size=48, batch_size=8, random_state=0)
#: Even smaller: one epoch of a 2-level network, for tests that only need *a* fitted model.
TINIEST = dict(depth=2, base_channels=4, crop_size=32, batch_size=4, max_epochs=1, random_state=0,
               validation_fraction=None)


def make_discs(n: int, *, size: int = 64, seed: int = 0):
    """Bright discs of random centre and radius on a noisy, darker background.

    A stand-in for the blood pool: the disc covers 2-8 % of the image, its
    intensity range differs per image (the estimator must normalise), and a
    dimmer, smaller distractor disc is added so "keep the main component"
    has something to remove.
    """
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:size, :size]
    images, masks = [], []
    for _ in range(n):
        centre = rng.uniform(18, size - 18, 2)
        radius = rng.uniform(5, 10)
        disc = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < radius**2
        gain, offset = rng.uniform(0.5, 5), rng.uniform(0, 200)
        image = offset + gain * (60 + 200 * disc + rng.normal(0, 25, disc.shape))
        images.append(image)
        masks.append(disc)
    return np.array(images, dtype=np.float32), np.array(masks)
