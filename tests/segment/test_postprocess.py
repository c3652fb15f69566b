"""Shape post-processing: every step does what it says, the result stays in the region."""

import numpy as np
import pytest
from skimage.draw import disk

from skcardio.segment._postprocess import (
    largest_component,
    postprocess_mask,
    validate_postprocess_params,
)

SHAPE = (40, 40)


def _disk(centre, radius):
    mask = np.zeros(SHAPE, bool)
    mask[disk(centre, radius, shape=SHAPE)] = True
    return mask


REGION = np.ones(SHAPE, bool)


def test_keep_largest_drops_smaller_objects():
    big, small = _disk((15, 15), 6), _disk((32, 32), 3)
    out = postprocess_mask(big | small, REGION, keep_largest=True)
    np.testing.assert_array_equal(out, big)
    np.testing.assert_array_equal(largest_component(np.zeros(SHAPE, bool)), np.zeros(SHAPE, bool))


def test_fill_holes_fills_enclosed_dark_pixels():
    full = _disk((20, 20), 10)
    holed = full & ~_disk((20, 20), 3)
    np.testing.assert_array_equal(postprocess_mask(holed, REGION, fill_holes=True), full)
    np.testing.assert_array_equal(postprocess_mask(holed, REGION), holed)


def test_opening_removes_specks_and_thin_bridges():
    a, b = _disk((10, 10), 6), _disk((10, 30), 6)
    bridge = np.zeros(SHAPE, bool)
    bridge[10, 10:31] = True
    speck = np.zeros(SHAPE, bool)
    speck[35, 35] = True
    out = postprocess_mask(a | b | bridge | speck, REGION, opening=1)
    assert not out[10, 20] and not out[35, 35]
    assert out[10, 10] and out[10, 30]


def test_convex_hull_fills_concavities():
    crescent = _disk((20, 20), 12) & ~_disk((20, 28), 8)
    out = postprocess_mask(crescent, REGION, convex_hull=True)
    assert (out & crescent).sum() == crescent.sum()  # superset
    assert out.sum() > crescent.sum() + 50
    assert out[20, 20]  # inside the concavity between the horns


def test_dilation_grows_by_radius():
    mask = _disk((20, 20), 5)
    out = postprocess_mask(mask, REGION, dilation=2)
    assert out[mask].all()
    assert out[20].sum() == mask[20].sum() + 4  # 2 pixels each side
    assert out[:, 20].sum() == mask[:, 20].sum() + 4
    assert not (out & ~_disk((20, 20), 7.5)).any()


def test_border_margin_drops_pixels_near_region_edge():
    region = _disk((20, 20), 15)
    out = postprocess_mask(region.copy(), region, border_margin=3)
    assert not out[20, 5 + 1]  # 1 pixel from the edge
    assert out[20, 20]
    assert out.sum() < region.sum()


def test_result_never_outside_region():
    region = _disk((20, 20), 15) & ~_disk((20, 33), 9)  # non-convex region
    mask = region & ~_disk((20, 20), 3)
    out = postprocess_mask(
        mask, region, keep_largest=True, fill_holes=True, convex_hull=True, dilation=4
    )
    assert not (out & ~region).any()


def test_empty_mask_stays_empty_through_every_step():
    empty = np.zeros(SHAPE, bool)
    out = postprocess_mask(
        empty, REGION, opening=1, keep_largest=True, fill_holes=True, convex_hull=True, dilation=2
    )
    assert not out.any()


@pytest.mark.parametrize(
    "name, value",
    [
        ("opening", -1),
        ("dilation", 1.5),
        ("border_margin", True),
        ("keep_largest", 1),
        ("convex_hull", "yes"),
    ],
)
def test_invalid_postprocess_params(name, value):
    params = dict(
        border_margin=0, opening=0, dilation=0,
        keep_largest=False, fill_holes=False, convex_hull=False,
    )
    params[name] = value
    with pytest.raises(ValueError, match=name):
        validate_postprocess_params(**params)
