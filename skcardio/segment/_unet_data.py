"""Input normalisation and on-the-fly training augmentation for the U-Net.

Why these choices (five training patients, all with dilated hearts, must
generalise to normal and hypertrophic hearts from other scans):

* **Per-image robust scaling** (1st and 99th percentile to 0 and 1): scanners
  and protocols differ in intensity range; the percentiles of the image itself
  make the input range comparable without any dataset statistic.
* **Random zoom** (default 0.5-1.4x) and translation: heart size in pixels
  varies with pathology (small cavities in hypertrophy and normal systole,
  large in heart failure) and field of view; position varies with the
  patient. Crops are taken around the blood pool with a random offset, and a
  fraction anywhere in the image, so the network learns what the left
  ventricle looks like rather than where it usually is.
* **Small rotations** and optional flips: orientation differs a little
  between acquisitions.
* **Intensity jitter**: gamma, contrast, brightness, a linear bias field
  (coil inhomogeneity) and noise, because blood/myocardium contrast differs
  between patients and scanners.

Each sample is cut, rotated and zoomed with one affine resampling
(:func:`scipy.ndimage.affine_transform`), so augmentation costs about as much
as a copy.
"""

from __future__ import annotations

from . import _unet_env  # noqa: F401, I001  (must precede "import torch")
import numpy as np
import torch
from scipy import ndimage

__all__ = ["robust_scale", "pad_to_multiple", "zoom_crop", "unzoom_window", "AugmentedSlices"]

#: Percentiles mapped to 0 and 1 by :func:`robust_scale`.
SCALE_PERCENTILES = (1.0, 99.0)
#: Scaled values are clipped to this range: beyond it is only artefact/fat.
SCALE_CLIP = (-1.0, 3.0)
#: Range of the random gamma (log-uniform). Wide on purpose: gamma 0.6 (dull
#: blood/myocardium contrast) cost 0.08 Dice on a held-out patient when
#: training used (0.7, 1.5), and nothing with this range (docs/unet.md).
GAMMA_RANGE = (0.5, 2.0)


#: Pixels scaled together by :func:`robust_scale` (16 images of 256 x 256): its
#: float64 temporaries are this many values, not the whole input, which made
#: scaling cost three times the input (786 MB on top of 262 MB of images).
SCALE_CHUNK_PIXELS = 16 * 256 * 256


