"""A synthetic blood pool whose edge fades into the wall, for the boundary-trim tests."""

from __future__ import annotations

import numpy as np


def ramp_disc(level: float, *, size: int, radius: float, centre: tuple[float, float] | None = None):
    """A bright disc (300) fading into a dark wall (100) over 4 px, and each pixel's distance from its centre.

    The contrast (wall 0, pool 1) is ``level`` at distance ``radius``: an expert outline ``r <= radius``
    is drawn at that level. Returns ``(image, r)``, both ``(size, size)``; the centre defaults to the middle.
    """
    rows, cols = np.mgrid[:size, :size]
    centre_row, centre_col = centre if centre is not None else (size / 2, size / 2)
    r = np.hypot(rows - centre_row, cols - centre_col)
    return 100 + 200 * np.clip((radius - r) / 4 + level, 0, 1), r
