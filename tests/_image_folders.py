"""Tiny labelled image folders (``images/`` + ``labels/`` PNGs) for tests."""

import imageio.v3 as iio
import numpy as np


def write_image_folder(root, names, shape=(40, 31)):
    """Write a bright disc on a dark noisy background per name; returns ``root``.

    Each label is the disc (0/255); the images differ by name so that no two
    slices are equal.
    """
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    for k, name in enumerate(names):
        rng = np.random.default_rng(k)
        centre = np.array(shape) / 2 + rng.uniform(-3, 3, 2)
        disc = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < (min(shape) / 5) ** 2
        image = np.clip(40 + 150 * disc + rng.normal(0, 10, shape), 0, 255).astype(np.uint8)
        iio.imwrite(root / "images" / name, image)
        iio.imwrite(root / "labels" / name, (disc * 255).astype(np.uint8))
    return root