def robust_scale(images: np.ndarray) -> np.ndarray:
    """Scale every image and channel so its 1st/99th percentiles become 0/1.

    NaN pixels (outside a region of interest) are ignored for the
    percentiles and set to 0, the value of dark background. The arithmetic
    is float64, a few images at a time (:data:`SCALE_CHUNK_PIXELS`): each
    image is scaled on its own, so the result does not depend on how the
    input is split, and the only array of the input's size made is the
    float32 result.

    Parameters
    ----------
    images : ndarray of shape (n, C, H, W)

    Returns
    -------
    ndarray of shape (n, C, H, W), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._unet_data import robust_scale
    >>> x = np.linspace(0, 1000, 10_000).reshape(1, 1, 100, 100)
    >>> scaled = robust_scale(x)
    >>> low, high = np.percentile(scaled, [1, 99])
    >>> bool(abs(low) < 1e-6), bool(abs(high - 1) < 1e-6)
    (True, True)
    """
    images = np.asarray(images)  # converted to float32 chunk by chunk: no float32 copy of float64 input
    scaled = np.empty(images.shape, np.float32)
    step = max(1, SCALE_CHUNK_PIXELS // max(1, int(np.prod(images.shape[1:]))))
    for start in range(0, len(images), step):
        scaled[start : start + step] = _scale_chunk(images[start : start + step])
    return scaled


def _scale_chunk(images: np.ndarray) -> np.ndarray:
    """:func:`robust_scale` of a few images, in float64 (``(n, C, H, W)`` in, float64 out)."""
    images = np.asarray(images, dtype=np.float32)
    low, high = _percentiles(images.reshape(*images.shape[:2], -1))
    low = np.nan_to_num(low)[..., None, None]
    spread = np.nan_to_num(high)[..., None, None] - low
    # A constant image (spread 0) is only shifted, not blown up.
    spread = np.where(spread > 0, spread, 1.0)
    # The same float64 operations as out of place, on one array (fewer temporaries).
    scaled = images - low
    scaled /= spread
    np.clip(scaled, *SCALE_CLIP, out=scaled)
    np.copyto(scaled, 0.0, where=np.isnan(scaled))  # clipped: NaN is the only non-finite value left
    return scaled  # float64: the caller's float32 array rounds it, as .astype(np.float32) did


def _percentiles(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:data:`SCALE_PERCENTILES` of every row of ``flat`` (n, C, pixels), ignoring NaN.

    ``np.nanpercentile`` handles one row at a time in Python; rows without
    NaN (most images) go through ``np.percentile`` at once, which gives the
    same values (the same linear interpolation of the same sorted values).
    """
    has_nan = np.isnan(flat).any(axis=-1)
    if not has_nan.any():
        return tuple(np.percentile(flat, SCALE_PERCENTILES, axis=-1))
    low, high = np.empty((2, *flat.shape[:2]))  # float64, as np.percentile gives
    clean = ~has_nan
    low[clean], high[clean] = np.percentile(flat[clean], SCALE_PERCENTILES, axis=-1)
    # An all-NaN image has no percentiles (NaN, then 0): left out of nanpercentile, which would
    # warn "All-NaN slice encountered" to the user of predict.
    empty = np.isnan(flat).all(axis=-1)
    low[empty] = high[empty] = np.nan
    partial = has_nan & ~empty
    if partial.any():
        low[partial], high[partial] = np.nanpercentile(flat[partial], SCALE_PERCENTILES, axis=-1)
    return low, high


def pad_to_multiple(images: np.ndarray, multiple: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Zero-pad ``(..., H, W)`` at the bottom/right to multiples of ``multiple``.

    Returns the padded array (``images`` itself when no padding is needed)
    and the original ``(H, W)`` to crop back to.
    """
    height, width = images.shape[-2:]
    if not (height % multiple or width % multiple):
        return images, (height, width)  # already a multiple: no copy
    pad = [(0, 0)] * (images.ndim - 2) + [
        (0, -height % multiple),
        (0, -width % multiple),
    ]
    return np.pad(images, pad), (height, width)


def zoom_crop(image: np.ndarray, centre: np.ndarray, zoom: float, size: int) -> np.ndarray:
    """A ``size`` x ``size`` window centred on ``centre`` (row, col), magnified by ``zoom``.

    Parameters
    ----------
    image : ndarray of shape (C, H, W)
        Scaled image; outside the image is 0, as in training crops.

    Returns
    -------
    ndarray of shape (C, size, size), float32

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._unet_data import zoom_crop
    >>> image = np.arange(64, dtype=np.float32).reshape(1, 8, 8)
    >>> zoom_crop(image, np.array([3.5, 3.5]), 1.0, 4)[0, 0]
    array([18., 19., 20., 21.], dtype=float32)
    """
    matrix, offset = _zoom_affine(centre, zoom, size)
    return np.stack(
        [ndimage.affine_transform(c, matrix, offset, output_shape=(size, size), order=1) for c in image]
    ).astype(np.float32)


def unzoom_window(window: np.ndarray, centre: np.ndarray, zoom: float, shape: tuple[int, int]) -> np.ndarray:
    """Map a window made by :func:`zoom_crop` back onto an image of ``shape`` (H, W).

    Returns
    -------
    ndarray of shape ``shape``
        The window's values resampled (linear interpolation) to the original
        scale where the window covers the image, NaN elsewhere.
    """
    matrix, offset = _zoom_affine(centre, zoom, window.shape[0])
    # Inverse mapping: image pixel -> window coordinate.
    inverse = np.linalg.inv(matrix)
    return ndimage.affine_transform(
        window, inverse, -inverse @ offset, output_shape=tuple(shape), order=1, cval=np.nan
    )


def _zoom_affine(centre: np.ndarray, zoom: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Matrix and offset mapping window coordinates to image coordinates."""
    matrix = np.eye(2) / zoom
    half = (size - 1) / 2
    return matrix, np.asarray(centre, dtype=np.float64) - matrix @ np.array([half, half])


class AugmentedSlices(torch.utils.data.Dataset):
    """Random augmented crops of scaled images and their masks.

    Every access draws a new crop from the dataset's own
    :class:`numpy.random.Generator`, so a training run is reproducible from
    ``seed`` alone (with a deterministic sample order) and never touches
    global random state.

    Parameters
    ----------
    images : ndarray of shape (n, C, H, W), float32
        Images already scaled with :func:`robust_scale`.
    masks : ndarray of shape (n, H, W) or (n, K, H, W)
        Masks (bool or 0/1); with several targets, a channel of a slice
        holding a negative value is unknown: its crops are all -1.
    crop_size : int
        Side of the square training crops, in output pixels.
    zoom_range : (float, float)
        Zoom factors drawn log-uniformly; above 1 enlarges the heart.
    rotation : float
        Largest rotation in degrees (uniform in ``[-rotation, rotation]``).
    flip : bool
        Flip each axis with probability 1/2.
    intensity_jitter : bool
        Random gamma, contrast, brightness, bias field and noise.
    random_fraction : float, default=0.2
        Fraction of crops centred anywhere in the image instead of near the
        blood pool (teaches the network the rest of the image is background).
    seed : int, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.segment._unet_data import AugmentedSlices
    >>> images = np.zeros((2, 1, 64, 64), np.float32)
    >>> masks = np.zeros((2, 64, 64), bool); masks[:, 20:40, 20:40] = True
    >>> data = AugmentedSlices(images, masks, crop_size=32, zoom_range=(0.8, 1.2),
    ...                        rotation=10, flip=True, intensity_jitter=True)
    >>> x, y = data[0]
    >>> tuple(x.shape), tuple(y.shape)
    ((1, 32, 32), (32, 32))
    """

    def __init__(
        self,
        images: np.ndarray,
        masks: np.ndarray,
        *,
        crop_size: int,
        zoom_range: tuple[float, float],
        rotation: float,
        flip: bool,
        intensity_jitter: bool,
        random_fraction: float = 0.2,
        seed: int = 0,
    ):
        self.images = images
        self.masks = masks.astype(np.float32)
        # Unknown channels (a negative value) come out as -1 whole crops.
        self.known = None if masks.ndim == 3 else (self.masks >= 0).all(axis=(2, 3))
        self.crop_size = crop_size
        self.zoom_range = zoom_range
        self.rotation = rotation
        self.flip = flip
        self.intensity_jitter = intensity_jitter
        self.random_fraction = random_fraction
        self.rng = np.random.default_rng(seed)
        shape = np.array(images.shape[-2:], dtype=np.float64)
        # Blood-pool centroids (of every target's foreground); an empty mask
        # falls back to the image centre.
        foreground = self.masks > 0 if masks.ndim == 3 else (self.masks > 0).any(axis=1)
        self.centres = np.array(
            [np.argwhere(m).mean(axis=0) if m.any() else (shape - 1) / 2 for m in foreground]
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        matrix, offset = self._draw_affine(index)
        out = (self.crop_size, self.crop_size)
        image = np.stack(
            [
                ndimage.affine_transform(channel, matrix, offset, output_shape=out, order=1)
                for channel in self.images[index]
            ]
        )
        if self.intensity_jitter:
            image = self._jitter(image)
        image = torch.from_numpy(image.astype(np.float32))
        if self.known is None:
            mask = ndimage.affine_transform(self.masks[index], matrix, offset, output_shape=out, order=1)
            return image, torch.from_numpy(mask >= 0.5)
        masks = np.full((len(self.known[index]), *out), -1.0, dtype=np.float32)
        for channel in np.flatnonzero(self.known[index]):
            warped = ndimage.affine_transform(self.masks[index, channel], matrix, offset, output_shape=out, order=1)
            masks[channel] = warped >= 0.5
        return image, torch.from_numpy(masks)

    def _draw_affine(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Matrix and offset mapping crop coordinates to image coordinates."""
        rng = self.rng
        low, high = np.log(self.zoom_range)
        zoom = np.exp(rng.uniform(low, high))
        angle = np.deg2rad(rng.uniform(-self.rotation, self.rotation))
        signs = np.where(rng.random(2) < 0.5, -1.0, 1.0) if self.flip else np.ones(2)
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]]) @ np.diag(signs / zoom)
        shape = np.array(self.images.shape[-2:], dtype=np.float64)
        if rng.random() < self.random_fraction:
            centre = rng.uniform(0, shape - 1)
        else:
            # Blood pool anywhere in the middle 60 % of the crop.
            shift = rng.uniform(-0.3, 0.3, size=2) * self.crop_size
            centre = self.centres[index] + matrix @ shift
        half = (self.crop_size - 1) / 2
        return matrix, centre - matrix @ np.array([half, half])

    def _jitter(self, image: np.ndarray) -> np.ndarray:
        """Gamma, contrast, brightness, linear bias field and Gaussian noise."""
        rng = self.rng
        gamma = np.exp(rng.uniform(*np.log(GAMMA_RANGE)))
        image = np.clip(image, 0, None) ** gamma
        image = image * rng.uniform(0.85, 1.15) + rng.uniform(-0.1, 0.1)
        ramp = np.linspace(-1, 1, self.crop_size)
        slope = rng.uniform(-0.2, 0.2, size=2)
        image = image * (1 + slope[0] * ramp[:, None] + slope[1] * ramp[None, :])
        return image + rng.normal(0, rng.uniform(0, 0.03), size=image.shape)
